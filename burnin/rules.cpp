// Burn-in verdict rules (see rules.hpp for the principles).
#include "burnin/rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "burnin/plan.hpp"
#include "common/strings.hpp"

namespace aicloud::burnin {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pct(double fraction) { return fmt("%.0f%%", fraction * 100); }

std::string signal_name(int sig) {
  switch (sig) {
    case 6: return "SIGABRT";
    case 7: return "SIGBUS";
    case 9: return "SIGKILL";
    case 11: return "SIGSEGV";
    case 15: return "SIGTERM";
    default: return "signal " + std::to_string(sig);
  }
}

}  // namespace

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Judgement judge_outcome_error(const TestOutcome& o, const std::string& what) {
  Judgement j;
  if (!o.waived.empty()) {
    j.verdict = Verdict::waived;
    j.reasons.push_back(what + " does not apply here: " + o.waived);
    return j;
  }
  if (!o.error.empty()) {
    if (o.error_kind == "device")
      j.add(Verdict::fail, what + " failed on the GPU: " + o.error,
            "check the kernel log for XIDs, reset the GPU and re-run; RMA if it repeats");
    else if (o.error_kind == "interrupted")
      j.add(Verdict::incomplete, what + " was interrupted");
    else if (o.error_kind == "resource")
      j.add(Verdict::incomplete, what + " could not get the resources it needs: " + o.error,
            "stop other GPU processes (nvidia-smi) and re-run");
    else
      j.add(Verdict::incomplete, what + " could not run: " + o.error, "fix the setup and re-run");
    return j;
  }
  if (!o.ran) j.add(Verdict::incomplete, what + " did not run");
  return j;
}

Judgement judge_gemm(const GemmResult& r, const GemmPeers& peers) {
  Judgement j = judge_outcome_error(r, r.test);
  if (j.verdict == Verdict::waived) return j;
  // Wrong results count even when the test was cut short by an error.
  if (r.wrong_results > 0) {
    std::string detail = std::to_string(r.wrong_results) + " of " + std::to_string(r.iterations) +
                         " GEMM results differed from the exact product (" + std::to_string(r.bad_chunks) +
                         " bad 1024-element chunks, " + std::to_string(r.wrong_elements) +
                         (r.wrong_elements_complete ? "" : "+") + " wrong elements";
    if (!r.mismatches.empty()) {
      const auto& m = r.mismatches.front();
      detail += "; first at (" + std::to_string(m.row) + "," + std::to_string(m.col) + "): expected " +
                fmt("%.0f", m.expected) + ", got " + fmt("%.9g", m.actual);
    }
    detail += ")";
    j.add(Verdict::fail, detail, "silent data corruption: take the GPU out of service, re-run to confirm, RMA");
  }
  if (r.reference_mismatches > 0)
    j.add(Verdict::fail,
          "the GPU's reference product disagreed with the CPU at " + std::to_string(r.reference_mismatches) + " of " +
              std::to_string(r.reference_samples) + " sampled elements",
          "the integer units compute wrong results: RMA");
  if (!r.error.empty() || !r.ran) return j;
  if (r.iterations == 0) {
    j.add(Verdict::incomplete, r.test + ": no GEMM completed in the time given", "give burn-in more time");
    return j;
  }
  if (!peers.majority_hash.empty() && r.result_hash != peers.majority_hash)
    j.add(Verdict::fail,
          "result hash " + r.result_hash + " differs from the other GPUs' " + peers.majority_hash +
              " for the same inputs",
          "the GPU computed a different exact product: RMA");
  else if (peers.hash_tie)
    j.add(Verdict::warn, "the GPUs disagree on the exact product's hash and no majority exists",
          "re-run; compare with another node");
  if (peers.gpus >= 2 && peers.median_tflops > 0) {
    double f = r.tflops / peers.median_tflops;
    if (f < k_straggler_fail)
      j.add(Verdict::fail, r.test + " " + fmt("%.1f", r.tflops) + " TFLOP/s is " + pct(f) + " of the node median " +
                               fmt("%.1f", peers.median_tflops),
            "check clocks, power and cooling of this GPU (telemetry); reseat or RMA");
    else if (f < k_straggler_warn)
      j.add(Verdict::warn, r.test + " " + fmt("%.1f", r.tflops) + " TFLOP/s is " + pct(f) + " of the node median " +
                               fmt("%.1f", peers.median_tflops),
            "a straggler: check its clocks and temperature");
  }
  return j;
}

