// The arithmetic behind the verified GEMM, shared by the CUDA kernels and the
// host (CPU spot checks, unit tests): the seeded integer inputs, the exact
// reference dot product and the result hash. Everything here is a pure
// function of indices, so the same seed gives the same matrices on every GPU
// and every node, and a CPU can recompute any element or hash.
//
// Why the result is exact: inputs are integers in [-R, R]; every partial sum
// of a length-K dot product is an integer of magnitude <= K*R*R, and plan.cpp
// keeps K*R*R <= 2^24 (FP32 accumulators represent every such integer) or
// <= 2^53 for FP64. So any accumulation order gives the one exact answer, and
// a single wrong bit anywhere is a fault, not rounding.
//
// Layout ("TN", what cuBLASLt's FP8 kernels require and the fastest layout
// for the others): A is M x K and B is K x N, both stored K-contiguous
// (A element (m,k) at m*K + k, B element (k,n) at n*K + k); D is M x N
// column-major (element (m,n) at m + n*M).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define AICLOUD_HD __host__ __device__ __forceinline__
#else
#define AICLOUD_HD inline
#endif

namespace aicloud::burnin {

// Elements per verification chunk: the unit whose hash is compared and which
// is quarantined for a CPU re-check when it differs.
constexpr std::uint64_t k_gemm_chunk = 1024;

AICLOUD_HD std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Input element number `index` (m*K + k for A, n*K + k for B) of matrix
// `which` (0 = A, 1 = B): an integer in [-range, range].
AICLOUD_HD int gemm_input(std::uint64_t seed, int which, std::uint64_t index, int range) {
  std::uint64_t h = splitmix64(seed * 2 + static_cast<std::uint64_t>(which) + (index << 1) * 0x100000001B3ull);
  std::uint64_t span = static_cast<std::uint64_t>(2 * range + 1);
  return static_cast<int>((h >> 11) % span) - range;
}

// The hash of one result element: a bijection of the value for a fixed
// index, so a single wrong element always changes its chunk's sum.
AICLOUD_HD std::uint64_t gemm_element_hash(std::uint64_t index, std::int64_t value) {
  return splitmix64((index * 0x9E3779B97F4A7C15ull) ^ static_cast<std::uint64_t>(value));
}

}  // namespace aicloud::burnin
