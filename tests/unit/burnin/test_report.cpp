#include <doctest/doctest.h>

#include <cmath>

#include "burnin/report.hpp"
#include "fixtures.hpp"

using namespace aicloud;
using namespace aicloud::burnin;
using gpu::Reading;

namespace {
RunRecord sample_run() {
  RunRecord run;
  run.host = "gpu-a12-07";
  run.started = "2025-01-01T00:00:00Z";
  run.finished = "2025-01-01T00:01:10Z";
  run.requested_s = 60;
  run.elapsed_s = 70.04;
  run.tests = {"gemm-bf16", "hbm", "pcie", "p2p"};
  run.phase_names = {"preflight", "stress", "interconnect"};
  run.versions = {{"driver", "580.65.06"}, {"cuda_driver", "13.0"}, {"cublaslt", "13.1.0"}, {"tool", "0.1.0"}};
  run.log_before.available = true;
  run.log_before.source = "/dev/kmsg";
  run.nvml_events_available = true;
  GpuRun g;
  g.index = 0;
  g.facts = fixtures::healthy_gpu(0);
  g.before = g.after = fixtures::counters_of(g.facts);
  g.after_read = true;
  g.tests = {"gemm-bf16", "hbm", "pcie"};
  GemmResult r;
  r.test = "gemm-bf16";
  r.ran = true;
  r.iterations = 100;
  r.tflops = 745.25;
  r.result_hash = "0x1";
  g.gemm["gemm-bf16"] = r;
  HbmResult h;
  h.ran = true;
  h.copy_gbps = 2900;
  g.hbm = h;
  PcieGpuResult p;
  p.gpu = 0;
  p.h2d_gbps = 55;
  p.d2h_gbps = 56;
  g.pcie = p;
  for (int i = 0; i < 3; ++i) {
    gpu::GpuSample s;
    s.power_w = Reading<double>::of(650 + i);
    s.temp_gpu = Reading<unsigned>::of(60 + unsigned(i));
    s.clock_events = Reading<std::uint64_t>::of(gpu::k_clock_sw_power_cap);
    g.series.append(i * 1.0, 1, s);
  }
  run.gpus.push_back(g);
  P2PResult p2p;
  p2p.waived = "peer-to-peer needs at least two GPUs";
  run.p2p = p2p;
  return run;
}
}  // namespace

TEST_CASE("the burn-in JSON carries verdicts, measurements, telemetry and versions") {
  RunRecord run = sample_run();
  RunVerdict v = judge_run(run);
  auto j = run_to_json(run, v);
  CHECK(j["schema"] == "aicloudctl.burnin/1");
  CHECK(j["verdict"] == "PASS");
  CHECK(j["versions"]["cublaslt"] == "13.1.0");
  CHECK(j["requested"]["duration_s"] == 60);
  REQUIRE(j["gpus"].size() == 1);
  auto g = j["gpus"][0];
  CHECK(g["verdict"] == "PASS");
  CHECK(g["uuid"].get<std::string>().rfind("GPU-", 0) == 0);
  bool gemm = false, hbm = false, telemetry = false, counters = false;
  for (const auto& t : g["tests"]) {
    if (t["name"] == "gemm-bf16") {
      gemm = true;
      CHECK(t["result"]["tflops"] == doctest::Approx(745.25));
      CHECK(t["verdict"] == "PASS");
    }
    if (t["name"] == "hbm") {
      hbm = true;
      CHECK(t["result"]["peak_gbps"] == doctest::Approx(3352).epsilon(0.01));
    }
    if (t["name"] == "telemetry") {
      telemetry = true;
      CHECK(t["result"]["max_temp_gpu_c"] == 62);
      CHECK(t["result"]["clock_event_reasons_seen"][0] == "sw_power_cap");
    }
    if (t["name"] == "counters") counters = t["result"].contains("before") && t["result"].contains("after");
  }
  CHECK(gemm);
  CHECK(hbm);
  CHECK(telemetry);
  CHECK(counters);
  CHECK(g["telemetry"]["t"].size() == 3);
  CHECK(g["telemetry"]["temp_hbm_c"][0].is_null());  // not read: null, never 0
  CHECK(g["telemetry"]["power_w"][2] == 652);
  CHECK(g["telemetry"]["phases"][1] == "stress");
  REQUIRE(j["node_tests"].size() == 1);
  CHECK(j["node_tests"][0]["name"] == "p2p");
  CHECK(j["node_tests"][0]["verdict"] == "WAIVED");
}

TEST_CASE("the text summary shows each test and the verdict") {
  RunRecord run = sample_run();
  run.gpus[0].gemm["gemm-bf16"].wrong_results = 1;
  RunVerdict v = judge_run(run);
  std::string t = run_to_text(run, v, false);
  CHECK(t.find("gemm-bf16") != std::string::npos);
  CHECK(t.find("745.2 TFLOP/s") != std::string::npos);
  CHECK(t.find("Verdict: FAIL") != std::string::npos);
  CHECK(t.find("differed from the exact product") != std::string::npos);
}

TEST_CASE("series summary ignores other phases") {
  GpuSeries s;
  gpu::GpuSample hot;
  hot.temp_gpu = Reading<unsigned>::of(90);
  s.append(0, 0, hot);
  gpu::GpuSample warm;
  warm.temp_gpu = Reading<unsigned>::of(70);
  warm.sm_clock_mhz = Reading<unsigned>::of(1700);
  s.append(1, 1, warm);
  auto sum = series_summary(s, 1);
  CHECK(sum["samples"] == 1);
  CHECK(sum["max_temp_gpu_c"] == 70);
  CHECK(sum["mean_sm_clock_mhz"] == 1700);
  CHECK(sum["max_power_w"].is_null());
}
