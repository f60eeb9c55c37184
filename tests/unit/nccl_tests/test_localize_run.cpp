// The --localize orchestration (localize_run.hpp) driven in-process by a
// round runner that answers from a synthetic fabric: the real runner starts
// NCCL workers over SSH and needs GPUs (scripts/gpu-check runs that side).
// What is checked here: the rounds run in order with disjoint GPUs, the
// launches carry the right ranks, size and Ring setting, the second pass
// (confirm, GPU pairs) runs only when needed, and the findings and the
// certify-facing JSON name the culprit.
#include <doctest/doctest.h>

#include <functional>
#include <set>

#include "nccl_tests/localize_run.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;
using namespace aicloud::nccl_tests::localize;

namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("n" + std::to_string(i));
  return v;
}

// A finished one-row all_reduce report with the given bus bandwidth.
RunReport report_with(const LaunchSpec& l, double busbw, bool ok = true) {
  RunReport r;
  r.launch = l;
  r.status = ok ? "ok" : "failed";
  r.exit_code = ok ? 0 : 1;
  if (!ok) {
    r.problems.push_back({0, "init", "timeout", "rank 0: ncclCommInitRankConfig did not finish"});
    return r;
  }
  TestResult t;
  t.spec = l.plan.tests.at(0);
  t.nranks = static_cast<int>(l.ranks.size());
  RowResult row;
  row.size_bytes = l.plan.sizes.at(0);
  row.out_of_place.present = true;
  row.out_of_place.bw.busbw_gbps = busbw;
  t.rows.push_back(row);
  r.tests.push_back(t);
  return r;
}

struct Fabric {
  // busbw of one launch from its ranks (node, device) and environment.
  std::function<double(const LaunchSpec&)> busbw;
  std::function<bool(const LaunchSpec&)> fails = [](const LaunchSpec&) { return false; };
  std::vector<std::vector<LaunchSpec>> calls;

  RoundRunner runner() {
    return [this](const std::vector<LaunchSpec>& launches) {
      calls.push_back(launches);
      std::vector<RunReport> out;
      for (const auto& l : launches) out.push_back(report_with(l, busbw(l), !fails(l)));
      return out;
    };
  }
};

std::set<std::string> nodes_of(const LaunchSpec& l) {
  std::set<std::string> s;
  for (const auto& r : l.ranks) s.insert(r.node);
  return s;
}

bool has_gpu(const LaunchSpec& l, const std::string& node, int gpu) {
  for (const auto& r : l.ranks)
    if (r.node == node && r.device == gpu) return true;
  return false;
}

LaunchSpec base_spec() {
  LaunchSpec b;
  b.plan.tests = {TestSpec{Collective::all_gather, DataType::bfloat16, RedOp::sum, 0}};
  b.plan.sizes = {1 << 20, 1 << 30};
  b.plan.iterations = 7;
  b.phase_timeout_s = 33;
  b.env["NCCL_IB_HCA"] = "mlx5";
  return b;
}

}  // namespace

TEST_CASE("a healthy rack: survey rounds only, disjoint GPUs per round, no findings") {
  Fabric f;
  f.busbw = [](const LaunchSpec& l) { return nodes_of(l).size() == 1 ? 360.0 : 45.0; };
  RunOptions o;
  o.size = 8ull << 30;
  Outcome out = run_localize(names(4), 4, base_spec(), f.runner(), o);
  CHECK(out.attribution.findings.empty());
  CHECK(out.rounds == out.plan.rounds);
  CHECK(f.calls.size() == static_cast<std::size_t>(out.plan.rounds));  // no second pass
  CHECK(out.measurements.size() == out.plan.groups.size());
  for (const auto& round : f.calls) {
    std::set<std::pair<std::string, int>> used;
    for (const auto& l : round) {
      CHECK(l.plan.tests.size() == 1);
      CHECK(l.plan.tests[0].collective == Collective::all_reduce);
      CHECK(l.plan.sizes == std::vector<std::uint64_t>{8ull << 30});
      CHECK(l.plan.iterations == 7);
      CHECK(l.phase_timeout_s == 33);
      CHECK(l.env.at("NCCL_IB_HCA") == "mlx5");
      if (nodes_of(l).size() > 1) CHECK(l.env.at("NCCL_ALGO") == "Ring");
      for (const auto& r : l.ranks) CHECK(used.insert({r.node, r.device}).second);
    }
  }
  auto j = localization_json(out, o.size);
  CHECK(j["suspects"].empty());
  CHECK(j["pairs"].size() == 6);  // every pair of 4 nodes
  CHECK(j["groups"].size() == out.plan.groups.size());
}

