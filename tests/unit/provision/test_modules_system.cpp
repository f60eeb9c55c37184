// sysctl, kernel_module, package and service run for real with /bin/sh.
// What cannot run here is said plainly in each test: /proc/sys and
// /etc/modprobe.d are redirected into a temporary folder (internal
// arguments), packages are only probed with the real dpkg-query and their
// install/remove/hold commands checked as built (no package may be
// installed on this machine), and systemd is replaced by a small stand-in
// systemctl that keeps unit state in files (there is no systemd here).
#include <doctest/doctest.h>

#include "common/process.hpp"
#include "helpers.hpp"

using namespace aicloud;
using namespace aicloud::provision;
using test::run_module;

TEST_CASE("sysctl: run-time value through /proc/sys and the persisted file, idempotent") {
  test::TempDir tmp;
  std::string proc = tmp / "proc/sys";
  test::spit(proc + "/net/core/rmem_max", "212992\n");
  test::spit(proc + "/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
  std::string file = tmp / "etc/sysctl.d/90-gpu.conf";
  json a = {{"name", "net.core.rmem_max"}, {"value", "2147483647"}, {"sysctl_file", file}, {"_proc_sys", proc}};
  Outcome check = run_module("sysctl", a, true, true);
  CHECK(check.changed);
  CHECK(test::slurp(proc + "/net/core/rmem_max") == "212992\n");
  CHECK_FALSE(test::exists(file));
  REQUIRE(check.diffs.size() == 2);
  CHECK(check.diffs[0].text.find("+net.core.rmem_max = 2147483647") != std::string::npos);
  CHECK(check.diffs[1].text.find("-net.core.rmem_max = 212992\n+net.core.rmem_max = 2147483647") != std::string::npos);
  Outcome o = run_module("sysctl", a);
  REQUIRE_MESSAGE(!o.failed, o.msg);
  CHECK(o.changed);
  CHECK(test::slurp(proc + "/net/core/rmem_max") == "2147483647\n");
  CHECK(test::slurp(file) == "net.core.rmem_max = 2147483647\n");
  CHECK_FALSE(run_module("sysctl", a).changed);
  // whitespace in multi-value settings is normalised on both sides
  json b = {{"name", "net.ipv4.tcp_rmem"}, {"value", "4096 131072  6291456"}, {"sysctl_file", file}, {"_proc_sys", proc}};
  Outcome rm = run_module("sysctl", b);
  CHECK(rm.changed);  // only the file changes
  CHECK(test::slurp(proc + "/net/ipv4/tcp_rmem") == "4096\t131072\t6291456\n");
  CHECK_FALSE(run_module("sysctl", b).changed);
  // an existing line with the same value keeps its formatting; duplicates collapse
  test::spit(file, "# keep\nnet.core.rmem_max=2147483647\nnet.core.rmem_max = 5\n");
  Outcome dup = run_module("sysctl", a);
  CHECK(dup.changed);
  CHECK(test::slurp(file) == "# keep\nnet.core.rmem_max=2147483647\n");
  // absent removes the line and leaves the running kernel alone
  Outcome gone = run_module("sysctl", {{"name", "net.core.rmem_max"}, {"state", "absent"}, {"sysctl_file", file}, {"_proc_sys", proc}});
  CHECK(gone.changed);
  CHECK(test::slurp(file) == "# keep\n");
  // a parameter the kernel does not have is an error unless ignoreerrors
  json missing = {{"name", "kernel.nope"}, {"value", "1"}, {"sysctl_file", file}, {"_proc_sys", proc}};
  Outcome m = run_module("sysctl", missing);
  CHECK(m.failed);
  CHECK(m.msg.find("does not exist") != std::string::npos);
  missing["ignoreerrors"] = true;
  CHECK_FALSE(run_module("sysctl", missing).failed);
  // reload=false: only the file
  CHECK_FALSE(run_module("sysctl", {{"name", "kernel.nope"}, {"value", "1"}, {"sysctl_file", file}, {"_proc_sys", proc}, {"reload", false}}).failed);
  CHECK(run_module("sysctl", {{"name", "../../etc/x"}, {"value", "1"}, {"_proc_sys", proc}}).failed);
}

TEST_CASE("kernel_module: persisted files and blacklist, the running kernel through /proc/modules") {
  test::TempDir tmp;
  std::string procmod = tmp / "proc_modules";
  test::spit(procmod, "nvidia_peermem 16384 0 - Live 0x0\nnvidia 1 0 - Live 0x0\n");
  std::string builtin = tmp / "modules.builtin";
  test::spit(builtin, "kernel/drivers/char/mem.ko\n");
  json common = {{"_proc_modules", procmod}, {"_modules_load_dir", tmp / "modules-load.d"}, {"_modprobe_dir", tmp / "modprobe.d"},
                 {"_modules_builtin", builtin}};
  auto with = [&](json a) {
    for (auto it = common.begin(); it != common.end(); ++it) a[it.key()] = it.value();
    return a;
  };
  // already loaded (hyphen or underscore): nothing to do at run time
  json peermem = with({{"name", "nvidia-peermem"}, {"state", "present"}, {"persistent", "present"}, {"params", "a=1 b=2"}});
  Outcome check = run_module("kernel_module", peermem, true);
  CHECK(check.changed);
  CHECK_FALSE(test::exists(tmp / "modules-load.d"));
  Outcome o = run_module("kernel_module", peermem);
  REQUIRE_MESSAGE(!o.failed, o.msg);
  CHECK(o.changed);
  CHECK(test::slurp(tmp / "modules-load.d/nvidia-peermem.conf") == "nvidia-peermem\n");
  CHECK(test::slurp(tmp / "modprobe.d/nvidia-peermem.conf") == "options nvidia-peermem a=1 b=2\n");
  CHECK_FALSE(run_module("kernel_module", peermem).changed);
  // blacklisting leaves the running kernel alone
  json nouveau = with({{"name", "nouveau"}, {"blacklist", true}});
  CHECK(run_module("kernel_module", nouveau).changed);
  CHECK(test::slurp(tmp / "modprobe.d/blacklist-nouveau.conf") == "blacklist nouveau\n");
  CHECK_FALSE(run_module("kernel_module", nouveau).changed);
  CHECK(run_module("kernel_module", with({{"name", "nouveau"}, {"blacklist", false}})).changed);
  CHECK_FALSE(test::exists(tmp / "modprobe.d/blacklist-nouveau.conf"));
  // persistent=absent removes what present wrote
  CHECK(run_module("kernel_module", with({{"name", "nvidia-peermem"}, {"persistent", "absent"}})).changed);
  CHECK_FALSE(test::exists(tmp / "modules-load.d/nvidia-peermem.conf"));
  // a module that is not loaded would be loaded (check mode: modprobe is not run here)
  Outcome load = run_module("kernel_module", with({{"name", "br_netfilter"}}), true);
  CHECK(load.changed);
  // built into the kernel: loaded, cannot be unloaded
  CHECK_FALSE(run_module("kernel_module", with({{"name", "mem"}})).changed);
  CHECK(run_module("kernel_module", with({{"name", "mem"}, {"state", "absent"}})).failed);
  CHECK(run_module("kernel_module", with({{"name", "x; reboot"}})).failed);
}

TEST_CASE("package: real probes with dpkg-query, install/remove/hold commands as built (nothing is installed)") {
  if (find_program("dpkg-query").empty()) {
    MESSAGE("skipped: no dpkg-query on this machine");
    return;
  }
  Outcome have = run_module("package", {{"name", "coreutils"}}, true);
  REQUIRE_MESSAGE(!have.failed, have.msg);
  CHECK_FALSE(have.changed);
  CHECK(have.extra["manager"] == "apt");
  CHECK(have.extra["installed_before"]["coreutils"] != "absent");
  Outcome missing = run_module("package", {{"name", "aicloud-no-such-package,coreutils"}, {"install_recommends", false}}, true);
  CHECK(missing.changed);
  REQUIRE(missing.extra["commands"].size() == 1);
  std::string cmd = missing.extra["commands"][0];
  CHECK(cmd.find("apt-get -y -q -o Dpkg::Options::=--force-confdef") == 0);
  CHECK(cmd.find("--no-install-recommends install aicloud-no-such-package") != std::string::npos);
  CHECK(cmd.find("coreutils") == std::string::npos);  // installed already: not in the command
  Outcome pin = run_module("apt", {{"name", "coreutils=0.0.1-*"}, {"hold", true}}, true);
  CHECK(pin.changed);
  CHECK(pin.extra["commands"].dump().find("install coreutils=0.0.1-*") != std::string::npos);
  CHECK(pin.extra["commands"].dump().find("apt-mark hold coreutils") != std::string::npos);
  CHECK_FALSE(run_module("package", {{"name", "aicloud-no-such-package"}, {"state", "absent"}}, true).changed);
  Outcome rm = run_module("package", {{"name", "coreutils"}, {"state", "absent"}, {"purge", true}}, true);
  CHECK(rm.changed);
  CHECK(rm.extra["commands"][0] == "apt-get -y -q purge coreutils");
  // dnf: only the command construction can be checked here (no rpm/dnf)
  Outcome dnf = run_module("dnf", {{"name", "nvidia-fabric-manager-535.104.05"}, {"hold", true}}, true);
  CHECK(dnf.changed);
  CHECK(dnf.extra["commands"].dump().find("dnf -y -q install nvidia-fabric-manager-535.104.05") != std::string::npos);
  CHECK(dnf.extra["commands"].dump().find("versionlock add nvidia-fabric-manager-535.104.05") != std::string::npos);
  CHECK(run_module("package", {{"name", "curl;reboot"}}, true).failed);
  CHECK(run_module("package", {{"name", "-oAPT::x=y"}}, true).failed);
}

namespace {
// A stand-in for systemctl: unit state lives in files under $FAKE_SYSTEMD.
const char* k_fake_systemctl = R"SH(#!/bin/sh
d=$FAKE_SYSTEMD
echo "$*" >> "$d/calls"
cmd=$1; shift
[ "$1" = -- ] && shift
u=$1
case $cmd in
  daemon-reload) exit 0;;
  cat) [ -f "$d/$u.unit" ];;
  is-active) [ -f "$d/$u.unit" ] || exit 4; if [ -f "$d/$u.active" ]; then echo active; else echo inactive; exit 3; fi;;
  is-enabled) [ -f "$d/$u.unit" ] || exit 1; if [ -f "$d/$u.masked" ]; then echo masked; exit 1; elif [ -f "$d/$u.enabled" ]; then echo enabled; else echo disabled; exit 1; fi;;
  start|restart|reload) touch "$d/$u.active";;
  stop) rm -f "$d/$u.active";;
  enable) touch "$d/$u.enabled";;
  disable) rm -f "$d/$u.enabled";;
  mask) touch "$d/$u.masked";;
  unmask) rm -f "$d/$u.masked";;
  *) exit 1;;
