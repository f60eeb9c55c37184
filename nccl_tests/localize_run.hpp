// `--localize`: runs the localisation plan of localize.hpp round by round
// and attributes the bad node, GPU, rail or link. Orchestration only: which
// rounds run, in what order, and what is recorded; how a round's launches
// run is a RoundRunner (over SSH sessions in fleet mode: run_fleet builds
// one that drives every group's Controller at once with drive_many). The
// unit tests drive it with a runner that answers from a synthetic fabric.
//
//   survey   intra-node groups, rail groups, pairwise rounds (Ring);
//   confirm  each suspect with a node that passed everything;
//   gpu      GPU pairs inside each node whose intra-node group was bad;
//   then attribute() over every measurement.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nccl_tests/localize.hpp"
#include "nccl_tests/report.hpp"

namespace aicloud::nccl_tests::localize {

// Runs the launches of one round at once (their GPUs are disjoint) and
// returns one finished report per launch, in the same order. Must not throw
// for a launch's failure (it is in that launch's report).
using RoundRunner = std::function<std::vector<RunReport>(const std::vector<LaunchSpec>& launches)>;

struct RunOptions {
  std::uint64_t size = 1ull << 30;  // the all_reduce size every group runs
  Thresholds thresholds;
  bool confirm = true;    // known-good second pass for suspects
  bool gpu_pairs = true;  // GPU pairs inside nodes whose intra-node group was bad
  // Called before each round (round number, its group ids), for progress.
  std::function<void(int, const std::vector<std::string>&)> on_round;
};

struct Outcome {
  Plan plan;
  std::vector<Group> groups;              // every group that ran
  std::vector<Measurement> measurements;  // one per group that ran
  Attribution attribution;
  int rounds = 0;                         // rounds run
  bool interrupted = false;               // Ctrl-C: later rounds were not run
};

// The launch every group starts from: all_reduce of `size` bytes (float,
// sum), out of place, with `base`'s iterations, timeouts, NCCL library and
// environment.
LaunchSpec localize_base(const LaunchSpec& base, std::uint64_t size);

Outcome run_localize(const std::vector<std::string>& nodes, int gpus_per_node, const LaunchSpec& base,
                     const RoundRunner& run_round, const RunOptions& options = {});

// The "localization" object of the aicloudctl.nccl/1 document (the shape
// certify/ingest.cpp reads): {"size", "rounds", "groups":[{id, stage,
// round, nodes, busbw_gbps, verdict, error}], "pairs":[{a, b, busbw_gbps}],
// "suspects":[{node, gpu, rail, reason}], "findings":[{kind, node, peer,
// rail, gpu, peer_gpu, confirmed, summary, evidence}], "stage_median_gbps"}.
nlohmann::ordered_json localization_json(const Outcome& o, std::uint64_t size);

}  // namespace aicloud::nccl_tests::localize
