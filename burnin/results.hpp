// What each burn-in test measured, as plain structs: the device code (.cu)
// fills them, the worker process sends them to the parent as JSON, and the
// verdict rules (rules.hpp) judge them. No verdicts here, only facts; an
// error that stopped a test is recorded with its kind so that the rules can
// tell a GPU fault from a resource problem:
//   "device"       the GPU failed (launch failure, ECC, illegal address, hang)
//   "resource"     not enough memory or another process holds the GPU
//   "setup"        a library or configuration problem (no cuBLASLt, no algorithm)
//   "interrupted"  Ctrl-C
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace aicloud::burnin {

struct TestOutcome {
  bool ran = false;        // the measurement loop ran (results below are meaningful)
  std::string waived;      // non-empty: not applicable on this GPU/node, and why
  std::string error;       // non-empty: what stopped the test
  std::string error_kind;  // see above
  double seconds = 0;      // wall time of the test including setup
};

struct GemmMismatch {
  std::uint64_t iteration = 0;
  std::int64_t row = 0, col = 0;
  double expected = 0, actual = 0;
};

struct GemmResult : TestOutcome {
  std::string test;  // "gemm-bf16"
  std::string types; // "bf16 x bf16 -> fp32, fp32 accumulate"
  std::int64_t m = 0, n = 0, k = 0;
  int range = 0;
  std::uint64_t seed = 0;
  std::string algo;  // cuBLASLt algorithm chosen by timing the heuristic's candidates
  std::uint64_t workspace_bytes = 0;
  std::uint64_t iterations = 0;    // GEMMs run and verified in the stress loop
  double loop_seconds = 0;         // wall time of the stress loop
  double tflops = 0;               // sustained over the loop, verification included
  double tflops_gemm_only = 0;     // best candidate while tuning, GEMM alone
  std::uint64_t wrong_results = 0;   // GEMMs whose result differed from the exact product
  std::uint64_t bad_chunks = 0;      // 1024-element chunks whose hash differed
  std::uint64_t wrong_elements = 0;  // wrong elements found in the quarantined chunks
  bool wrong_elements_complete = true;  // false: more bad chunks than were quarantined
  std::string result_hash;           // hash of the exact product: equal on every healthy GPU with this plan
  int reference_samples = 0;         // reference elements re-computed on the CPU
  int reference_mismatches = 0;      // ... that disagreed (the reference itself is wrong)
  std::vector<GemmMismatch> mismatches;  // first few wrong elements
  std::vector<double> series_t, series_tflops;  // per-batch sustained TFLOP/s
};

struct MemtestError {
  std::uint64_t address = 0;  // device virtual address of the 64-bit word
  std::uint64_t offset = 0;   // byte offset in the tested block
  std::uint64_t expected = 0, actual = 0;
  std::string pattern;
  std::uint64_t pass = 0;
};

struct MemtestResult : TestOutcome {
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;    // free device memory when the test started
  std::uint64_t tested_bytes = 0;  // bytes under test
  double coverage = 0;             // tested / free
  std::uint64_t passes = 0;        // complete passes of every pattern
  std::uint64_t bytes_checked = 0; // bytes read and compared
  double check_gbps = 0;
  std::uint64_t bit_errors = 0, word_errors = 0;
  std::vector<std::string> patterns;
  std::vector<MemtestError> errors;  // first few, with addresses
};

struct HbmResult : TestOutcome {
  std::uint64_t buffer_bytes = 0;
  int reps = 0;
  double copy_gbps = 0;    // copy kernel, read + write bytes counted
  double triad_gbps = 0;   // a = b + s*c, 2 reads + 1 write counted
  double memcpy_gbps = 0;  // cudaMemcpyAsync device-to-device, read + write counted
  std::uint64_t mismatches = 0;  // words the copy got wrong
};

struct PcieGpuResult {
  int gpu = 0;  // the worker's device position; the report holds the NVML index
  double h2d_gbps = 0, d2h_gbps = 0, bidir_gbps = 0;  // this GPU alone, pinned memory
  double all_h2d_gbps = 0, all_d2h_gbps = 0;          // this GPU while all copy at once
  unsigned gen_under_load = 0, width_under_load = 0;  // NVML link state mid-transfer (0 unknown)
  std::uint64_t mismatches = 0;                        // bytes that came back wrong
  std::string error, error_kind;
};

struct PcieResult : TestOutcome {
  std::uint64_t bytes = 0;  // per copy
  std::vector<PcieGpuResult> gpus;
  double all_h2d_total_gbps = 0, all_d2h_total_gbps = 0;
};

struct P2PPair {
  int src = 0, dst = 0;  // the worker's positions; the report holds NVML indices
  bool peer_access = false;
  double gbps = 0;
  std::uint64_t mismatches = 0;
  std::string error;
};

struct P2PBidir {
  int a = 0, b = 0;
  double gbps = 0;  // both directions together
  std::string error;
};

struct P2PResult : TestOutcome {
  std::uint64_t bytes = 0;
  std::vector<P2PPair> pairs;
  std::vector<P2PBidir> bidir;
};

nlohmann::json to_json(const GemmResult& r);
nlohmann::json to_json(const MemtestResult& r);
nlohmann::json to_json(const HbmResult& r);
nlohmann::json to_json(const PcieResult& r);
nlohmann::json to_json(const P2PResult& r);
// The inverse (worker -> parent); unknown or missing keys keep defaults.
void from_json(const nlohmann::json& j, GemmResult& r);
void from_json(const nlohmann::json& j, MemtestResult& r);
void from_json(const nlohmann::json& j, HbmResult& r);
void from_json(const nlohmann::json& j, PcieResult& r);
void from_json(const nlohmann::json& j, P2PResult& r);

// Hex form of a 64-bit value ("0x00ab..."), for hashes and addresses.
std::string hex64(std::uint64_t v);

}  // namespace aicloud::burnin