esac
)SH";
}  // namespace

TEST_CASE("service: systemd semantics against a stand-in systemctl (no systemd here)") {
  test::TempDir tmp;
  test::spit(tmp / "bin/systemctl", k_fake_systemctl);
  std::filesystem::permissions(tmp / "bin/systemctl", std::filesystem::perms(0755));
  std::filesystem::create_directories(tmp / "state");
  test::spit(tmp / "state/nvidia-persistenced.unit", "");
  const char* path = std::getenv("PATH");
  LocalTransport t({{"PATH", tmp / "bin" + ":" + (path ? path : "/usr/bin:/bin")}, {"FAKE_SYSTEMD", tmp / "state"}});
  json a = {{"name", "nvidia-persistenced"}, {"state", "started"}, {"enabled", true}};
  Outcome check = run_module("service", a, true, false, &t);
  CHECK(check.changed);
  CHECK_FALSE(test::exists(tmp / "state/nvidia-persistenced.active"));
  Outcome o = run_module("service", a, false, false, &t);
  REQUIRE_MESSAGE(!o.failed, o.msg);
  CHECK(o.changed);
  CHECK(test::exists(tmp / "state/nvidia-persistenced.active"));
  CHECK(test::exists(tmp / "state/nvidia-persistenced.enabled"));
  CHECK_FALSE(run_module("service", a, false, false, &t).changed);
  CHECK(run_module("service", {{"name", "nvidia-persistenced"}, {"state", "restarted"}}, false, false, &t).changed);
  CHECK(run_module("service", {{"name", "nvidia-persistenced"}, {"state", "stopped"}, {"enabled", false}}, false, false, &t).changed);
  CHECK_FALSE(test::exists(tmp / "state/nvidia-persistenced.active"));
  CHECK_FALSE(test::exists(tmp / "state/nvidia-persistenced.enabled"));
  CHECK(run_module("service", {{"name", "nvidia-persistenced"}, {"masked", true}}, false, false, &t).changed);
  CHECK_FALSE(run_module("service", {{"name", "nvidia-persistenced"}, {"masked", true}}, false, false, &t).changed);
  Outcome none = run_module("service", {{"name", "no-such-unit"}, {"state", "started"}}, false, false, &t);
  CHECK(none.failed);
  CHECK(none.msg.find("Could not find the requested service") != std::string::npos);
  std::string calls = test::slurp(tmp / "state/calls");
  CHECK(calls.find("start -- nvidia-persistenced") != std::string::npos);
}
