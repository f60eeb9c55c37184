// CUDA implementation of device.hpp: thin wrappers over the runtime (which
// is linked statically) and the fill/verify kernels. Kernels are templated
// on the element type; the logical values come from pattern.hpp and are
// converted with the same intrinsics on the way in and out, so an exact
// result compares bit for bit.
#include "nccl_tests/device.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <climits>
#include <type_traits>
#include <cstdio>
#include <cstring>

namespace aicloud::nccl_tests::device {

namespace {

bool check(cudaError_t e, const char* what, std::string& error) {
  if (e == cudaSuccess) return true;
  error = std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  (void)cudaGetLastError();  // clear a non-sticky error so the next call is not blamed
  return false;
}

// ---- element conversions --------------------------------------------------
template <typename T>
__device__ inline T from_logical(double v) {
  if constexpr (sizeof(T) == 1 && std::is_same_v<T, __nv_fp8_e4m3>) return __nv_fp8_e4m3(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, __nv_fp8_e5m2>) return __nv_fp8_e5m2(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, __half>) return __float2half_rn(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __float2bfloat16_rn(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, float>) return static_cast<float>(v);
  else if constexpr (std::is_same_v<T, double>) return v;
  else if constexpr (std::is_signed_v<T>) return static_cast<T>(static_cast<long long>(v));
  else return static_cast<T>(static_cast<unsigned long long>(v));
}

template <typename T>
__device__ inline double to_logical(T x) {
  if constexpr (std::is_same_v<T, __nv_fp8_e4m3> || std::is_same_v<T, __nv_fp8_e5m2>) return static_cast<double>(static_cast<float>(x));
  else if constexpr (std::is_same_v<T, __half>) return static_cast<double>(__half2float(x));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return static_cast<double>(__bfloat162float(x));
  else return static_cast<double>(x);
}

template <typename T>
__device__ inline bool same_bits(T a, T b) {
  if constexpr (sizeof(T) == 1) {
    unsigned char x, y;
    memcpy(&x, &a, 1);
    memcpy(&y, &b, 1);
    return x == y;
  } else if constexpr (sizeof(T) == 2) {
    unsigned short x, y;
    memcpy(&x, &a, 2);
    memcpy(&y, &b, 2);
    return x == y;
  } else if constexpr (sizeof(T) == 4) {
    unsigned int x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
  } else {
    unsigned long long x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    return x == y;
  }
}

// ---- kernels ---------------------------------------------------------------
template <typename T>
__global__ void fill_kernel(T* p, std::uint64_t count, pattern::Params params, int rank, std::uint64_t offset) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t k = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count; k += stride)
    p[k] = from_logical<T>(pattern::input_value(params, rank, offset + k));
}

template <typename T>
__global__ void verify_kernel(const char* base, std::uint64_t stride_bytes, std::uint64_t elem_offset,
                              std::uint64_t count, pattern::Params params, int rank, unsigned long long* counters) {
  const unsigned slice = blockIdx.y;
  const T* buf = reinterpret_cast<const T*>(base + slice * stride_bytes) + elem_offset;
  unsigned long long wrong = 0;
  unsigned long long first = ULLONG_MAX;
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t k = static_cast<std::uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count; k += stride) {
    const double e = pattern::expected_value(params, rank, k);
    const T got = buf[k];
    bool ok;
    if (params.tolerant) {
      const double g = to_logical<T>(got);
      ok = fabs(g - e) <= pattern::tolerance(params, e);
    } else {
      ok = same_bits(got, from_logical<T>(e));
    }
    if (!ok) {
      ++wrong;
      const unsigned long long idx = static_cast<unsigned long long>(slice) * count + k;
      if (idx < first) first = idx;
    }
  }
  // Warp-level reduction, then one atomic per warp.
  for (int d = 16; d > 0; d /= 2) {
    wrong += __shfl_down_sync(0xffffffffu, wrong, d);
    const unsigned long long other = __shfl_down_sync(0xffffffffu, first, d);
    if (other < first) first = other;
  }
  if ((threadIdx.x & 31) == 0 && wrong) {
    atomicAdd(&counters[0], wrong);
    atomicMin(&counters[1], first);
    atomicAdd(&counters[2 + slice], wrong);
  }
}

constexpr int k_threads = 256;

