// Burn-in verdict rules. Pure functions of a RunRecord (run.hpp), unit-tested
// with hand-built records. The thresholds are documented in
// docs/gpu-health.md; the principles:
//   - a wrong bit (GEMM result, memory word, copied byte) is a FAIL;
//   - a GPU error (launch failure, ECC, hang, dead worker) is a FAIL;
//   - a test that could not run as designed (no memory, no library, Ctrl-C)
//     is INCOMPLETE, never PASS; one that does not apply here is WAIVED;
//   - new uncorrectable ECC errors, remap failures/pendings and hardware
//     XIDs during the run are FAILs; hardware, thermal or power-brake
//     slowdowns during the stress phase are FAILs;
//   - performance is judged against physics where NVML gives the peak (HBM,
//     PCIe) and against the node's other GPUs (stragglers).
#pragma once

#include <string>
#include <vector>

#include "burnin/run.hpp"
#include "burnin/verdict.hpp"

namespace aicloud::burnin {

// Thresholds.
constexpr double k_straggler_warn = 0.95;    // below 95% of the node median: WARN
constexpr double k_straggler_fail = 0.80;    // below 80%: FAIL
constexpr double k_hbm_peak_warn = 0.75;     // copy below 75% of the theoretical peak: WARN
constexpr double k_hbm_peak_fail = 0.60;     // below 60%: FAIL
constexpr double k_pcie_link_warn = 0.70;    // below 70% of the link's rate: WARN
constexpr double k_pcie_link_fail = 0.50;    // below 50%: FAIL
constexpr double k_p2p_median_warn = 0.80;   // a pair below 80% of the median pair: WARN
constexpr double k_p2p_median_fail = 0.50;   // below 50%: FAIL
constexpr double k_memtest_coverage_warn = 0.90;
constexpr unsigned k_temp_margin_c = 5;      // within 5 C of the slowdown threshold under load: WARN

struct TestVerdict {
  std::string test;
  Judgement judgement;
};

struct GpuVerdict {
  unsigned index = 0;
  Judgement overall;
  std::vector<TestVerdict> tests;  // per-GPU tests, then telemetry, counters, xid
};

struct RunVerdict {
  Judgement overall;
  std::vector<GpuVerdict> gpus;
  std::vector<TestVerdict> node;  // p2p, and the node-wide PCIe figures
};

// Peer context for one GEMM: the median TFLOP/s and the majority result hash
// of the GPUs that ran the same plan.
struct GemmPeers {
  double median_tflops = 0;
  std::size_t gpus = 0;
  std::string majority_hash;
  bool hash_tie = false;
};

Judgement judge_outcome_error(const TestOutcome& o, const std::string& what);
Judgement judge_gemm(const GemmResult& r, const GemmPeers& peers);
Judgement judge_memtest(const MemtestResult& r);
Judgement judge_hbm(const HbmResult& r, double peak_gbps, double median_copy_gbps);
Judgement judge_pcie_gpu(const PcieGpuResult& r, const gpu::GpuFacts& facts);
Judgement judge_p2p(const P2PResult& r, const std::vector<const GpuRun*>& gpus);
Judgement judge_telemetry(const GpuSeries& s, const gpu::GpuFacts& facts, int stress_phase);
Judgement judge_counters(const gpu::GpuCounters& before, const gpu::GpuCounters& after, bool after_read);
Judgement judge_run_xids(const std::vector<XidEvent>& xids, const std::vector<gpu::NvmlEvent>& events);
// A test that has no result: why (worker died, hung, timed out, blocked).
Judgement judge_missing(const GpuRun& g, const WorkerEnd& w, const std::string& test);

// Judges the whole run.
RunVerdict judge_run(const RunRecord& run);

// Median of a list (0 for an empty list).
double median_of(std::vector<double> v);

}  // namespace aicloud::burnin
