// A rack of synthetic H100 nodes for the certify tests: every node starts
// from the recorded-shape fixtures in tests/fixtures/certify/ and a test
// changes what it needs (one GPU's bandwidth, a counter, an error). The
// TestExecutor is the pipeline's executor seam filled from those documents,
// as ninja's tests fake its CommandRunner.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "certify/pipeline.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"

namespace aicloud::certify::testing {

inline nlohmann::json fixture(const std::string& name) {
  return nlohmann::json::parse(read_text_file(std::string(AICLOUD_SOURCE_DIR) + "/tests/fixtures/certify/" + name));
}

inline std::string fixture_text(const std::string& name) {
  return read_text_file(std::string(AICLOUD_SOURCE_DIR) + "/tests/fixtures/certify/" + name);
}

struct NodeOutputs {
  nlohmann::json health = fixture("synthetic-h100-health-pass.json");
  nlohmann::json burnin = fixture("synthetic-h100-burnin-pass.json");
  nlohmann::json nccl = fixture("synthetic-h100-nccl-intra-pass.json");
  nlohmann::json recheck;  // null: same as health
  std::string facts = fixture_text("synthetic-h100-facts.txt");
  std::map<std::string, CommandResult> fail;  // stage -> what to return instead
};

class TestExecutor : public NodeExecutor {
 public:
  std::map<std::string, NodeOutputs> nodes;
  nlohmann::json inter = fixture("synthetic-h100-nccl-inter-4nodes-pass.json");
  std::map<std::string, int> calls;  // "node:stage" -> count
  std::function<void(const std::string& node, std::string_view stage)> before_run;  // e.g. request_interrupt()

  std::string mode() const override { return "replay"; }

  CommandResult run_tool(const NodeRecord& node, std::string_view stage, const std::vector<std::string>& args,
                         Seconds) override {
    calls[node.name + ":" + std::string(stage)]++;
    if (before_run) before_run(node.name, stage);
    CommandResult c;
    c.command = "aicloudctl " + args.at(0);
    if (interrupted()) {
      c.started = true;
      c.interrupted = true;
      return c;
    }
    NodeOutputs& o = nodes.at(node.name);
    if (auto it = o.fail.find(std::string(stage)); it != o.fail.end()) return it->second;
    nlohmann::json out = stage == "health"       ? o.health
                         : stage == "recheck"    ? (o.recheck.is_null() ? o.health : o.recheck)
                         : stage == "burnin"     ? o.burnin
                         : stage == "nccl_intra" ? o.nccl
                                                 : nlohmann::json();
    c.started = c.exited = true;
    c.exit_code = out.value("verdict", "") == "PASS" || out.value("status", "") == "ok" ? 0 : 1;
    c.stdout_text = out.dump();
    return c;
  }

  CommandResult run_shell(const NodeRecord& node, std::string_view, const std::string&, Seconds) override {
    CommandResult c;
    c.started = c.exited = true;
    c.exit_code = 0;
    c.stdout_text = nodes.at(node.name).facts;
    return c;
  }

  std::optional<CommandResult> run_rack_nccl(const RackRecord& rack, const std::vector<const NodeRecord*>&,
                                             const std::vector<std::string>&, Seconds) override {
    calls["rack " + rack.name + ":nccl_inter"]++;
    CommandResult c;
    c.started = c.exited = true;
    c.exit_code = 0;
    c.stdout_text = inter.dump();
    c.command = "aicloudctl nccl (rack)";
    return c;
  }
};

inline std::vector<NodeRecord> rack_nodes(int n, const std::string& rack = "a12") {
  std::vector<NodeRecord> out;
  for (int i = 1; i <= n; ++i) {
    NodeRecord r;
    r.name = "gpu-" + rack + "-0" + std::to_string(i);
    r.address = "10.0.12." + std::to_string(i);
    r.rack = rack;
    r.site = "phx1";
    r.expected.gpu_count = 8;
    r.expected.gpu_model = "H100-SXM";
    out.push_back(r);
  }
  return out;
}

// A rack of n nodes run through the real pipeline with `exec`.
inline Report run_rack(TestExecutor& exec, int n, const std::string& level = "quick",
                       const std::string& profile_name = "h100-sxm-8gpu") {
  Profile p = load_profile(profile_name);
  auto nodes = rack_nodes(n);
  for (const auto& node : nodes)
    if (!exec.nodes.count(node.name)) exec.nodes[node.name] = NodeOutputs{};
  Report r = new_report(p, p.level(level), nodes, exec.mode());
  RunOptions o;
  o.parallel = 3;
  run_pipeline(r, p, exec, o);
  return r;
}

// The test `name` ("gemm-bf16", "hbm", "telemetry") of GPU `gpu` in a burnin document.
inline nlohmann::json& burnin_test(nlohmann::json& burnin, int gpu, const std::string& name) {
  for (auto& t : burnin["gpus"][gpu]["tests"])
    if (t["name"] == name) return t;
  throw std::runtime_error("no test " + name);
}

// The result row of `collective` at `size` in an nccl document.
inline nlohmann::json& nccl_row(nlohmann::json& nccl, const std::string& collective, std::uint64_t size) {
  for (auto& t : nccl["tests"])
    if (t["collective"] == collective)
      for (auto& r : t["results"])
        if (r["size"] == size) return r;
  throw std::runtime_error("no row " + collective);
}

inline const Reason* find_reason(const std::vector<Reason>& rs, const std::string& check) {
  for (const auto& r : rs)
    if (r.check == check) return &r;
  return nullptr;
}

}  // namespace aicloud::certify::testing
