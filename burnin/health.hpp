// `aicloudctl health`: the seconds-long preflight gate of a GPU node. It
// gathers facts (NVML, the CUDA driver, the kernel log's XIDs) and turns them
// into findings, each PASS, WARN or FAIL with a reason and a remediation.
// Gathering (I/O) and judging (pure, unit-tested with fixtures) are separate:
// evaluate_health() sees only data. A node without NVML, driver or GPUs is a
// FAIL that names what is missing, never a PASS.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "burnin/verdict.hpp"
#include "burnin/xid.hpp"
#include "gpu/cuda_driver.hpp"
#include "gpu/nvml.hpp"

namespace aicloud::burnin {

struct Finding {
  std::string check;            // e.g. "ecc_errors", "row_remap", "xid"
  std::optional<unsigned> gpu;  // NVML index; none for node-level findings
  Verdict verdict = Verdict::pass;
  std::string reason;
  std::string remediation;
};

// Everything gathered about the node; fixtures in tests build this by hand.
struct HealthInput {
  bool nvml_available = false;
  std::string nvml_error;  // why NVML is unavailable
  std::string nvml_path;
  gpu::NvmlSystem system;
  std::vector<gpu::GpuFacts> gpus;
  bool cuda_probed = false;
  gpu::CudaDriverInfo cuda;
  bool cuda_visible_devices_set = false;  // CUDA_VISIBLE_DEVICES restricts what libcuda sees
  KernelLog kernel_log;
  std::optional<unsigned> expect_gpus;  // --expect-gpus
};

struct HealthReport {
  std::vector<Finding> findings;
  std::vector<XidEvent> xids;  // parsed from the kernel log
  Verdict verdict = Verdict::pass;
};

// Thresholds (documented in docs/gpu-health.md).
constexpr unsigned long long k_volatile_corrected_warn = 1000;  // single-bit errors since driver load
constexpr unsigned k_retired_pages_fail = 60;                   // NVIDIA's RMA threshold is ~60 retired pages
constexpr unsigned k_temp_margin_warn_c = 10;                   // within 10 C of the slowdown threshold
constexpr unsigned k_hbm_margin_warn_c = 5;                     // within 5 C of the HBM limit
constexpr double k_power_limit_fraction_warn = 0.9;             // enforced limit below 90% of the default

// Judges the facts. Pure.
HealthReport evaluate_health(const HealthInput& in);
// Findings about one GPU's facts (also used by burn-in's preflight). Pure.
std::vector<Finding> evaluate_gpu(const gpu::GpuFacts& f);
// Findings about the XID events of a log (attributed to GPUs by bus id). Pure.
std::vector<Finding> evaluate_xids(const std::vector<XidEvent>& events, const std::vector<gpu::GpuFacts>& gpus);

// The machine-readable report (schema "aicloudctl.health/1", docs/gpu-health.md).
nlohmann::json health_to_json(const HealthInput& in, const HealthReport& report);
// The human report; verbose lists PASS findings too.
std::string health_to_text(const HealthInput& in, const HealthReport& report, bool verbose);

struct HealthOptions {
  bool json = false;
  int verbosity = 0;
  std::optional<unsigned> expect_gpus;
  std::vector<unsigned> only_gpus;  // empty: all
};

// Gathers the facts of this node (NVML, libcuda, kernel log).
HealthInput gather_health(const HealthOptions& options);
// The whole command: gather, judge, print. Returns the exit code.
int run_health(const HealthOptions& options);

}  // namespace aicloud::burnin
