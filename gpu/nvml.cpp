// NVML loader. The declarations below follow the NVML API reference
// (docs.nvidia.com/deploy/nvml-api): types, enum values and struct layouts
// are written out by hand because no nvml.h exists where we build. Only
// nvmlInit_v2, nvmlErrorString, nvmlDeviceGetCount_v2 and
// nvmlDeviceGetHandleByIndex_v2 are required; every other entry point is
// optional, and a missing one reads as "function not found" (unsupported)
// rather than failing the whole library.
#include "gpu/nvml.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/dynlib.hpp"
#include "common/strings.hpp"

namespace aicloud::gpu {

namespace {

// ---- NVML types (from the API reference) ---------------------------------
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
using nvmlEventSet_t = struct nvmlEventSet_st*;
using nvmlEnableState_t = int;  // 0 disabled, 1 enabled

constexpr int k_memory_error_corrected = 0;    // NVML_MEMORY_ERROR_TYPE_CORRECTED
constexpr int k_memory_error_uncorrected = 1;  // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int k_volatile_ecc = 0;              // NVML_VOLATILE_ECC
constexpr int k_aggregate_ecc = 1;             // NVML_AGGREGATE_ECC
constexpr int k_retire_multiple_sbe = 0;       // NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS
constexpr int k_retire_dbe = 1;                // NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR
constexpr int k_temperature_gpu = 0;           // NVML_TEMPERATURE_GPU
constexpr int k_threshold_shutdown = 0;        // NVML_TEMPERATURE_THRESHOLD_SHUTDOWN
constexpr int k_threshold_slowdown = 1;        // ..._SLOWDOWN
constexpr int k_threshold_mem_max = 2;         // ..._MEM_MAX
constexpr int k_threshold_gpu_max = 3;         // ..._GPU_MAX
constexpr int k_clock_sm = 1;                  // NVML_CLOCK_SM
constexpr int k_clock_mem = 2;                 // NVML_CLOCK_MEM
constexpr int k_nvlink_replay = 0;             // NVML_NVLINK_ERROR_DL_REPLAY
constexpr int k_nvlink_recovery = 1;           // NVML_NVLINK_ERROR_DL_RECOVERY
constexpr int k_nvlink_crc_flit = 2;           // NVML_NVLINK_ERROR_DL_CRC_FLIT
constexpr int k_nvlink_crc_data = 3;           // NVML_NVLINK_ERROR_DL_CRC_DATA
constexpr unsigned k_nvlink_max_links = 18;    // NVML_NVLINK_MAX_LINKS
constexpr unsigned k_field_memory_temp = 82;   // NVML_FI_DEV_MEMORY_TEMP
constexpr unsigned long long k_event_sbe = 0x1, k_event_dbe = 0x2, k_event_xid = 0x8;

struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
};

struct nvmlMemory_t {
  unsigned long long total, free, used;
};

struct nvmlUtilization_t {
  unsigned int gpu, memory;
};

struct nvmlRowRemapperHistogramValues_t {
  unsigned int max, high, partial, low, none;
};

union nvmlValue_t {
  double dVal;
  int siVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  signed long long sllVal;
  unsigned short usVal;
};

struct nvmlFieldValue_t {
  unsigned int fieldId;
  unsigned int scopeId;
  long long timestamp;
  long long latencyUsec;
  int valueType;  // nvmlValueType_t
  nvmlReturn_t nvmlReturn;
  nvmlValue_t value;
};
static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t layout");

struct nvmlEventData_t {  // the _v2 layout used by nvmlEventSetWait_v2
  nvmlDevice_t device;
  unsigned long long eventType;
  unsigned long long eventData;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

constexpr int k_value_double = 0, k_value_uint = 1, k_value_ulong = 2, k_value_ullong = 3, k_value_sllong = 4,
              k_value_sint = 5, k_value_ushort = 6;

}  // namespace

struct Nvml::Api {
  DynLib lib;
  nvmlReturn_t (*Init)() = nullptr;
  const char* (*ErrorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*SystemGetDriverVersion)(char*, unsigned) = nullptr;
  nvmlReturn_t (*SystemGetNVMLVersion)(char*, unsigned) = nullptr;
  nvmlReturn_t (*SystemGetCudaDriverVersion)(int*) = nullptr;
  nvmlReturn_t (*DeviceGetCount)(unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*DeviceGetHandleByPciBusId)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*DeviceGetIndex)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*DeviceGetSerial)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*DeviceGetPciInfo)(nvmlDevice_t, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*DeviceGetVbiosVersion)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*DeviceGetCudaComputeCapability)(nvmlDevice_t, int*, int*) = nullptr;
  nvmlReturn_t (*DeviceGetPersistenceMode)(nvmlDevice_t, nvmlEnableState_t*) = nullptr;
  nvmlReturn_t (*DeviceGetMigMode)(nvmlDevice_t, unsigned*, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetEccMode)(nvmlDevice_t, nvmlEnableState_t*, nvmlEnableState_t*) = nullptr;
  nvmlReturn_t (*DeviceGetTotalEccErrors)(nvmlDevice_t, int, int, unsigned long long*) = nullptr;
  nvmlReturn_t (*DeviceGetRemappedRows)(nvmlDevice_t, unsigned*, unsigned*, unsigned*, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetRowRemapperHistogram)(nvmlDevice_t, nvmlRowRemapperHistogramValues_t*) = nullptr;
  nvmlReturn_t (*DeviceGetRetiredPages)(nvmlDevice_t, int, unsigned*, unsigned long long*) = nullptr;
  nvmlReturn_t (*DeviceGetRetiredPagesPendingStatus)(nvmlDevice_t, nvmlEnableState_t*) = nullptr;
  nvmlReturn_t (*DeviceGetClockEventReasons)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*DeviceGetCurrPcieLinkGeneration)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetCurrPcieLinkWidth)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetMaxPcieLinkGeneration)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetMaxPcieLinkWidth)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetGpuMaxPcieLinkGeneration)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetPcieReplayCounter)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetNvLinkState)(nvmlDevice_t, unsigned, nvmlEnableState_t*) = nullptr;
  nvmlReturn_t (*DeviceGetNvLinkErrorCounter)(nvmlDevice_t, unsigned, int, unsigned long long*) = nullptr;
  nvmlReturn_t (*DeviceGetTemperature)(nvmlDevice_t, int, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetTemperatureThreshold)(nvmlDevice_t, int, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetFieldValues)(nvmlDevice_t, int, nvmlFieldValue_t*) = nullptr;
  nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetEnforcedPowerLimit)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetPowerManagementDefaultLimit)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetClockInfo)(nvmlDevice_t, int, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetMaxClockInfo)(nvmlDevice_t, int, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*DeviceGetMemoryBusWidth)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*DeviceGetCpuAffinity)(nvmlDevice_t, unsigned, unsigned long*) = nullptr;
  nvmlReturn_t (*EventSetCreate)(nvmlEventSet_t*) = nullptr;
  nvmlReturn_t (*DeviceRegisterEvents)(nvmlDevice_t, unsigned long long, nvmlEventSet_t) = nullptr;
  nvmlReturn_t (*DeviceGetSupportedEventTypes)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*EventSetWait)(nvmlEventSet_t, nvmlEventData_t*, unsigned) = nullptr;
  nvmlReturn_t (*EventSetFree)(nvmlEventSet_t) = nullptr;

  std::string message(nvmlReturn_t rc) const {
    const char* s = ErrorString ? ErrorString(rc) : nullptr;
    std::string text = s && *s ? s : "NVML error";
    return text + " (NVML " + std::to_string(rc) + ")";
  }
};

