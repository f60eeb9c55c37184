// Health rules and the `health` command (see health.hpp). Each rule reads
// one group of facts and says PASS, WARN or FAIL with the reason a
// technician needs; readings that NVML could not provide are either facts
// ("not supported on this GPU") or faults ("GPU is lost"), never zeros.
#include "burnin/health.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <set>

#include "burnin/facts_json.hpp"
#include "common/hostinfo.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"

namespace aicloud::burnin {

using nlohmann::json;

namespace {

std::string gpu_label(const gpu::GpuFacts& f) { return "GPU " + std::to_string(f.index); }

Finding make(const std::string& check, std::optional<unsigned> gpu, Verdict v, std::string reason,
             std::string fix = "") {
  return Finding{check, gpu, v, std::move(reason), std::move(fix)};
}

template <typename T>
bool lost(const gpu::Reading<T>& r) {
  return r.gpu_lost();
}

void ecc_rules(const gpu::GpuFacts& f, std::vector<Finding>& out) {
  const auto& e = f.ecc;
  unsigned i = f.index;
  if (!e.volatile_uncorrected.ok() && !e.aggregate_uncorrected.ok()) {
    if (e.volatile_uncorrected.unsupported())
      out.push_back(make("ecc_errors", i, Verdict::warn, "ECC error counters are not supported on this GPU",
                         "use a datacenter GPU with ECC for sale-grade capacity"));
    else
      out.push_back(make("ecc_errors", i, Verdict::fail, "cannot read ECC error counters: " + e.volatile_uncorrected.error,
                         "check 'nvidia-smi -q -d ECC'; reset the GPU"));
    return;
  }
  unsigned long long vu = e.volatile_uncorrected.value_or(0), au = e.aggregate_uncorrected.value_or(0);
  unsigned long long vc = e.volatile_corrected.value_or(0), ac = e.aggregate_corrected.value_or(0);
  if (vu > 0) {
    out.push_back(make("ecc_errors", i, Verdict::fail,
                       std::to_string(vu) + " uncorrectable ECC error(s) since the driver loaded",
                       "reset the GPU, check row remapping, re-run burn-in; RMA if they return"));
  } else if (au > 0) {
    out.push_back(make("ecc_errors", i, Verdict::warn,
                       std::to_string(au) + " uncorrectable ECC error(s) in the GPU's lifetime (none since the driver loaded)",
                       "check that row remapping is not pending or failed; re-run burn-in"));
  } else if (vc >= k_volatile_corrected_warn) {
    out.push_back(make("ecc_errors", i, Verdict::warn,
                       std::to_string(vc) + " corrected ECC errors since the driver loaded (>= " +
                           std::to_string(k_volatile_corrected_warn) + ")",
                       "watch the rate during burn-in; RMA if it keeps climbing"));
  } else {
    out.push_back(make("ecc_errors", i, Verdict::pass,
                       "no uncorrectable ECC errors (" + std::to_string(vc) + " corrected since driver load, " +
                           std::to_string(ac) + " lifetime)"));
  }
}

void remap_rules(const gpu::GpuFacts& f, std::vector<Finding>& out) {
  unsigned i = f.index;
  if (f.remap.ok()) {
    const auto& r = *f.remap;
    if (r.failure)
      out.push_back(make("row_remap", i, Verdict::fail, "a row remapping has failed: the GPU ran out of spare rows",
                         "RMA the GPU"));
    else if (r.pending)
      out.push_back(make("row_remap", i, Verdict::fail, "a row remapping is pending and needs a GPU reset to take effect",
                         "reset the GPU (nvidia-smi -r -i " + std::to_string(i) + ") or reboot, then re-run health"));
    else
      out.push_back(make("row_remap", i, Verdict::pass,
                         "no pending or failed remaps (" + std::to_string(r.uncorrected_rows) + " uncorrectable, " +
                             std::to_string(r.corrected_rows) + " correctable rows remapped)"));
    if (f.remap_histogram.ok() && f.remap_histogram->none > 0)
      out.push_back(make("row_remap", i, Verdict::warn,
                         std::to_string(f.remap_histogram->none) + " memory bank(s) have no spare rows left",
                         "the next uncorrectable error in those banks cannot be remapped; plan an RMA"));
    return;
  }
  if (lost(f.remap)) {
    out.push_back(make("row_remap", i, Verdict::fail, "cannot read row remapping: " + f.remap.error, "reset the GPU or reboot"));
    return;
  }
  // Pre-Ampere GPUs retire pages instead of remapping rows.
  if (f.retired.ok()) {
    const auto& p = *f.retired;
    unsigned total = p.single_bit + p.double_bit;
    if (p.pending)
      out.push_back(make("retired_pages", i, Verdict::fail, "a page retirement is pending",
                         "reboot or reset the GPU to retire the page, then re-run health"));
    else if (total >= k_retired_pages_fail)
      out.push_back(make("retired_pages", i, Verdict::fail, std::to_string(total) + " retired pages (>= " +
                                                               std::to_string(k_retired_pages_fail) + ")",
                         "RMA the GPU"));
    else if (total > 0)
      out.push_back(make("retired_pages", i, Verdict::warn, std::to_string(total) + " retired page(s)",
                         "watch for more; RMA at 60"));
    else
      out.push_back(make("retired_pages", i, Verdict::pass, "no retired pages"));
    return;
  }
  if (f.remap.unsupported() && f.retired.unsupported()) {
    out.push_back(make("row_remap", i, Verdict::pass, "neither row remapping nor page retirement is supported on this GPU"));
    return;
  }
  out.push_back(make("row_remap", i, Verdict::warn, "cannot read row remapping: " + f.remap.error,
                     "check 'nvidia-smi -q -d ROW_REMAPPER'"));
}

void clock_rules(const gpu::GpuFacts& f, std::vector<Finding>& out) {
  unsigned i = f.index;
  if (!f.clock_events.ok()) {
    if (!f.clock_events.unsupported())
      out.push_back(make("clock_events", i, Verdict::warn, "cannot read clock-event reasons: " + f.clock_events.error));
    return;
  }
  std::uint64_t m = *f.clock_events;
  std::uint64_t hw = gpu::k_clock_hw_slowdown | gpu::k_clock_hw_thermal | gpu::k_clock_hw_power_brake;
  auto names = join(gpu::clock_event_reason_names(m), ", ");
  if (m & hw)
    out.push_back(make("clock_events", i, Verdict::fail, "hardware clock slowdown active at idle (" + names + ")",
                       "check cooling, power supplies and the power-brake signal; re-run after fixing"));
  else if (m & gpu::k_clock_sw_thermal)
    out.push_back(make("clock_events", i, Verdict::warn, "thermal slowdown active at idle (" + names + ")",
                       "check airflow/cooling"));
  else
    out.push_back(make("clock_events", i, Verdict::pass, m ? "clock-event reasons: " + names : "no clock-event reasons"));
}

void pcie_rules(const gpu::GpuFacts& f, std::vector<Finding>& out) {
  unsigned i = f.index;
  const auto& p = f.pcie;
  if (p.width.ok() && p.max_width.ok()) {
    if (*p.width < *p.max_width)
      out.push_back(make("pcie_link", i, Verdict::warn,
                         "PCIe link width x" + std::to_string(*p.width) + " below its maximum x" +
                             std::to_string(*p.max_width),
                         "reseat the GPU/riser; burn-in re-checks the link under load"));
    else
      out.push_back(make("pcie_link", i, Verdict::pass,
                         "PCIe gen " + (p.gen.ok() ? std::to_string(*p.gen) : std::string("?")) + " x" +
                             std::to_string(*p.width) + " (max gen " +
                             (p.max_gen.ok() ? std::to_string(*p.max_gen) : std::string("?")) +
                             "; idle links may run at a lower gen)"));
  } else if (lost(p.width)) {
    out.push_back(make("pcie_link", i, Verdict::fail, "cannot read the PCIe link: " + p.width.error, "reseat the GPU or reboot"));
  }
  if (p.gpu_max_gen.ok() && p.max_gen.ok() && *p.max_gen < *p.gpu_max_gen)
    out.push_back(make("pcie_link", i, Verdict::warn,
                       "the platform limits PCIe to gen " + std::to_string(*p.max_gen) + " while the GPU supports gen " +
                           std::to_string(*p.gpu_max_gen),
                       "check the slot/riser generation and BIOS PCIe settings"));
  if (p.replay_counter.ok()) {
    if (*p.replay_counter > 0)
      out.push_back(make("pcie_replay", i, Verdict::warn, std::to_string(*p.replay_counter) + " PCIe replays",
                         "a marginal PCIe link: reseat; burn-in reports replays added under load"));
    else
      out.push_back(make("pcie_replay", i, Verdict::pass, "no PCIe replays"));
  }
}

void nvlink_rules(const gpu::GpuFacts& f, std::vector<Finding>& out) {
  unsigned i = f.index;
  if (f.nvlinks.empty()) return;
  std::vector<unsigned> down;
  unsigned long long crc = 0, replay = 0, recovery = 0;
  for (const auto& l : f.nvlinks) {
    if (!l.active) down.push_back(l.link);
    crc += l.crc_flit.value_or(0) + l.crc_data.value_or(0);
    replay += l.replay.value_or(0);
    recovery += l.recovery.value_or(0);
  }
  std::size_t n = f.nvlinks.size();
  if (down.size() == n) {
    out.push_back(make("nvlink", i, Verdict::warn, "none of the " + std::to_string(n) + " NVLinks is active",
                       "expected on PCIe cards without a bridge; on SXM/HGX check the fabric manager and NVSwitches"));
  } else if (!down.empty()) {
    std::vector<std::string> ids;
    for (unsigned d : down) ids.push_back(std::to_string(d));
    out.push_back(make("nvlink", i, Verdict::fail,
                       std::to_string(down.size()) + " of " + std::to_string(n) + " NVLinks down (link " +
                           join(ids, ", ") + ")",
                       "check the fabric manager and NVSwitch health, reset the GPU; RMA the baseboard if it persists"));
  } else {
    out.push_back(make("nvlink", i, Verdict::pass, "all " + std::to_string(n) + " NVLinks active"));
  }
  if (crc + replay + recovery > 0)
    out.push_back(make("nvlink_errors", i, Verdict::warn,
                       "NVLink error counters: " + std::to_string(crc) + " CRC, " + std::to_string(replay) +
                           " replay, " + std::to_string(recovery) + " recovery",
                       "watch whether they grow under burn-in; reseat/RMA if they do"));
}

void thermal_power_rules(const gpu::GpuFacts& f, std::vector<Finding>& out) {
  unsigned i = f.index;
  if (f.temp_gpu.ok()) {
    unsigned t = *f.temp_gpu;
    if (f.temp_slowdown.ok() && t >= *f.temp_slowdown)
      out.push_back(make("temperature", i, Verdict::fail,
                         "GPU at " + std::to_string(t) + " C, at or above its slowdown threshold " +
                             std::to_string(*f.temp_slowdown) + " C",
                         "check cooling before any load"));
    else if (f.temp_slowdown.ok() && t + k_temp_margin_warn_c >= *f.temp_slowdown)
      out.push_back(make("temperature", i, Verdict::warn,
                         "GPU at " + std::to_string(t) + " C, within " + std::to_string(k_temp_margin_warn_c) +
                             " C of its slowdown threshold " + std::to_string(*f.temp_slowdown) + " C",
                         "check airflow"));
    else
      out.push_back(make("temperature", i, Verdict::pass, "GPU at " + std::to_string(t) + " C"));
  } else if (lost(f.temp_gpu)) {
    out.push_back(make("temperature", i, Verdict::fail, "cannot read the temperature: " + f.temp_gpu.error));
  }
  if (f.temp_hbm.ok() && f.temp_mem_max.ok()) {
    unsigned t = *f.temp_hbm, lim = *f.temp_mem_max;
    if (t >= lim)
      out.push_back(make("temperature", i, Verdict::fail,
                         "HBM at " + std::to_string(t) + " C, at or above its limit " + std::to_string(lim) + " C",
                         "check cooling"));
    else if (t + k_hbm_margin_warn_c >= lim)
      out.push_back(make("temperature", i, Verdict::warn,
                         "HBM at " + std::to_string(t) + " C, within " + std::to_string(k_hbm_margin_warn_c) +
                             " C of its limit " + std::to_string(lim) + " C",
                         "check airflow"));
  }
  if (f.power_limit_w.ok() && f.power_default_limit_w.ok() && *f.power_default_limit_w > 0 &&
      *f.power_limit_w < k_power_limit_fraction_warn * *f.power_default_limit_w) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "enforced power limit %.0f W is below the default %.0f W", *f.power_limit_w,
                  *f.power_default_limit_w);
    out.push_back(make("power", i, Verdict::warn, buf,
                       "restore it (nvidia-smi -i " + std::to_string(i) + " -pl <default>) unless capped on purpose"));
  } else if (f.power_w.ok()) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "drawing %.0f W of %.0f W", *f.power_w, f.power_limit_w.value_or(0));
    out.push_back(make("power", i, Verdict::pass, buf));
  }
}

}  // namespace

