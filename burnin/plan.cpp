// Burn-in planning (see plan.hpp).
#include "burnin/plan.hpp"

#include "burnin/gemm_math.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace aicloud::burnin {

const std::vector<std::string>& all_test_names() {
  static const std::vector<std::string> names = {"gemm-bf16", "gemm-fp16", "gemm-tf32", "gemm-fp32", "gemm-fp64",
                                                 "gemm-fp8",  "memtest",   "hbm",       "pcie",      "p2p"};
  return names;
}

const std::vector<std::string>& default_test_names() {
  static const std::vector<std::string> names = {"gemm-bf16", "memtest", "hbm", "pcie", "p2p"};
  return names;
}

bool is_gemm_test(const std::string& name) { return starts_with(name, "gemm-"); }
bool is_node_test(const std::string& name) { return name == "pcie" || name == "p2p"; }

std::vector<std::string> parse_test_list(const std::string& text) {
  std::set<std::string> wanted;
  const auto& all = all_test_names();
  std::vector<std::string> vocabulary = all;
  for (const char* extra : {"gemm", "gemm-all", "default", "all"}) vocabulary.emplace_back(extra);
  for (const auto& raw : split(text, ',', false)) {
    std::string t = to_lower(trim(raw));
    if (t.empty()) continue;
    if (t == "all") {
      wanted.insert(all.begin(), all.end());
    } else if (t == "default") {
      wanted.insert(default_test_names().begin(), default_test_names().end());
    } else if (t == "gemm") {
      wanted.insert("gemm-bf16");
    } else if (t == "gemm-all") {
      for (const auto& n : all)
        if (is_gemm_test(n)) wanted.insert(n);
    } else if (std::find(all.begin(), all.end(), t) != all.end()) {
      wanted.insert(t);
    } else {
      std::string msg = "--tests: unknown test '" + t + "'";
      if (auto g = did_you_mean(t, vocabulary)) msg += " (did you mean '" + *g + "'?)";
      msg += "; known: " + join(vocabulary, ", ");
      throw UsageError(msg);
    }
  }
  if (wanted.empty()) throw UsageError("--tests: no test named");
  std::vector<std::string> out;
  for (const auto& n : all)
    if (wanted.count(n)) out.push_back(n);
  return out;
}

std::vector<GpuSelector> parse_gpu_list(const std::string& text) {
  std::vector<GpuSelector> out;
  std::string t(trim(text));
  if (t.empty() || t == "all") return out;
  for (const auto& raw : split(t, ',', false)) {
    std::string item(trim(raw));
    if (item.empty()) continue;
    if (starts_with(to_lower(item), "gpu-")) {
      GpuSelector s;
      s.uuid = item;
      out.push_back(s);
      continue;
    }
    auto dash = item.find('-');
    auto number = [&](const std::string& s) -> unsigned {
      if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
        throw UsageError("--gpus: '" + item + "' is not a GPU index, range (0-3) or UUID (GPU-...)");
      return static_cast<unsigned>(std::stoul(s));
    };
    if (dash == std::string::npos) {
      GpuSelector s;
      s.index = number(item);
      out.push_back(s);
    } else {
      unsigned lo = number(item.substr(0, dash)), hi = number(item.substr(dash + 1));
      if (hi < lo) throw UsageError("--gpus: range '" + item + "' runs backwards");
      for (unsigned i = lo; i <= hi; ++i) {
        GpuSelector s;
        s.index = i;
        out.push_back(s);
      }
    }
  }
  if (out.empty()) throw UsageError("--gpus: no GPU named");
  return out;
}

std::vector<TestBudget> split_duration(double total, const std::vector<std::string>& tests) {
  double w_gemm = 0, w_mem = 0, w_hbm = 0;
  int gemms = 0;
  for (const auto& t : tests) {
    if (is_gemm_test(t)) gemms++;
    if (t == "memtest") w_mem = 0.25;
    if (t == "hbm") w_hbm = 0.05;
  }
  if (gemms) w_gemm = 0.70;
  double sum = w_gemm + w_mem + w_hbm;
  std::vector<TestBudget> out;
  for (const auto& t : tests) {
    if (is_node_test(t)) continue;
    double share = 0, floor_s = 0;
    if (is_gemm_test(t)) {
      share = w_gemm / sum / gemms;
      floor_s = 10;
    } else if (t == "memtest") {
      share = w_mem / sum;
      floor_s = 5;
    } else if (t == "hbm") {
      share = w_hbm / sum;
      floor_s = 3;
    }
    out.push_back({t, std::max(floor_s, total * share)});
  }
  return out;
}

std::string gemm_type_name(GemmType t) {
  switch (t) {
    case GemmType::bf16: return "bf16";
    case GemmType::fp16: return "fp16";
    case GemmType::tf32: return "tf32";
    case GemmType::fp32: return "fp32";
    case GemmType::fp64: return "fp64";
    case GemmType::fp8: return "fp8";
  }
  return "?";
}

