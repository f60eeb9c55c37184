// The controller is driven here by hand-written worker lines: every
// rendezvous, abort and stall rule is exercised without processes.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "nccl_tests/controller.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;
using std::chrono::seconds;

namespace {

const std::string k_id(256, 'a');

LaunchSpec spec_for(int nranks, bool dry_run = false) {
  LaunchSpec s;
  s.ranks = plan_ranks({"n1"}, nranks);
  s.plan.tests = {TestSpec{}};
  s.plan.sizes = {1 << 20};
  s.plan.iterations = 2;
  s.dry_run = dry_run;
  s.silence_timeout_s = 10;
  s.abort_grace_s = 5;
  return s;
}

std::string hello(int rank, const std::string& host = "n1", const std::string& bus = "", int nccl = 22809) {
  HelloMessage h;
  h.rank = rank;
  h.host = host;
  h.pid = 100 + rank;
  h.nccl_version = nccl;
  h.nccl_library = "/lib/libnccl.so.2";
  h.gpu = GpuInfo{rank, "GPU", bus.empty() ? "0000:0" + std::to_string(rank) + ":00.0" : bus, "", 1, 9, 0};
  return encode_hello(h);
}

std::string result(int rank, std::vector<double> times, std::uint64_t wrong = 0) {
  ResultMessage r;
  r.rank = rank;
  r.test = 0;
  r.size_index = 0;
  r.placement = Placement::out_of_place;
  r.bytes = 1 << 20;
  r.times_us = std::move(times);
  r.checked = true;
  r.wrong = wrong;
  return encode_result(r);
}

std::vector<std::string> types(const std::vector<Outbound>& out) {
  std::vector<std::string> t;
  for (const auto& o : out) t.push_back(decode_line(o.line).type);
  return t;
}

bool has_kind(const Controller& c, const std::string& kind) {
  for (const auto& p : c.problems())
    if (p.kind == kind) return true;
  return false;
}

}  // namespace

TEST_CASE("plan_ranks numbers ranks node by node") {
  auto r = plan_ranks({"a", "b"}, 2);
  REQUIRE(r.size() == 4);
  CHECK(r[3].rank == 3);
  CHECK(r[3].node == "b");
  CHECK(r[3].local_rank == 1);
  CHECK(r[3].device == 1);
  auto d = plan_ranks({"a"}, 2, {4, 6});
  CHECK(d[1].device == 6);
  CHECK_THROWS_AS(plan_ranks({"a"}, 0), UsageError);
  CHECK_THROWS_AS(plan_ranks({"a"}, 3, {1, 2}), UsageError);
}

TEST_CASE("happy path: jobs, hellos, the id from rank 0 to everyone, results, done") {
  auto t0 = Clock::now();
  Controller c(spec_for(2), t0);
  auto jobs = c.begin();
  REQUIRE(jobs.size() == 2);
  CHECK(job_from_json(decode_line(jobs[1].line).body).rank == 1);
  CHECK(job_from_json(decode_line(jobs[1].line).body).nranks == 2);
  CHECK(c.on_line(0, hello(0), t0).empty());
  // The id alone does not start anything while a rank has not said hello.
  CHECK(c.on_line(0, encode_unique_id(0, k_id), t0).empty());
  auto start = c.on_line(1, hello(1), t0);
  REQUIRE(start.size() == 2);
  CHECK(types(start) == std::vector<std::string>{"start", "start"});
  CHECK(decode_line(start[1].line).body["unique_id"] == k_id);
  CHECK(c.on_line(0, encode_ready(0, "d1", 1.5), t0).empty());
  CHECK(c.on_line(1, encode_ready(1, "d1", 1.4), t0).empty());
  c.on_line(0, result(0, {10, 12}), t0);
  c.on_line(1, result(1, {11, 9}), t0);
  c.on_line(0, encode_done(0, "ok"), t0);
  c.on_line(1, encode_done(1, "ok"), t0);
  CHECK_FALSE(c.finished());
  c.on_exit(0, 0, 0, t0);
  c.on_exit(1, 0, 0, t0);
  CHECK(c.finished());
  CHECK(c.all_ok());
  CHECK(c.problems().empty());
  CHECK(c.results().at({0, 0, Placement::out_of_place}).size() == 2);
  CHECK(c.ranks()[0].init_s == 1.5);
}