std::vector<Finding> evaluate_gpu(const gpu::GpuFacts& f) {
  std::vector<Finding> out;
  unsigned i = f.index;
  if (!f.handle_error.empty()) {
    out.push_back(make("gpu", i, Verdict::fail, gpu_label(f) + " cannot be opened through NVML: " + f.handle_error,
                       f.handle_status == gpu::k_nvml_gpu_is_lost
                           ? "the GPU has fallen off the bus: check power and seating, reboot; RMA if it repeats"
                           : "reset the GPU or reboot; check 'nvidia-smi'"));
    return out;
  }
  if (lost(f.name) || lost(f.uuid)) {
    out.push_back(make("gpu", i, Verdict::fail, gpu_label(f) + " is lost: " + (lost(f.name) ? f.name.error : f.uuid.error),
                       "reseat or reboot; RMA if it repeats"));
    return out;
  }
  std::string id = f.name.value_or("unknown GPU") + " " + f.uuid.value_or("(no UUID)") + " at " +
                   f.pci_bus_id.value_or("(unknown bus id)") + ", VBIOS " + f.vbios.value_or("?") + ", serial " +
                   f.serial.value_or("?");
  out.push_back(make("identity", i, (f.name.ok() && f.uuid.ok()) ? Verdict::pass : Verdict::warn, id));

  if (f.persistence.ok() && !*f.persistence)
    out.push_back(make("persistence_mode", i, Verdict::warn, "persistence mode is off",
                       "enable it (nvidia-smi -pm 1, or run nvidia-persistenced) so the driver state stays loaded"));
  else if (f.persistence.ok())
    out.push_back(make("persistence_mode", i, Verdict::pass, "persistence mode on"));

  if (f.mig_current.ok()) {
    if (*f.mig_current)
      out.push_back(make("mig_mode", i, Verdict::warn, "MIG mode is enabled",
                         "whole-GPU burn-in and sale need MIG off: nvidia-smi -i " + std::to_string(i) + " -mig 0"));
    else if (f.mig_pending.ok() && *f.mig_pending != *f.mig_current)
      out.push_back(make("mig_mode", i, Verdict::warn, "a MIG mode change is pending", "reset the GPU or reboot"));
    else
      out.push_back(make("mig_mode", i, Verdict::pass, "MIG mode off"));
  }

  if (f.ecc_current.ok()) {
    if (!*f.ecc_current)
      out.push_back(make("ecc_mode", i, Verdict::fail, "ECC is disabled",
                         "enable it (nvidia-smi -i " + std::to_string(i) + " -e 1) and reboot"));
    else if (f.ecc_pending.ok() && !*f.ecc_pending)
      out.push_back(make("ecc_mode", i, Verdict::warn, "ECC will be disabled at the next reboot",
                         "nvidia-smi -i " + std::to_string(i) + " -e 1"));
    else
      out.push_back(make("ecc_mode", i, Verdict::pass, "ECC enabled"));
  } else if (f.ecc_current.unsupported()) {
    out.push_back(make("ecc_mode", i, Verdict::warn, "ECC is not supported on this GPU"));
  } else {
    out.push_back(make("ecc_mode", i, Verdict::warn, "cannot read the ECC mode: " + f.ecc_current.error));
  }

  ecc_rules(f, out);
  remap_rules(f, out);
  clock_rules(f, out);
  pcie_rules(f, out);
  nvlink_rules(f, out);
  thermal_power_rules(f, out);
  return out;
}