std::optional<GemmType> gemm_type_of_test(const std::string& test) {
  for (GemmType t : {GemmType::bf16, GemmType::fp16, GemmType::tf32, GemmType::fp32, GemmType::fp64, GemmType::fp8})
    if (test == "gemm-" + gemm_type_name(t)) return t;
  return std::nullopt;
}

int max_exact_range(GemmType t, std::int64_t k) {
  if (k <= 0) return 0;
  double limit = t == GemmType::fp64 ? 9007199254740992.0 : 16777216.0;  // 2^53, 2^24
  int r = static_cast<int>(std::floor(std::sqrt(limit / double(k))));
  while (r > 0 && double(k) * r * r > limit) --r;  // guard against sqrt rounding up
  int type_cap = 127;                              // the int8 reference inputs
  switch (t) {
    case GemmType::bf16: type_cap = 127; break;    // bf16 is exact to 256
    case GemmType::fp8: type_cap = 3; break;       // e4m3 is exact to 16; small products keep FP8 accumulation exact
    default: break;                                // fp16/tf32 2048, fp32 2^24, fp64 2^53
  }
  return std::min(r, type_cap);
}

GemmPlan plan_gemm(GemmType t, std::uint64_t total_memory, int cc_major, int cc_minor) {
  GemmPlan p;
  p.type = t;
  p.test = "gemm-" + gemm_type_name(t);
  p.seed = 0x41494331ull;  // "AIC1": the same on every GPU and node, so result hashes agree
  int cc = cc_major * 10 + cc_minor;
  switch (t) {
    case GemmType::bf16:
    case GemmType::tf32:
      if (cc < 80) {
        p.supported = false;
        p.waived = gemm_type_name(t) + " tensor cores need compute capability 8.0 (Ampere) or newer";
      }
      break;
    case GemmType::fp8:
      if (cc < 89) {
        p.supported = false;
        p.waived = "FP8 tensor cores need compute capability 8.9 (Ada/Hopper) or newer";
      }
      break;
    default: break;
  }
  const std::uint64_t gib = 1ull << 30;
  std::int64_t mn = total_memory >= 40 * gib ? 16384 : total_memory >= 12 * gib ? 8192 : 4096;
  std::int64_t base_k = 32768;
  switch (t) {
    case GemmType::bf16:
    case GemmType::fp16: base_k = 32768; break;
    case GemmType::tf32: base_k = 16384; break;
    case GemmType::fp32:
    case GemmType::fp64: base_k = 8192; break;
    case GemmType::fp8: base_k = 65536; break;
  }
  p.m = p.n = mn;
  p.k = base_k * mn / 16384;
  p.in_bytes = t == GemmType::fp8 ? 1 : (t == GemmType::bf16 || t == GemmType::fp16) ? 2 : t == GemmType::fp64 ? 8 : 4;
  p.out_bytes = t == GemmType::fp64 ? 8 : 4;
  p.workspace_bytes = mn >= 16384 ? 256ull << 20 : 64ull << 20;
  auto bytes = [&] {
    std::uint64_t ab = std::uint64_t(p.m + p.n) * std::uint64_t(p.k);
    std::uint64_t d = std::uint64_t(p.m) * std::uint64_t(p.n);
    return ab * std::uint64_t(p.in_bytes) + ab /* int8 reference copies */ + d * std::uint64_t(p.out_bytes) +
           (t == GemmType::fp8 ? d * 2 : 0) /* a BF16 C if FP32 C is refused */ + p.workspace_bytes +
           d / k_gemm_chunk * 8;
  };
  while (p.k > 1024 && bytes() > total_memory / 10 * 6) p.k /= 2;
  p.device_bytes = bytes();
  p.range = max_exact_range(t, p.k);
  return p;
}

double pcie_link_gbps(unsigned gen, unsigned width) {
  // GT/s per lane and encoding efficiency per generation; Gen6 uses FLIT
  // mode (242/256 payload).
  double gts = 0, eff = 0;
  switch (gen) {
    case 1: gts = 2.5; eff = 0.8; break;
    case 2: gts = 5; eff = 0.8; break;
    case 3: gts = 8; eff = 128.0 / 130; break;
    case 4: gts = 16; eff = 128.0 / 130; break;
    case 5: gts = 32; eff = 128.0 / 130; break;
    case 6: gts = 64; eff = 242.0 / 256; break;
    default: return 0;
  }
  return gts * eff * width / 8.0;
}

double hbm_peak_gbps(unsigned mem_clock_mhz, unsigned bus_width_bits) {
  return 2.0 * mem_clock_mhz * 1e6 * (bus_width_bits / 8.0) / 1e9;
}

}  // namespace aicloud::burnin
