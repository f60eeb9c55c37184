#include <doctest/doctest.h>

#include <cmath>

#include "burnin/plan.hpp"
#include "common/error.hpp"

using namespace aicloud;
using namespace aicloud::burnin;

TEST_CASE("--tests accepts names, aliases and lists, in run order without duplicates") {
  CHECK(parse_test_list("default") == default_test_names());
  CHECK(parse_test_list("all") == all_test_names());
  CHECK(parse_test_list("gemm") == std::vector<std::string>{"gemm-bf16"});
  CHECK(parse_test_list("p2p, GEMM-FP8 ,memtest,gemm-fp8") == std::vector<std::string>{"gemm-fp8", "memtest", "p2p"});
  auto g = parse_test_list("gemm-all");
  CHECK(g.size() == 6);
  for (const auto& t : g) CHECK(is_gemm_test(t));
}

TEST_CASE("--tests rejects unknown names with a did-you-mean hint") {
  try {
    parse_test_list("gemm-bf16,memtset");
    FAIL("no exception");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("did you mean 'memtest'") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_test_list(" , "), UsageError);
}

TEST_CASE("--gpus accepts all, indices, ranges and UUIDs") {
  CHECK(parse_gpu_list("all").empty());
  CHECK(parse_gpu_list("").empty());
  auto l = parse_gpu_list("0,2-4,GPU-8a1b2c3d");
  REQUIRE(l.size() == 5);
  CHECK(*l[0].index == 0);
  CHECK(*l[1].index == 2);
  CHECK(*l[3].index == 4);
  CHECK(l[4].uuid == "GPU-8a1b2c3d");
  CHECK_THROWS_AS(parse_gpu_list("3-1"), UsageError);
  CHECK_THROWS_AS(parse_gpu_list("x"), UsageError);
  CHECK_THROWS_AS(parse_gpu_list("1,-2"), UsageError);
}

TEST_CASE("the duration is split 70/25/5 between GEMM, memtest and hbm, with floors") {
  auto b = split_duration(600, default_test_names());
  REQUIRE(b.size() == 3);  // pcie and p2p are node tests, not part of the split
  CHECK(b[0].test == "gemm-bf16");
  CHECK(b[0].seconds == doctest::Approx(420));
  CHECK(b[1].seconds == doctest::Approx(150));
  CHECK(b[2].seconds == doctest::Approx(30));
  auto small = split_duration(10, default_test_names());
  CHECK(small[0].seconds == doctest::Approx(10));  // floors
  CHECK(small[1].seconds == doctest::Approx(5));
  CHECK(small[2].seconds == doctest::Approx(3));
  auto gemms = split_duration(600, {"gemm-bf16", "gemm-fp8"});
  CHECK(gemms[0].seconds == doctest::Approx(300));
  CHECK(gemms[1].seconds == doctest::Approx(300));
  auto mem = split_duration(100, {"memtest"});
  CHECK(mem[0].seconds == doctest::Approx(100));
}

TEST_CASE("the exact-range rule keeps every partial sum representable") {
  CHECK(max_exact_range(GemmType::bf16, 32768) == 22);
  CHECK(max_exact_range(GemmType::fp16, 16384) == 32);
  CHECK(max_exact_range(GemmType::fp32, 8192) == 45);
  CHECK(max_exact_range(GemmType::fp8, 65536) == 3);
  CHECK(max_exact_range(GemmType::fp64, 8192) == 127);
  CHECK(max_exact_range(GemmType::bf16, 0) == 0);
  for (GemmType t : {GemmType::bf16, GemmType::fp16, GemmType::tf32, GemmType::fp32, GemmType::fp8})
    for (std::int64_t k : {1024, 4096, 8192, 16384, 32768, 65536, 131072}) {
      int r = max_exact_range(t, k);
      CHECK(double(k) * r * r <= 16777216.0);
      bool maximal = double(k) * (r + 1) * (r + 1) > 16777216.0 || r == 127 || r == 3;
      CHECK(maximal);
    }
}

TEST_CASE("GEMM plans fill big GPUs, shrink for small ones and are waived where the type is missing") {
  const std::uint64_t gib = 1ull << 30;
  GemmPlan h100 = plan_gemm(GemmType::bf16, 80 * gib, 9, 0);
  CHECK(h100.supported);
  CHECK(h100.m == 16384);
  CHECK(h100.n == 16384);
  CHECK(h100.k == 32768);
  CHECK(h100.range == 22);
  CHECK(h100.device_bytes <= 80 * gib / 10 * 6);
  CHECK(h100.flops_per_gemm() == doctest::Approx(2.0 * 16384 * 16384 * 32768));
  GemmPlan small = plan_gemm(GemmType::bf16, 16 * gib, 8, 6);
  CHECK(small.m == 8192);
  CHECK(small.device_bytes <= 16 * gib / 10 * 6);
  GemmPlan tiny = plan_gemm(GemmType::fp32, 4 * gib, 8, 0);
  CHECK(tiny.m == 4096);
  CHECK(tiny.device_bytes <= 4 * gib / 10 * 6);
  CHECK_FALSE(plan_gemm(GemmType::fp8, 80 * gib, 8, 0).supported);  // A100
  CHECK(plan_gemm(GemmType::fp8, 80 * gib, 8, 9).supported);        // L40S / Ada
  CHECK(plan_gemm(GemmType::fp8, 141 * gib, 9, 0).k == 65536);
  CHECK_FALSE(plan_gemm(GemmType::bf16, 32 * gib, 7, 0).supported);  // V100
  CHECK(plan_gemm(GemmType::fp64, 32 * gib, 7, 0).supported);
  for (GemmType t : {GemmType::bf16, GemmType::fp16, GemmType::tf32, GemmType::fp32, GemmType::fp64, GemmType::fp8}) {
    GemmPlan p = plan_gemm(t, 141 * gib, 9, 0);
    CHECK(p.m % 64 == 0);
    CHECK(p.n % 64 == 0);
    CHECK(p.k % 64 == 0);
    CHECK(p.range >= 1);
    CHECK(p.test == "gemm-" + gemm_type_name(t));
    CHECK(gemm_type_of_test(p.test) == t);
  }
  CHECK_FALSE(gemm_type_of_test("memtest"));
}

TEST_CASE("link and memory peaks from NVML facts") {
  CHECK(pcie_link_gbps(5, 16) == doctest::Approx(63.0).epsilon(0.01));
  CHECK(pcie_link_gbps(4, 16) == doctest::Approx(31.5).epsilon(0.01));
  CHECK(pcie_link_gbps(3, 8) == doctest::Approx(7.88).epsilon(0.01));
  CHECK(pcie_link_gbps(9, 16) == 0);
  CHECK(hbm_peak_gbps(2619, 5120) == doctest::Approx(3352).epsilon(0.01));  // H100 SXM
  CHECK(hbm_peak_gbps(3201, 6144) == doctest::Approx(4917).epsilon(0.01));  // H200 SXM
}
