// Helpers for the fleet integration tests: the fleet's facts (fleet.json
// written by scripts/fleet), running the real aicloudctl binary, scratch
// folders, and targets for driving the engine directly.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/process.hpp"
#include "fleet/options.hpp"
#include "fleet/target.hpp"

namespace fleet_test {

struct FleetInfo {
  nlohmann::json state;
  std::string dir, inventory, known_hosts, identity, user, remote_dir, jump_log;
  std::string host_key_sha256, old_host_key_sha256;
  int port = 0;
  bool become = false;
  std::string address(const std::string& host) const;
};

// The running fleet ($AICLOUD_FLEET_DIR/fleet.json); fails the test when absent.
const FleetInfo& fleet();

// Runs build/aicloudctl with args (no shell) and a generous deadline.
aicloud::ProcessResult aicloudctl(const std::vector<std::string>& args, int timeout_s = 120);
// The same with --json first, returning the parsed document (the test
// fails when stdout is not JSON).
nlohmann::json aicloudctl_json(const std::vector<std::string>& args, aicloud::ProcessResult* raw = nullptr);

// A fresh folder under the build tree, removed at exit of the test binary.
std::string scratch_dir(const std::string& tag);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// The result object of `host` in an exec JSON document (fails when missing).
const nlohmann::json& host_result(const nlohmann::json& doc, const std::string& host);

// Engine-level targets and options for the fleet.
aicloud::fleet::Target target(const std::string& host);
aicloud::fleet::ConnectionOptions options();

// Exec flags every test passes: the fleet's inventory and known_hosts.
std::vector<std::string> exec_args(const std::vector<std::string>& extra);

// Polls until pred() holds or the deadline passes (no timing assertions:
// the deadline only stops a broken test from hanging).
template <typename Pred>
bool eventually(Pred pred, std::chrono::seconds deadline = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    aicloud::run_process({"sleep", "0.05"});
  }
  return pred();
}

}  // namespace fleet_test
