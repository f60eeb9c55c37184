// libcuda probe with our own declarations of the handful of driver entry
// points used (CUresult is an int, CUdevice an int), so that this file
// builds with or without the CUDA toolkit.
#include "gpu/cuda_driver.hpp"

#include <cstdlib>

#include "common/dynlib.hpp"
#include "common/strings.hpp"

namespace aicloud::gpu {

namespace {

using CUresult = int;
using CUdevice = int;
constexpr int k_attr_cc_major = 75;     // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int k_attr_cc_minor = 76;     // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
constexpr int k_attr_sm_count = 16;     // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT

struct DriverApi {
  DynLib lib;
  CUresult (*Init)(unsigned) = nullptr;
  CUresult (*DriverGetVersion)(int*) = nullptr;
  CUresult (*DeviceGetCount)(int*) = nullptr;
  CUresult (*DeviceGet)(CUdevice*, int) = nullptr;
  CUresult (*DeviceGetName)(char*, int, CUdevice) = nullptr;
  CUresult (*DeviceGetAttribute)(int*, int, CUdevice) = nullptr;
  CUresult (*DeviceTotalMem)(std::size_t*, CUdevice) = nullptr;
  CUresult (*DeviceGetPCIBusId)(char*, int, CUdevice) = nullptr;
  CUresult (*GetErrorName)(CUresult, const char**) = nullptr;
  CUresult (*GetErrorString)(CUresult, const char**) = nullptr;

  std::string describe(CUresult rc) const {
    const char* name = nullptr;
    const char* text = nullptr;
    if (GetErrorName) GetErrorName(rc, &name);
    if (GetErrorString) GetErrorString(rc, &text);
    std::string s = name ? name : "CUDA error " + std::to_string(rc);
    if (text) s += std::string(": ") + text;
    return s;
  }
};

}  // namespace

std::string cuda_init_remediation(int status) {
  switch (status) {
    case 100: return "no CUDA device is visible: check 'nvidia-smi', the device nodes (/dev/nvidia*) and CUDA_VISIBLE_DEVICES";
    case 35: return "the driver is older than this CUDA build needs: upgrade the NVIDIA driver";
    case 802: return "the system is not initialised: on NVSwitch systems start nvidia-fabricmanager (systemctl start nvidia-fabricmanager)";
    case 803: return "the driver and the CUDA library versions do not match: reboot after the driver upgrade or reinstall the driver";
    case 999: return "unknown driver error: check dmesg for XID errors, reset the GPU or reboot";
    case 3: return "the driver failed to initialise: check dmesg and 'nvidia-smi'";
    default: return "check 'nvidia-smi' and the kernel log";
  }
}

CudaDriverInfo probe_cuda_driver() {
  static DriverApi* api = new DriverApi();  // never unloaded
  CudaDriverInfo info;
  std::vector<std::string> names;
  if (const char* env = std::getenv("AICLOUDCTL_LIBCUDA"); env && *env) names.push_back(env);
  names.push_back("libcuda.so.1");
  DriverApi& a = *api;
  if (!a.lib.is_open() && !a.lib.open(names)) {
    info.error = "the CUDA driver library is not available: " + a.lib.error() + ". Install the NVIDIA driver";
    return info;
  }
  info.library_path = a.lib.loaded_path();
  bool ok = a.lib.bind(a.Init, "cuInit") && a.lib.bind(a.DriverGetVersion, "cuDriverGetVersion") &&
            a.lib.bind(a.DeviceGetCount, "cuDeviceGetCount") && a.lib.bind(a.DeviceGet, "cuDeviceGet") &&
            a.lib.bind(a.DeviceGetName, "cuDeviceGetName") && a.lib.bind(a.DeviceGetAttribute, "cuDeviceGetAttribute") &&
            a.lib.bind(a.DeviceTotalMem, "cuDeviceTotalMem_v2") && a.lib.bind(a.DeviceGetPCIBusId, "cuDeviceGetPCIBusId");
  a.lib.bind(a.GetErrorName, "cuGetErrorName");
  a.lib.bind(a.GetErrorString, "cuGetErrorString");
  if (!ok) {
    info.error = "libcuda at " + info.library_path + " is unusable: " + a.lib.error();
    return info;
  }
  info.loaded = true;
  a.DriverGetVersion(&info.version);
  CUresult rc = a.Init(0);
  info.init_status = rc;
  if (rc != 0) {
    info.init_error = a.describe(rc);
    info.error = "cuInit failed: " + info.init_error;
    return info;
  }
  info.initialized = true;
  int count = 0;
  rc = a.DeviceGetCount(&count);
  if (rc != 0) {
    info.error = "cuDeviceGetCount failed: " + a.describe(rc);
    return info;
  }
  for (int i = 0; i < count; ++i) {
    CudaDriverDevice d;
    d.ordinal = i;
    CUdevice dev = 0;
    if (a.DeviceGet(&dev, i) != 0) continue;
    char buf[256] = {};
    if (a.DeviceGetName(buf, sizeof buf - 1, dev) == 0) d.name = buf;
    char bus[64] = {};
    if (a.DeviceGetPCIBusId(bus, sizeof bus - 1, dev) == 0) d.pci_bus_id = bus;
    a.DeviceGetAttribute(&d.cc_major, k_attr_cc_major, dev);
    a.DeviceGetAttribute(&d.cc_minor, k_attr_cc_minor, dev);
    a.DeviceGetAttribute(&d.sm_count, k_attr_sm_count, dev);
    std::size_t mem = 0;
    if (a.DeviceTotalMem(&mem, dev) == 0) d.total_memory = mem;
    info.devices.push_back(std::move(d));
  }
  return info;
}

}  // namespace aicloud::gpu
