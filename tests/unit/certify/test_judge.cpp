// Verdict rules on a synthetic 4-node H100 rack run through the real
// pipeline: floors, fleet-relative margins, missing data, health gates,
// counters, conformance, inter-node NCCL, result hashes. Each test changes
// one thing in an otherwise healthy rack and checks the exact reason.
#include <doctest/doctest.h>

#include "certify/judge.hpp"
#include "rack_fixture.hpp"

using namespace aicloud;
using namespace aicloud::certify;
using namespace aicloud::certify::testing;

TEST_CASE("a healthy 4-node rack is certified, with every stage recorded") {
  TestExecutor exec;
  Report r = run_rack(exec, 4);
  CHECK(r.summary.verdict == Verdict::pass);
  CHECK(r.summary.certified);
  CHECK(r.summary.exit_code == 0);
  CHECK(r.run.status == "complete");
  REQUIRE(r.racks.size() == 1);
  CHECK(r.racks[0].certified);
  for (const auto& n : r.nodes) {
    CAPTURE(n.name);
    CHECK(n.verdict == Verdict::pass);
    CHECK(n.gpus.size() == 8);
    for (const auto& s : n.stages) {
      CAPTURE(s.stage);
      CHECK((s.outcome == "PASS" || s.outcome == "SKIPPED"));
      if (s.outcome == "PASS") {
        CHECK_FALSE(s.started_at.empty());
        CHECK_FALSE(s.ended_at.empty());
      }
    }
    CHECK(n.stage("health")->outcome == "PASS");
    CHECK(n.stage("reachability")->outcome == "SKIPPED");  // the test executor has no SSH
    CHECK(!n.measurements.empty());
    CHECK(n.timeseries.is_object());
    CHECK(!n.stage("burnin")->data["burnin"].contains("timeseries"));  // moved, not duplicated
  }
  // The rack stage ran once with every node, and its figures are judged.
  CHECK(exec.calls["rack a12:nccl_inter"] == 1);
  CHECK(r.racks[0].stage("nccl_inter")->outcome == "PASS");
  bool inter = false;
  for (const auto& m : r.racks[0].measurements)
    if (m.metric == "nccl_inter_all_reduce_busbw_gbps") {
      inter = true;
      CHECK(m.value == doctest::Approx(372.0 * 0.998).epsilon(0.01));
      CHECK(m.floor == 340);
    }
  CHECK(inter);
}

TEST_CASE("a GPU below its floor fails with the check, the value and the threshold, and stops the node") {
  TestExecutor exec;
  exec.nodes["gpu-a12-02"] = NodeOutputs{};
  burnin_test(exec.nodes["gpu-a12-02"].burnin, 3, "hbm")["result"]["copy_gbps"] = 2500.0;
  Report r = run_rack(exec, 4);
  const NodeRecord* n = r.node("gpu-a12-02");
  REQUIRE(n);
  CHECK(n->verdict == Verdict::fail);
  const Reason* x = find_reason(n->reasons, "floor.hbm_copy_gbps");
  REQUIRE(x);
  CHECK(x->gpu == 3);
  CHECK(x->measured == 2500.0);
  CHECK(x->threshold == 2680.0);
  CHECK(x->unit == "GB/s");
  CHECK(x->stage == "burnin");
  CHECK(x->message.find("2500 GB/s is below the floor 2680 GB/s") != std::string::npos);
  CHECK(n->stage("burnin")->outcome == "FAIL");
  // Not sent to later stages, and the record says why.
  CHECK(n->stage("nccl_intra")->status == StageStatus::skipped);
  CHECK(n->stage("nccl_intra")->detail.find("not run: the node failed burnin") != std::string::npos);
  CHECK(n->stage("recheck")->status == StageStatus::skipped);
  CHECK(exec.calls["gpu-a12-02:nccl_intra"] == 0);
  CHECK(exec.calls["gpu-a12-01:nccl_intra"] == 1);
  // Per GPU: only GPU 3 fails.
  for (const auto& g : n->gpus) CHECK(g.verdict == (g.index == 3 ? Verdict::fail : Verdict::pass));
  // Other nodes pass; the rack is not certified and says which node.
  CHECK(r.node("gpu-a12-01")->verdict == Verdict::pass);
  CHECK_FALSE(r.racks[0].certified);
  const Reason* rack = find_reason(r.racks[0].reasons, "rack.node");
  REQUIRE(rack);
  CHECK(rack->node == "gpu-a12-02");
  CHECK(r.summary.exit_code == 1);
  // The rack stage ran with the three healthy nodes only.
  CHECK(r.racks[0].stage("nccl_inter")->data["nodes"].size() == 3);
}

