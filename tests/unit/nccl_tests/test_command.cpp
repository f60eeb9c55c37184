#include <doctest/doctest.h>

#include "common/error.hpp"
#include "nccl_tests/command.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;

TEST_CASE("defaults: all_reduce float sum 1M..1G x2 on every GPU of the node") {
  NcclOptions o;
  LaunchSpec s = make_launch_spec(o, {"gpu01"}, 8);
  CHECK(s.ranks.size() == 8);
  CHECK(s.ranks[7].device == 7);
  CHECK(s.ranks[7].node == "gpu01");
  CHECK(s.plan.sizes.size() == 11);
  REQUIRE(s.plan.tests.size() == 1);
  CHECK(s.plan.tests[0].collective == Collective::all_reduce);
  CHECK(s.plan.iterations == 20);
  CHECK(s.plan.check);
  CHECK(s.plan.in_place);
  CHECK(s.plan.out_of_place);
  CHECK(s.phase_timeout_s == 120);
  CHECK(s.silence_timeout_s >= s.phase_timeout_s);
}

TEST_CASE("lists and 'all' expand into one test per collective, type and op") {
  NcclOptions o;
  o.collectives = {"all_reduce,all_gather", "sendrecv"};
  o.dtypes = {"float,bf16"};
  o.ops = {"sum", "max"};
  LaunchSpec s = make_launch_spec(o, {"n"}, 2);
  // all_reduce: 2 types x 2 ops; all_gather and sendrecv: 2 types each (op unused).
  CHECK(s.plan.tests.size() == 8);
  o.collectives = {"all"};
  o.dtypes = {"float"};
  o.ops = {"sum"};
  CHECK(make_launch_spec(o, {"n"}, 2).plan.tests.size() == 7);
  o.ops = {"all"};
  CHECK(make_launch_spec(o, {"n"}, 2).plan.tests.size() == 3 * 5 + 4);
}

TEST_CASE("bad values are usage errors naming the flag, with a did-you-mean") {
  NcclOptions o;
  o.collectives = {"allgathr"};
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("did you mean 'all_gather'"), UsageError);
  o = NcclOptions{};
  o.min_bytes = "12Q";
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("--min-bytes"), UsageError);
  o = NcclOptions{};
  o.dtypes = {"float128"};
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("--datatype"), UsageError);
  o = NcclOptions{};
  o.timeout = "soon";
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("--timeout"), UsageError);
  o = NcclOptions{};
  o.iterations = 0;
  CHECK_THROWS_AS(make_launch_spec(o, {"n"}, 8), UsageError);
  o = NcclOptions{};
  o.root = 8;
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("--root"), UsageError);
  o = NcclOptions{};
  o.env = {"NCCL_ALGO"};
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("--env"), UsageError);
  o = NcclOptions{};
  o.in_place_only = o.out_of_place_only = true;
  CHECK_THROWS_AS(make_launch_spec(o, {"n"}, 8), UsageError);
  o = NcclOptions{};
  o.collectives = {"alltoall"};
  o.in_place_only = true;
  CHECK_THROWS_AS(make_launch_spec(o, {"n"}, 8), UsageError);
  o = NcclOptions{};
  o.step_bytes = "1M";
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("--step-factor"), UsageError);
  o.step_factor = 1;
  o.min_bytes = "1M";
  o.max_bytes = "3M";
  CHECK(make_launch_spec(o, {"n"}, 8).plan.sizes == std::vector<std::uint64_t>{1 << 20, 2 << 20, 3 << 20});
}

TEST_CASE("GPU selection: lists, ranges, ranks per node and what the node has") {
  CHECK(parse_gpu_list("all").empty());
  CHECK(parse_gpu_list("0,2,4-6") == std::vector<int>{0, 2, 4, 5, 6});
  CHECK_THROWS_AS(parse_gpu_list("1,1"), UsageError);
  CHECK_THROWS_AS(parse_gpu_list("3-1"), UsageError);
  CHECK_THROWS_AS(parse_gpu_list("x"), UsageError);

  NcclOptions o;
  o.gpus = "4-7";
  LaunchSpec s = make_launch_spec(o, {"n"}, 8);
  CHECK(s.ranks.size() == 4);
  CHECK(s.ranks[0].device == 4);
  o.gpus = "6-9";
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("GPU 8 does not exist"), UsageError);
  o = NcclOptions{};
  o.ranks_per_node = 4;
  CHECK(make_launch_spec(o, {"n"}, 8).ranks.size() == 4);
  o.ranks_per_node = 9;
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, 8), doctest::Contains("one rank per GPU"), UsageError);
  // No GPU found: a dry run needs an explicit rank count.
  o = NcclOptions{};
  o.dry_run = true;
  CHECK_THROWS_WITH_AS(make_launch_spec(o, {"n"}, -1), doctest::Contains("--ranks-per-node"), UsageError);
  o.ranks_per_node = 3;
  s = make_launch_spec(o, {"a", "b"}, -1);
  CHECK(s.ranks.size() == 6);
  CHECK(s.dry_run);
}

TEST_CASE("--env values go to every rank") {
  NcclOptions o;
  o.env = {"NCCL_ALGO=Ring", "NCCL_NVLS_ENABLE=0", "EMPTY="};
  LaunchSpec s = make_launch_spec(o, {"n"}, 1);
  CHECK(s.env == std::map<std::string, std::string>{{"EMPTY", ""}, {"NCCL_ALGO", "Ring"}, {"NCCL_NVLS_ENABLE", "0"}});
}