TEST_CASE("a rank without a GPU stops a real run before anyone creates a communicator") {
  auto t0 = Clock::now();
  Controller c(spec_for(3), t0);
  c.begin();
  c.on_line(0, hello(0), t0);
  HelloMessage h;
  h.rank = 1;
  h.gpu_error = "GPU 1 does not exist (1 visible)";
  h.nccl_version = 22809;
  auto out = c.on_line(1, encode_hello(h), t0);
  CHECK(types(out) == std::vector<std::string>{"abort", "abort", "abort"});
  CHECK(c.aborting());
  CHECK(has_kind(c, "gpu"));
  // Late lines start nothing.
  CHECK(c.on_line(0, encode_unique_id(0, k_id), t0).empty());
  CHECK(c.on_line(2, hello(2), t0).empty());
  CHECK_FALSE(c.all_ok());
}

TEST_CASE("a dry run reports every rank's problems and still exchanges the id") {
  auto t0 = Clock::now();
  Controller c(spec_for(2, true), t0);
  c.begin();
  HelloMessage h;
  h.rank = 1;
  h.gpu_error = "no CUDA device";
  h.nccl_error = "cannot load libnccl.so.2";
  c.on_line(1, encode_hello(h), t0);
  c.on_line(0, hello(0), t0);
  auto start = c.on_line(0, encode_unique_id(0, k_id), t0);
  CHECK(types(start) == std::vector<std::string>{"start", "start"});
  c.on_line(0, encode_ready(0, "same", 0), t0);
  c.on_line(1, encode_ready(1, "same", 0), t0);
  c.on_line(0, encode_done(0, "ok"), t0);
  c.on_line(1, encode_done(1, "ok"), t0);
  c.on_exit(0, 0, 0, t0);
  c.on_exit(1, 0, 0, t0);
  CHECK(c.finished());
  CHECK_FALSE(c.aborting());
  CHECK(has_kind(c, "gpu"));
  CHECK(has_kind(c, "nccl"));
  CHECK_FALSE(c.all_ok());
}

TEST_CASE("different unique ids on two ranks abort the run") {
  auto t0 = Clock::now();
  Controller c(spec_for(2, true), t0);
  c.begin();
  c.on_line(0, hello(0), t0);
  c.on_line(1, hello(1), t0);
  c.on_line(0, encode_unique_id(0, k_id), t0);
  c.on_line(0, encode_ready(0, "aaa", 0), t0);
  auto out = c.on_line(1, encode_ready(1, "bbb", 0), t0);
  CHECK(types(out) == std::vector<std::string>{"abort", "abort"});
  CHECK(has_kind(c, "mismatch"));
}

TEST_CASE("a timeout on one rank aborts the others and names the rank that fell behind") {
  auto t0 = Clock::now();
  Controller c(spec_for(3), t0);
  c.begin();
  for (int r = 0; r < 3; ++r) c.on_line(r, hello(r), t0);
  c.on_line(0, encode_unique_id(0, k_id), t0);
  for (int r = 0; r < 3; ++r) {
    HeartbeatMessage hb;
    hb.rank = r;
    hb.phase = "timed";
    hb.test = 0;
    hb.launched = r == 2 ? 17 : 20;  // rank 2 never launched the last three
    hb.completed = 17;
    c.on_line(r, encode_heartbeat(hb), t0);
  }
  ErrorMessage e{0, "timed", "timeout", "waiting on the GPU for more than 120 s", 20, 17};
  auto out = c.on_line(0, encode_error(e), t0 + seconds(1));
  CHECK(types(out) == std::vector<std::string>{"abort", "abort", "abort"});
  REQUIRE(c.stalled().size() == 1);
  CHECK(c.stalled()[0].find("rank 2") != std::string::npos);
  CHECK(c.stalled()[0].find("launched 17") != std::string::npos);
  // The aborted ranks finish; nobody is killed within the grace period.
  CHECK(c.ranks_to_kill(t0 + seconds(2)).empty());
  c.on_line(1, encode_done(1, "aborted"), t0 + seconds(2));
  c.on_exit(1, 1, 0, t0 + seconds(2));
  auto kill = c.ranks_to_kill(t0 + seconds(7));
  CHECK(kill == std::vector<int>{0, 2});
  c.mark_killed(2);
  CHECK(has_kind(c, "killed"));
  CHECK(has_kind(c, "timeout"));
}

