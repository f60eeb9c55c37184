#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include "burnin/gemm_check.hpp"
#include "burnin/gemm_math.hpp"

using namespace aicloud::burnin;

namespace {
GemmPlan tiny_plan(std::int64_t m, std::int64_t n, std::int64_t k, int range) {
  GemmPlan p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.range = range;
  p.seed = 0x41494331ull;
  return p;
}
}  // namespace

TEST_CASE("inputs are seeded, in range and use the whole range") {
  std::map<int, int> seen;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    int v = gemm_input(7, 0, i, 3);
    CHECK(v >= -3);
    CHECK(v <= 3);
    seen[v]++;
    CHECK(v == gemm_input(7, 0, i, 3));  // deterministic
  }
  CHECK(seen.size() == 7);
  for (auto [v, c] : seen) CHECK(c > 2000);  // roughly uniform (expected ~2857)
  int differ = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) differ += gemm_input(7, 0, i, 22) != gemm_input(7, 1, i, 22);
  CHECK(differ > 900);  // A and B are different matrices
}

TEST_CASE("a single changed element always changes its chunk hash") {
  std::vector<double> v(k_gemm_chunk);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(int(i % 97) - 48);
  std::uint64_t h = gemm_chunk_hash(4096, v.data(), v.size());
  for (std::size_t pos : {std::size_t(0), std::size_t(511), std::size_t(1023)})
    for (double delta : {1.0, -1.0, 1024.0, 16777216.0}) {
      auto w = v;
      w[pos] += delta;
      CHECK(gemm_chunk_hash(4096, w.data(), w.size()) != h);
    }
  // Swapping two different values is also seen (the index is in the hash).
  auto w = v;
  std::swap(w[3], w[4]);
  CHECK(gemm_chunk_hash(4096, w.data(), w.size()) != h);
  // The same values at another place hash differently.
  CHECK(gemm_chunk_hash(0, v.data(), v.size()) != h);
}

TEST_CASE("the exact element matches a straightforward dot product") {
  GemmPlan p = tiny_plan(64, 64, 128, 22);
  for (std::int64_t row : {0, 17, 63})
    for (std::int64_t col : {0, 5, 63}) {
      std::int64_t s = 0;
      for (std::int64_t k = 0; k < p.k; ++k)
        s += std::int64_t(gemm_input(p.seed, 0, std::uint64_t(row * p.k + k), p.range)) *
             gemm_input(p.seed, 1, std::uint64_t(col * p.k + k), p.range);
      CHECK(gemm_exact_element(p, row, col) == s);
    }
}

TEST_CASE("FP32 accumulation in any order gives the exact product within the planned range") {
  // The property the device verification relies on: with K*R^2 <= 2^24 every
  // partial sum is an integer that float represents, whatever the order.
  GemmPlan p = tiny_plan(64, 64, 32768, 22);
  std::mt19937 rng(1);
  for (int trial = 0; trial < 3; ++trial) {
    std::int64_t row = trial * 7, col = trial * 11;
    std::vector<float> prods(static_cast<std::size_t>(p.k));
    for (std::int64_t k = 0; k < p.k; ++k)
      prods[std::size_t(k)] = float(gemm_input(p.seed, 0, std::uint64_t(row * p.k + k), p.range)) *
                              float(gemm_input(p.seed, 1, std::uint64_t(col * p.k + k), p.range));
    std::shuffle(prods.begin(), prods.end(), rng);
    float acc = 0;
    for (float x : prods) acc += x;
    // Pairwise (tree) order, as tensor cores reduce.
    std::vector<float> tree = prods;
    while (tree.size() > 1) {
      std::vector<float> next;
      for (std::size_t i = 0; i + 1 < tree.size(); i += 2) next.push_back(tree[i] + tree[i + 1]);
      if (tree.size() % 2) next.push_back(tree.back());
      tree.swap(next);
    }
    std::int64_t exact = gemm_exact_element(p, row, col);
    CHECK(double(acc) == double(exact));
    CHECK(double(tree[0]) == double(exact));
  }
}

TEST_CASE("chunk hashes of the exact product agree with per-chunk hashing of its values") {
  GemmPlan p = tiny_plan(64, 32, 64, 5);
  auto hashes = gemm_exact_chunk_hashes(p);
  REQUIRE(hashes.size() == 2);  // 64*32 / 1024
  std::vector<double> d(std::size_t(p.m * p.n));
  for (std::int64_t col = 0; col < p.n; ++col)
    for (std::int64_t row = 0; row < p.m; ++row) d[std::size_t(row + col * p.m)] = double(gemm_exact_element(p, row, col));
  for (std::size_t c = 0; c < hashes.size(); ++c) CHECK(gemm_chunk_hash(c * k_gemm_chunk, &d[c * k_gemm_chunk], k_gemm_chunk) == hashes[c]);
  CHECK(gemm_result_hash(hashes) == gemm_result_hash({hashes[1], hashes[0]}));  // order-free
  CHECK(gemm_result_hash(hashes).rfind("0x", 0) == 0);
}

TEST_CASE("a quarantined chunk is re-checked element by element") {
  GemmPlan p = tiny_plan(1024, 4, 64, 7);
  std::vector<double> chunk(k_gemm_chunk);
  const std::uint64_t c = 2;  // column 2
  for (std::uint64_t i = 0; i < k_gemm_chunk; ++i) chunk[i] = double(gemm_exact_element(p, std::int64_t(i), 2));
  std::vector<GemmMismatch> rec;
  CHECK(gemm_check_chunk(p, c, 9, chunk.data(), &rec, 4) == 0);
  CHECK(rec.empty());
  chunk[100] += 2;
  chunk[200] = NAN;
  chunk[300] = chunk[300] + 0.5;
  CHECK(gemm_check_chunk(p, c, 9, chunk.data(), &rec, 2) == 3);
  REQUIRE(rec.size() == 2);  // capped
  CHECK(rec[0].row == 100);
  CHECK(rec[0].col == 2);
  CHECK(rec[0].iteration == 9);
  CHECK(rec[0].actual == rec[0].expected + 2);
}

TEST_CASE("CPU spot positions cover the corners and stay inside the matrix") {
  GemmPlan p = tiny_plan(16384, 8192, 32768, 22);
  auto pos = gemm_spot_positions(p, 128);
  REQUIRE(pos.size() == 128);
  CHECK(pos[0] == std::make_pair<std::int64_t, std::int64_t>(0, 0));
  CHECK(pos[3] == std::make_pair<std::int64_t, std::int64_t>(16383, 8191));
  for (auto [r, c] : pos) {
    CHECK(r >= 0);
    CHECK(r < p.m);
    CHECK(c >= 0);
    CHECK(c < p.n);
  }
  CHECK(gemm_spot_positions(p, 128) == pos);
  CHECK(gemm_spot_positions(p, 2).size() == 2);
}
