// Host-key safety against the real fleet: strict refuses unknown and changed
// keys, accept-new really writes OpenSSH-readable lines and still refuses
// changed keys, off only warns; hostkeys scan / list / forget.
#include <doctest/doctest.h>

#include "common/files.hpp"
#include "common/process.hpp"
#include "support.hpp"

using namespace fleet_test;
using nlohmann::json;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
std::string key_name(const std::string& host) {
  return "[" + fleet().address(host) + "]:" + std::to_string(fleet().port);
}
std::vector<std::string> with_kh(const std::string& kh, std::vector<std::string> extra) {
  std::vector<std::string> a{"exec", "-i", fleet().inventory, "--known-hosts", kh, "--no-ssh-config"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}
}  // namespace

TEST_CASE("strict refuses unknown keys and runs nothing, accept-new records them for OpenSSH") {
  std::string dir = scratch_dir("acceptnew");
  std::string kh = dir + "/known_hosts";
  std::string marker = fleet().remote_dir + "/strict-" + std::to_string(::getpid());
  auto strict = aicloudctl_json(with_kh(kh, {"--limit", "ok-[001-003]", "--", "touch " + marker}));
  for (const char* h : {"ok-001", "ok-002", "ok-003"}) {
    CHECK(host_result(strict, h)["status"] == "unreachable");
    CHECK(contains(host_result(strict, h)["error"], "is not in " + kh));
    CHECK(host_result(strict, h)["host_key_sha256"] == fleet().host_key_sha256);
  }
  CHECK_FALSE(aicloud::file_exists(marker));
  CHECK_FALSE(aicloud::file_exists(kh));

  auto accept = aicloudctl(with_kh(kh, {"--limit", "ok-[001-003]", "--host-key-policy", "accept-new", "--", "true"}));
  CHECK(accept.exit_code == 0);
  for (const char* h : {"ok-001", "ok-002", "ok-003"}) {
    auto f = aicloud::run_process({"ssh-keygen", "-F", key_name(h), "-f", kh});
    INFO(read_file(kh));
    CHECK(f.exit_code == 0);
    CHECK(contains(f.stdout_text, "ssh-ed25519"));
  }
  // OpenSSH itself accepts the file under StrictHostKeyChecking=yes.
  auto ssh = aicloud::run_process({"ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                                   "-o", "UserKnownHostsFile=" + kh, "-i", fleet().identity, "-p",
                                   std::to_string(fleet().port), "-l", fleet().user, fleet().address("ok-002"), "true"},
                                  {.timeout = std::chrono::seconds(30)});
  CHECK(ssh.exit_code == 0);
  // Now strict is content, and nothing was added twice.
  CHECK(aicloudctl(with_kh(kh, {"--limit", "ok-[001-003]", "--", "true"})).exit_code == 0);
  CHECK(aicloud::run_process({"grep", "-c", "ssh-ed25519", kh}).stdout_text == "3\n");
}

TEST_CASE("a changed key is refused under accept-new too and off only warns") {
  std::string dir = scratch_dir("changed");
  std::string kh = dir + "/known_hosts";
  write_file(kh, read_file(fleet().known_hosts));
  std::string before = read_file(kh);
  auto doc = aicloudctl_json(with_kh(kh, {"--limit", "changedkey", "--host-key-policy", "accept-new", "--", "echo ran"}));
  CHECK(host_result(doc, "changedkey")["status"] == "unreachable");
  CHECK(host_result(doc, "changedkey")["stdout"] == "");
  CHECK(read_file(kh) == before);
  aicloud::ProcessResult raw;
  auto off = aicloudctl_json(with_kh(kh, {"--limit", "changedkey", "--host-key-policy", "off", "--", "echo ran"}), &raw);
  CHECK(host_result(off, "changedkey")["stdout"] == "ran\n");
  CHECK(contains(raw.stderr_text, "warning: --host-key-policy off"));
  CHECK(read_file(kh) == before);
  // "off" is only accepted by name.
  CHECK(aicloudctl(with_kh(kh, {"--limit", "changedkey", "--host-key-policy", "no", "--", "true"})).exit_code == 2);
}

