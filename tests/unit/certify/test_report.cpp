// Reports: JSON round trip, strict reading with pointers to the problem,
// the schema (docs/report.schema.json, validated with python3-jsonschema),
// Ctrl-C in the middle of a stage and --resume, diff, JUnit and show.
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>

#include "certify/judge.hpp"
#include "certify/present.hpp"
#include "common/error.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "rack_fixture.hpp"

using namespace aicloud;
using namespace aicloud::certify;
using namespace aicloud::certify::testing;

namespace {

std::string tmp(const std::string& name) { return "/tmp/aicloud-report-" + std::to_string(::getpid()) + "-" + name; }

// Validates a report file against docs/report.schema.json with Debian's
// python3-jsonschema (Draft 2020-12). Returns the validator's output.
ProcessResult validate_schema(const std::string& path) {
  std::string script =
      "import json, sys, jsonschema\n"
      "schema = json.load(open(sys.argv[1]))\n"
      "jsonschema.Draft202012Validator.check_schema(schema)\n"
      "errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\n"
      "for e in errors: print('/'.join(str(p) for p in e.absolute_path), e.message[:300])\n"
      "sys.exit(1 if errors else 0)\n";
  std::string python = find_program("/usr/bin/python3").empty() ? "python3" : "/usr/bin/python3";
  return run_process({python, "-c", script, std::string(AICLOUD_SOURCE_DIR) + "/docs/report.schema.json", path});
}

Report failing_rack() {
  TestExecutor exec;
  burnin_test(exec.nodes["gpu-a12-02"].burnin, 3, "hbm")["result"]["copy_gbps"] = 2500.0;
  exec.nodes["gpu-a12-03"].health["gpus"][1]["persistence_mode"] = false;
  exec.nodes["gpu-a12-04"].recheck = exec.nodes["gpu-a12-04"].health;
  exec.nodes["gpu-a12-04"].recheck["gpus"][0]["ecc_errors"]["volatile"]["corrected"] = 4;
  return run_rack(exec, 4);
}

}  // namespace

TEST_CASE("a report round-trips through JSON and validates against the schema") {
  for (bool failing : {false, true}) {
    CAPTURE(failing);
    TestExecutor exec;
    Report r = failing ? failing_rack() : run_rack(exec, 4);
    std::string path = tmp(failing ? "fail.json" : "pass.json");
    write_report(r, path);
    Report back = load_report(path);
    CHECK(to_json(back).dump() == to_json(r).dump());
    ProcessResult v = validate_schema(path);
    INFO(v.stdout_text, v.stderr_text);
    CHECK(v.ok());
    ::unlink(path.c_str());
  }
}

TEST_CASE("the schema rejects reports that break its rules") {
  TestExecutor exec;
  Report r = run_rack(exec, 2);
  nlohmann::json j = to_json(r);
  auto rejects = [&](nlohmann::json bad, const char* what) {
    CAPTURE(what);
    std::string path = tmp("bad.json");
    std::ofstream(path) << bad.dump();
    ProcessResult v = validate_schema(path);
    CHECK(v.exit_code == 1);
    CHECK_FALSE(v.stdout_text.empty());
    ::unlink(path.c_str());
  };
  auto a = j;
  a["summary"]["verdict"] = "FAIL";  // certified with a FAIL verdict
  rejects(a, "certified must mean PASS");
  auto b = j;
  b["nodes"][0]["reasons"].push_back({{"severity", "FAIL"}, {"check", "floor.x"}, {"stage", "burnin"}, {"message", "slow"}});
  rejects(b, "a PASS node cannot carry a FAIL reason");
  auto c = j;
  c["nodes"][0]["stages"][0]["status"] = "finished";
  rejects(c, "unknown stage status");
  auto d = j;
  d["profile"]["sha256"] = "abc";
  rejects(d, "digest format");
  auto e = j;
  e["extra"] = 1;
  rejects(e, "unknown top-level key");
}

TEST_CASE("reading a damaged report names the place of the problem") {
  auto err = [](const std::string& text) -> std::string {
    try {
      report_from_json_text(text, "r.json");
    } catch (const InputError& e) {
      return format_diagnostic(e.diagnostics().front());
    }
    return "";
  };
  CHECK(err("{\n  \"kind\": \n}") .rfind("r.json:3:1: not valid JSON", 0) == 0);
  CHECK(err("[]").find("expected a JSON object") != std::string::npos);
  CHECK(err("{\"kind\":\"other\"}").find("not an aicloudctl certification report") != std::string::npos);
  TestExecutor exec;
  nlohmann::json j = to_json(run_rack(exec, 1));
  auto j2 = j;
  j2["schema_version"] = 99;
  CHECK(err(j2.dump()).find("newer than this aicloudctl reads") != std::string::npos);
  auto j3 = j;
  j3["nodes"][0]["stages"][2].erase("status");
  CHECK(err(j3.dump()) == "r.json: /nodes/0/stages/2: missing 'status'");
  auto j4 = j;
  j4["nodes"][0]["verdict"] = "OK";
  CHECK(err(j4.dump()).find("/nodes/0/verdict: 'OK' is not PASS, FAIL or INCOMPLETE") != std::string::npos);
  auto j5 = j;
  j5["racks"][0]["nodes"].push_back("ghost");
  CHECK(err(j5.dump()).find("names node 'ghost'") != std::string::npos);
}

