#include <doctest/doctest.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "burnin/health.hpp"
#include "fixtures.hpp"

using namespace aicloud;
using namespace aicloud::burnin;
using gpu::Reading;

namespace {

Verdict worst_of(const std::vector<Finding>& fs, const std::string& check = "") {
  Verdict v = Verdict::pass;
  for (const auto& f : fs)
    if (check.empty() || f.check == check) v = worst(v, f.verdict);
  return v;
}

// Returns a copy so that it may be called on temporaries.
std::optional<Finding> find(const std::vector<Finding>& fs, const std::string& check, Verdict v) {
  for (const auto& f : fs)
    if (f.check == check && f.verdict == v) return f;
  return std::nullopt;
}

HealthInput healthy_node(unsigned gpus) {
  HealthInput in;
  in.nvml_available = true;
  in.nvml_path = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1";
  in.system.driver_version = Reading<std::string>::of("580.65.06");
  in.system.nvml_version = Reading<std::string>::of("13.580.65.06");
  in.system.cuda_driver_version = Reading<int>::of(13000);
  in.system.device_count = Reading<unsigned>::of(gpus);
  for (unsigned i = 0; i < gpus; ++i) in.gpus.push_back(fixtures::healthy_gpu(i));
  in.cuda_probed = true;
  in.cuda.loaded = true;
  in.cuda.initialized = true;
  in.cuda.init_status = 0;
  in.cuda.version = 13000;
  in.cuda.devices.resize(gpus);
  in.kernel_log.available = true;
  in.kernel_log.source = "/dev/kmsg";
  in.kernel_log.text = "[    1.0] Linux version\n";
  return in;
}

}  // namespace

TEST_CASE("a healthy GPU passes every health check") {
  auto fs = evaluate_gpu(fixtures::healthy_gpu(0));
  CHECK(worst_of(fs) == Verdict::pass);
  for (const char* check : {"identity", "persistence_mode", "mig_mode", "ecc_mode", "ecc_errors", "row_remap",
                            "clock_events", "pcie_link", "pcie_replay", "nvlink", "temperature", "power"})
    CHECK_MESSAGE(find(fs, check, Verdict::pass), check);
  auto rep = evaluate_health(healthy_node(8));
  CHECK(rep.verdict == Verdict::pass);
}

TEST_CASE("a GPU NVML cannot open, or that is lost, FAILs") {
  auto f = fixtures::healthy_gpu(2);
  f.handle_error = "GPU is lost (NVML 15)";
  f.handle_status = gpu::k_nvml_gpu_is_lost;
  auto fs = evaluate_gpu(f);
  REQUIRE(fs.size() == 1);
  CHECK(fs[0].verdict == Verdict::fail);
  CHECK(fs[0].remediation.find("fallen off the bus") != std::string::npos);
  auto g = fixtures::healthy_gpu(3);
  g.name = Reading<std::string>::failed(gpu::k_nvml_gpu_is_lost, "GPU is lost");
  CHECK(worst_of(evaluate_gpu(g)) == Verdict::fail);
}

TEST_CASE("row remapping: pending or failed FAILs, exhausted banks WARN") {
  auto f = fixtures::healthy_gpu(0);
  f.remap = Reading<gpu::RowRemap>::of(gpu::RowRemap{0, 1, true, false});
  auto x = find(evaluate_gpu(f), "row_remap", Verdict::fail);
  REQUIRE(x);
  CHECK(x->remediation.find("nvidia-smi -r -i 0") != std::string::npos);
  f.remap = Reading<gpu::RowRemap>::of(gpu::RowRemap{0, 8, false, true});
  x = find(evaluate_gpu(f), "row_remap", Verdict::fail);
  REQUIRE(x);
  CHECK(x->remediation.find("RMA") != std::string::npos);
  f = fixtures::healthy_gpu(0);
  f.remap_histogram = Reading<gpu::RemapHistogram>::of(gpu::RemapHistogram{600, 30, 5, 3, 2});
  CHECK(find(evaluate_gpu(f), "row_remap", Verdict::warn));
}