unsigned grid_for(std::uint64_t count, unsigned max_blocks) {
  std::uint64_t blocks = (count + k_threads - 1) / k_threads;
  if (blocks < 1) blocks = 1;
  if (blocks > max_blocks) blocks = max_blocks;
  return static_cast<unsigned>(blocks);
}

template <typename F>
bool dispatch(int type, F&& f) {
  switch (type) {
    case pattern::t_int8: f(static_cast<std::int8_t*>(nullptr)); return true;
    case pattern::t_uint8: f(static_cast<std::uint8_t*>(nullptr)); return true;
    case pattern::t_int32: f(static_cast<std::int32_t*>(nullptr)); return true;
    case pattern::t_uint32: f(static_cast<std::uint32_t*>(nullptr)); return true;
    case pattern::t_int64: f(static_cast<long long*>(nullptr)); return true;
    case pattern::t_uint64: f(static_cast<unsigned long long*>(nullptr)); return true;
    case pattern::t_half: f(static_cast<__half*>(nullptr)); return true;
    case pattern::t_float: f(static_cast<float*>(nullptr)); return true;
    case pattern::t_double: f(static_cast<double*>(nullptr)); return true;
    case pattern::t_bf16: f(static_cast<__nv_bfloat16*>(nullptr)); return true;
    case pattern::t_f8e4m3: f(static_cast<__nv_fp8_e4m3*>(nullptr)); return true;
    case pattern::t_f8e5m2: f(static_cast<__nv_fp8_e5m2*>(nullptr)); return true;
  }
  return false;
}

}  // namespace

bool available() { return true; }

int runtime_version() {
  int v = 0;
  return cudaRuntimeGetVersion(&v) == cudaSuccess ? v : 0;
}

int driver_version() {
  int v = 0;
  return cudaDriverGetVersion(&v) == cudaSuccess ? v : 0;
}

int device_count(std::string& error) {
  int n = 0;
  if (!check(cudaGetDeviceCount(&n), "cudaGetDeviceCount", error)) return -1;
  return n;
}

std::optional<GpuInfo> gpu_info(int device, std::string& error) {
  int n = device_count(error);
  if (n < 0) return std::nullopt;
  if (device < 0 || device >= n) {
    error = "GPU " + std::to_string(device) + " does not exist (" + std::to_string(n) + " visible)";
    return std::nullopt;
  }
  cudaDeviceProp prop{};
  if (!check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties", error)) return std::nullopt;
  GpuInfo g;
  g.index = device;
  g.name = prop.name;
  g.memory_total = prop.totalGlobalMem;
  g.cc_major = prop.major;
  g.cc_minor = prop.minor;
  char bus[32] = {0};
  if (cudaDeviceGetPCIBusId(bus, sizeof bus, device) == cudaSuccess) g.pci_bus_id = bus;
  char uuid[64];
  const unsigned char* u = reinterpret_cast<const unsigned char*>(prop.uuid.bytes);
  std::snprintf(uuid, sizeof uuid, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  g.uuid = uuid;
  return g;
}

bool set_device(int device, std::string& error) { return check(cudaSetDevice(device), "cudaSetDevice", error); }

bool mem_info(std::uint64_t& free_bytes, std::uint64_t& total_bytes, std::string& error) {
  size_t f = 0, t = 0;
  if (!check(cudaMemGetInfo(&f, &t), "cudaMemGetInfo", error)) return false;
  free_bytes = f;
  total_bytes = t;
  return true;
}

bool stream_create(Stream& s, std::string& error) {
  cudaStream_t st = nullptr;
  if (!check(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "cudaStreamCreate", error)) return false;
  s = st;
  return true;
}

void stream_destroy(Stream s) {
  if (s) (void)cudaStreamDestroy(s);
}

Query stream_query(Stream s, std::string& error) {
  cudaError_t e = cudaStreamQuery(s);
  if (e == cudaSuccess) return Query::done;
  if (e == cudaErrorNotReady) return Query::pending;
  check(e, "cudaStreamQuery", error);
  return Query::error;
}

bool event_create(Event& ev, bool timing, std::string& error) {
  cudaEvent_t e = nullptr;
  if (!check(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming), "cudaEventCreate", error))
    return false;
  ev = e;
  return true;
}

void event_destroy(Event e) {
  if (e) (void)cudaEventDestroy(static_cast<cudaEvent_t>(e));
}

bool event_record(Event e, Stream s, std::string& error) {
  return check(cudaEventRecord(static_cast<cudaEvent_t>(e), s), "cudaEventRecord", error);
}

Query event_query(Event e, std::string& error) {
  cudaError_t r = cudaEventQuery(static_cast<cudaEvent_t>(e));
  if (r == cudaSuccess) return Query::done;
  if (r == cudaErrorNotReady) return Query::pending;
  check(r, "cudaEventQuery", error);
  return Query::error;
}

bool event_elapsed_ms(Event start, Event stop, float& ms, std::string& error) {
  return check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(stop)),
               "cudaEventElapsedTime", error);
}

