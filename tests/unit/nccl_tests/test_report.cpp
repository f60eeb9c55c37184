#include <doctest/doctest.h>

#include "nccl_tests/report.hpp"

using namespace aicloud::nccl_tests;

namespace {

ResultMessage rank_result(int rank, std::vector<double> times, std::uint64_t wrong = 0) {
  ResultMessage r;
  r.rank = rank;
  r.times_us = std::move(times);
  r.checked = true;
  r.wrong = wrong;
  r.slices = 20;
  r.batches = 1;
  if (rank == 0) {
    r.algorithm = "RING";
    r.protocol = "SIMPLE";
    r.channels = "0..31";
  }
  return r;
}

// A two-rank run of all_reduce 1 MiB float that finished cleanly.
Controller finished_run(std::uint64_t wrong_on_rank1 = 0) {
  LaunchSpec s;
  s.ranks = plan_ranks({"node1"}, 2);
  s.plan.tests = {TestSpec{}};
  s.plan.sizes = {1 << 20};
  s.plan.iterations = 3;
  auto t0 = Clock::now();
  Controller c(s, t0);
  c.begin();
  for (int r = 0; r < 2; ++r) {
    HelloMessage h;
    h.rank = r;
    h.host = "node1";
    h.pid = 10 + r;
    h.nccl_version = 22809;
    h.nccl_library = "/lib/libnccl.so.2";
    h.cuda_runtime = 13000;
    h.cuda_driver = 13010;
    h.gpu = GpuInfo{r, "NVIDIA H200", "0000:1" + std::to_string(r) + ":00.0", "GPU-x", 1, 9, 0};
    c.on_line(r, encode_hello(h), t0);
  }
  c.on_line(0, encode_unique_id(0, std::string(256, 'f')), t0);
  for (int r = 0; r < 2; ++r) c.on_line(r, encode_ready(r, "d", 1.0), t0);
  for (Placement pl : {Placement::out_of_place, Placement::in_place})
    for (int r = 0; r < 2; ++r) {
      ResultMessage m = rank_result(r, r == 0 ? std::vector<double>{100, 200, 100} : std::vector<double>{110, 90, 100},
                                    r == 1 && pl == Placement::in_place ? wrong_on_rank1 : 0);
      m.placement = pl;
      m.bytes = 1 << 20;
      if (m.wrong) {
        m.first_wrong = FirstWrong{2, 5, 8.0, 9.0, "00001041"};
        m.wrong_iterations = {2};
      }
      c.on_line(r, encode_result(m), t0);
    }
  for (int r = 0; r < 2; ++r) {
    c.on_line(r, encode_done(r, "ok"), t0);
    c.on_exit(r, 0, 0, t0);
  }
  return c;
}

}  // namespace

TEST_CASE("rows combine ranks: slowest rank per iteration, median time, bandwidth from it") {
  std::map<int, ResultMessage> per_rank = {{0, rank_result(0, {100, 200, 100})}, {1, rank_result(1, {110, 90, 100})}};
  TestSpec spec;
  PlacementResult p = combine_placement(per_rank, spec, 262144, 2);
  CHECK(p.present);
  CHECK(p.times_us == std::vector<double>{110, 200, 100});
  CHECK(p.stats.median == 110.0);
  CHECK(p.per_rank_median_us == std::vector<double>{100, 100});
  // 1 MiB in 110 us; all_reduce over two ranks: busbw = algbw.
  CHECK(p.bw.algbw_gbps == doctest::Approx(1048576.0 / 110e-6 / 1e9));
  CHECK(p.bw.busbw_gbps == doctest::Approx(p.bw.algbw_gbps));
  CHECK(p.bw_mean.algbw_gbps == doctest::Approx(1048576.0 / (410.0 / 3 * 1e-6) / 1e9));
  CHECK(p.checked);
  CHECK(p.algorithm == "RING");
  CHECK(p.slices == 20);
  // Missing a rank: not present (a row cut short by a failure).
  per_rank.erase(1);
  CHECK_FALSE(combine_placement(per_rank, spec, 262144, 2).present);
}

TEST_CASE("reduce is checked on the root only, wrong elements add up across ranks") {
  TestSpec spec{Collective::reduce, DataType::float32, RedOp::sum, 1};
  std::map<int, ResultMessage> per_rank = {{0, rank_result(0, {1})}, {1, rank_result(1, {1}, 4)}};
  per_rank[0].checked = false;  // not the root
  per_rank[1].wrong_iterations = {0};
  per_rank[1].first_wrong = FirstWrong{0, 3, 1, 2, "00000040"};
  PlacementResult p = combine_placement(per_rank, spec, 16, 2);
  CHECK(p.checked);
  CHECK(p.wrong == 4);
  CHECK(p.wrong_iterations == 1);
  CHECK(p.first_wrong_rank == 1);
  per_rank[1].checked = false;
  CHECK_FALSE(combine_placement(per_rank, spec, 16, 2).checked);
}

