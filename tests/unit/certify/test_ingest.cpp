// The node-side readers: node facts script output, tolerant JSON parsing
// (a wrong type is absent, not zero), NCCL size selection, command lines.
#include <doctest/doctest.h>

#include "certify/ingest.hpp"
#include "certify/pipeline.hpp"
#include "common/process.hpp"
#include "rack_fixture.hpp"

using namespace aicloud;
using namespace aicloud::certify;
using namespace aicloud::certify::testing;

TEST_CASE("node facts: the script runs here and its output parses") {
  ProcessResult r = run_process({"/bin/sh", "-c", node_facts_script()});
  REQUIRE(r.ok());
  nlohmann::json f = parse_node_facts(r.stdout_text);
  CHECK(f["hostname"].is_string());
  CHECK(f["kernel"].is_string());
  CHECK(f["memory_kib"].is_number());
  CHECK(f["ib_ports"].is_array());
  CHECK(f["nvidia_module"]["present"].is_boolean());

  nlohmann::json h = parse_node_facts(fixture_text("synthetic-h100-facts.txt"));
  CHECK(h["hostname"] == "gpu-a12-01");
  CHECK(h["nvidia_module"]["present"] == true);
  CHECK(h["nvidia_module"]["version"] == "570.133.20");
  CHECK(h["nvml_library"] == "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
  REQUIRE(h["ib_ports"].size() == 8);
  CHECK(h["ib_ports"][0]["state"] == "ACTIVE");
  CHECK(h["ib_ports"][0]["rate_gbps"] == 400.0);
  CHECK(h["ib_ports"][0]["link_layer"] == "InfiniBand");
  nlohmann::json none = parse_node_facts(fixture_text("synthetic-no-gpu-facts.txt"));
  CHECK(none["nvidia_module"]["present"] == false);
  CHECK(none["nvml_library"].is_null());
  CHECK(parse_node_facts("garbage\nib_port\tonly\n")["ib_ports"].empty());
}

TEST_CASE("health parsing: wrong types are absent, not zero, other commands' output is refused") {
  nlohmann::json h = fixture("synthetic-h100-health-pass.json");
  h["gpus"][0]["ecc_errors"]["volatile"]["uncorrected"] = "0";
  h["gpus"][1].erase("row_remap");
  HealthView v = parse_health(h);
  CHECK(v.problem.empty());
  REQUIRE(v.gpus.size() == 8);
  CHECK_FALSE(v.gpus[0].ecc_volatile_uncorrected.has_value());
  CHECK_FALSE(v.gpus[1].has_row_remap);
  CHECK(v.gpus[2].nvlink_active == 18);
  CHECK(v.gpus[2].nvlink_errors == 0);
  CHECK(v.driver_version == "570.133.20");
  CHECK_FALSE(parse_health(fixture("synthetic-h100-burnin-pass.json")).problem.empty());
  CHECK_FALSE(parse_health(nlohmann::json::array()).problem.empty());
  CHECK_FALSE(parse_health(nlohmann::json{{"schema", "aicloudctl.health/1"}}).problem.empty());  // no verdict
  CHECK(parse_health(nlohmann::json{{"schema", "aicloudctl.health/2"}, {"verdict", "PASS"}}).problem.find("newer") !=
        std::string::npos);
  CHECK(parse_health(nlohmann::json{{"verdict", "PASS"}}).problem.find("no \"schema\"") != std::string::npos);
  CHECK(v.gpus[0].memory_total_mib == doctest::Approx(81559.0).epsilon(0.0001));
  CHECK(v.gpus[0].ecc_mode == true);
  CHECK(v.gpus[0].mig_mode == false);
  CHECK(v.gpus[3].clock_events == std::vector<std::string>{"gpu_idle"});
  CHECK(v.gpus[5].ecc_aggregate_corrected == 2);
}

TEST_CASE("burnin parsing: tests by the command's names, telemetry, p2p, the 1-second series") {
  nlohmann::json b = fixture("synthetic-h100-burnin-pass.json");
  BurninView v = parse_burnin(b);
  REQUIRE(v.problem.empty());
  REQUIRE(v.gpus.size() == 8);
  const BurninTest* g = v.gpus[2].test("gemm-bf16");
  REQUIRE(g);
  CHECK(g->metric("tflops").has_value());
  CHECK(g->result["result_hash"] == "0x9f2c47e1b0d35a88");
  CHECK(v.gpus[2].has_telemetry);
  CHECK(v.gpus[2].clock_events_seen == std::vector<std::string>{"sw_power_cap"});
  CHECK(v.p2p_unidir.size() == 56);
  CHECK(v.p2p_bidir.size() == 28);
  CHECK(gemm_metric("gemm-fp8") == "gemm_fp8_tflops");
  nlohmann::json ts = burnin_timeseries(b);
  REQUIRE(ts.is_object());
  CHECK(ts["gpus"].size() == 8);
  CHECK(ts["gpus"][0]["t_s"].size() == ts["gpus"][0]["power_w"].size());
  CHECK(ts["phases"] == nlohmann::json({"preflight", "stress", "interconnect"}));
  CHECK(!burnin_without_series(b)["gpus"][0].contains("telemetry"));
  CHECK(burnin_without_series(b)["gpus"][0].contains("tests"));
  b["gpus"][1]["tests"][0]["verdict"] = "WAIVED";
  CHECK(parse_burnin(b).gpus[1].tests[0].waived());
  CHECK_FALSE(parse_burnin(fixture("synthetic-h100-health-pass.json")).problem.empty());
}

TEST_CASE("NCCL: the certification size, the lower placement, wrong elements") {
  NcclView v = parse_nccl(fixture("synthetic-h100-nccl-intra-pass.json"));
  REQUIRE(v.problem.empty());
  const NcclResult* r = v.at_size("all_reduce", 16ull << 30);
  REQUIRE(r);
  CHECK(r->size_bytes == 16ull << 30);
  CHECK(*r->busbw_gbps() == doctest::Approx(478.0 * 0.998).epsilon(0.001));
  CHECK(v.at_size("all_reduce", 2ull << 30)->size_bytes == 16ull << 30);  // nothing at 2G: the largest above
  CHECK(v.at_size("all_reduce", 32ull << 30) == nullptr);                  // nothing at or above 32G
  CHECK(v.at_size("broadcast", 1) == nullptr);
  CHECK(r->wrong() == 0);
  CHECK(r->algo == "NVLS");
  CHECK(v.verdict == "PASS");
  CHECK(v.nranks == 8);
  nlohmann::json failed = fixture("synthetic-h100-nccl-intra-pass.json");
  failed["status"] = "failed";
  failed["problems"] = {{{"rank", 3}, {"phase", "timed"}, {"kind", "timeout"}, {"message", "no progress for 120 s"}}};
  NcclView f = parse_nccl(failed);
  CHECK(f.verdict == "FAIL");
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0] == "rank 3 timed timeout: no progress for 120 s");
}

TEST_CASE("the node-side command lines follow the level") {
  Profile p = load_profile("h100-sxm-8gpu");
  const Level& q = p.level("quick");
  CHECK(health_args() == std::vector<std::string>{"health", "--json"});
  CHECK(burnin_args(q) == std::vector<std::string>{"burnin", "--json", "--duration", "3m", "--tests",
                                                   "gemm-bf16,memtest,hbm,pcie,p2p"});
  auto n = nccl_intra_args(p.level("standard"));
  CHECK(n[0] == "nccl");
  CHECK(std::find(n.begin(), n.end(), "-c") + 1 == std::find(n.begin(), n.end(), "all_reduce,all_gather,reduce_scatter"));
  CHECK(std::find(n.begin(), n.end(), "-n") != n.end());
  CHECK(std::find(n.begin(), n.end(), "-w") != n.end());
  CHECK(std::find(n.begin(), n.end(), std::to_string(16ull << 30)) != n.end());
}