std::vector<Finding> evaluate_xids(const std::vector<XidEvent>& events, const std::vector<gpu::GpuFacts>& gpus) {
  std::map<std::string, unsigned> by_bus;
  for (const auto& g : gpus)
    if (g.pci_bus_id.ok()) by_bus[normalize_bus_id(*g.pci_bus_id)] = g.index;
  // One finding per (GPU, XID): how many times and the last line.
  struct Agg {
    int count = 0;
    std::string last;
    bool nvswitch = false;
  };
  std::map<std::pair<long, int>, Agg> agg;
  for (const auto& e : events) {
    long gpu = -1;
    if (!e.nvswitch) {
      auto it = by_bus.find(e.pci_bus_id);
      if (it != by_bus.end()) gpu = it->second;
    }
    auto& a = agg[{e.nvswitch ? -2 : gpu, e.xid}];
    a.count++;
    a.last = e.line;
    a.nvswitch = e.nvswitch;
  }
  std::vector<Finding> out;
  for (const auto& [key, a] : agg) {
    auto [gpu, xid] = key;
    std::optional<unsigned> g;
    if (gpu >= 0) g = static_cast<unsigned>(gpu);
    std::string times = a.count == 1 ? "once" : std::to_string(a.count) + " times";
    if (a.nvswitch) {
      out.push_back(make("xid", std::nullopt, Verdict::warn,
                         "NVSwitch SXid " + std::to_string(xid) + " logged " + times + ": " + a.last,
                         "check the NVSwitch and fabric manager logs; see NVIDIA's SXid catalog"));
      continue;
    }
    XidInfo info = classify_xid(xid);
    std::string where = g ? "" : " (GPU not matched by bus id)";
    std::string reason = "XID " + std::to_string(xid) + " (" + info.description + ") logged " + times + where +
                         ": " + a.last;
    Verdict v = info.cls == XidClass::hardware ? Verdict::fail
                : info.cls == XidClass::other  ? Verdict::warn
                                               : Verdict::pass;
    out.push_back(make("xid", g, v, reason, info.cls == XidClass::application ? "" : info.remediation));
  }
  return out;
}

