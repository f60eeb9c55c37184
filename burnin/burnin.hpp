// `aicloudctl burnin`: GPU burn-in of this node. The parent process plans
// the run, samples NVML every second, reads the counters and the kernel log
// before and after, and starts one worker process per GPU (re-executing this
// binary with a hidden --worker flag) so that a GPU that hangs or faults is
// killed and reported while the others finish. After the per-GPU phase one
// more worker that sees every selected GPU measures PCIe and peer-to-peer.
// Verdicts come from rules.hpp; the report from report.hpp.
#pragma once

#include <string>

namespace aicloud::burnin {

struct BurninOptions {
  double duration_s = 600;      // --duration (default 10m)
  std::string gpus = "all";     // --gpus
  std::string tests = "default";  // --tests
  bool json = false;
  int verbosity = 0;
  std::string output;           // -o FILE: also write the JSON report there
  double stall_timeout_s = 120; // --stall-timeout: a worker silent this long is killed (GPU hang)
  std::string self_exe;         // the binary to re-execute for workers (default /proc/self/exe)
};

// The whole command; returns the exit code (0 PASS/WARN, 1 FAIL/INCOMPLETE,
// 130 interrupted). Throws UsageError for bad flags (nothing ran) and Error
// when the binary was built without CUDA.
int run_burnin(const BurninOptions& options);

// The hidden worker mode: runs the tests of a JSON spec on the visible CUDA
// devices and writes JSON lines to stdout. Returns the process exit code.
int run_burnin_worker(const std::string& spec);

}  // namespace aicloud::burnin