Judgement judge_memtest(const MemtestResult& r) {
  Judgement j = judge_outcome_error(r, "memtest");
  if (j.verdict == Verdict::waived) return j;
  if (r.bit_errors > 0 || r.word_errors > 0) {
    std::string detail = std::to_string(r.bit_errors) + " bit error(s) in " + std::to_string(r.word_errors) + " word(s)";
    if (!r.errors.empty()) {
      const auto& e = r.errors.front();
      detail += "; first at " + hex64(e.address) + " (" + e.pattern + "): expected " + hex64(e.expected) + ", read " +
                hex64(e.actual);
    }
    j.add(Verdict::fail, detail, "faulty HBM: check row remapping (health), reset and re-run; RMA if errors repeat");
  }
  if (!r.error.empty() || !r.ran) return j;
  if (r.passes == 0) j.add(Verdict::incomplete, "memtest completed no pass");
  if (r.coverage < k_memtest_coverage_warn)
    j.add(Verdict::warn, "memtest covered " + pct(r.coverage) + " of free memory (< " + pct(k_memtest_coverage_warn) + ")",
          "stop other GPU processes and re-run");
  return j;
}

Judgement judge_hbm(const HbmResult& r, double peak_gbps, double median_copy_gbps) {
  Judgement j = judge_outcome_error(r, "hbm");
  if (j.verdict == Verdict::waived) return j;
  if (r.mismatches > 0)
    j.add(Verdict::fail, std::to_string(r.mismatches) + " words copied wrongly", "faulty HBM or memory path: RMA");
  if (!r.error.empty() || !r.ran) return j;
  if (peak_gbps > 0) {
    double f = r.copy_gbps / peak_gbps;
    std::string what = "HBM copy " + fmt("%.0f", r.copy_gbps) + " GB/s is " + pct(f) + " of the theoretical " +
                       fmt("%.0f", peak_gbps) + " GB/s";
    if (f < k_hbm_peak_fail)
      j.add(Verdict::fail, what, "check memory clocks and HBM temperature; RMA if it stays low");
    else if (f < k_hbm_peak_warn)
      j.add(Verdict::warn, what, "check memory clocks and HBM temperature");
  }
  if (median_copy_gbps > 0 && r.copy_gbps < k_straggler_warn * median_copy_gbps)
    j.add(Verdict::warn, "HBM copy " + fmt("%.0f", r.copy_gbps) + " GB/s is " + pct(r.copy_gbps / median_copy_gbps) +
                             " of the node median",
          "a straggler: check memory clocks");
  return j;
}

Judgement judge_pcie_gpu(const PcieGpuResult& r, const gpu::GpuFacts& facts) {
  Judgement j;
  if (!r.error.empty()) {
    j.add(r.error_kind == "device" ? Verdict::fail : Verdict::incomplete, "pcie: " + r.error);
    return j;
  }
  if (r.mismatches > 0)
    j.add(Verdict::fail, std::to_string(r.mismatches) + " bytes came back wrong over PCIe",
          "reseat the GPU, check the riser/cable and AER errors in the kernel log");
  unsigned max_gen = facts.pcie.max_gen.value_or(0), max_width = facts.pcie.max_width.value_or(0);
  if (r.width_under_load && max_width && r.width_under_load < max_width)
    j.add(Verdict::fail,
          "PCIe link runs at x" + std::to_string(r.width_under_load) + " under load, x" + std::to_string(max_width) +
              " possible",
          "the link trained down: reseat the GPU/riser; RMA the riser or board if it stays");
  if (r.gen_under_load && max_gen && r.gen_under_load < max_gen)
    j.add(Verdict::warn,
          "PCIe link runs at gen " + std::to_string(r.gen_under_load) + " under load, gen " + std::to_string(max_gen) +
              " possible",
          "check BIOS PCIe settings and the riser");
  double expected = pcie_link_gbps(max_gen, max_width);
  if (expected > 0) {
    for (auto [name, rate] : {std::pair<const char*, double>{"host-to-device", r.h2d_gbps}, {"device-to-host", r.d2h_gbps}}) {
      double f = rate / expected;
      std::string what = std::string(name) + " " + fmt("%.1f", rate) + " GB/s is " + pct(f) + " of the gen " +
                         std::to_string(max_gen) + " x" + std::to_string(max_width) + " rate " + fmt("%.1f", expected) +
                         " GB/s";
      if (f < k_pcie_link_fail)
        j.add(Verdict::fail, what, "check the link width/generation, the riser and NUMA placement");
      else if (f < k_pcie_link_warn)
        j.add(Verdict::warn, what, "check the link and NUMA placement");
    }
  }
  return j;
}