TEST_CASE("fleet rule: a GPU above its floor but more than the margin below the rack median fails") {
  TestExecutor exec;
  exec.nodes["gpu-a12-03"] = NodeOutputs{};
  burnin_test(exec.nodes["gpu-a12-03"].burnin, 0, "gemm-bf16")["result"]["tflops"] = 720.0;  // floor 690, median ~782
  Report r = run_rack(exec, 4);
  const NodeRecord* n = r.node("gpu-a12-03");
  CHECK(find_reason(n->reasons, "floor.gemm_bf16_tflops") == nullptr);
  const Reason* x = find_reason(n->reasons, "fleet.gemm_bf16_tflops");
  REQUIRE(x);
  CHECK(x->gpu == 0);
  CHECK(x->measured == 720.0);
  CHECK(*x->threshold == doctest::Approx(782.0 * 0.95).epsilon(0.01));
  CHECK(x->message.find("below the rack median") != std::string::npos);
  CHECK(x->message.find("32 samples") != std::string::npos);
  CHECK(n->verdict == Verdict::fail);
  // Within the margin: nothing.
  TestExecutor ok;
  ok.nodes["gpu-a12-03"] = NodeOutputs{};
  burnin_test(ok.nodes["gpu-a12-03"].burnin, 0, "gemm-bf16")["result"]["tflops"] = 760.0;
  Report r2 = run_rack(ok, 4);
  CHECK(r2.node("gpu-a12-03")->verdict == Verdict::pass);
  for (const auto& m : r2.node("gpu-a12-03")->measurements)
    if (m.metric == "gemm_bf16_tflops") CHECK(m.fleet_median.has_value());
}

TEST_CASE("missing data is INCOMPLETE, never PASS") {
  SUBCASE("a test the level asked for is absent") {
    TestExecutor exec;
    exec.nodes["gpu-a12-01"] = NodeOutputs{};
    auto& tests = exec.nodes["gpu-a12-01"].burnin["gpus"][5]["tests"];
    tests.erase(std::remove_if(tests.begin(), tests.end(), [](const nlohmann::json& t) { return t["name"] == "hbm"; }),
                tests.end());
    Report r = run_rack(exec, 2);
    const NodeRecord* n = r.node("gpu-a12-01");
    CHECK(n->verdict == Verdict::incomplete);
    const Reason* x = find_reason(n->reasons, "burnin.hbm");
    REQUIRE(x);
    CHECK(x->severity == Severity::incomplete);
    CHECK(x->gpu == 5);
    CHECK(r.summary.verdict == Verdict::incomplete);
    CHECK_FALSE(r.summary.certified);
    CHECK(r.summary.exit_code == 1);
  }
  SUBCASE("a GPU is missing from the burn-in") {
    TestExecutor exec;
    exec.nodes["gpu-a12-01"] = NodeOutputs{};
    exec.nodes["gpu-a12-01"].burnin["gpus"].erase(7);
    Report r = run_rack(exec, 2);
    CHECK(find_reason(r.node("gpu-a12-01")->reasons, "burnin.gpu_missing"));
    CHECK(r.node("gpu-a12-01")->verdict == Verdict::incomplete);
  }
  SUBCASE("the tool crashed without output") {
    TestExecutor exec;
    exec.nodes["gpu-a12-02"] = NodeOutputs{};
    CommandResult crash;
    crash.started = true;
    crash.signal = 11;
    crash.stderr_text = "Segmentation fault";
    exec.nodes["gpu-a12-02"].fail["burnin"] = crash;
    Report r = run_rack(exec, 2);
    const NodeRecord* n = r.node("gpu-a12-02");
    CHECK(n->stage("burnin")->status == StageStatus::error);
    CHECK(n->stage("burnin")->detail.find("killed by signal 11") != std::string::npos);
    CHECK(n->stage("burnin")->outcome == "INCOMPLETE");
    CHECK(n->verdict == Verdict::incomplete);
    CHECK(n->stage("nccl_intra")->status == StageStatus::skipped);
    for (const auto& g : n->gpus) CHECK(g.verdict == Verdict::incomplete);  // no GPU PASSes without its burn-in
  }
  SUBCASE("NCCL did not measure the certification size") {
    TestExecutor exec;
    exec.nodes["gpu-a12-01"] = NodeOutputs{};
    for (auto& t : exec.nodes["gpu-a12-01"].nccl["tests"]) {
      auto& res = t["results"];
      res.erase(std::remove_if(res.begin(), res.end(), [](const nlohmann::json& x) { return x["size"] == (16ll << 30); }),
                res.end());
    }
    Report r = run_rack(exec, 2);
    const Reason* x = find_reason(r.node("gpu-a12-01")->reasons, "nccl_intra.all_reduce");
    REQUIRE(x);
    CHECK(x->severity == Severity::incomplete);
    CHECK(x->message.find("16.0 GiB") != std::string::npos);
  }
  SUBCASE("a stage that never ran") {
    Profile p = load_profile("h100-sxm-8gpu");
    Report r = new_report(p, p.level("quick"), rack_nodes(1), "replay");
    CHECK(r.summary.verdict == Verdict::incomplete);
    CHECK(find_reason(r.nodes[0].reasons, "stage.health"));
  }
}

