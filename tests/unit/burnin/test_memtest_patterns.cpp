#include <doctest/doctest.h>

#include <bitset>
#include <set>
#include <string>

#include "burnin/memtest_patterns.hpp"

using namespace aicloud::burnin;

TEST_CASE("pattern values") {
  for (std::uint64_t i = 0; i < 200; ++i) {
    CHECK(std::bitset<64>(memtest_value(k_pattern_walking_ones, 3, i, 0)).count() == 1);
    CHECK(std::bitset<64>(memtest_value(k_pattern_walking_zeros, 3, i, 0)).count() == 63);
    CHECK(memtest_value(k_pattern_address, 0, i, 0x7f0000000000ull + 8 * i) == 0x7f0000000000ull + 8 * i);
    CHECK(memtest_value(k_pattern_address_inverted, 0, i, 0x1000 + 8 * i) == ~(0x1000 + 8 * i));
    CHECK(memtest_value(k_pattern_constant, 0xAA55, i, 0) == 0xAA55);
    CHECK(memtest_value(k_pattern_random, 5, i, 0) == memtest_value(k_pattern_random, 5, i, 123));
  }
  CHECK(memtest_value(k_pattern_random, 5, 1, 0) != memtest_value(k_pattern_random, 5, 2, 0));
  CHECK(memtest_value(k_pattern_random, 5, 1, 0) != memtest_value(k_pattern_random, 6, 1, 0));
  // Over 64 passes every bit of a word holds the walking one once.
  std::uint64_t all = 0;
  for (std::uint64_t pass = 0; pass < 64; ++pass) all |= memtest_value(k_pattern_walking_ones, pass, 17, 0);
  CHECK(all == ~0ull);
}

TEST_CASE("every check step of a pass expects what the previous step left in memory") {
  for (std::uint64_t pass : {0ull, 1ull, 63ull, 64ull}) {
    auto steps = memtest_pass_steps(pass, 0xfeed);
    REQUIRE_FALSE(steps.empty());
    CHECK_FALSE(steps.front().check);  // starts by writing
    // Simulate three words at different addresses.
    for (std::uint64_t w : {0ull, 5ull, 1000ull}) {
      std::uint64_t addr = 0x10000 + 8 * w;
      std::uint64_t mem = 0;
      bool written = false;
      for (const auto& st : steps) {
        std::uint64_t v = memtest_value(st.pattern, st.param, w, addr);
        if (st.check) {
          REQUIRE(written);
          CHECK_MESSAGE(mem == v, st.name);
          if (st.rewrite) mem = memtest_value(st.next_pattern, st.next_param, w, addr);
        } else {
          mem = v;
          written = true;
        }
      }
    }
    std::set<std::string> names;
    for (const auto& st : steps) names.insert(st.name);
    for (const char* n : {"walking ones", "walking zeros", "own address", "own address inverted",
                          "moving inversions (zeros)", "moving inversions (random constant)", "random"})
      CHECK_MESSAGE(names.count(n), n);
  }
  CHECK(memtest_pass_steps(1, 7).size() == memtest_pass_steps(2, 7).size());
}

TEST_CASE("pass traffic counts reads and writes") {
  std::vector<MemtestStep> steps(3);
  steps[0].check = false;  // write: 1x
  steps[1].check = true;   // read: 1x
  steps[2].check = true;
  steps[2].rewrite = true;  // read + write: 2x
  CHECK(memtest_pass_traffic(steps, 100) == 400);
}