Judgement judge_p2p(const P2PResult& r, const std::vector<const GpuRun*>& gpus) {
  Judgement j = judge_outcome_error(r, "p2p");
  if (j.verdict == Verdict::waived) return j;
  // Pair ends are NVML indices (the orchestrator maps the worker's positions).
  auto find = [&](int idx) -> const GpuRun* {
    for (const auto* g : gpus)
      if (g && int(g->index) == idx) return g;
    return nullptr;
  };
  auto label = [&](int idx) { return "GPU " + std::to_string(idx); };
  auto nvlinked = [&](int idx) {
    const GpuRun* g = find(idx);
    if (!g) return false;
    for (const auto& l : g->facts.nvlinks)
      if (l.active) return true;
    return false;
  };
  std::vector<double> rates;
  for (const auto& p : r.pairs)
    if (p.error.empty() && p.gbps > 0) rates.push_back(p.gbps);
  double med = median_of(rates);
  for (const auto& p : r.pairs) {
    std::string pair = label(p.src) + " -> " + label(p.dst);
    if (!p.error.empty()) {
      j.add(Verdict::fail, pair + ": " + p.error, "reset the GPUs; check NVLink/NVSwitch health");
      continue;
    }
    if (p.mismatches > 0)
      j.add(Verdict::fail, pair + ": " + std::to_string(p.mismatches) + " words arrived wrong",
            "faulty link: check NVLink error counters; RMA");
    if (!p.peer_access) {
      if (nvlinked(p.src) && nvlinked(p.dst))
        j.add(Verdict::fail, pair + ": no peer access although both GPUs have active NVLinks",
              "check the fabric manager and NVSwitches");
      else
        j.add(Verdict::warn, pair + ": no peer-to-peer access (copies go through host memory)",
              "expected on some PCIe platforms and VMs; enable P2P/ACS settings where the platform allows it");
    }
    if (med > 0 && p.gbps > 0) {
      double f = p.gbps / med;
      std::string what = pair + " " + fmt("%.1f", p.gbps) + " GB/s is " + pct(f) + " of the median pair " +
                         fmt("%.1f", med) + " GB/s";
      if (f < k_p2p_median_fail)
        j.add(Verdict::fail, what, "a slow link: check NVLink state and error counters of both GPUs");
      else if (f < k_p2p_median_warn)
        j.add(Verdict::warn, what, "an asymmetric link: check NVLink error counters");
    }
  }
  for (const auto& b : r.bidir)
    if (!b.error.empty()) j.add(Verdict::fail, label(b.a) + " <-> " + label(b.b) + ": " + b.error);
  return j;
}

