// Report <-> JSON. Reading is strict about the fields the tools rely on
// (verdicts, stage records, node names) and lenient about evidence (`data`,
// `facts`, `timeseries` are kept as they are), so that a report written by
// this version is always readable and a damaged one is refused with the
// JSON pointer of the problem instead of being half-understood.
#include "certify/report.hpp"

#include <ctime>
#include <iostream>

#include "common/error.hpp"
#include "common/files.hpp"

namespace aicloud::certify {

using nlohmann::json;

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::fail: return "FAIL";
    case Verdict::incomplete: return "INCOMPLETE";
  }
  return "?";
}

Verdict worst(Verdict a, Verdict b) {
  if (a == Verdict::fail || b == Verdict::fail) return Verdict::fail;
  if (a == Verdict::incomplete || b == Verdict::incomplete) return Verdict::incomplete;
  return Verdict::pass;
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::warn: return "WARN";
    case Severity::fail: return "FAIL";
    case Severity::incomplete: return "INCOMPLETE";
  }
  return "?";
}

std::string_view to_string(StageStatus s) {
  switch (s) {
    case StageStatus::pending: return "pending";
    case StageStatus::done: return "done";
    case StageStatus::error: return "error";
    case StageStatus::interrupted: return "interrupted";
    case StageStatus::skipped: return "skipped";
  }
  return "?";
}

template <typename Records>
static auto* find_stage(Records& stages, std::string_view id) {
  for (auto& s : stages)
    if (s.stage == id) return &s;
  return static_cast<decltype(&stages[0])>(nullptr);
}

StageRecord* NodeRecord::stage(std::string_view id) { return find_stage(stages, id); }
const StageRecord* NodeRecord::stage(std::string_view id) const { return find_stage(stages, id); }
StageRecord* RackRecord::stage(std::string_view id) { return find_stage(stages, id); }
const StageRecord* RackRecord::stage(std::string_view id) const { return find_stage(stages, id); }

