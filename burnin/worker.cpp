// The worker process of a burn-in (see burnin.hpp). It receives a JSON spec,
// runs the tests on the CUDA devices it sees (CUDA_VISIBLE_DEVICES is set by
// the parent) and speaks JSON lines on stdout:
//   {"event":"device","info":{...}}           what CUDA sees
//   {"event":"versions",...}                  CUDA runtime/driver, cuBLASLt
//   {"event":"start","test":T}                a test begins
//   {"event":"progress","test":T,"t":s,"count":n,"rate":r}   about once a second
//   {"event":"result","test":T,"result":{...}}
//   {"event":"fatal","message":M,"kind":K}    the device could not be used
//   {"event":"done"}
// After a GPU fault (error kind "device") the remaining tests are reported as
// skipped: a faulted context cannot be trusted to measure anything.
#include <algorithm>
#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

#include "burnin/burnin.hpp"
#include "burnin/device.hpp"
#include "burnin/plan.hpp"
#include "common/interrupt.hpp"
#include "gpu/cublaslt.hpp"
#include "gpu/nvml.hpp"

namespace aicloud::burnin {

using nlohmann::json;

namespace {

std::mutex g_out_mutex;

void emit(const json& j) {
  std::lock_guard<std::mutex> lock(g_out_mutex);
  std::string line = j.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int run_burnin_worker(const std::string& spec_text) {
  json spec;
  try {
    spec = json::parse(spec_text);
  } catch (const std::exception& e) {
    emit({{"event", "fatal"}, {"message", std::string("bad worker spec: ") + e.what()}, {"kind", "setup"}});
    return 2;
  }
#ifndef AICLOUDCTL_HAVE_CUDA
  emit({{"event", "fatal"}, {"message", "this aicloudctl was built without CUDA"}, {"kind", "setup"}});
  return 1;
#else
  install_interrupt_handler();
  std::string mode = spec.value("mode", "gpu");
  double last_emit = 0;
  std::string last_test;
  ProgressFn progress = [&](const std::string& test, double t, std::uint64_t count, double rate) {
    // At most one line per second per test (and always the first).
    if (test == last_test && t - last_emit < 1.0) return;
    last_test = test;
    last_emit = t;
    emit({{"event", "progress"}, {"test", test}, {"t", t}, {"count", count}, {"rate", rate}});
  };
  std::string error, kind;
  int count = device_count(&error);
  if (count <= 0) {
    emit({{"event", "fatal"}, {"message", count == 0 ? "CUDA sees no device" : error}, {"kind", "setup"}});
    return 1;
  }
  const auto& lt = gpu::load_cublaslt();
  auto versions = [&](const DeviceInfo& d) {
    emit({{"event", "versions"},
          {"cuda_runtime", gpu::format_cuda_version(d.runtime_version)},
          {"cuda_driver", gpu::format_cuda_version(d.driver_version)},
          {"cublaslt", lt.version},
          {"cublaslt_path", lt.path},
          {"cublaslt_error", lt.error}});
  };
  auto device_json = [](const DeviceInfo& d) {
    return json{{"ordinal", d.ordinal}, {"name", d.name}, {"pci_bus_id", d.pci_bus_id},
                {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)},
                {"sm_count", d.sm_count}, {"total_bytes", d.total_bytes}, {"free_bytes", d.free_bytes}};
  };

  if (mode == "gpu") {
    DeviceInfo info;
    if (!device_open(0, &info, &error, &kind)) {
      emit({{"event", "fatal"}, {"message", "cannot use the GPU: " + error}, {"kind", kind}});
      return 1;
    }
    emit({{"event", "device"}, {"info", device_json(info)}});
    versions(info);
    std::uint64_t seed = spec.value("seed", std::uint64_t(0x41494331));
    std::string faulted;
    for (const auto& t : spec.value("tests", json::array())) {
      std::string name = t.value("name", "");
      double seconds = t.value("seconds", 10.0);
      emit({{"event", "start"}, {"test", name}});
      json result;
      auto skipped = [&](auto r) {
        r.error = "skipped: the GPU faulted earlier in " + faulted;
        r.error_kind = "skipped";
        return to_json(r);
      };
      if (auto type = gemm_type_of_test(name)) {
        GemmPlan plan = plan_gemm(*type, info.total_bytes, info.cc_major, info.cc_minor);
        plan.seed = seed;
        GemmResult r;
        r.test = name;
        if (!faulted.empty()) {
          result = skipped(r);
        } else {
          r = run_gemm(plan, seconds, progress);
          if (r.error_kind == "device") faulted = name;
          result = to_json(r);
        }
      } else if (name == "memtest") {
        if (!faulted.empty()) {
          result = skipped(MemtestResult{});
        } else {
          MemtestResult r = run_memtest(seconds, seed, progress);
          if (r.error_kind == "device") faulted = name;
          result = to_json(r);
        }
      } else if (name == "hbm") {
        if (!faulted.empty()) {
          result = skipped(HbmResult{});
        } else {
          HbmResult r = run_hbm(seconds, progress);
          if (r.error_kind == "device") faulted = name;
          result = to_json(r);
        }
      } else {
        emit({{"event", "fatal"}, {"message", "unknown per-GPU test " + name}, {"kind", "setup"}});
        return 2;
      }
      emit({{"event", "result"}, {"test", name}, {"result", result}});
      if (interrupted()) break;
    }
  } else if (mode == "node") {
    std::vector<unsigned> nvml_indices = spec.value("gpus", std::vector<unsigned>{});
    std::vector<int> ordinals;
    for (int i = 0; i < count && std::size_t(i) < std::max<std::size_t>(nvml_indices.size(), 1); ++i) {
      DeviceInfo info;
      if (!device_open(i, &info, &error, &kind)) {
        emit({{"event", "fatal"}, {"message", "cannot use GPU #" + std::to_string(i) + ": " + error}, {"kind", kind}});
        return 1;
      }
      if (i == 0) versions(info);
      ordinals.push_back(i);
    }
    auto& nvml = gpu::Nvml::instance();
    std::vector<std::vector<unsigned long>> cpu_sets;
    for (unsigned idx : nvml_indices) {
      auto a = nvml.cpu_affinity(idx);
      cpu_sets.push_back(a.ok() ? *a : std::vector<unsigned long>{});
    }
    LinkProbe probe = [&](int ordinal) -> std::pair<unsigned, unsigned> {
      if (ordinal < 0 || std::size_t(ordinal) >= nvml_indices.size() || !nvml.available()) return {0, 0};
      auto s = nvml.sample(nvml_indices[std::size_t(ordinal)]);
      return {s.pcie_gen.value_or(0), s.pcie_width.value_or(0)};
    };
    for (const auto& t : spec.value("tests", json::array())) {
      std::string name = t.is_string() ? t.get<std::string>() : t.value("name", "");
      emit({{"event", "start"}, {"test", name}});
      if (name == "pcie")
        emit({{"event", "result"}, {"test", name}, {"result", to_json(run_pcie(ordinals, cpu_sets, probe, progress))}});
      else if (name == "p2p")
        emit({{"event", "result"}, {"test", name}, {"result", to_json(run_p2p(ordinals, progress))}});
      if (interrupted()) break;
    }
  } else {
    emit({{"event", "fatal"}, {"message", "unknown worker mode " + mode}, {"kind", "setup"}});
    return 2;
  }
  emit({{"event", "done"}});
  return 0;
#endif
}

}  // namespace aicloud::burnin
