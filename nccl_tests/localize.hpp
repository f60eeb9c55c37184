// Finding the bad node, GPU or link (`aicloudctl nccl -i INV --localize`).
// Pure: which groups of GPUs run which all_reduce in which round, and, given
// their bus bandwidths, who is to blame and why. The launcher (phase 2)
// runs each round's groups at once, one communicator per group, at a fixed
// large size.
//
// Survey, in rounds whose groups use disjoint GPUs:
//   round 0    intra: every node's GPUs alone (NVLink/NVSwitch, the GPUs);
//   round 1    rails: GPU index g of every node, one group per g (the NIC
//              and leaf switch of rail g), NCCL_ALGO=Ring;
//   rounds 2.. pairs: every node with every other, n-1 rounds of n/2
//              disjoint pairs (circle method; n rounds with a bye when n is
//              odd), all GPUs of both nodes, NCCL_ALGO=Ring so that Tree
//              does not hide a slow NIC.
// Then a confirm pass pairs each suspect with a node that passed
// everything, separating a bad node from a bad partner; and, for a node
// whose intra-node result is bad, GPU pairs inside it name the GPU or the
// NVLink.
//
// Attribution: a group is failed (error, timeout), wrong (wrong elements)
// or slow (busbw below `relative` times the median of its stage, or below
// the stage's floor). A node that is slow with most of its partners is
// bad; a pair that is slow while both nodes are fine elsewhere is a link;
// a slow rail names the NIC index on the bad node, or the rail's switch
// when no node stands out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nccl_tests/controller.hpp"
#include "nccl_tests/report.hpp"

namespace aicloud::nccl_tests::localize {

enum class Stage { intra, rail, pairs, confirm, gpu_pairs };
const char* stage_name(Stage s);

struct Member {
  int node = 0;  // index into Plan::nodes
  int gpu = 0;   // GPU index on that node
  bool operator==(const Member& o) const { return node == o.node && gpu == o.gpu; }
};

struct Group {
  Stage stage = Stage::intra;
  int round = 0;
  std::string id;                          // "intra:node01", "rail:3", "pair:node01+node05", ...
  std::vector<Member> members;             // rank order
  std::map<std::string, std::string> env;  // e.g. NCCL_ALGO=Ring
  std::vector<int> nodes;                  // nodes involved
  int rail = -1;                           // rail stage
  std::vector<int> gpus;                   // gpu_pairs: the two GPU indices
};

struct Plan {
  std::vector<std::string> nodes;
  int gpus_per_node = 0;
  std::vector<Group> groups;
  int rounds = 0;  // rounds used by `groups`
};

// Circle method: rounds of disjoint pairs covering every pair exactly once
// (n-1 rounds for even n; n rounds for odd n, each with one node idle).
std::vector<std::vector<std::pair<int, int>>> round_robin_pairs(int n);

// The survey (intra, rails, pairs). Throws UsageError for fewer than one
// node or GPU.
Plan plan_survey(const std::vector<std::string>& nodes, int gpus_per_node);

// Known-good second pass: each suspect paired with a distinct good node
// where possible (several rounds when suspects outnumber good nodes),
// starting at round `first_round`.
std::vector<Group> plan_confirm(const Plan& plan, const std::vector<int>& suspects, const std::vector<int>& good,
                                int first_round);

// GPU pairs inside one node (circle method over its GPUs), Ring forced.
std::vector<Group> plan_gpu_pairs(const Plan& plan, int node, int first_round);

struct Measurement {
  std::string group_id;
  bool ok = true;          // finished without error or timeout
  double busbw_gbps = 0;   // all_reduce bus bandwidth at the fixed size
  unsigned long long wrong = 0;
  std::string error;       // why it failed
};

struct Thresholds {
  double relative = 0.90;                 // slow: below this fraction of the stage median
  std::map<Stage, double> floor_gbps;     // optional absolute floors per stage
};

enum class Verdict { ok, slow, failed, wrong };
const char* verdict_name(Verdict v);

struct Finding {
  std::string kind;  // node, node_rail, gpu, gpu_link, link, rail, data, inconclusive
  int node = -1, peer = -1, rail = -1, gpu = -1, peer_gpu = -1;
  bool confirmed = false;  // a known-good second pass agrees
  std::string summary;     // one sentence naming the culprit
  std::vector<std::string> evidence;  // the measurements that show it
};

struct Attribution {
  std::map<std::string, Verdict> verdicts;  // per group id
  std::map<std::string, double> stage_median_gbps;
  std::vector<Finding> findings;
  std::vector<int> suspects;  // nodes a confirm pass should retest
  std::vector<int> good;      // nodes that passed every group they were in
  std::vector<int> intra_bad; // nodes whose intra-node group was bad (GPU pairs next)
};

// The launch of one group: its members become ranks (node names from the
// plan, device = GPU index), with `base`'s plan and timeouts, and the
// group's environment (NCCL_ALGO=Ring) on top of base.env.
LaunchSpec group_launch_spec(const Plan& plan, const Group& group, const LaunchSpec& base);

// A group's finished run as attribute() needs it: ok when the run was ok,
// the out-of-place all_reduce busbw at `size`, wrong elements, and the
// first problem as the error.
Measurement measurement_from(const Group& group, const RunReport& report, std::uint64_t size);

// `groups` are all planned groups (survey plus any confirm/gpu_pairs);
// groups without a measurement are ignored.
Attribution attribute(const Plan& plan, const std::vector<Group>& groups, const std::vector<Measurement>& measurements,
                      const Thresholds& thresholds = {});

}  // namespace aicloud::nccl_tests::localize
