#include "nccl_tests/localize.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/error.hpp"
#include "nccl_tests/stats.hpp"

namespace aicloud::nccl_tests::localize {

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::intra: return "intra";
    case Stage::rail: return "rail";
    case Stage::pairs: return "pairs";
    case Stage::confirm: return "confirm";
    case Stage::gpu_pairs: return "gpu_pairs";
  }
  return "?";
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::slow: return "slow";
    case Verdict::failed: return "failed";
    case Verdict::wrong: return "wrong";
  }
  return "?";
}

std::vector<std::vector<std::pair<int, int>>> round_robin_pairs(int n) {
  std::vector<std::vector<std::pair<int, int>>> rounds;
  if (n < 2) return rounds;
  const int m = n % 2 == 0 ? n : n + 1;  // m-1 is the bye when n is odd
  std::vector<int> ring(static_cast<std::size_t>(m));
  for (int i = 0; i < m; ++i) ring[static_cast<std::size_t>(i)] = i;
  for (int r = 0; r < m - 1; ++r) {
    std::vector<std::pair<int, int>> round;
    for (int i = 0; i < m / 2; ++i) {
      int a = ring[static_cast<std::size_t>(i)], b = ring[static_cast<std::size_t>(m - 1 - i)];
      if (a >= n || b >= n) continue;
      round.emplace_back(std::min(a, b), std::max(a, b));
    }
    rounds.push_back(std::move(round));
    // Keep ring[0] fixed and rotate the others by one.
    std::rotate(ring.begin() + 1, ring.end() - 1, ring.end());
  }
  return rounds;
}

