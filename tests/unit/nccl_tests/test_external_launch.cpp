// mpirun and srun command lines for --launcher (pure).
#include <doctest/doctest.h>

#include <algorithm>

#include "common/error.hpp"
#include "nccl_tests/external_launch.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;

namespace {

ExternalLaunch two_nodes() {
  ExternalLaunch l;
  l.hosts = {"gpu-01", "gpu-02"};
  l.slots = {8, 8};
  l.binary = "/opt/aicloudctl/bin/aicloudctl";
  l.worker_args = {"nccl", "--worker"};
  l.env = {{"NCCL_ALGO", "Ring"}, {"NCCL_IB_HCA", "mlx5_0:1"}};
  return l;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("launcher names parse, unknown ones are refused with a suggestion") {
  CHECK(parse_launcher("ssh") == Launcher::ssh);
  CHECK(parse_launcher("mpirun") == Launcher::mpirun);
  CHECK(parse_launcher("SRUN") == Launcher::srun);
  try {
    parse_launcher("mpirn");
    FAIL("no throw");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("did you mean 'mpirun'") != std::string::npos);
  }
}

TEST_CASE("mpirun: ranks, hosts with slots, one node filled before the next, NCCL variables, the worker") {
  auto argv = mpirun_command(two_nodes());
  const std::vector<std::string> want = {"mpirun", "-np", "16", "--host", "gpu-01:8,gpu-02:8", "--map-by", "ppr:8:node",
                                         "--bind-to", "none", "-x", "NCCL_ALGO=Ring", "-x", "NCCL_IB_HCA=mlx5_0:1",
                                         "/opt/aicloudctl/bin/aicloudctl", "nccl", "--worker"};
  CHECK(argv == want);
  auto l = two_nodes();
  l.slots = {8, 4};
  l.launcher_path = "/usr/lib64/openmpi/bin/mpirun";
  argv = mpirun_command(l);
  CHECK(argv[0] == "/usr/lib64/openmpi/bin/mpirun");
  CHECK(argv[2] == "12");
  CHECK(has(argv, "gpu-01:8,gpu-02:4"));
  CHECK(has(argv, "slot"));
}

TEST_CASE("srun: nodes, tasks, node list, exported NCCL variables") {
  auto argv = srun_command(two_nodes());
  const std::vector<std::string> want = {"srun", "--nodes=2", "--ntasks=16", "--ntasks-per-node=8",
                                         "--nodelist=gpu-01,gpu-02", "--distribution=block", "--kill-on-bad-exit=1",
                                         "--export=ALL,NCCL_ALGO=Ring,NCCL_IB_HCA=mlx5_0:1",
                                         "/opt/aicloudctl/bin/aicloudctl", "nccl", "--worker"};
  CHECK(argv == want);
}

TEST_CASE("launch lines refuse what the launcher cannot express") {
  auto l = two_nodes();
  l.slots = {8, 4};
  CHECK_THROWS_AS(srun_command(l), UsageError);
  l = two_nodes();
  l.env["NCCL_IB_HCA"] = "mlx5_0,mlx5_1";
  CHECK_THROWS_AS(srun_command(l), UsageError);
  CHECK_NOTHROW(mpirun_command(l));  // -x carries commas
  l = two_nodes();
  l.hosts = {};
  l.slots = {};
  CHECK_THROWS_AS(mpirun_command(l), UsageError);
  l = two_nodes();
  l.hosts[1] = "bad,host";
  CHECK_THROWS_AS(mpirun_command(l), UsageError);
  l = two_nodes();
  l.slots = {8};
  CHECK_THROWS_AS(mpirun_command(l), UsageError);
}

TEST_CASE("only NCCL_* variables are forwarded and --env overrides them") {
  auto env = forwarded_env({{"NCCL_ALGO", "Tree"}, {"HOME", "/root"}, {"CUDA_VISIBLE_DEVICES", "0"}, {"NCCL_DEBUG", "WARN"}},
                           {{"NCCL_ALGO", "Ring"}});
  CHECK(env.size() == 2);
  CHECK(env["NCCL_ALGO"] == "Ring");
  CHECK(env["NCCL_DEBUG"] == "WARN");
}
