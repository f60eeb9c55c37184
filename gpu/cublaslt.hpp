// cuBLASLt loaded at run time. On GPU machines cuBLASLt often lives only
// inside a Python wheel (nvidia-cublas: .../site-packages/nvidia/cu13/lib or
// .../nvidia/cublas/lib), not on the loader path, so it is found through an
// explicit, documented search list:
//   1. AICLOUDCTL_CUBLASLT (a file, or a folder holding libcublasLt.so.*);
//      when set, only it is tried, so a wrong override is an error, never a
//      silent fallback;
//   2. libcublasLt.so.13 / .so.12 through the dynamic loader
//      (LD_LIBRARY_PATH, ldconfig);
//   3. the CUDA toolkit (/usr/local/cuda*/lib64, targets/*/lib);
//   4. Python wheels and conda under the usual prefixes.
// The function table needs the toolkit's cublasLt.h, so it exists only in
// builds with CUDA; the search and the version query work in every build.
#pragma once

#include <string>
#include <vector>

#ifdef AICLOUDCTL_HAVE_CUDA
#include <cublasLt.h>
#endif

namespace aicloud::gpu {

// The ordered candidates (file paths or glob patterns) for an override value
// ("" = none) and a home folder. Pure; unit-tested.
std::vector<std::string> cublaslt_search_list(const std::string& override_value, const std::string& home);

#ifdef AICLOUDCTL_HAVE_CUDA
struct CublasLtApi {
  decltype(&cublasLtCreate) Create = nullptr;
  decltype(&cublasLtDestroy) Destroy = nullptr;
  decltype(&cublasLtGetStatusString) GetStatusString = nullptr;
  decltype(&cublasLtMatmulDescCreate) MatmulDescCreate = nullptr;
  decltype(&cublasLtMatmulDescDestroy) MatmulDescDestroy = nullptr;
  decltype(&cublasLtMatmulDescSetAttribute) MatmulDescSetAttribute = nullptr;
  decltype(&cublasLtMatrixLayoutCreate) MatrixLayoutCreate = nullptr;
  decltype(&cublasLtMatrixLayoutDestroy) MatrixLayoutDestroy = nullptr;
  decltype(&cublasLtMatmulPreferenceCreate) MatmulPreferenceCreate = nullptr;
  decltype(&cublasLtMatmulPreferenceDestroy) MatmulPreferenceDestroy = nullptr;
  decltype(&cublasLtMatmulPreferenceSetAttribute) MatmulPreferenceSetAttribute = nullptr;
  decltype(&cublasLtMatmulAlgoGetHeuristic) MatmulAlgoGetHeuristic = nullptr;
  decltype(&cublasLtMatmulAlgoConfigGetAttribute) MatmulAlgoConfigGetAttribute = nullptr;
  decltype(&cublasLtMatmul) Matmul = nullptr;
};
#endif

struct CublasLt {
  bool loaded = false;
  std::string path;                // the file that loaded
  std::string version;             // "13.1.0" from cublasLtGetVersion
  std::string error;               // why it did not load: names every candidate tried
  std::vector<std::string> tried;  // candidates in the order tried
#ifdef AICLOUDCTL_HAVE_CUDA
  CublasLtApi api;
  std::string status_text(int status) const;
#endif
};

// Loads cuBLASLt once per process (AICLOUDCTL_CUBLASLT is read then).
const CublasLt& load_cublaslt();

// 130100 -> "13.1.0".
std::string format_cublas_version(std::size_t version);

}  // namespace aicloud::gpu
