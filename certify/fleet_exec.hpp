// certify over SSH: the NodeExecutor that reaches the nodes of a rack
// through fleet/'s persistent sessions (`certify -i INV`).
//
// The pipeline asks per node; this executor answers from one fleet::Fleet:
//   check_reachable  connects every host once, in parallel (host-key policy,
//                    deadlines), the first time any node needs a session;
//                    an unreachable host's record carries the reason
//   deploy           pushes the aicloudctl binary to a content-addressed
//                    path on the node (skipped when the node already has
//                    it: same SHA-256), checks the SHA-256 again on the
//                    node and runs it once (`--json --version`)
//   run_tool         runs the deployed binary with the node-side command
//                    (`health --json`, `burnin --json`, ...) under the
//                    stage's deadline; its JSON goes to the same ingest
//                    and judge as in --local mode
//   run_shell        the node-facts script through `sh -c`
// A node whose binary was not deployed by this process (a --resume after
// the deploy stage) gets it before its first command (a cheap no-op when it
// is still there). One thread at a time per node, as the pipeline calls it:
// libssh's rule for a session.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "certify/pipeline.hpp"
#include "fleet/executor.hpp"

namespace aicloud::certify {

// Where a binary with this SHA-256 is put on the nodes, relative to the
// login directory: ".cache/aicloudctl/aicloudctl-<first 16 hex digits>".
std::string remote_binary_path(const std::string& sha256);

class FleetExecutor : public NodeExecutor {
 public:
  // `binary`: the aicloudctl file to deploy (default: this process's own).
  // Throws Error when known_hosts or the binary cannot be read.
  FleetExecutor(std::vector<fleet::Target> targets, const fleet::ConnectionOptions& options, std::string binary = "");
  ~FleetExecutor() override;

  std::string mode() const override { return "fleet"; }
  std::optional<CommandResult> check_reachable(const NodeRecord& node) override;
  std::optional<CommandResult> deploy(const NodeRecord& node) override;
  CommandResult run_tool(const NodeRecord& node, std::string_view stage, const std::vector<std::string>& args,
                         Seconds timeout) override;
  CommandResult run_shell(const NodeRecord& node, std::string_view stage, const std::string& script,
                          Seconds timeout) override;
  std::string prepare_rack(RackNcclRequest& request) override;

  // Called while connecting (on the connecting thread), for progress.
  void on_connect_progress(std::function<void(const fleet::Progress&)> fn) { m_on_progress = std::move(fn); }
  fleet::Fleet& fleet() { return *m_fleet; }
  const std::string& binary_sha256() const;
  std::string remote_binary() const { return remote_binary_path(binary_sha256()); }
  // Closes every session (before the report is printed).
  void close();

 private:
  void connect_once();
  std::optional<std::size_t> index_of(const std::string& node) const;
  // The session of a reachable node (index i / the node's name, setting
  // `index`), or null with `why` saying why not.
  fleet::Session* session_for(std::size_t i, CommandResult& why);
  fleet::Session* reach(const NodeRecord& node, CommandResult& why, std::size_t& index);
  CommandResult push_binary(std::size_t i, fleet::Session& s);

  std::unique_ptr<fleet::Fleet> m_fleet;
  std::map<std::string, std::size_t> m_index;
  std::string m_binary_path;
  std::unique_ptr<fleet::LocalFile> m_binary;
  std::once_flag m_connect_once;
  std::vector<fleet::HostResult> m_connect;
  std::unique_ptr<std::atomic<bool>[]> m_deployed;
  std::function<void(const fleet::Progress&)> m_on_progress;
};

}  // namespace aicloud::certify