TEST_CASE("pre-Ampere GPUs are judged by retired pages") {
  auto f = fixtures::healthy_gpu(0);
  f.remap = Reading<gpu::RowRemap>::failed(gpu::k_nvml_not_supported, "Not Supported");
  f.remap_histogram = Reading<gpu::RemapHistogram>::failed(gpu::k_nvml_not_supported, "Not Supported");
  f.retired = Reading<gpu::RetiredPages>::of(gpu::RetiredPages{0, 0, false});
  CHECK(find(evaluate_gpu(f), "retired_pages", Verdict::pass));
  f.retired = Reading<gpu::RetiredPages>::of(gpu::RetiredPages{2, 1, false});
  CHECK(find(evaluate_gpu(f), "retired_pages", Verdict::warn));
  f.retired = Reading<gpu::RetiredPages>::of(gpu::RetiredPages{40, 20, false});
  CHECK(find(evaluate_gpu(f), "retired_pages", Verdict::fail));
  f.retired = Reading<gpu::RetiredPages>::of(gpu::RetiredPages{1, 0, true});
  CHECK(find(evaluate_gpu(f), "retired_pages", Verdict::fail));
}

TEST_CASE("ECC: uncorrectable since driver load FAILs, lifetime WARNs, disabled ECC FAILs") {
  auto f = fixtures::healthy_gpu(0);
  f.ecc.volatile_uncorrected = Reading<std::uint64_t>::of(2);
  CHECK(find(evaluate_gpu(f), "ecc_errors", Verdict::fail));
  f = fixtures::healthy_gpu(0);
  f.ecc.aggregate_uncorrected = Reading<std::uint64_t>::of(5);
  CHECK(find(evaluate_gpu(f), "ecc_errors", Verdict::warn));
  f = fixtures::healthy_gpu(0);
  f.ecc.volatile_corrected = Reading<std::uint64_t>::of(k_volatile_corrected_warn);
  CHECK(find(evaluate_gpu(f), "ecc_errors", Verdict::warn));
  f = fixtures::healthy_gpu(0);
  f.ecc_current = Reading<bool>::of(false);
  f.ecc_pending = Reading<bool>::of(false);
  CHECK(find(evaluate_gpu(f), "ecc_mode", Verdict::fail));
  f = fixtures::healthy_gpu(0);
  f.ecc.volatile_uncorrected = f.ecc.aggregate_uncorrected =
      Reading<std::uint64_t>::failed(gpu::k_nvml_unknown, "Unknown Error");
  CHECK(find(evaluate_gpu(f), "ecc_errors", Verdict::fail));
}

TEST_CASE("MIG on and persistence off WARN") {
  auto f = fixtures::healthy_gpu(1);
  f.mig_current = Reading<bool>::of(true);
  f.persistence = Reading<bool>::of(false);
  auto fs = evaluate_gpu(f);
  auto mig = find(fs, "mig_mode", Verdict::warn);
  REQUIRE(mig);
  CHECK(mig->remediation.find("-mig 0") != std::string::npos);
  CHECK(find(fs, "persistence_mode", Verdict::warn));
}

TEST_CASE("clock slowdown at idle: hardware reasons FAIL, thermal WARNs, power cap is fine") {
  auto f = fixtures::healthy_gpu(0);
  f.clock_events = Reading<std::uint64_t>::of(gpu::k_clock_hw_slowdown | gpu::k_clock_hw_power_brake);
  auto x = find(evaluate_gpu(f), "clock_events", Verdict::fail);
  REQUIRE(x);
  CHECK(x->reason.find("hw_power_brake_slowdown") != std::string::npos);
  f.clock_events = Reading<std::uint64_t>::of(gpu::k_clock_sw_thermal);
  CHECK(find(evaluate_gpu(f), "clock_events", Verdict::warn));
  f.clock_events = Reading<std::uint64_t>::of(gpu::k_clock_sw_power_cap | gpu::k_clock_gpu_idle);
  CHECK(find(evaluate_gpu(f), "clock_events", Verdict::pass));
}

