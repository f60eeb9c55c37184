// Burn-in report building (see report.hpp).
#include "burnin/report.hpp"

#include <cmath>
#include <cstdio>

#include "burnin/facts_json.hpp"
#include "burnin/plan.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"

namespace aicloud::burnin {

using nlohmann::json;

namespace {

json column(const std::vector<double>& v, double scale = 10) {
  json a = json::array();
  for (double x : v) {
    if (std::isnan(x))
      a.push_back(nullptr);
    else
      a.push_back(std::round(x * scale) / scale);
  }
  return a;
}

json judgement_json(const Judgement& j) {
  return {{"verdict", to_string(j.verdict)}, {"reasons", j.reasons}, {"remediation", j.remediation}};
}

std::string f1(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}
std::string f0(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

json worker_json(const WorkerEnd& w) {
  return {{"started", w.started},     {"start_error", w.start_error}, {"exited", w.exited},
          {"exit_code", w.exit_code}, {"signal", w.signal},           {"hung", w.hung},
          {"timed_out", w.timed_out}, {"interrupted", w.interrupted}, {"last_test", w.last_test},
          {"fatal", w.fatal},         {"stderr_tail", w.stderr_tail}};
}

}  // namespace

json series_to_json(const GpuSeries& s, const std::vector<std::string>& phase_names) {
  json j;
  j["phases"] = phase_names;
  j["t"] = column(s.t, 100);
  j["phase"] = s.phase;
  j["power_w"] = column(s.power_w);
  j["temp_gpu_c"] = column(s.temp_gpu_c, 1);
  j["temp_hbm_c"] = column(s.temp_hbm_c, 1);
  j["sm_clock_mhz"] = column(s.sm_clock_mhz, 1);
  j["mem_clock_mhz"] = column(s.mem_clock_mhz, 1);
  j["pcie_gen"] = column(s.pcie_gen, 1);
  j["pcie_width"] = column(s.pcie_width, 1);
  j["util_pct"] = column(s.util_pct, 1);
  json ev = json::array();
  for (std::size_t i = 0; i < s.size(); ++i) ev.push_back(s.clock_events_known[i] ? json(s.clock_events[i]) : json(nullptr));
  j["clock_event_reasons"] = ev;
  return j;
}

json series_summary(const GpuSeries& s, int phase) {
  double max_t = NAN, max_hbm = NAN, max_p = NAN, sum_p = 0, sum_clk = 0, min_clk = NAN;
  int n_p = 0, n_clk = 0, samples = 0;
  std::uint64_t reasons = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.phase[i] != phase) continue;
    ++samples;
    auto upd_max = [](double& m, double v) {
      if (!std::isnan(v)) m = std::isnan(m) ? v : std::max(m, v);
    };
    upd_max(max_t, s.temp_gpu_c[i]);
    upd_max(max_hbm, s.temp_hbm_c[i]);
    upd_max(max_p, s.power_w[i]);
    if (!std::isnan(s.power_w[i])) {
      sum_p += s.power_w[i];
      ++n_p;
    }
    if (!std::isnan(s.sm_clock_mhz[i])) {
      sum_clk += s.sm_clock_mhz[i];
      ++n_clk;
      min_clk = std::isnan(min_clk) ? s.sm_clock_mhz[i] : std::min(min_clk, s.sm_clock_mhz[i]);
    }
    if (s.clock_events_known[i]) reasons |= s.clock_events[i];
  }
  auto num = [](double v) { return std::isnan(v) ? json(nullptr) : json(std::round(v * 10) / 10); };
  return {{"samples", samples},
          {"max_temp_gpu_c", num(max_t)},
          {"max_temp_hbm_c", num(max_hbm)},
          {"max_power_w", num(max_p)},
          {"mean_power_w", n_p ? num(sum_p / n_p) : json(nullptr)},
          {"mean_sm_clock_mhz", n_clk ? num(sum_clk / n_clk) : json(nullptr)},
          {"min_sm_clock_mhz", num(min_clk)},
          {"clock_event_reasons_seen", gpu::clock_event_reason_names(reasons)}};
}

