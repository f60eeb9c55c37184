// Shared host-side helpers of the device_*.cu files: CUDA error checks that
// throw inside a test (and are turned into a result at the test's boundary),
// RAII buffers, streams and events, and the classification of a CUDA error
// into the kinds of results.hpp. Included only by .cu files.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace aicloud::burnin::dev {

// A CUDA failure inside a test; caught by the test's entry point.
struct CudaFailure {
  cudaError_t code;
  std::string where;
};

// A failure that is not a CUDA error (cuBLASLt status, no algorithm...).
struct TestFailure {
  std::string message;
  std::string kind;  // "device", "resource", "setup"
};

#define AIC_CUDA(call)                                                    \
  do {                                                                    \
    cudaError_t aic_err_ = (call);                                        \
    if (aic_err_ != cudaSuccess) throw ::aicloud::burnin::dev::CudaFailure{aic_err_, #call}; \
  } while (0)

// Kind of a CUDA error: "resource" (out of memory, device busy), "setup"
// (no device, driver too old, no kernel image) or "device" (everything that
// means the GPU misbehaved: launch failure, ECC, illegal address, ...).
inline std::string cuda_error_kind(cudaError_t e) {
  switch (e) {
    case cudaErrorMemoryAllocation:
    case cudaErrorDevicesUnavailable:
      return "resource";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorSystemNotReady:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorStubLibrary:
    case cudaErrorInitializationError:
      return "setup";
    default:
      return "device";
  }
}

inline std::string cuda_error_text(cudaError_t e, const std::string& where) {
  std::string s = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
  if (!where.empty()) s += " (in " + where + ")";
  if (e == cudaErrorSystemNotReady) s += "; on NVSwitch systems start nvidia-fabricmanager";
  if (e == cudaErrorNoKernelImageForDevice) s += "; this binary was not built for this GPU's architecture";
  return s;
}

// Records a caught failure into a result's outcome fields.
template <typename Outcome>
void record(Outcome& r, const CudaFailure& f) {
  r.error = cuda_error_text(f.code, f.where);
  r.error_kind = cuda_error_kind(f.code);
  cudaGetLastError();  // clear a non-sticky error so later tests can try
}
template <typename Outcome>
void record(Outcome& r, const TestFailure& f) {
  r.error = f.message;
  r.error_kind = f.kind;
}

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) { allocate(bytes); }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(o.m_bytes) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      m_ptr = std::exchange(o.m_ptr, nullptr);
      m_bytes = o.m_bytes;
    }
    return *this;
  }
  void allocate(std::size_t bytes) {
    release();
    AIC_CUDA(cudaMalloc(&m_ptr, bytes));
    m_bytes = bytes;
  }
  // cudaMalloc without throwing; false (and the error cleared) on failure.
  bool try_allocate(std::size_t bytes) {
    release();
    if (cudaMalloc(&m_ptr, bytes) != cudaSuccess) {
      cudaGetLastError();
      m_ptr = nullptr;
      return false;
    }
    m_bytes = bytes;
    return true;
  }
  void release() {
    if (m_ptr) cudaFree(m_ptr);
    m_ptr = nullptr;
    m_bytes = 0;
  }
  template <typename T = void>
  T* as() const {
    return static_cast<T*>(m_ptr);
  }
  std::size_t bytes() const { return m_bytes; }

 private:
  void* m_ptr = nullptr;
  std::size_t m_bytes = 0;
};

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t bytes) {
    AIC_CUDA(cudaHostAlloc(&m_ptr, bytes, cudaHostAllocDefault));
    m_bytes = bytes;
  }
  ~PinnedBuffer() {
    if (m_ptr) cudaFreeHost(m_ptr);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(o.m_bytes) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      if (m_ptr) cudaFreeHost(m_ptr);
      m_ptr = std::exchange(o.m_ptr, nullptr);
      m_bytes = o.m_bytes;
    }
    return *this;
  }
  template <typename T = void>
  T* as() const {
    return static_cast<T*>(m_ptr);
  }
  std::size_t bytes() const { return m_bytes; }

 private:
  void* m_ptr = nullptr;
  std::size_t m_bytes = 0;
};

class Stream {
 public:
  Stream() { AIC_CUDA(cudaStreamCreateWithFlags(&m_s, cudaStreamNonBlocking)); }
  ~Stream() {
    if (m_s) cudaStreamDestroy(m_s);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& o) noexcept : m_s(std::exchange(o.m_s, nullptr)) {}
  operator cudaStream_t() const { return m_s; }

 private:
  cudaStream_t m_s = nullptr;
};

class Event {
 public:
  Event() { AIC_CUDA(cudaEventCreate(&m_e)); }
  ~Event() {
    if (m_e) cudaEventDestroy(m_e);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept : m_e(std::exchange(o.m_e, nullptr)) {}
  operator cudaEvent_t() const { return m_e; }

 private:
  cudaEvent_t m_e = nullptr;
};

// Milliseconds between two recorded events (after synchronising the second).
inline float elapsed_ms(const Event& a, const Event& b) {
  AIC_CUDA(cudaEventSynchronize(b));
  float ms = 0;
  AIC_CUDA(cudaEventElapsedTime(&ms, a, b));
  return ms;
}

inline double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Launch-error check after a kernel launch.
#define AIC_LAUNCHED() AIC_CUDA(cudaGetLastError())

inline int sm_count_of_current() {
  int dev = 0, sms = 0;
  AIC_CUDA(cudaGetDevice(&dev));
  AIC_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  return sms;
}

}  // namespace aicloud::burnin::dev