TEST_CASE("when every rank launched the same operations, the stall is the operation itself") {
  std::vector<std::optional<HeartbeatMessage>> p(2);
  HeartbeatMessage h;
  h.launched = 5;
  p[0] = h;
  p[1] = h;
  LagReport r = find_laggards(p);
  CHECK(r.all_equal);
  CHECK(r.lagging.empty());
  CHECK(r.front_launched == 5);
  p[1]->launched = 3;
  r = find_laggards(p);
  CHECK_FALSE(r.all_equal);
  CHECK(r.lagging == std::vector<int>{1});
  p.push_back(std::nullopt);  // never reported progress: behind too
  CHECK(find_laggards(p).lagging == std::vector<int>{1, 2});
  CHECK_FALSE(find_laggards({std::nullopt}).all_equal);
}

TEST_CASE("a silent rank is unresponsive after the silence timeout") {
  auto t0 = Clock::now();
  Controller c(spec_for(2), t0);
  c.begin();
  c.on_line(0, hello(0), t0 + seconds(5));
  CHECK(c.on_tick(t0 + seconds(9)).empty());
  auto out = c.on_tick(t0 + seconds(11));  // rank 1: no hello for 11 s
  CHECK(types(out) == std::vector<std::string>{"abort", "abort"});
  REQUIRE(has_kind(c, "unresponsive"));
  CHECK(c.problems().front().message.find("did not start") != std::string::npos);
  CHECK(c.problems().front().rank == 1);
}

TEST_CASE("a worker that exits without saying done is a problem and aborts the others") {
  auto t0 = Clock::now();
  Controller c(spec_for(2), t0);
  c.begin();
  c.on_line(0, hello(0), t0);
  c.on_line(1, hello(1), t0);
  c.on_stderr(1, "Segmentation fault");
  auto out = c.on_exit(1, -1, 11, t0);
  CHECK(types(out) == std::vector<std::string>{"abort"});
  REQUIRE(has_kind(c, "exited"));
  CHECK(c.problems().back().message.find("signal 11") != std::string::npos);
  CHECK(c.problems().back().message.find("Segmentation fault") != std::string::npos);
  CHECK(c.ranks()[1].stderr_tail.size() == 1);
}

TEST_CASE("protocol violations abort with the offending line") {
  auto t0 = Clock::now();
  {
    Controller c(spec_for(2), t0);
    c.begin();
    auto out = c.on_line(1, "NCCL WARN something printed on stdout", t0);
    CHECK(types(out).size() == 2);
    CHECK(has_kind(c, "protocol"));
    CHECK(c.problems().front().message.find("NCCL WARN") != std::string::npos);
  }
  {
    Controller c(spec_for(2), t0);
    c.begin();
    c.on_line(1, encode_unique_id(1, k_id), t0);
    CHECK(has_kind(c, "protocol"));
  }
  {
    Controller c(spec_for(2), t0);
    c.begin();
    c.on_line(1, hello(0), t0);  // rank 0's hello on rank 1's channel
    CHECK(has_kind(c, "protocol"));
  }
  {
    Controller c(spec_for(2), t0);
    c.begin();
    c.on_line(0, encode_unique_id(0, "abc"), t0);
    CHECK(has_kind(c, "protocol"));
  }
  {
    Controller c(spec_for(1), t0);
    c.begin();
    c.on_line(0, "{\"type\":\"bogus\",\"rank\":0}", t0);
    CHECK(has_kind(c, "protocol"));
  }
}

TEST_CASE("two ranks on one GPU, and mixed NCCL versions, are reported") {
  auto t0 = Clock::now();
  Controller c(spec_for(3, true), t0);
  c.begin();
  c.on_line(0, hello(0, "n1", "0000:18:00.0"), t0);
  c.on_line(1, hello(1, "n1", "0000:18:00.0"), t0);
  c.on_line(2, hello(2, "n1", "0000:19:00.0", 22105), t0);
  CHECK(has_kind(c, "mismatch"));
  REQUIRE(c.warnings().size() == 1);
  CHECK(c.warnings()[0].find("2.21.5") != std::string::npos);
}

TEST_CASE("Ctrl-C aborts every rank and marks the run interrupted") {
  auto t0 = Clock::now();
  Controller c(spec_for(2), t0);
  c.begin();
  auto out = c.abort_all("interrupted (Ctrl-C)", "interrupted", t0);
  CHECK(types(out) == std::vector<std::string>{"abort", "abort"});
  CHECK(c.interrupted());
  CHECK(c.abort_all("again", "interrupted", t0).empty());
}
