// The CUDA driver library (libcuda.so.1) probed at run time: is it there,
// which CUDA version does it support, does cuInit succeed, and which devices
// does it see. `health` reports this next to NVML, because a node whose NVML
// works but whose cuInit fails (fabric manager not running, driver/library
// mismatch, no device nodes in a container) cannot run any CUDA work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aicloud::gpu {

struct CudaDriverDevice {
  int ordinal = 0;
  std::string name;
  std::string pci_bus_id;  // "0000:3B:00.0"
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  std::uint64_t total_memory = 0;
};

struct CudaDriverInfo {
  bool loaded = false;      // libcuda.so.1 could be opened and its entry points bound
  std::string library_path;
  std::string error;        // why not loaded, or why cuInit failed
  int version = 0;          // cuDriverGetVersion, e.g. 13000
  bool initialized = false; // cuInit(0) succeeded
  int init_status = -1;     // CUresult of cuInit
  std::string init_error;   // "CUDA_ERROR_SYSTEM_NOT_READY: system not yet initialized"
  std::vector<CudaDriverDevice> devices;
};

// Loads libcuda.so.1 (AICLOUDCTL_LIBCUDA overrides the path), calls cuInit(0)
// and lists the devices. Never throws; everything that went wrong is in the
// result. Creates no CUDA context.
CudaDriverInfo probe_cuda_driver();

// A hint for a failed cuInit status (e.g. 802 -> start nvidia-fabricmanager).
std::string cuda_init_remediation(int status);

}  // namespace aicloud::gpu
