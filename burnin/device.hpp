// The GPU side of burn-in behind plain host functions: the rest of the code
// never sees CUDA types or <<<>>>. Implemented in device_*.cu, which exist
// only in builds with CUDA (AICLOUDCTL_HAVE_CUDA). Every function works on
// the CUDA devices visible to the calling process, never throws, and reports
// a CUDA or cuBLASLt error in its result (TestOutcome::error/error_kind)
// instead of aborting: a failing GPU is a result, not a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "burnin/plan.hpp"
#include "burnin/results.hpp"

namespace aicloud::burnin {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  std::string pci_bus_id;  // as CUDA prints it: "0000:3B:00.0"
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  std::uint64_t total_bytes = 0, free_bytes = 0;
  int runtime_version = 0;  // cudaRuntimeGetVersion, e.g. 13000
  int driver_version = 0;   // cudaDriverGetVersion
};

// Called from the measurement loops, about once per second: the test, its
// elapsed seconds, a progress count (iterations, passes) and a rate
// (TFLOP/s, GB/s). Lets the worker emit heartbeats.
using ProgressFn = std::function<void(const std::string& test, double elapsed_s, std::uint64_t count, double rate)>;

// Number of visible CUDA devices; -1 and an error when CUDA cannot start.
int device_count(std::string* error);
// Selects a device, creates its context and describes it. False + error
// (with its kind) when the device cannot be used.
bool device_open(int ordinal, DeviceInfo* info, std::string* error, std::string* error_kind);

// The verified GEMM stress for `seconds` (setup included) on the current
// device, through cuBLASLt.
GemmResult run_gemm(const GemmPlan& plan, double seconds, const ProgressFn& progress);

// The memory test over as much free memory as can be allocated, passes
// repeated until `seconds` (at least one full pass).
MemtestResult run_memtest(double seconds, std::uint64_t seed, const ProgressFn& progress);

// HBM bandwidth: copy and triad kernels and a device-to-device memcpy.
HbmResult run_hbm(double seconds, const ProgressFn& progress);

// Called mid-transfer with a device ordinal; returns the PCIe (gen, width)
// NVML sees at that moment, or (0, 0).
using LinkProbe = std::function<std::pair<unsigned, unsigned>(int ordinal)>;
// Host<->device bandwidth with pinned memory: every device alone, then all
// at once. cpu_sets[i] (may be empty) pins the host thread of device i near
// it before its host buffer is allocated.
PcieResult run_pcie(const std::vector<int>& ordinals, const std::vector<std::vector<unsigned long>>& cpu_sets,
                    const LinkProbe& probe, const ProgressFn& progress);
// Peer-to-peer copies for every ordered pair, one direction and both, with
// the copied data verified.
P2PResult run_p2p(const std::vector<int>& ordinals, const ProgressFn& progress);

// --- Building blocks exposed for the GPU tests (tests/integration/burnin) ---

// Exact reference of a plan's product computed on the device with an int8
// dot-product kernel, hashed per chunk; returns the chunk hashes.
bool gemm_reference_hashes(const GemmPlan& plan, std::vector<std::uint64_t>* hashes, std::string* error);
// Runs one cuBLASLt GEMM of the plan and returns the chunk hashes of D.
bool gemm_once_hashes(const GemmPlan& plan, std::vector<std::uint64_t>* hashes, std::string* error);
// Runs one verified GEMM, adds `delta` to element `element` of D behind
// cuBLASLt's back, verifies again and analyses: proves that a wrong result
// is counted, quarantined and located.
bool gemm_inject_check(const GemmPlan& plan, std::uint64_t element, double delta, GemmResult* out, std::string* error);
// Writes a pattern over `bytes`, flips the bits of `flip_mask` in word
// `flip_word` behind the kernels' back, runs the check step, and returns the
// errors the kernel logged. Proves the checker sees what it must.
bool memtest_inject_check(std::uint64_t bytes, int pattern, std::uint64_t param, std::uint64_t flip_word,
                          std::uint64_t flip_mask, MemtestResult* out, std::string* error);

}  // namespace aicloud::burnin
