// What certification reads from the node-side commands. Each parser turns
// one command's JSON (`aicloudctl health --json`, `burnin --json`,
// `nccl --json`; shapes in docs/report.md) or the node-facts script's text
// into a normalised view. A field that is absent stays empty (std::optional
// or a flag) so that the judge can say "missing" (INCOMPLETE) instead of
// guessing a value - nothing missing is ever read as healthy.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aicloud::certify {

// ---------------------------------------------------------------------------
// Node facts: a POSIX shell script run on the node (locally or over SSH)
// ---------------------------------------------------------------------------

// The script: hostname, kernel, OS, CPU, memory, the NVIDIA kernel module
// version, where libnvidia-ml.so.1 is, and every InfiniBand/RoCE port.
const std::string& node_facts_script();
// Its output (tab-separated lines) as JSON:
// {hostname, kernel, os, cpu, memory_kib, nvidia_module: {present, version},
//  nvml_library, ib_ports: [{device, port, state, rate_gbps, link_layer, fw}]}
nlohmann::json parse_node_facts(const std::string& output);

// ---------------------------------------------------------------------------
// health
// ---------------------------------------------------------------------------

struct HealthFinding {
  std::string check;
  std::string verdict;  // PASS, WARN, FAIL
  std::optional<int> gpu;
  std::string reason;
  std::string remediation;
};

struct XidEvent {
  int xid = 0;
  std::optional<int> gpu;
  std::string pci_bus_id;
  std::string time;
  std::string message;
};

struct GpuHealth {
  int index = 0;
  std::string name, uuid, serial, pci_bus_id, vbios;
  std::optional<bool> persistence_mode, mig_mode, ecc_mode;
  std::optional<double> memory_total_mib;
  std::optional<double> ecc_volatile_corrected, ecc_volatile_uncorrected;
  std::optional<double> ecc_aggregate_corrected, ecc_aggregate_uncorrected;
  std::optional<double> sram_corrected, sram_uncorrected, dram_corrected, dram_uncorrected;
  bool has_row_remap = false;  // false: the GPU predates row remapping (or health did not say)
  std::optional<double> remap_correctable, remap_uncorrectable;
  std::optional<bool> remap_pending, remap_failed;
  bool has_retired_pages = false;
  std::optional<double> retired_single_bit, retired_double_bit;
  std::optional<bool> retired_pending;
  std::optional<std::vector<std::string>> clock_events;
  std::optional<int> pcie_gen, pcie_width, pcie_max_gen, pcie_max_width;
  std::optional<double> pcie_replay;
  std::optional<int> nvlink_active;  // links up
  std::optional<int> nvlink_links;   // links reported
  std::optional<double> nvlink_errors;  // replay+recovery+crc_flit+crc_data over all links
  std::optional<double> temperature_c, memory_temperature_c, power_w, power_limit_w;
  std::string verdict;
};

struct HealthView {
  std::string problem;  // non-empty: the JSON is not a usable health result
  std::string verdict;  // PASS, WARN, FAIL
  std::string driver_version, cuda_driver_version;
  std::vector<HealthFinding> findings;
  std::vector<GpuHealth> gpus;
  std::vector<XidEvent> xids;
  bool has_gpus_field = false;
};

HealthView parse_health(const nlohmann::json& j);

// ---------------------------------------------------------------------------
// burnin
// ---------------------------------------------------------------------------

struct BurninTest {
  std::string name;     // gemm_bf16 ... memtest, hbm, pcie
  std::string verdict;  // PASS, WARN, FAIL, INCOMPLETE
  std::vector<std::string> reasons;
  std::map<std::string, nlohmann::json> metrics;
  std::optional<double> metric(const std::string& key) const;
};

struct GpuBurnin {
  int index = 0;
  std::string uuid;
  std::string verdict;
  std::vector<std::string> reasons;
  std::vector<BurninTest> tests;
  std::optional<double> power_max_w, power_limit_w, gpu_temp_max_c, hbm_temp_max_c;
  std::map<std::string, double> clock_events;  // event -> seconds active during the stress
  bool has_telemetry = false;
  const BurninTest* test(const std::string& name) const;
};

struct P2pPair {
  int src = 0, dst = 0;
  std::optional<double> unidir_gbps, bidir_gbps;
};

struct BurninView {
  std::string problem;
  std::string verdict;
  std::vector<std::string> reasons;
  std::vector<GpuBurnin> gpus;
  bool has_p2p = false;
  std::string p2p_verdict;
  std::vector<P2pPair> p2p;
  nlohmann::json timeseries;  // as burnin wrote it (null when absent)
};

BurninView parse_burnin(const nlohmann::json& j);

// ---------------------------------------------------------------------------
// nccl
// ---------------------------------------------------------------------------

struct NcclPlacement {
  std::optional<double> busbw_gbps, algbw_gbps, time_us_median;
  std::optional<double> wrong;
};

struct NcclResult {
  std::string collective;
  std::uint64_t size_bytes = 0;
  std::string algo, proto;
  std::optional<NcclPlacement> out_of_place, in_place;
  // The figure certification judges: the lower of the two placements' busbw.
  std::optional<double> busbw_gbps() const;
  double wrong() const;
};

struct NcclPair {
  std::string a, b;
  double busbw_gbps = 0;
};

struct NcclSuspect {
  std::string node;
  std::optional<int> gpu;
  std::string rail;
  std::string reason;
};

struct NcclView {
  std::string problem;
  std::string verdict;  // PASS, FAIL, INCOMPLETE
  int nranks = 0;
  std::vector<NcclResult> results;
  std::vector<std::string> errors;  // "phase: message (ranks ...)"
  std::vector<NcclPair> pairs;
  std::vector<NcclSuspect> suspects;
  // The result for `collective` at exactly `size`, else the largest size
  // at or above it; nullptr when none.
  const NcclResult* at_size(const std::string& collective, std::uint64_t size) const;
};

NcclView parse_nccl(const nlohmann::json& j);

}  // namespace aicloud::certify
