#include "nccl_tests/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace aicloud::nccl_tests {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  q = std::clamp(q, 0.0, 100.0);
  const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = static_cast<std::size_t>(std::ceil(pos));
  const double frac = pos - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

SampleStats summarize(const std::vector<double>& values) {
  SampleStats s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  auto [mn, mx] = std::minmax_element(values.begin(), values.end());
  s.min = *mn;
  s.max = *mx;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / s.n;
  s.median = percentile(values, 50);
  s.p5 = percentile(values, 5);
  s.p95 = percentile(values, 95);
  if (s.n >= 2) {
    double acc = 0;
    for (double v : values) acc += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(acc / (s.n - 1));
    s.cv = s.mean != 0 ? s.stddev / s.mean : 0;
  }
  return s;
}

std::vector<double> slowest_rank_per_iteration(const std::vector<std::vector<double>>& per_rank) {
  std::size_t n = 0;
  for (const auto& r : per_rank) n = std::max(n, r.size());
  std::vector<double> out(n, 0.0);
  for (const auto& r : per_rank)
    for (std::size_t i = 0; i < r.size(); ++i) out[i] = std::max(out[i], r[i]);
  return out;
}

}  // namespace aicloud::nccl_tests
