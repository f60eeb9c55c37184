// The verdict engine (see judge.hpp for the rules and their order). Every
// reason names its check with a stable id ("floor.hbm_copy_gbps",
// "profile.ecc_mode", "recheck.ecc_uncorrected") so that reports can be
// diffed and dashboards can group failures, and carries the measured value
// and the threshold whenever there is one.
#include "certify/judge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "certify/ingest.hpp"
#include "certify/metrics.hpp"
#include "certify/stage_names.hpp"
#include "common/strings.hpp"

namespace aicloud::certify {

using nlohmann::json;

std::string format_value(double v) {
  char buf[64];
  if (std::fabs(v) >= 10000 && std::fabs(v - std::round(v)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.5g", v);
  return buf;
}

std::string_view xid_name(int xid) {
  switch (xid) {
    case 48: return "double-bit ECC error";
    case 56: return "display engine error";
    case 57: return "error programming video memory interface";
    case 58: return "unstable video memory interface";
    case 62: return "internal micro-controller halt";
    case 63: return "ECC page retirement or row remapping recorded";
    case 64: return "ECC page retirement or row remapping failure";
    case 65: return "video processor exception";
    case 68: return "NVDEC0 exception";
    case 69: return "graphics engine class error";
    case 73: return "NVENC2 error";
    case 74: return "NVLink error";
    case 79: return "GPU has fallen off the bus";
    case 80: return "corrupted data sent to GPU";
    case 81: return "VGA subsystem error";
    case 92: return "high single-bit ECC error rate";
    case 94: return "contained ECC error";
    case 95: return "uncontained ECC error";
    case 119: return "GSP RPC timeout";
    case 120: return "GSP error";
    default: return "";
  }
}

namespace {

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

struct Sink {
  std::vector<Reason>& out;
  std::string node;
  std::string stage;

  Reason& add(Severity sev, std::string check, std::string message, std::optional<int> gpu = std::nullopt) {
    Reason r;
    r.severity = sev;
    r.check = std::move(check);
    r.stage = stage;
    r.node = node;
    r.gpu = gpu;
    r.message = std::move(message);
    out.push_back(std::move(r));
    return out.back();
  }
  Reason& fail(std::string check, std::string message, std::optional<int> gpu = std::nullopt) {
    return add(Severity::fail, std::move(check), std::move(message), gpu);
  }
  Reason& incomplete(std::string check, std::string message, std::optional<int> gpu = std::nullopt) {
    return add(Severity::incomplete, std::move(check), std::move(message), gpu);
  }
  Reason& warn(std::string check, std::string message, std::optional<int> gpu = std::nullopt) {
    return add(Severity::warn, std::move(check), std::move(message), gpu);
  }
};

std::string gpu_label(int index) { return "GPU " + std::to_string(index); }

std::string with_unit(double v, const std::string& unit) {
  if (unit.empty()) return format_value(v);
  return format_value(v) + " " + unit;
}

// A measured value next to its threshold, with enough digits that a value
// that failed never prints the same as the threshold it failed against.
std::pair<std::string, std::string> distinct(double value, double threshold, const std::string& unit) {
  std::string a = format_value(value), b = format_value(threshold);
  for (int digits = 6; a == b && value != threshold && digits <= 12; ++digits) {
    char x[64], y[64];
    std::snprintf(x, sizeof x, "%.*g", digits, value);
    std::snprintf(y, sizeof y, "%.*g", digits, threshold);
    a = x;
    b = y;
  }
  if (!unit.empty()) {
    a += " " + unit;
    b += " " + unit;
  }
  return {a, b};
}

// The stage data's "health" member (health and recheck stages).
const json& member(const StageRecord* s, const char* key) {
  static const json null;
  if (!s || !s->data.is_object()) return null;
  auto it = s->data.find(key);
  return it == s->data.end() ? null : *it;
}

// ---------------------------------------------------------------------------
// Health stage
// ---------------------------------------------------------------------------

// The health result could not be used: say what is missing on the node if
// the node facts show it (no kernel module, no NVML), else INCOMPLETE.
void explain_missing_health(Sink& s, const StageRecord& rec, const json& facts, const std::string& problem,
                            const char* prefix) {
  bool module = facts.is_object() && facts.value("/nvidia_module/present"_json_pointer, false);
  bool nvml = facts.is_object() && facts.contains("nvml_library") && facts["nvml_library"].is_string();
  if (facts.is_object() && !module) {
    s.fail(std::string(prefix) + ".driver",
           "no NVIDIA driver: the nvidia kernel module is not loaded (/proc/driver/nvidia/version is missing); "
           "install the NVIDIA datacenter driver and reboot");
    return;
  }
  if (facts.is_object() && !nvml) {
    s.fail(std::string(prefix) + ".nvml",
           "no NVML: libnvidia-ml.so.1 was not found on the node; install the driver's user-space libraries "
           "(nvidia-utils / libnvidia-compute)");
    return;
  }
  std::string why = rec.status == StageStatus::error || problem.empty() ? rec.detail : problem;
  s.incomplete(std::string(prefix) + ".output", "no usable health result: " + (why.empty() ? "no output" : why));
}

void judge_health_findings(Sink& s, const HealthView& h, const char* prefix) {
  bool any_fail = false;
  for (const auto& f : h.findings) {
    std::string msg = f.reason;
    if (!f.remediation.empty()) msg += " (remediation: " + f.remediation + ")";
    std::string check = std::string(prefix) + "." + (f.check.empty() ? "finding" : f.check);
    if (f.verdict == "FAIL") {
      s.fail(check, msg, f.gpu);
      any_fail = true;
    } else if (f.verdict == "WARN") {
      s.warn(check, msg, f.gpu);
    }
  }
  if (h.verdict == "FAIL" && !any_fail) s.fail(std::string(prefix) + ".verdict", "health reported FAIL without a finding");
  if (h.verdict != "PASS" && h.verdict != "WARN" && h.verdict != "FAIL")
    s.incomplete(std::string(prefix) + ".verdict", "health reported an unknown verdict '" + h.verdict + "'");
}

void judge_health_rules(Sink& s, const HealthView& h, const Profile& p) {
  const HealthRules& r = p.health;
  auto missing = [&](const GpuHealth& g, const std::string& check, const std::string& what) {
    s.incomplete("profile." + check, gpu_label(g.index) + ": " + what + " not reported by health", g.index);
  };
  auto limit = [&](const GpuHealth& g, const std::string& check, const std::string& what, std::optional<double> value,
                   std::optional<double> max, bool required) {
    if (!max) return;
    if (!value) {
      if (required) missing(g, check, what);
      return;
    }
    if (*value > *max) {
      Reason& x = s.fail("profile." + check,
                         gpu_label(g.index) + ": " + what + " " + format_value(*value) + " exceeds " + format_value(*max),
                         g.index);
      x.measured = *value;
      x.threshold = *max;
    }
  };
  for (const auto& g : h.gpus) {
    if (!g.error.empty()) continue;  // NVML could not open it: health's own finding FAILs it
    if (r.ecc_mode == "required") {
      if (!g.ecc_mode) missing(g, "ecc_mode", "ECC mode");
      else if (!*g.ecc_mode) s.fail("profile.ecc_mode", gpu_label(g.index) + ": ECC is disabled; the profile requires it (nvidia-smi -e 1, then reset)", g.index);
    }
    if (r.mig_mode != "any") {
      bool want = r.mig_mode == "enabled";
      if (!g.mig_mode) missing(g, "mig_mode", "MIG mode");
      else if (*g.mig_mode != want)
        s.fail("profile.mig_mode", gpu_label(g.index) + ": MIG is " + (*g.mig_mode ? "enabled" : "disabled") +
                                      "; the profile requires it " + (want ? "enabled" : "disabled"), g.index);
    }
    if (r.persistence_mode != "any") {
      if (!g.persistence_mode) {
        if (r.persistence_mode == "required") missing(g, "persistence_mode", "persistence mode");
      } else if (!*g.persistence_mode) {
        std::string msg = gpu_label(g.index) + ": persistence mode is off (nvidia-smi -pm 1 or nvidia-persistenced)";
        if (r.persistence_mode == "required") s.fail("profile.persistence_mode", msg, g.index);
        else s.warn("profile.persistence_mode", msg, g.index);
      }
    }
    // Row remapping (Ampere and later) or page retirement (older GPUs).
    if (g.has_row_remap) {
      if (!g.remap_pending || !g.remap_failed) missing(g, "row_remap", "row-remap pending/failed state");
      if (g.remap_pending.value_or(false))
        s.fail("profile.row_remap_pending", gpu_label(g.index) + ": a row remap is pending; reset the GPU and certify again", g.index);
      if (g.remap_failed.value_or(false))
        s.fail("profile.row_remap_failed", gpu_label(g.index) + ": row remapping failed; the GPU must be replaced (RMA)", g.index);
      limit(g, "row_remap_uncorrectable", "rows remapped for uncorrectable errors", g.remap_uncorrectable,
            r.row_remap_uncorrectable_max, true);
    } else if (g.has_retired_pages) {
      if (g.retired_pending.value_or(false))
        s.fail("profile.retired_pages_pending", gpu_label(g.index) + ": a page retirement is pending; reset the GPU", g.index);
    } else if (r.row_remap_uncorrectable_max) {
      missing(g, "row_remap", "row remapping (or retired pages)");
    }
    limit(g, "ecc_volatile_uncorrected", "volatile uncorrectable ECC errors", g.ecc_volatile_uncorrected,
          r.ecc_volatile_uncorrected_max, true);
    // SRAM/DRAM split: applied where health reports it.
    limit(g, "ecc_sram_uncorrected", "SRAM uncorrectable ECC errors", g.sram_uncorrected, r.ecc_sram_uncorrected_max, false);
    limit(g, "ecc_sram_corrected", "SRAM correctable ECC errors", g.sram_corrected, r.ecc_sram_corrected_max, false);
    // DRAM errors: the per-location counters where reported, else the
    // aggregate (lifetime) total, which bounds them from above.
    std::optional<double> dram;
    if (g.dram_corrected && g.dram_uncorrected) dram = *g.dram_corrected + *g.dram_uncorrected;
    else if (g.ecc_aggregate_corrected && g.ecc_aggregate_uncorrected)
      dram = *g.ecc_aggregate_corrected + *g.ecc_aggregate_uncorrected;
    limit(g, "ecc_dram_errors", "lifetime ECC errors", dram, r.ecc_dram_errors_max, false);
    if (!r.clock_events_fail.empty()) {
      if (!g.clock_events) {
        missing(g, "clock_events", "clock-event (throttle) reasons");
      } else {
        for (const auto& e : *g.clock_events)
          if (std::find(r.clock_events_fail.begin(), r.clock_events_fail.end(), e) != r.clock_events_fail.end())
            s.fail("profile.clock_events", gpu_label(g.index) + ": clock event '" + e + "' is active at idle", g.index);
      }
    }
    if (r.pcie_gen_min) {
      if (!g.pcie_max_gen) missing(g, "pcie_gen", "PCIe maximum link generation");
      else if (*g.pcie_max_gen < *r.pcie_gen_min) {
        Reason& x = s.fail("profile.pcie_gen", gpu_label(g.index) + ": PCIe link can reach only Gen" +
                                                   std::to_string(*g.pcie_max_gen) + ", profile requires Gen" +
                                                   std::to_string(*r.pcie_gen_min) + " (slot, riser or BIOS setting)", g.index);
        x.measured = *g.pcie_max_gen;
        x.threshold = *r.pcie_gen_min;
      }
    }
    if (r.pcie_width_min) {
      if (!g.pcie_width) missing(g, "pcie_width", "PCIe link width");
      else if (*g.pcie_width < *r.pcie_width_min) {
        Reason& x = s.fail("profile.pcie_width", gpu_label(g.index) + ": PCIe link trained at x" + std::to_string(*g.pcie_width) +
                                                     ", profile requires x" + std::to_string(*r.pcie_width_min) +
                                                     " (reseat the GPU or riser)", g.index);
        x.measured = *g.pcie_width;
        x.threshold = *r.pcie_width_min;
      }
    }
    if (r.nvlink_active_min && *r.nvlink_active_min > 0) {
      if (!g.nvlink_active) missing(g, "nvlink", "NVLink state");
      else if (*g.nvlink_active < *r.nvlink_active_min) {
        Reason& x = s.fail("profile.nvlink", gpu_label(g.index) + ": " + std::to_string(*g.nvlink_active) + " of " +
                                                std::to_string(g.nvlink_links.value_or(0)) + " NVLinks active, profile requires " +
                                                std::to_string(*r.nvlink_active_min), g.index);
        x.measured = *g.nvlink_active;
        x.threshold = *r.nvlink_active_min;
      }
    }
  }
  for (const auto& x : h.xids) {
    if (!r.xid_fail.count(x.xid)) continue;
    std::optional<int> gpu = x.gpu;
    std::string name = x.description.empty() ? std::string(xid_name(x.xid)) : x.description;
    s.fail("profile.xid", (gpu ? gpu_label(*gpu) + ": " : std::string()) + "XID " + std::to_string(x.xid) +
                             (name.empty() ? "" : " (" + name + ")") + " in the kernel log" +
                             (x.time.empty() ? "" : " at " + x.time + " s after boot") +
                             "; investigate, reset or replace before sale",
           gpu);
  }
}

json node_facts_json(const HealthView& h, const json& host) {
  json gpus = json::array();
  for (const auto& g : h.gpus) {
    json gj = {{"index", g.index}, {"name", g.name}, {"uuid", g.uuid}, {"serial", g.serial},
               {"pci_bus_id", g.pci_bus_id}, {"vbios", g.vbios}};
    if (g.memory_total_mib) gj["memory_total_mib"] = *g.memory_total_mib;
    if (g.pcie_gen) gj["pcie"] = {{"gen", *g.pcie_gen}, {"width", g.pcie_width.value_or(0)},
                                  {"max_gen", g.pcie_max_gen.value_or(0)}, {"max_width", g.pcie_max_width.value_or(0)}};
    if (g.nvlink_active) gj["nvlink_active"] = *g.nvlink_active;
    gpus.push_back(gj);
  }
  json j = {{"host", host.is_null() ? json::object() : host}, {"gpus", gpus}};
  j["driver"] = {{"version", h.driver_version.empty() ? json(nullptr) : json(h.driver_version)},
                 {"cuda_driver_version", h.cuda_driver_version.empty() ? json(nullptr) : json(h.cuda_driver_version)}};
  return j;
}

// ---------------------------------------------------------------------------
// Burn-in stage
// ---------------------------------------------------------------------------

struct HashSample {
  std::string node;
  int gpu;
  std::string hash;
};

// "gemm-bf16" -> "gemm_bf16", for check ids.
std::string id_of(std::string name) {
  for (auto& c : name)
    if (c == '-') c = '_';
  return name;
}

void judge_burnin(Sink& s, NodeRecord& n, const StageRecord& rec, const Level& level, const Profile& p,
                  const HealthView& health, std::map<std::string, std::vector<HashSample>>& hashes) {
  BurninView b = parse_burnin(member(&rec, "burnin"));
  if (!b.problem.empty()) {
    s.incomplete("burnin.output", "no usable burnin result: " + b.problem);
    return;
  }
  if (b.interrupted) s.incomplete("burnin.interrupted", "the burn-in was interrupted before it finished");
  auto measure = [&](const std::string& metric, std::optional<int> gpu, const std::string& link, double value) {
    Measurement m;
    m.metric = metric;
    m.stage = "burnin";
    m.gpu = gpu;
    m.link = link;
    m.value = value;
    n.measurements.push_back(m);
  };
  bool any_detail_fail = false, any_detail_incomplete = false;
  for (const auto& hg : health.gpus) {
    int idx = hg.index;
    auto it = std::find_if(b.gpus.begin(), b.gpus.end(), [&](const GpuBurnin& g) { return g.index == idx; });
    if (it == b.gpus.end()) {
      s.incomplete("burnin.gpu_missing", gpu_label(idx) + " is missing from the burnin result", idx);
      any_detail_incomplete = true;
      continue;
    }
    const GpuBurnin& g = *it;
    if (!g.blocked.empty()) {
      s.incomplete("burnin.blocked", gpu_label(idx) + " was not burned in: " + g.blocked, idx);
      any_detail_incomplete = true;
    }
    for (const auto& t : g.tests) {
      std::string msg = gpu_label(idx) + ": burnin " + t.name + " " + t.verdict +
                        (t.reasons.empty() ? "" : ": " + join(t.reasons, "; "));
      std::string check = "burnin." + id_of(t.name);
      if (t.verdict == "FAIL") {
        s.fail(check, msg, idx);
        any_detail_fail = true;
      } else if (t.verdict == "INCOMPLETE") {
        s.incomplete(check, msg, idx);
        any_detail_incomplete = true;
      } else if (t.verdict == "WARN" || t.verdict == "WAIVED") {
        s.warn(check, msg, idx);
      }
    }
    if (g.verdict == "FAIL" && !any_detail_fail) {
      s.fail("burnin.gpu", gpu_label(idx) + ": burnin FAIL" + (g.reasons.empty() ? "" : ": " + join(g.reasons, "; ")), idx);
      any_detail_fail = true;
    } else if (g.verdict == "INCOMPLETE" && !any_detail_incomplete) {
      s.incomplete("burnin.gpu", gpu_label(idx) + ": burnin INCOMPLETE" + (g.reasons.empty() ? "" : ": " + join(g.reasons, "; ")), idx);
      any_detail_incomplete = true;
    }
    // The measurements the level asked for.
    auto need = [&](const BurninTest* t, const std::string& test, const char* key) -> std::optional<double> {
      auto v = t->metric(key);
      if (!v) s.incomplete("burnin." + id_of(test), gpu_label(idx) + ": burnin " + test + " did not report '" + key + "'", idx);
      return v;
    };
    for (const auto& test : level.burnin.tests) {
      if (test == "p2p") continue;
      const BurninTest* t = g.test(test);
      if (!t) {
        if (g.blocked.empty()) s.incomplete("burnin." + id_of(test), gpu_label(idx) + ": burnin did not run " + test, idx);
        continue;
      }
      if (t->waived()) continue;  // the type does not exist on this GPU: a warning above, no floor
      if (!t->result.is_object()) {
        // A FAIL or INCOMPLETE test already has its reason; a passing one must carry its numbers.
        if (t->verdict == "PASS" || t->verdict == "WARN")
          s.incomplete("burnin." + id_of(test), gpu_label(idx) + ": burnin " + test + " reported no result", idx);
        continue;
      }
      if (starts_with(test, "gemm-")) {
        if (auto v = t->metric("tflops")) measure(gemm_metric(test), idx, "", *v);
        else if (t->verdict != "FAIL" && t->verdict != "INCOMPLETE") need(t, test, "tflops");
        auto wrong = t->metric("wrong_results");
        if (wrong && *wrong > 0) {
          Reason& x = s.fail("burnin." + id_of(test) + ".wrong_results",
                             gpu_label(idx) + ": " + format_value(*wrong) + " wrong GEMM results (" + test + ")", idx);
          x.measured = *wrong;
          x.threshold = 0;
        }
        if (t->result.is_object() && t->result.contains("result_hash") && t->result["result_hash"].is_string())
          hashes[test].push_back({n.name, idx, t->result["result_hash"].get<std::string>()});
      } else if (test == "memtest") {
        if (auto v = t->verdict == "PASS" || t->verdict == "WARN" ? need(t, test, "coverage") : t->metric("coverage"))
          measure("memtest_coverage", idx, "", *v);
        auto errors = t->metric("bit_errors");
        if (errors && *errors > 0) {
          Reason& x = s.fail("burnin.memtest.bit_errors", gpu_label(idx) + ": " + format_value(*errors) + " HBM bit errors", idx);
          x.measured = *errors;
          x.threshold = 0;
        }
      } else if (test == "hbm" || test == "pcie") {
        bool ok = t->verdict == "PASS" || t->verdict == "WARN";
        for (const char* key : test == "hbm" ? std::vector<const char*>{"copy_gbps", "triad_gbps"}
                                             : std::vector<const char*>{"h2d_gbps", "d2h_gbps"}) {
          auto v = ok ? need(t, test, key) : t->metric(key);
          if (v) measure(std::string(test == "hbm" ? "hbm_" : "pcie_") + key, idx, "", *v);
        }
      }
    }
    if (!g.has_telemetry) {
      if (g.blocked.empty())
        s.incomplete("burnin.telemetry", gpu_label(idx) + ": burnin recorded no telemetry samples during the stress", idx);
    } else {
      if (g.power_max_w && hg.power_limit_w && *hg.power_limit_w > 0)
        measure("power_fraction", idx, "", *g.power_max_w / *hg.power_limit_w);
      else
        s.incomplete("burnin.telemetry", gpu_label(idx) + ": peak power during the stress or the power limit not reported", idx);
      if (g.gpu_temp_max_c) measure("gpu_temp_max_c", idx, "", *g.gpu_temp_max_c);
      if (g.hbm_temp_max_c) measure("hbm_temp_max_c", idx, "", *g.hbm_temp_max_c);
      for (const auto& e : p.health.clock_events_fail)
        if (std::find(g.clock_events_seen.begin(), g.clock_events_seen.end(), e) != g.clock_events_seen.end())
          s.fail("burnin.clock_events", gpu_label(idx) + ": clock event '" + e + "' seen during the stress", idx);
    }
  }
  bool wants_p2p = std::find(level.burnin.tests.begin(), level.burnin.tests.end(), "p2p") != level.burnin.tests.end();
  if (wants_p2p && health.gpus.size() >= 2) {
    if (!b.has_p2p) {
      s.incomplete("burnin.p2p", "burnin reported no peer-to-peer test");
    } else {
      std::string msg = "burnin p2p " + b.p2p_verdict + (b.p2p_reasons.empty() ? "" : ": " + join(b.p2p_reasons, "; "));
      if (b.p2p_verdict == "FAIL") {
        s.fail("burnin.p2p", msg);
        any_detail_fail = true;
      } else if (b.p2p_verdict == "INCOMPLETE") {
        s.incomplete("burnin.p2p", msg);
      } else if (b.p2p_verdict == "WARN" || b.p2p_verdict == "WAIVED") {
        s.warn("burnin.p2p", msg);
      }
      if (b.p2p_unidir.empty() && b.p2p_verdict != "FAIL")
        s.incomplete("burnin.p2p", "burnin reported no peer-to-peer bandwidths");
      for (const auto& x : b.p2p_unidir)
        measure("p2p_unidir_gbps", std::nullopt, "gpu" + std::to_string(x.a) + "-gpu" + std::to_string(x.b), x.gbps);
      for (const auto& x : b.p2p_bidir)
        measure("p2p_bidir_gbps", std::nullopt, "gpu" + std::to_string(x.a) + "-gpu" + std::to_string(x.b), x.gbps);
    }
  }
  if (b.verdict == "FAIL" && !any_detail_fail)
    s.fail("burnin.verdict", "burnin FAIL" + (b.reasons.empty() ? "" : ": " + join(b.reasons, "; ")));
  else if (b.verdict == "INCOMPLETE" && !any_detail_incomplete && !any_detail_fail)
    s.incomplete("burnin.verdict", "burnin INCOMPLETE" + (b.reasons.empty() ? "" : ": " + join(b.reasons, "; ")));
  else if (b.verdict != "PASS" && b.verdict != "WARN" && b.verdict != "FAIL" && b.verdict != "INCOMPLETE")
    s.incomplete("burnin.verdict", "burnin reported an unknown verdict '" + b.verdict + "'");
}

// ---------------------------------------------------------------------------
// NCCL stages
// ---------------------------------------------------------------------------

void judge_nccl(Sink& s, std::vector<Measurement>& out, const StageRecord& rec, const Level& level,
                const std::string& prefix /* nccl_intra or nccl_inter */) {
  NcclView v = parse_nccl(member(&rec, "nccl"));
  if (!v.problem.empty()) {
    s.incomplete(prefix + ".output", "no usable nccl result: " + v.problem);
    return;
  }
  bool any_fail = false;
  for (const auto& e : v.errors) {
    s.fail(prefix + ".error", "NCCL error: " + e);
    any_fail = true;
  }
  for (const auto& coll : level.nccl.collectives) {
    const NcclResult* r = v.at_size(coll, level.nccl.size_bytes);
    if (!r) {
      s.incomplete(prefix + "." + coll, coll + " was not measured at " + format_bytes(level.nccl.size_bytes) + " or above");
      continue;
    }
    if (r->wrong() > 0) {
      Reason& x = s.fail(prefix + "." + coll + ".wrong", format_value(r->wrong()) + " wrong elements in " + coll +
                                                              " at " + format_bytes(r->size_bytes) + " (data corruption)");
      x.measured = r->wrong();
      x.threshold = 0;
      any_fail = true;
    }
    auto bw = r->busbw_gbps();
    if (!bw) {
      s.incomplete(prefix + "." + coll, coll + " at " + format_bytes(r->size_bytes) + " has no bus bandwidth");
      continue;
    }
    Measurement m;
    m.metric = prefix + "_" + coll + "_busbw_gbps";
    m.stage = prefix;
    m.value = *bw;
    out.push_back(m);
  }
  if (v.verdict == "FAIL" && !any_fail) s.fail(prefix + ".verdict", "nccl reported status failed");
  if (v.verdict == "INCOMPLETE") s.incomplete(prefix + ".interrupted", "nccl was interrupted");
}

// ---------------------------------------------------------------------------
// Recheck: counters may not move between the health stage and the end
// ---------------------------------------------------------------------------

void judge_recheck(Sink& s, const HealthView& before, const HealthView& after, const Profile& p) {
  judge_health_findings(s, after, "recheck");
  auto limit_of = [&](const char* counter) -> std::optional<double> {
    auto it = p.counters.find(counter);
    if (it == p.counters.end()) return std::nullopt;
    return it->second;
  };
  for (const auto& g0 : before.gpus) {
    auto it = std::find_if(after.gpus.begin(), after.gpus.end(), [&](const GpuHealth& g) {
      return g0.uuid.empty() ? g.index == g0.index : g.uuid == g0.uuid;
    });
    if (it == after.gpus.end()) {
      s.fail("recheck.gpu_lost", gpu_label(g0.index) + " (" + (g0.uuid.empty() ? "no UUID" : g0.uuid) +
                                     ") is gone at the recheck (fallen off the bus?)", g0.index);
      continue;
    }
    const GpuHealth& g1 = *it;
    auto delta = [&](const char* counter, const std::string& what, std::optional<double> a, std::optional<double> b) {
      auto max = limit_of(counter);
      if (!max) return;
      if (!a || !b) {
        if (a && !b)
          s.incomplete(std::string("recheck.") + counter, gpu_label(g0.index) + ": " + what + " not reported at the recheck", g0.index);
        return;
      }
      double d = *b - *a;
      if (d > *max) {
        Reason& x = s.fail(std::string("recheck.") + counter, gpu_label(g0.index) + ": " + what + " rose by " + format_value(d) +
                                                                   " during the certification (from " + format_value(*a) +
                                                                   " to " + format_value(*b) + "; limit " + format_value(*max) + ")",
                           g0.index);
        x.measured = d;
        x.threshold = *max;
      }
    };
    // A driver reload resets volatile counters: the aggregate ones catch that.
    delta("ecc_corrected", "volatile corrected ECC errors", g0.ecc_volatile_corrected, g1.ecc_volatile_corrected);
    delta("ecc_uncorrected", "volatile uncorrected ECC errors", g0.ecc_volatile_uncorrected, g1.ecc_volatile_uncorrected);
    delta("ecc_corrected", "aggregate corrected ECC errors", g0.ecc_aggregate_corrected, g1.ecc_aggregate_corrected);
    delta("ecc_uncorrected", "aggregate uncorrected ECC errors", g0.ecc_aggregate_uncorrected, g1.ecc_aggregate_uncorrected);
    auto remaps = [](const GpuHealth& g) -> std::optional<double> {
      if (!g.has_row_remap || !g.remap_correctable || !g.remap_uncorrectable) return std::nullopt;
      return *g.remap_correctable + *g.remap_uncorrectable;
    };
    delta("row_remap", "remapped rows", remaps(g0), remaps(g1));
    if (g1.remap_pending.value_or(false) && !g0.remap_pending.value_or(false))
      s.fail("recheck.row_remap", gpu_label(g0.index) + ": a row remap became pending during the certification", g0.index);
    if (g1.remap_failed.value_or(false) && !g0.remap_failed.value_or(false))
      s.fail("recheck.row_remap", gpu_label(g0.index) + ": row remapping failed during the certification", g0.index);
    auto retired = [](const GpuHealth& g) -> std::optional<double> {
      if (!g.has_retired_pages || !g.retired_single_bit || !g.retired_double_bit) return std::nullopt;
      return *g.retired_single_bit + *g.retired_double_bit;
    };
    delta("retired_pages", "retired pages", retired(g0), retired(g1));
    delta("pcie_replay", "PCIe replays", g0.pcie_replay, g1.pcie_replay);
    delta("nvlink_errors", "NVLink errors (replay, recovery, CRC)", g0.nvlink_errors, g1.nvlink_errors);
  }
  if (auto max = limit_of("xid")) {
    std::map<std::optional<int>, double> fresh;
    for (const auto& x : after.xids) {
      if (!p.health.xid_fail.count(x.xid)) continue;
      bool seen = std::any_of(before.xids.begin(), before.xids.end(), [&](const XidEvent& y) {
        return y.xid == x.xid && y.time == x.time && y.pci_bus_id == x.pci_bus_id && y.gpu == x.gpu;
      });
      if (seen) continue;
      fresh[x.gpu] += 1;
      if (fresh[x.gpu] > *max) {
        std::string name(xid_name(x.xid));
        s.fail("recheck.xid", (x.gpu ? gpu_label(*x.gpu) + ": " : std::string()) + "new XID " + std::to_string(x.xid) +
                                  (name.empty() ? "" : " (" + name + ")") + " during the certification", x.gpu);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Conformance across the rack
// ---------------------------------------------------------------------------

// Does an inventory's model ("H100-SXM", "A100-SXM4-80GB", "NVIDIA H100
// 80GB HBM3") describe the GPU NVML names? Every word of it must appear in
// the NVML name, except the form factor "SXM", which NVML does not print for
// H100/H200 ("NVIDIA H100 80GB HBM3"): it means "not a PCIe or NVL card".
bool model_matches(std::string_view expected, std::string_view nvml_name) {
  std::string name;
  for (char c : to_lower(nvml_name))
    if (std::isalnum(static_cast<unsigned char>(c))) name += c;
  std::vector<std::string> words;
  std::string cur;
  for (char c : to_lower(expected)) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += c;
    } else if (!cur.empty()) {
      words.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(cur);
  bool any = false;
  for (const auto& w : words) {
    if (w == "nvidia") continue;
    any = true;
    if (w == "sxm" || w == "sxm4" || w == "sxm5") {
      if (name.find("pcie") != std::string::npos || name.find("nvl") != std::string::npos) return false;
      if (w != "sxm" && name.find("sxm") != std::string::npos && name.find(w) == std::string::npos) return false;
      continue;
    }
    if (name.find(w) == std::string::npos) return false;
  }
  return any;
}

// The value most nodes have, or nothing on a tie for the top.
std::optional<std::string> majority(const std::map<std::string, int>& counts) {
  std::optional<std::string> best;
  int top = 0;
  bool tie = false;
  for (const auto& [v, c] : counts) {
    if (c > top) {
      best = v;
      top = c;
      tie = false;
    } else if (c == top) {
      tie = true;
    }
  }
  if (tie) return std::nullopt;
  return best;
}

std::string describe_counts(const std::map<std::string, int>& counts, const char* unit) {
  std::vector<std::string> parts;
  for (const auto& [v, c] : counts) parts.push_back(v + " (" + std::to_string(c) + " " + unit + (c == 1 ? "" : "s") + ")");
  return join(parts, ", ");
}

void judge_version(Sink& s, const std::string& check, const std::string& what, const std::string& value,
                   const VersionPolicy& policy, const std::map<std::string, int>& rack_counts, const char* unit) {
  if (policy.kind == VersionPolicy::Kind::any) return;
  if (value.empty()) {
    s.incomplete("conformance." + check, what + " not reported by health");
    return;
  }
  if (policy.kind == VersionPolicy::Kind::same) {
    if (rack_counts.size() <= 1) return;
    auto maj = majority(rack_counts);
    if (!maj)
      s.fail("conformance." + check, what + " differs across the rack with no majority: " + describe_counts(rack_counts, unit));
    else if (*maj != value)
      s.fail("conformance." + check, what + " " + value + " differs from " + *maj + " on " +
                                         std::to_string(rack_counts.at(*maj)) + " " + unit + "s of the rack");
    return;
  }
  if (!policy.admits(value)) s.fail("conformance." + check, what + " " + value + " is not allowed (profile: " + policy.text() + ")");
}

void judge_conformance(Sink& s, const NodeRecord& n, const HealthView& h, const json& host, const Profile& p,
                       const std::map<std::string, int>& drivers, const std::map<std::string, int>& cudas,
                       const std::map<std::string, int>& vbioses) {
  int count = static_cast<int>(h.gpus.size());
  if (count == 0) {
    s.fail("conformance.gpu_count", "no GPUs found");
  } else {
    if (p.gpu_count > 0 && count != p.gpu_count) {
      Reason& x = s.fail("conformance.gpu_count", std::to_string(count) + " GPUs found, profile " + p.name + " expects " +
                                                      std::to_string(p.gpu_count));
      x.measured = count;
      x.threshold = p.gpu_count;
    }
    if (n.expected.gpu_count > 0 && count != n.expected.gpu_count) {
      Reason& x = s.fail("conformance.gpu_count", std::to_string(count) + " GPUs found, the inventory says " +
                                                      std::to_string(n.expected.gpu_count));
      x.measured = count;
      x.threshold = n.expected.gpu_count;
    }
  }
  for (const auto& g : h.gpus) {
    if (!p.gpu_models.empty()) {
      bool ok = std::any_of(p.gpu_models.begin(), p.gpu_models.end(),
                            [&](const std::string& m) { return to_lower(g.name).find(to_lower(m)) != std::string::npos; });
      if (!ok)
        s.fail("conformance.gpu_model", gpu_label(g.index) + " is '" + g.name + "', profile " + p.name + " expects " +
                                            join(p.gpu_models, " or "), g.index);
    }
    if (!n.expected.gpu_model.empty()) {
      if (!model_matches(n.expected.gpu_model, g.name))
        s.fail("conformance.gpu_model", gpu_label(g.index) + " is '" + g.name + "', the inventory says '" +
                                            n.expected.gpu_model + "'", g.index);
    }
    if (p.memory_mib_min) {
      if (!g.memory_total_mib) {
        s.incomplete("conformance.memory", gpu_label(g.index) + ": memory size not reported", g.index);
      } else if (*g.memory_total_mib < *p.memory_mib_min) {
        Reason& x = s.fail("conformance.memory", gpu_label(g.index) + " has " + format_value(*g.memory_total_mib) +
                                                     " MiB, profile expects at least " + format_value(*p.memory_mib_min), g.index);
        x.measured = *g.memory_total_mib;
        x.threshold = *p.memory_mib_min;
        x.unit = "MiB";
      }
    }
    Sink gs = s;
    std::size_t before = s.out.size();
    judge_version(gs, "vbios", gpu_label(g.index) + " VBIOS", g.vbios, p.vbios, vbioses, "GPU");
    for (std::size_t i = before; i < s.out.size(); ++i) s.out[i].gpu = g.index;
  }
  judge_version(s, "driver", "driver", h.driver_version, p.driver, drivers, "node");
  judge_version(s, "cuda_driver", "CUDA driver version", h.cuda_driver_version, p.cuda_driver, cudas, "node");

  // Network: InfiniBand / RoCE ports from the node facts.
  bool needs_ports = (p.ib_ports_min && *p.ib_ports_min > 0) || !n.expected.nics.empty();
  if (needs_ports) {
    if (!host.is_object() || !host.contains("ib_ports")) {
      s.incomplete("conformance.network", "the node facts have no InfiniBand/RoCE port list");
    } else {
      int good = 0;
      std::vector<std::string> seen;
      std::set<std::string> devices;
      for (const auto& port : host["ib_ports"]) {
        std::string dev = port.value("device", "");
        devices.insert(dev);
        std::string state = port.value("state", "");
        double rate = port.contains("rate_gbps") && port["rate_gbps"].is_number() ? port["rate_gbps"].get<double>() : 0;
        bool ok = state == "ACTIVE" && (!p.ib_rate_gbps_min || rate >= *p.ib_rate_gbps_min);
        if (ok) ++good;
        seen.push_back(dev + "/" + std::to_string(port.value("port", 0)) + " " + state + " " + format_value(rate) + " Gb/s");
      }
      if (p.ib_ports_min && good < *p.ib_ports_min) {
        std::string rate = p.ib_rate_gbps_min ? " at >= " + format_value(*p.ib_rate_gbps_min) + " Gb/s" : "";
        Reason& x = s.fail("conformance.network", std::to_string(good) + " InfiniBand/RoCE ports ACTIVE" + rate + ", profile expects " +
                                                      std::to_string(*p.ib_ports_min) +
                                                      (seen.empty() ? " (no ports found)" : " (found: " + join(seen, ", ") + ")"));
        x.measured = good;
        x.threshold = *p.ib_ports_min;
      }
      for (const auto& nic : n.expected.nics)
        if (!devices.count(nic)) s.fail("conformance.nics", "NIC " + nic + " (from the inventory) not found on the node");
    }
  }
}

// ---------------------------------------------------------------------------
// Floors and fleet rules
// ---------------------------------------------------------------------------

void apply_floors(std::vector<Measurement>& ms, std::vector<Reason>& out, const std::string& node, const Profile& p) {
  for (auto& m : ms) {
    const MetricInfo* info = find_metric(m.metric);
    if (!info) continue;
    const auto& table = info->higher_is_better ? p.floors : p.ceilings;
    auto it = table.find(m.metric);
    if (it == table.end()) continue;
    m.floor = it->second;
    bool bad = info->higher_is_better ? m.value < it->second : m.value > it->second;
    if (!bad) continue;
    Reason r;
    r.severity = Severity::fail;
    r.check = std::string(info->higher_is_better ? "floor." : "ceiling.") + m.metric;
    r.stage = m.stage;
    r.node = node;
    r.gpu = m.gpu;
    r.link = m.link;
    r.measured = m.value;
    r.threshold = it->second;
    r.unit = info->unit;
    std::string subject = m.gpu ? gpu_label(*m.gpu) + " " : !m.link.empty() ? "link " + m.link + " " : "";
    auto [shown, limit] = distinct(m.value, it->second, info->unit);
    r.message = subject + info->description + " " + shown + " is " +
                (info->higher_is_better ? "below the floor " : "above the ceiling ") + limit;
    out.push_back(r);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct FleetItem {
  Measurement* m;
  std::vector<Reason>* out;
  std::string node;
};

void apply_fleet(std::map<std::string, std::map<std::string, std::vector<FleetItem>>>& by_rack_metric, const Profile& p) {
  for (auto& [rack, metrics] : by_rack_metric) {
    for (auto& [metric, items] : metrics) {
      auto it = p.fleet_margin_pct.find(metric);
      if (it == p.fleet_margin_pct.end()) continue;
      if (static_cast<int>(items.size()) < p.fleet_min_samples) continue;
      const MetricInfo* info = find_metric(metric);
      std::vector<double> values;
      for (const auto& x : items) values.push_back(x.m->value);
      double med = median(values);
      double pct = it->second;
      double bound = info->higher_is_better ? med * (1 - pct / 100) : med * (1 + pct / 100);
      for (auto& x : items) {
        x.m->fleet_median = med;
        bool bad = info->higher_is_better ? x.m->value < bound : x.m->value > bound;
        if (!bad || med == 0) continue;
        double off = std::fabs(x.m->value - med) / med * 100;
        Reason r;
        r.severity = Severity::fail;
        r.check = "fleet." + metric;
        r.stage = x.m->stage;
        r.node = x.node;
        r.gpu = x.m->gpu;
        r.link = x.m->link;
        r.measured = x.m->value;
        r.threshold = bound;
        r.unit = info->unit;
        std::string subject = x.m->gpu ? gpu_label(*x.m->gpu) + " " : !x.m->link.empty() ? "link " + x.m->link + " " : "";
        char pct_buf[32];
        std::snprintf(pct_buf, sizeof pct_buf, "%.1f%%", off);
        r.message = subject + info->description + " " + with_unit(x.m->value, info->unit) + " is " + pct_buf +
                    (info->higher_is_better ? " below" : " above") + " the rack median " + with_unit(med, info->unit) +
                    " (margin " + format_value(pct) + "%, " + std::to_string(items.size()) + " samples)";
        x.out->push_back(r);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------

Verdict verdict_of(const std::vector<Reason>& rs) {
  Verdict v = Verdict::pass;
  for (const auto& r : rs) {
    if (r.severity == Severity::fail) v = worst(v, Verdict::fail);
    if (r.severity == Severity::incomplete) v = worst(v, Verdict::incomplete);
  }
  return v;
}

// Adds the generic INCOMPLETE reason for a stage that did not finish.
void status_reason(Sink& s, const StageRecord& rec) {
  switch (rec.status) {
    case StageStatus::pending:
      s.incomplete("stage." + rec.stage, "stage " + rec.stage + " has not run");
      break;
    case StageStatus::interrupted:
      s.incomplete("stage." + rec.stage, "stage " + rec.stage + " was interrupted" + (rec.detail.empty() ? "" : ": " + rec.detail));
      break;
    case StageStatus::error:
      s.incomplete("stage." + rec.stage, "stage " + rec.stage + " could not run: " + (rec.detail.empty() ? "unknown error" : rec.detail));
      break;
    case StageStatus::done:
    case StageStatus::skipped:
      break;
  }
}

void set_outcome(StageRecord& rec, const std::vector<Reason>& reasons) {
  if (rec.status == StageStatus::skipped) {
    rec.outcome = "SKIPPED";
    return;
  }
  if (rec.status == StageStatus::pending) {
    rec.outcome = "PENDING";
    return;
  }
  Verdict v = rec.status == StageStatus::done ? Verdict::pass : Verdict::incomplete;
  for (const auto& r : reasons)
    if (r.stage == rec.stage) {
      if (r.severity == Severity::fail) v = worst(v, Verdict::fail);
      if (r.severity == Severity::incomplete) v = worst(v, Verdict::incomplete);
    }
  rec.outcome = std::string(to_string(v));
}

}  // namespace

std::optional<std::string> stage_blocked(const NodeRecord& node, std::string_view stage) {
  int target = stage_index(stage);
  for (const auto& rec : node.stages) {
    if (stage_index(rec.stage) >= target || is_rack_stage(rec.stage)) continue;
    if (rec.status == StageStatus::skipped) {
      if (rec.data.is_object() && rec.data.contains("blocked_reason"))
        return rec.data.value("blocked_reason", "an earlier stage did not pass");
      continue;
    }
    if (rec.outcome == "PASS") continue;
    std::string first;
    for (const auto& r : node.reasons)
      if (r.stage == rec.stage && r.severity != Severity::warn) {
        first = r.message;
        break;
      }
    std::string what = rec.outcome == "FAIL" ? "the node failed " + rec.stage
                       : rec.outcome == "PENDING" ? rec.stage + " has not run"
                                                 : rec.stage + " did not complete";
    return first.empty() ? what : what + " (" + first + ")";
  }
  return std::nullopt;
}

void judge(Report& r, const Profile& p) {
  const Level* level = p.find_level(r.run.level);
  if (!level) level = p.find_level(p.default_level);
  Level none;
  if (!level) level = &none;

  for (auto& n : r.nodes) {
    n.facts = json::object();
    n.measurements.clear();
    n.reasons.clear();
    n.gpus.clear();
  }
  for (auto& k : r.racks) {
    k.measurements.clear();
    k.reasons.clear();
  }

  // 1. Per node, per stage.
  std::vector<HealthView> health(r.nodes.size());
  std::vector<bool> health_ok(r.nodes.size(), false);
  std::vector<json> hosts(r.nodes.size());
  std::map<std::string, std::vector<HashSample>> hashes;
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    NodeRecord& n = r.nodes[i];
    for (auto& rec : n.stages) {
      Sink s{n.reasons, n.name, rec.stage};
      if (rec.stage == "health" && (rec.status == StageStatus::done || rec.status == StageStatus::error)) {
        hosts[i] = member(&rec, "facts");
        health[i] = parse_health(member(&rec, "health"));
        if (rec.status == StageStatus::done && health[i].problem.empty()) {
          health_ok[i] = true;
          judge_health_findings(s, health[i], "health");
          judge_health_rules(s, health[i], p);
        } else {
          explain_missing_health(s, rec, hosts[i], health[i].problem, "health");
        }
        n.facts = node_facts_json(health[i], hosts[i]);
        continue;
      }
      status_reason(s, rec);
      if (rec.status != StageStatus::done) continue;
      if (rec.stage == "burnin") {
        judge_burnin(s, n, rec, *level, p, health[i], hashes);
      } else if (rec.stage == "nccl_intra") {
        judge_nccl(s, n.measurements, rec, *level, "nccl_intra");
      } else if (rec.stage == "recheck") {
        HealthView after = parse_health(member(&rec, "health"));
        if (!after.problem.empty()) explain_missing_health(s, rec, member(&rec, "facts"), after.problem, "recheck");
        else if (!health_ok[i]) s.incomplete("recheck.baseline", "no health result from the start to compare with");
        else judge_recheck(s, health[i], after, p);
      }
    }
  }

  // 2. Conformance: versions are compared across every node that reported them.
  std::map<std::string, std::map<std::string, int>> drivers, cudas, vbioses;  // rack -> value -> count
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    if (!health_ok[i]) continue;
    const std::string& rack = r.nodes[i].rack;
    if (!health[i].driver_version.empty()) drivers[rack][health[i].driver_version]++;
    if (!health[i].cuda_driver_version.empty()) cudas[rack][health[i].cuda_driver_version]++;
    for (const auto& g : health[i].gpus)
      if (!g.vbios.empty()) vbioses[rack][g.vbios]++;
  }
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    NodeRecord& n = r.nodes[i];
    StageRecord* rec = n.stage("conformance");
    if (!rec || rec->status != StageStatus::done) continue;
    Sink s{n.reasons, n.name, "conformance"};
    if (!health_ok[i]) {
      s.incomplete("conformance.health", "no health result to check the node against the profile");
      continue;
    }
    if (!r.profile.note.empty()) s.fail("conformance.profile", r.profile.note);
    judge_conformance(s, n, health[i], hosts[i], p, drivers[n.rack], cudas[n.rack], vbioses[n.rack]);
  }

  // 3. GEMM result hashes: the same seeded inputs give the same bits everywhere.
  for (auto& [test, samples] : hashes) {
    std::map<std::string, int> counts;
    for (const auto& x : samples) counts[x.hash]++;
    if (counts.size() <= 1) continue;
    auto maj = majority(counts);
    for (const auto& x : samples) {
      if (maj && x.hash == *maj) continue;
      NodeRecord* n = r.node(x.node);
      Sink s{n->reasons, n->name, "burnin"};
      s.fail("burnin." + id_of(test) + ".hash",
             gpu_label(x.gpu) + ": " + test + " result hash " + x.hash.substr(0, 16) +
                 (maj ? " differs from the hash " + std::to_string(counts[*maj]) + " of " + std::to_string(samples.size()) +
                            " GPUs computed (silent data corruption)"
                      : " - the GPUs disagree with no majority: " + describe_counts(counts, "GPU")),
             x.gpu);
    }
  }

  // 4. Rack stages.
  for (auto& k : r.racks) {
    for (auto& rec : k.stages) {
      Sink s{k.reasons, "", rec.stage};
      status_reason(s, rec);
      if (rec.status != StageStatus::done || rec.stage != "nccl_inter") continue;
      judge_nccl(s, k.measurements, rec, *level, "nccl_inter");
      NcclView v = parse_nccl(member(&rec, "nccl"));
      for (const auto& pair : v.pairs) {
        Measurement m;
        m.metric = "nccl_pair_busbw_gbps";
        m.stage = "nccl_inter";
        m.link = pair.a + "~" + pair.b;
        m.value = pair.busbw_gbps;
        k.measurements.push_back(m);
      }
      for (const auto& sus : v.suspects) {
        NodeRecord* n = r.node(sus.node);
        if (!n) continue;
        Sink ns{n->reasons, n->name, "nccl_inter"};
        std::string where = sus.gpu ? " " + gpu_label(*sus.gpu) : "";
        if (!sus.rail.empty()) where += " rail " + sus.rail;
        ns.fail("nccl_inter.suspect", "inter-node NCCL localisation names this node" + where +
                                          (sus.reason.empty() ? "" : ": " + sus.reason), sus.gpu);
      }
    }
  }

  // 5. Floors and ceilings.
  for (auto& n : r.nodes) apply_floors(n.measurements, n.reasons, n.name, p);
  for (auto& k : r.racks) apply_floors(k.measurements, k.reasons, "", p);

  // 6. Fleet-relative rules, per rack.
  std::map<std::string, std::map<std::string, std::vector<FleetItem>>> fleet;
  for (auto& n : r.nodes)
    for (auto& m : n.measurements) fleet[n.rack][m.metric].push_back({&m, &n.reasons, n.name});
  for (auto& k : r.racks)
    for (auto& m : k.measurements)
      if (find_metric(m.metric) && find_metric(m.metric)->scope == MetricScope::link)
        fleet[k.name][m.metric].push_back({&m, &k.reasons, ""});
  apply_fleet(fleet, p);

  // 7. Outcomes and verdicts.
  for (auto& n : r.nodes) {
    for (auto& rec : n.stages) set_outcome(rec, n.reasons);
    n.verdict = verdict_of(n.reasons);
    bool node_incomplete = std::any_of(n.reasons.begin(), n.reasons.end(),
                                       [](const Reason& x) { return x.severity == Severity::incomplete && !x.gpu; });
    if (n.stages.empty()) {
      Sink s{n.reasons, n.name, ""};
      s.incomplete("stage.none", "no stage was planned for the node");
      n.verdict = Verdict::incomplete;
    }
    if (n.facts.contains("gpus"))
      for (const auto& g : n.facts["gpus"]) {
        GpuVerdict gv;
        gv.index = g.value("index", 0);
        gv.uuid = g.value("uuid", "");
        gv.name = g.value("name", "");
        for (const auto& x : n.reasons)
          if (x.gpu && *x.gpu == gv.index) gv.reasons.push_back(x);
        gv.verdict = verdict_of(gv.reasons);
        if (gv.verdict == Verdict::pass && node_incomplete) gv.verdict = Verdict::incomplete;
        n.gpus.push_back(gv);
      }
  }
  Summary sum;
  sum.nodes_total = static_cast<int>(r.nodes.size());
  for (const auto& n : r.nodes) {
    if (n.verdict == Verdict::pass) ++sum.nodes_pass;
    if (n.verdict == Verdict::fail) ++sum.nodes_fail;
    if (n.verdict == Verdict::incomplete) ++sum.nodes_incomplete;
    if (const StageRecord* reach = n.stage("reachability"); reach && reach->status == StageStatus::error) ++sum.unreachable;
  }
  Verdict overall = r.racks.empty() ? Verdict::incomplete : Verdict::pass;
  for (auto& k : r.racks) {
    for (auto& rec : k.stages) set_outcome(rec, k.reasons);
    Verdict v = verdict_of(k.reasons);
    for (const auto& name : k.nodes) {
      const NodeRecord* n = r.node(name);
      if (!n || n->verdict == Verdict::pass) continue;
      int fails = 0;
      std::string first;
      for (const auto& x : n->reasons)
        if (x.severity == (n->verdict == Verdict::fail ? Severity::fail : Severity::incomplete)) {
          if (first.empty()) first = x.message;
          ++fails;
        }
      Reason x;
      x.severity = n->verdict == Verdict::fail ? Severity::fail : Severity::incomplete;
      x.check = "rack.node";
      x.node = name;
      x.message = "node " + name + " " + std::string(to_string(n->verdict)) + " (" + std::to_string(fails) + " " +
                  (fails == 1 ? "reason" : "reasons") + (first.empty() ? "" : "; first: " + first) + ")";
      k.reasons.push_back(x);
      v = worst(v, n->verdict);
    }
    if (k.nodes.empty()) {
      Sink s{k.reasons, "", ""};
      s.incomplete("rack.empty", "the rack has no nodes");
      v = worst(v, Verdict::incomplete);
    }
    if (!r.profile.note.empty()) {
      Sink s{k.reasons, "", "conformance"};
      s.fail("rack.profile", r.profile.note);
      v = Verdict::fail;
    }
    k.verdict = v;
    k.certified = v == Verdict::pass;
    overall = worst(overall, v);
  }
  sum.verdict = overall;
  sum.certified = overall == Verdict::pass && !r.nodes.empty();
  bool interrupted = r.run.status == "interrupted";
  sum.exit_code = interrupted ? 130 : (sum.certified ? 0 : 1) | (sum.unreachable > 0 ? 4 : 0);
  r.summary = sum;
}

}  // namespace aicloud::certify
