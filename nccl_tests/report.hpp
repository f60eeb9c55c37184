// From per-rank results to what a tech and a certification read: rows
// combined across ranks (iteration time = slowest rank), bandwidths from
// the median, wrong elements summed, the nccl-tests-style table and the
// JSON document (schema "aicloudctl.nccl/1", docs/nccl.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nccl_tests/controller.hpp"
#include "nccl_tests/stats.hpp"

namespace aicloud::nccl_tests {

inline constexpr const char* k_report_schema = "aicloudctl.nccl/1";

// One placement (out-of-place or in-place) of one row, all ranks combined.
struct PlacementResult {
  bool present = false;           // every rank reported it
  std::vector<double> times_us;   // per iteration, slowest rank
  SampleStats stats;              // of times_us
  Bandwidth bw;                   // at the median time
  Bandwidth bw_mean;              // at the mean time (nccl-tests' number)
  std::vector<double> per_rank_median_us;
  bool checked = false;           // every timed iteration verified
  std::uint64_t wrong = 0;        // wrong elements, all ranks and iterations
  int wrong_iterations = 0;       // iterations with any wrong element on any rank
  int first_wrong_rank = -1;
  std::optional<FirstWrong> first_wrong;
  int slices = 0, batches = 0;    // rank 0's memory plan
  std::string algorithm, protocol, channels;
};

struct RowResult {
  std::uint64_t size_bytes = 0;   // nccl-tests "size": larger of send and receive buffer
  std::uint64_t count = 0;        // nccl-tests "count": elements passed to NCCL
  std::uint64_t sweep_bytes = 0;  // the -b..-e value this row came from
  PlacementResult out_of_place, in_place;
};

struct TestResult {
  TestSpec spec;
  int nranks = 0;
  std::vector<RowResult> rows;  // only rows some rank reported
};

// Combines the ranks' reports of one row and placement; `present` only
// when all nranks reported.
PlacementResult combine_placement(const std::map<int, ResultMessage>& per_rank, const TestSpec& spec,
                                  std::uint64_t param_count, int nranks);

std::vector<TestResult> combine_results(const LaunchSpec& spec,
                                        const std::map<RowKey, std::map<int, ResultMessage>>& results);

struct RunReport {
  std::string status;  // ok, failed, interrupted
  int exit_code = 0;
  std::string start_time, end_time;  // ISO 8601, UTC
  double duration_s = 0;
  LaunchSpec launch;
  std::map<std::string, std::string> env;  // allow-listed NCCL_* of the controller plus --env
  std::vector<RankRecord> ranks;
  std::vector<TestResult> tests;
  std::vector<Problem> problems;
  std::vector<std::string> warnings;
  std::vector<std::string> stalled;
};

// Builds the report of a finished controller; `env` is what the JSON records.
RunReport build_report(const Controller& c, std::map<std::string, std::string> env, std::string start_time,
                       std::string end_time, double duration_s);

nlohmann::ordered_json report_to_json(const RunReport& r);
// The nccl-tests-style table (one block per test) with a header naming
// NCCL, CUDA and every rank's GPU, and a footer with problems.
std::string format_table(const RunReport& r, bool verbose);
// The --dry-run answer: one line per rank (rank, node, host, pid, GPU, NCCL).
std::string format_dry_run(const RunReport& r);

// For readers of the JSON document (certification): the bus bandwidth in
// GB/s of `collective` at row size `size` ("size" in bytes) and placement
// ("out_of_place" or "in_place"), from the first test of that collective;
// nullopt when the row is absent or was not run.
std::optional<double> busbw_at(const nlohmann::ordered_json& report, std::string_view collective, std::uint64_t size,
                               std::string_view placement = "out_of_place");

// nccl-tests' time column format: %7.0f / %7.1f / %7.2f by magnitude.
std::string format_time_us(double us);


}  // namespace aicloud::nccl_tests