TEST_CASE("a node with a slow NIC on one rail is confirmed with a known-good partner and named") {
  Fabric f;
  // n2's NIC of rail 1 runs at a third: every inter-node group using it is slow.
  f.busbw = [](const LaunchSpec& l) {
    if (nodes_of(l).size() == 1) return 360.0;
    return has_gpu(l, "n2", 1) ? 15.0 : 45.0;
  };
  Outcome out = run_localize(names(5), 4, base_spec(), f.runner());
  REQUIRE(f.calls.size() > static_cast<std::size_t>(out.plan.rounds));  // the confirm pass ran
  bool confirm_ran = false;
  for (const auto& g : out.groups)
    if (g.stage == Stage::confirm) {
      confirm_ran = true;
      CHECK(g.nodes.front() == 2);
    }
  CHECK(confirm_ran);
  REQUIRE(!out.attribution.findings.empty());
  const Finding& finding = out.attribution.findings.front();
  CHECK(finding.node == 2);
  CHECK(finding.confirmed);
  auto j = localization_json(out, 1ull << 30);
  REQUIRE(j["suspects"].size() >= 1);
  CHECK(j["suspects"][0]["node"] == "n2");
  CHECK(j["suspects"][0]["reason"].get<std::string>().find("n2") != std::string::npos);
  bool slow_pair = false;
  for (const auto& p : j["pairs"])
    if ((p["a"] == "n2" || p["b"] == "n2") && p["busbw_gbps"] == 15.0) slow_pair = true;
  CHECK(slow_pair);
}

TEST_CASE("a slow GPU inside a node: GPU pairs run on that node only and name the GPU") {
  Fabric f;
  f.busbw = [](const LaunchSpec& l) {
    if (nodes_of(l).size() > 1) return 45.0;
    if (l.ranks.size() == 2) return has_gpu(l, "n1", 3) ? 60.0 : 120.0;  // GPU pairs
    return *nodes_of(l).begin() == "n1" ? 200.0 : 360.0;                // intra-node groups
  };
  Outcome out = run_localize(names(3), 4, base_spec(), f.runner());
  int gpu_pair_groups = 0;
  for (const auto& g : out.groups)
    if (g.stage == Stage::gpu_pairs) {
      ++gpu_pair_groups;
      CHECK(g.nodes == std::vector<int>{1});
    }
  CHECK(gpu_pair_groups == 6);  // every pair of 4 GPUs
  bool named = false;
  for (const auto& fi : out.attribution.findings)
    if (fi.kind == "gpu" && fi.node == 1 && fi.gpu == 3) named = true;
  CHECK(named);
}

TEST_CASE("a group that fails is a failed measurement with its reason, and the node is blamed") {
  Fabric f;
  f.busbw = [](const LaunchSpec& l) { return nodes_of(l).size() == 1 ? 360.0 : 45.0; };
  f.fails = [](const LaunchSpec& l) { return nodes_of(l).count("n3") > 0 && nodes_of(l).size() > 1; };
  Outcome out = run_localize(names(4), 2, base_spec(), f.runner());
  bool failed_seen = false;
  for (const auto& m : out.measurements)
    if (!m.ok) {
      failed_seen = true;
      CHECK(m.error.find("ncclCommInitRankConfig") != std::string::npos);
    }
  CHECK(failed_seen);
  bool n3 = false;
  for (const auto& fi : out.attribution.findings) n3 = n3 || fi.node == 3;
  CHECK(n3);
  auto j = localization_json(out, 1ull << 30);
  bool failed_group = false;
  for (const auto& g : j["groups"])
    if (g["verdict"] == "failed") failed_group = g["error"].is_string() && g["busbw_gbps"].is_null();
  CHECK(failed_group);
}

TEST_CASE("when no group completes nothing is blamed: one inconclusive finding, no second pass") {
  Fabric f;
  f.busbw = [](const LaunchSpec&) { return 0.0; };
  f.fails = [](const LaunchSpec&) { return true; };
  Outcome out = run_localize(names(3), 2, base_spec(), f.runner());
  CHECK(f.calls.size() == static_cast<std::size_t>(out.plan.rounds));
  REQUIRE(out.attribution.findings.size() == 1);
  CHECK(out.attribution.findings[0].kind == "inconclusive");
  CHECK(out.attribution.findings[0].summary.find("ncclCommInitRankConfig") != std::string::npos);
  auto j = localization_json(out, 1ull << 30);
  CHECK(j["suspects"].empty());
  CHECK(j["pairs"].empty());
}
