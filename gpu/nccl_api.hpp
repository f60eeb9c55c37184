// Run-time loader for NCCL (libnccl.so.2). Nothing of NCCL is linked: the
// binary runs on machines without it and says which library it looked for
// and where. The declarations below are our own and mirror the ABI of
// nccl.h (2.14 and later; checked against the 2.28 header when CUDA is
// present), so this file compiles without the CUDA toolkit.
//
// NCCL often lives only inside a Python wheel (nvidia-nccl-cu12/cu13, as
// PyTorch installs it), so the search list covers the usual site-packages
// folders after the dynamic loader's own search; an explicit path (the
// --nccl-lib flag or AICLOUDCTL_NCCL_LIBRARY) is tried alone.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/dynlib.hpp"

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace aicloud::gpu {

// ---- ABI mirror of nccl.h -------------------------------------------------
using NcclComm = struct ncclComm*;
using NcclStream = CUstream_st*;

enum NcclResult : int {
  k_nccl_success = 0,
  k_nccl_unhandled_cuda_error = 1,
  k_nccl_system_error = 2,
  k_nccl_internal_error = 3,
  k_nccl_invalid_argument = 4,
  k_nccl_invalid_usage = 5,
  k_nccl_remote_error = 6,
  k_nccl_in_progress = 7,
};

// ncclDataType_t values.
enum NcclDataType : int {
  k_nccl_int8 = 0, k_nccl_uint8 = 1, k_nccl_int32 = 2, k_nccl_uint32 = 3,
  k_nccl_int64 = 4, k_nccl_uint64 = 5, k_nccl_float16 = 6, k_nccl_float32 = 7,
  k_nccl_float64 = 8, k_nccl_bfloat16 = 9, k_nccl_float8e4m3 = 10, k_nccl_float8e5m2 = 11,
};

// ncclRedOp_t values.
enum NcclRedOp : int { k_nccl_sum = 0, k_nccl_prod = 1, k_nccl_max = 2, k_nccl_min = 3, k_nccl_avg = 4 };

constexpr std::size_t k_nccl_unique_id_bytes = 128;
struct NcclUniqueId {
  char internal[k_nccl_unique_id_bytes];
};

// ncclConfig_t as of NCCL 2.28 (fields are only ever appended; NCCL reads
// the ones its version knows, guided by `version`).
struct NcclConfig {
  std::size_t size;
  unsigned int magic;
  unsigned int version;
  int blocking;
  int cga_cluster_size;
  int min_ctas;
  int max_ctas;
  const char* net_name;
  int split_share;
  int traffic_class;
  const char* comm_name;
  int collnet_enable;
  int cta_policy;
  int shrink_share;
  int nvls_ctas;
  int n_channels_per_net_peer;
  int nvlink_centric_sched;
};

// NCCL_CONFIG_INITIALIZER with blocking=0 (non-blocking communicator, so
// that initialisation can be given a deadline and aborted), for a library
// whose ncclGetVersion() is `library_version`.
NcclConfig nonblocking_config(int library_version);

// NCCL_VERSION(X,Y,Z) and its inverse: 22809 -> "2.28.9".
constexpr int nccl_version_code(int major, int minor, int patch) {
  return (major <= 2 && minor <= 8) ? major * 1000 + minor * 100 + patch : major * 10000 + minor * 100 + patch;
}
std::string nccl_version_string(int code);

// ---- The loaded library ---------------------------------------------------
struct NcclApi {
  using GetVersion = NcclResult (*)(int*);
  using GetUniqueId = NcclResult (*)(NcclUniqueId*);
  using CommInitRankConfig = NcclResult (*)(NcclComm*, int, NcclUniqueId, int, NcclConfig*);
  using CommAbort = NcclResult (*)(NcclComm);
  using CommDestroy = NcclResult (*)(NcclComm);
  using CommFinalize = NcclResult (*)(NcclComm);
  using CommGetAsyncError = NcclResult (*)(NcclComm, NcclResult*);
  using CommCount = NcclResult (*)(NcclComm, int*);
  using CommUserRank = NcclResult (*)(NcclComm, int*);
  using GetErrorString = const char* (*)(NcclResult);
  using GetLastError = const char* (*)(NcclComm);
  using AllReduce = NcclResult (*)(const void*, void*, std::size_t, int, int, NcclComm, NcclStream);
  using Broadcast = NcclResult (*)(const void*, void*, std::size_t, int, int, NcclComm, NcclStream);
  using Reduce = NcclResult (*)(const void*, void*, std::size_t, int, int, int, NcclComm, NcclStream);
  using AllGather = NcclResult (*)(const void*, void*, std::size_t, int, NcclComm, NcclStream);
  using ReduceScatter = NcclResult (*)(const void*, void*, std::size_t, int, int, NcclComm, NcclStream);
  using Send = NcclResult (*)(const void*, std::size_t, int, int, NcclComm, NcclStream);
  using Recv = NcclResult (*)(void*, std::size_t, int, int, NcclComm, NcclStream);
  using GroupStart = NcclResult (*)();
  using GroupEnd = NcclResult (*)();
  using ResetDebugInit = void (*)();

  GetVersion get_version = nullptr;
  GetUniqueId get_unique_id = nullptr;
  CommInitRankConfig comm_init_rank_config = nullptr;
  CommAbort comm_abort = nullptr;
  CommDestroy comm_destroy = nullptr;
  CommFinalize comm_finalize = nullptr;
  CommGetAsyncError comm_get_async_error = nullptr;
  CommCount comm_count = nullptr;
  CommUserRank comm_user_rank = nullptr;
  GetErrorString get_error_string = nullptr;
  GetLastError get_last_error = nullptr;        // optional (2.13+)
  AllReduce all_reduce = nullptr;
  Broadcast broadcast = nullptr;
  Reduce reduce = nullptr;
  AllGather all_gather = nullptr;
  ReduceScatter reduce_scatter = nullptr;
  Send send = nullptr;
  Recv recv = nullptr;
  GroupStart group_start = nullptr;
  GroupEnd group_end = nullptr;
  ResetDebugInit reset_debug_init = nullptr;    // optional (2.24+): re-reads NCCL_DEBUG*

  int version = 0;           // ncclGetVersion(), e.g. 22809
  std::string library_path;  // the file that was loaded
  DynLib lib;

  // "unhandled cuda error (...)" with NCCL's last error text when it has one.
  std::string describe(NcclResult r, NcclComm comm = nullptr) const;
};

// The environment variable that names the NCCL library to load.
inline constexpr const char* k_nccl_library_env = "AICLOUDCTL_NCCL_LIBRARY";

// Where NCCL is looked for, in order, when no explicit path is given:
// "libnccl.so.2" (LD_LIBRARY_PATH, ld.so.cache), the CUDA toolkit folders,
// then nvidia/nccl*/lib and nvidia/cu1*/lib (the CUDA 13 wheels' layout)
// inside the Python site-packages of $VIRTUAL_ENV,
// $CONDA_PREFIX, ~/.local, ~/.pyenv/versions/*, /usr/local, /usr and
// /opt/conda (globbed).
std::vector<std::string> nccl_search_list();

struct NcclLoadResult {
  bool ok = false;
  std::string error;                 // every place tried and why it failed
  std::vector<std::string> tried;
};

// Loads NCCL into `api`. `explicit_path` (or $AICLOUDCTL_NCCL_LIBRARY when
// empty) is the only candidate when set. Fails when the library lacks a
// required entry point or is older than 2.14 (no non-blocking init).
NcclLoadResult load_nccl(NcclApi& api, const std::string& explicit_path = "");

}  // namespace aicloud::gpu
