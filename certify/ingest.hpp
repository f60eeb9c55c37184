// What certification reads from the node-side commands. Each parser turns
// one command's JSON - `aicloudctl health --json` ("aicloudctl.health/1"),
// `burnin --json` ("aicloudctl.burnin/1"), `nccl --json`
// ("aicloudctl.nccl/1"); docs/gpu-health.md, docs/nccl.md, summarised in
// docs/report.md - or the node-facts script's text into a normalised view. A field that is absent stays empty (std::optional
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
  std::optional<int> gpu;   // resolved from pci_bus_id against the GPU list
  std::string pci_bus_id;
  std::string time;         // seconds since boot (health's time_s), as text
  std::string description;
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
  std::string error;  // NVML could not open the GPU
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
  std::string name;     // gemm-bf16 ... gemm-fp64, memtest, hbm, pcie, telemetry, counters, xid
  std::string verdict;  // PASS, WARN, FAIL, INCOMPLETE, WAIVED
  std::vector<std::string> reasons;
  nlohmann::json result;  // the test's "result" object (null when it did not run)
  bool waived() const;
  std::optional<double> metric(const std::string& key) const;
};

struct GpuBurnin {
  int index = 0;
  std::string uuid;
  std::string verdict;
  std::vector<std::string> reasons;
  std::string blocked;  // why the GPU was not started (MIG, lost), empty when it ran
  std::vector<BurninTest> tests;
  // From the "telemetry" test (stress phase).
  bool has_telemetry = false;
  std::optional<double> power_max_w, gpu_temp_max_c, hbm_temp_max_c;
  std::vector<std::string> clock_events_seen;
  const BurninTest* test(const std::string& name) const;
};

struct P2pMeasure {
  int a = 0, b = 0;
  double gbps = 0;
};

struct BurninView {
  std::string problem;
  std::string verdict;
  std::vector<std::string> reasons;
  bool interrupted = false;
  std::vector<GpuBurnin> gpus;
  bool has_p2p = false;
  std::string p2p_verdict;
  std::vector<std::string> p2p_reasons;
  std::vector<P2pMeasure> p2p_unidir;  // ordered pairs src -> dst
  std::vector<P2pMeasure> p2p_bidir;   // unordered pairs, both ways at once
};

BurninView parse_burnin(const nlohmann::json& j);

// The report's 1-second series from burnin's per-GPU telemetry columns:
// {interval_s, start, phases, fields, gpus: [{index, t_s, power_w, ...}]};
// null when the burn-in recorded none.
nlohmann::json burnin_timeseries(const nlohmann::json& burnin);
// The burn-in document without what the report keeps elsewhere (the
// per-GPU telemetry columns, which become the node's timeseries).
nlohmann::json burnin_without_series(nlohmann::json burnin);

// Profile test names are the burnin command's (gemm-bf16); metrics use
// underscores (gemm_bf16_tflops).
std::string gemm_metric(const std::string& test);  // "gemm-bf16" -> "gemm_bf16_tflops"

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
  std::string verdict;  // from "status": ok -> PASS, failed -> FAIL, interrupted -> INCOMPLETE
  int nranks = 0;
  std::vector<NcclResult> results;
  std::vector<std::string> errors;  // problems[]: "rank 3 timed timeout: message"
  std::vector<NcclPair> pairs;
  std::vector<NcclSuspect> suspects;
  // The result for `collective` at exactly `size`, else the largest size
  // at or above it; nullptr when none.
  const NcclResult* at_size(const std::string& collective, std::uint64_t size) const;
};

NcclView parse_nccl(const nlohmann::json& j);

}  // namespace aicloud::certify
