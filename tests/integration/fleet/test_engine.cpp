// The fleet/ engine driven directly (as provision, nccl and certify will):
// persistent sessions, file push with SHA-256 skip, incremental output and
// stdin streaming, jump hosts, keepalive, hostile names.
#include <doctest/doctest.h>
#include <unistd.h>

#include "common/files.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"
#include "fleet/executor.hpp"
#include "fleet/jump.hpp"
#include "fleet/session.hpp"
#include "support.hpp"

using namespace fleet_test;
using namespace aicloud;
using namespace aicloud::fleet;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("one session runs many commands, exit status, stderr and signals are kept apart") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  Session s;
  REQUIRE_MESSAGE(s.connect(target("ok-001"), options(), known), s.error());
  CHECK(s.host_key_sha256() == fleet_test::fleet().host_key_sha256);
  CHECK(s.host_key_match() == KeyMatch::known);
  auto a = s.exec("echo out; echo err >&2; exit 4");
  CHECK(a.status == Status::failed);
  CHECK(a.exit_code == 4);
  CHECK(a.stdout_text == "out\n");
  CHECK(a.stderr_text == "err\n");
  auto b = s.exec("kill -KILL $$");
  CHECK(b.status == Status::signal);
  CHECK(b.signal == "KILL");
  CHECK_FALSE(b.exit_code.has_value());
  auto c = s.exec("head -c 3000000 /dev/zero | tr '\\0' x");
  CHECK(c.status == Status::ok);
  CHECK(c.stdout_text.size() == 3000000);
  ExecOptions small;
  small.max_output_bytes = 10;
  auto d = s.exec("seq 1 1000", small);
  CHECK(d.status == Status::ok);
  CHECK(d.output_truncated);
  CHECK(d.stdout_text == "1\n2\n3\n4\n5\n");
  CHECK(s.connected());
}

TEST_CASE("Fleet keeps one session per host across runs") {
  std::vector<Target> ts{target("ok-001"), target("ok-002"), target("refused")};
  Fleet fl(ts, options());
  auto step = [](Session& s, std::size_t) {
    HostResult r;
    auto e = s.exec("echo $PPID");
    r.status = e.status;
    r.stdout_text = e.stdout_text;
    return r;
  };
  auto first = fl.run(step);
  CHECK(first[0].status == Status::ok);
  CHECK(first[2].status == Status::unreachable);
  Session* s0 = fl.session(0);
  REQUIRE(s0 != nullptr);
  auto second = fl.run(step);
  CHECK(fl.session(0) == s0);
  CHECK(second[0].status == Status::ok);
  // Both commands ran under the same sshd session process: one connection.
  CHECK(second[0].stdout_text == first[0].stdout_text);
  CHECK(second[2].status == Status::unreachable);  // not retried
  CHECK(fl.last_summary().unreachable == 1);
}

TEST_CASE("file push verifies SHA-256 and skips identical files, with hostile paths") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  Session s;
  REQUIRE_MESSAGE(s.connect(target("ok-003"), options(), known), s.error());
  std::string local_marker = scratch_dir("push") + "/pwned";
  std::string path = fleet_test::fleet().remote_dir + "/push-" + std::to_string(::getpid()) + "/sub dir/it's $(touch " +
                     local_marker + ") `x`.txt";
  std::string content;
  for (int i = 0; i < 200000; ++i) content += "line " + std::to_string(i) + "\n";
  LocalFile f = LocalFile::from_string(content, 0640);
  auto p1 = s.push(f, path);
  INFO(p1.error);
  CHECK(p1.status == Status::ok);
  CHECK(p1.changed);
  CHECK(p1.remote_sha256 == sha256_hex(content));
  auto check = s.exec("sha256sum < " + shell_quote(path) + " | cut -c1-64; stat -c %a " + shell_quote(path));
  CHECK(check.stdout_text == sha256_hex(content) + "\n640\n");
  auto p2 = s.push(f, path);
  CHECK(p2.status == Status::ok);
  CHECK_FALSE(p2.changed);
  PushOptions mode;
  mode.mode = 0600;
  auto p3 = s.push(f, path, mode);
  CHECK(p3.changed);
  CHECK(s.exec("stat -c %a " + shell_quote(path)).stdout_text == "600\n");
  LocalFile g = LocalFile::from_string("new\n");
  auto p4 = s.push(g, path, mode);
  CHECK(p4.changed);
  CHECK(s.exec("cat " + shell_quote(path)).stdout_text == "new\n");
  CHECK(s.exec("ls -a " + shell_quote(dirname_of(path)) + " | grep -c aicloud-push || true").stdout_text == "0\n");
  CHECK_FALSE(file_exists(local_marker));
  auto bad = s.push(g, "/proc/forbidden/x");
  CHECK(bad.status == Status::failed);
  CHECK_FALSE(bad.error.empty());
}

