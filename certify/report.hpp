// The certification report: what ran where and when, the raw evidence each
// stage gathered, and the verdicts derived from it. It is the only state of
// a certification: the runner appends stage records and checkpoints the
// report atomically after every stage, the judge (judge.hpp) derives
// measurements and verdicts from it, `--resume` continues from it, and
// `report show|diff|sign|verify` read it. The JSON form is documented in
// docs/report.md and specified by docs/report.schema.json (draft 2020-12).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::certify {

constexpr int k_report_schema_version = 1;
constexpr const char* k_report_kind = "aicloudctl.certification";

enum class Verdict { pass, fail, incomplete };
std::string_view to_string(Verdict v);  // "PASS", "FAIL", "INCOMPLETE"
// FAIL outranks INCOMPLETE, which outranks PASS.
Verdict worst(Verdict a, Verdict b);

// What a reason does to the verdict of the thing it names.
enum class Severity { warn, fail, incomplete };
std::string_view to_string(Severity s);  // "WARN", "FAIL", "INCOMPLETE"

// One finding: the check that produced it, what was measured, against what.
struct Reason {
  Severity severity = Severity::fail;
  std::string check;     // "floor.gemm_bf16_tflops", "health.ecc_mode", "fleet.hbm_copy_gbps", ...
  std::string stage;     // the stage it belongs to
  std::string node;      // empty for a rack-level reason
  std::optional<int> gpu;
  std::string link;      // "gpu0-gpu1" or "nodeA~nodeB"
  std::optional<double> measured;
  std::optional<double> threshold;
  std::string unit;
  std::string message;   // a sentence with the numbers, for people
};

// One number a stage measured (metrics.hpp names it).
struct Measurement {
  std::string metric;
  std::string stage;
  std::optional<int> gpu;
  std::string link;
  double value = 0;
  std::optional<double> floor;         // or ceiling, from the profile
  std::optional<double> fleet_median;  // the rack median when the fleet rule applied
};

enum class StageStatus { pending, done, error, interrupted, skipped };
std::string_view to_string(StageStatus s);

// One stage on one node (or one rack). The runner fills status, times,
// command and data; the judge fills outcome.
struct StageRecord {
  std::string stage;
  StageStatus status = StageStatus::pending;
  std::string started_at;  // RFC 3339 UTC; empty before it ran
  std::string ended_at;
  double duration_s = 0;
  std::string detail;       // why skipped, what went wrong, or a one-line summary
  std::string command;      // what ran on the node, for the auditor
  std::optional<int> exit_code;
  nlohmann::json data;      // the evidence (node-side JSON), null when none
  std::string outcome = "PENDING";  // judged: PASS, FAIL, INCOMPLETE, SKIPPED, PENDING
};

struct GpuVerdict {
  int index = 0;
  std::string uuid;
  std::string name;
  Verdict verdict = Verdict::incomplete;
  std::vector<Reason> reasons;
};

// What the inventory says the node contains (checked by conformance).
struct Expected {
  std::string gpu_model;
  int gpu_count = 0;
  std::vector<std::string> nics;
};

struct NodeRecord {
  std::string name;
  std::string address;
  std::string rack;
  std::string site;
  Expected expected;
  std::vector<StageRecord> stages;  // the level's node stages, in pipeline order
  nlohmann::json timeseries;        // the burn-in 1-second series, null when none

  // Derived by the judge:
  nlohmann::json facts = nlohmann::json::object();
  std::vector<Measurement> measurements;
  Verdict verdict = Verdict::incomplete;
  std::vector<Reason> reasons;  // node-level and per-GPU (gpu set), warnings included
  std::vector<GpuVerdict> gpus;

  StageRecord* stage(std::string_view id);
  const StageRecord* stage(std::string_view id) const;
};

struct RackRecord {
  std::string name;
  std::string site;
  std::vector<std::string> nodes;
  std::vector<StageRecord> stages;  // rack-scoped stages (nccl_inter)

  // Derived by the judge:
  std::vector<Measurement> measurements;
  Verdict verdict = Verdict::incomplete;
  bool certified = false;
  std::vector<Reason> reasons;

  StageRecord* stage(std::string_view id);
  const StageRecord* stage(std::string_view id) const;
};

struct RunInfo {
  std::string id;               // unique per certification (kept across --resume)
  std::string mode;             // "local", "fleet", "replay"
  std::string status = "running";  // running, complete, interrupted, failed
  std::string started_at;
  std::string ended_at;
  std::vector<std::string> resumed_at;
  std::string level;
  std::string selector;         // --limit
  std::string operator_name;    // user@host that ran the controller
  std::string controller;       // hostname of the controller
  std::vector<std::string> command_line;
};

struct ProfileRef {
  std::string name;
  std::string sha256;           // of the resolved profile (profile.hpp)
  std::string spec;             // what --profile said ("auto" included)
  std::string note;             // e.g. why --profile auto found no match
  nlohmann::json sources = nlohmann::json::array();  // [{origin, sha256}]
  nlohmann::json resolved;      // profile_to_json()
};

struct InventoryRef {
  std::string path;             // empty in --local mode
  std::string sha256;
  std::string format;           // "native", "ansible", "local"
};

struct Summary {
  Verdict verdict = Verdict::incomplete;
  bool certified = false;
  int nodes_total = 0, nodes_pass = 0, nodes_fail = 0, nodes_incomplete = 0;
  int unreachable = 0;
  int exit_code = 1;
};

struct Report {
  int schema_version = k_report_schema_version;
  std::string tool_version;
  std::string tool_build;
  RunInfo run;
  InventoryRef inventory;
  ProfileRef profile;
  std::vector<NodeRecord> nodes;
  std::vector<RackRecord> racks;
  Summary summary;

  NodeRecord* node(std::string_view name);
  const NodeRecord* node(std::string_view name) const;
  RackRecord* rack(std::string_view name);
};

nlohmann::json to_json(const Report& report);
nlohmann::json to_json(const Reason& reason);
nlohmann::json to_json(const Measurement& m);

// Parses and checks a report: JSON syntax errors as FILE:LINE:COL, missing
// or mistyped fields as FILE: /json/pointer: message. Reports from a newer
// schema version are refused. Throws InputError.
Report report_from_json_text(const std::string& text, const std::string& path);
Report load_report(const std::string& path);

// Serialises and writes the report atomically (temporary file, fsync,
// rename): a reader never sees half a report, even on Ctrl-C or a crash
// between checkpoints. `path` "-" writes to stdout.
void write_report(const Report& report, const std::string& path);

// RFC 3339 UTC time, second precision: "2026-11-26T05:45:54Z".
std::string utc_now();

}  // namespace aicloud::certify