json run_to_json(const RunRecord& run, const RunVerdict& v) {
  json j;
  j["schema"] = "aicloudctl.burnin/1";
  j["tool"] = {{"name", "aicloudctl"}, {"version", tool_version()}, {"cuda_build", built_with_cuda()}};
  j["host"] = run.host;
  j["started"] = run.started;
  j["finished"] = run.finished;
  j["requested"] = {{"duration_s", run.requested_s}, {"tests", run.tests}};
  j["elapsed_s"] = std::round(run.elapsed_s * 10) / 10;
  json versions = json::object();
  for (const auto& [k, val] : run.versions) versions[k] = val;
  j["versions"] = versions;
  j["verdict"] = to_string(v.overall.verdict);
  j["reasons"] = v.overall.reasons;
  j["remediation"] = v.overall.remediation;
  j["interrupted"] = run.interrupted;
  if (!run.nvml_error.empty()) j["nvml_error"] = run.nvml_error;
  if (!run.cuda_error.empty()) j["cuda_error"] = run.cuda_error;
  int stress = 1;
  for (std::size_t i = 0; i < run.phase_names.size(); ++i)
    if (run.phase_names[i] == "stress") stress = int(i);
  json gpus = json::array();
  for (std::size_t gi = 0; gi < run.gpus.size(); ++gi) {
    const GpuRun& g = run.gpus[gi];
    const GpuVerdict* gv = gi < v.gpus.size() ? &v.gpus[gi] : nullptr;
    json gj;
    gj["index"] = g.index;
    gj["name"] = g.facts.name.value_or("");
    gj["uuid"] = g.facts.uuid.value_or("");
    gj["serial"] = g.facts.serial.value_or("");
    gj["pci_bus_id"] = g.facts.pci_bus_id.value_or("");
    gj["vbios"] = g.facts.vbios.value_or("");
    if (gv) {
      gj["verdict"] = to_string(gv->overall.verdict);
      gj["reasons"] = gv->overall.reasons;
      gj["remediation"] = gv->overall.remediation;
    }
    gj["blocked"] = g.blocked;
    gj["device"] = g.device_info.is_null() ? json::object() : g.device_info;
    json tests = json::array();
    if (gv) {
      for (const auto& tv : gv->tests) {
        json t = judgement_json(tv.judgement);
        t["name"] = tv.test;
        if (is_gemm_test(tv.test)) {
          auto it = g.gemm.find(tv.test);
          t["result"] = it != g.gemm.end() ? to_json(it->second) : json(nullptr);
        } else if (tv.test == "memtest") {
          t["result"] = g.memtest ? to_json(*g.memtest) : json(nullptr);
        } else if (tv.test == "hbm") {
          json r = g.hbm ? to_json(*g.hbm) : json(nullptr);
          double peak = hbm_peak_gbps(g.facts.max_mem_clock_mhz.value_or(0), g.facts.memory_bus_width_bits.value_or(0));
          if (g.hbm) r["peak_gbps"] = peak > 0 ? json(std::round(peak)) : json(nullptr);
          t["result"] = r;
        } else if (tv.test == "pcie") {
          if (g.pcie) {
            PcieResult one;
            one.gpus.push_back(*g.pcie);
            json r = to_json(one)["gpus"][0];
            r["link_max_gen"] = g.facts.pcie.max_gen.ok() ? json(*g.facts.pcie.max_gen) : json(nullptr);
            r["link_max_width"] = g.facts.pcie.max_width.ok() ? json(*g.facts.pcie.max_width) : json(nullptr);
            r["link_gbps"] = pcie_link_gbps(g.facts.pcie.max_gen.value_or(0), g.facts.pcie.max_width.value_or(0));
            t["result"] = r;
          } else {
            t["result"] = nullptr;
          }
        } else if (tv.test == "telemetry") {
          t["result"] = series_summary(g.series, stress);
        } else if (tv.test == "counters") {
          t["result"] = {{"before", counters_to_json(g.before)}, {"after", counters_to_json(g.after)}};
        } else if (tv.test == "xid") {
          json ev = json::array();
          for (const auto& e : g.xids)
            ev.push_back({{"source", "kernel_log"}, {"xid", e.xid}, {"class", to_string(classify_xid(e.xid).cls)},
                          {"message", e.message}});
          for (const auto& e : g.nvml_events) ev.push_back({{"source", "nvml"}, {"kind", e.kind}, {"xid", e.xid}});
          t["result"] = {{"events", ev}};
        }
        tests.push_back(t);
      }
    }
    gj["tests"] = tests;
    gj["worker"] = worker_json(g.worker);
    gj["preflight"] = json::array();
    for (const auto& f : g.preflight)
      gj["preflight"].push_back(
          {{"check", f.check}, {"verdict", to_string(f.verdict)}, {"reason", f.reason}, {"remediation", f.remediation}});
    gj["telemetry"] = series_to_json(g.series, run.phase_names);
    gpus.push_back(gj);
  }
  j["gpus"] = gpus;
  json node = json::array();
  for (const auto& tv : v.node) {
    json t = judgement_json(tv.judgement);
    t["name"] = tv.test;
    if (tv.test == "p2p") t["result"] = run.p2p ? to_json(*run.p2p) : json(nullptr);
    node.push_back(t);
  }
  if (run.pcie) {
    json t = {{"name", "pcie-all"}, {"verdict", "PASS"}, {"reasons", json::array()}, {"remediation", json::array()}};
    t["result"] = {{"h2d_total_gbps", run.pcie->all_h2d_total_gbps}, {"d2h_total_gbps", run.pcie->all_d2h_total_gbps},
                   {"bytes", run.pcie->bytes}};
    node.push_back(t);
  }
  j["node_tests"] = node;
  j["node_worker"] = run.node_worker_ran ? worker_json(run.node_worker) : json(nullptr);
  j["xid"] = {{"kernel_log", {{"available", run.log_before.available}, {"source", run.log_before.source},
                              {"error", run.log_before.error}}},
              {"nvml_events", {{"available", run.nvml_events_available}, {"error", run.nvml_events_error}}}};
  return j;
}

