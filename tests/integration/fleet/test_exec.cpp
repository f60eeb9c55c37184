// `aicloudctl exec` against the real loopback fleet: folding, every status
// and exit code, the JSON shape, --max-fail, Ctrl-C, hostile names.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/files.hpp"
#include "common/strings.hpp"
#include "inventory/nodeset.hpp"
#include "support.hpp"

using namespace fleet_test;
using nlohmann::json;

namespace {
std::string ok_hosts() { return fleet().state["ok_hosts"]; }
int ok_count() { return fleet().state["ok_count"]; }
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("exec on healthy hosts folds identical output under one node set") {
  auto r = aicloudctl(exec_args({"--limit", ok_hosts(), "--", "echo same; id -un"}));
  INFO(r.stdout_text << r.stderr_text);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.stdout_text, ok_hosts() + " (" + std::to_string(ok_count()) + ")\n"));
  CHECK(contains(r.stdout_text, "same\n" + fleet().user + "\n"));
  CHECK(contains(r.stderr_text, std::to_string(ok_count()) + " hosts: " + std::to_string(ok_count()) + " ok"));
}

TEST_CASE("hosts with different output fold into separate node sets") {
  // The last octet of the address each host was reached on: odd or even.
  auto doc = aicloudctl_json(exec_args({"--limit", ok_hosts(), "--", "set -- $SSH_CONNECTION; echo $(( ${3##*.} % 2 ))"}));
  std::vector<std::string> odd, even;
  for (const auto& h : doc["hosts"]) {
    REQUIRE(h["status"] == "ok");
    (h["stdout"] == "1\n" ? odd : even).push_back(h["host"]);
  }
  REQUIRE(doc["groups"].size() == 2);
  std::set<std::string> nodes{doc["groups"][0]["nodes"], doc["groups"][1]["nodes"]};
  CHECK(nodes.count(aicloud::inventory::fold_nodeset(odd)) == 1);
  CHECK(nodes.count(aicloud::inventory::fold_nodeset(even)) == 1);
  auto r = aicloudctl(exec_args({"--limit", ok_hosts(), "--", "set -- $SSH_CONNECTION; echo $(( ${3##*.} % 2 ))"}));
  CHECK(contains(r.stdout_text, aicloud::inventory::fold_nodeset(odd) + " (" + std::to_string(odd.size()) + ")\n"));
}

TEST_CASE("every fault host gets its own status, error and exit code in one run") {
  aicloud::ProcessResult raw;
  auto doc = aicloudctl_json(exec_args({"--limit", "ok-001,refused,blackhole,changedkey,authdenied,killed,slow,dies,frozen",
                                        "--connect-timeout", "3s", "--timeout", "8s", "--keepalive", "1s,1", "--",
                                        "echo hello"}),
                             &raw);
  CHECK(raw.exit_code == 5);
  auto st = [&](const char* h) { return host_result(doc, h)["status"].get<std::string>(); };
  auto err = [&](const char* h) { return host_result(doc, h)["error"].is_string() ? host_result(doc, h)["error"].get<std::string>() : ""; };
  CHECK(st("ok-001") == "ok");
  CHECK(host_result(doc, "ok-001")["stdout"] == "hello\n");
  CHECK(host_result(doc, "ok-001")["exit_code"] == 0);
  CHECK(host_result(doc, "ok-001")["host_key_sha256"] == fleet().host_key_sha256);
  CHECK(st("refused") == "unreachable");
  CHECK(contains(err("refused"), "connection refused"));
  CHECK(host_result(doc, "refused")["host_key_sha256"].is_null());
  CHECK(st("blackhole") == "unreachable");
  CHECK(contains(err("blackhole"), "no SSH banner within 3s"));
  CHECK(st("changedkey") == "unreachable");
  CHECK(contains(err("changedkey"), "HOST KEY CHANGED"));
  CHECK(contains(err("changedkey"), fleet().old_host_key_sha256));
  CHECK(host_result(doc, "changedkey")["host_key_sha256"] == fleet().host_key_sha256);
  CHECK(host_result(doc, "changedkey")["stdout"] == "");
  CHECK(st("authdenied") == "unreachable");
  CHECK(contains(err("authdenied"), "authentication denied for user " + fleet().user));
  CHECK(st("killed") == "signal");
  CHECK(host_result(doc, "killed")["signal"] == "TERM");
  CHECK(host_result(doc, "killed")["exit_code"].is_null());
  CHECK(st("slow") == "timeout");
  CHECK(contains(err("slow"), "--timeout 8s"));
  CHECK(host_result(doc, "slow")["stdout"] == "started\n");
  CHECK(st("dies") == "unreachable");
  CHECK(contains(err("dies"), "connection lost while the command was running"));
  CHECK(st("frozen") == "unreachable");
  CHECK(contains(err("frozen"), "no answer to 1 keepalives"));
  auto& s = doc["summary"];
  CHECK(s["total"] == 9);
  CHECK(s["ok"] == 1);
  CHECK(s["unreachable"] == 6);
  CHECK(s["signal"] == 1);
  CHECK(s["timeout"] == 1);
  CHECK(s["exit_code"] == 5);
}

