#include "nccl_tests/localize_run.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "common/interrupt.hpp"

namespace aicloud::nccl_tests::localize {

using json = nlohmann::ordered_json;

LaunchSpec localize_base(const LaunchSpec& base, std::uint64_t size) {
  LaunchSpec s = base;
  s.ranks.clear();
  s.dry_run = false;
  s.plan.tests = {TestSpec{Collective::all_reduce, DataType::float32, RedOp::sum, 0}};
  s.plan.sizes = {size};
  s.plan.in_place = false;
  s.plan.out_of_place = true;
  return s;
}

namespace {

// Runs `groups` round by round (ascending round numbers), appending to `out`.
void run_rounds(const Plan& plan, const std::vector<Group>& groups, const LaunchSpec& base,
                const RoundRunner& run_round, const RunOptions& o, Outcome& out) {
  std::set<int> rounds;
  for (const auto& g : groups) rounds.insert(g.round);
  for (int r : rounds) {
    if (interrupted()) {
      out.interrupted = true;
      return;
    }
    std::vector<const Group*> members;
    std::vector<LaunchSpec> launches;
    std::vector<std::string> ids;
    for (const auto& g : groups)
      if (g.round == r) {
        members.push_back(&g);
        launches.push_back(group_launch_spec(plan, g, base));
        ids.push_back(g.id);
      }
    if (o.on_round) o.on_round(r, ids);
    std::vector<RunReport> reports = run_round(launches);
    for (std::size_t i = 0; i < members.size(); ++i) {
      out.groups.push_back(*members[i]);
      if (i < reports.size()) {
        out.measurements.push_back(measurement_from(*members[i], reports[i], o.size));
      } else {
        Measurement m;
        m.group_id = members[i]->id;
        m.ok = false;
        m.error = "the launcher returned no report for this group";
        out.measurements.push_back(m);
      }
      if (i < reports.size() && reports[i].status == "interrupted") out.interrupted = true;
    }
    ++out.rounds;
    if (out.interrupted) return;
  }
}

int next_round(const std::vector<Group>& groups) {
  int r = 0;
  for (const auto& g : groups) r = std::max(r, g.round + 1);
  return r;
}

}  // namespace

Outcome run_localize(const std::vector<std::string>& nodes, int gpus_per_node, const LaunchSpec& base_in,
                     const RoundRunner& run_round, const RunOptions& o) {
  Outcome out;
  out.plan = plan_survey(nodes, gpus_per_node);
  const LaunchSpec base = localize_base(base_in, o.size);
  run_rounds(out.plan, out.plan.groups, base, run_round, o, out);
  out.attribution = attribute(out.plan, out.groups, out.measurements, o.thresholds);
  if (out.interrupted) return out;
  // Nothing completed (no GPU, no NCCL, a broken launch): there is nothing
  // to compare, and blaming links or nodes from it would be invented.
  if (std::none_of(out.measurements.begin(), out.measurements.end(), [](const Measurement& m) { return m.ok; })) {
    Finding f;
    f.kind = "inconclusive";
    f.summary = "no localisation group completed, so no node, GPU or link can be compared";
    for (const auto& m : out.measurements)
      if (!m.error.empty()) {
        f.summary += " (first error: " + m.error + ")";
        break;
      }
    out.attribution.findings = {f};
    out.attribution.suspects.clear();
    out.attribution.good.clear();
    out.attribution.intra_bad.clear();
    return out;
  }

  // Second pass: suspects with known-good partners, GPUs of bad nodes.
  std::vector<Group> more;
  const int first = next_round(out.groups);
  if (o.confirm && !out.attribution.suspects.empty())
    for (auto& g : plan_confirm(out.plan, out.attribution.suspects, out.attribution.good, first)) more.push_back(g);
  if (o.gpu_pairs && gpus_per_node >= 2) {
    // After the confirm rounds; the nodes' GPU pairs share rounds (disjoint GPUs).
    const int gpu_first = more.empty() ? first : next_round(more);
    for (int node : out.attribution.intra_bad)
      for (auto& g : plan_gpu_pairs(out.plan, node, gpu_first)) more.push_back(g);
  }
  if (!more.empty()) {
    run_rounds(out.plan, more, base, run_round, o, out);
    out.attribution = attribute(out.plan, out.groups, out.measurements, o.thresholds);
  }
  return out;
}

json localization_json(const Outcome& o, std::uint64_t size) {
  json j;
  j["size"] = size;
  j["rounds"] = o.rounds;
  j["interrupted"] = o.interrupted;
  j["nodes"] = o.plan.nodes;
  j["gpus_per_node"] = o.plan.gpus_per_node;
  std::map<std::string, const Measurement*> by_id;
  for (const auto& m : o.measurements) by_id[m.group_id] = &m;
  auto node_name = [&](int i) { return o.plan.nodes[static_cast<std::size_t>(i)]; };
  json groups = json::array(), pairs = json::array();
  for (const auto& g : o.groups) {
    const Measurement* m = by_id.count(g.id) ? by_id[g.id] : nullptr;
    json names = json::array();
    for (int n : g.nodes) names.push_back(node_name(n));
    auto v = o.attribution.verdicts.find(g.id);
    json x = {{"id", g.id},
              {"stage", stage_name(g.stage)},
              {"round", g.round},
              {"nodes", names},
              {"busbw_gbps", m && m->ok ? json(m->busbw_gbps) : json(nullptr)},
              {"wrong", m ? m->wrong : 0},
              {"verdict", v != o.attribution.verdicts.end() ? verdict_name(v->second) : "unmeasured"},
              {"error", m && !m->error.empty() ? json(m->error) : json(nullptr)}};
    if (g.rail >= 0) x["rail"] = g.rail;
    if (!g.gpus.empty()) x["gpus"] = g.gpus;
    groups.push_back(x);
    if ((g.stage == Stage::pairs || g.stage == Stage::confirm) && g.nodes.size() == 2 && m && m->ok)
      pairs.push_back({{"a", node_name(g.nodes[0])}, {"b", node_name(g.nodes[1])}, {"busbw_gbps", m->busbw_gbps}});
  }
  j["groups"] = groups;
  j["pairs"] = pairs;
  json suspects = json::array(), findings = json::array();
  for (const auto& f : o.attribution.findings) {
    json x = {{"kind", f.kind},
              {"node", f.node >= 0 ? json(node_name(f.node)) : json(nullptr)},
              {"peer", f.peer >= 0 ? json(node_name(f.peer)) : json(nullptr)},
              {"rail", f.rail >= 0 ? json(f.rail) : json(nullptr)},
              {"gpu", f.gpu >= 0 ? json(f.gpu) : json(nullptr)},
              {"peer_gpu", f.peer_gpu >= 0 ? json(f.peer_gpu) : json(nullptr)},
              {"confirmed", f.confirmed},
              {"summary", f.summary},
              {"evidence", f.evidence}};
    findings.push_back(x);
    if (f.node >= 0)
      suspects.push_back({{"node", node_name(f.node)},
                          {"gpu", f.gpu >= 0 ? json(f.gpu) : json(nullptr)},
                          {"rail", f.rail >= 0 ? json("rail " + std::to_string(f.rail)) : json("")},
                          {"reason", f.summary}});
  }
  j["suspects"] = suspects;
  j["findings"] = findings;
  json med = json::object();
  for (const auto& [k, v] : o.attribution.stage_median_gbps) med[k] = v;
  j["stage_median_gbps"] = med;
  return j;
}

}  // namespace aicloud::nccl_tests::localize
