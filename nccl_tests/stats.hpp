// Statistics of per-iteration times. A collective iteration is as slow as
// its slowest rank, so the time of iteration i is the maximum over ranks of
// each rank's CUDA-event time for i; a size is then described by the median,
// 5th and 95th percentiles, max and coefficient of variation of those
// iteration times, never only by an average.
#pragma once

#include <vector>

namespace aicloud::nccl_tests {

struct SampleStats {
  int n = 0;
  double min = 0, max = 0, mean = 0, median = 0, p5 = 0, p95 = 0;
  double stddev = 0;  // sample standard deviation (n-1)
  double cv = 0;      // stddev / mean (0 when n < 2 or mean == 0)
};

// Percentile with linear interpolation between closest ranks (numpy's
// default): q in [0, 100]. The input need not be sorted.
double percentile(std::vector<double> values, double q);

SampleStats summarize(const std::vector<double>& values);

// Element-wise maximum of per-rank iteration times. Ranks with fewer
// iterations (a failed rank) contribute to the iterations they have.
std::vector<double> slowest_rank_per_iteration(const std::vector<std::vector<double>>& per_rank);

}  // namespace aicloud::nccl_tests
