#include <doctest/doctest.h>

#include <cmath>

#include "nccl_tests/protocol.hpp"

using namespace aicloud::nccl_tests;

TEST_CASE("a job round-trips through its line") {
  JobMessage j;
  j.rank = 3;
  j.nranks = 16;
  j.local_rank = 3;
  j.node = "gpu-a12-01";
  j.device = 3;
  j.dry_run = true;
  j.nccl_library = "/opt/nccl/libnccl.so.2";
  j.env = {{"NCCL_ALGO", "Ring"}};
  j.init_timeout_s = 30;
  j.phase_timeout_s = 45;
  j.plan.tests = {{Collective::reduce_scatter, DataType::bfloat16, RedOp::max, 2}};
  j.plan.sizes = {1024, 1ull << 34};
  j.plan.iterations = 7;
  j.plan.warmup = 2;
  j.plan.in_place = false;
  j.plan.check = false;
  std::string line = encode_job(j);
  CHECK(line.find('\n') == std::string::npos);
  Message m = decode_line(line);
  CHECK(m.type == "job");
  JobMessage k = job_from_json(m.body);
  CHECK(k.rank == 3);
  CHECK(k.nranks == 16);
  CHECK(k.node == "gpu-a12-01");
  CHECK(k.dry_run);
  CHECK(k.nccl_library == j.nccl_library);
  CHECK(k.env == j.env);
  CHECK(k.init_timeout_s == 30);
  CHECK(k.phase_timeout_s == 45);
  REQUIRE(k.plan.tests.size() == 1);
  CHECK(k.plan.tests[0].collective == Collective::reduce_scatter);
  CHECK(k.plan.tests[0].dtype == DataType::bfloat16);
  CHECK(k.plan.tests[0].op == RedOp::max);
  CHECK(k.plan.tests[0].root == 2);
  CHECK(k.plan.sizes == j.plan.sizes);
  CHECK(k.plan.iterations == 7);
  CHECK_FALSE(k.plan.in_place);
  CHECK_FALSE(k.plan.check);
}

TEST_CASE("hello, heartbeat, result and error round-trip") {
  HelloMessage h;
  h.rank = 1;
  h.host = "n1";
  h.pid = 99;
  h.nccl_version = 22809;
  h.nccl_library = "/x/libnccl.so.2";
  h.cuda_runtime = 13000;
  h.gpu = GpuInfo{1, "NVIDIA H100 80GB HBM3", "0000:18:00.0", "GPU-1", 85899345920ull, 9, 0};
  HelloMessage h2 = hello_from_json(decode_line(encode_hello(h)).body);
  CHECK(h2.host == "n1");
  CHECK(h2.nccl_version == 22809);
  REQUIRE(h2.gpu);
  CHECK(h2.gpu->pci_bus_id == "0000:18:00.0");
  CHECK(h2.gpu->cc_major == 9);
  CHECK(h2.gpu->memory_total == 85899345920ull);
  HelloMessage bad;
  bad.gpu_error = "no CUDA device";
  bad.nccl_error = "cannot load libnccl.so.2";
  HelloMessage bad2 = hello_from_json(decode_line(encode_hello(bad)).body);
  CHECK_FALSE(bad2.gpu);
  CHECK(bad2.gpu_error == "no CUDA device");
  CHECK(bad2.nccl_error == "cannot load libnccl.so.2");

  HeartbeatMessage hb;
  hb.rank = 2;
  hb.phase = "timed";
  hb.test = 0;
  hb.size_index = 4;
  hb.placement = "in_place";
  hb.launched = 123;
  hb.completed = 120;
  HeartbeatMessage hb2 = heartbeat_from_json(decode_line(encode_heartbeat(hb)).body);
  CHECK(hb2.phase == "timed");
  CHECK(hb2.launched == 123);
  CHECK(hb2.completed == 120);

  ResultMessage r;
  r.rank = 0;
  r.test = 1;
  r.size_index = 2;
  r.placement = Placement::in_place;
  r.bytes = 4096;
  r.times_us = {10.5, 11.25};
  r.checked = true;
  r.wrong = 3;
  r.wrong_iterations = {1};
  r.first_wrong = FirstWrong{1, 17, 6.0, NAN, "ffffffff"};
  r.algorithm = "RING";
  r.protocol = "LL128";
  r.channels = "0..7";
  ResultMessage r2 = result_from_json(decode_line(encode_result(r)).body);
  CHECK(r2.placement == Placement::in_place);
  CHECK(r2.times_us == r.times_us);
  CHECK(r2.wrong == 3);
  REQUIRE(r2.first_wrong);
  CHECK(r2.first_wrong->offset == 17);
  CHECK(std::isnan(r2.first_wrong->actual));  // NaN travels as null
  CHECK(r2.algorithm == "RING");

  ErrorMessage e{3, "timed", "timeout", "waiting", 40, 39};
  ErrorMessage e2 = error_from_json(decode_line(encode_error(e)).body);
  CHECK(e2.kind == "timeout");
  CHECK(e2.launched == 40);
}

TEST_CASE("malformed lines and fields are protocol errors that say what is wrong") {
  CHECK_THROWS_AS(decode_line("not json"), ProtocolError);
  CHECK_THROWS_AS(decode_line("[1,2]"), ProtocolError);
  CHECK_THROWS_WITH_AS(decode_line("{\"rank\":1}"), doctest::Contains("type"), ProtocolError);
  CHECK_THROWS_WITH_AS(job_from_json(decode_line("{\"type\":\"job\",\"protocol\":1}").body), doctest::Contains("rank"),
                       ProtocolError);
  CHECK_THROWS_WITH_AS(job_from_json(decode_line("{\"type\":\"job\",\"protocol\":99}").body),
                       doctest::Contains("protocol 99"), ProtocolError);
  CHECK_THROWS_WITH_AS(result_from_json(decode_line("{\"type\":\"result\",\"rank\":\"x\"}").body),
                       doctest::Contains("wrong type"), ProtocolError);
  CHECK_THROWS_WITH_AS(
      test_from_json(decode_line("{\"type\":\"x\",\"collective\":\"allgathr\",\"dtype\":\"float\",\"op\":\"sum\"}").body),
      doctest::Contains("allgathr"), ProtocolError);
  JobMessage j;
  j.plan.tests = {TestSpec{}};
  j.plan.sizes = {1};
  auto body = decode_line(encode_job(j)).body;
  body["rank"] = 5;  // nranks is 1
  CHECK_THROWS_AS(job_from_json(body), ProtocolError);
  body["rank"] = 0;
  body["plan"]["iterations"] = 0;
  CHECK_THROWS_AS(job_from_json(body), ProtocolError);
}
