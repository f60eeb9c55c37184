// The certification pipeline: a table of stages run in order over every
// selected node, with the report as the only state. Each stage is a function
// over one node (or one rack) that fills that node's StageRecord through a
// NodeExecutor - the seam between "what to run" and "how to reach the node":
//   LocalExecutor   this machine, subprocesses (`certify --local`)
//   ReplayExecutor  recorded outputs from a folder (`--replay DIR`)
//   FleetExecutor   the fleet's SSH sessions (`certify -i INV`, fleet_exec.hpp)
// After every stage the judge recomputes the verdicts, nodes that did not
// pass are not sent to later stages, and the report is checkpointed
// atomically, so Ctrl-C (exit 130) or a crash leaves a valid partial report
// from which `--resume` re-runs only what did not finish.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certify/profile.hpp"
#include "certify/report.hpp"
#include "common/duration.hpp"

namespace aicloud::fleet {
class Fleet;
}

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
  nlohmann::json data;  // evidence an executor hook gathered (host key, checksum); null when none
};

// ---------------------------------------------------------------------------
// The rack NCCL hook (inter-node NCCL, stage nccl_inter)
// ---------------------------------------------------------------------------
//
// certify does not launch multi-node NCCL itself: the nccl_tests fleet
// launcher does, wired in by the caller through RunOptions::rack_nccl. The
// stage calls the hook once per rack with the nodes that passed every
// earlier stage (at least two); what it returns is judged like any other
// stage (floors, fleet rules, localisation suspects). Without a hook, a
// rack of two or more nodes records the stage as ERROR with the reason -
// never PASS, so such a rack is never certified.

// What the hook is asked to run.
struct RackNcclRequest {
  std::string rack;                      // rack name
  std::vector<std::string> hosts;        // inventory names of the nodes to include, in inventory order
  NcclPlan nccl;                         // the profile level's parameters: collectives, size_bytes, iters, warmup
  std::vector<std::string> args;         // the same as `aicloudctl nccl` arguments (nccl_intra_args), for reference
  Seconds timeout{1800};                 // the stage's deadline (profile `timeouts: nccl_inter`, default 30m)
  // Fleet mode (certify -i): the persistent sessions, already connected,
  // with this binary deployed on every host. Null/empty in other modes.
  fleet::Fleet* fleet = nullptr;
  std::vector<std::size_t> fleet_index;  // hosts[i] is fleet->target(fleet_index[i]), reached by fleet->session(fleet_index[i])
  std::string remote_binary;             // the deployed aicloudctl on every host (relative paths: to the login directory)
};

// What the hook gives back. `document` set: the stage is done and judged
// (`error` is then ignored); otherwise the stage is ERROR with `error`.
struct RackNcclResult {
  nlohmann::json document;                           // the aicloudctl.nccl/1 document (`aicloudctl nccl --json`); null: none
  std::string error;                                 // why no document came back
  std::map<std::string, std::string> host_failures;  // host -> why it failed in the launch; each FAILs that node
  std::string command;                               // what ran, one line, for the report
};

// Runs on the pipeline's thread while no other stage runs, so the fleet's
// sessions are free for it (drive them from this thread, e.g. start() one
// rank per host and poll_commands(), or use fleet->run()). Must not throw
// for a host's problem (an exception is recorded as the stage's error) and
// must honour Ctrl-C (common/interrupt.hpp) and req.timeout. Wiring, in the
// caller of certify_command (CertifyOptions::rack_nccl) or run_pipeline:
//   options.rack_nccl = [](const RackNcclRequest& r) -> RackNcclResult {
//     auto run = nccl_tests::run_fleet(*r.fleet, r.fleet_index, r.remote_binary, r.nccl, r.timeout);
//     return {run.document, run.error, run.host_failures, run.command};
//   };
using RackNcclHook = std::function<RackNcclResult(const RackNcclRequest&)>;

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
  // Fills the transport part of a rack NCCL request (fleet mode: the
  // sessions and the deployed binary); "" when ready, else why not.
  virtual std::string prepare_rack(RackNcclRequest&) { return ""; }
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
struct RunOptions;
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
  const RunOptions& options;
};

struct RunOptions {
  std::string report_path;          // checkpointed after every stage; "" = none
  int parallel = 64;                // nodes at once within a stage
  // Called when a stage starts on `nodes` nodes (a rack stage: only when it
  // has nodes to run on), and after each node stage (and rack stage)
  // finishes, with the node's name or "rack NAME", for progress. Never from
  // two threads at once.
  std::function<void(const StageDef&, std::size_t nodes)> on_stage_begin;
  std::function<void(const std::string& node, const StageRecord&)> on_stage_done;
  // Inter-node NCCL launcher (see RackNcclHook above); empty: the stage
  // errors on racks of two or more nodes.
  RackNcclHook rack_nccl;
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