Judgement judge_telemetry(const GpuSeries& s, const gpu::GpuFacts& facts, int stress_phase) {
  Judgement j;
  if (s.size() == 0) {
    j.add(Verdict::warn, "no telemetry samples were taken", "check NVML");
    return j;
  }
  struct Bit {
    std::uint64_t mask;
    const char* name;
    const char* fix;
  };
  const Bit bits[] = {
      {gpu::k_clock_hw_slowdown, "hardware slowdown", "check power supplies and cooling; RMA if it repeats"},
      {gpu::k_clock_hw_thermal, "hardware thermal slowdown", "check cooling and airflow"},
      {gpu::k_clock_hw_power_brake, "hardware power brake", "check the power supplies and the power-brake signal"},
      {gpu::k_clock_sw_thermal, "thermal slowdown", "check cooling and airflow"},
  };
  for (const auto& b : bits) {
    int count = 0;
    double first = -1;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s.phase[i] != stress_phase || !s.clock_events_known[i]) continue;
      if (s.clock_events[i] & b.mask) {
        if (count == 0) first = s.t[i];
        ++count;
      }
    }
    if (count)
      j.add(Verdict::fail,
            std::string(b.name) + " during the stress in " + std::to_string(count) + " sample(s), first at " +
                fmt("%.0f", first) + " s",
            b.fix);
  }
  double max_t = NAN, max_hbm = NAN;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!std::isnan(s.temp_gpu_c[i])) max_t = std::isnan(max_t) ? s.temp_gpu_c[i] : std::max(max_t, s.temp_gpu_c[i]);
    if (!std::isnan(s.temp_hbm_c[i])) max_hbm = std::isnan(max_hbm) ? s.temp_hbm_c[i] : std::max(max_hbm, s.temp_hbm_c[i]);
  }
  if (!std::isnan(max_t) && facts.temp_slowdown.ok()) {
    double lim = *facts.temp_slowdown;
    if (max_t >= lim)
      j.add(Verdict::fail, "GPU reached " + fmt("%.0f", max_t) + " C, its slowdown threshold is " + fmt("%.0f", lim) + " C",
            "check cooling and airflow");
    else if (max_t + k_temp_margin_c >= lim)
      j.add(Verdict::warn, "GPU reached " + fmt("%.0f", max_t) + " C, within " + std::to_string(k_temp_margin_c) +
                               " C of its slowdown threshold",
            "check cooling and airflow");
  }
  if (!std::isnan(max_hbm) && facts.temp_mem_max.ok()) {
    double lim = *facts.temp_mem_max;
    if (max_hbm >= lim)
      j.add(Verdict::fail, "HBM reached " + fmt("%.0f", max_hbm) + " C, its limit is " + fmt("%.0f", lim) + " C",
            "check cooling and airflow");
    else if (max_hbm + k_temp_margin_c >= lim)
      j.add(Verdict::warn, "HBM reached " + fmt("%.0f", max_hbm) + " C, within " + std::to_string(k_temp_margin_c) +
                               " C of its limit",
            "check cooling and airflow");
  }
  return j;
}