TEST_CASE("health findings and profile rules fail the node at the gate") {
  TestExecutor exec;
  auto& h = exec.nodes["gpu-a12-01"].health;
  h["verdict"] = "FAIL";
  h["xid"]["events"] = {{{"xid", 79}, {"nvswitch", false}, {"pci_bus_id", "0000:3a:00"}, {"class", "hardware"},
                         {"description", "GPU has fallen off the bus"}, {"time_s", 1234.5},
                         {"message", "NVRM: Xid (PCI:0000:3a:00): 79, GPU has fallen off the bus."}}};
  h["findings"].push_back({{"check", "xid"}, {"verdict", "FAIL"}, {"gpu", 2}, {"reason", "XID 79 in the kernel log"},
                           {"remediation", "reseat or replace the GPU"}});
  auto& g5 = exec.nodes["gpu-a12-02"].health["gpus"][5];
  g5["row_remap"]["pending"] = true;
  g5["ecc_mode"]["current"] = false;
  g5["pcie"]["width"] = 8;
  g5["nvlink"][3]["active"] = false;
  g5["clock_event_reasons"]["active"] = {"hw_slowdown"};
  exec.nodes["gpu-a12-03"].health["gpus"][1]["mig_mode"]["current"] = true;
  exec.nodes["gpu-a12-03"].health["gpus"][1]["persistence_mode"] = false;
  exec.nodes["gpu-a12-04"] = NodeOutputs{};
  Report r = run_rack(exec, 4);

  const NodeRecord* n1 = r.node("gpu-a12-01");
  CHECK(n1->verdict == Verdict::fail);
  const Reason* xid = find_reason(n1->reasons, "profile.xid");
  REQUIRE(xid);
  CHECK(xid->gpu == 2);
  CHECK(xid->message.find("fallen off the bus") != std::string::npos);
  const Reason* finding = find_reason(n1->reasons, "health.xid");  // health's own finding, kept as it said it
  REQUIRE(finding);
  CHECK(finding->message.find("(remediation: reseat or replace the GPU)") != std::string::npos);
  for (const char* later : {"conformance", "burnin", "nccl_intra", "recheck"}) {
    CAPTURE(later);
    CHECK(n1->stage(later)->status == StageStatus::skipped);
    CHECK(n1->stage(later)->detail.find("the node failed health") != std::string::npos);
  }
  CHECK(exec.calls["gpu-a12-01:burnin"] == 0);

  const NodeRecord* n2 = r.node("gpu-a12-02");
  for (const char* check : {"profile.row_remap_pending", "profile.ecc_mode", "profile.pcie_width", "profile.nvlink",
                            "profile.clock_events"}) {
    CAPTURE(check);
    const Reason* x = find_reason(n2->reasons, check);
    REQUIRE(x);
    CHECK(x->gpu == 5);
    CHECK(x->severity == Severity::fail);
  }
  CHECK(find_reason(n2->reasons, "profile.pcie_width")->measured == 8);
  CHECK(find_reason(n2->reasons, "profile.nvlink")->message.find("17 of 18") != std::string::npos);

  const NodeRecord* n3 = r.node("gpu-a12-03");
  CHECK(find_reason(n3->reasons, "profile.mig_mode"));
  const Reason* pm = find_reason(n3->reasons, "profile.persistence_mode");
  REQUIRE(pm);
  CHECK(pm->severity == Severity::warn);  // the profile says warn

  CHECK(r.node("gpu-a12-04")->verdict == Verdict::pass);
  // Fewer than two nodes passed: the inter-node stage cannot certify anything.
  CHECK(r.racks[0].stage("nccl_inter")->outcome == "INCOMPLETE");
  CHECK(r.summary.verdict == Verdict::fail);
}