TEST_CASE("hostkeys forget, then scan records the keys again and reports changed ones") {
  std::string dir = scratch_dir("scan");
  std::string kh = dir + "/known_hosts";
  write_file(kh, read_file(fleet().known_hosts));
  auto f = aicloudctl({"hostkeys", "forget", "-i", fleet().inventory, "--known-hosts", kh, "--no-ssh-config", "ok-[001-002]"});
  CHECK(f.exit_code == 0);
  CHECK(contains(f.stdout_text, "removed 2 lines for 2 hosts"));
  CHECK(aicloud::run_process({"ssh-keygen", "-F", key_name("ok-001"), "-f", kh}).exit_code != 0);
  CHECK(aicloud::run_process({"ssh-keygen", "-F", key_name("ok-003"), "-f", kh}).exit_code == 0);
  auto strict = aicloudctl_json(with_kh(kh, {"--limit", "ok-001", "--", "true"}));
  CHECK(host_result(strict, "ok-001")["status"] == "unreachable");

  aicloud::ProcessResult raw;
  auto scan = aicloudctl_json({"hostkeys", "scan", "-i", fleet().inventory, "--known-hosts", kh, "--no-ssh-config",
                               "--limit", "ok-[001-003],changedkey,refused", "--connect-timeout", "5s"},
                              &raw);
  CHECK(raw.exit_code == 4);
  std::map<std::string, std::string> status;
  for (const auto& h : scan["hosts"]) status[h["host"]] = h["status"];
  CHECK(status["ok-001"] == "added");
  CHECK(status["ok-002"] == "added");
  CHECK(status["ok-003"] == "known");
  CHECK(status["changedkey"] == "changed");
  CHECK(status["refused"] == "unreachable");
  for (const auto& h : scan["hosts"])
    if (h["host"] == "ok-001") CHECK(h["host_key_sha256"] == fleet().host_key_sha256);
  CHECK(aicloud::run_process({"ssh-keygen", "-F", key_name("ok-001"), "-f", kh}).exit_code == 0);
  CHECK(aicloudctl(with_kh(kh, {"--limit", "ok-[001-002]", "--", "true"})).exit_code == 0);

  auto text = aicloudctl({"hostkeys", "scan", "-i", fleet().inventory, "--known-hosts", kh, "--no-ssh-config", "--limit",
                          "ok-001"});
  CHECK(text.exit_code == 0);
  CHECK(contains(text.stdout_text, fleet().host_key_sha256));
}

TEST_CASE("hostkeys list maps known_hosts lines to inventory hosts") {
  auto doc = aicloudctl_json({"hostkeys", "list", "-i", fleet().inventory, "--known-hosts", fleet().known_hosts, "--no-ssh-config",
                              "--limit", "ok-[001-002],changedkey"});
  CHECK(doc["known_hosts"] == fleet().known_hosts);
  CHECK(doc["entries"].size() == 3);
  std::map<std::string, std::string> fp;
  for (const auto& e : doc["entries"]) {
    REQUIRE(e["inventory_hosts"].size() == 1);
    fp[e["inventory_hosts"][0]] = e["host_key_sha256"];
  }
  CHECK(fp["ok-001"] == fleet().host_key_sha256);
  CHECK(fp["changedkey"] == fleet().old_host_key_sha256);
  CHECK(doc["missing"].empty());
  auto all = aicloudctl_json({"hostkeys", "list", "--known-hosts", fleet().known_hosts});
  CHECK(all["entries"].size() >= 20);
  CHECK(aicloudctl({"hostkeys", "list", "--known-hosts", "/nonexistent/kh"}).exit_code == 2);
  CHECK(aicloudctl({"hostkeys", "forget", "-i", fleet().inventory}).exit_code == 2);  // selector required
}