namespace {

template <typename Fn>
void bind_optional(DynLib& lib, Fn& fn, const char* name) {
  fn = reinterpret_cast<Fn>(lib.symbol(name));
}

// Calls fn(args..., &out) when the entry point exists and wraps the result.
template <typename T, typename Fn, typename... Args>
Reading<T> query(const Nvml::Api& api, Fn fn, Args... args) {
  if (!fn) return Reading<T>::failed(k_nvml_function_not_found, "not provided by this NVML");
  T out{};
  nvmlReturn_t rc = fn(args..., &out);
  if (rc != k_nvml_success) return Reading<T>::failed(rc, api.message(rc));
  return Reading<T>::of(out);
}

// For entry points that write an unsigned long long (std::uint64_t is
// unsigned long on LP64, a different type to the compiler).
template <typename Fn, typename... Args>
Reading<std::uint64_t> query_u64(const Nvml::Api& api, Fn fn, Args... args) {
  auto r = query<unsigned long long>(api, fn, args...);
  Reading<std::uint64_t> out;
  out.status = r.status;
  out.error = r.error;
  if (r.value) out.value = static_cast<std::uint64_t>(*r.value);
  return out;
}

Reading<std::string> query_string(const Nvml::Api& api, nvmlReturn_t (*fn)(nvmlDevice_t, char*, unsigned),
                                  nvmlDevice_t dev) {
  if (!fn) return Reading<std::string>::failed(k_nvml_function_not_found, "not provided by this NVML");
  char buf[128] = {};
  nvmlReturn_t rc = fn(dev, buf, sizeof buf - 1);
  if (rc != k_nvml_success) return Reading<std::string>::failed(rc, api.message(rc));
  return Reading<std::string>::of(std::string(trim(buf)));
}

Reading<bool> as_bool(const Reading<int>& r) {
  Reading<bool> b;
  b.status = r.status;
  b.error = r.error;
  if (r.value) b.value = *r.value != 0;
  return b;
}

template <typename T, typename U>
Reading<T> convert(const Reading<U>& r, T value) {
  Reading<T> out;
  out.status = r.status;
  out.error = r.error;
  if (r.value) out.value = value;
  return out;
}

}  // namespace

