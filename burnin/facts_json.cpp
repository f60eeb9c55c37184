#include "burnin/facts_json.hpp"

namespace aicloud::burnin {

using nlohmann::json;

namespace {

// Collects the reasons of failed readings while building an object.
struct Builder {
  json obj = json::object();
  json unavailable = json::object();

  template <typename T>
  void put(json& where, const std::string& key, const gpu::Reading<T>& r, const std::string& path) {
    if (r.value) {
      where[key] = *r.value;
    } else {
      where[key] = nullptr;
      if (r.status != gpu::k_nvml_not_queried) unavailable[path] = r.unsupported() ? "not supported" : r.error;
    }
  }
  template <typename T>
  void put(const std::string& key, const gpu::Reading<T>& r) {
    put(obj, key, r, key);
  }
};

json ecc_json(Builder& b, const gpu::EccCounts& e, const std::string& prefix) {
  json j = json::object();
  json v = json::object(), a = json::object();
  b.put(v, "corrected", e.volatile_corrected, prefix + ".volatile.corrected");
  b.put(v, "uncorrected", e.volatile_uncorrected, prefix + ".volatile.uncorrected");
  b.put(a, "corrected", e.aggregate_corrected, prefix + ".aggregate.corrected");
  b.put(a, "uncorrected", e.aggregate_uncorrected, prefix + ".aggregate.uncorrected");
  j["volatile"] = v;
  j["aggregate"] = a;
  return j;
}

json remap_json(Builder& b, const gpu::Reading<gpu::RowRemap>& r, const std::string& path) {
  if (!r.value) {
    if (r.status != gpu::k_nvml_not_queried) b.unavailable[path] = r.unsupported() ? "not supported" : r.error;
    return nullptr;
  }
  return {{"corrected_rows", r.value->corrected_rows},
          {"uncorrected_rows", r.value->uncorrected_rows},
          {"pending", r.value->pending},
          {"failure", r.value->failure}};
}

json retired_json(Builder& b, const gpu::Reading<gpu::RetiredPages>& r, const std::string& path) {
  if (!r.value) {
    if (r.status != gpu::k_nvml_not_queried) b.unavailable[path] = r.unsupported() ? "not supported" : r.error;
    return nullptr;
  }
  return {{"single_bit", r.value->single_bit}, {"double_bit", r.value->double_bit}, {"pending", r.value->pending}};
}

json nvlinks_json(Builder& b, const std::vector<gpu::NvLinkFacts>& links) {
  json arr = json::array();
  for (const auto& l : links) {
    json j = {{"link", l.link}, {"active", l.active}};
    json errs = json::object();
    std::string p = "nvlink." + std::to_string(l.link) + ".";
    b.put(errs, "replay", l.replay, p + "replay");
    b.put(errs, "recovery", l.recovery, p + "recovery");
    b.put(errs, "crc_flit", l.crc_flit, p + "crc_flit");
    b.put(errs, "crc_data", l.crc_data, p + "crc_data");
    j["errors"] = errs;
    arr.push_back(j);
  }
  return arr;
}

}  // namespace

json facts_to_json(const gpu::GpuFacts& f) {
  Builder b;
  b.obj["index"] = f.index;
  if (!f.handle_error.empty()) {
    b.obj["error"] = f.handle_error;
    return b.obj;
  }
  b.put("name", f.name);
  b.put("uuid", f.uuid);
  b.put("serial", f.serial);
  b.put("pci_bus_id", f.pci_bus_id);
  b.put("vbios", f.vbios);
  if (f.compute_capability.value)
    b.obj["compute_capability"] =
        std::to_string(f.compute_capability.value->first) + "." + std::to_string(f.compute_capability.value->second);
  else
    b.obj["compute_capability"] = nullptr;
  b.put("persistence_mode", f.persistence);
  json mig = json::object(), eccm = json::object();
  b.put(mig, "current", f.mig_current, "mig_mode.current");
  b.put(mig, "pending", f.mig_pending, "mig_mode.pending");
  b.put(eccm, "current", f.ecc_current, "ecc_mode.current");
  b.put(eccm, "pending", f.ecc_pending, "ecc_mode.pending");
  b.obj["mig_mode"] = mig;
  b.obj["ecc_mode"] = eccm;
  b.obj["ecc_errors"] = ecc_json(b, f.ecc, "ecc_errors");
  b.obj["row_remap"] = remap_json(b, f.remap, "row_remap");
  if (f.remap_histogram.value) {
    const auto& h = *f.remap_histogram.value;
    b.obj["row_remap_histogram"] = {{"max", h.max}, {"high", h.high}, {"partial", h.partial}, {"low", h.low}, {"none", h.none}};
  } else {
    b.obj["row_remap_histogram"] = nullptr;
  }
  b.obj["retired_pages"] = retired_json(b, f.retired, "retired_pages");
  if (f.clock_events.value) {
    b.obj["clock_event_reasons"] = {{"mask", *f.clock_events.value},
                                    {"active", gpu::clock_event_reason_names(*f.clock_events.value)}};
  } else {
    b.put("clock_event_reasons", f.clock_events);
  }
  json pcie = json::object();
  b.put(pcie, "gen", f.pcie.gen, "pcie.gen");
  b.put(pcie, "width", f.pcie.width, "pcie.width");
  b.put(pcie, "max_gen", f.pcie.max_gen, "pcie.max_gen");
  b.put(pcie, "max_width", f.pcie.max_width, "pcie.max_width");
  b.put(pcie, "gpu_max_gen", f.pcie.gpu_max_gen, "pcie.gpu_max_gen");
  b.put(pcie, "replay_counter", f.pcie.replay_counter, "pcie.replay_counter");
  b.obj["pcie"] = pcie;
  b.obj["nvlink"] = nvlinks_json(b, f.nvlinks);
  json temp = json::object();
  b.put(temp, "gpu", f.temp_gpu, "temperature_c.gpu");
  b.put(temp, "hbm", f.temp_hbm, "temperature_c.hbm");
  b.put(temp, "shutdown", f.temp_shutdown, "temperature_c.shutdown");
  b.put(temp, "slowdown", f.temp_slowdown, "temperature_c.slowdown");
  b.put(temp, "mem_max", f.temp_mem_max, "temperature_c.mem_max");
  b.put(temp, "gpu_max", f.temp_gpu_max, "temperature_c.gpu_max");
  b.obj["temperature_c"] = temp;
  json power = json::object();
  b.put(power, "draw", f.power_w, "power_w.draw");
  b.put(power, "limit", f.power_limit_w, "power_w.limit");
  b.put(power, "default_limit", f.power_default_limit_w, "power_w.default_limit");
  b.obj["power_w"] = power;
  json clocks = json::object();
  b.put(clocks, "sm", f.sm_clock_mhz, "clocks_mhz.sm");
  b.put(clocks, "mem", f.mem_clock_mhz, "clocks_mhz.mem");
  b.put(clocks, "max_sm", f.max_sm_clock_mhz, "clocks_mhz.max_sm");
  b.put(clocks, "max_mem", f.max_mem_clock_mhz, "clocks_mhz.max_mem");
  b.obj["clocks_mhz"] = clocks;
  json mem = json::object();
  b.put(mem, "total", f.memory_total, "memory_bytes.total");
  b.put(mem, "used", f.memory_used, "memory_bytes.used");
  b.put(mem, "bus_width_bits", f.memory_bus_width_bits, "memory_bytes.bus_width_bits");
  b.obj["memory_bytes"] = mem;
  b.obj["unavailable"] = b.unavailable;
  return b.obj;
}

json counters_to_json(const gpu::GpuCounters& c) {
  Builder b;
  b.obj["ecc_errors"] = ecc_json(b, c.ecc, "ecc_errors");
  b.obj["row_remap"] = remap_json(b, c.remap, "row_remap");
  b.obj["retired_pages"] = retired_json(b, c.retired, "retired_pages");
  b.put("pcie_replay_counter", c.pcie_replay);
  b.obj["nvlink"] = nvlinks_json(b, c.nvlinks);
  b.obj["unavailable"] = b.unavailable;
  return b.obj;
}

}  // namespace aicloud::burnin
