// The stage table and the loop that runs it (see pipeline.hpp). Reads like
// the job it does: for each stage in order, skip the nodes an earlier stage
// stopped, run the rest in parallel, judge, checkpoint.
#include "certify/pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "certify/ingest.hpp"
#include "certify/judge.hpp"
#include "certify/stage_names.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"
#include "common/process.hpp"
#include "common/sha256.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"

namespace aicloud::certify {

using nlohmann::json;

// ---------------------------------------------------------------------------
// Executors
// ---------------------------------------------------------------------------

namespace {

CommandResult from_process(const ProcessResult& p, std::string command) {
  CommandResult c;
  c.started = p.started;
  c.exit_code = p.exit_code;
  c.exited = p.exited;
  c.signal = p.signal;
  c.timed_out = p.timed_out;
  c.interrupted = p.interrupted;
  c.stdout_text = p.stdout_text;
  c.stderr_text = p.stderr_text;
  c.error = p.error;
  c.command = std::move(command);
  return c;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "aicloudctl";
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

LocalExecutor::LocalExecutor(std::string tool) : m_tool(tool.empty() ? self_exe() : std::move(tool)) {}

CommandResult LocalExecutor::run_tool(const NodeRecord&, std::string_view, const std::vector<std::string>& args,
                                      Seconds timeout) {
  std::vector<std::string> argv = {m_tool};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions o;
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  o.stop_on_interrupt = true;
  o.extra_env["NO_COLOR"] = "1";
  return from_process(run_process(argv, o), "aicloudctl " + shell_join(args));
}

CommandResult LocalExecutor::run_shell(const NodeRecord&, std::string_view, const std::string& script, Seconds timeout) {
  ProcessOptions o;
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  o.stop_on_interrupt = true;
  return from_process(run_process({"/bin/sh", "-c", script}, o), "sh -c <node facts script>");
}

ReplayExecutor::ReplayExecutor(std::string dir) : m_dir(std::move(dir)) {}

CommandResult ReplayExecutor::read(const std::vector<std::string>& names, const std::string& command) const {
  CommandResult c;
  c.command = command;
  for (const auto& name : names) {
    std::string path = m_dir + "/" + name;
    if (!file_exists(path)) continue;
    try {
      c.stdout_text = read_text_file(path, 1ull << 30);
      c.started = c.exited = true;
      c.exit_code = 0;
      c.command = command + " (replayed from " + path + ")";
    } catch (const InputError& e) {
      c.error = format_diagnostic(e.diagnostics().front());
    }
    return c;
  }
  c.error = "no recorded output: none of " + join(names, ", ") + " in " + m_dir;
  return c;
}

CommandResult ReplayExecutor::run_tool(const NodeRecord&, std::string_view stage, const std::vector<std::string>& args,
                                       Seconds) {
  std::string cmd = "aicloudctl " + shell_join(args);
  if (stage == "recheck") return read({"recheck.json", "health.json"}, cmd);
  if (stage == "health") return read({"health.json"}, cmd);
  if (stage == "burnin") return read({"burnin.json"}, cmd);
  if (stage == "nccl_intra") return read({"nccl-intra.json", "nccl.json"}, cmd);
  return read({std::string(stage) + ".json"}, cmd);
}

CommandResult ReplayExecutor::run_shell(const NodeRecord&, std::string_view, const std::string&, Seconds) {
  return read({"facts.txt"}, "sh -c <node facts script>");
}

// ---------------------------------------------------------------------------
// Command lines
// ---------------------------------------------------------------------------

std::vector<std::string> health_args() { return {"health", "--json"}; }

std::vector<std::string> burnin_args(const Level& level) {
  return {"burnin", "--json", "--duration", format_duration(level.burnin.duration), "--tests",
          join(level.burnin.tests, ",")};
}

std::vector<std::string> nccl_intra_args(const Level& level) {
  std::string size = std::to_string(level.nccl.size_bytes);
  return {"nccl", "--json", "--gpus", "all", "-c", join(level.nccl.collectives, ","), "-b", size, "-e", size,
          "-n",   std::to_string(level.nccl.iters), "-w", std::to_string(level.nccl.warmup)};
}

// ---------------------------------------------------------------------------
// Stages
// ---------------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

struct Timer {
  StageRecord& rec;
  Clock::time_point t0 = Clock::now();
  explicit Timer(StageRecord& r) : rec(r) { rec.started_at = utc_now(); }
  ~Timer() {
    rec.ended_at = utc_now();
    rec.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
  }
};

std::string last_line(const std::string& text) {
  auto lines = split(text, '\n', false);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (!trim(*it).empty()) return std::string(trim(*it));
  return "";
}

// Why a command gave no result, in one line.
std::string failure_text(const CommandResult& c) {
  if (!c.error.empty()) return c.error;
  if (c.interrupted) return "interrupted";
  if (c.timed_out) return "timed out";
  std::string s;
  if (c.signal) s = "killed by signal " + std::to_string(c.signal);
  else if (c.exited) s = "exited " + std::to_string(c.exit_code) + " without a JSON result";
  std::string err = last_line(c.stderr_text);
  if (!err.empty()) s += ": " + err;
  return s;
}

// Runs a tool that prints one JSON document; fills the record's command,
// exit code and, when no JSON came back, status and detail.
std::optional<json> run_json(StageContext& ctx, const NodeRecord& node, StageRecord& rec,
                             const std::vector<std::string>& args, Seconds timeout) {
  CommandResult c = ctx.exec.run_tool(node, rec.stage, args, timeout);
  rec.command = c.command;
  if (c.exited) rec.exit_code = c.exit_code;
  if (c.interrupted) {
    rec.status = StageStatus::interrupted;
    rec.detail = "interrupted (Ctrl-C)";
    return std::nullopt;
  }
  if (c.unreachable) {
    rec.status = StageStatus::error;
    rec.detail = "unreachable: " + failure_text(c);
    return std::nullopt;
  }
  if (c.started && !c.timed_out && c.signal == 0) {
    try {
      json j = json::parse(c.stdout_text);
      if (j.is_object()) return j;
    } catch (const json::exception&) {
    }
  }
  rec.status = StageStatus::error;
  rec.detail = failure_text(c);
  if (c.timed_out) rec.detail = "timed out after " + format_duration(timeout) + (c.command.empty() ? "" : ": " + c.command);
  return std::nullopt;
}

json run_facts(StageContext& ctx, const NodeRecord& node, StageRecord& rec) {
  CommandResult c = ctx.exec.run_shell(node, rec.stage, node_facts_script(), Seconds(60));
  if (c.started && c.exited) return parse_node_facts(c.stdout_text);
  return nullptr;
}

// Records what an executor hook gave back; false when the stage ends there
// (the hook does not apply to this executor, or Ctrl-C stopped it).
bool record_hook(const NodeExecutor& exec, StageRecord& rec, const std::optional<CommandResult>& c) {
  if (!c) {
    rec.status = StageStatus::skipped;
    rec.detail = exec.not_applicable_reason();
    return false;
  }
  rec.command = c->command;
  if (c->exited) rec.exit_code = c->exit_code;
  if (c->interrupted) {
    rec.status = StageStatus::interrupted;
    rec.detail = "interrupted (Ctrl-C)";
    return false;
  }
  return true;
}

void optional_stage(StageContext& ctx, NodeRecord& node, StageRecord& rec,
                    std::optional<CommandResult> (NodeExecutor::*fn)(const NodeRecord&)) {
  Timer t(rec);
  std::optional<CommandResult> c = (ctx.exec.*fn)(node);
  if (!record_hook(ctx.exec, rec, c)) return;
  if (c->started && c->exited && c->exit_code == 0) {
    rec.status = StageStatus::done;
    rec.detail = last_line(c->stdout_text);
  } else {
    rec.status = StageStatus::error;
    rec.detail = (c->unreachable ? "unreachable: " : "") + failure_text(*c);
    rec.data = {{"unreachable", c->unreachable}};
  }
}

void stage_reachability(StageContext& ctx, NodeRecord& node, StageRecord& rec) {
  optional_stage(ctx, node, rec, &NodeExecutor::check_reachable);
}

void stage_deploy(StageContext& ctx, NodeRecord& node, StageRecord& rec) {
  optional_stage(ctx, node, rec, &NodeExecutor::deploy);
}

void health_like(StageContext& ctx, NodeRecord& node, StageRecord& rec) {
  Timer t(rec);
  json facts = run_facts(ctx, node, rec);
  if (interrupted()) {
    rec.status = StageStatus::interrupted;
    rec.detail = "interrupted (Ctrl-C)";
    return;
  }
  auto h = run_json(ctx, node, rec, health_args(), ctx.profile.timeout(rec.stage, Seconds(120)));
  rec.data = {{"facts", facts}, {"health", h ? *h : json(nullptr)}};
  if (rec.status == StageStatus::interrupted) return;
  if (h) {
    rec.status = StageStatus::done;
    rec.detail = "health " + h->value("verdict", std::string("?"));
  }
}

void stage_conformance(StageContext&, NodeRecord&, StageRecord& rec) {
  // Derived from the health results of the whole rack by the judge.
  Timer t(rec);
  rec.status = StageStatus::done;
  rec.detail = "checked against the profile and the rack";
}

void stage_burnin(StageContext& ctx, NodeRecord& node, StageRecord& rec) {
  Timer t(rec);
  Seconds timeout = ctx.level.burnin.duration + ctx.profile.timeout("burnin", Seconds(900));
  auto b = run_json(ctx, node, rec, burnin_args(ctx.level), timeout);
  if (!b) return;
  node.timeseries = burnin_timeseries(*b);
  rec.data = {{"burnin", burnin_without_series(*b)}};
  rec.status = StageStatus::done;
  rec.detail = "burnin " + b->value("verdict", std::string("?"));
}

void stage_nccl_intra(StageContext& ctx, NodeRecord& node, StageRecord& rec) {
  Timer t(rec);
  auto n = run_json(ctx, node, rec, nccl_intra_args(ctx.level), ctx.profile.timeout("nccl_intra", Seconds(900)));
  if (!n) return;
  rec.data = {{"nccl", *n}};
  rec.status = StageStatus::done;
  rec.detail = "nccl " + n->value("status", std::string("?"));
}

void stage_nccl_inter(StageContext& ctx, RackRecord& rack, StageRecord& rec, const std::vector<const NodeRecord*>& nodes) {
  Timer t(rec);
  if (rack.nodes.size() < 2) {
    rec.status = StageStatus::skipped;
    rec.detail = "one node in the rack: no inter-node fabric to test";
    return;
  }
  if (nodes.size() < 2) {
    rec.status = StageStatus::error;
    rec.detail = "fewer than 2 nodes passed the earlier stages";
    return;
  }
  std::vector<std::string> args = nccl_intra_args(ctx.level);
  std::optional<CommandResult> c =
      ctx.exec.run_rack_nccl(rack, nodes, args, ctx.profile.timeout("nccl_inter", Seconds(1800)));
  if (!record_hook(ctx.exec, rec, c)) return;
  try {
    json j = json::parse(c->stdout_text);
    rec.data = {{"nccl", j}, {"nodes", json::array()}};
    for (const auto* n : nodes) rec.data["nodes"].push_back(n->name);
    rec.status = StageStatus::done;
    rec.detail = "nccl " + j.value("status", std::string("?"));
  } catch (const json::exception&) {
    rec.status = StageStatus::error;
    rec.detail = failure_text(*c);
  }
}

const std::vector<StageDef> k_stages = {
    {"reachability", "SSH reachability and host keys", false, stage_reachability, nullptr},
    {"deploy", "aicloudctl deployed and checksum-verified", false, stage_deploy, nullptr},
    {"health", "GPU health preflight", false, health_like, nullptr},
    {"conformance", "inventory and profile conformance", false, stage_conformance, nullptr},
    {"burnin", "GPU burn-in", false, stage_burnin, nullptr},
    {"nccl_intra", "NCCL inside the node", false, stage_nccl_intra, nullptr},
    {"nccl_inter", "NCCL across the rack", true, nullptr, stage_nccl_inter},
    {"recheck", "error counters after the run", false, health_like, nullptr},
};

void checkpoint(const Report& r, const RunOptions& o) {
  if (!o.report_path.empty() && o.report_path != "-") write_report(r, o.report_path);
}

}  // namespace

const std::vector<StageDef>& stage_table() { return k_stages; }

Report new_report(const Profile& profile, const Level& level, std::vector<NodeRecord> nodes, const std::string& mode) {
  Report r;
  r.tool_version = tool_version();
  r.tool_build = tool_version_long();
  r.run.mode = mode;
  r.run.status = "running";
  r.run.started_at = utc_now();
  r.run.level = level.name;
  if (mode != "fleet") r.inventory.format = "local";
  std::random_device rd;
  r.run.id = sha256_hex(r.run.started_at + std::to_string(::getpid()) + std::to_string(rd()) + std::to_string(rd())).substr(0, 16);
  r.profile.name = profile.name;
  r.profile.sha256 = profile.sha256;
  r.profile.resolved = profile_to_json(profile);
  for (const auto& s : profile.sources) r.profile.sources.push_back({{"origin", s.origin}, {"sha256", s.sha256}});
  for (auto& n : nodes) {
    n.stages.clear();
    for (const auto& id : level.stages)
      if (!is_rack_stage(id)) n.stages.push_back(StageRecord{.stage = id});
    RackRecord* rack = r.rack(n.rack);
    if (!rack) {
      RackRecord k;
      k.name = n.rack;
      k.site = n.site;
      for (const auto& id : level.stages)
        if (is_rack_stage(id)) k.stages.push_back(StageRecord{.stage = id});
      r.racks.push_back(k);
      rack = &r.racks.back();
    }
    rack->nodes.push_back(n.name);
    r.nodes.push_back(std::move(n));
  }
  judge(r, profile);
  return r;
}

int run_pipeline(Report& r, const Profile& p, NodeExecutor& exec, const RunOptions& o) {
  const Level& level = p.level(r.run.level);
  StageContext ctx{r, p, level, exec};
  std::mutex done_mutex;
  auto done = [&](const std::string& node, const StageRecord& rec) {
    if (!o.on_stage_done) return;
    std::lock_guard<std::mutex> lock(done_mutex);
    o.on_stage_done(node, rec);
  };
  r.run.status = "running";
  r.run.ended_at.clear();
  judge(r, p);
  checkpoint(r, o);

  for (const StageDef& def : stage_table()) {
    if (!level.runs(def.id) || interrupted()) continue;
    if (def.rack_scope) {
      for (auto& rack : r.racks) {
        StageRecord* rec = rack.stage(def.id);
        if (!rec || rec->status != StageStatus::pending || interrupted()) continue;
        std::vector<const NodeRecord*> eligible;
        for (const auto& name : rack.nodes)
          if (const NodeRecord* n = r.node(name); n && !stage_blocked(*n, def.id)) eligible.push_back(n);
        if (o.on_stage_begin) o.on_stage_begin(def, eligible.size());
        def.run_rack(ctx, rack, *rec, eligible);
        done("", *rec);
      }
    } else {
      // Nodes an earlier stage stopped are recorded as skipped, with why.
      std::vector<NodeRecord*> todo;
      for (auto& n : r.nodes) {
        StageRecord* rec = n.stage(def.id);
        if (!rec || rec->status != StageStatus::pending) continue;
        if (auto why = stage_blocked(n, def.id)) {
          rec->status = StageStatus::skipped;
          rec->detail = "not run: " + *why;
          rec->data = {{"blocked_reason", *why}};
          done(n.name, *rec);
          continue;
        }
        todo.push_back(&n);
      }
      // The rest run in parallel, at most o.parallel at once.
      if (o.on_stage_begin && !todo.empty()) o.on_stage_begin(def, todo.size());
      std::atomic<std::size_t> next{0};
      auto worker = [&] {
        for (std::size_t i = next++; i < todo.size(); i = next++) {
          if (interrupted()) return;
          NodeRecord& n = *todo[i];
          StageRecord& rec = *n.stage(def.id);
          def.run_node(ctx, n, rec);
          done(n.name, rec);
        }
      };
      std::size_t threads = std::min<std::size_t>(todo.size(), static_cast<std::size_t>(std::max(1, o.parallel)));
      std::vector<std::thread> pool;
      for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
      worker();
      for (auto& t : pool) t.join();
    }
    judge(r, p);
    checkpoint(r, o);
  }
  r.run.status = interrupted() ? "interrupted" : "complete";
  r.run.ended_at = utc_now();
  judge(r, p);
  checkpoint(r, o);
  return r.summary.exit_code;
}

std::vector<std::string> plan_resume(Report& r) {
  std::vector<std::string> planned;
  auto reset = [](StageRecord& s) {
    StageRecord fresh;
    fresh.stage = s.stage;
    s = fresh;
  };
  std::set<std::string> touched_racks;
  for (auto& n : r.nodes) {
    bool from_here = false;
    for (auto& s : n.stages) {
      if (!from_here && (s.status == StageStatus::pending || s.status == StageStatus::error ||
                         s.status == StageStatus::interrupted))
        from_here = true;
      if (!from_here) continue;
      reset(s);
      planned.push_back(n.name + ":" + s.stage);
      touched_racks.insert(n.rack);
    }
  }
  for (auto& k : r.racks)
    for (auto& s : k.stages) {
      bool unfinished = s.status == StageStatus::pending || s.status == StageStatus::error ||
                        s.status == StageStatus::interrupted;
      if (unfinished || touched_racks.count(k.name)) {
        reset(s);
        planned.push_back("rack " + k.name + ":" + s.stage);
      }
    }
  if (!planned.empty()) {
    r.run.resumed_at.push_back(utc_now());
    r.run.status = "running";
    r.run.ended_at.clear();
  }
  return planned;
}

void check_resume_compatible(const Report& r, const Profile& p, const std::string& inventory_sha256) {
  auto short_sha = [](const std::string& s) { return s.substr(0, 12); };
  if (r.profile.sha256 != p.sha256)
    throw UsageError("--resume: the report was made with profile " + r.profile.name + " (sha256 " +
                     short_sha(r.profile.sha256) + "), but this profile is " + p.name + " (sha256 " + short_sha(p.sha256) +
                     "); resume with the same profile or start a new certification");
  if (r.inventory.sha256 != inventory_sha256)
    throw UsageError("--resume: the inventory changed since the report was made (sha256 " +
                     short_sha(r.inventory.sha256) + " then, " + short_sha(inventory_sha256) +
                     " now); start a new certification");
}

Profile unmatched_profile() {
  static const char* text = R"(profile: 1
name: auto
description: no shipped profile matches the GPUs found; nothing can be certified against it
gpu: {models: [], count: 0}
versions: {driver: any, cuda_driver: any, vbios: any}
health: {persistence_mode: any}
levels:
  quick: {description: health only, stages: [reachability, deploy, health, conformance, recheck]}
  standard: {description: health only, stages: [reachability, deploy, health, conformance, recheck]}
  burnin: {description: health only, stages: [reachability, deploy, health, conformance, recheck]}
default_level: quick
)";
  return parse_profile(text, "builtin:auto");
}

}  // namespace aicloud::certify