HealthReport evaluate_health(const HealthInput& in) {
  HealthReport rep;
  auto& out = rep.findings;
  // NVML and the driver.
  if (!in.nvml_available) {
    out.push_back(make("nvml", std::nullopt, Verdict::fail, in.nvml_error.empty() ? "NVML is not available" : in.nvml_error,
                       "install the NVIDIA driver (it provides libnvidia-ml.so.1) and load its kernel module"));
  } else {
    std::string drv = in.system.driver_version.value_or("?");
    std::string cuda = in.system.cuda_driver_version.ok() ? gpu::format_cuda_version(*in.system.cuda_driver_version) : "?";
    out.push_back(make("driver", std::nullopt, Verdict::pass, "NVIDIA driver " + drv + ", CUDA " + cuda));
  }
  if (in.cuda_probed) {
    if (!in.cuda.loaded)
      out.push_back(make("cuda_driver", std::nullopt, Verdict::fail, in.cuda.error,
                         "install the NVIDIA driver's CUDA library (libcuda.so.1)"));
    else if (!in.cuda.initialized)
      out.push_back(make("cuda_driver", std::nullopt, Verdict::fail, "the CUDA driver cannot initialise: " + in.cuda.init_error,
                         gpu::cuda_init_remediation(in.cuda.init_status)));
    else if (in.nvml_available && in.system.device_count.ok() && in.cuda.devices.size() != *in.system.device_count) {
      std::string reason = "CUDA sees " + std::to_string(in.cuda.devices.size()) + " GPU(s) but NVML sees " +
                           std::to_string(*in.system.device_count);
      if (in.cuda_visible_devices_set)
        out.push_back(make("cuda_driver", std::nullopt, Verdict::pass, reason + " (CUDA_VISIBLE_DEVICES is set)"));
      else
        out.push_back(make("cuda_driver", std::nullopt, Verdict::fail, reason,
                           "a GPU is not usable by CUDA: check dmesg for XIDs, reset it or reboot"));
    } else {
      out.push_back(make("cuda_driver", std::nullopt, Verdict::pass,
                         "CUDA driver " + gpu::format_cuda_version(in.cuda.version) + " initialised, " +
                             std::to_string(in.cuda.devices.size()) + " device(s)"));
    }
  }
  // GPU count.
  if (in.nvml_available) {
    unsigned count = in.system.device_count.value_or(0);
    if (!in.system.device_count.ok())
      out.push_back(make("gpu_count", std::nullopt, Verdict::fail, "cannot count GPUs: " + in.system.device_count.error,
                         "check 'nvidia-smi'"));
    else if (count == 0)
      out.push_back(make("gpu_count", std::nullopt, Verdict::fail, "no NVIDIA GPU found",
                         "check that the GPUs are seated and powered, and that the driver sees them (lspci, nvidia-smi)"));
    else if (in.expect_gpus && count != *in.expect_gpus)
      out.push_back(make("gpu_count", std::nullopt, Verdict::fail,
                         std::to_string(count) + " GPU(s) found, " + std::to_string(*in.expect_gpus) + " expected",
                         "a GPU is missing: check 'lspci | grep -i nvidia' and dmesg for XID 79; reseat or RMA"));
    else
      out.push_back(make("gpu_count", std::nullopt, Verdict::pass, std::to_string(count) + " GPU(s)"));
  }
  for (const auto& g : in.gpus) {
    auto f = evaluate_gpu(g);
    out.insert(out.end(), f.begin(), f.end());
  }
  // Consistency across the node's GPUs: one SKU, one VBIOS.
  std::set<std::string> names, vbioses;
  for (const auto& g : in.gpus) {
    if (g.name.ok()) names.insert(*g.name);
    if (g.vbios.ok()) vbioses.insert(*g.vbios);
  }
  if (names.size() > 1)
    out.push_back(make("consistency", std::nullopt, Verdict::warn,
                       "GPUs of different models in one node: " + join({names.begin(), names.end()}, ", ")));
  if (vbioses.size() > 1)
    out.push_back(make("consistency", std::nullopt, Verdict::warn,
                       "GPUs with different VBIOS versions: " + join({vbioses.begin(), vbioses.end()}, ", "),
                       "flash one VBIOS version across the node"));
  // Kernel log.
  if (!in.kernel_log.available) {
    out.push_back(make("xid", std::nullopt, Verdict::warn,
                       in.kernel_log.error.empty() ? "XID history unavailable" : in.kernel_log.error,
                       "run as root, or allow reading the kernel log (sysctl kernel.dmesg_restrict=0)"));
  } else {
    rep.xids = parse_xid_log(in.kernel_log.text);
    auto f = evaluate_xids(rep.xids, in.gpus);
    if (f.empty())
      out.push_back(make("xid", std::nullopt, Verdict::pass, "no XID errors in the kernel log (" + in.kernel_log.source + ")"));
    out.insert(out.end(), f.begin(), f.end());
  }
  for (const auto& f : out) rep.verdict = worst(rep.verdict, f.verdict);
  return rep;
}

