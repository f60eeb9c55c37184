// `aicloudctl nccl`: flags to a LaunchSpec, the node-local run (one rank per
// GPU of this machine, each a worker process), and the report on stdout.
// The multi-node launch (-i INV --limit, --launcher) builds the same
// LaunchSpec from the inventory and drives it over SSH (phase 2).
#pragma once

#include <string>
#include <vector>

#include "nccl_tests/controller.hpp"
#include "nccl_tests/report.hpp"

namespace aicloud::nccl_tests {

// The command line as typed; strings are parsed (and rejected with
// UsageError) by make_launch_spec so that the CLI layer stays declarative.
struct NcclOptions {
  std::vector<std::string> collectives = {"all_reduce"};  // names, comma lists or "all"
  std::string min_bytes = "1M";
  std::string max_bytes = "1G";
  std::string step_bytes;  // additive step; used when step_factor <= 1
  int step_factor = 2;
  int iterations = 20;
  int warmup = 5;
  std::vector<std::string> dtypes = {"float"};  // or "all"
  std::vector<std::string> ops = {"sum"};       // or "all"
  int root = 0;
  std::string gpus = "all";   // "all" or a list such as "0,1,4-7"
  int ranks_per_node = 0;     // 0: one per selected GPU
  std::string timeout = "2m";       // each warm-up and each row
  std::string init_timeout = "2m";  // rendezvous and communicator creation
  std::string nccl_lib;             // explicit libnccl.so.2
  std::vector<std::string> env;     // NAME=VALUE for every rank
  bool dry_run = false;
  bool no_check = false;
  bool in_place_only = false;
  bool out_of_place_only = false;
  bool no_algo_capture = false;
};

// Parses "all", "0,1,4-7" into device indices (empty for "all").
std::vector<int> parse_gpu_list(const std::string& text);

// Validates the flags and builds the plan for `nodes` x ranks_per_node
// ranks. `gpu_count` is the number of GPUs found on this node (-1 when
// unknown). Throws UsageError with the flag's name on bad input.
LaunchSpec make_launch_spec(const NcclOptions& o, const std::vector<std::string>& nodes, int gpu_count);

// Runs the benchmark on this node, one worker process per rank, and returns
// the report without printing it (certification calls this). Throws
// UsageError for bad options and Error when nothing can run (no CUDA build,
// no GPU); everything that fails once ranks run is in the report.
RunReport run_local_report(const NcclOptions& o, bool show_progress);

// `aicloudctl nccl`: run_local_report, then the table (or JSON) on stdout.
// Returns the exit code: 0 ok, 1 failed (timeout, rank failure, wrong data),
// 130 interrupted.
int run_nccl_local(const NcclOptions& o, bool json, bool verbose);

// `aicloudctl nccl --probe` (hidden; the fleet launcher runs it on each
// node): one JSON line {"host","gpus","error","cuda_driver"} on stdout, gpus
// -1 with the reason when CUDA cannot count them. Exit 0.
int run_probe();

}  // namespace aicloud::nccl_tests
