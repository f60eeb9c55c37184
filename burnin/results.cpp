// JSON forms of the test results (see results.hpp). 64-bit words that are
// bit patterns (addresses, memory words, hashes) travel as hex strings so
// that no JSON reader rounds them through a double.
#include "burnin/results.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

namespace aicloud::burnin {

using nlohmann::json;

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

namespace {

std::uint64_t unhex(const json& j) {
  if (j.is_string()) return std::strtoull(j.get<std::string>().c_str(), nullptr, 16);
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  return 0;
}

template <typename T>
void get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) out = it->get<T>();
}

void outcome_to(json& j, const TestOutcome& o) {
  j["ran"] = o.ran;
  j["waived"] = o.waived;
  j["error"] = o.error;
  j["error_kind"] = o.error_kind;
  j["seconds"] = o.seconds;
}

void outcome_from(const json& j, TestOutcome& o) {
  get(j, "ran", o.ran);
  get(j, "waived", o.waived);
  get(j, "error", o.error);
  get(j, "error_kind", o.error_kind);
  get(j, "seconds", o.seconds);
}

}  // namespace

json to_json(const GemmResult& r) {
  json j;
  outcome_to(j, r);
  j["test"] = r.test;
  j["types"] = r.types;
  j["m"] = r.m;
  j["n"] = r.n;
  j["k"] = r.k;
  j["range"] = r.range;
  j["seed"] = hex64(r.seed);
  j["algo"] = r.algo;
  j["workspace_bytes"] = r.workspace_bytes;
  j["iterations"] = r.iterations;
  j["loop_seconds"] = r.loop_seconds;
  j["tflops"] = r.tflops;
  j["tflops_gemm_only"] = r.tflops_gemm_only;
  j["wrong_results"] = r.wrong_results;
  j["bad_chunks"] = r.bad_chunks;
  j["wrong_elements"] = r.wrong_elements;
  j["wrong_elements_complete"] = r.wrong_elements_complete;
  j["result_hash"] = r.result_hash;
  j["reference_samples"] = r.reference_samples;
  j["reference_mismatches"] = r.reference_mismatches;
  json mm = json::array();
  for (const auto& m : r.mismatches)
    mm.push_back({{"iteration", m.iteration}, {"row", m.row}, {"col", m.col}, {"expected", m.expected}, {"actual", m.actual}});
  j["mismatches"] = mm;
  j["series"] = {{"t", r.series_t}, {"tflops", r.series_tflops}};
  return j;
}

void from_json(const json& j, GemmResult& r) {
  outcome_from(j, r);
  get(j, "test", r.test);
  get(j, "types", r.types);
  get(j, "m", r.m);
  get(j, "n", r.n);
  get(j, "k", r.k);
  get(j, "range", r.range);
  if (j.contains("seed")) r.seed = unhex(j["seed"]);
  get(j, "algo", r.algo);
  get(j, "workspace_bytes", r.workspace_bytes);
  get(j, "iterations", r.iterations);
  get(j, "loop_seconds", r.loop_seconds);
  get(j, "tflops", r.tflops);
  get(j, "tflops_gemm_only", r.tflops_gemm_only);
  get(j, "wrong_results", r.wrong_results);
  get(j, "bad_chunks", r.bad_chunks);
  get(j, "wrong_elements", r.wrong_elements);
  get(j, "wrong_elements_complete", r.wrong_elements_complete);
  get(j, "result_hash", r.result_hash);
  get(j, "reference_samples", r.reference_samples);
  get(j, "reference_mismatches", r.reference_mismatches);
  if (j.contains("mismatches"))
    for (const auto& m : j["mismatches"]) {
      GemmMismatch x;
      get(m, "iteration", x.iteration);
      get(m, "row", x.row);
      get(m, "col", x.col);
      get(m, "expected", x.expected);
      get(m, "actual", x.actual);
      r.mismatches.push_back(x);
    }
  if (j.contains("series")) {
    get(j["series"], "t", r.series_t);
    get(j["series"], "tflops", r.series_tflops);
  }
}

json to_json(const MemtestResult& r) {
  json j;
  outcome_to(j, r);
  j["total_bytes"] = r.total_bytes;
  j["free_bytes"] = r.free_bytes;
  j["tested_bytes"] = r.tested_bytes;
  j["coverage"] = r.coverage;
  j["passes"] = r.passes;
  j["bytes_checked"] = r.bytes_checked;
  j["check_gbps"] = r.check_gbps;
  j["bit_errors"] = r.bit_errors;
  j["word_errors"] = r.word_errors;
  j["patterns"] = r.patterns;
  json errs = json::array();
  for (const auto& e : r.errors)
    errs.push_back({{"address", hex64(e.address)}, {"offset", e.offset}, {"expected", hex64(e.expected)},
                    {"actual", hex64(e.actual)}, {"pattern", e.pattern}, {"pass", e.pass}});
  j["errors"] = errs;
  return j;
}