TEST_CASE("the JSON document has the documented shape") {
  auto doc = aicloudctl_json(exec_args({"--limit", "ok-001,refused", "--", "printf 'a\\n'; printf 'e\\n' >&2; exit 3"}));
  for (const char* k : {"tool", "version", "command", "remote_command", "inventory", "limit", "known_hosts",
                        "host_key_policy", "hosts", "groups", "summary"})
    CHECK_MESSAGE(doc.contains(k), k);
  CHECK(doc["remote_command"] == "printf 'a\\n'; printf 'e\\n' >&2; exit 3");
  CHECK(doc["host_key_policy"] == "strict");
  const json& h = host_result(doc, "ok-001");
  CHECK(h["status"] == "failed");
  CHECK(h["exit_code"] == 3);
  CHECK(h["stdout"] == "a\n");
  CHECK(h["stderr"] == "e\n");
  CHECK(h["signal"].is_null());
  CHECK(h["address"] == fleet().address("ok-001"));
  CHECK(h["duration_s"].is_number());
  CHECK(h["error"] == "exit code 3");
  for (const char* k : {"total", "ok", "failed", "unreachable", "timeout", "signal", "interrupted", "skipped",
                        "duration_s", "exit_code"})
    CHECK_MESSAGE(doc["summary"].contains(k), k);
  // The private key itself never shows up anywhere, even with -v.
  auto verbose = aicloudctl({"-v", "--json", "exec", "-i", fleet().inventory, "--known-hosts", fleet().known_hosts,
                             "--no-ssh-config", "--limit", "ok-001,authdenied", "--", "true"});
  std::string key = read_file(fleet().identity);
  auto lines = aicloud::split(key, '\n', false);
  REQUIRE(lines.size() >= 5);
  for (std::size_t i = 2; i + 1 < lines.size(); ++i)  // the secret middle of the key
    CHECK_FALSE(contains(verbose.stdout_text + verbose.stderr_text, lines[i].substr(0, 32)));
  for (const auto& g : doc["groups"]) {
    CHECK(g.contains("nodes"));
    CHECK(g.contains("count"));
    CHECK(g.contains("status"));
  }
}

TEST_CASE("exit codes: 0 all ok, 1 failed, 4 unreachable, 5 both") {
  CHECK(aicloudctl(exec_args({"--limit", "ok-001", "--", "true"})).exit_code == 0);
  CHECK(aicloudctl(exec_args({"--limit", "ok-001", "--", "exit 7"})).exit_code == 1);
  CHECK(aicloudctl(exec_args({"--limit", "killed", "--", "true"})).exit_code == 1);
  CHECK(aicloudctl(exec_args({"--limit", "refused", "--", "true"})).exit_code == 4);
  CHECK(aicloudctl(exec_args({"--limit", "ok-001,refused", "--", "exit 1"})).exit_code == 5);
}