namespace {

std::vector<Member> node_members(int node, int gpus) {
  std::vector<Member> m;
  for (int g = 0; g < gpus; ++g) m.push_back({node, g});
  return m;
}

Group pair_group(const Plan& plan, Stage stage, const std::string& prefix, int a, int b, int round) {
  Group g;
  g.stage = stage;
  g.round = round;
  g.id = prefix + ":" + plan.nodes[static_cast<std::size_t>(a)] + "+" + plan.nodes[static_cast<std::size_t>(b)];
  g.members = node_members(a, plan.gpus_per_node);
  auto mb = node_members(b, plan.gpus_per_node);
  g.members.insert(g.members.end(), mb.begin(), mb.end());
  g.env["NCCL_ALGO"] = "Ring";
  g.nodes = {a, b};
  return g;
}

std::string gbps(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// One measured pair of entities (nodes, or GPUs of one node).
struct PairResult {
  int a = 0, b = 0;
  bool bad = false;
};

// Repeatedly blames the entity that is bad with more than half of its
// partners (at least two pairs), counting only the pairs that no entity
// blamed so far explains; returns the blamed entities in order.
std::vector<int> greedy_blame(const std::vector<PairResult>& pairs) {
  std::set<int> blamed;
  std::vector<int> order;
  for (;;) {
    std::map<int, std::pair<int, int>> count;  // entity -> bad, total
    for (const auto& p : pairs) {
      if (blamed.count(p.a) || blamed.count(p.b)) continue;
      for (int x : {p.a, p.b}) {
        count[x].second++;
        if (p.bad) count[x].first++;
      }
    }
    int best = -1;
    double frac = 0.5;
    for (const auto& [who, c] : count)
      if (c.second >= 2 && c.first > 0 && static_cast<double>(c.first) / c.second > frac) {
        frac = static_cast<double>(c.first) / c.second;
        best = who;
      }
    if (best < 0) return order;
    blamed.insert(best);
    order.push_back(best);
  }
}

}  // namespace

Plan plan_survey(const std::vector<std::string>& nodes, int gpus_per_node) {
  if (nodes.empty()) throw UsageError("localisation needs at least one node");
  if (gpus_per_node < 1) throw UsageError("localisation needs at least one GPU per node");
  Plan p;
  p.nodes = nodes;
  p.gpus_per_node = gpus_per_node;
  const int n = static_cast<int>(nodes.size());
  int round = 0;
  if (gpus_per_node >= 2) {
    for (int i = 0; i < n; ++i) {
      Group g;
      g.stage = Stage::intra;
      g.round = round;
      g.id = "intra:" + nodes[static_cast<std::size_t>(i)];
      g.members = node_members(i, gpus_per_node);
      g.nodes = {i};
      p.groups.push_back(std::move(g));
    }
    ++round;
  }
  if (n >= 2) {
    for (int gpu = 0; gpu < gpus_per_node; ++gpu) {
      Group g;
      g.stage = Stage::rail;
      g.round = round;
      g.id = "rail:" + std::to_string(gpu);
      for (int i = 0; i < n; ++i) {
        g.members.push_back({i, gpu});
        g.nodes.push_back(i);
      }
      g.rail = gpu;
      g.env["NCCL_ALGO"] = "Ring";
      p.groups.push_back(std::move(g));
    }
    ++round;
    for (const auto& pairs : round_robin_pairs(n)) {
      for (auto [a, b] : pairs) p.groups.push_back(pair_group(p, Stage::pairs, "pair", a, b, round));
      ++round;
    }
  }
  p.rounds = round;
  return p;
}

std::vector<Group> plan_confirm(const Plan& plan, const std::vector<int>& suspects, const std::vector<int>& good,
                                int first_round) {
  std::vector<Group> out;
  if (good.empty()) return out;
  for (std::size_t i = 0; i < suspects.size(); ++i) {
    const int partner = good[i % good.size()];
    const int round = first_round + static_cast<int>(i / good.size());
    out.push_back(pair_group(plan, Stage::confirm, "confirm", suspects[i], partner, round));
    // pair_group orders members as given: the suspect first.
  }
  return out;
}

std::vector<Group> plan_gpu_pairs(const Plan& plan, int node, int first_round) {
  std::vector<Group> out;
  int round = first_round;
  for (const auto& pairs : round_robin_pairs(plan.gpus_per_node)) {
    for (auto [a, b] : pairs) {
      Group g;
      g.stage = Stage::gpu_pairs;
      g.round = round;
      g.id = "gpupair:" + plan.nodes[static_cast<std::size_t>(node)] + ":" + std::to_string(a) + "+" + std::to_string(b);
      g.members = {{node, a}, {node, b}};
      g.nodes = {node};
      g.gpus = {a, b};
      g.env["NCCL_ALGO"] = "Ring";
      out.push_back(std::move(g));
    }
    ++round;
  }
  return out;
}

LaunchSpec group_launch_spec(const Plan& plan, const Group& group, const LaunchSpec& base) {
  LaunchSpec spec = base;
  spec.ranks.clear();
  std::map<int, int> local;  // node -> next local rank
  for (const auto& m : group.members) {
    RankSpec r;
    r.rank = static_cast<int>(spec.ranks.size());
    r.node = plan.nodes.at(static_cast<std::size_t>(m.node));
    r.local_rank = local[m.node]++;
    r.device = m.gpu;
    spec.ranks.push_back(r);
  }
  for (const auto& [k, v] : group.env) spec.env[k] = v;
  return spec;
}

Measurement measurement_from(const Group& group, const RunReport& report, std::uint64_t size) {
  Measurement m;
  m.group_id = group.id;
  m.ok = report.exit_code == 0;
  for (const auto& t : report.tests) {
    if (t.spec.collective != Collective::all_reduce) continue;
    for (const auto& row : t.rows) {
      m.wrong += row.out_of_place.wrong + row.in_place.wrong;
      if (row.size_bytes == size && row.out_of_place.present) m.busbw_gbps = row.out_of_place.bw.busbw_gbps;
    }
  }
  if (m.wrong) m.ok = true;  // a completed run with wrong data is judged as wrong, not failed
  if (!report.problems.empty() && m.wrong == 0) m.error = report.problems.front().message;
  if (m.ok && m.wrong == 0 && m.busbw_gbps == 0 && report.exit_code == 0) {
    m.ok = false;
    m.error = "no all_reduce row of " + std::to_string(size) + " bytes";
  }
  return m;
}

Attribution attribute(const Plan& plan, const std::vector<Group>& groups, const std::vector<Measurement>& measurements,
                      const Thresholds& th) {
  Attribution a;
  std::map<std::string, const Measurement*> by_id;
  for (const auto& m : measurements) by_id[m.group_id] = &m;
  auto measured = [&](const Group& g) { return by_id.count(g.id) > 0; };
  const int n = static_cast<int>(plan.nodes.size());
  auto node_name = [&](int i) { return plan.nodes[static_cast<std::size_t>(i)]; };

  // Stage medians of completed, correct groups. Confirm groups have the
  // shape of pair groups and are judged against the pairs' median.
  std::map<Stage, std::vector<double>> values;
  for (const auto& g : groups) {
    if (!measured(g)) continue;
    const Measurement& m = *by_id[g.id];
    if (m.ok && m.wrong == 0) values[g.stage == Stage::confirm ? Stage::pairs : g.stage].push_back(m.busbw_gbps);
  }
  std::map<Stage, double> median;
  for (auto& [stage, v] : values) {
    median[stage] = percentile(v, 50);
    a.stage_median_gbps[stage_name(stage)] = median[stage];
  }

  std::map<std::string, std::string> evidence;  // per group id, one sentence
  for (const auto& g : groups) {
    if (!measured(g)) continue;
    const Measurement& m = *by_id[g.id];
    const Stage ref = g.stage == Stage::confirm ? Stage::pairs : g.stage;
    Verdict v = Verdict::ok;
    std::string text = g.id + ": ";
    if (!m.ok) {
      v = Verdict::failed;
      text += "failed" + (m.error.empty() ? std::string() : " (" + m.error + ")");
    } else if (m.wrong > 0) {
      v = Verdict::wrong;
      text += std::to_string(m.wrong) + " wrong elements";
    } else {
      text += gbps(m.busbw_gbps) + " GB/s busbw";
      const double med = median.count(ref) ? median[ref] : 0;
      if (med > 0) {
        text += ", " + std::string(stage_name(ref)) + " median " + gbps(med) + " (" +
                std::to_string(static_cast<int>(m.busbw_gbps / med * 100 + 0.5)) + "%)";
        if (m.busbw_gbps < th.relative * med) v = Verdict::slow;
      }
      auto floor = th.floor_gbps.find(ref);
      if (floor != th.floor_gbps.end()) {
        text += ", floor " + gbps(floor->second);
        if (m.busbw_gbps < floor->second) v = Verdict::slow;
      }
    }
    a.verdicts[g.id] = v;
    evidence[g.id] = text;
  }
  auto bad = [&](const Group& g) { return measured(g) && a.verdicts[g.id] != Verdict::ok; };
  auto what = [&](const Group& g) { return std::string(verdict_name(a.verdicts[g.id])); };

  // Intra-node groups, refined by GPU pairs where they were measured.
  std::set<int> intra_bad;
  for (const auto& g : groups)
    if (g.stage == Stage::intra && bad(g)) intra_bad.insert(g.nodes.front());
  for (int node : intra_bad) {
    a.intra_bad.push_back(node);
    std::vector<const Group*> gp;
    for (const auto& g : groups)
      if (g.stage == Stage::gpu_pairs && g.nodes.front() == node && measured(g)) gp.push_back(&g);
    const Group* intra = nullptr;
    for (const auto& g : groups)
      if (g.stage == Stage::intra && g.nodes.front() == node) intra = &g;
    std::vector<std::string> base_ev = {evidence[intra->id]};
    if (gp.empty()) {
      Finding f;
      f.kind = "node";
      f.node = node;
      f.summary = node_name(node) + ": intra-node all_reduce is " + what(*intra) +
                  " (GPUs, NVLink or NVSwitch of this node); GPU pairs inside it would name the GPU";
      f.evidence = base_ev;
      a.findings.push_back(f);
      continue;
    }
    std::vector<PairResult> gpu_pairs;
    for (const Group* g : gp) gpu_pairs.push_back({g->gpus[0], g->gpus[1], bad(*g)});
    const std::vector<int> blamed_gpus = greedy_blame(gpu_pairs);
    const std::set<int> blamed(blamed_gpus.begin(), blamed_gpus.end());
    for (int best : blamed_gpus) {
      Finding f;
      f.kind = "gpu";
      f.node = node;
      f.gpu = best;
      f.summary = node_name(node) + " GPU " + std::to_string(best) + ": bad with most other GPUs of the node";
      f.evidence = base_ev;
      for (const Group* g : gp)
        if ((g->gpus[0] == best || g->gpus[1] == best) && bad(*g)) f.evidence.push_back(evidence[g->id]);
      a.findings.push_back(f);
    }
    bool any = !blamed.empty();
    for (const Group* g : gp) {
      if (!bad(*g) || blamed.count(g->gpus[0]) || blamed.count(g->gpus[1])) continue;
      any = true;
      Finding f;
      f.kind = "gpu_link";
      f.node = node;
      f.gpu = g->gpus[0];
      f.peer_gpu = g->gpus[1];
      f.summary = node_name(node) + ": the link between GPU " + std::to_string(g->gpus[0]) + " and GPU " +
                  std::to_string(g->gpus[1]) + " (both fine with other GPUs)";
      f.evidence = base_ev;
      f.evidence.push_back(evidence[g->id]);
      a.findings.push_back(f);
    }
    if (!any) {
      Finding f;
      f.kind = "node";
      f.node = node;
      f.summary = node_name(node) + ": intra-node all_reduce is " + what(*intra) +
                  " while every GPU pair is fine (suspect the NVSwitch fabric or NVLS)";
      f.evidence = base_ev;
      a.findings.push_back(f);
    }
  }

  // Rails.
  std::vector<const Group*> bad_rails;
  for (const auto& g : groups)
    if (g.stage == Stage::rail && bad(g)) bad_rails.push_back(&g);

  // Pairs: repeatedly blame the node that is bad with most of its partners
  // (counting only pairs not already explained by a blamed node).
  std::vector<const Group*> pairs;
  for (const auto& g : groups)
    if (g.stage == Stage::pairs && measured(g)) pairs.push_back(&g);
  std::vector<PairResult> node_pairs;
  for (const Group* g : pairs) node_pairs.push_back({g->nodes[0], g->nodes[1], bad(*g)});
  const std::vector<int> blame_order = greedy_blame(node_pairs);
  const std::set<int> blamed(blame_order.begin(), blame_order.end());
  std::set<int> suspects;
  for (int node : blame_order) {
    Finding f;
    f.node = node;
    for (const Group* g : pairs)
      if ((g->nodes[0] == node || g->nodes[1] == node) && bad(*g)) f.evidence.push_back(evidence[g->id]);
    std::vector<int> rails_here;
    for (const Group* r : bad_rails) {
      rails_here.push_back(r->rail);
      f.evidence.push_back(evidence[r->id]);
    }
    if (rails_here.size() == 1) {
      f.kind = "node_rail";
      f.rail = rails_here.front();
      f.summary = node_name(node) + ", rail " + std::to_string(f.rail) + " (GPU " + std::to_string(f.rail) +
                  "'s NIC, its cable or switch port): bad with most partners, and rail " + std::to_string(f.rail) +
                  " is the only slow rail";
    } else {
      f.kind = "node";
      f.summary = node_name(node) + ": bad with most partners across nodes (NICs, cables or the node's uplinks)" +
                  (rails_here.empty() ? std::string() : "; slow rails: " + std::to_string(rails_here.size()));
    }
    a.findings.push_back(f);
    suspects.insert(node);
  }
  // Bad pairs no blamed node explains: the path between the two nodes (or
  // one of them, when only two nodes exist).
  for (const Group* g : pairs) {
    if (!bad(*g) || blamed.count(g->nodes[0]) || blamed.count(g->nodes[1])) continue;
    Finding f;
    f.node = g->nodes[0];
    f.peer = g->nodes[1];
    f.evidence.push_back(evidence[g->id]);
    if (n == 2) {
      f.kind = "inconclusive";
      f.summary = "the pair " + node_name(f.node) + "+" + node_name(f.peer) + " is " + what(*g) +
                  "; with two nodes a third, known-good node is needed to tell which one";
    } else {
      f.kind = "link";
      f.summary = "the path between " + node_name(f.node) + " and " + node_name(f.peer) +
                  " (both fine with other partners): cables or switch ports between them";
    }
    a.findings.push_back(f);
    suspects.insert(f.node);
    suspects.insert(f.peer);
  }
  // Slow rails that no node explains.
  if (blame_order.empty())
    for (const Group* r : bad_rails) {
      Finding f;
      f.kind = "rail";
      f.rail = r->rail;
      f.summary = "rail " + std::to_string(r->rail) + " is " + what(*r) +
                  " and no node stands out in the pairs: suspect the rail's leaf switch, or GPU " +
                  std::to_string(r->rail) + "'s NIC on a node the pairs could not single out";
      f.evidence.push_back(evidence[r->id]);
      a.findings.push_back(f);
    }
  // Wrong data anywhere is named explicitly (it is never just slowness).
  for (const auto& g : groups)
    if (measured(g) && a.verdicts[g.id] == Verdict::wrong) {
      Finding f;
      f.kind = "data";
      f.node = g.nodes.front();
      if (g.nodes.size() == 2) f.peer = g.nodes[1];
      f.summary = "wrong data in " + g.id + " (silent data corruption on a GPU, NVLink or NIC of these nodes)";
      f.evidence.push_back(evidence[g.id]);
      a.findings.push_back(f);
    }

  // The second pass with known-good partners confirms or clears suspects.
  for (const auto& g : groups) {
    if (g.stage != Stage::confirm || !measured(g)) continue;
    const int s = g.nodes[0];
    const bool still_bad = bad(g);
    for (auto& f : a.findings) {
      const bool about = f.node == s || f.peer == s;
      if (!about) continue;
      f.evidence.push_back(evidence[g.id] + (still_bad ? " (confirm: still bad with a known-good partner)"
                                                        : " (confirm: fine with a known-good partner)"));
      if ((f.kind == "node" || f.kind == "node_rail") && f.node == s && still_bad) f.confirmed = true;
      if (f.kind == "link" && !still_bad) {
        // Both ends fine with good partners: the link itself.
        bool other_cleared = false;
        for (const auto& h : groups)
          if (h.stage == Stage::confirm && measured(h) && h.nodes[0] == (f.node == s ? f.peer : f.node) && !bad(h))
            other_cleared = true;
        if (other_cleared) f.confirmed = true;
      }
      if (f.kind == "inconclusive" && still_bad) {
        f.kind = "node";
        f.node = s;
        f.peer = -1;
        f.confirmed = true;
        f.summary = node_name(s) + ": bad with its first partner and again with a known-good node";
      }
    }
    if (!still_bad) {
      // A node cleared by its known-good pass keeps no node finding.
      a.findings.erase(std::remove_if(a.findings.begin(), a.findings.end(),
                                      [&](const Finding& f) {
                                        return (f.kind == "node" || f.kind == "node_rail") && f.node == s &&
                                               !intra_bad.count(s);
                                      }),
                       a.findings.end());
    }
  }

  for (int s : suspects) a.suspects.push_back(s);
  for (int i = 0; i < n; ++i) {
    if (suspects.count(i) || intra_bad.count(i)) continue;
    // Good: every intra and pair group it was in passed, or failed only
    // because of a partner that was blamed.
    bool clean = true, seen = false;
    for (const auto& g : groups)
      if ((g.stage == Stage::intra || g.stage == Stage::pairs) && measured(g) &&
          std::find(g.nodes.begin(), g.nodes.end(), i) != g.nodes.end()) {
        seen = true;
        const bool explained = g.stage == Stage::pairs && (blamed.count(g.nodes[0]) || blamed.count(g.nodes[1]));
        if (bad(g) && !explained) clean = false;
      }
    if (seen && clean) a.good.push_back(i);
  }
  return a;
}

}  // namespace aicloud::nccl_tests::localize
