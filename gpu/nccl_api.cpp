#include "gpu/nccl_api.hpp"

#include <glob.h>

#include <climits>
#include <cstdlib>
#include <set>

#include "common/files.hpp"

#if defined(AICLOUDCTL_HAVE_CUDA) && __has_include(<nccl.h>)
#include <nccl.h>
// Our declarations must stay ABI-identical to the header we were built with.
static_assert(sizeof(aicloud::gpu::NcclConfig) == sizeof(ncclConfig_t), "NcclConfig drifted from ncclConfig_t");
static_assert(sizeof(aicloud::gpu::NcclUniqueId) == sizeof(ncclUniqueId), "NcclUniqueId size");
static_assert(static_cast<int>(aicloud::gpu::k_nccl_in_progress) == static_cast<int>(ncclInProgress), "ncclInProgress");
static_assert(static_cast<int>(aicloud::gpu::k_nccl_bfloat16) == static_cast<int>(ncclBfloat16), "ncclBfloat16");
static_assert(static_cast<int>(aicloud::gpu::k_nccl_avg) == static_cast<int>(ncclAvg), "ncclAvg");
#endif

namespace aicloud::gpu {

NcclConfig nonblocking_config(int library_version) {
  NcclConfig c{};
  c.size = sizeof(NcclConfig);
  c.magic = 0xcafebeef;
  // The layout above is 2.28's; an older library is told its own version so
  // that it reads only the fields it knows.
  const int ours = nccl_version_code(2, 28, 0);
  c.version = static_cast<unsigned>(library_version > 0 && library_version < ours ? library_version : ours);
  c.blocking = 0;
  c.cga_cluster_size = INT_MIN;
  c.min_ctas = INT_MIN;
  c.max_ctas = INT_MIN;
  c.net_name = nullptr;
  c.split_share = INT_MIN;
  c.traffic_class = INT_MIN;
  c.comm_name = nullptr;
  c.collnet_enable = INT_MIN;
  c.cta_policy = INT_MIN;
  c.shrink_share = INT_MIN;
  c.nvls_ctas = INT_MIN;
  c.n_channels_per_net_peer = INT_MIN;
  c.nvlink_centric_sched = INT_MIN;
  return c;
}

std::string nccl_version_string(int code) {
  if (code <= 0) return "unknown";
  int major, minor, patch;
  if (code >= 10000) {
    major = code / 10000;
    minor = (code % 10000) / 100;
    patch = code % 100;
  } else {
    major = code / 1000;
    minor = (code % 1000) / 100;
    patch = code % 100;
  }
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::string NcclApi::describe(NcclResult r, NcclComm comm) const {
  std::string s = get_error_string ? get_error_string(r) : ("NCCL error " + std::to_string(static_cast<int>(r)));
  if (get_last_error) {
    const char* last = get_last_error(comm);
    if (last && *last) s += " (" + std::string(last) + ")";
  }
  return s;
}

namespace {

void add_glob(std::vector<std::string>& out, const std::string& pattern) {
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
}

}  // namespace

std::vector<std::string> nccl_search_list() {
  std::vector<std::string> list = {"libnccl.so.2"};
  for (const char* dir : {"/usr/local/cuda/lib64", "/usr/local/cuda/lib", "/usr/local/cuda/targets/x86_64-linux/lib",
                          "/usr/local/cuda/targets/sbsa-linux/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"}) {
    std::string p = std::string(dir) + "/libnccl.so.2";
    if (file_exists(p)) list.push_back(p);
  }
  std::vector<std::string> prefixes;
  for (const char* var : {"VIRTUAL_ENV", "CONDA_PREFIX"})
    if (const char* v = std::getenv(var); v && *v) prefixes.emplace_back(v);
  std::string home = home_dir();
  if (!home.empty()) {
    prefixes.push_back(home + "/.local");
    prefixes.push_back(home + "/.pyenv/versions/*");
  }
  for (const char* p : {"/usr/local", "/usr", "/opt/conda"}) prefixes.emplace_back(p);
  for (const auto& prefix : prefixes)
    for (const char* kind : {"site-packages", "dist-packages"})
      for (const char* sub : {"nvidia/nccl*/lib", "nvidia/cu1*/lib"})
        add_glob(list, prefix + "/lib/python3*/" + kind + "/" + sub + "/libnccl.so.2");
  // Keep the first occurrence of each candidate.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (auto& p : list)
    if (seen.insert(p).second) unique.push_back(std::move(p));
  return unique;
}

NcclLoadResult load_nccl(NcclApi& api, const std::string& explicit_path) {
  NcclLoadResult r;
  std::string path = explicit_path;
  if (path.empty())
    if (const char* env = std::getenv(k_nccl_library_env); env && *env) path = env;
  r.tried = path.empty() ? nccl_search_list() : std::vector<std::string>{path};
  if (!api.lib.open(r.tried)) {
    r.error = api.lib.error();
    if (path.empty())
      r.error += "; install NCCL (e.g. pip install nvidia-nccl-cu13) or point " + std::string(k_nccl_library_env) +
                 " or --nccl-lib at libnccl.so.2";
    return r;
  }
  api.library_path = api.lib.loaded_path();
  bool ok = api.lib.bind(api.get_version, "ncclGetVersion") && api.lib.bind(api.get_unique_id, "ncclGetUniqueId") &&
            api.lib.bind(api.comm_init_rank_config, "ncclCommInitRankConfig") &&
            api.lib.bind(api.comm_abort, "ncclCommAbort") && api.lib.bind(api.comm_destroy, "ncclCommDestroy") &&
            api.lib.bind(api.comm_finalize, "ncclCommFinalize") &&
            api.lib.bind(api.comm_get_async_error, "ncclCommGetAsyncError") &&
            api.lib.bind(api.comm_count, "ncclCommCount") && api.lib.bind(api.comm_user_rank, "ncclCommUserRank") &&
            api.lib.bind(api.get_error_string, "ncclGetErrorString") &&
            api.lib.bind(api.all_reduce, "ncclAllReduce") && api.lib.bind(api.broadcast, "ncclBroadcast") &&
            api.lib.bind(api.reduce, "ncclReduce") && api.lib.bind(api.all_gather, "ncclAllGather") &&
            api.lib.bind(api.reduce_scatter, "ncclReduceScatter") && api.lib.bind(api.send, "ncclSend") &&
            api.lib.bind(api.recv, "ncclRecv") && api.lib.bind(api.group_start, "ncclGroupStart") &&
            api.lib.bind(api.group_end, "ncclGroupEnd");
  if (!ok) {
    r.error = api.lib.error() + " (NCCL 2.14 or later is needed)";
    return r;
  }
  // Optional entry points; their absence only disables a feature.
  api.get_last_error = reinterpret_cast<NcclApi::GetLastError>(api.lib.symbol("ncclGetLastError"));
  api.reset_debug_init = reinterpret_cast<NcclApi::ResetDebugInit>(api.lib.symbol("ncclResetDebugInit"));
  if (api.get_version(&api.version) != k_nccl_success || api.version <= 0) {
    r.error = api.library_path + ": ncclGetVersion failed";
    return r;
  }
  if (api.version < nccl_version_code(2, 14, 0)) {
    r.error = api.library_path + " is NCCL " + nccl_version_string(api.version) +
              "; 2.14 or later is needed (non-blocking communicators)";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace aicloud::gpu
