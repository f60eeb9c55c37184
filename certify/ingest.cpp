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

// Checks that a document is the named command's output.
std::string check_command(const json& j, const char* command) {
  if (!j.is_object()) return "the output is not a JSON object";
  std::string c = str(j, {"command"});
  if (!c.empty() && c != command) return std::string("expected '") + command + "' output, got '" + c + "'";
  if (str(j, {"verdict"}).empty()) return "the output has no 'verdict'";
  return "";
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
  v.problem = check_command(j, "health");
  if (!v.problem.empty()) return v;
  v.verdict = str(j, {"verdict"});
  v.driver_version = str(j, {"driver", "version"});
  v.cuda_driver_version = str(j, {"driver", "cuda_driver_version"});
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
      h.name = str(g, {"name"});
      h.uuid = str(g, {"uuid"});
      h.serial = str(g, {"serial"});
      h.pci_bus_id = str(g, {"pci_bus_id"});
      h.vbios = str(g, {"vbios"});
      h.persistence_mode = boolean(g, {"persistence_mode"});
      h.mig_mode = boolean(g, {"mig_mode"});
      h.ecc_mode = boolean(g, {"ecc_mode"});
      h.memory_total_mib = num(g, {"memory_total_mib"});
      h.ecc_volatile_corrected = num(g, {"ecc", "volatile", "corrected"});
      h.ecc_volatile_uncorrected = num(g, {"ecc", "volatile", "uncorrected"});
      h.ecc_aggregate_corrected = num(g, {"ecc", "aggregate", "corrected"});
      h.ecc_aggregate_uncorrected = num(g, {"ecc", "aggregate", "uncorrected"});
      h.sram_corrected = num(g, {"ecc", "sram", "corrected"});
      h.sram_uncorrected = num(g, {"ecc", "sram", "uncorrected"});
      h.dram_corrected = num(g, {"ecc", "dram", "corrected"});
      h.dram_uncorrected = num(g, {"ecc", "dram", "uncorrected"});
      if (const json* rr = get(g, {"row_remap"}); rr && rr->is_object()) {
        h.has_row_remap = true;
        h.remap_correctable = num(*rr, {"correctable"});
        h.remap_uncorrectable = num(*rr, {"uncorrectable"});
        h.remap_pending = boolean(*rr, {"pending"});
        h.remap_failed = boolean(*rr, {"failed"});
      }
      if (const json* rp = get(g, {"retired_pages"}); rp && rp->is_object()) {
        h.has_retired_pages = true;
        h.retired_single_bit = num(*rp, {"single_bit"});
        h.retired_double_bit = num(*rp, {"double_bit"});
        h.retired_pending = boolean(*rp, {"pending"});
      }
      if (const json* ce = get(g, {"clock_events"}); ce && ce->is_array()) h.clock_events = strings(g, {"clock_events"});
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
            auto e = num(link, {k});
            if (e) errors += *e;
            else counters_ok = false;
          }
        }
        h.nvlink_active = active;
        h.nvlink_links = static_cast<int>(nl->size());
        if (counters_ok) h.nvlink_errors = errors;
      }
      h.temperature_c = num(g, {"temperature_c"});
      h.memory_temperature_c = num(g, {"memory_temperature_c"});
      h.power_w = num(g, {"power_w"});
      h.power_limit_w = num(g, {"power_limit_w"});
      h.verdict = str(g, {"verdict"});
      v.gpus.push_back(h);
    }
  }
  if (const json* xs = get(j, {"xid_events"}); xs && xs->is_array()) {
    for (const auto& x : *xs) {
      XidEvent e;
      e.xid = integer(x, {"xid"}).value_or(0);
      e.gpu = integer(x, {"gpu"});
      e.pci_bus_id = str(x, {"pci_bus_id"});
      e.time = str(x, {"time"});
      e.message = str(x, {"message"});
      if (e.xid > 0) v.xids.push_back(e);
    }
  }
  return v;
}

// ---------------------------------------------------------------------------
// burnin
// ---------------------------------------------------------------------------

std::optional<double> BurninTest::metric(const std::string& key) const {
  auto it = metrics.find(key);
  if (it == metrics.end() || !it->second.is_number()) return std::nullopt;
  return it->second.get<double>();
}

const BurninTest* GpuBurnin::test(const std::string& name) const {
  for (const auto& t : tests)
    if (t.name == name) return &t;
  return nullptr;
}