TEST_CASE("a clean run reports ok with nccl-tests' columns and the JSON fields certification reads") {
  Controller c = finished_run();
  RunReport r = build_report(c, {{"NCCL_ALGO", "Ring"}}, "2025-01-01T00:00:00Z", "2025-01-01T00:00:05Z", 5);
  CHECK(r.status == "ok");
  CHECK(r.exit_code == 0);
  std::string table = format_table(r, true);
  CHECK(table.find("#       size         count      type   redop    root     time   algbw   busbw #wrong") !=
        std::string::npos);
  CHECK(table.find("     1048576        262144     float     sum      -1") != std::string::npos);
  CHECK(table.find("NCCL 2.28.9 (/lib/libnccl.so.2), CUDA runtime 13.0, driver 13.1") != std::string::npos);
  CHECK(table.find("NVIDIA H200") != std::string::npos);
  CHECK(table.find("RING/SIMPLE") != std::string::npos);
  CHECK(table.find("Status: ok") != std::string::npos);
  auto j = report_to_json(r);
  CHECK(j["schema"] == "aicloudctl.nccl/1");
  CHECK(j["status"] == "ok");
  CHECK(j["nccl"]["version"] == "2.28.9");
  CHECK(j["cuda"]["driver"] == "13.1");
  CHECK(j["env"]["NCCL_ALGO"] == "Ring");
  CHECK(j["ranks"].size() == 2);
  CHECK(j["ranks"][1]["gpu"]["pci_bus_id"] == "0000:11:00.0");
  auto row = j["tests"][0]["results"][0];
  CHECK(row["size"] == 1048576);
  CHECK(row["count"] == 262144);
  CHECK(row["type"] == "float");
  CHECK(row["redop"] == "sum");
  CHECK(row["root"] == -1);
  CHECK(row["out_of_place"]["time_us"] == 110.0);
  CHECK(row["out_of_place"]["stats_us"]["p95"].is_number());
  CHECK(row["out_of_place"]["times_us"].size() == 3);
  CHECK(row["out_of_place"]["wrong"] == 0);
  CHECK(row["out_of_place"]["algorithm"] == "RING");
  CHECK(row["in_place"]["busbw_gbps"].is_number());
  CHECK(j["tests"][0]["bus_factor"] == 1.0);
  CHECK(j["problems"].empty());
  // What certification reads: busbw at a fixed size, from the document.
  auto parsed = nlohmann::ordered_json::parse(j.dump());
  REQUIRE(busbw_at(parsed, "all_reduce", 1048576));
  CHECK(*busbw_at(parsed, "all_reduce", 1048576) == doctest::Approx(1048576.0 / 110e-6 / 1e9));
  CHECK(busbw_at(parsed, "all_reduce", 1048576, "in_place").has_value());
  CHECK_FALSE(busbw_at(parsed, "all_reduce", 2097152));
  CHECK_FALSE(busbw_at(parsed, "all_gather", 1048576));
  CHECK_FALSE(busbw_at(nlohmann::ordered_json::object(), "all_reduce", 1048576));
}

TEST_CASE("wrong elements fail the run and are shown with rank, iteration and offset") {
  Controller c = finished_run(7);
  RunReport r = build_report(c, {}, "a", "b", 1);
  CHECK(r.status == "failed");
  CHECK(r.exit_code == 1);
  std::string table = format_table(r, false);
  CHECK(table.find("Wrong elements: 7") != std::string::npos);
  CHECK(table.find("rank 1 iteration 2 offset 5 expected 8 got 9") != std::string::npos);
  auto j = report_to_json(r);
  CHECK(j["tests"][0]["results"][0]["in_place"]["first_wrong"]["rank"] == 1);
  CHECK(j["problems"][0]["kind"] == "wrong-data");
}

TEST_CASE("nccl-tests' time format by magnitude") {
  CHECK(format_time_us(12.345) == "  12.35");
  CHECK(format_time_us(123.45) == "  123.5");
  CHECK(format_time_us(12345.6) == "  12346");
}

TEST_CASE("the dry-run answer lists every rank and the id check") {
  Controller c = finished_run();
  RunReport r = build_report(c, {}, "a", "b", 1);
  std::string s = format_dry_run(r);
  CHECK(s.find("RANK  NODE") != std::string::npos);
  CHECK(s.find("0000:11:00.0") != std::string::npos);
  CHECK(s.find("2/2 ranks received it") != std::string::npos);
  CHECK(s.find("identical") != std::string::npos);
}
