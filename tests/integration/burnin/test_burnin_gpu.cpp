// GPU tests of the burn-in kernels (label "gpu"). Each case first makes sure
// a CUDA device is usable and otherwise exits 77 with a message (CTest shows
// it as skipped). The expected answers never come from the GPU itself: the
// exact products, hashes and patterns are recomputed on the CPU, and faults
// are injected behind the kernels' back to prove they are seen.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "burnin/device.hpp"
#include "burnin/gemm_check.hpp"
#include "burnin/memtest_patterns.hpp"
#include "burnin/plan.hpp"
#include "gpu/cublaslt.hpp"

using namespace aicloud::burnin;

namespace {

const DeviceInfo& require_gpu() {
  static DeviceInfo info;
  static int state = 0;  // 0 unknown, 1 ok, 2 none
  static std::string why;
  if (state == 0) {
    std::string err, kind;
    int n = device_count(&err);
    if (n > 0 && device_open(0, &info, &err, &kind)) {
      state = 1;
    } else {
      state = 2;
      why = n == 0 ? "CUDA sees no device" : err;
    }
  }
  if (state != 1) {
    std::printf("SKIP: no usable CUDA device (%s)\n", why.c_str());
    std::fflush(stdout);
    std::exit(77);
  }
  return info;
}

GemmPlan small_plan(GemmType t, std::int64_t m, std::int64_t n, std::int64_t k) {
  const DeviceInfo& d = require_gpu();
  GemmPlan p = plan_gemm(t, d.total_bytes, d.cc_major, d.cc_minor);
  p.m = m;
  p.n = n;
  p.k = k;
  p.range = max_exact_range(t, k);
  p.workspace_bytes = 32ull << 20;
  return p;
}

const GemmType k_all_types[] = {GemmType::bf16, GemmType::fp16, GemmType::tf32,
                                GemmType::fp32, GemmType::fp64, GemmType::fp8};

}  // namespace

TEST_CASE("the device's int8 reference equals the CPU's exact product (FP32 and FP64 outputs)") {
  for (GemmType t : {GemmType::bf16, GemmType::fp64}) {
    GemmPlan p = small_plan(t, 256, 192, 1024);
    std::vector<std::uint64_t> dev;
    std::string err;
    REQUIRE_MESSAGE(gemm_reference_hashes(p, &dev, &err), err);
    CHECK(dev == gemm_exact_chunk_hashes(p));
  }
}

TEST_CASE("every GEMM type through cuBLASLt gives the exact product") {
  const DeviceInfo& d = require_gpu();
  const auto& lt = aicloud::gpu::load_cublaslt();
  REQUIRE_MESSAGE(lt.loaded, lt.error);
  MESSAGE("cuBLASLt " << lt.version << " from " << lt.path << " on " << d.name);
  for (GemmType t : k_all_types) {
    GemmPlan p = small_plan(t, 256, 256, 1024);
    if (!p.supported) {
      MESSAGE(p.test << " waived: " << p.waived);
      continue;
    }
    std::vector<std::uint64_t> dev;
    std::string err;
    bool ok = gemm_once_hashes(p, &dev, &err);
    CHECK_MESSAGE(ok, p.test << ": " << err);
    if (ok) CHECK_MESSAGE(dev == gemm_exact_chunk_hashes(p), p.test << " (range " << p.range << ")");
  }
}

TEST_CASE("a corrupted GEMM result is counted, quarantined and located") {
  GemmPlan p = small_plan(GemmType::bf16, 1024, 512, 2048);
  GemmResult r;
  std::string err;
  const std::uint64_t element = 5 + 3 * 1024;  // row 5, column 3
  REQUIRE_MESSAGE(gemm_inject_check(p, element, 1.0, &r, &err), err);
  CHECK(r.wrong_results == 1);
  CHECK(r.bad_chunks == 1);
  CHECK(r.wrong_elements == 1);
  REQUIRE(r.mismatches.size() == 1);
  CHECK(r.mismatches[0].row == 5);
  CHECK(r.mismatches[0].col == 3);
  CHECK(r.mismatches[0].actual == r.mismatches[0].expected + 1);
  CHECK(r.reference_mismatches == 0);
}