Judgement judge_counters(const gpu::GpuCounters& b, const gpu::GpuCounters& a, bool after_read) {
  Judgement j;
  if (!after_read) {
    j.add(Verdict::incomplete, "the counters could not be read after the run");
    return j;
  }
  if (a.remap.gpu_lost() || a.pcie_replay.gpu_lost()) {
    j.add(Verdict::fail, "the GPU stopped answering NVML after the run: " + (a.remap.error.empty() ? a.pcie_replay.error : a.remap.error),
          "the GPU may have fallen off the bus: check the kernel log, reboot; RMA if it repeats");
    return j;
  }
  auto delta = [](const gpu::Reading<std::uint64_t>& x, const gpu::Reading<std::uint64_t>& y) -> std::uint64_t {
    if (!x.ok() || !y.ok() || *y < *x) return 0;
    return *y - *x;
  };
  std::uint64_t unc = std::max(delta(b.ecc.volatile_uncorrected, a.ecc.volatile_uncorrected),
                               delta(b.ecc.aggregate_uncorrected, a.ecc.aggregate_uncorrected));
  std::uint64_t cor = std::max(delta(b.ecc.volatile_corrected, a.ecc.volatile_corrected),
                               delta(b.ecc.aggregate_corrected, a.ecc.aggregate_corrected));
  if (unc)
    j.add(Verdict::fail, std::to_string(unc) + " new uncorrectable ECC error(s) during the run",
          "reset the GPU, check row remapping, re-run; RMA if they return");
  if (cor)
    j.add(Verdict::warn, std::to_string(cor) + " new corrected ECC error(s) during the run",
          "watch the rate; re-run a longer burn-in");
  if (a.remap.ok()) {
    if (a.remap->failure && !(b.remap.ok() && b.remap->failure))
      j.add(Verdict::fail, "a row remapping failed during the run", "RMA the GPU");
    if (a.remap->pending && !(b.remap.ok() && b.remap->pending))
      j.add(Verdict::fail, "a row remapping became pending during the run", "reset the GPU, then re-run burn-in");
    if (b.remap.ok() && a.remap->uncorrected_rows > b.remap->uncorrected_rows)
      j.add(Verdict::fail,
            std::to_string(a.remap->uncorrected_rows - b.remap->uncorrected_rows) +
                " row(s) remapped for uncorrectable errors during the run",
            "reset the GPU and re-run; RMA if it repeats");
    if (b.remap.ok() && a.remap->corrected_rows > b.remap->corrected_rows)
      j.add(Verdict::warn,
            std::to_string(a.remap->corrected_rows - b.remap->corrected_rows) +
                " row(s) remapped for correctable errors during the run");
  }
  if (a.retired.ok() && b.retired.ok()) {
    if (a.retired->double_bit > b.retired->double_bit)
      j.add(Verdict::fail, "pages retired for double-bit errors during the run", "reboot and re-run; RMA if it repeats");
    if (a.retired->single_bit > b.retired->single_bit) j.add(Verdict::warn, "pages retired for single-bit errors during the run");
    if (a.retired->pending && !b.retired->pending)
      j.add(Verdict::fail, "a page retirement became pending during the run", "reboot, then re-run");
  }
  if (a.pcie_replay.ok() && b.pcie_replay.ok() && *a.pcie_replay > *b.pcie_replay)
    j.add(Verdict::warn, std::to_string(*a.pcie_replay - *b.pcie_replay) + " PCIe replays during the run",
          "a marginal PCIe link: reseat the GPU/riser");
  std::map<unsigned, const gpu::NvLinkFacts*> before_links;
  for (const auto& l : b.nvlinks) before_links[l.link] = &l;
  for (const auto& l : a.nvlinks) {
    auto it = before_links.find(l.link);
    if (it == before_links.end()) continue;
    const auto& x = *it->second;
    if (x.active && !l.active)
      j.add(Verdict::fail, "NVLink " + std::to_string(l.link) + " went down during the run",
            "check the NVSwitch/fabric manager; reset; RMA the baseboard if it repeats");
    std::uint64_t crc = delta(x.crc_flit, l.crc_flit) + delta(x.crc_data, l.crc_data);
    std::uint64_t rep = delta(x.replay, l.replay), rec = delta(x.recovery, l.recovery);
    if (crc + rep + rec)
      j.add(Verdict::warn,
            "NVLink " + std::to_string(l.link) + ": " + std::to_string(crc) + " CRC, " + std::to_string(rep) +
                " replay, " + std::to_string(rec) + " recovery errors during the run",
            "watch whether they keep growing; reseat/RMA if they do");
  }
  return j;
}

Judgement judge_run_xids(const std::vector<XidEvent>& xids, const std::vector<gpu::NvmlEvent>& events) {
  Judgement j;
  std::map<int, int> seen;
  for (const auto& e : xids) seen[e.xid]++;
  for (const auto& e : events)
    if (e.kind == "xid") seen[static_cast<int>(e.xid)] = std::max(seen[static_cast<int>(e.xid)], 1);
  for (const auto& [xid, count] : seen) {
    XidInfo info = classify_xid(xid);
    std::string what = "XID " + std::to_string(xid) + " (" + info.description + ") during the run" +
                       (count > 1 ? " (" + std::to_string(count) + " times)" : "");
    // During a burn-in every XID on the tested GPU comes from our own
    // kernels or the hardware, so even "application" XIDs are faults.
    j.add(info.cls == XidClass::other ? Verdict::warn : Verdict::fail, what, info.remediation);
  }
  int dbe = 0, sbe = 0;
  for (const auto& e : events) {
    dbe += e.kind == "dbe";
    sbe += e.kind == "sbe";
  }
  if (dbe) j.add(Verdict::fail, std::to_string(dbe) + " double-bit ECC event(s) during the run", "reset the GPU; RMA if it repeats");
  if (sbe) j.add(Verdict::warn, std::to_string(sbe) + " single-bit ECC event(s) during the run");
  return j;
}