std::vector<std::string> clock_event_reason_names(std::uint64_t mask) {
  static const std::pair<std::uint64_t, const char*> names[] = {
      {k_clock_gpu_idle, "gpu_idle"},
      {k_clock_app_clocks_setting, "applications_clocks_setting"},
      {k_clock_sw_power_cap, "sw_power_cap"},
      {k_clock_hw_slowdown, "hw_slowdown"},
      {k_clock_sync_boost, "sync_boost"},
      {k_clock_sw_thermal, "sw_thermal_slowdown"},
      {k_clock_hw_thermal, "hw_thermal_slowdown"},
      {k_clock_hw_power_brake, "hw_power_brake_slowdown"},
      {k_clock_display_clock_setting, "display_clock_setting"},
  };
  std::vector<std::string> out;
  std::uint64_t known = 0;
  for (const auto& [bit, name] : names) {
    known |= bit;
    if (mask & bit) out.push_back(name);
  }
  if (mask & ~known) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "other_0x%llx", static_cast<unsigned long long>(mask & ~known));
    out.push_back(buf);
  }
  return out;
}

std::string format_cuda_version(int version) {
  if (version <= 0) return "";
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

Nvml& Nvml::instance() {
  static Nvml nvml;
  return nvml;
}

Nvml::Nvml() {
  m_api = new Api();  // lives for the process: NVML is never unloaded
  Api& a = *m_api;
  std::vector<std::string> names;
  if (const char* env = std::getenv("AICLOUDCTL_NVML"); env && *env) names.push_back(env);
  names.push_back("libnvidia-ml.so.1");
  if (!a.lib.open(names)) {
    m_error = "NVML is not available: " + a.lib.error() +
              ". Install the NVIDIA driver (it ships libnvidia-ml.so.1) or point AICLOUDCTL_NVML at it";
    return;
  }
  m_path = a.lib.loaded_path();
  bool required = a.lib.bind(a.Init, "nvmlInit_v2") && a.lib.bind(a.ErrorString, "nvmlErrorString") &&
                  a.lib.bind(a.DeviceGetCount, "nvmlDeviceGetCount_v2") &&
                  a.lib.bind(a.DeviceGetHandleByIndex, "nvmlDeviceGetHandleByIndex_v2");
  if (!required) {
    m_error = "NVML at " + m_path + " is unusable: " + a.lib.error();
    return;
  }
  DynLib& l = a.lib;
  bind_optional(l, a.SystemGetDriverVersion, "nvmlSystemGetDriverVersion");
  bind_optional(l, a.SystemGetNVMLVersion, "nvmlSystemGetNVMLVersion");
  bind_optional(l, a.SystemGetCudaDriverVersion, "nvmlSystemGetCudaDriverVersion_v2");
  if (!a.SystemGetCudaDriverVersion) bind_optional(l, a.SystemGetCudaDriverVersion, "nvmlSystemGetCudaDriverVersion");
  bind_optional(l, a.DeviceGetHandleByPciBusId, "nvmlDeviceGetHandleByPciBusId_v2");
  bind_optional(l, a.DeviceGetIndex, "nvmlDeviceGetIndex");
  bind_optional(l, a.DeviceGetName, "nvmlDeviceGetName");
  bind_optional(l, a.DeviceGetUUID, "nvmlDeviceGetUUID");
  bind_optional(l, a.DeviceGetSerial, "nvmlDeviceGetSerial");
  bind_optional(l, a.DeviceGetPciInfo, "nvmlDeviceGetPciInfo_v3");
  bind_optional(l, a.DeviceGetVbiosVersion, "nvmlDeviceGetVbiosVersion");
  bind_optional(l, a.DeviceGetCudaComputeCapability, "nvmlDeviceGetCudaComputeCapability");
  bind_optional(l, a.DeviceGetPersistenceMode, "nvmlDeviceGetPersistenceMode");
  bind_optional(l, a.DeviceGetMigMode, "nvmlDeviceGetMigMode");
  bind_optional(l, a.DeviceGetEccMode, "nvmlDeviceGetEccMode");
  bind_optional(l, a.DeviceGetTotalEccErrors, "nvmlDeviceGetTotalEccErrors");
  bind_optional(l, a.DeviceGetRemappedRows, "nvmlDeviceGetRemappedRows");
  bind_optional(l, a.DeviceGetRowRemapperHistogram, "nvmlDeviceGetRowRemapperHistogram");
  bind_optional(l, a.DeviceGetRetiredPages, "nvmlDeviceGetRetiredPages");
  bind_optional(l, a.DeviceGetRetiredPagesPendingStatus, "nvmlDeviceGetRetiredPagesPendingStatus");
  // The "clocks event" name replaced the deprecated "throttle" one (R535+).
  bind_optional(l, a.DeviceGetClockEventReasons, "nvmlDeviceGetCurrentClocksEventReasons");
  if (!a.DeviceGetClockEventReasons)
    bind_optional(l, a.DeviceGetClockEventReasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
  bind_optional(l, a.DeviceGetCurrPcieLinkGeneration, "nvmlDeviceGetCurrPcieLinkGeneration");
  bind_optional(l, a.DeviceGetCurrPcieLinkWidth, "nvmlDeviceGetCurrPcieLinkWidth");
  bind_optional(l, a.DeviceGetMaxPcieLinkGeneration, "nvmlDeviceGetMaxPcieLinkGeneration");
  bind_optional(l, a.DeviceGetMaxPcieLinkWidth, "nvmlDeviceGetMaxPcieLinkWidth");
  bind_optional(l, a.DeviceGetGpuMaxPcieLinkGeneration, "nvmlDeviceGetGpuMaxPcieLinkGeneration");
  bind_optional(l, a.DeviceGetPcieReplayCounter, "nvmlDeviceGetPcieReplayCounter");
  bind_optional(l, a.DeviceGetNvLinkState, "nvmlDeviceGetNvLinkState");
  bind_optional(l, a.DeviceGetNvLinkErrorCounter, "nvmlDeviceGetNvLinkErrorCounter");
  bind_optional(l, a.DeviceGetTemperature, "nvmlDeviceGetTemperature");
  bind_optional(l, a.DeviceGetTemperatureThreshold, "nvmlDeviceGetTemperatureThreshold");
  bind_optional(l, a.DeviceGetFieldValues, "nvmlDeviceGetFieldValues");
  bind_optional(l, a.DeviceGetPowerUsage, "nvmlDeviceGetPowerUsage");
  bind_optional(l, a.DeviceGetEnforcedPowerLimit, "nvmlDeviceGetEnforcedPowerLimit");
  bind_optional(l, a.DeviceGetPowerManagementDefaultLimit, "nvmlDeviceGetPowerManagementDefaultLimit");
  bind_optional(l, a.DeviceGetClockInfo, "nvmlDeviceGetClockInfo");
  bind_optional(l, a.DeviceGetMaxClockInfo, "nvmlDeviceGetMaxClockInfo");
  bind_optional(l, a.DeviceGetMemoryInfo, "nvmlDeviceGetMemoryInfo");
  bind_optional(l, a.DeviceGetMemoryBusWidth, "nvmlDeviceGetMemoryBusWidth");
  bind_optional(l, a.DeviceGetUtilizationRates, "nvmlDeviceGetUtilizationRates");
  bind_optional(l, a.DeviceGetCpuAffinity, "nvmlDeviceGetCpuAffinity");
  bind_optional(l, a.EventSetCreate, "nvmlEventSetCreate");
  bind_optional(l, a.DeviceRegisterEvents, "nvmlDeviceRegisterEvents");
  bind_optional(l, a.DeviceGetSupportedEventTypes, "nvmlDeviceGetSupportedEventTypes");
  bind_optional(l, a.EventSetWait, "nvmlEventSetWait_v2");
  bind_optional(l, a.EventSetFree, "nvmlEventSetFree");

  nvmlReturn_t rc = a.Init();
  if (rc != k_nvml_success) {
    m_error = "nvmlInit failed: " + a.message(rc);
    if (rc == k_nvml_driver_not_loaded) m_error += "; the NVIDIA kernel driver is not loaded (check 'lsmod | grep nvidia')";
    if (rc == k_nvml_lib_rm_version_mismatch)
      m_error += "; libnvidia-ml and the kernel driver differ in version (reboot after a driver upgrade)";
    return;
  }
  m_available = true;
}

NvmlSystem Nvml::system() {
  NvmlSystem s;
  if (!m_available) return s;
  const Api& a = *m_api;
  auto text = [&](nvmlReturn_t (*fn)(char*, unsigned)) {
    if (!fn) return Reading<std::string>::failed(k_nvml_function_not_found, "not provided by this NVML");
    char buf[96] = {};
    nvmlReturn_t rc = fn(buf, sizeof buf - 1);
    if (rc != k_nvml_success) return Reading<std::string>::failed(rc, a.message(rc));
    return Reading<std::string>::of(buf);
  };
  s.driver_version = text(a.SystemGetDriverVersion);
  s.nvml_version = text(a.SystemGetNVMLVersion);
  s.cuda_driver_version = query<int>(a, a.SystemGetCudaDriverVersion);
  s.device_count = query<unsigned>(a, a.DeviceGetCount);
  return s;
}

namespace {

EccCounts read_ecc(const Nvml::Api& a, nvmlDevice_t d) {
  EccCounts e;
  e.volatile_corrected = query_u64(a, a.DeviceGetTotalEccErrors, d, k_memory_error_corrected, k_volatile_ecc);
  e.volatile_uncorrected =
      query_u64(a, a.DeviceGetTotalEccErrors, d, k_memory_error_uncorrected, k_volatile_ecc);
  e.aggregate_corrected =
      query_u64(a, a.DeviceGetTotalEccErrors, d, k_memory_error_corrected, k_aggregate_ecc);
  e.aggregate_uncorrected =
      query_u64(a, a.DeviceGetTotalEccErrors, d, k_memory_error_uncorrected, k_aggregate_ecc);
  return e;
}

Reading<RowRemap> read_remap(const Nvml::Api& a, nvmlDevice_t d) {
  if (!a.DeviceGetRemappedRows) return Reading<RowRemap>::failed(k_nvml_function_not_found, "not provided by this NVML");
  unsigned corr = 0, unc = 0, pending = 0, failure = 0;
  nvmlReturn_t rc = a.DeviceGetRemappedRows(d, &corr, &unc, &pending, &failure);
  if (rc != k_nvml_success) return Reading<RowRemap>::failed(rc, a.message(rc));
  return Reading<RowRemap>::of(RowRemap{corr, unc, pending != 0, failure != 0});
}

Reading<RetiredPages> read_retired(const Nvml::Api& a, nvmlDevice_t d) {
  if (!a.DeviceGetRetiredPages)
    return Reading<RetiredPages>::failed(k_nvml_function_not_found, "not provided by this NVML");
  RetiredPages p;
  for (int cause : {k_retire_multiple_sbe, k_retire_dbe}) {
    unsigned count = 0;
    // A zero-sized query returns the count (SUCCESS when there are none,
    // INSUFFICIENT_SIZE when there are some).
    nvmlReturn_t rc = a.DeviceGetRetiredPages(d, cause, &count, nullptr);
    if (rc != k_nvml_success && rc != k_nvml_insufficient_size) return Reading<RetiredPages>::failed(rc, a.message(rc));
    (cause == k_retire_dbe ? p.double_bit : p.single_bit) = count;
  }
  if (a.DeviceGetRetiredPagesPendingStatus) {
    int pending = 0;
    nvmlReturn_t rc = a.DeviceGetRetiredPagesPendingStatus(d, &pending);
    if (rc == k_nvml_success) p.pending = pending != 0;
  }
  return Reading<RetiredPages>::of(p);
}

std::vector<NvLinkFacts> read_nvlinks(const Nvml::Api& a, nvmlDevice_t d) {
  std::vector<NvLinkFacts> links;
  if (!a.DeviceGetNvLinkState) return links;
  for (unsigned l = 0; l < k_nvlink_max_links; ++l) {
    int state = 0;
    nvmlReturn_t rc = a.DeviceGetNvLinkState(d, l, &state);
    // Links that do not exist answer NOT_SUPPORTED or INVALID_ARGUMENT.
    if (rc != k_nvml_success) continue;
    NvLinkFacts f;
    f.link = l;
    f.active = state != 0;
    f.replay = query_u64(a, a.DeviceGetNvLinkErrorCounter, d, l, k_nvlink_replay);
    f.recovery = query_u64(a, a.DeviceGetNvLinkErrorCounter, d, l, k_nvlink_recovery);
    f.crc_flit = query_u64(a, a.DeviceGetNvLinkErrorCounter, d, l, k_nvlink_crc_flit);
    f.crc_data = query_u64(a, a.DeviceGetNvLinkErrorCounter, d, l, k_nvlink_crc_data);
    links.push_back(std::move(f));
  }
  return links;
}

Reading<unsigned> read_hbm_temp(const Nvml::Api& a, nvmlDevice_t d) {
  if (!a.DeviceGetFieldValues) return Reading<unsigned>::failed(k_nvml_function_not_found, "not provided by this NVML");
  nvmlFieldValue_t fv{};
  fv.fieldId = k_field_memory_temp;
  nvmlReturn_t rc = a.DeviceGetFieldValues(d, 1, &fv);
  if (rc != k_nvml_success) return Reading<unsigned>::failed(rc, a.message(rc));
  if (fv.nvmlReturn != k_nvml_success) return Reading<unsigned>::failed(fv.nvmlReturn, a.message(fv.nvmlReturn));
  long long v = 0;
  switch (fv.valueType) {
    case k_value_double: v = static_cast<long long>(fv.value.dVal); break;
    case k_value_uint: v = fv.value.uiVal; break;
    case k_value_ulong: v = static_cast<long long>(fv.value.ulVal); break;
    case k_value_ullong: v = static_cast<long long>(fv.value.ullVal); break;
    case k_value_sllong: v = fv.value.sllVal; break;
    case k_value_sint: v = fv.value.siVal; break;
    case k_value_ushort: v = fv.value.usVal; break;
    default: return Reading<unsigned>::failed(k_nvml_unknown, "unexpected value type");
  }
  // Boards without an HBM sensor report 0.
  if (v <= 0) return Reading<unsigned>::failed(k_nvml_not_supported, "no memory temperature sensor");
  return Reading<unsigned>::of(static_cast<unsigned>(v));
}

Reading<double> milliwatts(const Nvml::Api& a, nvmlReturn_t (*fn)(nvmlDevice_t, unsigned*), nvmlDevice_t d) {
  auto r = query<unsigned>(a, fn, d);
  return convert<double>(r, r.value ? *r.value / 1000.0 : 0.0);
}

}  // namespace

GpuFacts Nvml::read_gpu(unsigned index) {
  GpuFacts f;
  f.index = index;
  if (!m_available) {
    f.handle_error = m_error;
    f.handle_status = k_nvml_uninitialized;
    return f;
  }
  const Api& a = *m_api;
  nvmlDevice_t d = nullptr;
  nvmlReturn_t rc = a.DeviceGetHandleByIndex(index, &d);
  if (rc != k_nvml_success) {
    f.handle_error = a.message(rc);
    f.handle_status = rc;
    return f;
  }
  f.name = query_string(a, a.DeviceGetName, d);
  f.uuid = query_string(a, a.DeviceGetUUID, d);
  f.serial = query_string(a, a.DeviceGetSerial, d);
  f.vbios = query_string(a, a.DeviceGetVbiosVersion, d);
  {
    auto pci = query<nvmlPciInfo_t>(a, a.DeviceGetPciInfo, d);
    f.pci_bus_id = convert<std::string>(pci, pci.value ? std::string(pci.value->busId) : std::string());
  }
  if (a.DeviceGetCudaComputeCapability) {
    int major = 0, minor = 0;
    nvmlReturn_t r = a.DeviceGetCudaComputeCapability(d, &major, &minor);
    f.compute_capability = r == k_nvml_success ? Reading<std::pair<int, int>>::of({major, minor})
                                               : Reading<std::pair<int, int>>::failed(r, a.message(r));
  }
  f.persistence = as_bool(query<int>(a, a.DeviceGetPersistenceMode, d));
  if (a.DeviceGetMigMode) {
    unsigned cur = 0, pend = 0;
    nvmlReturn_t r = a.DeviceGetMigMode(d, &cur, &pend);
    if (r == k_nvml_success) {
      f.mig_current = Reading<bool>::of(cur != 0);
      f.mig_pending = Reading<bool>::of(pend != 0);
    } else {
      f.mig_current = f.mig_pending = Reading<bool>::failed(r, a.message(r));
    }
  } else {
    f.mig_current = f.mig_pending = Reading<bool>::failed(k_nvml_function_not_found, "not provided by this NVML");
  }
  if (a.DeviceGetEccMode) {
    int cur = 0, pend = 0;
    nvmlReturn_t r = a.DeviceGetEccMode(d, &cur, &pend);
    if (r == k_nvml_success) {
      f.ecc_current = Reading<bool>::of(cur != 0);
      f.ecc_pending = Reading<bool>::of(pend != 0);
    } else {
      f.ecc_current = f.ecc_pending = Reading<bool>::failed(r, a.message(r));
    }
  } else {
    f.ecc_current = f.ecc_pending = Reading<bool>::failed(k_nvml_function_not_found, "not provided by this NVML");
  }
  f.ecc = read_ecc(a, d);
  f.remap = read_remap(a, d);
  {
    auto h = query<nvmlRowRemapperHistogramValues_t>(a, a.DeviceGetRowRemapperHistogram, d);
    RemapHistogram rh;
    if (h.value) rh = {h.value->max, h.value->high, h.value->partial, h.value->low, h.value->none};
    f.remap_histogram = convert<RemapHistogram>(h, rh);
  }
  f.retired = read_retired(a, d);
  f.clock_events = query_u64(a, a.DeviceGetClockEventReasons, d);
  f.pcie.gen = query<unsigned>(a, a.DeviceGetCurrPcieLinkGeneration, d);
  f.pcie.width = query<unsigned>(a, a.DeviceGetCurrPcieLinkWidth, d);
  f.pcie.max_gen = query<unsigned>(a, a.DeviceGetMaxPcieLinkGeneration, d);
  f.pcie.max_width = query<unsigned>(a, a.DeviceGetMaxPcieLinkWidth, d);
  f.pcie.gpu_max_gen = query<unsigned>(a, a.DeviceGetGpuMaxPcieLinkGeneration, d);
  f.pcie.replay_counter = query<unsigned>(a, a.DeviceGetPcieReplayCounter, d);
  f.nvlinks = read_nvlinks(a, d);
  f.temp_gpu = query<unsigned>(a, a.DeviceGetTemperature, d, k_temperature_gpu);
  f.temp_hbm = read_hbm_temp(a, d);
  f.temp_shutdown = query<unsigned>(a, a.DeviceGetTemperatureThreshold, d, k_threshold_shutdown);
  f.temp_slowdown = query<unsigned>(a, a.DeviceGetTemperatureThreshold, d, k_threshold_slowdown);
  f.temp_mem_max = query<unsigned>(a, a.DeviceGetTemperatureThreshold, d, k_threshold_mem_max);
  f.temp_gpu_max = query<unsigned>(a, a.DeviceGetTemperatureThreshold, d, k_threshold_gpu_max);
  f.power_w = milliwatts(a, a.DeviceGetPowerUsage, d);
  f.power_limit_w = milliwatts(a, a.DeviceGetEnforcedPowerLimit, d);
  f.power_default_limit_w = milliwatts(a, a.DeviceGetPowerManagementDefaultLimit, d);
  f.sm_clock_mhz = query<unsigned>(a, a.DeviceGetClockInfo, d, k_clock_sm);
  f.mem_clock_mhz = query<unsigned>(a, a.DeviceGetClockInfo, d, k_clock_mem);
  f.max_sm_clock_mhz = query<unsigned>(a, a.DeviceGetMaxClockInfo, d, k_clock_sm);
  f.max_mem_clock_mhz = query<unsigned>(a, a.DeviceGetMaxClockInfo, d, k_clock_mem);
  f.memory_bus_width_bits = query<unsigned>(a, a.DeviceGetMemoryBusWidth, d);
  {
    auto m = query<nvmlMemory_t>(a, a.DeviceGetMemoryInfo, d);
    f.memory_total = convert<std::uint64_t>(m, m.value ? m.value->total : 0);
    f.memory_used = convert<std::uint64_t>(m, m.value ? m.value->used : 0);
  }
  return f;
}

GpuCounters Nvml::read_counters(unsigned index) {
  GpuCounters c;
  if (!m_available) return c;
  const Api& a = *m_api;
  nvmlDevice_t d = nullptr;
  nvmlReturn_t rc = a.DeviceGetHandleByIndex(index, &d);
  if (rc != k_nvml_success) {
    c.pcie_replay = Reading<unsigned>::failed(rc, a.message(rc));
    c.remap = Reading<RowRemap>::failed(rc, a.message(rc));
    return c;
  }
  c.ecc = read_ecc(a, d);
  c.remap = read_remap(a, d);
  c.retired = read_retired(a, d);
  c.pcie_replay = query<unsigned>(a, a.DeviceGetPcieReplayCounter, d);
  c.nvlinks = read_nvlinks(a, d);
  return c;
}

GpuSample Nvml::sample(unsigned index) {
  GpuSample s;
  if (!m_available) return s;
  const Api& a = *m_api;
  nvmlDevice_t d = nullptr;
  nvmlReturn_t rc = a.DeviceGetHandleByIndex(index, &d);
  if (rc != k_nvml_success) {
    s.power_w = Reading<double>::failed(rc, a.message(rc));
    return s;
  }
  s.power_w = milliwatts(a, a.DeviceGetPowerUsage, d);
  s.temp_gpu = query<unsigned>(a, a.DeviceGetTemperature, d, k_temperature_gpu);
  s.temp_hbm = read_hbm_temp(a, d);
  s.sm_clock_mhz = query<unsigned>(a, a.DeviceGetClockInfo, d, k_clock_sm);
  s.mem_clock_mhz = query<unsigned>(a, a.DeviceGetClockInfo, d, k_clock_mem);
  s.pcie_gen = query<unsigned>(a, a.DeviceGetCurrPcieLinkGeneration, d);
  s.pcie_width = query<unsigned>(a, a.DeviceGetCurrPcieLinkWidth, d);
  s.clock_events = query_u64(a, a.DeviceGetClockEventReasons, d);
  auto u = query<nvmlUtilization_t>(a, a.DeviceGetUtilizationRates, d);
  s.util_gpu = convert<unsigned>(u, u.value ? u.value->gpu : 0u);
  return s;
}

Reading<std::vector<unsigned long>> Nvml::cpu_affinity(unsigned index) {
  using R = Reading<std::vector<unsigned long>>;
  if (!m_available) return R::failed(k_nvml_uninitialized, m_error);
  const Api& a = *m_api;
  if (!a.DeviceGetCpuAffinity) return R::failed(k_nvml_function_not_found, "not provided by this NVML");
  nvmlDevice_t d = nullptr;
  nvmlReturn_t rc = a.DeviceGetHandleByIndex(index, &d);
  if (rc != k_nvml_success) return R::failed(rc, a.message(rc));
  std::vector<unsigned long> set(64, 0);  // 4096 CPUs
  rc = a.DeviceGetCpuAffinity(d, static_cast<unsigned>(set.size()), set.data());
  if (rc != k_nvml_success) return R::failed(rc, a.message(rc));
  return R::of(std::move(set));
}

Reading<unsigned> Nvml::index_of_bus_id(const std::string& bus_id) {
  if (!m_available) return Reading<unsigned>::failed(k_nvml_uninitialized, m_error);
  const Api& a = *m_api;
  if (!a.DeviceGetHandleByPciBusId || !a.DeviceGetIndex)
    return Reading<unsigned>::failed(k_nvml_function_not_found, "not provided by this NVML");
  nvmlDevice_t d = nullptr;
  nvmlReturn_t rc = a.DeviceGetHandleByPciBusId(bus_id.c_str(), &d);
  if (rc != k_nvml_success) return Reading<unsigned>::failed(rc, a.message(rc));
  return query<unsigned>(a, a.DeviceGetIndex, d);
}

bool Nvml::start_events(const std::vector<unsigned>& indices, std::string* why) {
  auto fail = [&](const std::string& reason) {
    if (why) *why = reason;
    stop_events();
    return false;
  };
  if (!m_available) return fail(m_error);
  const Api& a = *m_api;
  if (!a.EventSetCreate || !a.DeviceRegisterEvents || !a.EventSetWait || !a.EventSetFree)
    return fail("this NVML has no event API");
  nvmlEventSet_t set = nullptr;
  nvmlReturn_t rc = a.EventSetCreate(&set);
  if (rc != k_nvml_success) return fail("nvmlEventSetCreate: " + a.message(rc));
  m_event_set = set;
  for (unsigned idx : indices) {
    nvmlDevice_t d = nullptr;
    rc = a.DeviceGetHandleByIndex(idx, &d);
    if (rc != k_nvml_success) return fail("GPU " + std::to_string(idx) + ": " + a.message(rc));
    unsigned long long wanted = k_event_xid | k_event_sbe | k_event_dbe;
    if (a.DeviceGetSupportedEventTypes) {
      unsigned long long supported = 0;
      if (a.DeviceGetSupportedEventTypes(d, &supported) == k_nvml_success) wanted &= supported;
    }
    if (!(wanted & k_event_xid)) return fail("GPU " + std::to_string(idx) + " does not report XID events through NVML");
    rc = a.DeviceRegisterEvents(d, wanted, set);
    if (rc != k_nvml_success) return fail("nvmlDeviceRegisterEvents on GPU " + std::to_string(idx) + ": " + a.message(rc));
    m_event_devices.emplace_back(d, idx);
  }
  return true;
}

std::optional<NvmlEvent> Nvml::poll_event(unsigned timeout_ms) {
  if (!m_event_set) return std::nullopt;
  const Api& a = *m_api;
  nvmlEventData_t data{};
  nvmlReturn_t rc = a.EventSetWait(static_cast<nvmlEventSet_t>(m_event_set), &data, timeout_ms);
  if (rc != k_nvml_success) return std::nullopt;  // timeout or no event
  NvmlEvent e;
  for (const auto& [dev, idx] : m_event_devices)
    if (static_cast<void*>(dev) == static_cast<void*>(data.device)) e.gpu = idx;
  if (data.eventType & k_event_xid) {
    e.kind = "xid";
    e.xid = data.eventData;
  } else if (data.eventType & k_event_dbe) {
    e.kind = "dbe";
  } else if (data.eventType & k_event_sbe) {
    e.kind = "sbe";
  } else {
    e.kind = "other";
  }
  return e;
}

void Nvml::stop_events() {
  if (m_event_set && m_api->EventSetFree) m_api->EventSetFree(static_cast<nvmlEventSet_t>(m_event_set));
  m_event_set = nullptr;
  m_event_devices.clear();
}

}  // namespace aicloud::gpu