bool alloc(void** p, std::uint64_t bytes, std::string& error) {
  *p = nullptr;
  if (bytes == 0) bytes = 1;
  return check(cudaMalloc(p, bytes), "cudaMalloc", error);
}

void free(void* p) {
  if (p) (void)cudaFree(p);
}

bool copy_to_host(void* dst, const void* src, std::uint64_t bytes, std::string& error) {
  return check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy", error);
}

bool fill_poison(void* p, std::uint64_t bytes, Stream s, std::string& error) {
  if (bytes == 0) return true;
  return check(cudaMemsetAsync(p, 0xff, bytes, s), "cudaMemsetAsync", error);
}

bool fill_input(void* p, std::uint64_t count, const pattern::Params& params, int rank, std::uint64_t index_offset,
                Stream s, std::string& error) {
  if (count == 0) return true;
  bool known = dispatch(params.type, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    fill_kernel<T><<<grid_for(count, 65535u), k_threads, 0, s>>>(static_cast<T*>(p), count, params, rank, index_offset);
  });
  if (!known) {
    error = "unknown data type " + std::to_string(params.type);
    return false;
  }
  return check(cudaGetLastError(), "fill kernel launch", error);
}

bool verify_counters_alloc(VerifyCounters& c, int slices, std::string& error) {
  void* p = nullptr;
  if (!check(cudaMalloc(&p, sizeof(unsigned long long) * static_cast<std::size_t>(slices + 2)), "cudaMalloc", error))
    return false;
  c.dev = static_cast<unsigned long long*>(p);
  c.slices = slices;
  return true;
}

void verify_counters_free(VerifyCounters& c) {
  if (c.dev) (void)cudaFree(c.dev);
  c.dev = nullptr;
  c.slices = 0;
}

bool verify_launch(const void* base, std::uint64_t stride_bytes, int slices, std::uint64_t elem_offset,
                   std::uint64_t count, const pattern::Params& params, int rank, VerifyCounters& c, Stream s,
                   std::string& error) {
  if (slices > c.slices) {
    error = "verify counters too small";
    return false;
  }
  // [0] = 0 wrong, [1] = ULLONG_MAX (no first), [2..] = 0.
  if (!check(cudaMemsetAsync(c.dev, 0, sizeof(unsigned long long) * static_cast<std::size_t>(slices + 2), s),
             "cudaMemsetAsync", error) ||
      !check(cudaMemsetAsync(c.dev + 1, 0xff, sizeof(unsigned long long), s), "cudaMemsetAsync", error))
    return false;
  if (count == 0 || slices == 0) return true;
  bool known = dispatch(params.type, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    dim3 grid(grid_for(count, 4096u), static_cast<unsigned>(slices));
    verify_kernel<T><<<grid, k_threads, 0, s>>>(static_cast<const char*>(base), stride_bytes, elem_offset, count,
                                                params, rank, c.dev);
  });
  if (!known) {
    error = "unknown data type " + std::to_string(params.type);
    return false;
  }
  return check(cudaGetLastError(), "verify kernel launch", error);
}

bool verify_collect(const VerifyCounters& c, int slices, std::uint64_t count, VerifyOutcome& out,
                    std::string& error) {
  std::vector<unsigned long long> host(static_cast<std::size_t>(slices + 2), 0);
  if (!check(cudaMemcpy(host.data(), c.dev, host.size() * sizeof(unsigned long long), cudaMemcpyDeviceToHost),
             "cudaMemcpy", error))
    return false;
  out.wrong = host[0];
  out.per_slice.assign(host.begin() + 2, host.end());
  if (host[0] && host[1] != ULLONG_MAX && count) {
    out.first_slice = static_cast<long long>(host[1] / count);
    out.first_offset = host[1] % count;
  }
  return true;
}

}  // namespace aicloud::nccl_tests::device