json health_to_json(const HealthInput& in, const HealthReport& report) {
  json j;
  j["schema"] = "aicloudctl.health/1";
  j["tool"] = {{"name", "aicloudctl"}, {"version", tool_version()}, {"cuda_build", built_with_cuda()}};
  j["host"] = host_name();
  j["time"] = utc_now_iso();
  j["verdict"] = to_string(report.verdict);
  json v = json::object();
  v["driver"] = in.system.driver_version.ok() ? json(*in.system.driver_version) : json(nullptr);
  v["cuda_driver"] = in.system.cuda_driver_version.ok()
                         ? json(gpu::format_cuda_version(*in.system.cuda_driver_version))
                         : (in.cuda.loaded && in.cuda.version ? json(gpu::format_cuda_version(in.cuda.version)) : json(nullptr));
  v["nvml"] = in.system.nvml_version.ok() ? json(*in.system.nvml_version) : json(nullptr);
  v["tool"] = tool_version();
  j["versions"] = v;
  j["nvml"] = {{"available", in.nvml_available}, {"library", in.nvml_path}, {"error", in.nvml_error}};
  json cuda = {{"probed", in.cuda_probed}, {"loaded", in.cuda.loaded}, {"library", in.cuda.library_path},
               {"initialized", in.cuda.initialized}, {"error", in.cuda.error}, {"device_count", in.cuda.devices.size()}};
  j["cuda_driver"] = cuda;
  json gpus = json::array();
  for (const auto& g : in.gpus) {
    json gj = facts_to_json(g);
    Verdict gv = Verdict::pass;
    for (const auto& f : report.findings)
      if (f.gpu && *f.gpu == g.index) gv = worst(gv, f.verdict);
    gj["verdict"] = to_string(gv);
    gpus.push_back(gj);
  }
  j["gpus"] = gpus;
  json xid = {{"available", in.kernel_log.available}, {"source", in.kernel_log.source},
              {"error", in.kernel_log.error}};
  json events = json::array();
  for (const auto& e : report.xids) {
    XidInfo info = classify_xid(e.xid);
    json ej = {{"xid", e.xid}, {"nvswitch", e.nvswitch}, {"pci_bus_id", e.pci_bus_id},
               {"class", e.nvswitch ? "nvswitch" : to_string(info.cls)}, {"description", info.description},
               {"message", e.message}};
    ej["time_s"] = e.time_s ? json(*e.time_s) : json(nullptr);
    events.push_back(ej);
  }
  xid["events"] = events;
  j["xid"] = xid;
  json findings = json::array();
  for (const auto& f : report.findings) {
    json fj = {{"check", f.check}, {"verdict", to_string(f.verdict)}, {"reason", f.reason}, {"remediation", f.remediation}};
    fj["gpu"] = f.gpu ? json(*f.gpu) : json(nullptr);
    findings.push_back(fj);
  }
  j["findings"] = findings;
  return j;
}

