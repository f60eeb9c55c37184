#include "burnin/gemm_check.hpp"

#include <algorithm>
#include <cmath>

#include "burnin/gemm_math.hpp"

namespace aicloud::burnin {

std::int64_t gemm_exact_element(const GemmPlan& p, std::int64_t row, std::int64_t col) {
  std::int64_t sum = 0;
  const std::uint64_t a0 = std::uint64_t(row) * std::uint64_t(p.k), b0 = std::uint64_t(col) * std::uint64_t(p.k);
  for (std::int64_t k = 0; k < p.k; ++k)
    sum += std::int64_t(gemm_input(p.seed, 0, a0 + std::uint64_t(k), p.range)) *
           gemm_input(p.seed, 1, b0 + std::uint64_t(k), p.range);
  return sum;
}

std::uint64_t gemm_chunk_hash(std::uint64_t first, const double* values, std::uint64_t count) {
  std::uint64_t h = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    double v = values[i];
    // The device hashes the integer part and separately flags non-integers;
    // a non-integer here can never match an exact product anyway.
    std::int64_t iv = std::isfinite(v) ? static_cast<std::int64_t>(v) : 0;
    h += gemm_element_hash(first + i, iv);
  }
  return h;
}

std::vector<std::uint64_t> gemm_exact_chunk_hashes(const GemmPlan& p) {
  std::uint64_t total = std::uint64_t(p.m) * std::uint64_t(p.n);
  std::vector<std::uint64_t> hashes(total / k_gemm_chunk, 0);
  // Cache the inputs once: A row-major by row, B by column.
  std::vector<int> a(std::uint64_t(p.m) * std::uint64_t(p.k)), b(std::uint64_t(p.n) * std::uint64_t(p.k));
  for (std::uint64_t i = 0; i < a.size(); ++i) a[i] = gemm_input(p.seed, 0, i, p.range);
  for (std::uint64_t i = 0; i < b.size(); ++i) b[i] = gemm_input(p.seed, 1, i, p.range);
  for (std::int64_t col = 0; col < p.n; ++col)
    for (std::int64_t row = 0; row < p.m; ++row) {
      std::int64_t s = 0;
      const int* ar = &a[std::uint64_t(row) * std::uint64_t(p.k)];
      const int* bc = &b[std::uint64_t(col) * std::uint64_t(p.k)];
      for (std::int64_t k = 0; k < p.k; ++k) s += std::int64_t(ar[k]) * bc[k];
      std::uint64_t e = std::uint64_t(row) + std::uint64_t(col) * std::uint64_t(p.m);
      hashes[e / k_gemm_chunk] += gemm_element_hash(e, s);
    }
  return hashes;
}

std::string gemm_result_hash(const std::vector<std::uint64_t>& chunk_hashes) {
  std::uint64_t sum = 0;
  for (auto h : chunk_hashes) sum += h;
  return hex64(sum);
}

std::vector<std::pair<std::int64_t, std::int64_t>> gemm_spot_positions(const GemmPlan& p, int count) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  // The four corners, then pseudo-random positions.
  out.push_back({0, 0});
  out.push_back({p.m - 1, 0});
  out.push_back({0, p.n - 1});
  out.push_back({p.m - 1, p.n - 1});
  for (int i = 0; int(out.size()) < count; ++i) {
    std::uint64_t h = splitmix64(p.seed ^ (0x5107ull + std::uint64_t(i)));
    out.push_back({std::int64_t(h % std::uint64_t(p.m)), std::int64_t((h >> 32) % std::uint64_t(p.n))});
  }
  out.resize(std::min<std::size_t>(out.size(), std::size_t(std::max(count, 0))));
  return out;
}

std::uint64_t gemm_check_chunk(const GemmPlan& p, std::uint64_t chunk, std::uint64_t iteration, const double* values,
                               std::vector<GemmMismatch>* records, std::size_t max_records) {
  std::uint64_t wrong = 0;
  std::vector<int> bcol(static_cast<std::size_t>(p.k));
  std::int64_t cached_col = -1;
  for (std::uint64_t i = 0; i < k_gemm_chunk; ++i) {
    std::uint64_t e = chunk * k_gemm_chunk + i;
    std::int64_t row = std::int64_t(e % std::uint64_t(p.m)), col = std::int64_t(e / std::uint64_t(p.m));
    if (col != cached_col) {  // a chunk lies in one or two columns: generate B's column once
      for (std::int64_t k = 0; k < p.k; ++k)
        bcol[std::size_t(k)] = gemm_input(p.seed, 1, std::uint64_t(col) * std::uint64_t(p.k) + std::uint64_t(k), p.range);
      cached_col = col;
    }
    std::int64_t exact = 0;
    const std::uint64_t a0 = std::uint64_t(row) * std::uint64_t(p.k);
    for (std::int64_t k = 0; k < p.k; ++k)
      exact += std::int64_t(gemm_input(p.seed, 0, a0 + std::uint64_t(k), p.range)) * bcol[std::size_t(k)];
    if (!(values[i] == double(exact))) {
      ++wrong;
      if (records && records->size() < max_records)
        records->push_back(GemmMismatch{iteration, row, col, double(exact), values[i]});
    }
  }
  return wrong;
}

}  // namespace aicloud::burnin
