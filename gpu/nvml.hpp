// NVML (libnvidia-ml.so.1) loaded at run time with our own declarations of
// the few entry points we use: the CUDA toolkit on the build machine ships no
// nvml.h, and a binary linked against NVML would not even start on a machine
// without the driver. Every call's return code is kept next to its value
// (Reading<T>) so that callers can tell "not supported on this GPU" from
// "the GPU fell off the bus" and never mistake a failed read for a zero.
//
// The fact structs below are plain data: burnin/ turns them into findings and
// verdicts, and its unit tests build them by hand as fixtures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aicloud::gpu {

// NVML return codes used by the interpretation rules (values from the NVML
// API reference, nvmlReturn_t).
enum NvmlStatus : int {
  k_nvml_not_queried = -1,
  k_nvml_success = 0,
  k_nvml_uninitialized = 1,
  k_nvml_invalid_argument = 2,
  k_nvml_not_supported = 3,
  k_nvml_no_permission = 4,
  k_nvml_not_found = 6,
  k_nvml_insufficient_size = 7,
  k_nvml_driver_not_loaded = 9,
  k_nvml_timeout = 10,
  k_nvml_function_not_found = 13,
  k_nvml_corrupted_inforom = 14,
  k_nvml_gpu_is_lost = 15,
  k_nvml_reset_required = 16,
  k_nvml_lib_rm_version_mismatch = 18,
  k_nvml_no_data = 21,
  k_nvml_unknown = 999,
};

// One NVML query: the value, or the status and message saying why not.
template <typename T>
struct Reading {
  std::optional<T> value;
  int status = k_nvml_not_queried;
  std::string error;

  bool ok() const { return value.has_value(); }
  // The GPU or driver does not offer this (older GPU, feature absent, or an
  // NVML too old to have the entry point): a fact, not a fault.
  bool unsupported() const {
    return status == k_nvml_not_supported || status == k_nvml_function_not_found || status == k_nvml_invalid_argument;
  }
  // The read failed because the GPU is gone or needs a reset: a fault.
  bool gpu_lost() const { return status == k_nvml_gpu_is_lost || status == k_nvml_reset_required; }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
  T value_or(T fallback) const { return value.value_or(fallback); }

  static Reading of(T v) {
    Reading r;
    r.value = std::move(v);
    r.status = k_nvml_success;
    return r;
  }
  static Reading failed(int status, std::string error) {
    Reading r;
    r.status = status;
    r.error = std::move(error);
    return r;
  }
};

// Clock-event (throttle) reason bits, nvmlClocksEventReason*.
enum ClockEventBit : std::uint64_t {
  k_clock_gpu_idle = 0x1,
  k_clock_app_clocks_setting = 0x2,
  k_clock_sw_power_cap = 0x4,
  k_clock_hw_slowdown = 0x8,
  k_clock_sync_boost = 0x10,
  k_clock_sw_thermal = 0x20,
  k_clock_hw_thermal = 0x40,
  k_clock_hw_power_brake = 0x80,
  k_clock_display_clock_setting = 0x100,
};

// Names of the set bits, e.g. 0x48 -> {"hw_slowdown", "hw_thermal_slowdown"}.
std::vector<std::string> clock_event_reason_names(std::uint64_t mask);

struct EccCounts {
  Reading<std::uint64_t> volatile_corrected, volatile_uncorrected;
  Reading<std::uint64_t> aggregate_corrected, aggregate_uncorrected;
};

struct RowRemap {
  unsigned corrected_rows = 0;    // rows remapped because of correctable errors
  unsigned uncorrected_rows = 0;  // rows remapped because of uncorrectable errors
  bool pending = false;           // a remap waits for a GPU reset
  bool failure = false;           // a remap failed at some point: no spare row was left
};

struct RemapHistogram {
  unsigned max = 0, high = 0, partial = 0, low = 0, none = 0;  // banks per remaining-spare-rows class
};

struct RetiredPages {
  unsigned single_bit = 0;  // retired for multiple single-bit errors
  unsigned double_bit = 0;  // retired for a double-bit error
  bool pending = false;     // retirement waits for a reboot/reset
};

struct NvLinkFacts {
  unsigned link = 0;
  bool active = false;
  Reading<std::uint64_t> replay, recovery, crc_flit, crc_data;
};

