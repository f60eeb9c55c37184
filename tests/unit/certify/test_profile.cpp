// Profiles: every shipped profile loads and carries the SKU's figures;
// `extends:` overrides single values; bad input is reported as FILE:LINE:COL
// with did-you-mean hints.
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>

#include "certify/profile.hpp"
#include "common/error.hpp"

using namespace aicloud;
using namespace aicloud::certify;

namespace {

std::string temp_dir() {
  static std::string dir = [] {
    std::string d = "/tmp/aicloud-certify-profile-" + std::to_string(::getpid());
    std::string cmd = "mkdir -p " + d;
    REQUIRE(std::system(cmd.c_str()) == 0);
    return d;
  }();
  return dir;
}

std::string write(const std::string& name, const std::string& text) {
  std::string p = temp_dir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

std::vector<Diagnostic> diagnostics_of(const std::string& text, const std::string& name = "custom.yaml") {
  try {
    parse_profile(text, temp_dir() + "/" + name);
  } catch (const InputError& e) {
    return e.diagnostics();
  }
  FAIL("expected an InputError");
  return {};
}

bool any_message_contains(const std::vector<Diagnostic>& d, const std::string& needle) {
  for (const auto& x : d)
    if (x.message.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the four SKU profiles are shipped, load and carry their public floors") {
  auto names = shipped_profile_names();
  for (const char* want : {"a100-sxm-8gpu", "b200-8gpu", "h100-sxm-8gpu", "h200-sxm-8gpu"})
    CHECK(std::find(names.begin(), names.end(), want) != names.end());
  for (const auto& n : names) {
    CAPTURE(n);
    Profile p = load_profile(n);
    CHECK(p.name == n);
    CHECK(p.gpu_count == 8);
    CHECK(!p.gpu_models.empty());
    CHECK(p.find_level("quick"));
    CHECK(p.find_level("standard"));
    CHECK(p.find_level("burnin"));
    CHECK(p.default_level == "standard");
    CHECK(p.sha256.size() == 64);
    CHECK(p.level("quick").burnin.duration.count() <= 300);
    CHECK(p.level("burnin").burnin.duration.count() >= 3600);
  }
  Profile h100 = load_profile("h100-sxm-8gpu");
  CHECK(h100.floors.at("nccl_intra_all_reduce_busbw_gbps") == 460);  // Azure
  CHECK(h100.floors.at("pcie_h2d_gbps") == 52);                      // Azure
  CHECK(h100.health.xid_fail.count(79) == 1);
  CHECK(h100.health.xid_fail.count(57) == 1);   // from the range 56-58
  CHECK(h100.health.xid_fail.count(13) == 0);   // application XID, not hardware
  CHECK(h100.driver.kind == VersionPolicy::Kind::same);

  Profile h200 = load_profile("h200-sxm-8gpu");
  CHECK(h200.floors.at("nccl_intra_all_reduce_busbw_gbps") == 431);  // Azure H200
  CHECK(h200.floors.at("pcie_d2h_gbps") == 48);
  CHECK(h200.floors.at("gemm_bf16_tflops") == h100.floors.at("gemm_bf16_tflops"));  // inherited
  REQUIRE(h200.sources.size() == 2);
  CHECK(h200.sources[0].origin == "embedded:profiles/h100-sxm-8gpu.yaml");

  Profile b200 = load_profile("b200-8gpu");
  CHECK(b200.floors.count("gemm_fp32_tflops") == 0);  // removed with ~
  Profile a100 = load_profile("a100-sxm-8gpu");
  CHECK(a100.health.pcie_gen_min == 4);
  CHECK(a100.floors.count("gemm_fp8_tflops") == 0);
}

TEST_CASE("a custom profile extends a shipped one and overrides single thresholds") {
  std::string path = write("site.yaml",
                           "profile: 1\n"
                           "name: phx1-h100-roce\n"
                           "extends: h100-sxm-8gpu\n"
                           "floors:\n"
                           "  nccl_inter_all_reduce_busbw_gbps: 300\n"
                           "  pcie_h2d_gbps: ~\n"
                           "versions:\n"
                           "  driver: 570.133.20\n"
                           "levels:\n"
                           "  quick:\n"
                           "    burnin: {duration: 90s, tests: [gemm-bf16]}\n");
  Profile p = load_profile(path);
  CHECK(p.name == "phx1-h100-roce");
  CHECK(p.floors.at("nccl_inter_all_reduce_busbw_gbps") == 300);
  CHECK(p.floors.count("pcie_h2d_gbps") == 0);
  CHECK(p.floors.at("pcie_d2h_gbps") == 52);  // untouched
  CHECK(p.driver.kind == VersionPolicy::Kind::pinned);
  CHECK(p.driver.admits("570.133.20"));
  CHECK_FALSE(p.driver.admits("570.124.06"));
  CHECK(p.level("quick").burnin.duration.count() == 90);
  CHECK(p.level("quick").nccl.size_bytes == 16ull << 30);  // inherited within the level
  CHECK(p.sources.size() == 2);
  CHECK(p.sha256 != load_profile("h100-sxm-8gpu").sha256);

  // A file extending a file, relative to the first.
  std::string child = write("child.yaml", "profile: 1\nname: child\nextends: site.yaml\ngpu: {count: 4}\n");
  Profile c = load_profile(child);
  CHECK(c.gpu_count == 4);
  CHECK(c.floors.at("nccl_inter_all_reduce_busbw_gbps") == 300);
  CHECK(c.sources.size() == 3);
}

TEST_CASE("profile errors point at FILE:LINE:COL with did-you-mean and wrong types") {
  auto d = diagnostics_of(
      "profile: 1\n"
      "name: bad\n"
      "extends: h100-sxm-8gpu\n"
      "floors:\n"
      "  gemm_bf16_tflop: 700\n"       // typo in a metric
      "  hbm_copy_gbps: fast\n"        // wrong type
      "helth:\n"                       // typo in a section
      "  ecc_mode: required\n"
      "levels:\n"
      "  quick:\n"
      "    burnin: {duration: soon, tests: [gemm-bf16, memtset]}\n",
      "bad.yaml");
  REQUIRE(d.size() >= 5);
  auto find = [&](const std::string& needle) -> const Diagnostic* {
    for (const auto& x : d)
      if (x.message.find(needle) != std::string::npos) return &x;
    return nullptr;
  };
  const Diagnostic* metric = find("gemm_bf16_tflop'");
  REQUIRE(metric);
  CHECK(metric->where.line == 5);
  CHECK(metric->where.column == 3);
  CHECK(metric->message.find("did you mean 'gemm_bf16_tflops'") != std::string::npos);
  const Diagnostic* type = find("expected a number");
  REQUIRE(type);
  CHECK(type->where.line == 6);
  CHECK(type->where.column == 18);
  const Diagnostic* section = find("helth");
  REQUIRE(section);
  CHECK(section->where.line == 7);
  CHECK(section->message.find("did you mean 'health'") != std::string::npos);
  CHECK(any_message_contains(d, "expected a duration"));
  CHECK(any_message_contains(d, "did you mean 'memtest'"));
  CHECK(format_diagnostic(*metric).rfind(temp_dir() + "/bad.yaml:5:3: ", 0) == 0);
}

TEST_CASE("profile structure errors: missing keys, bad extends, cycles, ranges, stage lists") {
  CHECK(any_message_contains(diagnostics_of("profile: 1\nname: x\n"), "missing 'gpu'"));
  CHECK(any_message_contains(diagnostics_of("profile: 1\nname: x\nextends: h100-sxm\n"),
                             "did you mean 'h100-sxm-8gpu'"));
  CHECK(any_message_contains(diagnostics_of("profile: 2\nname: x\nextends: h100-sxm-8gpu\n"), "newer"));
  CHECK(any_message_contains(diagnostics_of("name: x\nextends: h100-sxm-8gpu\nfleet: {margin_pct: {hbm_copy_gbps: 150}}\n"),
                             "out of range"));
  CHECK(any_message_contains(
      diagnostics_of("name: x\nextends: h100-sxm-8gpu\nlevels: {quick: {stages: [burnin]}}\n"), "must include 'health'"));
  CHECK(any_message_contains(diagnostics_of("name: x\nextends: h100-sxm-8gpu\nceilings: {gemm_bf16_tflops: 3}\n"),
                             "put it under floors"));
  CHECK(any_message_contains(diagnostics_of("name: x\nextends: h100-sxm-8gpu\nhealth: {xid_fail: [79, 90-80]}\n"),
                             "range"));
  CHECK(any_message_contains(diagnostics_of("extends: h100-sxm-8gpu\n"), "needs its own name"));
  CHECK(any_message_contains(diagnostics_of("profile: 1\nname: x\nname: y\n"), "duplicate key 'name'"));
  CHECK(any_message_contains(diagnostics_of("profile: [1\n"), "YAML syntax error"));
  CHECK(any_message_contains(diagnostics_of("- a\n- b\n"), "expected a mapping"));

  write("loop-a.yaml", "name: a\nextends: loop-b.yaml\n");
  write("loop-b.yaml", "name: b\nextends: loop-a.yaml\n");
  try {
    load_profile(temp_dir() + "/loop-a.yaml");
    FAIL("expected a cycle error");
  } catch (const InputError& e) {
    CHECK(e.diagnostics()[0].message.find("cycle") != std::string::npos);
  }
  CHECK_THROWS_AS(load_profile("h100"), UsageError);
  try {
    load_profile("h100-sxm");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("did you mean 'h100-sxm-8gpu'") != std::string::npos);
  }
  CHECK_THROWS_AS(load_profile("/nonexistent/profile.yaml"), InputError);
  CHECK_THROWS_AS(load_profile("h100-sxm-8gpu").level("fast"), UsageError);
}

TEST_CASE("a resolved profile round-trips through JSON with the same digest") {
  for (const auto& n : shipped_profile_names()) {
    Profile p = load_profile(n);
    Profile q = profile_from_json(profile_to_json(p), "report.json");
    CHECK(q.sha256 == p.sha256);
    CHECK(q.floors == p.floors);
    CHECK(q.health.xid_fail == p.health.xid_fail);
  }
  auto j = profile_to_json(load_profile("h100-sxm-8gpu"));
  j["floors"]["gemm_bf16_tflops"] = "fast";
  CHECK_THROWS_AS(profile_from_json(j, "report.json"), InputError);
}

TEST_CASE("version policies and the GPU-name profile match") {
  VersionPolicy at_least{VersionPolicy::Kind::at_least, {"550.54"}};
  CHECK(at_least.admits("570.133.20"));
  CHECK(at_least.admits("550.54"));
  CHECK(at_least.admits("550.54.15"));
  CHECK_FALSE(at_least.admits("535.183.01"));
  CHECK(profile_for_gpu("NVIDIA H100 80GB HBM3") == std::optional<std::string>("h100-sxm-8gpu"));
  CHECK(profile_for_gpu("NVIDIA H200") == std::optional<std::string>("h200-sxm-8gpu"));
  CHECK(profile_for_gpu("NVIDIA A100-SXM4-80GB") == std::optional<std::string>("a100-sxm-8gpu"));
  CHECK(profile_for_gpu("NVIDIA B200") == std::optional<std::string>("b200-8gpu"));
  CHECK_FALSE(profile_for_gpu("NVIDIA L40S"));
  CHECK_FALSE(profile_for_gpu("NVIDIA H100 PCIe"));
}
