#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "burnin/results.hpp"

using namespace aicloud::burnin;

TEST_CASE("GEMM results survive the worker-to-parent JSON trip") {
  GemmResult r;
  r.test = "gemm-bf16";
  r.ran = true;
  r.m = 16384;
  r.n = 16384;
  r.k = 32768;
  r.range = 22;
  r.seed = 0xfedcba9876543210ull;
  r.iterations = 2710;
  r.tflops = 741.5;
  r.wrong_results = 1;
  r.bad_chunks = 2;
  r.wrong_elements = 3;
  r.wrong_elements_complete = false;
  r.result_hash = "0x0123456789abcdef";
  r.mismatches.push_back({7, 100, 200, 512, 513});
  r.series_t = {0.5, 1.0};
  r.series_tflops = {740, 742};
  nlohmann::json j = to_json(r);
  CHECK(j["seed"] == "0xfedcba9876543210");
  GemmResult back;
  from_json(nlohmann::json::parse(j.dump()), back);
  CHECK(back.seed == r.seed);
  CHECK(back.iterations == 2710);
  CHECK(back.tflops == doctest::Approx(741.5));
  CHECK_FALSE(back.wrong_elements_complete);
  REQUIRE(back.mismatches.size() == 1);
  CHECK(back.mismatches[0].col == 200);
  CHECK(back.series_tflops.size() == 2);
  CHECK(back.result_hash == r.result_hash);
}

TEST_CASE("memtest addresses and words travel as hex, without rounding") {
  MemtestResult r;
  r.ran = true;
  r.bit_errors = 1;
  r.errors.push_back({0x7fffd0001238ull, 0x1238, 0xffffffffffffffffull, 0xfffffffffffffffeull, "walking ones", 3});
  MemtestResult back;
  from_json(nlohmann::json::parse(to_json(r).dump()), back);
  REQUIRE(back.errors.size() == 1);
  CHECK(back.errors[0].address == 0x7fffd0001238ull);
  CHECK(back.errors[0].actual == 0xfffffffffffffffeull);
  CHECK(back.errors[0].pattern == "walking ones");
}

TEST_CASE("bandwidth and interconnect results round-trip") {
  HbmResult h;
  h.ran = true;
  h.copy_gbps = 4200;
  HbmResult hb;
  from_json(to_json(h), hb);
  CHECK(hb.copy_gbps == 4200);
  PcieResult p;
  p.ran = true;
  PcieGpuResult g;
  g.gpu = 1;
  g.h2d_gbps = 55;
  g.gen_under_load = 5;
  p.gpus.push_back(g);
  PcieResult pb;
  from_json(to_json(p), pb);
  REQUIRE(pb.gpus.size() == 1);
  CHECK(pb.gpus[0].gen_under_load == 5);
  P2PResult x;
  x.waived = "one GPU";
  x.pairs.push_back({0, 1, true, 380, 0, ""});
  x.bidir.push_back({0, 1, 750, ""});
  P2PResult xb;
  from_json(to_json(x), xb);
  CHECK(xb.waived == "one GPU");
  REQUIRE(xb.pairs.size() == 1);
  CHECK(xb.pairs[0].peer_access);
  CHECK(xb.bidir[0].gbps == 750);
}

TEST_CASE("hex64 prints 16 digits") {
  CHECK(hex64(0) == "0x0000000000000000");
  CHECK(hex64(0xabcull) == "0x0000000000000abc");
}