TEST_CASE("no NVIDIA driver: the node facts turn a missing health result into a clear FAIL") {
  TestExecutor exec;
  auto& o = exec.nodes["gpu-a12-01"];
  CommandResult none;
  none.started = none.exited = true;
  none.exit_code = 1;
  none.stderr_text = "aicloudctl: error: 'health' is not available in this build yet\n";
  o.fail["health"] = none;
  o.facts = fixture_text("synthetic-no-gpu-facts.txt");
  exec.nodes["gpu-a12-02"].fail["health"] = none;  // module and NVML present: INCOMPLETE
  exec.nodes["gpu-a12-03"].health = fixture("synthetic-health-no-driver.json");  // health itself says why
  exec.nodes["gpu-a12-03"].facts = fixture_text("synthetic-no-gpu-facts.txt");
  Report r = run_rack(exec, 3);
  const Reason* drv = find_reason(r.node("gpu-a12-01")->reasons, "health.driver");
  REQUIRE(drv);
  CHECK(drv->message.find("no NVIDIA driver") != std::string::npos);
  CHECK(r.node("gpu-a12-01")->verdict == Verdict::fail);
  const Reason* out = find_reason(r.node("gpu-a12-02")->reasons, "health.output");
  REQUIRE(out);
  CHECK(out->severity == Severity::incomplete);
  CHECK(out->message.find("not available in this build") != std::string::npos);
  const Reason* nvml = find_reason(r.node("gpu-a12-03")->reasons, "health.nvml");
  REQUIRE(nvml);
  CHECK(nvml->message.find("libnvidia-ml.so.1") != std::string::npos);
  CHECK(r.node("gpu-a12-03")->stage("health")->outcome == "FAIL");
  CHECK(r.summary.verdict == Verdict::fail);
}

TEST_CASE("an error counter that moved during the run fails the recheck and the rack") {
  TestExecutor exec;
  auto& o = exec.nodes["gpu-a12-02"];
  o.recheck = o.health;
  o.recheck["gpus"][6]["ecc_errors"]["volatile"]["uncorrected"] = 1;
  o.recheck["gpus"][6]["ecc_errors"]["aggregate"]["uncorrected"] = 1;
  o.recheck["gpus"][4]["pcie"]["replay_counter"] = 12;
  o.recheck["gpus"][0]["nvlink"][7]["errors"]["crc_flit"] = 3;
  o.recheck["gpus"].erase(2);  // a GPU gone
  o.recheck["xid"]["events"] = {{{"xid", 94}, {"pci_bus_id", "0000:ba:00"}, {"class", "hardware"}, {"time_s", 5021.0},
                                 {"description", "contained ECC error"}, {"message", "NVRM: Xid (PCI:0000:ba:00): 94"}}};
  Report r = run_rack(exec, 4);
  const NodeRecord* n = r.node("gpu-a12-02");
  CHECK(n->stage("recheck")->outcome == "FAIL");
  const Reason* ecc = find_reason(n->reasons, "recheck.ecc_uncorrected");
  REQUIRE(ecc);
  CHECK(ecc->gpu == 6);
  CHECK(ecc->measured == 1);
  CHECK(ecc->threshold == 0);
  CHECK(find_reason(n->reasons, "recheck.pcie_replay")->measured == 12);
  CHECK(find_reason(n->reasons, "recheck.nvlink_errors")->gpu == 0);
  CHECK(find_reason(n->reasons, "recheck.gpu_lost")->gpu == 2);
  const Reason* xid = find_reason(n->reasons, "recheck.xid");
  REQUIRE(xid);
  CHECK(xid->gpu == 6);
  CHECK(xid->message.find("XID 94") != std::string::npos);
  CHECK_FALSE(r.racks[0].certified);
  // The corrected-ECC counter of GPU 5 (2 before, 2 after) did not move: no reason.
  for (const auto& x : n->reasons) CHECK_FALSE((x.check == "recheck.ecc_corrected" && x.gpu == 5));
}

