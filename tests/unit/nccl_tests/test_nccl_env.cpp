#include <doctest/doctest.h>

#include "nccl_tests/nccl_env.hpp"

using namespace aicloud::nccl_tests;

TEST_CASE("only allow-listed NCCL and CUDA variables are recorded") {
  const char* env[] = {"NCCL_ALGO=Ring",          "NCCL_IB_HCA=mlx5_0,mlx5_1", "NCCL_SOCKET_IFNAME=eth0",
                       "NCCL_DEBUG_FILE=/home/a/x", "NCCL_COMM_ID=10.0.0.1:1234", "AWS_SECRET_ACCESS_KEY=abc",
                       "CUDA_VISIBLE_DEVICES=0,1", "PATH=/usr/bin",             "NCCL_PROTO",
                       "NCCL_NVLS_ENABLE=0",      nullptr};
  auto got = allowed_env(env);
  CHECK(got == std::map<std::string, std::string>{{"CUDA_VISIBLE_DEVICES", "0,1"},
                                                  {"NCCL_ALGO", "Ring"},
                                                  {"NCCL_IB_HCA", "mlx5_0,mlx5_1"},
                                                  {"NCCL_NVLS_ENABLE", "0"},
                                                  {"NCCL_SOCKET_IFNAME", "eth0"}});
  CHECK(env_allowed("NCCL_IB_TIMEOUT"));
  CHECK_FALSE(env_allowed("NCCL_DEBUG_FILE"));
  CHECK_FALSE(env_allowed("HOME"));
  CHECK(allowed_env(nullptr).empty());
}

TEST_CASE("NCCL's TUNING lines are parsed, with and without the trailing comm pointer") {
  auto c = parse_tuning_line(
      "gpu-a12-01:1234:1250 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..31}");
  REQUIRE(c);
  CHECK(c->function == "AllReduce");
  CHECK(c->bytes == 1048576);
  CHECK(c->algorithm == "RING");
  CHECK(c->protocol == "SIMPLE");
  CHECK(c->channel_lo == 0);
  CHECK(c->channel_hi == 31);
  c = parse_tuning_line(
      "[2025-10-01 12:00:00] host:1:2 [3] NCCL INFO AllGather: 4 Bytes -> Algo NVLS proto LL channel{Lo..Hi}={0..0} comm "
      "0x55a7a339db50");
  REQUIRE(c);
  CHECK(c->function == "AllGather");
  CHECK(c->algorithm == "NVLS");
  CHECK(c->protocol == "LL");
  c = parse_tuning_line("host:1:2 [0] NCCL INFO ReduceScatter: 64 Bytes -> Algo PAT proto LL128");
  REQUIRE(c);
  CHECK(c->channel_lo == -1);
  CHECK_FALSE(parse_tuning_line("host:1:2 [0] NCCL INFO Channel 00/32 : 0 1 2 3 4 5 6 7"));
  CHECK_FALSE(parse_tuning_line("host:1:2 [0] NCCL INFO comm 0x1 rank 0 nranks 8 cudaDev 0 busId 18000 - Init COMPLETE"));
  CHECK_FALSE(parse_tuning_line("NCCL INFO AllReduce: lots Bytes -> Algo RING proto SIMPLE"));
  CHECK_FALSE(parse_tuning_line("nothing to see"));
}

TEST_CASE("the most frequent choice for a function and size wins") {
  std::vector<std::string> log = {
      "h:1:1 [0] NCCL INFO NCCL version 2.28.9+cuda13.0",
      "h:1:1 [0] NCCL INFO AllReduce: 1024 Bytes -> Algo TREE proto LL channel{Lo..Hi}={0..1}",
      "h:1:1 [0] NCCL INFO AllReduce: 1024 Bytes -> Algo RING proto LL channel{Lo..Hi}={0..1}",
      "h:1:1 [0] NCCL INFO AllReduce: 1024 Bytes -> Algo RING proto LL channel{Lo..Hi}={0..1}",
      "h:1:1 [0] NCCL INFO AllReduce: 2048 Bytes -> Algo NVLS proto SIMPLE channel{Lo..Hi}={0..15}",
      "h:1:1 [0] NCCL INFO AllGather: 1024 Bytes -> Algo NVLS proto SIMPLE channel{Lo..Hi}={0..15}"};
  auto c = choice_for(log, "AllReduce", 1024);
  REQUIRE(c);
  CHECK(c->algorithm == "RING");
  CHECK(choice_for(log, "AllReduce", 2048)->algorithm == "NVLS");
  CHECK_FALSE(choice_for(log, "AllReduce", 4096));
  CHECK_FALSE(choice_for(log, "Broadcast", 1024));
  CHECK(nccl_function_name("reduce_scatter") == "ReduceScatter");
  CHECK(nccl_function_name("alltoall").empty());
  CHECK(nccl_function_name("sendrecv").empty());
}