void from_json(const json& j, MemtestResult& r) {
  outcome_from(j, r);
  get(j, "total_bytes", r.total_bytes);
  get(j, "free_bytes", r.free_bytes);
  get(j, "tested_bytes", r.tested_bytes);
  get(j, "coverage", r.coverage);
  get(j, "passes", r.passes);
  get(j, "bytes_checked", r.bytes_checked);
  get(j, "check_gbps", r.check_gbps);
  get(j, "bit_errors", r.bit_errors);
  get(j, "word_errors", r.word_errors);
  get(j, "patterns", r.patterns);
  if (j.contains("errors"))
    for (const auto& e : j["errors"]) {
      MemtestError x;
      if (e.contains("address")) x.address = unhex(e["address"]);
      get(e, "offset", x.offset);
      if (e.contains("expected")) x.expected = unhex(e["expected"]);
      if (e.contains("actual")) x.actual = unhex(e["actual"]);
      get(e, "pattern", x.pattern);
      get(e, "pass", x.pass);
      r.errors.push_back(x);
    }
}

json to_json(const HbmResult& r) {
  json j;
  outcome_to(j, r);
  j["buffer_bytes"] = r.buffer_bytes;
  j["reps"] = r.reps;
  j["copy_gbps"] = r.copy_gbps;
  j["triad_gbps"] = r.triad_gbps;
  j["memcpy_gbps"] = r.memcpy_gbps;
  j["mismatches"] = r.mismatches;
  return j;
}

void from_json(const json& j, HbmResult& r) {
  outcome_from(j, r);
  get(j, "buffer_bytes", r.buffer_bytes);
  get(j, "reps", r.reps);
  get(j, "copy_gbps", r.copy_gbps);
  get(j, "triad_gbps", r.triad_gbps);
  get(j, "memcpy_gbps", r.memcpy_gbps);
  get(j, "mismatches", r.mismatches);
}

json to_json(const PcieResult& r) {
  json j;
  outcome_to(j, r);
  j["bytes"] = r.bytes;
  j["all_h2d_total_gbps"] = r.all_h2d_total_gbps;
  j["all_d2h_total_gbps"] = r.all_d2h_total_gbps;
  json g = json::array();
  for (const auto& x : r.gpus)
    g.push_back({{"gpu", x.gpu}, {"h2d_gbps", x.h2d_gbps}, {"d2h_gbps", x.d2h_gbps}, {"bidir_gbps", x.bidir_gbps},
                 {"all_h2d_gbps", x.all_h2d_gbps}, {"all_d2h_gbps", x.all_d2h_gbps},
                 {"gen_under_load", x.gen_under_load}, {"width_under_load", x.width_under_load},
                 {"mismatches", x.mismatches}, {"error", x.error}, {"error_kind", x.error_kind}});
  j["gpus"] = g;
  return j;
}

void from_json(const json& j, PcieResult& r) {
  outcome_from(j, r);
  get(j, "bytes", r.bytes);
  get(j, "all_h2d_total_gbps", r.all_h2d_total_gbps);
  get(j, "all_d2h_total_gbps", r.all_d2h_total_gbps);
  if (j.contains("gpus"))
    for (const auto& g : j["gpus"]) {
      PcieGpuResult x;
      get(g, "gpu", x.gpu);
      get(g, "h2d_gbps", x.h2d_gbps);
      get(g, "d2h_gbps", x.d2h_gbps);
      get(g, "bidir_gbps", x.bidir_gbps);
      get(g, "all_h2d_gbps", x.all_h2d_gbps);
      get(g, "all_d2h_gbps", x.all_d2h_gbps);
      get(g, "gen_under_load", x.gen_under_load);
      get(g, "width_under_load", x.width_under_load);
      get(g, "mismatches", x.mismatches);
      get(g, "error", x.error);
      get(g, "error_kind", x.error_kind);
      r.gpus.push_back(x);
    }
}

json to_json(const P2PResult& r) {
  json j;
  outcome_to(j, r);
  j["bytes"] = r.bytes;
  json p = json::array(), b = json::array();
  for (const auto& x : r.pairs)
    p.push_back({{"src", x.src}, {"dst", x.dst}, {"peer_access", x.peer_access}, {"gbps", x.gbps},
                 {"mismatches", x.mismatches}, {"error", x.error}});
  for (const auto& x : r.bidir) b.push_back({{"a", x.a}, {"b", x.b}, {"gbps", x.gbps}, {"error", x.error}});
  j["pairs"] = p;
  j["bidir"] = b;
  return j;
}

void from_json(const json& j, P2PResult& r) {
  outcome_from(j, r);
  get(j, "bytes", r.bytes);
  if (j.contains("pairs"))
    for (const auto& p : j["pairs"]) {
      P2PPair x;
      get(p, "src", x.src);
      get(p, "dst", x.dst);
      get(p, "peer_access", x.peer_access);
      get(p, "gbps", x.gbps);
      get(p, "mismatches", x.mismatches);
      get(p, "error", x.error);
      r.pairs.push_back(x);
    }
  if (j.contains("bidir"))
    for (const auto& p : j["bidir"]) {
      P2PBidir x;
      get(p, "a", x.a);
      get(p, "b", x.b);
      get(p, "gbps", x.gbps);
      get(p, "error", x.error);
      r.bidir.push_back(x);
    }
}

}  // namespace aicloud::burnin
