// cuBLASLt search and loading; see cublaslt.hpp for the search order.
#include "gpu/cublaslt.hpp"

#include <glob.h>
#include <sys/stat.h>

#include <cstdlib>
#include <set>

#include "common/dynlib.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"

namespace aicloud::gpu {

namespace {

bool is_directory(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Expands a glob pattern; a pattern without wildcards expands to itself.
std::vector<std::string> expand(const std::string& pattern) {
  if (pattern.find_first_of("*?[") == std::string::npos) return {pattern};
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  return out;
}

}  // namespace

std::vector<std::string> cublaslt_search_list(const std::string& override_value, const std::string& home) {
  const char* names[] = {"libcublasLt.so.13", "libcublasLt.so.12"};
  std::vector<std::string> list;
  if (!override_value.empty()) {
    if (ends_with(override_value, "/") || is_directory(override_value)) {
      std::string dir = override_value;
      if (!ends_with(dir, "/")) dir += "/";
      for (const char* n : names) list.push_back(dir + n);
      list.push_back(dir + "libcublasLt.so");
    } else {
      list.push_back(override_value);
    }
    return list;
  }
  for (const char* n : names) list.emplace_back(n);  // the dynamic loader's own search
  const std::vector<std::string> toolkit = {"/usr/local/cuda/lib64/", "/usr/local/cuda/targets/x86_64-linux/lib/",
                                            "/usr/local/cuda/targets/sbsa-linux/lib/", "/usr/local/cuda-*/lib64/"};
  std::vector<std::string> sites = {"/usr/local/lib/python3*/dist-packages/", "/usr/local/lib/python3*/site-packages/",
                                    "/usr/lib/python3/dist-packages/", "/usr/lib/python3*/site-packages/",
                                    "/opt/conda/lib/python3*/site-packages/", "/opt/venv/lib/python3*/site-packages/"};
  if (!home.empty()) sites.push_back(home + "/.local/lib/python3*/site-packages/");
  for (const char* n : names) {
    for (const auto& t : toolkit) list.push_back(t + n);
    for (const auto& s : sites) {
      list.push_back(s + "nvidia/cu13/lib/" + n);  // CUDA 13 wheels
      list.push_back(s + "nvidia/cublas/lib/" + n);  // CUDA 12 wheels
    }
    list.push_back(std::string("/opt/conda/lib/") + n);
    list.push_back(std::string("/usr/lib/x86_64-linux-gnu/") + n);
  }
  return list;
}

std::string format_cublas_version(std::size_t v) {
  if (v == 0) return "";
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
}

#ifdef AICLOUDCTL_HAVE_CUDA
std::string CublasLt::status_text(int status) const {
  const char* s = api.GetStatusString ? api.GetStatusString(static_cast<cublasStatus_t>(status)) : nullptr;
  return std::string(s ? s : "cuBLAS error") + " (" + std::to_string(status) + ")";
}
#endif

const CublasLt& load_cublaslt() {
  static CublasLt* lt = [] {
    auto* r = new CublasLt();
    static DynLib lib;  // never unloaded
    const char* env = std::getenv("AICLOUDCTL_CUBLASLT");
    std::string override_value = env ? env : "";
    std::set<std::string> seen;
    for (const auto& pattern : cublaslt_search_list(override_value, home_dir())) {
      for (const auto& cand : expand(pattern)) {
        if (!seen.insert(cand).second) continue;
        bool is_path = cand.find('/') != std::string::npos;
        if (is_path && !file_exists(cand)) continue;
        r->tried.push_back(cand);
        if (lib.open({cand})) break;
      }
      if (lib.is_open()) break;
    }
    if (!lib.is_open()) {
      r->error = override_value.empty()
                     ? "cuBLASLt (libcublasLt.so.13) was not found on the loader path, in /usr/local/cuda or in "
                       "Python's nvidia-cublas wheel; set AICLOUDCTL_CUBLASLT=/path/to/libcublasLt.so.13"
                     : "AICLOUDCTL_CUBLASLT=" + override_value + " could not be loaded: " + lib.error();
      return r;
    }
    r->path = lib.loaded_path();
    std::size_t (*get_version)() = nullptr;
    if (lib.bind(get_version, "cublasLtGetVersion")) r->version = format_cublas_version(get_version());
#ifdef AICLOUDCTL_HAVE_CUDA
    CublasLtApi& a = r->api;
    bool ok = lib.bind(a.Create, "cublasLtCreate") && lib.bind(a.Destroy, "cublasLtDestroy") &&
              lib.bind(a.GetStatusString, "cublasLtGetStatusString") &&
              lib.bind(a.MatmulDescCreate, "cublasLtMatmulDescCreate") &&
              lib.bind(a.MatmulDescDestroy, "cublasLtMatmulDescDestroy") &&
              lib.bind(a.MatmulDescSetAttribute, "cublasLtMatmulDescSetAttribute") &&
              lib.bind(a.MatrixLayoutCreate, "cublasLtMatrixLayoutCreate") &&
              lib.bind(a.MatrixLayoutDestroy, "cublasLtMatrixLayoutDestroy") &&
              lib.bind(a.MatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate") &&
              lib.bind(a.MatmulPreferenceDestroy, "cublasLtMatmulPreferenceDestroy") &&
              lib.bind(a.MatmulPreferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute") &&
              lib.bind(a.MatmulAlgoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic") &&
              lib.bind(a.MatmulAlgoConfigGetAttribute, "cublasLtMatmulAlgoConfigGetAttribute") &&
              lib.bind(a.Matmul, "cublasLtMatmul");
    if (!ok) {
      r->error = "cuBLASLt at " + r->path + " is unusable: " + lib.error();
      return r;
    }
#endif
    r->loaded = true;
    return r;
  }();
  return *lt;
}

}  // namespace aicloud::gpu
