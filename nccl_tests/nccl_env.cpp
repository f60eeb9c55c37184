#include "nccl_tests/nccl_env.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "common/strings.hpp"

extern char** environ;

namespace aicloud::nccl_tests {

namespace {

// Families whose every member tunes transport behaviour (no credentials,
// no user paths).
const char* const k_allowed_prefixes[] = {"NCCL_IB_", "NCCL_NET_", "NCCL_P2P_", "NCCL_SHM_",
                                          "NCCL_NVLS_", "NCCL_SOCKET_", "NCCL_COLLNET_", "NCCL_MNNVL_"};

const std::set<std::string>& allowed_names() {
  static const std::set<std::string> k = {
      "NCCL_ALGO", "NCCL_PROTO", "NCCL_DEBUG", "NCCL_DEBUG_SUBSYS", "NCCL_NET", "NCCL_MIN_NCHANNELS",
      "NCCL_MAX_NCHANNELS", "NCCL_MIN_CTAS", "NCCL_MAX_CTAS", "NCCL_NCHANNELS_PER_NET_PEER", "NCCL_BUFFSIZE",
      "NCCL_LL_BUFFSIZE", "NCCL_LL128_BUFFSIZE", "NCCL_NTHREADS", "NCCL_CROSS_NIC", "NCCL_CUMEM_ENABLE",
      "NCCL_LAUNCH_MODE", "NCCL_CHECKS_DISABLE", "NCCL_RAS_ENABLE", "NCCL_PXN_DISABLE", "NCCL_CTA_POLICY",
      "NCCL_NSOCKS_PERTHREAD", "NCCL_IGNORE_CPU_AFFINITY", "NCCL_GRAPH_REGISTER", "NCCL_LOCAL_REGISTER",
      "NCCL_TUNER_PLUGIN", "NCCL_NET_PLUGIN", "NCCL_TOPO_DUMP_FILE", "NCCL_RUNTIME_CONNECT",
      "NCCL_WORK_FIFO_DEPTH", "NCCL_GDRCOPY_ENABLE", "NCCL_NVB_DISABLE", "NCCL_SET_THREAD_NAME",
      "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_MAX_CONNECTIONS", "CUDA_MODULE_LOADING", "CUDA_DEVICE_ORDER"};
  return k;
}

}  // namespace

bool env_allowed(std::string_view name) {
  if (allowed_names().count(std::string(name))) return true;
  for (const char* p : k_allowed_prefixes)
    if (starts_with(name, p)) return true;
  return false;
}

std::map<std::string, std::string> allowed_env(const char* const* envp) {
  std::map<std::string, std::string> out;
  for (const char* const* e = envp; e && *e; ++e) {
    std::string_view kv = *e;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = kv.substr(0, eq);
    if (env_allowed(k)) out[std::string(k)] = std::string(kv.substr(eq + 1));
  }
  return out;
}

std::map<std::string, std::string> allowed_env_of_process() { return allowed_env(environ); }

std::optional<TuningChoice> parse_tuning_line(std::string_view line) {
  const std::string_view marker = "NCCL INFO ";
  auto at = line.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(at + marker.size());
  auto colon = rest.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  TuningChoice c;
  c.function = std::string(trim(rest.substr(0, colon)));
  if (c.function.empty() || c.function.find(' ') != std::string::npos) return std::nullopt;
  std::vector<std::string> words = split(rest.substr(colon + 2), ' ', false);
  // <bytes> Bytes -> Algo <A> proto <P> [channel{Lo..Hi}={a..b}] [comm 0x...]
  if (words.size() < 7 || words[1] != "Bytes" || words[2] != "->" || words[3] != "Algo" || words[5] != "proto")
    return std::nullopt;
  try {
    std::size_t used = 0;
    c.bytes = std::stoull(words[0], &used);
    if (used != words[0].size()) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  c.algorithm = words[4];
  c.protocol = words[6];
  for (std::size_t i = 7; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto eq = w.find("}={");
    if (starts_with(w, "channel") && eq != std::string::npos) {
      std::string range = w.substr(eq + 3);
      if (!range.empty() && range.back() == '}') range.pop_back();
      auto dots = range.find("..");
      if (dots != std::string::npos) {
        try {
          c.channel_lo = std::stoi(range.substr(0, dots));
          c.channel_hi = std::stoi(range.substr(dots + 2));
        } catch (const std::exception&) {
          c.channel_lo = c.channel_hi = -1;
        }
      }
    }
  }
  return c;
}

std::string nccl_function_name(std::string_view collective) {
  if (collective == "all_reduce") return "AllReduce";
  if (collective == "all_gather") return "AllGather";
  if (collective == "reduce_scatter") return "ReduceScatter";
  if (collective == "broadcast") return "Broadcast";
  if (collective == "reduce") return "Reduce";
  return "";
}

std::optional<TuningChoice> choice_for(const std::vector<std::string>& lines, std::string_view function,
                                       unsigned long long bytes) {
  std::map<std::string, std::pair<int, TuningChoice>> votes;
  for (const auto& l : lines) {
    auto c = parse_tuning_line(l);
    if (!c || c->function != function || c->bytes != bytes) continue;
    auto& v = votes[c->algorithm + "/" + c->protocol];
    if (v.first == 0) v.second = *c;
    v.first++;
  }
  if (votes.empty()) return std::nullopt;
  auto best = std::max_element(votes.begin(), votes.end(),
                               [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  return best->second.second;
}

}  // namespace aicloud::nccl_tests
