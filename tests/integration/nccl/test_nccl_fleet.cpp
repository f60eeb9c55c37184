// `aicloudctl nccl -i INV` against the real loopback SSH fleet (scripts/fleet),
// whose hosts have no GPU: the launch itself (connect, push with SHA-256
// skip, probe, one worker per rank over SSH exec channels, the unique-id
// relay through the controller) runs for real, and every host must then be
// reported failed for want of a GPU, never PASS. Fault hosts check that an
// unreachable host, a connection that dies mid-run and a frozen server are
// named and never hang the run.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "../fleet/support.hpp"

using nlohmann::json;
using namespace fleet_test;

namespace {

// Every run uses its own remote folder so parallel tests do not share files.
std::string remote_dir(const std::string& tag) { return fleet().remote_dir + "/nccl-" + tag; }

std::vector<std::string> nccl_args(const std::string& limit, const std::string& tag, std::vector<std::string> extra) {
  std::vector<std::string> a = {"nccl",           "-i",          fleet().inventory,  "--known-hosts",
                                fleet().known_hosts, "--no-ssh-config", "--limit", limit,
                                "--remote-dir",   remote_dir(tag), "--connect-timeout", "5s",
                                "--init-timeout", "20s"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

const json& host_of(const json& doc, const std::string& name) {
  for (const auto& h : doc["hosts"])
    if (h["host"] == name) return h;
  FAIL("host " << name << " is not in the result");
  static json none;
  return none;
}

bool in_failures(const json& doc, const std::string& name) {
  for (const auto& h : doc["host_failures"])
    if (h["host"] == name) return true;
  return false;
}

}  // namespace

TEST_CASE("dry run over SSH: workers start on every host, each host is named for its missing GPU") {
  aicloud::ProcessResult raw;
  json doc = aicloudctl_json(
      nccl_args("ok-001,ok-002,ok-003", "dry", {"--dry-run", "--ranks-per-node", "2"}), &raw);
  INFO(doc.dump(1));
  CHECK(doc["schema"] == "aicloudctl.nccl/1");
  CHECK(doc["dry_run"] == true);
  CHECK(doc["launcher"]["kind"] == "ssh");
  CHECK(doc["status"] == "failed");
  CHECK(raw.exit_code == 1);
  CHECK(doc["exit_code"] == 1);
  REQUIRE(doc["ranks"].size() == 6);
  // Ranks are numbered node by node, two per host, each answered over SSH.
  for (int r = 0; r < 6; ++r) {
    const json& rk = doc["ranks"][static_cast<std::size_t>(r)];
    CHECK(rk["rank"] == r);
    CHECK(rk["node"] == std::string("ok-00") + std::to_string(r / 2 + 1));
    CHECK(rk["pid"].get<long>() > 0);
    CHECK(rk["gpu"].is_null());
    CHECK(rk["gpu_error"].is_string());
  }
  // The unique id went from rank 0 through the controller to every rank
  // (where the hosts have libnccl; otherwise rank 0 says it cannot make one).
  std::set<std::string> digests;
  for (const auto& rk : doc["ranks"])
    if (rk.contains("unique_id_digest")) digests.insert(rk["unique_id_digest"].get<std::string>());
  if (doc["nccl"]["version"].is_string()) {
    CHECK(digests.size() == 1);
    for (const auto& rk : doc["ranks"]) CHECK(rk["ready"] == true);
  } else {
    CHECK(doc["ranks"][0]["nccl_error"].is_string());
  }
  // Every host is a failure that says why.
  REQUIRE(doc["hosts"].size() == 3);
  CHECK(doc["host_failures"].size() == 3);
  for (const auto& h : doc["hosts"]) {
    CHECK(h["status"] == "failed");
    CHECK(h["stage"] == "run");
    CHECK(h["ranks"].size() == 2);
    CHECK(h["host_key_sha256"].get<std::string>().rfind("SHA256:", 0) == 0);
    std::string err = h["error"];
    CHECK((err.find("GPU") != std::string::npos || err.find("CUDA") != std::string::npos ||
           err.find("cuda") != std::string::npos || err.find("NCCL") != std::string::npos));
  }
  CHECK(doc["launcher"]["remote_binary"].get<std::string>().find(remote_dir("dry")) == 0);
}

TEST_CASE("probe finds no GPU: nothing launches, each host named, a second run skips the push") {
  auto first = aicloudctl_json(nccl_args("ok-004,ok-005", "probe", {"--dry-run"}));
  INFO(first.dump(1));
  CHECK(first["exit_code"] == 1);
  CHECK(first["status"] == "failed");
  CHECK(first["ranks"].empty());
  for (const auto& h : first["hosts"]) {
    CHECK(h["status"] == "failed");
    CHECK(h["stage"] == "plan");
    CHECK(h["error"].get<std::string>().find("no GPU") != std::string::npos);
    CHECK(h["error"].get<std::string>().find(h["host"].get<std::string>()) != std::string::npos);
  }
  // The hosts share one home on loopback: at least one copied the binary.
  CHECK((host_of(first, "ok-004")["pushed"] == true || host_of(first, "ok-005")["pushed"] == true));
  aicloud::ProcessResult raw;
  auto second = aicloudctl_json(nccl_args("ok-004,ok-005", "probe", {"--dry-run"}), &raw);
  CHECK(raw.exit_code == 1);
  for (const auto& h : second["hosts"]) CHECK(h["pushed"] == false);
}

TEST_CASE("an unreachable host in the selection is named, the others still report, exit 5") {
  aicloud::ProcessResult r =
      aicloudctl(nccl_args("ok-006,refused,blackhole", "unreach", {"--dry-run", "--ranks-per-node", "1"}));
  INFO("stdout: " << r.stdout_text << "\nstderr: " << r.stderr_text);
  CHECK(r.exit_code == 5);  // 1 (ok-006 has no GPU) | 4 (unreachable)
  CHECK(r.stdout_text.find("host refused: unreachable (connect)") != std::string::npos);
  CHECK(r.stdout_text.find("host blackhole: unreachable (connect)") != std::string::npos);
  CHECK(r.stdout_text.find("host ok-006: failed (run)") != std::string::npos);
  CHECK(r.stdout_text.find("nccl: failed") != std::string::npos);
  CHECK(r.stdout_text.find("RANK  NODE") != std::string::npos);  // the dry-run table of ok-006's rank
}

TEST_CASE("a benchmark does not launch when a host is unreachable, the rest are skipped") {
  auto doc = aicloudctl_json(nccl_args("ok-007,refused", "bench", {"--ranks-per-node", "1", "-b", "1M", "-e", "1M"}));
  INFO(doc.dump(1));
  CHECK(doc["exit_code"] == 5);  // refused unreachable; the run failed
  CHECK(doc["ranks"].empty());
  CHECK(host_of(doc, "refused")["status"] == "unreachable");
  CHECK(host_of(doc, "ok-007")["status"] == "skipped");
  CHECK(in_failures(doc, "refused"));
  CHECK(!in_failures(doc, "ok-007"));
  bool named = false;
  for (const auto& p : doc["problems"])
    if (p["kind"] == "unreachable" && p["message"].get<std::string>().find("refused") != std::string::npos) named = true;
  CHECK(named);
}

TEST_CASE("hosts that die or freeze mid-run are named and the run ends") {
  // Push to a healthy host first, then start workers on hosts whose sshd is
  // killed or stopped once a command runs (the binary is already there).
  auto pushed = aicloudctl_json(nccl_args("ok-008", "faults", {"--dry-run", "--ranks-per-node", "1"}));
  const std::string remote = pushed["launcher"]["remote_binary"];
  aicloud::ProcessResult raw;
  auto doc = aicloudctl_json(nccl_args("ok-008,dies,frozen", "faults",
                                       {"--dry-run", "--ranks-per-node", "1", "--no-push", "--remote-binary", remote,
                                        "--keepalive", "1s,2"}),
                             &raw);
  INFO(doc.dump(1));
  CHECK(raw.exit_code != 0);
  CHECK(doc["status"] == "failed");
  for (const char* bad : {"dies", "frozen"}) {
    const json& h = host_of(doc, bad);
    CHECK((h["status"] == "unreachable" || h["status"] == "failed"));
    CHECK(h["stage"] == "run");
    CHECK(!h["error"].get<std::string>().empty());
    CHECK(in_failures(doc, bad));
  }
  CHECK(host_of(doc, "ok-008")["status"] != "ok");
}

TEST_CASE("--localize over SSH: every round launches, and GPU-less hosts make it inconclusive, never ok") {
  aicloud::ProcessResult raw;
  auto doc = aicloudctl_json(nccl_args("ok-009,ok-010", "localize", {"--localize", "--ranks-per-node", "2", "-e", "1M"}),
                             &raw);
  INFO(doc.dump(1));
  CHECK(raw.exit_code == 1);
  CHECK(doc["status"] == "failed");
  const json& l = doc["localization"];
  CHECK(l["nodes"] == json::array({"ok-009", "ok-010"}));
  CHECK(l["rounds"].get<int>() >= 3);  // intra, rails, the pair
  for (const auto& g : l["groups"]) {
    CHECK(g["verdict"] == "failed");
    CHECK(g["error"].is_string());
  }
  REQUIRE(l["findings"].size() == 1);
  CHECK(l["findings"][0]["kind"] == "inconclusive");
  for (const auto& h : doc["hosts"]) {
    CHECK(h["status"] == "failed");
    CHECK(h["stage"] == "localize");
  }
}