TEST_CASE("a running command's output is read as it arrives and its stdin is streamed") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  Session s;
  REQUIRE_MESSAGE(s.connect(target("ok-004"), options(), known), s.error());
  std::string seen;
  ExecOptions eo;
  eo.close_stdin = false;
  eo.on_output = [&](std::string_view chunk, bool is_stderr) {
    if (!is_stderr) seen.append(chunk);
  };
  auto cmd = s.start("while read x; do echo got:$x; [ \"$x\" = end ] && break; done; echo bye", eo);
  REQUIRE(cmd->running());
  cmd->write_stdin("first\n");
  while (!contains(seen, "got:first\n") && cmd->poll(Seconds(30))) {
  }
  CHECK(contains(seen, "got:first\n"));
  CHECK(cmd->running());  // the heartbeat arrived while the command still runs
  cmd->write_stdin("second\nend\n");
  while (cmd->poll(Seconds(30))) {
  }
  CHECK(cmd->result().status == Status::ok);
  CHECK(cmd->result().stdout_text == "got:first\ngot:second\ngot:end\nbye\n");
  CHECK(seen == cmd->result().stdout_text);
  // A command stopped on purpose reports why.
  auto longer = s.start("sleep 30");
  longer->poll(Seconds(0));
  longer->stop(Status::interrupted, "stopped by the test");
  CHECK(longer->result().status == Status::interrupted);
  CHECK(s.exec("echo still").stdout_text == "still\n");
}

TEST_CASE("--timeout stops the command with TERM and the session stays usable") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  Session s;
  REQUIRE(s.connect(target("ok-005"), options(), known));
  std::string pidfile = fleet_test::fleet().remote_dir + "/timeout-" + std::to_string(::getpid());
  ExecOptions eo;
  eo.timeout = Seconds(1);
  auto r = s.exec("echo $$ > " + pidfile + "; exec sleep 60", eo);
  CHECK(r.status == Status::timeout);
  // The remote process group got TERM (sshd "signal" request): it is gone.
  std::string pid = std::string(trim(read_file(pidfile)));
  REQUIRE_FALSE(pid.empty());
  CHECK(eventually([&] { return s.exec("kill -0 " + pid + " 2>/dev/null && echo alive || echo gone").stdout_text == "gone\n"; }));
}

TEST_CASE("jump hosts: one forwarding session to the jump host, the target's own key and auth") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  std::string before = read_file(fleet_test::fleet().jump_log);
  Target t = target("behind-jump");
  auto jump = std::make_shared<Target>(target("jump"));
  t.jump = jump;
  auto o = options();
  JumpPool pool(o, known);
  Session a, b;
  REQUIRE_MESSAGE(a.connect(t, o, known, &pool), a.error());
  REQUIRE_MESSAGE(b.connect(t, o, known, &pool), b.error());
  CHECK(a.exec("set -- $SSH_CONNECTION; echo $3").stdout_text == fleet_test::fleet().address("behind-jump") + "\n");
  CHECK(b.exec("echo b").stdout_text == "b\n");
  CHECK(a.host_key_sha256() == fleet_test::fleet().host_key_sha256);
  // The jump host's sshd saw the forwards to the target.
  std::string log = read_file(fleet_test::fleet().jump_log).substr(before.size());
  std::string wanted = "target " + fleet_test::fleet().address("behind-jump") + " port " + std::to_string(fleet_test::fleet().port);
  std::size_t n = 0;
  for (auto pos = log.find(wanted); pos != std::string::npos; pos = log.find(wanted, pos + 1)) ++n;
  CHECK(n == 2);
  CHECK(std::count(log.begin(), log.end(), '\n') > 0);

  // Through the CLI: the inventory's jump_host, and a dead jump host.
  auto doc = aicloudctl_json(exec_args({"--limit", "behind-jump,behind-deadjump", "--", "echo via"}));
  CHECK(host_result(doc, "behind-jump")["stdout"] == "via\n");
  CHECK(host_result(doc, "behind-deadjump")["status"] == "unreachable");
  CHECK(contains(host_result(doc, "behind-deadjump")["error"], "jump host refused"));
}