TEST_CASE("Ctrl-C during a stage leaves a valid partial report (exit 130), and --resume re-runs only what did not finish") {
  reset_interrupt_for_tests();
  Profile p = load_profile("h100-sxm-8gpu");
  std::string path = tmp("partial.json");
  TestExecutor first;
  // Ctrl-C arrives while gpu-a12-03 starts its burn-in.
  first.before_run = [](const std::string& node, std::string_view stage) {
    if (node == "gpu-a12-03" && stage == "burnin") request_interrupt();
  };
  auto nodes = rack_nodes(4);
  for (const auto& n : nodes) first.nodes[n.name] = NodeOutputs{};
  Report r = new_report(p, p.level("quick"), nodes, "replay");
  RunOptions o;
  o.report_path = path;
  o.parallel = 1;  // one node at a time so that the interruption point is exact
  int rc = run_pipeline(r, p, first, o);
  CHECK(rc == 130);
  reset_interrupt_for_tests();

  Report partial = load_report(path);  // what is on disk is complete JSON
  ProcessResult v = validate_schema(path);
  INFO(v.stdout_text);
  CHECK(v.ok());
  CHECK(partial.run.status == "interrupted");
  CHECK(partial.summary.exit_code == 130);
  CHECK_FALSE(partial.summary.certified);
  CHECK(partial.node("gpu-a12-01")->stage("burnin")->status == StageStatus::done);
  CHECK(partial.node("gpu-a12-03")->stage("burnin")->status == StageStatus::interrupted);
  CHECK(partial.node("gpu-a12-04")->stage("burnin")->status == StageStatus::pending);
  CHECK(partial.node("gpu-a12-01")->stage("nccl_intra")->status == StageStatus::pending);
  CHECK(partial.node("gpu-a12-03")->verdict == Verdict::incomplete);
  std::string health_started = partial.node("gpu-a12-03")->stage("health")->started_at;

  auto planned = plan_resume(partial);
  CHECK(std::find(planned.begin(), planned.end(), "gpu-a12-03:burnin") != planned.end());
  CHECK(std::find(planned.begin(), planned.end(), "gpu-a12-01:nccl_intra") != planned.end());
  CHECK(std::find(planned.begin(), planned.end(), "gpu-a12-01:burnin") == planned.end());
  CHECK(std::find(planned.begin(), planned.end(), "gpu-a12-03:health") == planned.end());
  CHECK(std::find(planned.begin(), planned.end(), "rack a12:nccl_inter") != planned.end());
  CHECK(partial.run.resumed_at.size() == 1);
  check_resume_compatible(partial, p, "");

  TestExecutor second;
  for (const auto& n : nodes) second.nodes[n.name] = NodeOutputs{};
  rc = run_pipeline(partial, p, second, o);
  CHECK(rc == 0);
  CHECK(partial.summary.certified);
  CHECK(partial.run.status == "complete");
  CHECK(second.calls["gpu-a12-01:burnin"] == 0);  // finished before Ctrl-C: not re-run
  CHECK(second.calls["gpu-a12-02:health"] == 0);
  CHECK(second.calls["gpu-a12-03:burnin"] == 1);
  CHECK(second.calls["gpu-a12-04:burnin"] == 1);
  CHECK(second.calls["gpu-a12-01:nccl_intra"] == 1);
  CHECK(partial.node("gpu-a12-03")->stage("health")->started_at == health_started);

  // A finished report has nothing to resume.
  CHECK(plan_resume(partial).empty());
  // A different profile is refused.
  CHECK_THROWS_AS(check_resume_compatible(partial, load_profile("h200-sxm-8gpu"), ""), UsageError);
  CHECK_THROWS_AS(check_resume_compatible(partial, p, "0123"), UsageError);
  ::unlink(path.c_str());
}

TEST_CASE("resume re-runs a node from its first unfinished stage, and keeps a final FAIL") {
  TestExecutor exec;
  exec.nodes["gpu-a12-01"].health["gpus"][0]["ecc_mode"] = false;  // fails health: final
  CommandResult timeout;
  timeout.started = true;
  timeout.timed_out = true;
  exec.nodes["gpu-a12-02"].fail["health"] = timeout;  // error: re-run on resume
  exec.nodes["gpu-a12-03"];
  Report r = run_rack(exec, 3);
  CHECK(r.node("gpu-a12-02")->stage("health")->detail.find("timed out after 2m") != std::string::npos);
  auto planned = plan_resume(r);
  CHECK(std::find(planned.begin(), planned.end(), "gpu-a12-02:health") != planned.end());
  CHECK(std::find(planned.begin(), planned.end(), "gpu-a12-02:burnin") != planned.end());
  for (const auto& x : planned) CHECK(x.rfind("gpu-a12-01:", 0) != 0);
  CHECK(r.node("gpu-a12-01")->stage("burnin")->status == StageStatus::skipped);
}

