// Planning a burn-in before any GPU is touched: which tests (--tests), which
// GPUs (--gpus), how the duration is shared between the tests, and how big
// each verified GEMM is and which integer range keeps it exact. Pure and
// unit-tested; the device code only executes a plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aicloud::burnin {

// The tests, in the order they run. Per-GPU tests run in one worker process
// per GPU; node tests (pcie, p2p) run afterwards in one process that sees
// all selected GPUs.
const std::vector<std::string>& all_test_names();
const std::vector<std::string>& default_test_names();
bool is_gemm_test(const std::string& name);
bool is_node_test(const std::string& name);  // pcie, p2p

// Parses --tests: names, "gemm" (= gemm-bf16), "gemm-all", "default", "all",
// comma separated, in any order. Throws UsageError with a did-you-mean hint.
std::vector<std::string> parse_test_list(const std::string& text);

// One --gpus entry: an NVML index or a UUID ("GPU-...").
struct GpuSelector {
  std::optional<unsigned> index;
  std::string uuid;
};
// Parses --gpus: "all", "0,2,5", "0-3", "GPU-8a1b...". Throws UsageError.
std::vector<GpuSelector> parse_gpu_list(const std::string& text);

// Seconds given to each per-GPU test out of the total duration: GEMMs share
// 70%, memtest 25%, hbm 5%, each with a floor (GEMM 10 s, memtest 5 s,
// hbm 3 s), and shares of absent tests go to the others.
struct TestBudget {
  std::string test;
  double seconds = 0;
};
std::vector<TestBudget> split_duration(double total_seconds, const std::vector<std::string>& tests);

enum class GemmType { bf16, fp16, tf32, fp32, fp64, fp8 };
std::string gemm_type_name(GemmType t);                  // "bf16"
std::optional<GemmType> gemm_type_of_test(const std::string& test);  // "gemm-bf16" -> bf16

struct GemmPlan {
  GemmType type = GemmType::bf16;
  std::string test;       // "gemm-bf16"
  bool supported = true;  // false: WAIVED on this GPU, see waived
  std::string waived;
  std::int64_t m = 0, n = 0, k = 0;
  int range = 0;           // inputs are integers in [-range, range]
  std::uint64_t seed = 0;  // same on every GPU and node
  int in_bytes = 0;        // bytes per A/B element
  int out_bytes = 0;       // bytes per D element (FP32, or FP64 for the FP64 GEMM)
  std::uint64_t workspace_bytes = 0;
  std::uint64_t device_bytes = 0;  // what the test allocates at its peak

  double flops_per_gemm() const { return 2.0 * double(m) * double(n) * double(k); }
};

// The largest input magnitude R for which every partial sum of a K-long dot
// product is exact in the GEMM's accumulator and output (K*R*R <= 2^24, or
// 2^53 for FP64), also capped by what the input type and the int8 reference
// represent exactly (bf16 256, fp8 e4m3 16 and 3 for its reduced-precision
// tensor-core accumulation, int8 127).
int max_exact_range(GemmType t, std::int64_t k);

// Sizes a GEMM for a GPU with this much memory and compute capability:
// M = N = 16384 on GPUs with >= 40 GiB (8192 / 4096 below), K large enough
// that verification traffic is ~1-2% of the math, shrunk until the buffers
// fit in 60% of memory.
GemmPlan plan_gemm(GemmType t, std::uint64_t total_memory, int cc_major, int cc_minor);

// Theoretical PCIe bandwidth per direction in GB/s for a link (gen 1..6,
// width lanes), after line encoding. 0 for unknown generations.
double pcie_link_gbps(unsigned gen, unsigned width);

// Theoretical DRAM bandwidth in GB/s from NVML's max memory clock (MHz) and
// bus width (bits): 2 transfers per clock (DDR/HBM).
double hbm_peak_gbps(unsigned mem_clock_mhz, unsigned bus_width_bits);

}  // namespace aicloud::burnin
