// command, shell, raw, wait_for and reboot run for real with /bin/sh; the
// reboot's wait goes through a transport whose reconnect is scripted (there
// is no node to reboot here), everything else is real.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "helpers.hpp"

using namespace aicloud;
using namespace aicloud::provision;
using test::run_module;

TEST_CASE("command runs argv without a shell, changed, rc, stdout, stderr") {
  Outcome o = run_module("command", {{"_raw_params", "printf '%s|%s' 'a b' $HOME"}});
  CHECK(o.changed);
  CHECK(o.rc == 0);
  CHECK(o.stdout_text == "a b|$HOME");  // no shell: $HOME is a literal word
  Outcome fail = run_module("command", {{"_raw_params", "ls /definitely/not/here"}});
  CHECK(fail.failed);
  CHECK(fail.rc == 2);
  CHECK(fail.stderr_text.find("No such file") != std::string::npos);
  CHECK(fail.msg == "non-zero return code");
  Outcome nf = run_module("command", {{"_raw_params", "no-such-program-x"}});
  CHECK(nf.failed);
  CHECK(nf.rc == 127);
  Outcome in = run_module("command", {{"argv", {"cat"}}, {"stdin", "fed"}});
  CHECK(in.stdout_text == "fed");
  CHECK(run_module("command", {{"cmd", "echo 'unclosed"}}).failed);
}

TEST_CASE("creates and removes decide on the node, with globs, check mode") {
  test::TempDir tmp;
  std::string marker = tmp / "done.flag";
  json args = {{"_raw_params", "touch " + marker}, {"creates", tmp / "*.flag"}};
  Outcome check = run_module("command", args, /*check=*/true);
  CHECK(check.changed);  // would run
  CHECK(check.msg == "Command would have run if not in check mode");
  CHECK_FALSE(test::exists(marker));
  Outcome first = run_module("command", args);
  CHECK(first.changed);
  CHECK(test::exists(marker));
  Outcome second = run_module("command", args);
  CHECK_FALSE(second.changed);
  CHECK(second.msg.find("since '" + tmp / "*.flag" + "' exists") != std::string::npos);
  CHECK_FALSE(run_module("command", args, true).changed);
  Outcome rm = run_module("shell", {{"_raw_params", "rm " + marker}, {"removes", marker}});
  CHECK(rm.changed);
  CHECK_FALSE(run_module("shell", {{"_raw_params", "rm " + marker}, {"removes", marker}}).changed);
  // without creates/removes, check mode cannot know: skipped, as in Ansible
  Outcome skipped = run_module("shell", {{"_raw_params", "touch " + marker}}, true);
  CHECK(skipped.skipped);
  CHECK_FALSE(test::exists(marker));
}

TEST_CASE("shell runs a command line, chdir, executable, raw") {
  test::TempDir tmp;
  Outcome o = run_module("shell", {{"_raw_params", "echo $((6*7)) | tr 4 X; pwd"}, {"chdir", tmp.path}});
  CHECK(o.stdout_text == "X2\n" + tmp.path);
  Outcome bad = run_module("shell", {{"_raw_params", "true"}, {"chdir", tmp / "nope"}});
  CHECK(bad.failed);
  CHECK(bad.msg.find("Unable to change directory") != std::string::npos);
  Outcome exe = run_module("shell", {{"_raw_params", "echo $0"}, {"executable", "/bin/sh"}});
  CHECK(exe.stdout_text == "/bin/sh");
  Outcome raw = run_module("raw", {{"_raw_params", "echo raw; exit 3"}});
  CHECK(raw.failed);
  CHECK(raw.rc == 3);
  CHECK(raw.stdout_text == "raw");
  // strip_empty_ends=false keeps trailing newlines
  CHECK(run_module("shell", {{"_raw_params", "echo x"}, {"strip_empty_ends", false}}).stdout_text == "x\n");
}

TEST_CASE("a command's own output cannot fake a skip") {
  Outcome o = run_module("shell", {{"_raw_params", "echo '@@aicloud:othernonce:skip:creates'"}});
  CHECK(o.changed);
  CHECK(o.stdout_text == "@@aicloud:othernonce:skip:creates");
}