BurninView parse_burnin(const json& j) {
  BurninView v;
  v.problem = check_command(j, "burnin");
  if (!v.problem.empty()) return v;
  v.verdict = str(j, {"verdict"});
  v.reasons = strings(j, {"reasons"});
  if (const json* gs = get(j, {"gpus"}); gs && gs->is_array()) {
    for (std::size_t i = 0; i < gs->size(); ++i) {
      const json& g = (*gs)[i];
      GpuBurnin b;
      b.index = integer(g, {"index"}).value_or(static_cast<int>(i));
      b.uuid = str(g, {"uuid"});
      b.verdict = str(g, {"verdict"});
      b.reasons = strings(g, {"reasons"});
      if (const json* ts = get(g, {"tests"}); ts && ts->is_array()) {
        for (const auto& t : *ts) {
          BurninTest bt;
          bt.name = str(t, {"name"});
          bt.verdict = str(t, {"verdict"});
          bt.reasons = strings(t, {"reasons"});
          if (const json* m = get(t, {"metrics"}); m && m->is_object())
            for (const auto& [k, val] : m->items()) bt.metrics[k] = val;
          b.tests.push_back(bt);
        }
      }
      if (const json* tel = get(g, {"telemetry"}); tel && tel->is_object()) {
        b.has_telemetry = true;
        b.power_max_w = num(*tel, {"power_max_w"});
        b.power_limit_w = num(*tel, {"power_limit_w"});
        b.gpu_temp_max_c = num(*tel, {"gpu_temp_max_c"});
        b.hbm_temp_max_c = num(*tel, {"hbm_temp_max_c"});
        if (const json* ce = get(*tel, {"clock_events"}); ce && ce->is_object())
          for (const auto& [k, val] : ce->items())
            if (val.is_number()) b.clock_events[k] = val.get<double>();
      }
      v.gpus.push_back(b);
    }
  }
  if (const json* p = get(j, {"p2p"}); p && p->is_object()) {
    v.has_p2p = true;
    v.p2p_verdict = str(*p, {"verdict"});
    if (const json* pairs = get(*p, {"pairs"}); pairs && pairs->is_array())
      for (const auto& x : *pairs) {
        P2pPair pp;
        pp.src = integer(x, {"src"}).value_or(-1);
        pp.dst = integer(x, {"dst"}).value_or(-1);
        pp.unidir_gbps = num(x, {"unidir_gbps"});
        pp.bidir_gbps = num(x, {"bidir_gbps"});
        if (pp.src >= 0 && pp.dst >= 0) v.p2p.push_back(pp);
      }
  }
  if (const json* ts = get(j, {"timeseries"})) v.timeseries = *ts;
  return v;
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
  v.problem = check_command(j, "nccl");
  if (!v.problem.empty()) return v;
  v.verdict = str(j, {"verdict"});
  v.nranks = integer(j, {"nranks"}).value_or(0);
  if (const json* rs = get(j, {"results"}); rs && rs->is_array()) {
    for (const auto& r : *rs) {
      NcclResult nr;
      nr.collective = str(r, {"collective"});
      nr.size_bytes = static_cast<std::uint64_t>(num(r, {"size_bytes"}).value_or(0));
      nr.algo = str(r, {"algo"});
      nr.proto = str(r, {"proto"});
      for (const char* place : {"out_of_place", "in_place"}) {
        const json* p = get(r, {place});
        if (!p || !p->is_object()) continue;
        NcclPlacement pl;
        pl.busbw_gbps = num(*p, {"busbw_gbps"});
        pl.algbw_gbps = num(*p, {"algbw_gbps"});
        pl.time_us_median = num(*p, {"time_us", "median"});
        pl.wrong = num(*p, {"wrong"});
        (std::string(place) == "out_of_place" ? nr.out_of_place : nr.in_place) = pl;
      }
      if (!nr.collective.empty()) v.results.push_back(nr);
    }
  }
  if (const json* es = get(j, {"errors"}); es && es->is_array()) {
    for (const auto& e : *es) {
      std::string msg = str(e, {"phase"});
      msg += msg.empty() ? str(e, {"message"}) : ": " + str(e, {"message"});
      if (const json* ranks = get(e, {"ranks"}); ranks && ranks->is_array() && !ranks->empty())
        msg += " (ranks " + ranks->dump() + ")";
      v.errors.push_back(msg);
    }
  }
  if (const json* ps = get(j, {"localization", "pairs"}); ps && ps->is_array())
    for (const auto& p : *ps) {
      auto bw = num(p, {"busbw_gbps"});
      std::string a = str(p, {"a"}), b = str(p, {"b"});
      if (bw && !a.empty() && !b.empty()) v.pairs.push_back({a, b, *bw});
    }
  if (const json* ss = get(j, {"localization", "suspects"}); ss && ss->is_array())
    for (const auto& s : *ss) {
      NcclSuspect ns{str(s, {"node"}), integer(s, {"gpu"}), str(s, {"rail"}), str(s, {"reason"})};
      if (!ns.node.empty()) v.suspects.push_back(ns);
    }
  return v;
}

}  // namespace aicloud::certify
