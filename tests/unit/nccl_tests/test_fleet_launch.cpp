// The pure parts of the fleet launcher: per-node rank planning from probed
// GPU counts, the remote binary's path and the exit code. The SSH side runs
// against the loopback fleet (tests/integration/nccl/test_nccl_fleet.cpp).
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "nccl_tests/fleet_launch.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;

TEST_CASE("ranks follow each node's GPU count, a node that cannot run is named, the others keep their ranks") {
  NcclOptions o;
  std::vector<std::string> errors;
  LaunchSpec s = plan_fleet_launch(o, {"a", "b", "c"}, {8, 0, 4}, errors);
  REQUIRE(s.ranks.size() == 12);
  CHECK(s.ranks[0].node == "a");
  CHECK(s.ranks[7].device == 7);
  CHECK(s.ranks[8].node == "c");
  CHECK(s.ranks[8].rank == 8);
  CHECK(s.ranks[8].local_rank == 0);
  CHECK(s.ranks[11].device == 3);
  CHECK(errors[0].empty());
  CHECK(errors[1].find("no GPU was found on b") != std::string::npos);
  CHECK(errors[2].empty());
}

TEST_CASE("--ranks-per-node and --gpus apply to every node and are checked against each node's count") {
  NcclOptions o;
  o.ranks_per_node = 2;
  std::vector<std::string> errors;
  auto s = plan_fleet_launch(o, {"a", "b"}, {-1, -1}, errors);
  CHECK(s.ranks.size() == 4);
  CHECK(s.ranks[3].node == "b");
  CHECK(s.ranks[3].device == 1);
  o.ranks_per_node = 0;
  o.gpus = "4-7";
  s = plan_fleet_launch(o, {"a", "b"}, {8, 4}, errors);
  CHECK(s.ranks.size() == 4);
  CHECK(s.ranks[0].device == 4);
  CHECK(errors[1].find("GPU 4 does not exist") != std::string::npos);
  CHECK(!needs_probe(o));
  CHECK(needs_probe(NcclOptions{}));
}

TEST_CASE("flags that are invalid anywhere are invalid before any node is planned") {
  NcclOptions o;
  o.collectives = {"allgathr"};
  std::vector<std::string> errors;
  CHECK_THROWS_AS(plan_fleet_launch(o, {"a"}, {8}, errors), UsageError);
  o = NcclOptions{};
  o.ranks_per_node = -1;
  CHECK_THROWS_AS(plan_fleet_launch(o, {}, {}, errors), UsageError);
}

TEST_CASE("the remote binary is named after its checksum unless a path is given") {
  FleetLaunchOptions o;
  CHECK(remote_binary_path(o, std::string(64, 'a')) == ".cache/aicloudctl/aicloudctl-aaaaaaaaaaaaaaaa");
  o.remote_dir = "/opt/bin/";
  CHECK(remote_binary_path(o, "0123456789abcdef0123") == "/opt/bin/aicloudctl-0123456789abcdef");
  o.remote_binary = "/usr/local/bin/aicloudctl";
  CHECK(remote_binary_path(o, "ff") == "/usr/local/bin/aicloudctl");
}

TEST_CASE("fleet exit codes: failed 1, unreachable 4, both 5, interrupted 130, never 0 after an error") {
  RunReport ok;
  ok.status = "ok";
  ok.exit_code = 0;
  HostOutcome good;
  good.status = "ok";
  HostOutcome down = good, bad = good, stopped = good;
  down.status = "unreachable";
  bad.status = "failed";
  stopped.status = "interrupted";
  CHECK(fleet_exit_code(ok, {good, good}) == 0);
  CHECK(fleet_exit_code(ok, {good, down}) == 4);
  CHECK(fleet_exit_code(ok, {bad, good}) == 1);
  CHECK(fleet_exit_code(ok, {bad, down}) == 5);
  CHECK(fleet_exit_code(ok, {good, stopped}) == 130);
  RunReport failed = ok;
  failed.status = "failed";
  failed.exit_code = 1;
  CHECK(fleet_exit_code(failed, {good, down}) == 5);
  HostOutcome aborted = good;
  aborted.status = "aborted";
  CHECK(fleet_exit_code(failed, {aborted}) == 1);
}

TEST_CASE("host outcomes in JSON carry nulls for what is not known") {
  HostOutcome h;
  h.host = "gpu-01";
  h.address = "10.0.0.1";
  h.status = "unreachable";
  h.stage = "connect";
  h.error = "connection refused";
  auto j = to_json(h);
  CHECK(j["status"] == "unreachable");
  CHECK(j["gpus"].is_null());
  CHECK(j["host_key_sha256"].is_null());
  CHECK(j["ranks"].empty());
}
