#include "burnin/memtest_patterns.hpp"

namespace aicloud::burnin {

std::vector<MemtestStep> memtest_pass_steps(std::uint64_t pass, std::uint64_t seed) {
  std::vector<MemtestStep> s;
  auto write = [&](const char* name, int pattern, std::uint64_t param) {
    MemtestStep st;
    st.name = name;
    st.pattern = pattern;
    st.param = param;
    s.push_back(st);
  };
  auto check = [&](const char* name, int pattern, std::uint64_t param) {
    MemtestStep st;
    st.name = name;
    st.check = true;
    st.pattern = pattern;
    st.param = param;
    s.push_back(st);
  };
  auto check_then = [&](const char* name, int pattern, std::uint64_t param, int next, std::uint64_t next_param) {
    MemtestStep st;
    st.name = name;
    st.check = true;
    st.pattern = pattern;
    st.param = param;
    st.rewrite = true;
    st.next_pattern = next;
    st.next_param = next_param;
    s.push_back(st);
  };
  std::uint64_t rot = pass % 64;
  write("walking ones", k_pattern_walking_ones, rot);
  check("walking ones", k_pattern_walking_ones, rot);
  write("walking zeros", k_pattern_walking_zeros, rot);
  check("walking zeros", k_pattern_walking_zeros, rot);
  write("own address", k_pattern_address, 0);
  check("own address", k_pattern_address, 0);
  write("own address inverted", k_pattern_address_inverted, 0);
  check("own address inverted", k_pattern_address_inverted, 0);
  for (int variant = 0; variant < 2; ++variant) {
    const char* name = variant == 0 ? "moving inversions (zeros)" : "moving inversions (random constant)";
    std::uint64_t c = variant == 0 ? 0 : splitmix64(seed ^ (pass * 0x9E3779B97F4A7C15ull) ^ 0x4D49ull);
    write(name, k_pattern_constant, c);
    check_then(name, k_pattern_constant, c, k_pattern_constant, ~c);
    check_then(name, k_pattern_constant, ~c, k_pattern_constant, c);
    check(name, k_pattern_constant, c);
  }
  std::uint64_t r = splitmix64(seed + pass);
  write("random", k_pattern_random, r);
  check("random", k_pattern_random, r);
  return s;
}

std::uint64_t memtest_pass_traffic(const std::vector<MemtestStep>& steps, std::uint64_t bytes) {
  std::uint64_t total = 0;
  for (const auto& st : steps) total += bytes * ((st.check ? 1 : 0) + (!st.check || st.rewrite ? 1 : 0));
  return total;
}

}  // namespace aicloud::burnin
