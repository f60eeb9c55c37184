#include "nccl_tests/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "common/strings.hpp"
#include "common/version.hpp"
#include "gpu/nccl_api.hpp"

namespace aicloud::nccl_tests {

using json = nlohmann::ordered_json;

namespace {

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string cuda_version_string(int v) {
  if (v <= 0) return "unknown";
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

const HelloMessage* first_hello(const RunReport& r) {
  for (const auto& rk : r.ranks)
    if (rk.hello) return &*rk.hello;
  return nullptr;
}

const HelloMessage* nccl_hello(const RunReport& r) {
  for (const auto& rk : r.ranks)
    if (rk.hello && rk.hello->nccl_version > 0) return &*rk.hello;
  return nullptr;
}

std::string rank_status(const RankRecord& r) {
  if (!r.done_status.empty()) return r.done_status;
  if (r.killed) return "killed";
  if (r.exited) return "exited";
  return "unknown";
}

}  // namespace

PlacementResult combine_placement(const std::map<int, ResultMessage>& per_rank, const TestSpec& spec,
                                  std::uint64_t param_count, int nranks) {
  PlacementResult p;
  if (per_rank.empty()) return p;
  p.present = static_cast<int>(per_rank.size()) == nranks;
  std::vector<std::vector<double>> times;
  std::set<int> wrong_iters;
  p.checked = true;
  bool any_checked = false;
  for (const auto& [rank, r] : per_rank) {
    times.push_back(r.times_us);
    p.per_rank_median_us.push_back(percentile(r.times_us, 50));
    p.wrong += r.wrong;
    for (int i : r.wrong_iterations) wrong_iters.insert(i);
    if (r.first_wrong && p.first_wrong_rank < 0) {
      p.first_wrong_rank = rank;
      p.first_wrong = r.first_wrong;
    }
    // reduce: only the root has an output to check; the others report
    // checked=false and do not count against "every iteration verified".
    const bool has_output = spec.collective != Collective::reduce || rank == spec.root;
    if (has_output) {
      any_checked = any_checked || r.checked;
      p.checked = p.checked && r.checked;
    }
    if (rank == 0) {
      p.slices = r.slices;
      p.batches = r.batches;
      p.algorithm = r.algorithm;
      p.protocol = r.protocol;
      p.channels = r.channels;
    }
  }
  p.checked = p.checked && any_checked;
  p.wrong_iterations = static_cast<int>(wrong_iters.size());
  p.times_us = slowest_rank_per_iteration(times);
  p.stats = summarize(p.times_us);
  const std::size_t elt = element_size(spec.dtype);
  p.bw = bandwidth(spec.collective, param_count, elt, p.stats.median * 1e-6, nranks);
  p.bw_mean = bandwidth(spec.collective, param_count, elt, p.stats.mean * 1e-6, nranks);
  return p;
}

std::vector<TestResult> combine_results(const LaunchSpec& spec,
                                        const std::map<RowKey, std::map<int, ResultMessage>>& results) {
  std::vector<TestResult> out;
  const int nranks = static_cast<int>(spec.ranks.size());
  for (std::size_t t = 0; t < spec.plan.tests.size(); ++t) {
    TestResult tr;
    tr.spec = spec.plan.tests[t];
    tr.nranks = nranks;
    const std::size_t elt = element_size(tr.spec.dtype);
    for (std::size_t s = 0; s < spec.plan.sizes.size(); ++s) {
      auto oop = results.find({static_cast<int>(t), static_cast<int>(s), Placement::out_of_place});
      auto ip = results.find({static_cast<int>(t), static_cast<int>(s), Placement::in_place});
      if (oop == results.end() && ip == results.end()) continue;
      RowResult row;
      CollSizes cs = coll_sizes(tr.spec.collective, spec.plan.sizes[s], elt, nranks);
      row.size_bytes = cs.row_bytes;
      row.count = cs.param_count;
      row.sweep_bytes = spec.plan.sizes[s];
      if (oop != results.end()) row.out_of_place = combine_placement(oop->second, tr.spec, cs.param_count, nranks);
      if (ip != results.end()) row.in_place = combine_placement(ip->second, tr.spec, cs.param_count, nranks);
      if (!row.out_of_place.present && !row.in_place.present) continue;  // a row cut short by a failure
      tr.rows.push_back(std::move(row));
    }
    out.push_back(std::move(tr));
  }
  return out;
}

RunReport build_report(const Controller& c, std::map<std::string, std::string> env, std::string start_time,
                       std::string end_time, double duration_s) {
  RunReport r;
  r.launch = c.spec();
  r.env = std::move(env);
  r.ranks = c.ranks();
  r.tests = combine_results(c.spec(), c.results());
  r.problems = c.problems();
  r.warnings = c.warnings();
  r.stalled = c.stalled();
  r.start_time = std::move(start_time);
  r.end_time = std::move(end_time);
  r.duration_s = duration_s;
  bool wrong = false;
  for (const auto& t : r.tests)
    for (const auto& row : t.rows)
      if (row.out_of_place.wrong || row.in_place.wrong) wrong = true;
  if (c.interrupted()) {
    r.status = "interrupted";
    r.exit_code = 130;
  } else if (c.all_ok() && !wrong) {
    r.status = "ok";
    r.exit_code = 0;
  } else {
    r.status = "failed";
    r.exit_code = 1;
    if (wrong && c.all_ok())
      r.problems.push_back({-1, "verify", "wrong-data", "wrong elements were received (see #wrong)"});
  }
  return r;
}

namespace {

json placement_json(const PlacementResult& p) {
  if (!p.present) return nullptr;
  json times = json::array();
  for (double t : p.times_us) times.push_back(number(t));
  json per_rank = json::array();
  for (double t : p.per_rank_median_us) per_rank.push_back(number(t));
  json j = {{"time_us", number(p.stats.median)},
            {"algbw_gbps", number(p.bw.algbw_gbps)},
            {"busbw_gbps", number(p.bw.busbw_gbps)},
            {"mean_algbw_gbps", number(p.bw_mean.algbw_gbps)},
            {"mean_busbw_gbps", number(p.bw_mean.busbw_gbps)},
            {"stats_us",
             {{"n", p.stats.n},
              {"median", number(p.stats.median)},
              {"mean", number(p.stats.mean)},
              {"min", number(p.stats.min)},
              {"p5", number(p.stats.p5)},
              {"p95", number(p.stats.p95)},
              {"max", number(p.stats.max)},
              {"stddev", number(p.stats.stddev)},
              {"cv", number(p.stats.cv)}}},
            {"times_us", times},
            {"per_rank_median_us", per_rank},
            {"checked", p.checked},
            {"wrong", p.wrong},
            {"wrong_iterations", p.wrong_iterations},
            {"slices", p.slices},
            {"batches", p.batches},
            {"algorithm", p.algorithm.empty() ? json(nullptr) : json(p.algorithm)},
            {"protocol", p.protocol.empty() ? json(nullptr) : json(p.protocol)},
            {"channels", p.channels.empty() ? json(nullptr) : json(p.channels)}};
  if (p.first_wrong)
    j["first_wrong"] = {{"rank", p.first_wrong_rank},
                        {"iteration", p.first_wrong->iteration},
                        {"offset", p.first_wrong->offset},
                        {"expected", number(p.first_wrong->expected)},
                        {"actual", number(p.first_wrong->actual)},
                        {"actual_hex", p.first_wrong->actual_hex}};
  else
    j["first_wrong"] = nullptr;
  return j;
}

}  // namespace

json report_to_json(const RunReport& r) {
  json j;
  j["schema"] = k_report_schema;
  j["tool"] = {{"name", "aicloudctl"}, {"version", tool_version()}};
  j["status"] = r.status;
  j["exit_code"] = r.exit_code;
  j["dry_run"] = r.launch.dry_run;
  j["start_time"] = r.start_time;
  j["end_time"] = r.end_time;
  j["duration_s"] = number(r.duration_s);
  json tests_args = json::array();
  for (const auto& t : r.launch.plan.tests) tests_args.push_back(json(to_json(t)));
  j["args"] = {{"tests", tests_args},
               {"sizes", r.launch.plan.sizes},
               {"iterations", r.launch.plan.iterations},
               {"warmup", r.launch.plan.warmup},
               {"check", r.launch.plan.check},
               {"in_place", r.launch.plan.in_place},
               {"out_of_place", r.launch.plan.out_of_place},
               {"init_timeout_s", r.launch.init_timeout_s},
               {"phase_timeout_s", r.launch.phase_timeout_s},
               {"nccl_library", r.launch.nccl_library}};
  const HelloMessage* nh = nccl_hello(r);
  const HelloMessage* h0 = first_hello(r);
  j["nccl"] = {{"version", nh ? json(gpu::nccl_version_string(nh->nccl_version)) : json(nullptr)},
               {"version_code", nh ? json(nh->nccl_version) : json(nullptr)},
               {"library", nh ? json(nh->nccl_library) : json(nullptr)}};
  j["cuda"] = {{"runtime", h0 && h0->cuda_runtime ? json(cuda_version_string(h0->cuda_runtime)) : json(nullptr)},
               {"driver", h0 && h0->cuda_driver ? json(cuda_version_string(h0->cuda_driver)) : json(nullptr)}};
  j["env"] = r.env;
  std::map<std::string, std::vector<int>> nodes;
  for (const auto& rk : r.ranks) nodes[rk.spec.node].push_back(rk.spec.rank);
  json jn = json::array();
  for (const auto& [node, ranks] : nodes) jn.push_back({{"node", node}, {"ranks", ranks}});
  j["nodes"] = jn;
  json ranks = json::array();
  for (const auto& rk : r.ranks) {
    json x = {{"rank", rk.spec.rank},
              {"node", rk.spec.node},
              {"local_rank", rk.spec.local_rank},
              {"device", rk.spec.device},
              {"status", rank_status(rk)},
              {"exit_code", rk.exit_code},
              {"ready", rk.ready},
              {"init_s", number(rk.init_s)}};
    if (rk.signal) x["signal"] = rk.signal;
    if (rk.hello) {
      x["host"] = rk.hello->host;
      x["pid"] = rk.hello->pid;
      x["nccl_version"] = rk.hello->nccl_version ? json(gpu::nccl_version_string(rk.hello->nccl_version)) : json(nullptr);
      x["gpu"] = rk.hello->gpu ? json(to_json(*rk.hello->gpu)) : json(nullptr);
      if (!rk.hello->gpu_error.empty()) x["gpu_error"] = rk.hello->gpu_error;
      if (!rk.hello->nccl_error.empty()) x["nccl_error"] = rk.hello->nccl_error;
    }
    if (!rk.id_digest.empty()) x["unique_id_digest"] = rk.id_digest;
    if (rk.progress)
      x["last_progress"] = {{"phase", rk.progress->phase},
                            {"launched", rk.progress->launched},
                            {"completed", rk.progress->completed}};
    if (!rk.stderr_tail.empty() && rk.done_status != "ok") x["stderr_tail"] = rk.stderr_tail;
    ranks.push_back(x);
  }
  j["ranks"] = ranks;
  json tests = json::array();
  for (const auto& t : r.tests) {
    json rows = json::array();
    for (const auto& row : t.rows) {
      rows.push_back({{"size", row.size_bytes},
                      {"count", row.count},
                      {"sweep_bytes", row.sweep_bytes},
                      {"type", name(t.spec.dtype)},
                      {"redop", uses_redop(t.spec.collective) ? std::string(name(t.spec.op)) : "none"},
                      {"root", uses_root(t.spec.collective) ? t.spec.root : -1},
                      {"out_of_place", placement_json(row.out_of_place)},
                      {"in_place", placement_json(row.in_place)}});
    }
    tests.push_back({{"collective", name(t.spec.collective)},
                     {"dtype", name(t.spec.dtype)},
                     {"op", uses_redop(t.spec.collective) ? json(name(t.spec.op)) : json(nullptr)},
                     {"root", uses_root(t.spec.collective) ? json(t.spec.root) : json(nullptr)},
                     {"nranks", t.nranks},
                     {"bus_factor", bus_factor(t.spec.collective, t.nranks)},
                     {"results", rows}});
  }
  j["tests"] = tests;
  json problems = json::array();
  for (const auto& p : r.problems)
    problems.push_back({{"rank", p.rank >= 0 ? json(p.rank) : json(nullptr)},
                        {"phase", p.phase},
                        {"kind", p.kind},
                        {"message", p.message}});
  j["problems"] = problems;
  j["warnings"] = r.warnings;
  j["stalled_ranks"] = r.stalled;
  j["method"] = {
      {"time", "median of per-iteration CUDA-event times; each iteration's time is its slowest rank's"},
      {"bandwidth", "nccl-tests formulas (algbw = bytes/time, busbw = algbw * bus_factor), GB/s = 1e9 B/s"},
      {"verification",
       r.launch.plan.check ? "every timed iteration writes its own output slice, verified bit-exact after the timed "
                             "loop (outside the timed region)"
                           : "off"},
      {"algorithm", r.launch.plan.capture_algorithm
                        ? "rank 0 warm-up iterations with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=TUNING (NCCL 2.24+)"
                        : "not captured"}};
  return j;
}

std::optional<double> busbw_at(const json& report, std::string_view collective, std::uint64_t size,
                               std::string_view placement) {
  auto tests = report.find("tests");
  if (tests == report.end() || !tests->is_array()) return std::nullopt;
  for (const auto& t : *tests) {
    if (!t.is_object() || t.value("collective", std::string()) != collective) continue;
    auto rows = t.find("results");
    if (rows == t.end() || !rows->is_array()) return std::nullopt;
    for (const auto& row : *rows) {
      if (!row.is_object() || row.value("size", std::uint64_t{0}) != size) continue;
      auto p = row.find(std::string(placement));
      if (p == row.end() || !p->is_object()) return std::nullopt;
      auto b = p->find("busbw_gbps");
      if (b == p->end() || !b->is_number()) return std::nullopt;
      return b->get<double>();
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::string format_time_us(double us) {
  char buf[32];
  if (!std::isfinite(us)) return "    N/A";
  if (us >= 10000.0)
    std::snprintf(buf, sizeof buf, "%7.0f", us);
  else if (us >= 100.0)
    std::snprintf(buf, sizeof buf, "%7.1f", us);
  else
    std::snprintf(buf, sizeof buf, "%7.2f", us);
  return buf;
}

namespace {

std::string placement_cells(const PlacementResult& p) {
  char buf[96];
  if (!p.present) return "        -       -       -    N/A";
  std::string wrong = p.checked ? std::to_string(p.wrong) : "N/A";
  std::snprintf(buf, sizeof buf, "  %7s  %6.2f  %6.2f  %5s", format_time_us(p.stats.median).c_str(),
                p.bw.algbw_gbps, p.bw.busbw_gbps, wrong.c_str());
  return buf;
}

std::string algo_summary(const TestResult& t) {
  // Runs of consecutive rows with the same choice: "1048576..8388608 RING/LL128".
  std::string out;
  std::string cur;
  std::uint64_t first = 0, last = 0;
  auto flush = [&] {
    if (cur.empty()) return;
    if (!out.empty()) out += ", ";
    out += first == last ? std::to_string(first) : std::to_string(first) + ".." + std::to_string(last);
    out += " " + cur;
  };
  for (const auto& row : t.rows) {
    const auto& p = row.out_of_place.present ? row.out_of_place : row.in_place;
    std::string choice = p.algorithm.empty() ? "" : p.algorithm + "/" + p.protocol;
    if (choice != cur) {
      flush();
      cur = choice;
      first = row.size_bytes;
    }
    last = row.size_bytes;
  }
  flush();
  return out;
}

}  // namespace

std::string format_table(const RunReport& r, bool verbose) {
  std::string s;
  char buf[512];
  std::set<std::string> nodes;
  for (const auto& rk : r.ranks) nodes.insert(rk.spec.node);
  const HelloMessage* nh = nccl_hello(r);
  const HelloMessage* h0 = first_hello(r);
  s += "# aicloudctl " + tool_version() + " nccl: " + std::to_string(r.ranks.size()) + " ranks on " +
       std::to_string(nodes.size()) + (nodes.size() == 1 ? " node" : " nodes") + "\n";
  s += "# NCCL " + (nh ? gpu::nccl_version_string(nh->nccl_version) + " (" + nh->nccl_library + ")" : std::string("?")) +
       ", CUDA runtime " + (h0 ? cuda_version_string(h0->cuda_runtime) : "?") + ", driver " +
       (h0 ? cuda_version_string(h0->cuda_driver) : "?") + "\n";
  const auto& plan = r.launch.plan;
  std::snprintf(buf, sizeof buf, "# sizes %zu (%llu..%llu B) warmup iters: %d iters: %d validation: %s\n",
                plan.sizes.size(), plan.sizes.empty() ? 0ull : static_cast<unsigned long long>(plan.sizes.front()),
                plan.sizes.empty() ? 0ull : static_cast<unsigned long long>(plan.sizes.back()), plan.warmup,
                plan.iterations, plan.check ? "every timed iteration" : "off");
  s += buf;
  for (const auto& rk : r.ranks) {
    std::string gpu = "?";
    if (rk.hello && rk.hello->gpu)
      gpu = "[" + rk.hello->gpu->pci_bus_id + "] " + rk.hello->gpu->name;
    else if (rk.hello)
      gpu = rk.hello->gpu_error;
    std::snprintf(buf, sizeof buf, "#  Rank %2d Pid %6ld on %10s device %2d %s\n", rk.spec.rank,
                  rk.hello ? rk.hello->pid : 0L, rk.hello ? rk.hello->host.c_str() : rk.spec.node.c_str(),
                  rk.spec.device, gpu.c_str());
    s += buf;
  }
  for (const auto& t : r.tests) {
    s += "#\n# " + std::string(name(t.spec.collective)) + "  (busbw = algbw x " +
         std::to_string(bus_factor(t.spec.collective, t.nranks)).substr(0, 6) + ")\n";
    std::snprintf(buf, sizeof buf, "# %10s  %12s  %8s  %6s  %6s           out-of-place                       in-place\n",
                  "", "", "", "", "");
    s += buf;
    std::snprintf(buf, sizeof buf, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s %6s  %7s  %6s  %6s %6s\n", "size",
                  "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw",
                  "#wrong");
    s += buf;
    std::snprintf(buf, sizeof buf, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %5s  %7s  %6s  %6s  %5s\n", "(B)",
                  "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
    s += buf;
    if (t.rows.empty()) s += "# (no row completed)\n";
    for (const auto& row : t.rows) {
      std::snprintf(buf, sizeof buf, "%12llu  %12llu  %8s  %6s  %6d", static_cast<unsigned long long>(row.size_bytes),
                    static_cast<unsigned long long>(row.count), std::string(name(t.spec.dtype)).c_str(),
                    uses_redop(t.spec.collective) ? std::string(name(t.spec.op)).c_str() : "none",
                    uses_root(t.spec.collective) ? t.spec.root : -1);
      s += buf + placement_cells(row.out_of_place) + placement_cells(row.in_place) + "\n";
    }
    if (verbose) {
      s += "#   per-iteration statistics (us): size placement median p5 p95 max cv%\n";
      for (const auto& row : t.rows)
        for (const auto* p : {&row.out_of_place, &row.in_place}) {
          if (!p->present) continue;
          std::snprintf(buf, sizeof buf, "#   %12llu %-12s %9.2f %9.2f %9.2f %9.2f %6.2f\n",
                        static_cast<unsigned long long>(row.size_bytes),
                        p == &row.out_of_place ? "out-of-place" : "in-place", p->stats.median, p->stats.p5,
                        p->stats.p95, p->stats.max, p->stats.cv * 100);
          s += buf;
        }
    }
    std::uint64_t wrong = 0;
    int rows_with_wrong = 0;
    for (const auto& row : t.rows) {
      wrong += row.out_of_place.wrong + row.in_place.wrong;
      rows_with_wrong += (row.out_of_place.wrong > 0) + (row.in_place.wrong > 0);
    }
    s += "# Wrong elements: " + std::to_string(wrong) + " (" + std::to_string(rows_with_wrong) +
         " row placements with errors)\n";
    for (const auto& row : t.rows)
      for (const auto* p : {&row.out_of_place, &row.in_place})
        if (p->first_wrong) {
          std::snprintf(buf, sizeof buf,
                        "#   first wrong at size %llu %s: rank %d iteration %d offset %llu expected %g got %g (0x%s)\n",
                        static_cast<unsigned long long>(row.size_bytes),
                        p == &row.out_of_place ? "out-of-place" : "in-place", p->first_wrong_rank,
                        p->first_wrong->iteration, static_cast<unsigned long long>(p->first_wrong->offset),
                        p->first_wrong->expected, p->first_wrong->actual, p->first_wrong->actual_hex.c_str());
          s += buf;
        }
    if (!t.rows.empty()) {
      const auto& last = t.rows.back();
      s += "# Largest size " + std::to_string(last.size_bytes) + " B: busbw";
      if (last.out_of_place.present) {
        std::snprintf(buf, sizeof buf, " out-of-place %.2f GB/s", last.out_of_place.bw.busbw_gbps);
        s += buf;
      }
      if (last.in_place.present) {
        std::snprintf(buf, sizeof buf, " in-place %.2f GB/s", last.in_place.bw.busbw_gbps);
        s += buf;
      }
      s += "\n";
    }
    std::string algos = algo_summary(t);
    if (!algos.empty()) s += "# NCCL chose (rank 0, warm-up): " + algos + "\n";
  }
  s += "# time = median of per-iteration times (slowest rank); --json has p5/p95/max/cv and every iteration\n";
  for (const auto& w : r.warnings) s += "# warning: " + w + "\n";
  for (const auto& p : r.problems) s += "# problem: " + p.message + "\n";
  for (const auto& st : r.stalled) s += "# stalled: " + st + "\n";
  s += "# Status: " + r.status + "\n";
  return s;
}

std::string format_dry_run(const RunReport& r) {
  std::string s;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-5s %-16s %-16s %-8s %-4s %-14s %-28s %-8s %s\n", "RANK", "NODE", "HOST", "PID",
                "GPU", "PCI", "NAME", "NCCL", "STATUS");
  s += buf;
  for (const auto& rk : r.ranks) {
    std::string host = rk.hello ? rk.hello->host : "-";
    std::string pid = rk.hello ? std::to_string(rk.hello->pid) : "-";
    std::string pci = rk.hello && rk.hello->gpu ? rk.hello->gpu->pci_bus_id : "-";
    std::string gname = rk.hello && rk.hello->gpu ? rk.hello->gpu->name : "-";
    std::string nccl = rk.hello && rk.hello->nccl_version ? gpu::nccl_version_string(rk.hello->nccl_version) : "-";
    std::string status = rank_status(rk);
    if (status == "ok" && rk.hello && (!rk.hello->gpu || !rk.hello->nccl_error.empty())) status = "ok (see problems)";
    std::snprintf(buf, sizeof buf, "%-5d %-16s %-16s %-8s %-4d %-14s %-28s %-8s %s\n", rk.spec.rank,
                  rk.spec.node.c_str(), host.c_str(), pid.c_str(), rk.spec.device, pci.c_str(), gname.c_str(),
                  nccl.c_str(), status.c_str());
    s += buf;
  }
  std::set<std::string> digests;
  int ready = 0;
  for (const auto& rk : r.ranks)
    if (rk.ready) {
      ++ready;
      digests.insert(rk.id_digest);
    }
  s += "unique id: " + std::to_string(ready) + "/" + std::to_string(r.ranks.size()) + " ranks received it";
  if (digests.size() == 1 && ready) s += " (sha256 " + digests.begin()->substr(0, 16) + "..., identical)";
  s += "\n";
  for (const auto& w : r.warnings) s += "warning: " + w + "\n";
  std::vector<Problem> problems = r.problems;
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) { return a.rank < b.rank; });
  for (const auto& p : problems) s += "problem: " + p.message + "\n";
  s += "dry run: " + r.status + "\n";
  return s;
}

}  // namespace aicloud::nccl_tests
