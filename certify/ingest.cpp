// Tolerant readers for the node-side JSON. Types are checked field by field
// (a string where a number belongs counts as absent, not as zero), and a
// document that is not the expected command's output is flagged in
// `problem` so that the stage is INCOMPLETE with a reason.
#include "certify/ingest.hpp"

#include <algorithm>
#include <cstdlib>

#include "common/strings.hpp"

namespace aicloud::certify {

using nlohmann::json;

namespace {

const json* get(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::optional<double> num(const json& j, std::initializer_list<const char*> path) {
  const json* v = get(j, path);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<int> integer(const json& j, std::initializer_list<const char*> path) {
  const json* v = get(j, path);
  if (!v || !v->is_number()) return std::nullopt;
  return static_cast<int>(v->get<double>());
}

std::optional<bool> boolean(const json& j, std::initializer_list<const char*> path) {
  const json* v = get(j, path);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

std::string str(const json& j, std::initializer_list<const char*> path) {
  const json* v = get(j, path);
  if (!v || !v->is_string()) return "";
  return v->get<std::string>();
}

std::vector<std::string> strings(const json& j, std::initializer_list<const char*> path) {
  std::vector<std::string> out;
  const json* v = get(j, path);
  if (!v || !v->is_array()) return out;
  for (const auto& x : *v)
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

// Checks that a document is the named command's output: "schema" is
// "aicloudctl.<command>/<major>" with a major version this reader knows.
std::string check_schema(const json& j, const char* command) {
  if (!j.is_object()) return "the output is not a JSON object";
  std::string schema = str(j, {"schema"});
  std::string want = std::string("aicloudctl.") + command + "/";
  if (schema.empty()) return std::string("not 'aicloudctl ") + command + " --json' output (no \"schema\")";
  if (schema.rfind(want, 0) != 0) return "expected " + want + "1 output, got '" + schema + "'";
  if (schema.substr(want.size()) != "1")
    return "'" + schema + "' is a newer format than this certify reads (" + want + "1); use the same aicloudctl version on the nodes";
  return "";
}

// "00000000:18:00.0" and "0000:18:00" name the same GPU: compare bus and device.
std::string pci_key(std::string_view id) {
  auto parts = split(to_lower(id), ':', false);
  if (parts.size() < 2) return to_lower(id);
  std::string dev = parts.back();
  if (auto dot = dev.find('.'); dot != std::string::npos) dev = dev.substr(0, dot);
  std::string bus = parts[parts.size() - 2];
  while (bus.size() > 2 && bus[0] == '0') bus.erase(0, 1);
  return bus + ":" + dev;
}

}  // namespace

// ---------------------------------------------------------------------------
// Node facts
// ---------------------------------------------------------------------------

const std::string& node_facts_script() {
  // POSIX sh; every line "key<TAB>value...". Reads only /proc, /sys and
  // /etc/os-release, so it needs no privileges and no tools beyond coreutils.
  static const std::string script = R"SH(
printf 'hostname\t%s\n' "$(uname -n)"
printf 'kernel\t%s\n' "$(uname -r)"
if [ -r /etc/os-release ]; then (. /etc/os-release; printf 'os\t%s\n' "$PRETTY_NAME"); fi
printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
printf 'memory_kib\t%s\n' "$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\).*/\1/p' /proc/meminfo 2>/dev/null)"
if [ -r /proc/driver/nvidia/version ]; then printf 'nvidia_module\t%s\n' "$(head -n 1 /proc/driver/nvidia/version)"; fi
lib=
for l in $( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | sed -n 's/.*libnvidia-ml\.so\.1 .*=> //p'); do lib=$l; break; done
if [ -z "$lib" ]; then
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64; do
    if [ -e "$d/libnvidia-ml.so.1" ]; then lib=$d/libnvidia-ml.so.1; break; fi
  done
fi
if [ -n "$lib" ]; then printf 'nvml_library\t%s\n' "$lib"; fi
for p in /sys/class/infiniband/*/ports/*; do
  [ -d "$p" ] || continue
  dev=${p%/ports/*}; dev=${dev##*/}
  printf 'ib_port\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dev" "${p##*/}" "$(cat "$p/state" 2>/dev/null)" \
    "$(cat "$p/rate" 2>/dev/null)" "$(cat "$p/link_layer" 2>/dev/null)" "$(cat "/sys/class/infiniband/$dev/fw_ver" 2>/dev/null)"
done
)SH";
  return script;
}

json parse_node_facts(const std::string& output) {
  json f = {{"hostname", nullptr}, {"kernel", nullptr},       {"os", nullptr},
            {"cpu", nullptr},      {"memory_kib", nullptr},   {"nvidia_module", {{"present", false}, {"version", nullptr}}},
            {"nvml_library", nullptr}, {"ib_ports", json::array()}};
  for (const auto& raw : split(output, '\n', false)) {
    auto cols = split(raw, '\t');
    if (cols.size() < 2) continue;
    const std::string& key = cols[0];
    std::string value(trim(cols[1]));
    if (key == "hostname" || key == "kernel" || key == "os" || key == "cpu" || key == "nvml_library") {
      if (!value.empty()) f[key] = value;
    } else if (key == "memory_kib") {
      if (!value.empty() && std::all_of(value.begin(), value.end(), ::isdigit)) f[key] = std::atoll(value.c_str());
    } else if (key == "nvidia_module") {
      // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.133.20  Fri Feb 28 ..."
      f["nvidia_module"]["present"] = true;
      f["nvidia_module"]["line"] = value;
      auto pos = value.find("Kernel Module");
      if (pos != std::string::npos) {
        auto words = split(value.substr(pos + 13), ' ', false);
        if (!words.empty()) f["nvidia_module"]["version"] = words[0];
      }
    } else if (key == "ib_port" && cols.size() >= 7) {
      // state "4: ACTIVE"; rate "400 Gb/sec (4X NDR)"
      std::string state(trim(cols[3]));
      if (auto c = state.find(':'); c != std::string::npos) state = std::string(trim(state.substr(c + 1)));
      json port = {{"device", cols[1]},
                   {"port", std::atoi(cols[2].c_str())},
                   {"state", state},
                   {"rate_gbps", nullptr},
                   {"link_layer", std::string(trim(cols[5]))},
                   {"fw", std::string(trim(cols[6]))}};
      char* end = nullptr;
      double rate = std::strtod(cols[4].c_str(), &end);
      if (end != cols[4].c_str()) port["rate_gbps"] = rate;
      f["ib_ports"].push_back(port);
    }
  }
  return f;
}

// ---------------------------------------------------------------------------
// health
// ---------------------------------------------------------------------------

HealthView parse_health(const json& j) {
  HealthView v;
  v.problem = check_schema(j, "health");
  if (!v.problem.empty()) return v;
  v.verdict = str(j, {"verdict"});
  if (v.verdict.empty()) {
    v.problem = "the health output has no verdict";
    return v;
  }
  v.driver_version = str(j, {"versions", "driver"});
  v.cuda_driver_version = str(j, {"versions", "cuda_driver"});
  if (const json* fs = get(j, {"findings"}); fs && fs->is_array()) {
    for (const auto& f : *fs) {
      HealthFinding hf;
      hf.check = str(f, {"check"});
      hf.verdict = str(f, {"verdict"});
      hf.gpu = integer(f, {"gpu"});
      hf.reason = str(f, {"reason"});
      hf.remediation = str(f, {"remediation"});
      v.findings.push_back(hf);
    }
  }
  if (const json* gs = get(j, {"gpus"}); gs && gs->is_array()) {
    v.has_gpus_field = true;
    for (std::size_t i = 0; i < gs->size(); ++i) {
      const json& g = (*gs)[i];
      GpuHealth h;
      h.index = integer(g, {"index"}).value_or(static_cast<int>(i));
      h.error = str(g, {"error"});
      h.name = str(g, {"name"});
      h.uuid = str(g, {"uuid"});
      h.serial = str(g, {"serial"});
      h.pci_bus_id = str(g, {"pci_bus_id"});
      h.vbios = str(g, {"vbios"});
      h.persistence_mode = boolean(g, {"persistence_mode"});
      h.mig_mode = boolean(g, {"mig_mode", "current"});
      h.ecc_mode = boolean(g, {"ecc_mode", "current"});
      if (auto bytes = num(g, {"memory_bytes", "total"})) h.memory_total_mib = *bytes / (1024.0 * 1024.0);
      h.ecc_volatile_corrected = num(g, {"ecc_errors", "volatile", "corrected"});
      h.ecc_volatile_uncorrected = num(g, {"ecc_errors", "volatile", "uncorrected"});
      h.ecc_aggregate_corrected = num(g, {"ecc_errors", "aggregate", "corrected"});
      h.ecc_aggregate_uncorrected = num(g, {"ecc_errors", "aggregate", "uncorrected"});
      // Per-location counters (Azure's SRAM/DRAM rules), where health reports them.
      h.sram_corrected = num(g, {"ecc_errors", "sram", "corrected"});
      h.sram_uncorrected = num(g, {"ecc_errors", "sram", "uncorrected"});
      h.dram_corrected = num(g, {"ecc_errors", "dram", "corrected"});
      h.dram_uncorrected = num(g, {"ecc_errors", "dram", "uncorrected"});
      if (const json* rr = get(g, {"row_remap"}); rr && rr->is_object()) {
        h.has_row_remap = true;
        h.remap_correctable = num(*rr, {"corrected_rows"});
        h.remap_uncorrectable = num(*rr, {"uncorrected_rows"});
        h.remap_pending = boolean(*rr, {"pending"});
        h.remap_failed = boolean(*rr, {"failure"});
      }
      if (const json* rp = get(g, {"retired_pages"}); rp && rp->is_object()) {
        h.has_retired_pages = true;
        h.retired_single_bit = num(*rp, {"single_bit"});
        h.retired_double_bit = num(*rp, {"double_bit"});
        h.retired_pending = boolean(*rp, {"pending"});
      }
      if (const json* ce = get(g, {"clock_event_reasons", "active"}); ce && ce->is_array())
        h.clock_events = strings(g, {"clock_event_reasons", "active"});
      h.pcie_gen = integer(g, {"pcie", "gen"});
      h.pcie_width = integer(g, {"pcie", "width"});
      h.pcie_max_gen = integer(g, {"pcie", "max_gen"});
      h.pcie_max_width = integer(g, {"pcie", "max_width"});
      h.pcie_replay = num(g, {"pcie", "replay_counter"});
      if (const json* nl = get(g, {"nvlink"}); nl && nl->is_array()) {
        int active = 0;
        double errors = 0;
        bool counters_ok = true;
        for (const auto& link : *nl) {
          if (boolean(link, {"active"}).value_or(false)) ++active;
          for (const char* k : {"replay", "recovery", "crc_flit", "crc_data"}) {
            auto e = num(link, {"errors", k});
            if (e) errors += *e;
            else counters_ok = false;
          }
        }
        h.nvlink_active = active;
        h.nvlink_links = static_cast<int>(nl->size());
        if (counters_ok) h.nvlink_errors = errors;
      }
      h.temperature_c = num(g, {"temperature_c", "gpu"});
      h.memory_temperature_c = num(g, {"temperature_c", "hbm"});
      h.power_w = num(g, {"power_w", "draw"});
      h.power_limit_w = num(g, {"power_w", "limit"});
      h.verdict = str(g, {"verdict"});
      v.gpus.push_back(h);
    }
  }
  if (const json* xs = get(j, {"xid", "events"}); xs && xs->is_array()) {
    for (const auto& x : *xs) {
      XidEvent e;
      e.xid = integer(x, {"xid"}).value_or(0);
      e.pci_bus_id = str(x, {"pci_bus_id"});
      if (auto t = num(x, {"time_s"})) e.time = json(*t).dump();
      e.description = str(x, {"description"});
      e.message = str(x, {"message"});
      if (boolean(x, {"nvswitch"}).value_or(false)) continue;  // NVSwitch SXids: health WARNs on them
      for (const auto& g : v.gpus)
        if (!e.pci_bus_id.empty() && pci_key(g.pci_bus_id) == pci_key(e.pci_bus_id)) e.gpu = g.index;
      if (e.xid > 0) v.xids.push_back(e);
    }
  }
  return v;
}

// ---------------------------------------------------------------------------
// burnin
// ---------------------------------------------------------------------------

bool BurninTest::waived() const {
  if (verdict == "WAIVED") return true;
  return result.is_object() && result.contains("waived") && result["waived"].is_string() &&
         !result["waived"].get<std::string>().empty();
}

std::optional<double> BurninTest::metric(const std::string& key) const {
  if (!result.is_object()) return std::nullopt;
  auto it = result.find(key);
  if (it == result.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

const BurninTest* GpuBurnin::test(const std::string& name) const {
  for (const auto& t : tests)
    if (t.name == name) return &t;
  return nullptr;
}

std::string gemm_metric(const std::string& test) {
  std::string m = test;
  for (auto& c : m)
    if (c == '-') c = '_';
  return m + "_tflops";
}

BurninView parse_burnin(const json& j) {
  BurninView v;
  v.problem = check_schema(j, "burnin");
  if (!v.problem.empty()) return v;
  v.verdict = str(j, {"verdict"});
  if (v.verdict.empty()) {
    v.problem = "the burnin output has no verdict";
    return v;
  }
  v.reasons = strings(j, {"reasons"});
  v.interrupted = boolean(j, {"interrupted"}).value_or(false);
  if (const json* gs = get(j, {"gpus"}); gs && gs->is_array()) {
    for (std::size_t i = 0; i < gs->size(); ++i) {
      const json& g = (*gs)[i];
      GpuBurnin b;
      b.index = integer(g, {"index"}).value_or(static_cast<int>(i));
      b.uuid = str(g, {"uuid"});
      b.verdict = str(g, {"verdict"});
      b.reasons = strings(g, {"reasons"});
      b.blocked = str(g, {"blocked"});
      if (const json* ts = get(g, {"tests"}); ts && ts->is_array()) {
        for (const auto& t : *ts) {
          BurninTest bt;
          bt.name = str(t, {"name"});
          bt.verdict = str(t, {"verdict"});
          bt.reasons = strings(t, {"reasons"});
          if (const json* r = get(t, {"result"})) bt.result = *r;
          if (bt.name == "telemetry" && bt.result.is_object() && num(bt.result, {"samples"}).value_or(0) > 0) {
            b.has_telemetry = true;
            b.power_max_w = num(bt.result, {"max_power_w"});
            b.gpu_temp_max_c = num(bt.result, {"max_temp_gpu_c"});
            b.hbm_temp_max_c = num(bt.result, {"max_temp_hbm_c"});
            b.clock_events_seen = strings(bt.result, {"clock_event_reasons_seen"});
          }
          b.tests.push_back(bt);
        }
      }
      v.gpus.push_back(b);
    }
  }
  if (const json* nts = get(j, {"node_tests"}); nts && nts->is_array()) {
    for (const auto& t : *nts) {
      if (str(t, {"name"}) != "p2p") continue;
      v.has_p2p = true;
      v.p2p_verdict = str(t, {"verdict"});
      v.p2p_reasons = strings(t, {"reasons"});
      if (const json* pairs = get(t, {"result", "pairs"}); pairs && pairs->is_array())
        for (const auto& x : *pairs) {
          auto a = integer(x, {"src"}), b = integer(x, {"dst"});
          auto bw = num(x, {"gbps"});
          if (a && b && bw) v.p2p_unidir.push_back({*a, *b, *bw});
        }
      if (const json* pairs = get(t, {"result", "bidir"}); pairs && pairs->is_array())
        for (const auto& x : *pairs) {
          auto a = integer(x, {"a"}), b = integer(x, {"b"});
          auto bw = num(x, {"gbps"});
          if (a && b && bw) v.p2p_bidir.push_back({*a, *b, *bw});
        }
    }
  }
  return v;
}

json burnin_timeseries(const json& burnin) {
  const json* gs = get(burnin, {"gpus"});
  if (!gs || !gs->is_array()) return nullptr;
  json out = {{"interval_s", 1}, {"gpus", json::array()}};
  if (auto start = str(burnin, {"started"}); !start.empty()) out["start"] = start;
  std::vector<std::string> fields;
  for (const auto& g : *gs) {
    const json* tel = get(g, {"telemetry"});
    if (!tel || !tel->is_object() || !tel->contains("t")) continue;
    json one = {{"index", g.value("index", 0)}};
    for (const auto& [k, col] : tel->items()) {
      if (k == "phases") {
        if (!out.contains("phases")) out["phases"] = col;
        continue;
      }
      if (!col.is_array()) continue;
      one[k == "t" ? "t_s" : k] = col;
      if (k != "t" && std::find(fields.begin(), fields.end(), k) == fields.end()) fields.push_back(k);
    }
    out["gpus"].push_back(one);
  }
  if (out["gpus"].empty()) return nullptr;
  out["fields"] = fields;
  return out;
}

json burnin_without_series(json burnin) {
  if (burnin.is_object() && burnin.contains("gpus") && burnin["gpus"].is_array())
    for (auto& g : burnin["gpus"])
      if (g.is_object()) g.erase("telemetry");
  return burnin;
}

// ---------------------------------------------------------------------------
// nccl
// ---------------------------------------------------------------------------

std::optional<double> NcclResult::busbw_gbps() const {
  std::optional<double> out;
  for (const auto& p : {out_of_place, in_place})
    if (p && p->busbw_gbps) out = out ? std::min(*out, *p->busbw_gbps) : *p->busbw_gbps;
  return out;
}

double NcclResult::wrong() const {
  double w = 0;
  for (const auto& p : {out_of_place, in_place})
    if (p && p->wrong) w += *p->wrong;
  return w;
}

const NcclResult* NcclView::at_size(const std::string& collective, std::uint64_t size) const {
  const NcclResult* best = nullptr;
  for (const auto& r : results) {
    if (r.collective != collective || r.size_bytes < size) continue;
    if (r.size_bytes == size) return &r;
    if (!best || r.size_bytes > best->size_bytes) best = &r;
  }
  return best;
}

NcclView parse_nccl(const json& j) {
  NcclView v;
  v.problem = check_schema(j, "nccl");
  if (!v.problem.empty()) return v;
  std::string status = str(j, {"status"});
  if (status == "ok") v.verdict = "PASS";
  else if (status == "failed") v.verdict = "FAIL";
  else if (status == "interrupted") v.verdict = "INCOMPLETE";
  else {
    v.problem = "the nccl output has no known status ('" + status + "')";
    return v;
  }
  if (const json* ts = get(j, {"tests"}); ts && ts->is_array()) {
    for (const auto& t : *ts) {
      std::string coll = str(t, {"collective"});
      v.nranks = std::max(v.nranks, integer(t, {"nranks"}).value_or(0));
      const json* rs = get(t, {"results"});
      if (coll.empty() || !rs || !rs->is_array()) continue;
      for (const auto& r : *rs) {
        NcclResult nr;
        nr.collective = coll;
        nr.size_bytes = static_cast<std::uint64_t>(num(r, {"size"}).value_or(0));
        for (const char* place : {"out_of_place", "in_place"}) {
          const json* p = get(r, {place});
          if (!p || !p->is_object()) continue;
          NcclPlacement pl;
          pl.busbw_gbps = num(*p, {"busbw_gbps"});
          pl.algbw_gbps = num(*p, {"algbw_gbps"});
          pl.time_us_median = num(*p, {"time_us"});
          pl.wrong = num(*p, {"wrong"});
          if (nr.algo.empty()) nr.algo = str(*p, {"algorithm"});
          if (nr.proto.empty()) nr.proto = str(*p, {"protocol"});
          (std::string(place) == "out_of_place" ? nr.out_of_place : nr.in_place) = pl;
        }
        v.results.push_back(nr);
      }
    }
  }
  if (const json* ps = get(j, {"problems"}); ps && ps->is_array()) {
    for (const auto& p : *ps) {
      std::string msg;
      if (auto rank = integer(p, {"rank"})) msg = "rank " + std::to_string(*rank) + " ";
      msg += str(p, {"phase"});
      std::string kind = str(p, {"kind"});
      if (!kind.empty()) msg += (msg.empty() || msg.back() == ' ' ? "" : " ") + kind;
      std::string text = str(p, {"message"});
      if (!text.empty()) msg += ": " + text;
      v.errors.push_back(std::string(trim(msg)));
    }
  }
  // Localisation (fleet mode, phase 2): the shape certification expects.
  if (const json* ps = get(j, {"localization", "pairs"}); ps && ps->is_array())
    for (const auto& p : *ps) {
      auto bw = num(p, {"busbw_gbps"});
      std::string a = str(p, {"a"}), b = str(p, {"b"});
      if (bw && !a.empty() && !b.empty()) v.pairs.push_back({a, b, *bw});
    }
  if (const json* ss = get(j, {"localization", "suspects"}); ss && ss->is_array())
    for (const auto& x : *ss) {
      NcclSuspect ns{str(x, {"node"}), integer(x, {"gpu"}), str(x, {"rail"}), str(x, {"reason"})};
      if (!ns.node.empty()) v.suspects.push_back(ns);
    }
  return v;
}

}  // namespace aicloud::certify