std::string health_to_text(const HealthInput& in, const HealthReport& report, bool verbose) {
  std::string s;
  std::string drv = in.system.driver_version.value_or("?");
  std::string cuda = in.system.cuda_driver_version.ok() ? gpu::format_cuda_version(*in.system.cuda_driver_version) : "?";
  s += paint(Color::bold, "GPU health of " + host_name()) + "  driver " + drv + ", CUDA " + cuda + ", " +
       std::to_string(in.gpus.size()) + " GPU(s)\n";
  auto line = [&](const Finding& f) {
    std::string v = to_string(f.verdict);
    std::string pad(v.size() < 4 ? 4 - v.size() : 0, ' ');
    s += "  " + paint_verdict(v) + pad + "  " + f.check + ": " + f.reason + "\n";
    if (!f.remediation.empty() && f.verdict != Verdict::pass) s += "        fix: " + f.remediation + "\n";
  };
  for (const auto& f : report.findings)
    if (!f.gpu && (verbose || f.verdict != Verdict::pass)) line(f);
  for (const auto& g : in.gpus) {
    Verdict gv = Verdict::pass;
    for (const auto& f : report.findings)
      if (f.gpu && *f.gpu == g.index) gv = worst(gv, f.verdict);
    s += "GPU " + std::to_string(g.index) + "  " + g.name.value_or("?") + "  " + g.pci_bus_id.value_or("?") + "  " +
         paint_verdict(to_string(gv)) + "\n";
    for (const auto& f : report.findings)
      if (f.gpu && *f.gpu == g.index && (verbose || f.verdict != Verdict::pass)) line(f);
  }
  int fails = 0, warns = 0;
  for (const auto& f : report.findings) {
    fails += f.verdict == Verdict::fail;
    warns += f.verdict == Verdict::warn;
  }
  s += "Verdict: " + paint_verdict(to_string(report.verdict)) + " (" + std::to_string(fails) + " FAIL, " +
       std::to_string(warns) + " WARN)\n";
  return s;
}

