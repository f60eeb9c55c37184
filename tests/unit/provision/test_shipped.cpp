// The shipped playbooks load from the binary and validate; gpu-node-prep
// runs here in check mode (read-only, so it can run on any machine), and
// deploy-aicloudctl runs for real into a temporary folder with a stand-in
// binary. Their runs against the SSH fleet belong to the integration tests.
#include <doctest/doctest.h>
#include <grp.h>
#include <set>
#include <pwd.h>

#include "common/version.hpp"
#include "helpers.hpp"

using namespace aicloud;
using namespace aicloud::provision;

TEST_CASE("every shipped playbook loads and validates") {
  for (const auto& name : shipped_playbook_names()) {
    CAPTURE(name);
    Playbook pb = load_playbook(name);
    CHECK(pb.task_count() > 0);
  }
  Playbook prep = load_playbook("gpu-node-prep");
  std::set<std::string> modules;
  for (const auto& t : prep.plays[0].tasks) modules.insert(t.module->spec().name);
  for (const char* m : {"sysctl", "kernel_module", "service", "package", "assert", "command", "lineinfile", "copy"})
    CHECK_MESSAGE(modules.count(m), m);
}

TEST_CASE("gpu-node-prep in check mode on this machine changes nothing and fails nothing") {
  Playbook pb = load_playbook("gpu-node-prep");
  RunOptions o;
  o.check = true;
  LocalTransportFactory local;
  RunResult r = run_playbook(pb, test::local_hosts(), nullptr, local, o);
  for (const auto& t : r.plays[0].tasks)
    for (const auto& [h, res] : t.results) CHECK_MESSAGE(res.status != "failed", t.name << ": " << res.msg);
  CHECK(r.exit_code() == 0);
}

TEST_CASE("gpu-node-prep checks the GPU count the inventory expects") {
  Playbook pb = load_playbook("gpu-node-prep");
  RunOptions o;
  o.check = true;
  o.tags = {"check"};
  std::vector<RunHost> hosts = test::local_hosts();
  hosts[0].magic = {{"hardware", {{"gpu_count", 8}}}};
  LocalTransportFactory local;
  RunResult r = run_playbook(pb, hosts, nullptr, local, o);
  // This machine has no NVIDIA GPU: the PCI check must fail the host.
  const auto& res = test::result_of(r, "Check the PCI bus shows the GPUs the inventory expects");
  CHECK(res.status == "failed");
  CHECK(res.msg.find("the inventory expects 8") != std::string::npos);
  CHECK(r.exit_code() == 1);
}

TEST_CASE("deploy-aicloudctl installs a binary once, verifies it runs, and is idempotent") {
  test::TempDir tmp;
  // A stand-in for the controller's binary that answers like aicloudctl does.
  std::string fake = tmp / "aicloudctl-src";
  test::spit(fake, "#!/bin/sh\necho '{\"tool\":\"aicloudctl\",\"version\":\"" + tool_version() + "\"}'\n");
  std::filesystem::permissions(fake, std::filesystem::perms(0755));
  Playbook pb = load_playbook("deploy-aicloudctl");
  RunOptions o;
  o.controller_binary = fake;
  o.extra_vars = {{"aicloudctl_dest", tmp / "opt/bin/aicloudctl"},
                  {"aicloudctl_owner", std::string(::getpwuid(::geteuid())->pw_name)},
                  {"aicloudctl_group", std::string(::getgrgid(::getegid())->gr_name)}};
  LocalTransportFactory local;
  RunResult first = run_playbook(pb, test::local_hosts(), nullptr, local, o);
  CHECK(first.exit_code() == 0);
  CHECK(test::slurp(tmp / "opt/bin/aicloudctl") == test::slurp(fake));
  CHECK(test::mode_of(tmp / "opt/bin/aicloudctl") == 0755);
  RunResult second = run_playbook(pb, test::local_hosts(), nullptr, local, o);
  CHECK(second.exit_code() == 0);
  CHECK(second.recap.at("localhost").changed == 0);
  // A binary that reports another version fails the check.
  test::spit(fake, "#!/bin/sh\necho '{\"version\":\"0.0.0\"}'\n");
  RunResult wrong = run_playbook(pb, test::local_hosts(), nullptr, local, o);
  CHECK(wrong.exit_code() == 1);
}
