// `aicloudctl nccl -i INV`: the benchmark across nodes over aicloudctl's own
// SSH sessions (fleet/), and the API certification uses for its rack NCCL
// stage. The steps, each with a deadline and each host's failure a value:
//
//   connect  every selected host (fleet::Fleet::connect_all; sessions that
//            are already connected are reused);
//   push     this binary to <remote_dir>/aicloudctl-<sha256[:16]>, skipped
//            when the remote copy already has the same SHA-256;
//   probe    `<remote> nccl --probe` for the GPU count of each node (only
//            when neither --ranks-per-node nor --gpus says it);
//   launch   one exec channel per rank (`<remote> nccl --worker`) driven by
//            the same Controller as the local run: rank 0 creates the NCCL
//            unique id on its node (the controller needs no libnccl) and the
//            controller hands it to every rank; deadlines, aborts and kills
//            as in docs/nccl.md.
//
// A host that fails before the launch is named in `hosts` and
// `host_failures`; a dry run then goes on with the others (to show every
// host's state), a benchmark does not start (its numbers would not be the
// rack's). The result is the same "aicloudctl.nccl/1" document as the local
// run, plus "launcher", "hosts" and "host_failures"; nothing reports ok after
// an error, and exit codes follow docs/exit-codes.md (1 failed, 4
// unreachable, 5 both, 130 interrupted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fleet/executor.hpp"
#include "fleet/options.hpp"
#include "nccl_tests/command.hpp"
#include "nccl_tests/report.hpp"

namespace aicloud::nccl_tests {

struct FleetLaunchOptions {
  NcclOptions nccl;                          // the benchmark flags, as for the local run
  std::string local_binary;                  // pushed to every node; empty: this executable
  std::string remote_dir = ".cache/aicloudctl";  // relative paths start at the login directory
  std::string remote_binary;                 // explicit remote path (overrides remote_dir/name)
  bool push = true;                          // false: the binary must already be at the remote path
  bool forward_env = true;                   // this process's NCCL_* variables go to every rank (--env wins)
  bool show_progress = false;                // a progress line on stderr (terminal only)
  // --localize: instead of the sweep, the localisation rounds of
  // localize_run.hpp (all_reduce of localize_size bytes; 0: --max-bytes),
  // reported under "localization" in the document.
  bool localize = false;
  std::uint64_t localize_size = 0;
};

// One selected host, in selection order.
struct HostOutcome {
  std::string host, address;
  // ok; failed; unreachable (connect, or the connection was lost);
  // aborted (its ranks were stopped because another host failed);
  // skipped (not launched: another host failed before the launch);
  // interrupted (Ctrl-C).
  std::string status = "skipped";
  std::string stage;            // where it failed: connect, push, probe, plan, run ("" when ok)
  std::string error;            // why, in words
  std::vector<int> ranks;       // ranks it ran
  int gpus = -1;                // GPUs the probe found (-1: not probed)
  bool pushed = false;          // the binary was copied this run (false: already there or --no-push)
  std::string host_key_sha256;
};

struct FleetRun {
  RunReport report;                  // ranks, rows, problems (host problems included)
  std::vector<HostOutcome> hosts;
  std::string remote_binary;         // where the binary is on the nodes
  int exit_code = 0;                 // 0, 1, 4, 5 or 130
  nlohmann::ordered_json document;   // aicloudctl.nccl/1 + launcher, hosts, host_failures

  std::vector<HostOutcome> failures() const;  // hosts whose status is failed or unreachable
};

// Runs the benchmark (or the dry run) over `fleet`'s hosts `hosts` (indices
// into the fleet, in rank order; empty: every host). Sessions already
// connected are reused, the others are connected. Uses only the calling
// thread between the parallel connect/push/probe steps. Throws UsageError
// for invalid benchmark options before touching any host; never throws for
// a host's failure.
FleetRun run_fleet(fleet::Fleet& fleet, const std::vector<std::size_t>& hosts, const FleetLaunchOptions& options);

// The launch over `nodes` with gpu_counts[i] GPUs found on node i (-1:
// unknown), each node planned as the local run plans its one node (so
// nodes may differ in GPU count); ranks are numbered in node order. A node
// that cannot take the ranks asked for gets the reason in node_errors[i]
// and no ranks. Pure. Throws UsageError for flags invalid on any node.
LaunchSpec plan_fleet_launch(const NcclOptions& o, const std::vector<std::string>& nodes,
                             const std::vector<int>& gpu_counts, std::vector<std::string>& node_errors);

// True when the GPU count of each node must be probed first (neither
// --ranks-per-node nor a --gpus list says how many ranks a node runs).
bool needs_probe(const NcclOptions& o);

// The remote path run_fleet uses for `local_binary` (its SHA-256 in the name).
std::string remote_binary_path(const FleetLaunchOptions& options, const std::string& sha256);

// `aicloudctl nccl -i INV [--limit SEL] ...`: loads the selection, runs
// run_fleet over a fresh Fleet, prints the table (or dry-run lines) and the
// host failures, or the JSON document; returns the exit code.
int run_nccl_fleet(const fleet::ConnectionOptions& connection, const FleetLaunchOptions& options, bool json,
                   bool verbose);

// `aicloudctl nccl -i INV --launcher mpirun|srun`: the same workers started
// by mpirun or srun (a local subprocess, external_launch.hpp), connecting
// back over TCP to `controller_address`:<ephemeral port> with a random
// token (tcp_transport.hpp). Ranks per node must be given (--ranks-per-node
// or --gpus LIST): there is no SSH probe. The binary on the nodes is
// options.remote_binary, else this executable's own path (a shared file
// system, as usual where a scheduler runs). With print_command, prints the
// launcher's command line (port and token as placeholders) and returns 0.
struct ExternalOptions {
  std::string launcher = "ssh";      // --launcher
  std::string launcher_path;         // --launcher-path: mpirun/srun binary
  std::string controller_address;    // --controller-address (default: this host's name)
  bool print_command = false;        // --print-command
};
int run_nccl_external(const fleet::ConnectionOptions& connection, const FleetLaunchOptions& options,
                      const ExternalOptions& external, bool json, bool verbose);

// The fleet part of the JSON: {"host","address","status","stage","error",
// "ranks","gpus","pushed","host_key_sha256"}.
nlohmann::ordered_json to_json(const HostOutcome& h);

// Exit code of a fleet run: 130 when interrupted, else 1 (the run failed or
// a host failed) OR-ed with 4 (a host unreachable).
int fleet_exit_code(const RunReport& report, const std::vector<HostOutcome>& hosts);

}  // namespace aicloud::nccl_tests