TEST_CASE("the GEMM stress runs clean and agrees with the CPU's hash") {
  GemmPlan p = small_plan(GemmType::bf16, 512, 512, 2048);
  GemmResult r = run_gemm(p, 3.0, nullptr);
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.ran);
  CHECK(r.iterations > 0);
  CHECK(r.wrong_results == 0);
  CHECK(r.reference_mismatches == 0);
  CHECK(r.reference_samples > 0);
  CHECK(r.tflops > 0);
  CHECK(r.tflops_gemm_only > 0);
  CHECK_FALSE(r.algo.empty());
  CHECK(r.result_hash == gemm_result_hash(gemm_exact_chunk_hashes(p)));
  MESSAGE("small bf16 GEMM: " << r.tflops << " TFLOP/s sustained, algo " << r.algo);
}

TEST_CASE("the memory checker reports an injected bit flip with its address") {
  require_gpu();
  for (int pattern : {k_pattern_walking_ones, k_pattern_address, k_pattern_random, k_pattern_constant}) {
    MemtestResult r;
    std::string err;
    const std::uint64_t word = 123457, mask = 0x10ull << (pattern * 3);
    REQUIRE_MESSAGE(memtest_inject_check(64ull << 20, pattern, 0x5A5A5A5A5A5A5A5Aull, word, mask, &r, &err), err);
    CHECK(r.word_errors == 1);
    CHECK(r.bit_errors == 1);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].offset == word * 8);
    CHECK((r.errors[0].expected ^ r.errors[0].actual) == mask);
  }
}

TEST_CASE("a short memory test covers most of free memory and finds no error") {
  require_gpu();
  MemtestResult r = run_memtest(3.0, 7, nullptr);
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.passes >= 1);
  CHECK(r.coverage >= 0.9);
  CHECK(r.bit_errors == 0);
  MESSAGE("memtest: " << r.tested_bytes << " bytes (" << r.coverage * 100 << "% of free), " << r.passes << " passes, "
                      << r.check_gbps << " GB/s checked");
}

TEST_CASE("HBM bandwidth kernels copy correctly and report rates") {
  require_gpu();
  HbmResult r = run_hbm(2.0, nullptr);
  CHECK_MESSAGE(r.error.empty(), r.error);
  CHECK(r.mismatches == 0);
  CHECK(r.copy_gbps > 0);
  CHECK(r.triad_gbps > 0);
  CHECK(r.memcpy_gbps > 0);
  MESSAGE("HBM copy " << r.copy_gbps << " GB/s, triad " << r.triad_gbps << ", memcpy " << r.memcpy_gbps);
}

TEST_CASE("PCIe copies round-trip through pinned memory") {
  require_gpu();
  PcieResult r = run_pcie({0}, {}, nullptr, nullptr);
  CHECK_MESSAGE(r.error.empty(), r.error);
  REQUIRE(r.gpus.size() == 1);
  CHECK(r.gpus[0].mismatches == 0);
  CHECK(r.gpus[0].h2d_gbps > 0);
  CHECK(r.gpus[0].d2h_gbps > 0);
  CHECK(r.all_h2d_total_gbps > 0);
  MESSAGE("PCIe H2D " << r.gpus[0].h2d_gbps << " GB/s, D2H " << r.gpus[0].d2h_gbps);
}

TEST_CASE("peer-to-peer: waived with one GPU, verified copies with two") {
  require_gpu();
  std::string err;
  int n = device_count(&err);
  if (n < 2) {
    P2PResult r = run_p2p({0}, nullptr);
    CHECK_FALSE(r.waived.empty());
    return;
  }
  P2PResult r = run_p2p({0, 1}, nullptr);
  CHECK_MESSAGE(r.error.empty(), r.error);
  REQUIRE(r.pairs.size() == 2);
  for (const auto& p : r.pairs) {
    CHECK(p.mismatches == 0);
    CHECK(p.gbps > 0);
  }
}