NodeRecord* Report::node(std::string_view name) {
  for (auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}
const NodeRecord* Report::node(std::string_view name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}
RackRecord* Report::rack(std::string_view name) {
  for (auto& r : racks)
    if (r.name == name) return &r;
  return nullptr;
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

json to_json(const Reason& r) {
  json j = {{"severity", to_string(r.severity)}, {"check", r.check}, {"stage", r.stage}, {"message", r.message}};
  if (!r.node.empty()) j["node"] = r.node;
  if (r.gpu) j["gpu"] = *r.gpu;
  if (!r.link.empty()) j["link"] = r.link;
  if (r.measured) j["measured"] = *r.measured;
  if (r.threshold) j["threshold"] = *r.threshold;
  if (!r.unit.empty()) j["unit"] = r.unit;
  return j;
}

json to_json(const Measurement& m) {
  json j = {{"metric", m.metric}, {"stage", m.stage}, {"value", m.value}};
  if (m.gpu) j["gpu"] = *m.gpu;
  if (!m.link.empty()) j["link"] = m.link;
  if (m.floor) j["threshold"] = *m.floor;
  if (m.fleet_median) j["fleet_median"] = *m.fleet_median;
  return j;
}

static json to_json(const StageRecord& s) {
  json j = {{"stage", s.stage},
            {"status", to_string(s.status)},
            {"outcome", s.outcome},
            {"started_at", s.started_at.empty() ? json(nullptr) : json(s.started_at)},
            {"ended_at", s.ended_at.empty() ? json(nullptr) : json(s.ended_at)},
            {"duration_s", s.duration_s},
            {"detail", s.detail},
            {"data", s.data}};
  if (!s.command.empty()) j["command"] = s.command;
  if (s.exit_code) j["exit_code"] = *s.exit_code;
  return j;
}

static json reasons_json(const std::vector<Reason>& rs) {
  json a = json::array();
  for (const auto& r : rs) a.push_back(to_json(r));
  return a;
}

json to_json(const Report& r) {
  json j;
  j["kind"] = k_report_kind;
  j["schema_version"] = r.schema_version;
  j["tool"] = {{"name", "aicloudctl"}, {"version", r.tool_version}, {"build", r.tool_build}};
  j["run"] = {{"id", r.run.id},
              {"mode", r.run.mode},
              {"status", r.run.status},
              {"started_at", r.run.started_at},
              {"ended_at", r.run.ended_at.empty() ? json(nullptr) : json(r.run.ended_at)},
              {"resumed_at", r.run.resumed_at},
              {"level", r.run.level},
              {"selector", r.run.selector},
              {"operator", r.run.operator_name},
              {"controller", r.run.controller},
              {"command_line", r.run.command_line}};
  j["inventory"] = {{"path", r.inventory.path.empty() ? json(nullptr) : json(r.inventory.path)},
                    {"sha256", r.inventory.sha256.empty() ? json(nullptr) : json(r.inventory.sha256)},
                    {"format", r.inventory.format}};
  j["profile"] = {{"name", r.profile.name},     {"sha256", r.profile.sha256},   {"spec", r.profile.spec},
                  {"note", r.profile.note},     {"sources", r.profile.sources}, {"resolved", r.profile.resolved}};
  json nodes = json::array();
  for (const auto& n : r.nodes) {
    json stages = json::array();
    for (const auto& s : n.stages) stages.push_back(to_json(s));
    json ms = json::array();
    for (const auto& m : n.measurements) ms.push_back(to_json(m));
    json gpus = json::array();
    for (const auto& g : n.gpus)
      gpus.push_back({{"index", g.index},
                      {"uuid", g.uuid},
                      {"name", g.name},
                      {"verdict", to_string(g.verdict)},
                      {"reasons", reasons_json(g.reasons)}});
    nodes.push_back({{"name", n.name},
                     {"address", n.address},
                     {"rack", n.rack},
                     {"site", n.site},
                     {"expected", {{"gpu_model", n.expected.gpu_model},
                                   {"gpu_count", n.expected.gpu_count},
                                   {"nics", n.expected.nics}}},
                     {"stages", stages},
                     {"facts", n.facts},
                     {"measurements", ms},
                     {"timeseries", n.timeseries},
                     {"verdict", to_string(n.verdict)},
                     {"reasons", reasons_json(n.reasons)},
                     {"gpus", gpus}});
  }
  j["nodes"] = nodes;
  json racks = json::array();
  for (const auto& k : r.racks) {
    json stages = json::array();
    for (const auto& s : k.stages) stages.push_back(to_json(s));
    json ms = json::array();
    for (const auto& m : k.measurements) ms.push_back(to_json(m));
    racks.push_back({{"name", k.name},
                     {"site", k.site},
                     {"nodes", k.nodes},
                     {"stages", stages},
                     {"measurements", ms},
                     {"verdict", to_string(k.verdict)},
                     {"certified", k.certified},
                     {"reasons", reasons_json(k.reasons)}});
  }
  j["racks"] = racks;
  j["summary"] = {{"verdict", to_string(r.summary.verdict)},
                  {"certified", r.summary.certified},
                  {"nodes", {{"total", r.summary.nodes_total},
                             {"pass", r.summary.nodes_pass},
                             {"fail", r.summary.nodes_fail},
                             {"incomplete", r.summary.nodes_incomplete}}},
                  {"unreachable", r.summary.unreachable},
                  {"exit_code", r.summary.exit_code}};
  return j;
}

void write_report(const Report& report, const std::string& path) {
  std::string text = to_json(report).dump(1) + "\n";
  if (path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  write_file_atomic(path, text);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

namespace {

class Reader {
 public:
  explicit Reader(std::string file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(const std::string& ptr, const std::string& msg) const {
    throw InputError(SourceLocation{m_file, 0, 0}, (ptr.empty() ? "/" : ptr) + ": " + msg);
  }

  const json& field(const json& obj, const std::string& ptr, const char* key) const {
    if (!obj.is_object()) fail(ptr, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(ptr, std::string("missing '") + key + "'");
    return *it;
  }

  std::string str(const json& obj, const std::string& ptr, const char* key, bool nullable = false) const {
    const json& v = field(obj, ptr, key);
    if (nullable && v.is_null()) return "";
    if (!v.is_string()) fail(ptr + "/" + key, "expected a string");
    return v.get<std::string>();
  }

  double num(const json& obj, const std::string& ptr, const char* key) const {
    const json& v = field(obj, ptr, key);
    if (!v.is_number()) fail(ptr + "/" + key, "expected a number");
    return v.get<double>();
  }

  int integer(const json& obj, const std::string& ptr, const char* key) const {
    const json& v = field(obj, ptr, key);
    if (!v.is_number_integer()) fail(ptr + "/" + key, "expected an integer");
    return v.get<int>();
  }

  bool boolean(const json& obj, const std::string& ptr, const char* key) const {
    const json& v = field(obj, ptr, key);
    if (!v.is_boolean()) fail(ptr + "/" + key, "expected true or false");
    return v.get<bool>();
  }

  const json& array(const json& obj, const std::string& ptr, const char* key) const {
    const json& v = field(obj, ptr, key);
    if (!v.is_array()) fail(ptr + "/" + key, "expected an array");
    return v;
  }

  std::vector<std::string> strings(const json& obj, const std::string& ptr, const char* key) const {
    std::vector<std::string> out;
    const json& a = array(obj, ptr, key);
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) fail(ptr + "/" + key + "/" + std::to_string(i), "expected a string");
      out.push_back(a[i].get<std::string>());
    }
    return out;
  }

  Verdict verdict(const json& obj, const std::string& ptr, const char* key = "verdict") const {
    std::string v = str(obj, ptr, key);
    if (v == "PASS") return Verdict::pass;
    if (v == "FAIL") return Verdict::fail;
    if (v == "INCOMPLETE") return Verdict::incomplete;
    fail(ptr + "/" + key, "'" + v + "' is not PASS, FAIL or INCOMPLETE");
  }

  Reason reason(const json& j, const std::string& ptr) const {
    Reason r;
    std::string sev = str(j, ptr, "severity");
    if (sev == "WARN") r.severity = Severity::warn;
    else if (sev == "FAIL") r.severity = Severity::fail;
    else if (sev == "INCOMPLETE") r.severity = Severity::incomplete;
    else fail(ptr + "/severity", "'" + sev + "' is not WARN, FAIL or INCOMPLETE");
    r.check = str(j, ptr, "check");
    r.stage = str(j, ptr, "stage");
    r.message = str(j, ptr, "message");
    if (j.contains("node")) r.node = str(j, ptr, "node");
    if (j.contains("gpu")) r.gpu = integer(j, ptr, "gpu");
    if (j.contains("link")) r.link = str(j, ptr, "link");
    if (j.contains("measured")) r.measured = num(j, ptr, "measured");
    if (j.contains("threshold")) r.threshold = num(j, ptr, "threshold");
    if (j.contains("unit")) r.unit = str(j, ptr, "unit");
    return r;
  }

  std::vector<Reason> reasons(const json& obj, const std::string& ptr) const {
    std::vector<Reason> out;
    const json& a = array(obj, ptr, "reasons");
    for (std::size_t i = 0; i < a.size(); ++i) out.push_back(reason(a[i], ptr + "/reasons/" + std::to_string(i)));
    return out;
  }

  Measurement measurement(const json& j, const std::string& ptr) const {
    Measurement m;
    m.metric = str(j, ptr, "metric");
    m.stage = str(j, ptr, "stage");
    m.value = num(j, ptr, "value");
    if (j.contains("gpu")) m.gpu = integer(j, ptr, "gpu");
    if (j.contains("link")) m.link = str(j, ptr, "link");
    if (j.contains("threshold")) m.floor = num(j, ptr, "threshold");
    if (j.contains("fleet_median")) m.fleet_median = num(j, ptr, "fleet_median");
    return m;
  }

  std::vector<Measurement> measurements(const json& obj, const std::string& ptr) const {
    std::vector<Measurement> out;
    const json& a = array(obj, ptr, "measurements");
    for (std::size_t i = 0; i < a.size(); ++i)
      out.push_back(measurement(a[i], ptr + "/measurements/" + std::to_string(i)));
    return out;
  }

  StageRecord stage(const json& j, const std::string& ptr) const {
    StageRecord s;
    s.stage = str(j, ptr, "stage");
    std::string st = str(j, ptr, "status");
    if (st == "pending") s.status = StageStatus::pending;
    else if (st == "done") s.status = StageStatus::done;
    else if (st == "error") s.status = StageStatus::error;
    else if (st == "interrupted") s.status = StageStatus::interrupted;
    else if (st == "skipped") s.status = StageStatus::skipped;
    else fail(ptr + "/status", "'" + st + "' is not pending, done, error, interrupted or skipped");
    s.outcome = str(j, ptr, "outcome");
    s.started_at = str(j, ptr, "started_at", true);
    s.ended_at = str(j, ptr, "ended_at", true);
    s.duration_s = num(j, ptr, "duration_s");
    s.detail = str(j, ptr, "detail");
    if (j.contains("command")) s.command = str(j, ptr, "command");
    if (j.contains("exit_code")) s.exit_code = integer(j, ptr, "exit_code");
    s.data = field(j, ptr, "data");
    return s;
  }

  std::vector<StageRecord> stages(const json& obj, const std::string& ptr) const {
    std::vector<StageRecord> out;
    const json& a = array(obj, ptr, "stages");
    for (std::size_t i = 0; i < a.size(); ++i) out.push_back(stage(a[i], ptr + "/stages/" + std::to_string(i)));
    return out;
  }

 private:
  std::string m_file;
};

SourceLocation byte_location(const std::string& text, std::size_t byte, const std::string& path) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < text.size() && i + 1 < byte; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {path, line, col};
}

}  // namespace

Report report_from_json_text(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    auto pos = what.find("syntax error");
    throw InputError(byte_location(text, e.byte, path),
                     "not valid JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
  }
  Reader in(path);
  if (!j.is_object()) in.fail("", "expected a JSON object (an aicloudctl certification report)");
  if (!j.contains("kind") || j["kind"] != k_report_kind)
    in.fail("/kind", std::string("not an aicloudctl certification report (expected kind '") + k_report_kind + "')");
  Report r;
  r.schema_version = in.integer(j, "", "schema_version");
  if (r.schema_version > k_report_schema_version)
    in.fail("/schema_version", "report schema " + std::to_string(r.schema_version) +
                                   " is newer than this aicloudctl reads (" + std::to_string(k_report_schema_version) +
                                   "); upgrade aicloudctl");
  if (r.schema_version < 1) in.fail("/schema_version", "must be at least 1");
  const json& tool = in.field(j, "", "tool");
  r.tool_version = in.str(tool, "/tool", "version");
  r.tool_build = in.str(tool, "/tool", "build");

  const json& run = in.field(j, "", "run");
  r.run.id = in.str(run, "/run", "id");
  r.run.mode = in.str(run, "/run", "mode");
  r.run.status = in.str(run, "/run", "status");
  r.run.started_at = in.str(run, "/run", "started_at");
  r.run.ended_at = in.str(run, "/run", "ended_at", true);
  r.run.resumed_at = in.strings(run, "/run", "resumed_at");
  r.run.level = in.str(run, "/run", "level");
  r.run.selector = in.str(run, "/run", "selector");
  r.run.operator_name = in.str(run, "/run", "operator");
  r.run.controller = in.str(run, "/run", "controller");
  r.run.command_line = in.strings(run, "/run", "command_line");

  const json& inv = in.field(j, "", "inventory");
  r.inventory.path = in.str(inv, "/inventory", "path", true);
  r.inventory.sha256 = in.str(inv, "/inventory", "sha256", true);
  r.inventory.format = in.str(inv, "/inventory", "format");

  const json& prof = in.field(j, "", "profile");
  r.profile.name = in.str(prof, "/profile", "name");
  r.profile.sha256 = in.str(prof, "/profile", "sha256");
  r.profile.spec = in.str(prof, "/profile", "spec");
  r.profile.note = in.str(prof, "/profile", "note");
  r.profile.sources = in.array(prof, "/profile", "sources");
  r.profile.resolved = in.field(prof, "/profile", "resolved");

  const json& nodes = in.array(j, "", "nodes");
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    std::string p = "/nodes/" + std::to_string(i);
    const json& nj = nodes[i];
    NodeRecord n;
    n.name = in.str(nj, p, "name");
    if (n.name.empty()) in.fail(p + "/name", "empty node name");
    if (r.node(n.name)) in.fail(p + "/name", "node '" + n.name + "' appears twice");
    n.address = in.str(nj, p, "address");
    n.rack = in.str(nj, p, "rack");
    n.site = in.str(nj, p, "site");
    const json& ex = in.field(nj, p, "expected");
    n.expected.gpu_model = in.str(ex, p + "/expected", "gpu_model");
    n.expected.gpu_count = in.integer(ex, p + "/expected", "gpu_count");
    n.expected.nics = in.strings(ex, p + "/expected", "nics");
    n.stages = in.stages(nj, p);
    n.facts = in.field(nj, p, "facts");
    n.measurements = in.measurements(nj, p);
    n.timeseries = in.field(nj, p, "timeseries");
    n.verdict = in.verdict(nj, p);
    n.reasons = in.reasons(nj, p);
    const json& gpus = in.array(nj, p, "gpus");
    for (std::size_t g = 0; g < gpus.size(); ++g) {
      std::string gp = p + "/gpus/" + std::to_string(g);
      GpuVerdict gv;
      gv.index = in.integer(gpus[g], gp, "index");
      gv.uuid = in.str(gpus[g], gp, "uuid");
      gv.name = in.str(gpus[g], gp, "name");
      gv.verdict = in.verdict(gpus[g], gp);
      gv.reasons = in.reasons(gpus[g], gp);
      n.gpus.push_back(gv);
    }
    r.nodes.push_back(std::move(n));
  }
  const json& racks = in.array(j, "", "racks");
  for (std::size_t i = 0; i < racks.size(); ++i) {
    std::string p = "/racks/" + std::to_string(i);
    const json& rj = racks[i];
    RackRecord k;
    k.name = in.str(rj, p, "name");
    k.site = in.str(rj, p, "site");
    k.nodes = in.strings(rj, p, "nodes");
    for (const auto& n : k.nodes)
      if (!r.node(n)) in.fail(p + "/nodes", "names node '" + n + "' that is not in /nodes");
    k.stages = in.stages(rj, p);
    k.measurements = in.measurements(rj, p);
    k.verdict = in.verdict(rj, p);
    k.certified = in.boolean(rj, p, "certified");
    k.reasons = in.reasons(rj, p);
    r.racks.push_back(std::move(k));
  }
  const json& s = in.field(j, "", "summary");
  r.summary.verdict = in.verdict(s, "/summary");
  r.summary.certified = in.boolean(s, "/summary", "certified");
  const json& counts = in.field(s, "/summary", "nodes");
  r.summary.nodes_total = in.integer(counts, "/summary/nodes", "total");
  r.summary.nodes_pass = in.integer(counts, "/summary/nodes", "pass");
  r.summary.nodes_fail = in.integer(counts, "/summary/nodes", "fail");
  r.summary.nodes_incomplete = in.integer(counts, "/summary/nodes", "incomplete");
  r.summary.unreachable = in.integer(s, "/summary", "unreachable");
  r.summary.exit_code = in.integer(s, "/summary", "exit_code");
  return r;
}

Report load_report(const std::string& path) {
  // Burn-in time series make long reports large: allow up to 1 GiB.
  return report_from_json_text(read_text_file(path, 1ull << 30), path);
}

}  // namespace aicloud::certify
