#include "support.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/files.hpp"

namespace fleet_test {

std::string FleetInfo::address(const std::string& host) const {
  auto it = state["hosts"].find(host);
  REQUIRE_MESSAGE(it != state["hosts"].end(), "fleet has no host " << host);
  return (*it)["address"].get<std::string>();
}

const FleetInfo& fleet() {
  static FleetInfo info = [] {
    const char* dir = std::getenv("AICLOUD_FLEET_DIR");
    std::string d = dir && *dir ? dir : std::string(AICLOUD_BINARY_DIR) + "/test-fleet";
    std::string path = d + "/fleet.json";
    FleetInfo f;
    if (!aicloud::file_exists(path)) {
      FAIL("no test fleet at " << d << " (run through ctest, which starts it, or: scripts/fleet start " << d << ")");
    }
    f.state = nlohmann::json::parse(read_file(path));
    f.dir = d;
    f.inventory = f.state["inventory"];
    f.known_hosts = f.state["known_hosts"];
    f.identity = f.state["identity"];
    f.user = f.state["user"];
    f.remote_dir = f.state["remote_dir"];
    f.jump_log = f.state["jump_log"];
    f.host_key_sha256 = f.state["host_key_sha256"];
    f.old_host_key_sha256 = f.state["old_host_key_sha256"];
    f.port = f.state["port"];
    f.become = f.state["become"];
    return f;
  }();
  return info;
}

aicloud::ProcessResult aicloudctl(const std::vector<std::string>& args, int timeout_s) {
  std::vector<std::string> argv{std::string(AICLOUD_BINARY_DIR) + "/aicloudctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  aicloud::ProcessOptions o;
  o.timeout = std::chrono::seconds(timeout_s);
  auto r = aicloud::run_process(argv, o);
  REQUIRE_MESSAGE(r.started, r.error);
  REQUIRE_MESSAGE(!r.timed_out, "aicloudctl did not finish within " << timeout_s << "s");
  return r;
}

nlohmann::json aicloudctl_json(const std::vector<std::string>& args, aicloud::ProcessResult* raw) {
  std::vector<std::string> a{"--json"};
  a.insert(a.end(), args.begin(), args.end());
  auto r = aicloudctl(a);
  INFO("stdout: " << r.stdout_text);
  INFO("stderr: " << r.stderr_text);
  nlohmann::json doc;
  REQUIRE_NOTHROW(doc = nlohmann::json::parse(r.stdout_text));
  if (raw) *raw = r;
  return doc;
}

std::string scratch_dir(const std::string& tag) {
  std::string base = std::string(AICLOUD_BINARY_DIR) + "/test-scratch";
  std::filesystem::create_directories(base);
  std::string tmpl = base + "/" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  REQUIRE(::mkdtemp(buf.data()) != nullptr);
  return buf.data();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) { aicloud::write_file_atomic(path, text); }

const nlohmann::json& host_result(const nlohmann::json& doc, const std::string& host) {
  for (const auto& h : doc["hosts"])
    if (h["host"] == host) return h;
  FAIL("no result for " << host << " in " << doc.dump());
  static nlohmann::json none;
  return none;
}

aicloud::fleet::Target target(const std::string& host) {
  const auto& f = fleet();
  aicloud::fleet::Target t;
  t.name = host;
  t.address = f.address(host);
  t.port = f.port;
  t.user = f.user;
  t.identity_file = f.identity;
  return t;
}

aicloud::fleet::ConnectionOptions options() {
  aicloud::fleet::ConnectionOptions o;
  o.inventory = fleet().inventory;
  o.known_hosts = fleet().known_hosts;
  o.no_ssh_config = true;
  o.connect_timeout = aicloud::Seconds(20);
  return o;
}

std::vector<std::string> exec_args(const std::vector<std::string>& extra) {
  std::vector<std::string> a{"exec", "-i", fleet().inventory, "--known-hosts", fleet().known_hosts, "--no-ssh-config"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace fleet_test
