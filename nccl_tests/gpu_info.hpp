// What a rank tells the controller about its GPU (kept free of JSON so that
// the CUDA side, device.cu, can fill it without the JSON headers).
#pragma once

#include <cstdint>
#include <string>

namespace aicloud::nccl_tests {

struct GpuInfo {
  int index = -1;
  std::string name;        // "NVIDIA H100 80GB HBM3"
  std::string pci_bus_id;  // "0000:18:00.0"
  std::string uuid;        // "GPU-8b0f...."
  std::uint64_t memory_total = 0;
  int cc_major = 0, cc_minor = 0;
};

}  // namespace aicloud::nccl_tests
