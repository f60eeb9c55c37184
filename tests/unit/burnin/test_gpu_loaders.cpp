#include <doctest/doctest.h>

#include <algorithm>

#include "common/files.hpp"
#include "gpu/cublaslt.hpp"
#include "gpu/cuda_driver.hpp"
#include "gpu/nvml.hpp"

using namespace aicloud;
using namespace aicloud::gpu;

TEST_CASE("the cuBLASLt search list: loader names first, then the toolkit, then Python wheels") {
  auto l = cublaslt_search_list("", "/home/tech");
  REQUIRE(l.size() > 10);
  CHECK(l[0] == "libcublasLt.so.13");
  CHECK(l[1] == "libcublasLt.so.12");
  auto pos = [&](const std::string& s) { return std::find(l.begin(), l.end(), s) - l.begin(); };
  CHECK(pos("/usr/local/cuda/lib64/libcublasLt.so.13") < long(l.size()));
  CHECK(pos("/usr/local/lib/python3*/dist-packages/nvidia/cu13/lib/libcublasLt.so.13") < long(l.size()));
  CHECK(pos("/home/tech/.local/lib/python3*/site-packages/nvidia/cublas/lib/libcublasLt.so.12") < long(l.size()));
  CHECK(pos("/usr/local/cuda/lib64/libcublasLt.so.13") < pos("/usr/local/cuda/lib64/libcublasLt.so.12"));
}

TEST_CASE("an explicit cuBLASLt override is the only candidate") {
  auto f = cublaslt_search_list("/opt/x/libcublasLt.so.13", "/root");
  REQUIRE(f.size() == 1);
  CHECK(f[0] == "/opt/x/libcublasLt.so.13");
  auto d = cublaslt_search_list("/opt/wheel/lib/", "/root");
  REQUIRE(d.size() == 3);
  CHECK(d[0] == "/opt/wheel/lib/libcublasLt.so.13");
}

TEST_CASE("cuBLASLt loads where the toolkit has it, and says what to set where it does not") {
  const auto& lt = load_cublaslt();
  if (lt.loaded) {
    CHECK_FALSE(lt.path.empty());
    CHECK(lt.version.find('.') != std::string::npos);
    CHECK_FALSE(lt.tried.empty());
  } else {
    CHECK(lt.error.find("AICLOUDCTL_CUBLASLT") != std::string::npos);
  }
  if (!lt.loaded && file_exists("/usr/local/cuda/lib64/libcublasLt.so.13")) FAIL("the toolkit's cuBLASLt did not load: " << lt.error);
}

TEST_CASE("NVML: a missing driver is an error naming the library, and every read says so") {
  auto& nvml = Nvml::instance();
  if (nvml.available()) {
    MESSAGE("NVML is present on this machine: " << nvml.library_path());
    auto s = nvml.system();
    CHECK(s.device_count.ok());
    return;
  }
  CHECK(nvml.error().find("libnvidia-ml.so.1") != std::string::npos);
  auto f = nvml.read_gpu(0);
  CHECK_FALSE(f.handle_error.empty());
  CHECK_FALSE(nvml.sample(0).power_w.ok());
  CHECK_FALSE(nvml.system().device_count.ok());
  std::string why;
  CHECK_FALSE(nvml.start_events({0}, &why));
  CHECK_FALSE(why.empty());
  CHECK_FALSE(nvml.poll_event(1));
  CHECK_FALSE(nvml.index_of_bus_id("0000:18:00.0").ok());
}

TEST_CASE("the CUDA driver probe reports what is missing without throwing") {
  CudaDriverInfo info = probe_cuda_driver();
  if (!info.loaded) {
    CHECK(info.error.find("libcuda.so.1") != std::string::npos);
    CHECK_FALSE(info.initialized);
  } else if (!info.initialized) {
    CHECK_FALSE(info.init_error.empty());
    CHECK_FALSE(cuda_init_remediation(info.init_status).empty());
  }
  CHECK(cuda_init_remediation(802).find("fabricmanager") != std::string::npos);
}

TEST_CASE("NVML readings tell unsupported from lost") {
  auto a = Reading<unsigned>::failed(k_nvml_not_supported, "Not Supported");
  CHECK(a.unsupported());
  CHECK_FALSE(a.gpu_lost());
  auto b = Reading<unsigned>::failed(k_nvml_gpu_is_lost, "GPU is lost");
  CHECK(b.gpu_lost());
  CHECK_FALSE(b.unsupported());
  CHECK(b.value_or(7) == 7);
  auto c = Reading<unsigned>::of(3);
  CHECK(c.ok());
  CHECK(*c == 3);
}

TEST_CASE("clock-event reasons and versions read as words") {
  CHECK(clock_event_reason_names(0) .empty());
  auto n = clock_event_reason_names(k_clock_hw_slowdown | k_clock_hw_thermal);
  CHECK(n == std::vector<std::string>{"hw_slowdown", "hw_thermal_slowdown"});
  auto o = clock_event_reason_names(0x1000 | k_clock_sw_power_cap);
  REQUIRE(o.size() == 2);
  CHECK(o[1] == "other_0x1000");
  CHECK(format_cuda_version(13000) == "13.0");
  CHECK(format_cuda_version(12080) == "12.8");
  CHECK(format_cuda_version(0) == "");
  CHECK(format_cublas_version(130100) == "13.1.0");
  CHECK(format_cublas_version(120903) == "12.9.3");
}