TEST_CASE("connect deadline: a black hole that accepts TCP cannot hang the run") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  auto o = options();
  o.connect_timeout = Seconds(1.5);
  Session s;
  CHECK_FALSE(s.connect(target("blackhole"), o, known));
  CHECK(s.error_kind() == ConnectError::no_banner);
  CHECK(contains(s.error(), "1.5s"));
  Session r;
  CHECK_FALSE(r.connect(target("refused"), o, known));
  CHECK(r.error_kind() == ConnectError::refused);
}

TEST_CASE("keepalive drops a peer that stops answering") {
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  auto o = options();
  o.keepalive_interval = Seconds(0.5);
  o.keepalive_count = 2;
  Session s;
  REQUIRE(s.connect(target("frozen"), o, known));
  auto r = s.exec("true");  // the forced command stops its sshd (SIGSTOP)
  CHECK(r.status == Status::unreachable);
  CHECK(contains(r.error, "no answer to 2 keepalives"));
  CHECK_FALSE(s.connected());
  CHECK(s.exec("true").status == Status::unreachable);
}

TEST_CASE("hostile names reach the engine as data only") {
  std::string marker = scratch_dir("hostile-engine") + "/pwned";
  auto known = KnownHosts::load(fleet_test::fleet().known_hosts);
  Target t = target("ok-006");
  t.name = "x$(touch " + marker + ");`touch " + marker + "`'\"";
  Session s;
  REQUIRE_MESSAGE(s.connect(t, options(), known), s.error());
  auto r = s.exec("echo fine");
  CHECK(r.stdout_text == "fine\n");
  t.become = true;
  CHECK(contains(s.wrap_command("echo '$(x)'", true), "sudo -n -H -- /bin/sh -c 'echo '\\''$(x)'\\'''"));
  // Hostile values in the other fields end as connection errors, never in a shell.
  std::string evil = "$(touch " + marker + ")";
  Target bad_addr = target("ok-006");
  bad_addr.address = evil;
  Session a;
  CHECK_FALSE(a.connect(bad_addr, options(), known));
  Target bad_user = target("ok-006");
  bad_user.user = "u" + evil;
  Session u;
  CHECK_FALSE(u.connect(bad_user, options(), known));
  CHECK(u.error_kind() == ConnectError::config);  // libssh refuses such a user name outright
  Target bad_key = target("ok-006");
  bad_key.identity_file = evil;
  Session k;
  CHECK_FALSE(k.connect(bad_key, options(), known));
  CHECK(contains(k.error(), "no such file"));
  CHECK_FALSE(file_exists(marker));
}

TEST_CASE("connect_all, then one thread drives a long command on every host") {
  Fleet fl({target("ok-007"), target("ok-008"), target("refused")}, options());
  auto conn = fl.connect_all();
  CHECK(conn[0].status == Status::ok);
  CHECK(conn[1].status == Status::ok);
  CHECK(conn[2].status == Status::unreachable);
  std::vector<std::unique_ptr<RemoteCommand>> cmds;
  std::vector<std::string> beats(2);
  for (std::size_t i = 0; i < 2; ++i) {
    ExecOptions eo;
    eo.on_output = [&beats, i](std::string_view chunk, bool) { beats[i].append(chunk); };
    cmds.push_back(fl.session(i)->start("for n in 1 2 3; do echo beat $n; sleep 0.1; done", eo));
  }
  std::vector<RemoteCommand*> raw{cmds[0].get(), cmds[1].get()};
  while (poll_commands(raw, Seconds(1)) > 0) {
  }
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(cmds[i]->result().status == Status::ok);
    CHECK(beats[i] == "beat 1\nbeat 2\nbeat 3\n");
  }
  cmds.clear();
}
