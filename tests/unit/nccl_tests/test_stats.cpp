#include <doctest/doctest.h>

#include "nccl_tests/stats.hpp"

using namespace aicloud::nccl_tests;

TEST_CASE("percentiles interpolate linearly between closest ranks") {
  std::vector<double> v = {5, 1, 4, 2, 3};
  CHECK(percentile(v, 50) == 3.0);
  CHECK(percentile(v, 0) == 1.0);
  CHECK(percentile(v, 100) == 5.0);
  CHECK(percentile(v, 25) == 2.0);
  CHECK(percentile({1, 2, 3, 4}, 50) == 2.5);
  CHECK(percentile({10, 20}, 5) == doctest::Approx(10.5));
  CHECK(percentile({}, 50) == 0.0);
  CHECK(percentile({7}, 95) == 7.0);
}

TEST_CASE("summary of iteration times") {
  SampleStats s = summarize({100, 102, 98, 100, 150});
  CHECK(s.n == 5);
  CHECK(s.median == 100.0);
  CHECK(s.min == 98.0);
  CHECK(s.max == 150.0);
  CHECK(s.mean == doctest::Approx(110.0));
  CHECK(s.stddev == doctest::Approx(22.405357));
  CHECK(s.cv == doctest::Approx(22.405357 / 110.0));
  CHECK(s.p95 == doctest::Approx(140.4));
  CHECK(s.p5 == doctest::Approx(98.4));
  SampleStats one = summarize({42});
  CHECK(one.cv == 0.0);
  CHECK(one.median == 42.0);
  CHECK(summarize({}).n == 0);
}

TEST_CASE("an iteration is as slow as its slowest rank") {
  auto t = slowest_rank_per_iteration({{10, 20, 30}, {15, 5, 30}, {12, 25}});
  CHECK(t == std::vector<double>{15, 25, 30});
  CHECK(slowest_rank_per_iteration({}).empty());
}