struct PcieFacts {
  Reading<unsigned> gen, width, max_gen, max_width, gpu_max_gen, replay_counter;
};

// Everything `health` reads about one GPU.
struct GpuFacts {
  unsigned index = 0;
  std::string handle_error;  // non-empty: no NVML handle (the GPU may have fallen off the bus)
  int handle_status = k_nvml_success;
  Reading<std::string> name, uuid, serial, pci_bus_id, vbios;
  Reading<std::pair<int, int>> compute_capability;
  Reading<bool> persistence;
  Reading<bool> mig_current, mig_pending;
  Reading<bool> ecc_current, ecc_pending;
  EccCounts ecc;
  Reading<RowRemap> remap;
  Reading<RemapHistogram> remap_histogram;
  Reading<RetiredPages> retired;
  Reading<std::uint64_t> clock_events;
  PcieFacts pcie;
  std::vector<NvLinkFacts> nvlinks;  // links that exist on this GPU
  Reading<unsigned> temp_gpu, temp_hbm;
  Reading<unsigned> temp_shutdown, temp_slowdown, temp_mem_max, temp_gpu_max;
  Reading<double> power_w, power_limit_w, power_default_limit_w;
  Reading<unsigned> sm_clock_mhz, mem_clock_mhz, max_sm_clock_mhz, max_mem_clock_mhz;
  Reading<unsigned> memory_bus_width_bits;
  Reading<std::uint64_t> memory_total, memory_used;
};

// The counters compared before and after a burn-in (a subset of GpuFacts).
struct GpuCounters {
  EccCounts ecc;
  Reading<RowRemap> remap;
  Reading<RetiredPages> retired;
  Reading<unsigned> pcie_replay;
  std::vector<NvLinkFacts> nvlinks;
};

// One 1-second telemetry sample.
struct GpuSample {
  Reading<double> power_w;
  Reading<unsigned> temp_gpu, temp_hbm, sm_clock_mhz, mem_clock_mhz, pcie_gen, pcie_width, util_gpu;
  Reading<std::uint64_t> clock_events;
};

struct NvmlSystem {
  Reading<std::string> driver_version, nvml_version;
  Reading<int> cuda_driver_version;  // e.g. 13000
  Reading<unsigned> device_count;
};

// An NVML event (XID or ECC) caught by an event set.
struct NvmlEvent {
  unsigned gpu = 0;
  std::string kind;  // "xid", "sbe", "dbe", "other"
  std::uint64_t xid = 0;
};

class Nvml {
 public:
  // The process-wide instance: loads the library (AICLOUDCTL_NVML overrides
  // the path; else libnvidia-ml.so.1) and calls nvmlInit_v2 once.
  static Nvml& instance();

  bool available() const { return m_available; }
  // Why it is not available: names the library or the nvmlInit error.
  const std::string& error() const { return m_error; }
  const std::string& library_path() const { return m_path; }

  NvmlSystem system();
  GpuFacts read_gpu(unsigned index);
  GpuCounters read_counters(unsigned index);
  GpuSample sample(unsigned index);
  // CPUs close to the GPU (bit mask words), for NUMA-aware host buffers.
  Reading<std::vector<unsigned long>> cpu_affinity(unsigned index);
  // The NVML index of a GPU given its PCI bus id (any case, 4- or 8-digit domain).
  Reading<unsigned> index_of_bus_id(const std::string& bus_id);

  // XID/ECC event watching. start_events registers every GPU in indices and
  // returns false (with a reason) where events are unavailable (VMs,
  // containers, old drivers). poll_event waits up to timeout_ms.
  bool start_events(const std::vector<unsigned>& indices, std::string* why);
  std::optional<NvmlEvent> poll_event(unsigned timeout_ms);
  void stop_events();

  struct Api;  // the bound entry points (nvml.cpp)

 private:
  Nvml();
  bool m_available = false;
  std::string m_error, m_path;
  Api* m_api = nullptr;
  void* m_event_set = nullptr;
  std::vector<std::pair<void*, unsigned>> m_event_devices;
};

// Formats an NVML/CUDA driver version integer: 13000 -> "13.0", 12080 -> "12.8".
std::string format_cuda_version(int version);

}  // namespace aicloud::gpu