Judgement judge_missing(const GpuRun& g, const WorkerEnd& w, const std::string& test) {
  Judgement j;
  if (!g.blocked.empty()) {
    j.add(Verdict::incomplete, test + " not run: " + g.blocked);
    return j;
  }
  if (!w.started) {
    j.add(Verdict::incomplete, test + " not run: the worker could not start: " + w.start_error);
    return j;
  }
  if (!w.fatal.empty()) {
    j.add(w.fatal_kind == "device" ? Verdict::fail : Verdict::incomplete, test + " not run: " + w.fatal,
          w.fatal_kind == "device" ? "reset the GPU or reboot; RMA if it repeats" : "");
    return j;
  }
  if (w.interrupted) {
    j.add(Verdict::incomplete, test + " not run: interrupted");
    return j;
  }
  std::string when = w.last_test.empty() ? "" : " during " + w.last_test;
  if (w.hung) {
    j.add(Verdict::fail, test + " has no result: the GPU's worker stopped responding" + when + " and was killed",
          "a GPU hang: check the kernel log for XIDs, reset the GPU; RMA if it repeats");
  } else if (w.timed_out) {
    j.add(Verdict::fail, test + " has no result: the worker ran past the deadline" + when,
          "check the kernel log for XIDs and re-run");
  } else if (w.signal) {
    j.add(Verdict::fail, test + " has no result: the worker died by " + signal_name(w.signal) + when +
                             (w.stderr_tail.empty() ? "" : ": " + w.stderr_tail),
          "check the kernel log for XIDs; re-run");
  } else if (w.exited && w.exit_code != 0) {
    j.add(Verdict::fail, test + " has no result: the worker exited with status " + std::to_string(w.exit_code) + when +
                             (w.stderr_tail.empty() ? "" : ": " + w.stderr_tail));
  } else {
    j.add(Verdict::incomplete, test + " has no result" + when);
  }
  return j;
}