TEST_CASE("invalid invocations exit 2 and run nothing") {
  std::string marker = fleet().remote_dir + "/never-" + std::to_string(::getpid());
  std::string cmd = "touch " + marker;
  auto check2 = [&](std::vector<std::string> args, const std::string& message) {
    auto r = aicloudctl(args);
    INFO(r.stderr_text);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.stderr_text, message));
  };
  check2({"exec", "--", cmd}, "-i/--inventory");
  check2(exec_args({"--limit", "no-such-host-[1-3]", "--", cmd}), "no-such-host-[1-3]");
  check2(exec_args({"--host-key-policy", "maybe", "--", cmd}), "--host-key-policy");
  check2(exec_args({"--timeout", "soon", "--", cmd}), "not a duration");
  check2(exec_args({"--max-fail", "lots", "--", cmd}), "--max-fail");
  check2(exec_args({"-f", "0", "--", cmd}), "forks");
  check2(exec_args({"--identity", "/nonexistent/key", "--", cmd}), "/nonexistent/key");
  check2({"exec", "-i", "/nonexistent/inventory.yaml", "--", cmd}, "/nonexistent/inventory.yaml");
  check2(exec_args({"--limit", "ok-001"}), "no command");
  CHECK_FALSE(aicloud::file_exists(marker));
}

TEST_CASE("--max-fail stops starting hosts once too many failed") {
  aicloud::ProcessResult raw;
  auto doc = aicloudctl_json(exec_args({"--limit", "ok-[001-004]", "-f", "1", "--max-fail", "0", "--", "exit 1"}), &raw);
  CHECK(raw.exit_code == 1);
  CHECK(host_result(doc, "ok-001")["status"] == "failed");
  for (const char* h : {"ok-002", "ok-003", "ok-004"}) {
    CHECK(host_result(doc, h)["status"] == "skipped");
    CHECK(contains(host_result(doc, h)["error"], "--max-fail"));
  }
  CHECK(doc["summary"]["max_fail_hit"] == true);
  auto pct = aicloudctl_json(exec_args({"--limit", "ok-[001-004]", "-f", "1", "--max-fail", "50%", "--", "exit 1"}));
  CHECK(pct["summary"]["failed"] == 3);  // 3 of 4 is the first count above 50%
  CHECK(pct["summary"]["skipped"] == 1);
}

TEST_CASE("Ctrl-C stops starting hosts, stops running commands, writes complete results and exits 130") {
  std::string dir = scratch_dir("ctrlc");
  std::string out = dir + "/results.json";
  std::string markers = fleet().remote_dir + "/ctrlc-" + std::to_string(::getpid());
  std::vector<std::string> args = exec_args({"--limit", "ok-[001-008]", "-f", "2", "-o", out, "--",
                                             "mkdir -p " + markers + " && touch " + markers + "/$$ && exec sleep 60"});
  args.insert(args.begin(), std::string(AICLOUD_BINARY_DIR) + "/aicloudctl");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Wait until two commands are really running remotely, then press Ctrl-C.
  bool running = eventually([&] {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(markers, ec); !ec && it != std::filesystem::directory_iterator(); ++it) ++n;
    return n >= 2;
  });
  CHECK(running);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  json doc;
  REQUIRE_NOTHROW(doc = json::parse(read_file(out)));
  CHECK(doc["hosts"].size() == 8);
  CHECK(doc["summary"]["interrupted_run"] == true);
  CHECK(doc["summary"]["exit_code"] == 130);
  std::size_t interrupted = 0, skipped = 0;
  for (const auto& h : doc["hosts"]) {
    if (h["status"] == "interrupted") ++interrupted;
    if (h["status"] == "skipped") ++skipped;
  }
  CHECK(interrupted == 2);
  CHECK(skipped == 6);
  CHECK_FALSE(aicloud::file_exists(out + ".tmp"));
}