TEST_CASE("PCIe: a narrow link and replays WARN, an idle low generation is fine") {
  auto f = fixtures::healthy_gpu(0);
  CHECK(find(evaluate_gpu(f), "pcie_link", Verdict::pass));  // gen 1 at idle, x16
  f.pcie.width = Reading<unsigned>::of(8);
  f.pcie.replay_counter = Reading<unsigned>::of(17);
  auto fs = evaluate_gpu(f);
  CHECK(find(fs, "pcie_link", Verdict::warn));
  CHECK(find(fs, "pcie_replay", Verdict::warn));
  f = fixtures::healthy_gpu(0);
  f.pcie.max_gen = Reading<unsigned>::of(4);
  CHECK(find(evaluate_gpu(f), "pcie_link", Verdict::warn));
}

TEST_CASE("NVLink: some links down FAIL, all down WARN, error counters WARN") {
  auto f = fixtures::healthy_gpu(0);
  f.nvlinks[3].active = false;
  f.nvlinks[11].active = false;
  auto x = find(evaluate_gpu(f), "nvlink", Verdict::fail);
  REQUIRE(x);
  CHECK(x->reason.find("2 of 18") != std::string::npos);
  for (auto& l : f.nvlinks) l.active = false;
  CHECK(find(evaluate_gpu(f), "nvlink", Verdict::warn));
  f = fixtures::healthy_gpu(0);
  f.nvlinks[0].crc_flit = Reading<std::uint64_t>::of(12);
  CHECK(find(evaluate_gpu(f), "nvlink_errors", Verdict::warn));
  f.nvlinks.clear();  // PCIe card without links: no NVLink finding at all
  for (const auto& fd : evaluate_gpu(f)) CHECK(fd.check != "nvlink");
}

TEST_CASE("temperature and power limits") {
  auto f = fixtures::healthy_gpu(0);
  f.temp_gpu = Reading<unsigned>::of(87);
  CHECK(find(evaluate_gpu(f), "temperature", Verdict::fail));
  f.temp_gpu = Reading<unsigned>::of(80);
  CHECK(find(evaluate_gpu(f), "temperature", Verdict::warn));
  f = fixtures::healthy_gpu(0);
  f.temp_hbm = Reading<unsigned>::of(95);
  CHECK(find(evaluate_gpu(f), "temperature", Verdict::fail));
  f = fixtures::healthy_gpu(0);
  f.power_limit_w = Reading<double>::of(500);
  CHECK(find(evaluate_gpu(f), "power", Verdict::warn));
}

TEST_CASE("no NVML is a FAIL that names the library, never a PASS") {
  HealthInput in;
  in.nvml_available = false;
  in.nvml_error = "NVML is not available: cannot load libnvidia-ml.so.1 (not found)";
  in.kernel_log.available = false;
  in.kernel_log.error = "XID history unavailable: /dev/kmsg: Permission denied";
  auto rep = evaluate_health(in);
  CHECK(rep.verdict == Verdict::fail);
  auto x = find(rep.findings, "nvml", Verdict::fail);
  REQUIRE(x);
  CHECK(x->reason.find("libnvidia-ml.so.1") != std::string::npos);
  auto j = health_to_json(in, rep);
  CHECK(j["verdict"] == "FAIL");
  CHECK(j["schema"] == "aicloudctl.health/1");
  CHECK(health_to_text(in, rep, false).find("Verdict: FAIL") != std::string::npos);
}

TEST_CASE("GPU count: none FAILs, fewer than expected FAILs") {
  auto in = healthy_node(0);
  CHECK(find(evaluate_health(in).findings, "gpu_count", Verdict::fail));
  in = healthy_node(7);
  in.expect_gpus = 8;
  auto x = find(evaluate_health(in).findings, "gpu_count", Verdict::fail);
  REQUIRE(x);
  CHECK(x->reason.find("8 expected") != std::string::npos);
  in.expect_gpus = 7;
  CHECK(evaluate_health(in).verdict == Verdict::pass);
}

TEST_CASE("the CUDA driver: missing or failing cuInit FAILs with a remediation") {
  auto in = healthy_node(2);
  in.cuda.initialized = false;
  in.cuda.init_status = 802;
  in.cuda.init_error = "CUDA_ERROR_SYSTEM_NOT_READY: system not yet initialized";
  auto x = find(evaluate_health(in).findings, "cuda_driver", Verdict::fail);
  REQUIRE(x);
  CHECK(x->remediation.find("fabricmanager") != std::string::npos);
  in = healthy_node(2);
  in.cuda.devices.resize(1);
  CHECK(find(evaluate_health(in).findings, "cuda_driver", Verdict::fail));
  in.cuda_visible_devices_set = true;
  CHECK(find(evaluate_health(in).findings, "cuda_driver", Verdict::pass));
  in = healthy_node(2);
  in.cuda.loaded = false;
  in.cuda.error = "cannot load libcuda.so.1";
  CHECK(find(evaluate_health(in).findings, "cuda_driver", Verdict::fail));
}

