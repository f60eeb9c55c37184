// Synthetic measurement tables: a fleet where everything runs at 100 GB/s
// except what each scenario breaks.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "common/error.hpp"
#include "nccl_tests/localize.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests::localize;

namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("n" + std::to_string(i));
  return v;
}

// Every group of `groups` measured; `busbw(g)` decides its bandwidth.
template <typename F>
std::vector<Measurement> measure(const std::vector<Group>& groups, F busbw) {
  std::vector<Measurement> m;
  for (const auto& g : groups) m.push_back({g.id, true, busbw(g), 0, ""});
  return m;
}

bool involves(const Group& g, int node) { return std::find(g.nodes.begin(), g.nodes.end(), node) != g.nodes.end(); }

const Finding* find_kind(const Attribution& a, const std::string& kind) {
  for (const auto& f : a.findings)
    if (f.kind == kind) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("round robin: every pair exactly once, disjoint pairs in each round") {
  for (int n = 2; n <= 13; ++n) {
    CAPTURE(n);
    auto rounds = round_robin_pairs(n);
    CHECK(rounds.size() == static_cast<std::size_t>(n % 2 == 0 ? n - 1 : n));
    std::set<std::pair<int, int>> seen;
    for (const auto& round : rounds) {
      std::set<int> busy;
      CHECK(round.size() == static_cast<std::size_t>(n / 2));
      for (auto [a, b] : round) {
        CHECK(a < b);
        CHECK(busy.insert(a).second);
        CHECK(busy.insert(b).second);
        CHECK(seen.insert({a, b}).second);
      }
    }
    CHECK(seen.size() == static_cast<std::size_t>(n * (n - 1) / 2));
  }
  CHECK(round_robin_pairs(1).empty());
}

TEST_CASE("the survey: intra round, rail round, pair rounds with Ring forced") {
  Plan p = plan_survey(names(4), 8);
  CHECK(p.rounds == 2 + 3);
  int intra = 0, rail = 0, pairs = 0;
  for (const auto& g : p.groups) {
    if (g.stage == Stage::intra) {
      ++intra;
      CHECK(g.round == 0);
      CHECK(g.members.size() == 8);
    } else if (g.stage == Stage::rail) {
      ++rail;
      CHECK(g.round == 1);
      CHECK(g.members.size() == 4);
      for (const auto& m : g.members) CHECK(m.gpu == g.rail);
      CHECK(g.env.at("NCCL_ALGO") == "Ring");
    } else {
      ++pairs;
      CHECK(g.round >= 2);
      CHECK(g.members.size() == 16);
      CHECK(g.env.at("NCCL_ALGO") == "Ring");
    }
  }
  CHECK(intra == 4);
  CHECK(rail == 8);
  CHECK(pairs == 6);
  // Groups of one round never share a GPU.
  for (int r = 0; r < p.rounds; ++r) {
    std::set<std::pair<int, int>> used;
    for (const auto& g : p.groups)
      if (g.round == r)
        for (const auto& m : g.members) CHECK(used.insert({m.node, m.gpu}).second);
  }
  Plan one = plan_survey({"solo"}, 8);
  CHECK(one.groups.size() == 1);
  CHECK(plan_survey({"a", "b"}, 1).groups.size() == 2);  // one rail, one pair, no intra
  CHECK_THROWS_AS(plan_survey({}, 8), UsageError);
  CHECK_THROWS_AS(plan_survey({"a"}, 0), UsageError);
}

TEST_CASE("a healthy fleet has no findings and every node is good") {
  Plan p = plan_survey(names(6), 8);
  Attribution a = attribute(p, p.groups, measure(p.groups, [](const Group&) { return 100.0; }));
  CHECK(a.findings.empty());
  CHECK(a.suspects.empty());
  CHECK(a.good.size() == 6);
  CHECK(a.stage_median_gbps.at("pairs") == 100.0);
}

TEST_CASE("a node whose one NIC is slow: named with its rail, partners stay good") {
  Plan p = plan_survey(names(6), 8);
  auto m = measure(p.groups, [](const Group& g) {
    if (g.stage == Stage::rail && g.rail == 5) return 40.0;   // rail 5 includes n3
    if (g.stage == Stage::pairs && involves(g, 3)) return 55.0;  // the ring runs at its slowest link
    return 100.0;
  });
  Attribution a = attribute(p, p.groups, m);
  const Finding* f = find_kind(a, "node_rail");
  REQUIRE(f);
  CHECK(f->node == 3);
  CHECK(f->rail == 5);
  CHECK(f->summary.find("n3, rail 5") != std::string::npos);
  CHECK(f->evidence.size() == 6);  // five pairs and the rail
  CHECK(a.findings.size() == 1);
  CHECK(a.suspects == std::vector<int>{3});
  CHECK(a.good == std::vector<int>{0, 1, 2, 4, 5});
  CHECK(a.verdicts.at("rail:5") == Verdict::slow);

  // The second pass: n3 with a known-good partner is still slow -> confirmed.
  auto confirm = plan_confirm(p, a.suspects, a.good, p.rounds);
  REQUIRE(confirm.size() == 1);
  CHECK(confirm[0].nodes == std::vector<int>{3, 0});
  std::vector<Group> all = p.groups;
  all.insert(all.end(), confirm.begin(), confirm.end());
  m.push_back({confirm[0].id, true, 50.0, 0, ""});
  Attribution b = attribute(p, all, m);
  REQUIRE(find_kind(b, "node_rail"));
  CHECK(find_kind(b, "node_rail")->confirmed);
}

TEST_CASE("a suspect that is fine with a known-good partner is cleared") {
  Plan p = plan_survey(names(4), 2);
  auto m = measure(p.groups, [](const Group& g) { return g.stage == Stage::pairs && involves(g, 1) ? 60.0 : 100.0; });
  Attribution a = attribute(p, p.groups, m);
  REQUIRE(find_kind(a, "node"));
  auto confirm = plan_confirm(p, a.suspects, a.good, p.rounds);
  std::vector<Group> all = p.groups;
  all.insert(all.end(), confirm.begin(), confirm.end());
  m.push_back({confirm[0].id, true, 99.0, 0, ""});
  Attribution b = attribute(p, all, m);
  CHECK_FALSE(find_kind(b, "node"));
}

TEST_CASE("a bad link between two good nodes is a link, not a node") {
  Plan p = plan_survey(names(5), 4);
  auto m = measure(p.groups, [](const Group& g) {
    return g.stage == Stage::pairs && involves(g, 1) && involves(g, 4) ? 30.0 : 100.0;
  });
  Attribution a = attribute(p, p.groups, m);
  REQUIRE(a.findings.size() == 1);
  const Finding& f = a.findings[0];
  CHECK(f.kind == "link");
  CHECK(f.node == 1);
  CHECK(f.peer == 4);
  CHECK(f.summary.find("n1 and n4") != std::string::npos);
  CHECK(a.suspects == std::vector<int>{1, 4});
  CHECK(a.good == std::vector<int>{0, 2, 3});
  // Both ends fine with good partners: the link is confirmed.
  auto confirm = plan_confirm(p, a.suspects, a.good, p.rounds);
  REQUIRE(confirm.size() == 2);
  CHECK(confirm[0].round == confirm[1].round);  // distinct good partners, one round
  std::vector<Group> all = p.groups;
  all.insert(all.end(), confirm.begin(), confirm.end());
  for (const auto& g : confirm) m.push_back({g.id, true, 100.0, 0, ""});
  Attribution b = attribute(p, all, m);
  REQUIRE(find_kind(b, "link"));
  CHECK(find_kind(b, "link")->confirmed);
}

TEST_CASE("two bad nodes are both named, and the partners they slowed are not") {
  Plan p = plan_survey(names(8), 8);
  auto m = measure(p.groups, [](const Group& g) {
    return g.stage == Stage::pairs && (involves(g, 2) || involves(g, 6)) ? 50.0 : 100.0;
  });
  Attribution a = attribute(p, p.groups, m);
  std::set<int> blamed;
  for (const auto& f : a.findings) {
    CHECK(f.kind == "node");
    blamed.insert(f.node);
  }
  CHECK(blamed == std::set<int>{2, 6});
  CHECK(a.good.size() == 6);
}

TEST_CASE("with two nodes a slow pair is inconclusive until a known-good node is tried") {
  Plan p = plan_survey(names(2), 4);
  auto m = measure(p.groups, [](const Group& g) { return g.stage == Stage::pairs ? 20.0 : 100.0; });
  Thresholds th;
  th.floor_gbps[Stage::pairs] = 80.0;  // one pair: only a floor can call it slow
  Attribution a = attribute(p, p.groups, m, th);
  REQUIRE(find_kind(a, "inconclusive"));
  CHECK(a.suspects == std::vector<int>{0, 1});
  CHECK(a.good.empty());
  CHECK(plan_confirm(p, a.suspects, a.good, p.rounds).empty());
}

TEST_CASE("a slow rail with no node standing out names the rail") {
  Plan p = plan_survey(names(4), 8);
  auto m = measure(p.groups, [](const Group& g) { return g.stage == Stage::rail && g.rail == 2 ? 30.0 : 100.0; });
  Attribution a = attribute(p, p.groups, m);
  const Finding* f = find_kind(a, "rail");
  REQUIRE(f);
  CHECK(f->rail == 2);
  CHECK(a.findings.size() == 1);
}

TEST_CASE("a slow intra-node result names the node, and GPU pairs name the GPU") {
  Plan p = plan_survey(names(3), 8);
  auto m = measure(p.groups, [](const Group& g) { return g.stage == Stage::intra && involves(g, 1) ? 200.0 : 370.0; });
  Attribution a = attribute(p, p.groups, m);
  const Finding* f = find_kind(a, "node");
  REQUIRE(f);
  CHECK(f->node == 1);
  CHECK(a.intra_bad == std::vector<int>{1});

  auto gp = plan_gpu_pairs(p, 1, p.rounds);
  CHECK(gp.size() == 28);
  std::vector<Group> all = p.groups;
  all.insert(all.end(), gp.begin(), gp.end());
  auto m2 = m;
  for (const auto& g : gp) {
    const bool bad = g.gpus[0] == 5 || g.gpus[1] == 5;
    m2.push_back({g.id, true, bad ? 60.0 : 120.0, 0, ""});
  }
  Attribution b = attribute(p, all, m2);
  const Finding* gpu = find_kind(b, "gpu");
  REQUIRE(gpu);
  CHECK(gpu->node == 1);
  CHECK(gpu->gpu == 5);
  CHECK_FALSE(find_kind(b, "gpu_link"));

  // One bad NVLink between GPUs 2 and 3 only.
  auto m3 = m;
  for (const auto& g : gp) {
    const bool bad = (g.gpus[0] == 2 && g.gpus[1] == 3) || (g.gpus[0] == 3 && g.gpus[1] == 2);
    m3.push_back({g.id, true, bad ? 60.0 : 120.0, 0, ""});
  }
  Attribution c = attribute(p, all, m3);
  const Finding* link = find_kind(c, "gpu_link");
  REQUIRE(link);
  CHECK(link->gpu == 2);
  CHECK(link->peer_gpu == 3);
  CHECK_FALSE(find_kind(c, "gpu"));
}

TEST_CASE("failures and wrong data count as bad, and wrong data is named") {
  Plan p = plan_survey(names(4), 2);
  auto m = measure(p.groups, [](const Group&) { return 100.0; });
  for (auto& x : m) {
    if (x.group_id == "pair:n0+n2") {
      x.ok = false;
      x.error = "timeout after 120 s";
    }
    if (x.group_id == "intra:n3") x.wrong = 12;
  }
  Attribution a = attribute(p, p.groups, m);
  CHECK(a.verdicts.at("pair:n0+n2") == Verdict::failed);
  CHECK(a.verdicts.at("intra:n3") == Verdict::wrong);
  const Finding* d = find_kind(a, "data");
  REQUIRE(d);
  CHECK(d->node == 3);
  const Finding* link = find_kind(a, "link");
  REQUIRE(link);
  CHECK(link->evidence[0].find("timeout after 120 s") != std::string::npos);
}

TEST_CASE("confirm pairs spread over good partners and extra rounds") {
  Plan p = plan_survey(names(6), 1);
  auto c = plan_confirm(p, {0, 1, 2}, {4, 5}, 10);
  REQUIRE(c.size() == 3);
  CHECK(c[0].round == 10);
  CHECK(c[1].round == 10);
  CHECK(c[2].round == 11);
  CHECK(c[0].nodes[1] != c[1].nodes[1]);
  CHECK(c[0].stage == Stage::confirm);
}

TEST_CASE("a group becomes a launch: members as ranks, Ring forced on top of the base environment") {
  Plan p = plan_survey(names(4), 8);
  const Group* pair = nullptr;
  for (const auto& g : p.groups)
    if (g.id == "pair:n1+n3") pair = &g;
  REQUIRE(pair);
  aicloud::nccl_tests::LaunchSpec base;
  base.plan.sizes = {1ull << 30};
  base.phase_timeout_s = 60;
  base.env = {{"NCCL_IB_HCA", "mlx5"}, {"NCCL_ALGO", "Tree"}};
  auto spec = group_launch_spec(p, *pair, base);
  REQUIRE(spec.ranks.size() == 16);
  CHECK(spec.ranks[0].node == "n1");
  CHECK(spec.ranks[8].node == "n3");
  CHECK(spec.ranks[8].rank == 8);
  CHECK(spec.ranks[8].local_rank == 0);
  CHECK(spec.ranks[15].device == 7);
  CHECK(spec.env.at("NCCL_ALGO") == "Ring");
  CHECK(spec.env.at("NCCL_IB_HCA") == "mlx5");
  CHECK(spec.phase_timeout_s == 60);
  CHECK(spec.plan.sizes == base.plan.sizes);
  const Group& rail = p.groups[4];  // rail:0
  REQUIRE(rail.stage == Stage::rail);
  auto rs = group_launch_spec(p, rail, base);
  REQUIRE(rs.ranks.size() == 4);
  CHECK(rs.ranks[3].node == "n3");
  CHECK(rs.ranks[3].local_rank == 0);
  CHECK(rs.ranks[3].device == 0);
}

TEST_CASE("a finished run becomes a measurement") {
  using namespace aicloud::nccl_tests;
  Group g;
  g.id = "pair:a+b";
  RunReport r;
  r.exit_code = 0;
  TestResult t;
  t.spec = TestSpec{};
  RowResult row;
  row.size_bytes = 1ull << 30;
  row.out_of_place.present = true;
  row.out_of_place.bw.busbw_gbps = 91.5;
  t.rows.push_back(row);
  r.tests.push_back(t);
  Measurement m = measurement_from(g, r, 1ull << 30);
  CHECK(m.group_id == "pair:a+b");
  CHECK(m.ok);
  CHECK(m.busbw_gbps == 91.5);
  CHECK(m.error.empty());
  // Wrong data: a completed run, judged as wrong.
  r.tests[0].rows[0].out_of_place.wrong = 3;
  r.exit_code = 1;
  m = measurement_from(g, r, 1ull << 30);
  CHECK(m.ok);
  CHECK(m.wrong == 3);
  // A timeout: failed, with the reason.
  r.tests[0].rows.clear();
  r.problems.push_back({2, "timed", "timeout", "rank 2 (b GPU 2): waiting on the GPU for more than 120 s"});
  m = measurement_from(g, r, 1ull << 30);
  CHECK_FALSE(m.ok);
  CHECK(m.error.find("rank 2") != std::string::npos);
  // Clean exit but no row of that size: not a measurement.
  RunReport empty;
  m = measurement_from(g, empty, 1ull << 30);
  CHECK_FALSE(m.ok);
}