TEST_CASE("conformance: GPU count and model, memory, the rack's driver majority, NICs") {
  TestExecutor exec;
  exec.nodes["gpu-a12-01"].health["versions"]["driver"] = "550.90.07";
  exec.nodes["gpu-a12-02"].health["gpus"].erase(7);
  exec.nodes["gpu-a12-03"].health["gpus"][4]["name"] = "NVIDIA H100 PCIe";
  exec.nodes["gpu-a12-03"].health["gpus"][4]["memory_bytes"]["total"] = 40000ll << 20;
  exec.nodes["gpu-a12-04"].health["gpus"][0]["vbios"] = "96.00.74.00.0B";
  std::string facts = exec.nodes["gpu-a12-04"].facts = fixture_text("synthetic-h100-facts.txt");
  auto pos = facts.find("mlx5_7\t1\t4: ACTIVE");
  REQUIRE(pos != std::string::npos);
  exec.nodes["gpu-a12-04"].facts = facts.replace(pos, 18, "mlx5_7\t1\t1: DOWN  ");
  exec.nodes["gpu-a12-05"] = NodeOutputs{};
  Report r = run_rack(exec, 5);
  const Reason* drv = find_reason(r.node("gpu-a12-01")->reasons, "conformance.driver");
  REQUIRE(drv);
  CHECK(drv->message == "driver 550.90.07 differs from 570.133.20 on 4 nodes of the rack");
  const Reason* count = find_reason(r.node("gpu-a12-02")->reasons, "conformance.gpu_count");
  REQUIRE(count);
  CHECK(count->measured == 7);
  CHECK(count->threshold == 8);
  CHECK(find_reason(r.node("gpu-a12-03")->reasons, "conformance.gpu_model")->gpu == 4);
  CHECK(find_reason(r.node("gpu-a12-03")->reasons, "conformance.memory")->measured == 40000);
  CHECK(find_reason(r.node("gpu-a12-04")->reasons, "conformance.vbios")->gpu == 0);
  const Reason* net = find_reason(r.node("gpu-a12-04")->reasons, "conformance.network");
  REQUIRE(net);
  CHECK(net->measured == 7);
  CHECK(net->message.find("mlx5_7/1 DOWN") != std::string::npos);
  CHECK(r.node("gpu-a12-05")->verdict == Verdict::pass);
  for (int i = 1; i <= 4; ++i) {
    const NodeRecord* n = r.node("gpu-a12-0" + std::to_string(i));
    CHECK(n->stage("conformance")->outcome == "FAIL");
    CHECK(n->stage("burnin")->status == StageStatus::skipped);
  }
}

TEST_CASE("inter-node NCCL below the floor keeps a rack of passing nodes uncertified, localisation names a node") {
  TestExecutor exec;
  nccl_row(exec.inter, "all_reduce", 16ull << 30)["in_place"]["busbw_gbps"] = 301.5;
  exec.inter["localization"]["suspects"] = {{{"node", "gpu-a12-03"}, {"rail", "mlx5_3"}, {"reason", "every pair with gpu-a12-03 at 188 GB/s"}}};
  exec.inter["localization"]["pairs"][2]["busbw_gbps"] = 188.0;
  Report r = run_rack(exec, 4);
  const RackRecord& k = r.racks[0];
  CHECK_FALSE(k.certified);
  CHECK(k.verdict == Verdict::fail);
  const Reason* floor = find_reason(k.reasons, "floor.nccl_inter_all_reduce_busbw_gbps");
  REQUIRE(floor);
  CHECK(floor->measured == 301.5);  // the lower of in-place and out-of-place
  CHECK(floor->threshold == 340);
  CHECK(find_reason(k.reasons, "floor.nccl_pair_busbw_gbps"));
  const Reason* sus = find_reason(r.node("gpu-a12-03")->reasons, "nccl_inter.suspect");
  REQUIRE(sus);
  CHECK(sus->message.find("rail mlx5_3") != std::string::npos);
  CHECK(r.node("gpu-a12-01")->verdict == Verdict::pass);
}

