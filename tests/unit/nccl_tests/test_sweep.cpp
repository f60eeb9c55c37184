#include <doctest/doctest.h>

#include "common/error.hpp"
#include "nccl_tests/sweep.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;

TEST_CASE("multiplicative sweep runs from min to max inclusive") {
  SweepSpec s;
  s.min_bytes = 1 << 20;
  s.max_bytes = 1 << 30;
  s.step_factor = 2;
  auto v = sweep_sizes(s);
  REQUIRE(v.size() == 11);
  CHECK(v.front() == 1u << 20);
  CHECK(v.back() == 1u << 30);
  s.step_factor = 4;
  v = sweep_sizes(s);
  CHECK(v == std::vector<std::uint64_t>{1 << 20, 1 << 22, 1 << 24, 1 << 26, 1 << 28, 1 << 30});
  s.max_bytes = (1 << 30) - 1;  // max is not hit exactly: stop below it, like nccl-tests
  CHECK(sweep_sizes(s).back() == 1u << 28);
}

TEST_CASE("additive sweep and single size") {
  SweepSpec s;
  s.min_bytes = 1000;
  s.max_bytes = 4000;
  s.step_factor = 1;
  s.step_bytes = 1000;
  CHECK(sweep_sizes(s) == std::vector<std::uint64_t>{1000, 2000, 3000, 4000});
  s.min_bytes = s.max_bytes = 16ull << 30;
  s.step_factor = 2;
  CHECK(sweep_sizes(s) == std::vector<std::uint64_t>{16ull << 30});
}

TEST_CASE("invalid sweeps are usage errors naming the flag") {
  SweepSpec s;
  s.min_bytes = 2 << 20;
  s.max_bytes = 1 << 20;
  CHECK_THROWS_WITH_AS(sweep_sizes(s), doctest::Contains("--min-bytes"), UsageError);
  s = SweepSpec{};
  s.step_factor = 1;
  s.step_bytes = 0;
  CHECK_THROWS_AS(sweep_sizes(s), UsageError);
  s = SweepSpec{};
  s.min_bytes = 0;
  CHECK_THROWS_AS(sweep_sizes(s), UsageError);
  s = SweepSpec{};
  s.min_bytes = 1;
  s.max_bytes = 1ull << 40;
  s.step_factor = 1;
  s.step_bytes = 1;
  CHECK_THROWS_WITH_AS(sweep_sizes(s), doctest::Contains("sizes"), UsageError);
}

TEST_CASE("a huge step stops instead of overflowing") {
  SweepSpec s;
  s.min_bytes = 1ull << 62;
  s.max_bytes = ~0ull;
  s.step_factor = 8;
  CHECK(sweep_sizes(s).size() == 1);
}

TEST_CASE("memory plan: one slice per iteration when it fits, batches otherwise") {
  CollSizes cs = coll_sizes(Collective::all_reduce, 1 << 20, 4, 8);
  MemoryPlan m = plan_memory(Collective::all_reduce, Placement::out_of_place, cs, 4, 20, 1ull << 30);
  CHECK(m.send_bytes == 1 << 20);
  CHECK(m.slice_stride == 1 << 20);
  CHECK(m.slices == 20);
  CHECK(m.batches == 1);
  CHECK(m.total_bytes == 21u << 20);

  // 16 GiB rows on a 40 GiB budget: send + 1 slice fit, so 20 batches of 1.
  cs = coll_sizes(Collective::all_reduce, 16ull << 30, 4, 8);
  m = plan_memory(Collective::all_reduce, Placement::out_of_place, cs, 4, 20, 40ull << 30);
  CHECK(m.slices == 1);
  CHECK(m.batches == 20);
  m = plan_memory(Collective::all_reduce, Placement::in_place, cs, 4, 20, 40ull << 30);
  CHECK(m.send_bytes == 0);
  CHECK(m.slices == 2);
  CHECK(m.batches == 10);
  m = plan_memory(Collective::all_reduce, Placement::out_of_place, cs, 4, 20, 20ull << 30);
  CHECK_FALSE(m.fits());
  // Many tiny iterations: at most k_max_slices per batch.
  cs = coll_sizes(Collective::all_reduce, 8, 4, 8);
  m = plan_memory(Collective::all_reduce, Placement::out_of_place, cs, 4, 5000, 1ull << 30);
  CHECK(m.slices == k_max_slices);
  CHECK(m.batches == 5);
}

TEST_CASE("memory plan: in place the slice is the larger buffer, strides are aligned") {
  CollSizes rs = coll_sizes(Collective::reduce_scatter, 1000, 4, 3);  // send 240, recv 80 floats
  MemoryPlan oop = plan_memory(Collective::reduce_scatter, Placement::out_of_place, rs, 4, 5, 1 << 20);
  CHECK(oop.slice_bytes == 320);
  CHECK(oop.slice_stride == k_slice_alignment);
  CHECK(oop.send_bytes == k_slice_alignment);
  MemoryPlan ip = plan_memory(Collective::reduce_scatter, Placement::in_place, rs, 4, 5, 1 << 20);
  CHECK(ip.slice_bytes == 960);
  CHECK(align_up(4097) == 8192);
  CHECK(align_up(0) == 0);
}