HealthInput gather_health(const HealthOptions& options) {
  HealthInput in;
  in.expect_gpus = options.expect_gpus;
  auto& nvml = gpu::Nvml::instance();
  in.nvml_available = nvml.available();
  in.nvml_error = nvml.error();
  in.nvml_path = nvml.library_path();
  if (in.nvml_available) {
    in.system = nvml.system();
    unsigned count = in.system.device_count.value_or(0);
    for (unsigned i = 0; i < count; ++i) {
      if (!options.only_gpus.empty() &&
          std::find(options.only_gpus.begin(), options.only_gpus.end(), i) == options.only_gpus.end())
        continue;
      in.gpus.push_back(nvml.read_gpu(i));
    }
  }
  in.cuda_probed = true;
  in.cuda = gpu::probe_cuda_driver();
  const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
  in.cuda_visible_devices_set = cvd != nullptr;
  in.kernel_log = read_kernel_log();
  return in;
}

int run_health(const HealthOptions& options) {
  HealthInput in = gather_health(options);
  HealthReport rep = evaluate_health(in);
  if (options.json)
    std::cout << health_to_json(in, rep).dump(2) << "\n";
  else
    std::cout << health_to_text(in, rep, options.verbosity > 0);
  return exit_code_for(rep.verdict);
}

}  // namespace aicloud::burnin