RunVerdict judge_run(const RunRecord& run) {
  RunVerdict rv;
  if (!run.nvml_error.empty())
    rv.overall.add(Verdict::fail, run.nvml_error, "check the NVIDIA driver and that the GPUs are visible (nvidia-smi)");
  if (!run.cuda_error.empty()) rv.overall.add(Verdict::fail, run.cuda_error);
  if (run.gpus.empty() && run.nvml_error.empty()) rv.overall.add(Verdict::fail, "no GPU to test");
  // Nothing ran: the missing library is the whole story.
  if (!run.nvml_error.empty()) return rv;
  // Peers of each GEMM plan, for the straggler and hash rules.
  std::map<std::string, std::vector<const GemmResult*>> by_plan;
  for (const auto& g : run.gpus)
    for (const auto& [name, r] : g.gemm)
      if (r.ran && r.error.empty() && r.iterations > 0)
        by_plan[name + ":" + std::to_string(r.m) + "x" + std::to_string(r.n) + "x" + std::to_string(r.k) + ":" +
                std::to_string(r.range) + ":" + hex64(r.seed)]
            .push_back(&r);
  auto peers_of = [&](const GemmResult& r) {
    GemmPeers p;
    auto it = by_plan.find(r.test + ":" + std::to_string(r.m) + "x" + std::to_string(r.n) + "x" + std::to_string(r.k) +
                           ":" + std::to_string(r.range) + ":" + hex64(r.seed));
    if (it == by_plan.end()) return p;
    std::vector<double> rates;
    std::map<std::string, int> hashes;
    for (const auto* x : it->second) {
      rates.push_back(x->tflops);
      hashes[x->result_hash]++;
    }
    p.gpus = it->second.size();
    p.median_tflops = median_of(rates);
    int best = 0, n_best = 0;
    for (const auto& [h, c] : hashes) {
      if (c > best) {
        best = c;
        n_best = 1;
        p.majority_hash = h;
      } else if (c == best) {
        ++n_best;
      }
    }
    if (n_best > 1 || p.gpus < 2) {
      p.hash_tie = n_best > 1;
      p.majority_hash.clear();
    }
    return p;
  };
  std::vector<double> copies;
  for (const auto& g : run.gpus)
    if (g.hbm && g.hbm->ran && g.hbm->error.empty()) copies.push_back(g.hbm->copy_gbps);
  double median_copy = copies.size() >= 2 ? median_of(copies) : 0;
  int stress_phase = -1;
  for (std::size_t i = 0; i < run.phase_names.size(); ++i)
    if (run.phase_names[i] == "stress") stress_phase = int(i);

  for (const auto& g : run.gpus) {
    GpuVerdict gv;
    gv.index = g.index;
    for (const auto& f : g.preflight)
      if (f.verdict == Verdict::fail) gv.overall.add(Verdict::fail, "preflight: " + f.reason, f.remediation);
    for (const auto& test : g.tests) {
      TestVerdict tv;
      tv.test = test;
      if (is_gemm_test(test)) {
        auto it = g.gemm.find(test);
        tv.judgement = it != g.gemm.end() ? judge_gemm(it->second, peers_of(it->second)) : judge_missing(g, g.worker, test);
      } else if (test == "memtest") {
        tv.judgement = g.memtest ? judge_memtest(*g.memtest) : judge_missing(g, g.worker, test);
      } else if (test == "hbm") {
        double peak = hbm_peak_gbps(g.facts.max_mem_clock_mhz.value_or(0), g.facts.memory_bus_width_bits.value_or(0));
        tv.judgement = g.hbm ? judge_hbm(*g.hbm, peak, median_copy) : judge_missing(g, g.worker, test);
      } else if (test == "pcie") {
        if (g.pcie)
          tv.judgement = judge_pcie_gpu(*g.pcie, g.facts);
        else
          tv.judgement = judge_missing(g, run.node_worker, test);
      }
      gv.overall.merge(tv.judgement);
      gv.tests.push_back(std::move(tv));
    }
    if (g.blocked.empty()) {
      TestVerdict tel{"telemetry", judge_telemetry(g.series, g.facts, stress_phase)};
      TestVerdict cnt{"counters", judge_counters(g.before, g.after, g.after_read)};
      TestVerdict xid{"xid", judge_run_xids(g.xids, g.nvml_events)};
      for (auto* tv : {&tel, &cnt, &xid}) {
        gv.overall.merge(tv->judgement);
        gv.tests.push_back(*tv);
      }
    } else {
      gv.overall.add(Verdict::incomplete, g.blocked);
    }
    rv.overall.verdict = worst(rv.overall.verdict, gv.overall.verdict);
    for (const auto& r : gv.overall.reasons)
      if (gv.overall.verdict != Verdict::pass) rv.overall.reasons.push_back("GPU " + std::to_string(g.index) + ": " + r);
    rv.gpus.push_back(std::move(gv));
  }
  bool want_p2p = run.cuda_error.empty() && std::find(run.tests.begin(), run.tests.end(), "p2p") != run.tests.end();
  if (want_p2p) {
    TestVerdict tv;
    tv.test = "p2p";
    std::vector<const GpuRun*> order;
    for (const auto& g : run.gpus)
      if (g.blocked.empty()) order.push_back(&g);
    if (run.p2p) {
      tv.judgement = judge_p2p(*run.p2p, order);
    } else if (order.size() < 2) {
      tv.judgement.verdict = Verdict::waived;
      tv.judgement.reasons.push_back("peer-to-peer needs at least two GPUs");
    } else {
      GpuRun none;
      tv.judgement = judge_missing(none, run.node_worker, "p2p");
    }
    rv.overall.verdict = worst(rv.overall.verdict, tv.judgement.verdict);
    if (tv.judgement.verdict != Verdict::pass && tv.judgement.verdict != Verdict::waived)
      for (const auto& r : tv.judgement.reasons) rv.overall.reasons.push_back("p2p: " + r);
    for (const auto& f : tv.judgement.remediation) rv.overall.remediation.push_back(f);
    rv.node.push_back(std::move(tv));
  }
  if (run.cuda_error.empty() && !run.log_before.available && !run.nvml_events_available)
    rv.overall.add(Verdict::warn,
                   "XID history unavailable: " + run.log_before.error +
                       (run.nvml_events_error.empty() ? "" : "; NVML events: " + run.nvml_events_error),
                   "run as root, or allow reading the kernel log");
  if (run.interrupted) rv.overall.add(Verdict::incomplete, "the run was interrupted");
  return rv;
}

}  // namespace aicloud::burnin
