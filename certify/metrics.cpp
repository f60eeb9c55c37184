// The metric table. Units follow the tools that produce the numbers:
// TFLOP/s for GEMM, GB/s = 1e9 bytes/s for every bandwidth (nccl-tests'
// convention), fractions for coverage and power.
#include "certify/metrics.hpp"

namespace aicloud::certify {

namespace {
const std::vector<MetricInfo> k_metrics = {
    {"gemm_bf16_tflops", "TFLOP/s", "burnin", MetricScope::gpu, true, "sustained BF16 GEMM throughput"},
    {"gemm_fp16_tflops", "TFLOP/s", "burnin", MetricScope::gpu, true, "sustained FP16 GEMM throughput"},
    {"gemm_fp8_tflops", "TFLOP/s", "burnin", MetricScope::gpu, true, "sustained FP8 GEMM throughput"},
    {"gemm_tf32_tflops", "TFLOP/s", "burnin", MetricScope::gpu, true, "sustained TF32 GEMM throughput"},
    {"gemm_fp32_tflops", "TFLOP/s", "burnin", MetricScope::gpu, true, "sustained FP32 GEMM throughput"},
    {"gemm_fp64_tflops", "TFLOP/s", "burnin", MetricScope::gpu, true, "sustained FP64 GEMM throughput"},
    {"hbm_copy_gbps", "GB/s", "burnin", MetricScope::gpu, true, "HBM copy bandwidth (bytes read + written)"},
    {"hbm_triad_gbps", "GB/s", "burnin", MetricScope::gpu, true, "HBM triad bandwidth (bytes read + written)"},
    {"pcie_h2d_gbps", "GB/s", "burnin", MetricScope::gpu, true, "pinned host-to-device bandwidth"},
    {"pcie_d2h_gbps", "GB/s", "burnin", MetricScope::gpu, true, "pinned device-to-host bandwidth"},
    {"p2p_unidir_gbps", "GB/s", "burnin", MetricScope::link, true, "GPU peer-to-peer bandwidth, one direction"},
    {"p2p_bidir_gbps", "GB/s", "burnin", MetricScope::link, true, "GPU peer-to-peer bandwidth, both directions"},
    {"memtest_coverage", "", "burnin", MetricScope::gpu, true, "fraction of free HBM covered by the memory test"},
    {"power_fraction", "", "burnin", MetricScope::gpu, true, "peak power during the soak / enforced power limit"},
    {"gpu_temp_max_c", "C", "burnin", MetricScope::gpu, false, "hottest GPU temperature during the soak"},
    {"hbm_temp_max_c", "C", "burnin", MetricScope::gpu, false, "hottest HBM temperature during the soak"},
    {"nccl_intra_all_reduce_busbw_gbps", "GB/s", "nccl_intra", MetricScope::node, true,
     "all_reduce bus bandwidth across the GPUs of one node"},
    {"nccl_intra_all_gather_busbw_gbps", "GB/s", "nccl_intra", MetricScope::node, true,
     "all_gather bus bandwidth across the GPUs of one node"},
    {"nccl_intra_reduce_scatter_busbw_gbps", "GB/s", "nccl_intra", MetricScope::node, true,
     "reduce_scatter bus bandwidth across the GPUs of one node"},
    {"nccl_inter_all_reduce_busbw_gbps", "GB/s", "nccl_inter", MetricScope::rack, true,
     "all_reduce bus bandwidth across every GPU of the rack"},
    {"nccl_inter_all_gather_busbw_gbps", "GB/s", "nccl_inter", MetricScope::rack, true,
     "all_gather bus bandwidth across every GPU of the rack"},
    {"nccl_inter_reduce_scatter_busbw_gbps", "GB/s", "nccl_inter", MetricScope::rack, true,
     "reduce_scatter bus bandwidth across every GPU of the rack"},
    {"nccl_pair_busbw_gbps", "GB/s", "nccl_inter", MetricScope::link, true,
     "all_reduce bus bandwidth between two nodes (localisation round)"},
};
}  // namespace

const std::vector<MetricInfo>& metric_catalog() { return k_metrics; }

const MetricInfo* find_metric(std::string_view id) {
  for (const auto& m : k_metrics)
    if (id == m.id) return &m;
  return nullptr;
}

std::vector<std::string> metric_ids() {
  std::vector<std::string> out;
  for (const auto& m : k_metrics) out.emplace_back(m.id);
  return out;
}

std::string_view to_string(MetricScope scope) {
  switch (scope) {
    case MetricScope::gpu: return "gpu";
    case MetricScope::node: return "node";
    case MetricScope::link: return "link";
    case MetricScope::rack: return "rack";
  }
  return "?";
}

}  // namespace aicloud::certify