TEST_CASE("an unreadable kernel log WARNs 'XID history unavailable' instead of passing silently") {
  auto in = healthy_node(1);
  in.kernel_log.available = false;
  in.kernel_log.error = "XID history unavailable: /dev/kmsg: Operation not permitted; dmesg: not found; journalctl: not found";
  auto rep = evaluate_health(in);
  CHECK(rep.verdict == Verdict::warn);
  auto x = find(rep.findings, "xid", Verdict::warn);
  REQUIRE(x);
  CHECK(x->reason.find("XID history unavailable") != std::string::npos);
}

TEST_CASE("XIDs in the kernel log are attributed to GPUs by bus id and classified") {
  auto in = healthy_node(2);  // bus ids 0x18 and 0x28
  in.kernel_log.text =
      "[ 10.0] NVRM: Xid (PCI:0000:18:00): 79, pid=1, GPU has fallen off the bus.\n"
      "[ 11.0] NVRM: Xid (PCI:0000:28:00): 13, Graphics Exception\n"
      "[ 12.0] NVRM: Xid (PCI:0000:28:00): 13, Graphics Exception\n"
      "[ 13.0] NVRM: Xid (PCI:0000:99:00): 61, something\n"
      "[ 14.0] nvidia-nvswitch0: SXid (PCI:0000:05:00.0): 20034, Fatal\n";
  auto rep = evaluate_health(in);
  CHECK(rep.xids.size() == 5);
  CHECK(rep.verdict == Verdict::fail);
  bool hw0 = false, app1 = false, other = false, sw = false;
  for (const auto& f : rep.findings) {
    if (f.check != "xid") continue;
    if (f.gpu && *f.gpu == 0 && f.verdict == Verdict::fail && f.reason.find("XID 79") != std::string::npos) hw0 = true;
    if (f.gpu && *f.gpu == 1 && f.verdict == Verdict::pass && f.reason.find("2 times") != std::string::npos) app1 = true;
    if (!f.gpu && f.verdict == Verdict::warn && f.reason.find("XID 61") != std::string::npos) other = true;
    if (!f.gpu && f.verdict == Verdict::warn && f.reason.find("SXid 20034") != std::string::npos) sw = true;
  }
  CHECK(hw0);
  CHECK(app1);
  CHECK(other);
  CHECK(sw);
}

TEST_CASE("different GPU models or VBIOS versions in one node WARN") {
  auto in = healthy_node(2);
  in.gpus[1].vbios = Reading<std::string>::of("96.00.99.00.01");
  CHECK(find(evaluate_health(in).findings, "consistency", Verdict::warn));
}

TEST_CASE("the health JSON carries facts, nulls for unreadable values and the reason") {
  auto in = healthy_node(1);
  in.gpus[0].temp_hbm = Reading<unsigned>::failed(gpu::k_nvml_not_supported, "Not Supported");
  auto rep = evaluate_health(in);
  auto j = health_to_json(in, rep);
  CHECK(j["versions"]["driver"] == "580.65.06");
  CHECK(j["versions"]["cuda_driver"] == "13.0");
  REQUIRE(j["gpus"].size() == 1);
  auto g = j["gpus"][0];
  CHECK(g["uuid"].get<std::string>().rfind("GPU-", 0) == 0);
  CHECK(g["temperature_c"]["hbm"].is_null());
  CHECK(g["unavailable"]["temperature_c.hbm"] == "not supported");
  CHECK(g["temperature_c"]["gpu"] == 34);
  CHECK(g["ecc_errors"]["aggregate"]["corrected"] == 3);
  CHECK(g["row_remap"]["pending"] == false);
  CHECK(g["nvlink"].size() == 18);
  CHECK(g["verdict"] == "PASS");
  CHECK(j["findings"].is_array());
  CHECK(j["xid"]["available"] == true);
}