TEST_CASE("wait_for: file, port and command, with timeouts") {
  test::TempDir tmp;
  Outcome present = run_module("wait_for", {{"path", tmp.path}, {"timeout", 5}});
  CHECK_FALSE(present.failed);
  CHECK_FALSE(present.changed);
  Outcome absent = run_module("wait_for", {{"path", tmp / "never"}, {"timeout", 1}, {"sleep", 0.2}});
  CHECK(absent.failed);
  CHECK(absent.msg.find("Timeout when waiting for file") != std::string::npos);
  test::spit(tmp / "log", "starting\nREADY on 8080\n");
  CHECK_FALSE(run_module("wait_for", {{"path", tmp / "log"}, {"search_regex", "READY\\s+on\\s+\\d+"}, {"timeout", 2}}).failed);
  CHECK(run_module("wait_for", {{"path", tmp / "log"}, {"search_regex", "NEVER"}, {"timeout", 1}, {"sleep", 0.2}}).failed);
  CHECK_FALSE(run_module("wait_for", {{"path", tmp / "never"}, {"state", "absent"}, {"timeout", 2}}).failed);
  CHECK_FALSE(run_module("wait_for", {{"cmd", "test -d " + tmp.path}, {"timeout", 2}}).failed);
  CHECK(run_module("wait_for", {{"cmd", "false"}, {"timeout", 1}, {"sleep", 0.2}}).failed);
  // check mode does not wait (as Ansible): skipped at once
  Outcome check = run_module("wait_for", {{"path", tmp / "never"}, {"timeout", 300}}, true);
  CHECK(check.skipped);
  CHECK_FALSE(check.failed);
  // A port this process listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  CHECK_FALSE(run_module("wait_for", {{"port", port}, {"timeout", 5}}).failed);
  CHECK(run_module("wait_for", {{"port", port}, {"state", "stopped"}, {"timeout", 1}, {"sleep", 0.2}}).failed);
  ::close(fd);
  CHECK_FALSE(run_module("wait_for", {{"port", port}, {"state", "stopped"}, {"timeout", 5}}).failed);
}

namespace {
// A transport whose reconnect stands in for a node coming back from a
// reboot: it writes a new boot id where the module reads it and reports a
// chosen host key. Scripts still run for real.
class RebootingTransport : public LocalTransport {
 public:
  RebootingTransport(std::string boot_id_file, std::string key_before, std::string key_after, bool comes_back = true)
      : m_file(std::move(boot_id_file)), m_before(std::move(key_before)), m_after(std::move(key_after)), m_back(comes_back) {}
  ExecResult reconnect(double, double) override {
    ExecResult r;
    ++reconnects;
    if (!m_back) {
      r.unreachable = true;
      r.error = "connection refused";
      return r;
    }
    test::spit(m_file, "boot-" + std::to_string(reconnects) + "\n");
    m_current = m_after;
    r.host_key_sha256 = m_after;
    return r;
  }
  std::string host_key_sha256() const override { return m_current.empty() ? m_before : m_current; }
  int reconnects = 0;

 private:
  std::string m_file, m_before, m_after, m_current;
  bool m_back;
};
}  // namespace

TEST_CASE("reboot: waits for the node, checks boot id, host key and a test command") {
  test::TempDir tmp;
  std::string bid = tmp / "boot_id";
  test::spit(bid, "boot-0\n");
  json args = {{"reboot_command", "true"}, {"boot_time_command", "cat " + bid}, {"test_command", "test -f " + bid}};
  {
    RebootingTransport t(bid, "SHA256:abc", "SHA256:abc");
    Outcome o = run_module("reboot", args, false, false, &t);
    CHECK_MESSAGE(!o.failed, o.msg);
    CHECK(o.changed);
    CHECK(o.extra["rebooted"] == true);
    CHECK(t.reconnects == 1);
  }
  {
    RebootingTransport t(bid, "SHA256:abc", "SHA256:EVIL");
    Outcome o = run_module("reboot", args, false, false, &t);
    CHECK(o.failed);
    CHECK(o.msg.find("host key changed") != std::string::npos);
  }
  {
    RebootingTransport t(bid, "SHA256:abc", "SHA256:abc", /*comes_back=*/false);
    Outcome o = run_module("reboot", args, false, false, &t);
    CHECK(o.failed);
    CHECK(o.msg.find("did not come back") != std::string::npos);
  }
  {
    json bad = args;
    bad["test_command"] = "false";
    RebootingTransport t(bid, "SHA256:abc", "SHA256:abc");
    Outcome o = run_module("reboot", bad, false, false, &t);
    CHECK(o.failed);
    CHECK(o.msg.find("test command failed") != std::string::npos);
  }
  // check mode reboots nothing; a local connection cannot wait for a reboot
  Outcome check = run_module("reboot", args, true);
  CHECK(check.changed);
  Outcome local = run_module("reboot", args);
  CHECK(local.failed);
  CHECK(local.msg.find("needs an SSH connection") != std::string::npos);
}