TEST_CASE("hostile host names and commands never run as code") {
  std::string dir = scratch_dir("hostile");
  std::string m = fleet().remote_dir + "/pwned-" + std::to_string(::getpid());
  std::string local = dir + "/pwned-local";
  std::vector<std::string> names = {"n$(touch " + local + ")", "n`touch " + local + "`", "n;touch " + local,
                                    "n'q\"x", "n touch " + local};
  std::string inv = "version: 1\ndefaults: {ssh: {user: " + fleet().user + ", identity_file: " + fleet().identity +
                    "}}\nsites:\n  s:\n    racks:\n      r:\n        nodes:\n";
  for (std::size_t i = 0; i < names.size(); ++i) {
    json name = names[i];  // a JSON string is a valid YAML double-quoted scalar
    inv += "          - {name: " + name.dump() + ", address: " + fleet().address("ok-00" + std::to_string(i + 1)) +
           ", ssh: {port: " + std::to_string(fleet().port) + "}}\n";
  }
  write_file(dir + "/inv.yaml", inv);
  aicloud::ProcessResult raw;
  auto r = aicloudctl({"--json", "exec", "-i", dir + "/inv.yaml", "--known-hosts", fleet().known_hosts, "--no-ssh-config",
                       "--", "echo ok"});
  INFO(r.stdout_text << r.stderr_text);
  if (r.exit_code == 2) {
    // The inventory refuses such names: then nothing ran at all.
    CHECK(contains(r.stderr_text, dir + "/inv.yaml"));
  } else {
    CHECK(r.exit_code == 0);
    auto doc = json::parse(r.stdout_text);
    for (const auto& n : names) CHECK(host_result(doc, n)["stdout"] == "ok\n");
    // accept-new writes known_hosts lines for them: still OpenSSH-readable.
    std::string kh = dir + "/kh";
    auto a = aicloudctl({"exec", "-i", dir + "/inv.yaml", "--known-hosts", kh, "--host-key-policy", "accept-new",
                         "--no-ssh-config", "--", "true"});
    CHECK(a.exit_code == 0);
    auto f = aicloud::run_process({"ssh-keygen", "-F", "[" + fleet().address("ok-001") + "]:" + std::to_string(fleet().port), "-f", kh});
    CHECK(f.exit_code == 0);
  }
  CHECK_FALSE(aicloud::file_exists(local));
  CHECK_FALSE(aicloud::file_exists(m));
}

TEST_CASE("ssh_config is read after the host is set and before inventory values") {
  std::string dir = scratch_dir("sshcfg");
  // The config points ok-001 at a wrong port and user (the inventory must
  // win) and gives "cfg-alias" the address of ok-002 (config must apply).
  write_file(dir + "/ssh_config", "Host ok-001\n  Port 1\n  User nobody-here\nHost cfg-alias\n  HostName " +
                                      fleet().address("ok-002") + "\n");
  std::string inv = "version: 1\ndefaults: {ssh: {user: " + fleet().user + ", identity_file: " + fleet().identity +
                    "}}\nsites:\n  s:\n    racks:\n      r:\n        nodes:\n"
                    "          - {name: ok-001, address: " + fleet().address("ok-001") + ", ssh: {port: " +
                    std::to_string(fleet().port) + "}}\n"
                    "          - {name: cfg-alias, ssh: {port: " + std::to_string(fleet().port) + "}}\n";
  write_file(dir + "/inv.yaml", inv);
  auto doc = aicloudctl_json({"exec", "-i", dir + "/inv.yaml", "--known-hosts", fleet().known_hosts, "--ssh-config",
                              dir + "/ssh_config", "--", "set -- $SSH_CONNECTION; echo $3"});
  CHECK(host_result(doc, "ok-001")["status"] == "ok");
  CHECK(host_result(doc, "cfg-alias")["status"] == "ok");
  CHECK(host_result(doc, "cfg-alias")["stdout"] == fleet().address("ok-002") + "\n");
  auto none = aicloudctl_json({"exec", "-i", dir + "/inv.yaml", "--known-hosts", fleet().known_hosts, "--no-ssh-config",
                               "--connect-timeout", "5s", "--", "true"});
  CHECK(host_result(none, "cfg-alias")["status"] == "unreachable");
  CHECK(host_result(none, "ok-001")["status"] == "ok");
  auto bad = aicloudctl(exec_args({"--ssh-config", dir + "/missing", "--", "true"}));
  CHECK(bad.exit_code == 2);
}

TEST_CASE("become runs the command through sudo -n") {
  if (!fleet().become) {
    MESSAGE("skipped: the fleet has no become host (not root, or sudo missing)");
    return;
  }
  auto doc = aicloudctl_json(exec_args({"--limit", "become,ok-001", "--", "id -u"}));
  CHECK(host_result(doc, "become")["stdout"] == "0\n");
  CHECK(host_result(doc, "ok-001")["stdout"] != "0\n");
}

TEST_CASE("--no-fold prints every line with its host") {
  auto r = aicloudctl(exec_args({"--limit", "ok-[001-002]", "--no-fold", "--", "echo a; echo b >&2"}));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.stdout_text, "ok-001: a\n"));
  CHECK(contains(r.stdout_text, "ok-002[err]: b\n"));
}
