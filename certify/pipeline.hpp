// The certification pipeline: a table of stages run in order over every
// selected node, with the report as the only state. Each stage is a function
// over one node (or one rack) that fills that node's StageRecord through a
// NodeExecutor - the seam between "what to run" and "how to reach the node":
//   LocalExecutor   this machine, subprocesses (`certify --local`)
//   ReplayExecutor  recorded outputs from a folder (`--replay DIR`)
//   (phase 2)       the fleet's SSH sessions (`certify -i INV`)
// After every stage the judge recomputes the verdicts, nodes that did not
// pass are not sent to later stages, and the report is checkpointed
// atomically, so Ctrl-C (exit 130) or a crash leaves a valid partial report
// from which `--resume` re-runs only what did not finish.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certify/profile.hpp"
#include "certify/report.hpp"
#include "common/duration.hpp"

namespace aicloud::certify {

// What running something on a node gave back. A transport failure
// (unreachable, copy failed) sets `error` and leaves started false.
struct CommandResult {
  bool started = false;
  int exit_code = -1;
  bool exited = false;
  int signal = 0;
  bool timed_out = false;
  bool interrupted = false;
  bool unreachable = false;
  std::string stdout_text;
  std::string stderr_text;
  std::string error;
  std::string command;  // for the report: what ran, as one line
};

// How stages reach a node. Implementations must never throw for a node's
// problem: they return it in the CommandResult.
class NodeExecutor {
 public:
  virtual ~NodeExecutor() = default;
  // "local", "replay", "fleet"
  virtual std::string mode() const = 0;
  // Runs `aicloudctl ARGS...` on the node; `stage` names the caller.
  virtual CommandResult run_tool(const NodeRecord& node, std::string_view stage, const std::vector<std::string>& args,
                                 Seconds timeout) = 0;
  // Runs a POSIX shell script on the node.
  virtual CommandResult run_shell(const NodeRecord& node, std::string_view stage, const std::string& script,
                                  Seconds timeout) = 0;
  // SSH reachability and host key, and deploying the binary (checksum-
  // verified). nullopt: not applicable for this executor (the stage is
  // recorded as skipped with `not_applicable_reason()`).
  virtual std::optional<CommandResult> check_reachable(const NodeRecord&) { return std::nullopt; }
  virtual std::optional<CommandResult> deploy(const NodeRecord&) { return std::nullopt; }
  // Inter-node NCCL across `nodes` of one rack; nullopt: not applicable.
  virtual std::optional<CommandResult> run_rack_nccl(const RackRecord&, const std::vector<const NodeRecord*>&,
                                                     const std::vector<std::string>&, Seconds) {
    return std::nullopt;
  }
  virtual std::string not_applicable_reason() const { return "not applicable"; }
};

// `aicloudctl` itself, run as a subprocess on this machine.
class LocalExecutor : public NodeExecutor {
 public:
  // `tool`: the aicloudctl binary to run (default: this process's own).
  explicit LocalExecutor(std::string tool = "");
  std::string mode() const override { return "local"; }
  CommandResult run_tool(const NodeRecord& node, std::string_view stage, const std::vector<std::string>& args,
                         Seconds timeout) override;
  CommandResult run_shell(const NodeRecord& node, std::string_view stage, const std::string& script,
                          Seconds timeout) override;
  std::string not_applicable_reason() const override { return "local mode: this machine, no SSH"; }

 private:
  std::string m_tool;
};

// Recorded outputs in a folder: health.json, burnin.json, nccl.json (or
// nccl-intra.json), recheck.json (default: health.json), facts.txt.
class ReplayExecutor : public NodeExecutor {
 public:
  explicit ReplayExecutor(std::string dir);
  std::string mode() const override { return "replay"; }
  CommandResult run_tool(const NodeRecord& node, std::string_view stage, const std::vector<std::string>& args,
                         Seconds timeout) override;
  CommandResult run_shell(const NodeRecord& node, std::string_view stage, const std::string& script,
                          Seconds timeout) override;
  std::string not_applicable_reason() const override { return "replay of recorded outputs: no SSH"; }

 private:
  CommandResult read(const std::vector<std::string>& names, const std::string& command) const;
  std::string m_dir;
};

// The command lines certification runs on a node (documented in
// docs/report.md; one place to reconcile with the health/burnin/nccl flags).
std::vector<std::string> health_args();
std::vector<std::string> burnin_args(const Level& level);
std::vector<std::string> nccl_intra_args(const Level& level);

// One row of the stage table.
struct StageContext;
struct StageDef {
  std::string_view id;
  const char* title;
  bool rack_scope;
  void (*run_node)(StageContext&, NodeRecord&, StageRecord&);
  void (*run_rack)(StageContext&, RackRecord&, StageRecord&, const std::vector<const NodeRecord*>&);
};
const std::vector<StageDef>& stage_table();

struct StageContext {
  Report& report;
  const Profile& profile;
  const Level& level;
  NodeExecutor& exec;
};

struct RunOptions {
  std::string report_path;          // checkpointed after every stage; "" = none
  int parallel = 64;                // nodes at once within a stage
  // Called when a stage starts on `nodes` nodes, and after each node stage
  // (and rack stage) finishes, for progress. Never from two threads at once.
  std::function<void(const StageDef&, std::size_t nodes)> on_stage_begin;
  std::function<void(const std::string& node, const StageRecord&)> on_stage_done;
};

// A new report for `nodes` (name, address, rack, site, expected filled in by
// the caller) with one pending record per stage of `level`.
Report new_report(const Profile& profile, const Level& level, std::vector<NodeRecord> nodes, const std::string& mode);

// Runs every pending stage of the report in pipeline order. Returns the
// exit code (summary.exit_code; 130 when interrupted).
int run_pipeline(Report& report, const Profile& profile, NodeExecutor& exec, const RunOptions& options);

// What `--resume` re-runs: per node, the first stage that is pending,
// errored or was interrupted and every stage after it; a rack stage when it
// did not finish or any of its nodes re-runs something. Resets those records
// to pending and returns "node:stage" (or "rack:stage") for each.
std::vector<std::string> plan_resume(Report& report);

// Refuses (UsageError) a resume whose profile or inventory changed.
void check_resume_compatible(const Report& report, const Profile& profile, const std::string& inventory_sha256);

// The profile used with `--profile auto` when no shipped profile matches:
// it runs health, conformance and the recheck, and fails with `note`.
Profile unmatched_profile();

}  // namespace aicloud::certify