TEST_CASE("report diff lists nodes that started failing and measurements that moved") {
  TestExecutor exec;
  Report before = run_rack(exec, 4);
  Report after = failing_rack();
  DiffResult d = diff_reports(before, after, 5);
  CHECK(d.regressed);
  REQUIRE(d.json["nodes_started_failing"].size() >= 1);
  bool n2 = false;
  for (const auto& x : d.json["nodes_started_failing"]) n2 = n2 || x["name"] == "gpu-a12-02";
  CHECK(n2);
  bool moved = false;
  for (const auto& m : d.json["measurements"])
    if (m["metric"] == "hbm_copy_gbps" && m["node"] == "gpu-a12-02" && m["gpu"] == 3) {
      moved = true;
      CHECK(m["worse"] == true);
      CHECK(m["change_pct"].get<double>() < -5);
    }
  CHECK(moved);
  CHECK(d.text.find("node gpu-a12-02 started failing") != std::string::npos);
  CHECK(d.json["racks"].size() == 1);
  // The same report against itself: nothing.
  DiffResult same = diff_reports(before, before, 5);
  CHECK_FALSE(same.regressed);
  CHECK(same.json["measurements"].empty());
  // And the way back is a fix, not a regression.
  DiffResult back = diff_reports(after, before, 5);
  CHECK(back.json["nodes_fixed"].size() >= 1);
}

TEST_CASE("JUnit: one test case per node and stage, failures where the checks failed, well-formed XML") {
  Report r = failing_rack();
  std::string xml = junit_xml(r);
  std::string path = tmp("junit.xml");
  std::ofstream(path) << xml;
  ProcessResult lint = run_process({"xmllint", "--noout", path});
  INFO(lint.stderr_text);
  REQUIRE_MESSAGE(lint.started, "xmllint (libxml2-utils) is required; scripts/setup installs it");
  CHECK(lint.ok());
  // XPath through xmllint: the failing stage of gpu-a12-02 is a <failure> naming the floor.
  ProcessResult q = run_process({"xmllint", "--xpath",
                                 "string(//testsuite[@name='node gpu-a12-02']/testcase[@name='burnin']/failure/@type)", path});
  CHECK(trim(q.stdout_text) == "floor.hbm_copy_gbps");
  ProcessResult skipped = run_process(
      {"xmllint", "--xpath", "count(//testsuite[@name='node gpu-a12-02']/testcase[@name='nccl_intra']/skipped)", path});
  CHECK(trim(skipped.stdout_text) == "1");
  ProcessResult cases = run_process({"xmllint", "--xpath", "count(//testsuite[@name='node gpu-a12-01']/testcase)", path});
  CHECK(trim(cases.stdout_text) == std::to_string(r.node("gpu-a12-01")->stages.size()));
  ProcessResult rack = run_process({"xmllint", "--xpath", "count(//testsuite[@name='rack a12']/testcase[@name='certified']/failure)", path});
  CHECK(trim(rack.stdout_text) == "1");
  CHECK(xml.find("<testsuites name=\"aicloudctl certify h100-sxm-8gpu\"") != std::string::npos);
  ::unlink(path.c_str());

  // Characters that XML forbids or escapes never break the document.
  Report odd = r;
  odd.nodes[0].reasons.push_back({Severity::fail, "x.y", "health", odd.nodes[0].name, std::nullopt, "", std::nullopt,
                                  std::nullopt, "", "a <b> & \"c\" 'd' \x01 end"});
  odd.nodes[0].stages[2].outcome = "FAIL";
  std::ofstream(path) << junit_xml(odd);
  CHECK(run_process({"xmllint", "--noout", path}).ok());
  ::unlink(path.c_str());
}

TEST_CASE("report show: verdict, the node x stage table, failing checks with numbers, worst measurements") {
  Report r = failing_rack();
  std::string text = render_summary(r);
  CHECK(text.find("Certification of rack a12: FAIL - not certified") != std::string::npos);
  CHECK(text.find("gpu-a12-02 FAIL") != std::string::npos);
  CHECK(text.find("floor.hbm_copy_gbps: GPU 3 HBM copy bandwidth (bytes read + written) 2500 GB/s is below the floor 2680 GB/s") !=
        std::string::npos);
  CHECK(text.find("recheck.ecc_corrected") != std::string::npos);
  CHECK(text.find("Worst measurements against their thresholds") != std::string::npos);
  CHECK(text.find("-6.7%") != std::string::npos);  // 2500 vs 2680
  CHECK(text.find("1 warning") != std::string::npos);
  nlohmann::json j = summary_json(r);
  CHECK(j["verdict"] == "FAIL");
  CHECK(j["certified"] == false);
  CHECK(j["nodes"].size() == 4);
  bool worst = false;
  for (const auto& w : j["worst"])
    if (w["metric"] == "hbm_copy_gbps") {
      worst = true;
      CHECK(w["value"] == 2500.0);
      CHECK(w["node"] == "gpu-a12-02");
    }
  CHECK(worst);
}
