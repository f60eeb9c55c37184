// Hand-built NVML facts for the health and burn-in rule tests: a healthy
// H100-like GPU that each test then breaks in one way.
#pragma once

#include <cstdio>

#include "gpu/nvml.hpp"

namespace aicloud::burnin::fixtures {

inline gpu::GpuFacts healthy_gpu(unsigned index) {
  using gpu::Reading;
  gpu::GpuFacts f;
  f.index = index;
  f.name = Reading<std::string>::of("NVIDIA H100 80GB HBM3");
  f.uuid = Reading<std::string>::of("GPU-0000000" + std::to_string(index) + "-aaaa-bbbb-cccc-dddddddddddd");
  f.serial = Reading<std::string>::of("165" + std::to_string(index));
  char bus[32];
  std::snprintf(bus, sizeof bus, "00000000:%02X:00.0", 0x18 + index * 0x10);
  f.pci_bus_id = Reading<std::string>::of(bus);
  f.vbios = Reading<std::string>::of("96.00.74.00.01");
  f.compute_capability = Reading<std::pair<int, int>>::of({9, 0});
  f.persistence = Reading<bool>::of(true);
  f.mig_current = Reading<bool>::of(false);
  f.mig_pending = Reading<bool>::of(false);
  f.ecc_current = Reading<bool>::of(true);
  f.ecc_pending = Reading<bool>::of(true);
  f.ecc.volatile_corrected = Reading<std::uint64_t>::of(0);
  f.ecc.volatile_uncorrected = Reading<std::uint64_t>::of(0);
  f.ecc.aggregate_corrected = Reading<std::uint64_t>::of(3);
  f.ecc.aggregate_uncorrected = Reading<std::uint64_t>::of(0);
  f.remap = Reading<gpu::RowRemap>::of(gpu::RowRemap{0, 0, false, false});
  f.remap_histogram = Reading<gpu::RemapHistogram>::of(gpu::RemapHistogram{640, 0, 0, 0, 0});
  f.retired = Reading<gpu::RetiredPages>::failed(gpu::k_nvml_not_supported, "Not Supported");
  f.clock_events = Reading<std::uint64_t>::of(gpu::k_clock_gpu_idle);
  f.pcie.gen = Reading<unsigned>::of(1);
  f.pcie.width = Reading<unsigned>::of(16);
  f.pcie.max_gen = Reading<unsigned>::of(5);
  f.pcie.max_width = Reading<unsigned>::of(16);
  f.pcie.gpu_max_gen = Reading<unsigned>::of(5);
  f.pcie.replay_counter = Reading<unsigned>::of(0);
  for (unsigned l = 0; l < 18; ++l) {
    gpu::NvLinkFacts n;
    n.link = l;
    n.active = true;
    n.replay = n.recovery = n.crc_flit = n.crc_data = Reading<std::uint64_t>::of(0);
    f.nvlinks.push_back(n);
  }
  f.temp_gpu = Reading<unsigned>::of(34);
  f.temp_hbm = Reading<unsigned>::of(38);
  f.temp_shutdown = Reading<unsigned>::of(92);
  f.temp_slowdown = Reading<unsigned>::of(87);
  f.temp_mem_max = Reading<unsigned>::of(95);
  f.temp_gpu_max = Reading<unsigned>::of(85);
  f.power_w = Reading<double>::of(72.5);
  f.power_limit_w = Reading<double>::of(700);
  f.power_default_limit_w = Reading<double>::of(700);
  f.sm_clock_mhz = Reading<unsigned>::of(345);
  f.mem_clock_mhz = Reading<unsigned>::of(2619);
  f.max_sm_clock_mhz = Reading<unsigned>::of(1980);
  f.max_mem_clock_mhz = Reading<unsigned>::of(2619);
  f.memory_bus_width_bits = Reading<unsigned>::of(5120);
  f.memory_total = Reading<std::uint64_t>::of(85899345920ull);
  f.memory_used = Reading<std::uint64_t>::of(500000000ull);
  return f;
}

inline gpu::GpuCounters counters_of(const gpu::GpuFacts& f) {
  gpu::GpuCounters c;
  c.ecc = f.ecc;
  c.remap = f.remap;
  c.retired = f.retired;
  c.pcie_replay = f.pcie.replay_counter;
  c.nvlinks = f.nvlinks;
  return c;
}

}  // namespace aicloud::burnin::fixtures
