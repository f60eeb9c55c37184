// The memory-test patterns (after cuda_memtest / memtest86), as pure
// functions shared by the kernels and the host: the value every 64-bit word
// must hold after a write step, and the sequence of steps of one pass.
//   walking ones / zeros   a single 1 (or 0) bit that moves one position per
//                          word and per pass, so every bit of every word is
//                          exercised in both states over 64 passes
//   own address (and its   each word holds its own address: catches address
//   inverse)               lines that alias or stick
//   moving inversions      a constant, then each word checked and inverted in
//                          place, checked and inverted back (zeros, and a
//                          random constant per pass)
//   random                 a seeded pseudo-random value per word
#pragma once

#include <cstdint>
#include <vector>

#include "burnin/gemm_math.hpp"  // AICLOUD_HD, splitmix64

namespace aicloud::burnin {

enum MemPattern : int {
  k_pattern_walking_ones = 0,
  k_pattern_walking_zeros = 1,
  k_pattern_address = 2,
  k_pattern_address_inverted = 3,
  k_pattern_constant = 4,
  k_pattern_random = 5,
};

// The value word `index` (at device address `address`) must hold.
AICLOUD_HD std::uint64_t memtest_value(int pattern, std::uint64_t param, std::uint64_t index, std::uint64_t address) {
  switch (pattern) {
    case k_pattern_walking_ones: return 1ull << ((index + param) & 63);
    case k_pattern_walking_zeros: return ~(1ull << ((index + param) & 63));
    case k_pattern_address: return address;
    case k_pattern_address_inverted: return ~address;
    case k_pattern_constant: return param;
    case k_pattern_random: return splitmix64(param ^ (index * 0xD6E8FEB86659FD93ull));
    default: return 0;
  }
}

// One kernel launch of a pass: write a pattern, or check the current one
// (and, for moving inversions, write the next one in the same sweep).
struct MemtestStep {
  const char* name = "";     // e.g. "moving inversions (zeros)"
  bool check = false;        // false: a pure write step
  int pattern = 0;           // the pattern written (write) or expected (check)
  std::uint64_t param = 0;
  bool rewrite = false;      // check steps: also write next_pattern
  int next_pattern = 0;
  std::uint64_t next_param = 0;
};

// The steps of pass number `pass` (0-based) with a run seed. Every check
// step expects exactly what the previous step left in memory.
std::vector<MemtestStep> memtest_pass_steps(std::uint64_t pass, std::uint64_t seed);

// Bytes moved by a pass over `bytes` of memory (reads + writes), for rates.
std::uint64_t memtest_pass_traffic(const std::vector<MemtestStep>& steps, std::uint64_t bytes);

}  // namespace aicloud::burnin
