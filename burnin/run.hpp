// The record of one burn-in run: what was asked, what each GPU's worker
// reported, the 1-second telemetry, the counters before and after, and the
// XID events. The orchestrator (burnin.cpp) fills it; the rules (rules.hpp)
// judge it; report.cpp prints it. Tests build it by hand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "burnin/health.hpp"
#include "burnin/results.hpp"
#include "burnin/verdict.hpp"
#include "burnin/xid.hpp"
#include "gpu/nvml.hpp"

namespace aicloud::burnin {

// 1-second NVML samples of one GPU. Missing readings are NaN.
struct GpuSeries {
  std::vector<double> t;  // seconds since the run started
  std::vector<int> phase; // index into RunRecord::phase_names
  std::vector<double> power_w, temp_gpu_c, temp_hbm_c, sm_clock_mhz, mem_clock_mhz, pcie_gen, pcie_width, util_pct;
  std::vector<std::uint64_t> clock_events;  // bitmask; 0 when unreadable
  std::vector<bool> clock_events_known;

  std::size_t size() const { return t.size(); }
  void append(double time, int phase_index, const gpu::GpuSample& s);
};

// How a worker process ended.
struct WorkerEnd {
  bool started = false;
  std::string start_error;   // could not be started
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
  bool hung = false;         // killed after no output for the stall timeout
  bool timed_out = false;    // killed at the overall deadline
  bool interrupted = false;  // stopped by Ctrl-C
  std::string last_test;     // the test it was in when it ended
  std::string stderr_tail;
  std::string fatal;         // a fatal message it reported (device could not be opened)
  std::string fatal_kind;
};

struct GpuRun {
  unsigned index = 0;  // NVML index
  gpu::GpuFacts facts;  // before the run
  std::vector<Finding> preflight;
  std::string blocked;  // non-empty: the GPU could not be tested at all (MIG on, lost), and why
  std::vector<std::string> tests;  // per-GPU tests requested
  std::map<std::string, GemmResult> gemm;
  std::optional<MemtestResult> memtest;
  std::optional<HbmResult> hbm;
  std::optional<PcieGpuResult> pcie;  // this GPU's part of the node PCIe test
  WorkerEnd worker;
  nlohmann::json device_info;  // what the worker's CUDA saw (name, cc, SMs, memory)
  gpu::GpuCounters before, after;
  bool after_read = false;
  GpuSeries series;
  std::vector<XidEvent> xids;            // new in the kernel log during the run
  std::vector<gpu::NvmlEvent> nvml_events;  // XID/ECC events NVML delivered during the run
};

struct RunRecord {
  std::string host, started, finished;
  double requested_s = 0;
  double elapsed_s = 0;
  std::vector<std::string> tests;
  std::vector<std::string> phase_names;  // "preflight", "stress", "interconnect"
  std::map<std::string, std::string> versions;
  std::string nvml_error;   // NVML missing: nothing could be tested
  std::string cuda_error;   // libcuda missing or cuInit failed
  std::vector<GpuRun> gpus;
  // Node-level tests (run by one process that sees every selected GPU).
  std::optional<PcieResult> pcie;
  std::optional<P2PResult> p2p;
  WorkerEnd node_worker;
  bool node_worker_ran = false;
  KernelLog log_before;  // availability of the kernel log (text dropped after diffing)
  bool nvml_events_available = false;
  std::string nvml_events_error;
  bool interrupted = false;
};

}  // namespace aicloud::burnin