TEST_CASE("GEMM result hashes must agree across the rack (silent data corruption)") {
  TestExecutor exec;
  burnin_test(exec.nodes["gpu-a12-02"].burnin, 6, "gemm-bf16")["result"]["result_hash"] = "deadbeef00";
  Report r = run_rack(exec, 3);
  const Reason* x = find_reason(r.node("gpu-a12-02")->reasons, "burnin.gemm_bf16.hash");
  REQUIRE(x);
  CHECK(x->gpu == 6);
  CHECK(x->message.find("23 of 24 GPUs") != std::string::npos);
  CHECK(r.node("gpu-a12-01")->verdict == Verdict::pass);
}

TEST_CASE("burn-in verdicts, wrong results, bit errors and throttling fail with their numbers") {
  TestExecutor exec;
  auto& b = exec.nodes["gpu-a12-01"].burnin;
  burnin_test(b, 1, "gemm-bf16")["result"]["wrong_results"] = 3;
  burnin_test(b, 2, "memtest")["result"]["bit_errors"] = 17;
  burnin_test(b, 3, "telemetry")["result"]["clock_event_reasons_seen"].push_back("hw_thermal");
  burnin_test(b, 4, "telemetry")["result"]["max_power_w"] = 520.0;
  auto& t = burnin_test(b, 5, "pcie");
  t["verdict"] = "FAIL";
  t["reasons"] = {"H2D 21.3 GB/s: link trained at Gen4 under load"};
  Report r = run_rack(exec, 1);
  const auto& rs = r.node("gpu-a12-01")->reasons;
  CHECK(find_reason(rs, "burnin.gemm_bf16.wrong_results")->measured == 3);
  CHECK(find_reason(rs, "burnin.memtest.bit_errors")->measured == 17);
  CHECK(find_reason(rs, "burnin.clock_events")->message.find("hw_thermal") != std::string::npos);
  const Reason* pw = find_reason(rs, "floor.power_fraction");
  REQUIRE(pw);
  CHECK(*pw->measured == doctest::Approx(520.0 / 700.0));
  CHECK(find_reason(rs, "burnin.pcie")->message.find("Gen4 under load") != std::string::npos);
  CHECK(r.summary.verdict == Verdict::fail);
}

TEST_CASE("a one-node rack is certified without an inter-node stage") {
  TestExecutor exec;
  Report r = run_rack(exec, 1);
  CHECK(r.racks[0].stage("nccl_inter")->status == StageStatus::skipped);
  CHECK(r.racks[0].stage("nccl_inter")->detail.find("one node") != std::string::npos);
  CHECK(r.summary.certified);
  CHECK(exec.calls["rack a12:nccl_inter"] == 0);
}

TEST_CASE("judge is idempotent and stage_blocked explains the gate") {
  TestExecutor exec;
  burnin_test(exec.nodes["gpu-a12-01"].burnin, 0, "hbm")["result"]["copy_gbps"] = 100.0;
  Report r = run_rack(exec, 2);
  Profile p = load_profile("h100-sxm-8gpu");
  std::string before = to_json(r).dump();
  judge(r, p);
  judge(r, p);
  CHECK(to_json(r).dump() == before);
  auto why = stage_blocked(*r.node("gpu-a12-01"), "recheck");
  REQUIRE(why);
  CHECK(why->find("the node failed burnin") != std::string::npos);
  CHECK_FALSE(stage_blocked(*r.node("gpu-a12-02"), "recheck"));
}

TEST_CASE("format_value and xid_name") {
  CHECK(format_value(612.34) == "612.34");
  CHECK(format_value(2411.5) == "2411.5");
  CHECK(format_value(0.995857) == "0.99586");
  CHECK(format_value(2680) == "2680");
  CHECK(format_value(0.85) == "0.85");
  CHECK(format_value(20000000) == "20000000");
  CHECK(xid_name(79) == "GPU has fallen off the bus");
  CHECK(xid_name(13).empty());
}