std::string run_to_text(const RunRecord& run, const RunVerdict& v, bool verbose) {
  std::string s;
  s += paint(Color::bold, "GPU burn-in of " + run.host) + "  " + std::to_string(run.gpus.size()) + " GPU(s), " +
       f0(run.requested_s) + " s requested, " + f0(run.elapsed_s) + " s elapsed; tests " + join(run.tests, ",") + "\n";
  if (!run.versions.empty()) {
    std::vector<std::string> parts;
    for (const auto& [k, val] : run.versions)
      if (k != "cublaslt_path" && k != "cublaslt_error") parts.push_back(k + " " + val);
    s += "  " + join(parts, ", ") + "\n";
  }
  auto line = [&](const std::string& name, const Judgement& j, const std::string& detail) {
    std::string vt = to_string(j.verdict);
    s += "  " + name + std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') + paint_verdict(vt) +
         std::string(vt.size() < 11 ? 11 - vt.size() : 1, ' ') + detail + "\n";
    if (j.verdict != Verdict::pass || verbose)
      for (const auto& r : j.reasons) s += "              - " + r + "\n";
    if (j.verdict != Verdict::pass)
      for (const auto& f : j.remediation) s += "              fix: " + f + "\n";
  };
  int stress = 1;
  for (std::size_t i = 0; i < run.phase_names.size(); ++i)
    if (run.phase_names[i] == "stress") stress = int(i);
  for (std::size_t gi = 0; gi < run.gpus.size() && gi < v.gpus.size(); ++gi) {
    const GpuRun& g = run.gpus[gi];
    const GpuVerdict& gv = v.gpus[gi];
    s += "GPU " + std::to_string(g.index) + "  " + g.facts.name.value_or("?") + "  " + g.facts.pci_bus_id.value_or("?") +
         "  " + paint_verdict(to_string(gv.overall.verdict)) + "\n";
    if (!g.blocked.empty()) s += "  not tested: " + g.blocked + "\n";
    for (const auto& tv : gv.tests) {
      std::string d;
      if (is_gemm_test(tv.test)) {
        auto it = g.gemm.find(tv.test);
        if (it != g.gemm.end() && it->second.ran)
          d = f1(it->second.tflops) + " TFLOP/s sustained (" + f1(it->second.tflops_gemm_only) + " GEMM only), " +
              std::to_string(it->second.iterations) + " GEMMs verified, " + std::to_string(it->second.wrong_results) +
              " wrong";
      } else if (tv.test == "memtest" && g.memtest && g.memtest->ran) {
        d = format_bytes(g.memtest->tested_bytes) + " (" + f1(g.memtest->coverage * 100) + "% of free), " +
            std::to_string(g.memtest->passes) + " passes, " + std::to_string(g.memtest->bit_errors) + " bit errors";
      } else if (tv.test == "hbm" && g.hbm && g.hbm->ran) {
        d = "copy " + f0(g.hbm->copy_gbps) + " GB/s, triad " + f0(g.hbm->triad_gbps) + " GB/s, memcpy " +
            f0(g.hbm->memcpy_gbps) + " GB/s";
        double peak = hbm_peak_gbps(g.facts.max_mem_clock_mhz.value_or(0), g.facts.memory_bus_width_bits.value_or(0));
        if (peak > 0) d += " (peak " + f0(peak) + ")";
      } else if (tv.test == "pcie" && g.pcie) {
        d = "H2D " + f1(g.pcie->h2d_gbps) + " GB/s, D2H " + f1(g.pcie->d2h_gbps) + " GB/s, both " +
            f1(g.pcie->bidir_gbps) + " GB/s";
        if (g.pcie->gen_under_load)
          d += " (gen " + std::to_string(g.pcie->gen_under_load) + " x" + std::to_string(g.pcie->width_under_load) + ")";
      } else if (tv.test == "telemetry") {
        json sum = series_summary(g.series, stress);
        auto num = [&](const char* k) { return sum[k].is_null() ? std::string("?") : f0(sum[k].get<double>()); };
        d = "max " + num("max_temp_gpu_c") + " C GPU / " + num("max_temp_hbm_c") + " C HBM, max " + num("max_power_w") +
            " W, mean SM clock " + num("mean_sm_clock_mhz") + " MHz";
      } else if (tv.test == "counters") {
        d = tv.judgement.verdict == Verdict::pass ? "no new ECC, remap, PCIe replay or NVLink errors" : "";
      } else if (tv.test == "xid") {
        d = tv.judgement.verdict == Verdict::pass ? "no XID during the run" : "";
      }
      line(tv.test, tv.judgement, d);
    }
  }
  for (const auto& tv : v.node) {
    std::string d;
    if (tv.test == "p2p" && run.p2p && run.p2p->ran) {
      std::vector<double> rates;
      for (const auto& p : run.p2p->pairs) rates.push_back(p.gbps);
      d = std::to_string(run.p2p->pairs.size()) + " pairs, median " + f1(median_of(rates)) + " GB/s one way";
    }
    line(tv.test, tv.judgement, d);
  }
  if (run.pcie)
    s += "  all GPUs at once: H2D " + f1(run.pcie->all_h2d_total_gbps) + " GB/s, D2H " +
         f1(run.pcie->all_d2h_total_gbps) + " GB/s in total\n";
  if (!run.log_before.available && !run.log_before.error.empty())
    s += "  kernel log: " + run.log_before.error + (run.nvml_events_available ? " (NVML XID events were watched)" : "") + "\n";
  s += "Verdict: " + paint_verdict(to_string(v.overall.verdict)) + "\n";
  if (v.overall.verdict != Verdict::pass && v.overall.verdict != Verdict::waived)
    for (const auto& r : v.overall.reasons) s += "  - " + r + "\n";
  return s;
}

}  // namespace aicloud::burnin
