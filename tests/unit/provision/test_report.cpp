// Terminal output (folded lines, recap), the JSON document and reading it
// back for --limit @failed.
#include <doctest/doctest.h>

#include "common/term.hpp"
#include "helpers.hpp"
#include "provision/report.hpp"

using namespace aicloud;
using namespace aicloud::provision;

namespace {

RunResult sample() {
  RunResult r = test::run_yaml(R"(
- name: sample
  hosts: all
  gather_facts: false
  tasks:
    - name: mixed
      command: "false"
      when: inventory_hostname in ['node2', 'node3']
    - name: talk
      debug: msg=hello
)",
                               {}, test::local_hosts(4));
  return r;
}

std::string fold_brackets(const std::vector<std::string>& hosts) { return "[" + join_hosts(hosts) + "]"; }

}  // namespace

TEST_CASE("terminal output folds hosts by status and by identical message") {
  configure_terminal(false, 0, true);
  RunResult r = sample();
  std::ostringstream out;
  TerminalReporter rep(out, fold_brackets, 0, false);
  rep.play_started(r.plays[0]);
  for (const auto& t : r.plays[0].tasks) rep.task_finished(r.plays[0], t);
  rep.finish(r);
  std::string s = out.str();
  CHECK(s.find("PLAY [sample] 4 hosts, free") != std::string::npos);
  CHECK(s.find("TASK [mixed]  failed: [node2,node3]  skipped: [node1,node4]") != std::string::npos);
  CHECK(s.find("  [node2,node3]: FAILED: non-zero return code (rc 1)") != std::string::npos);
  CHECK(s.find("TASK [talk]  ok: [node1,node4]") != std::string::npos);
  CHECK(s.find("  [node1,node4]: hello") != std::string::npos);
  CHECK(s.find("[node1,node4]      1        0       0        1            0        0") != std::string::npos);
  CHECK(s.find("[node2,node3]      0        0       1        0            0        0") != std::string::npos);
  CHECK(s.find("4 hosts: 2 ok, 0 changed, 2 failed, 0 unreachable") != std::string::npos);
}

TEST_CASE("JSON: per host per task status, rc, output, duration, and the recap") {
  RunResult r = sample();
  RunOptions o;
  json doc = run_result_json(r, "pb.yaml", o);
  CHECK(doc["command"] == "provision");
  CHECK(doc["exit_code"] == 1);
  const json& mixed = doc["plays"][0]["tasks"][0];
  CHECK(mixed["name"] == "mixed");
  CHECK(mixed["results"]["node2"]["status"] == "failed");
  CHECK(mixed["results"]["node2"]["rc"] == 1);
  CHECK(mixed["results"]["node1"]["status"] == "skipped");
  CHECK(mixed["results"]["node1"]["duration_s"].is_number());
  CHECK(mixed["results"]["node2"].contains("stdout"));
  CHECK(mixed["results"]["node2"].contains("stderr"));
  CHECK(doc["plays"][0]["tasks"][1]["results"]["node1"]["output"] == "hello");
  CHECK(doc["recap"]["node3"]["failed"] == 1);
  CHECK(doc["recap"]["node3"]["status"] == "failed");
  CHECK(doc["summary"]["failed"] == 2);
  CHECK(doc["summary"]["ok"] == 2);
}

TEST_CASE("--limit @failed reads failed and unreachable hosts back") {
  test::TempDir tmp;
  RunResult r = sample();
  test::spit(tmp / "r.json", run_result_json(r, "pb.yaml", {}).dump());
  CHECK(failed_hosts_from_result(tmp / "r.json") == std::vector<std::string>{"node2", "node3"});
  test::spit(tmp / "fleet.json", R"({"results": [{"host": "a", "status": "ok"}, {"host": "b", "status": "unreachable"},
                                   {"host": "c", "status": "timeout"}]})");
  CHECK(failed_hosts_from_result(tmp / "fleet.json") == std::vector<std::string>{"b", "c"});
  test::spit(tmp / "bad.json", "{\"x\": 1}");
  CHECK_THROWS_AS(failed_hosts_from_result(tmp / "bad.json"), InputError);
  test::spit(tmp / "junk.json", "not json");
  CHECK_THROWS_AS(failed_hosts_from_result(tmp / "junk.json"), InputError);
  CHECK_THROWS_AS(failed_hosts_from_result(tmp / "missing.json"), InputError);
}

TEST_CASE("no_log hides output in the JSON") {
  RunResult r = test::run_yaml("- hosts: all\n  gather_facts: false\n  tasks:\n    - {name: s, shell: echo secret, no_log: true}\n");
  json doc = run_result_json(r, "pb.yaml", {});
  CHECK(doc.dump().find("secret") == std::string::npos);
}
