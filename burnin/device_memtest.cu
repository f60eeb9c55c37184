// The memory test (patterns in memtest_patterns.hpp) and device discovery.
// One block of device memory, as large as the allocator gives (free memory
// minus a small reserve for the context), is written and checked pattern by
// pattern with 16-byte accesses; the check kernels count bit errors, log the
// first errors with their addresses, and for moving inversions write the
// inverted pattern in the same sweep. Passes repeat until the deadline.
#include <algorithm>
#include <cstring>

#include "burnin/device.hpp"
#include "burnin/device_common.cuh"
#include "burnin/memtest_patterns.hpp"
#include "common/interrupt.hpp"

namespace aicloud::burnin {

using namespace dev;

namespace {

constexpr int k_max_logged = 64;

struct MemErrorLog {
  unsigned long long word_errors;
  unsigned long long bit_errors;
  unsigned long long logged;
  unsigned long long index[k_max_logged];
  unsigned long long expected[k_max_logged];
  unsigned long long actual[k_max_logged];
  unsigned long long step[k_max_logged];
};

__global__ void mt_write(ulonglong2* base, std::uint64_t n_pairs, int pattern, std::uint64_t param) {
  const std::uint64_t addr0 = reinterpret_cast<std::uint64_t>(base);
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n_pairs;
       i += std::uint64_t(gridDim.x) * blockDim.x) {
    std::uint64_t w = 2 * i;
    ulonglong2 v;
    v.x = memtest_value(pattern, param, w, addr0 + w * 8);
    v.y = memtest_value(pattern, param, w + 1, addr0 + (w + 1) * 8);
    base[i] = v;
  }
}

__device__ __forceinline__ void mt_log(MemErrorLog* log, std::uint64_t word, std::uint64_t expected, std::uint64_t actual,
                                       std::uint64_t step) {
  unsigned long long slot = atomicAdd(&log->logged, 1ull);
  if (slot < k_max_logged) {
    log->index[slot] = word;
    log->expected[slot] = expected;
    log->actual[slot] = actual;
    log->step[slot] = step;
  }
}

__global__ void mt_check(ulonglong2* base, std::uint64_t n_pairs, int pattern, std::uint64_t param, int rewrite,
                         int next_pattern, std::uint64_t next_param, MemErrorLog* log, std::uint64_t step) {
  const std::uint64_t addr0 = reinterpret_cast<std::uint64_t>(base);
  unsigned long long words = 0, bits = 0;
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n_pairs;
       i += std::uint64_t(gridDim.x) * blockDim.x) {
    std::uint64_t w = 2 * i;
    ulonglong2 v = base[i];
    std::uint64_t ex = memtest_value(pattern, param, w, addr0 + w * 8);
    std::uint64_t ey = memtest_value(pattern, param, w + 1, addr0 + (w + 1) * 8);
    if (v.x != ex) {
      ++words;
      bits += __popcll(v.x ^ ex);
      mt_log(log, w, ex, v.x, step);
    }
    if (v.y != ey) {
      ++words;
      bits += __popcll(v.y ^ ey);
      mt_log(log, w + 1, ey, v.y, step);
    }
    if (rewrite) {
      ulonglong2 n;
      n.x = memtest_value(next_pattern, next_param, w, addr0 + w * 8);
      n.y = memtest_value(next_pattern, next_param, w + 1, addr0 + (w + 1) * 8);
      base[i] = n;
    }
  }
  if (words) {
    atomicAdd(&log->word_errors, words);
    atomicAdd(&log->bit_errors, bits);
  }
}

struct StepRecord {
  std::string name;
  std::uint64_t pass;
};

void launch_step(const MemtestStep& st, ulonglong2* base, std::uint64_t pairs, MemErrorLog* log, std::uint64_t step_id,
                 unsigned blocks, cudaStream_t stream) {
  if (st.check)
    mt_check<<<blocks, 256, 0, stream>>>(base, pairs, st.pattern, st.param, st.rewrite ? 1 : 0, st.next_pattern,
                                         st.next_param, log, step_id);
  else
    mt_write<<<blocks, 256, 0, stream>>>(base, pairs, st.pattern, st.param);
  AIC_LAUNCHED();
}

void collect_errors(const MemErrorLog& log, std::uint64_t base_addr, const std::vector<StepRecord>& steps,
                    MemtestResult* r) {
  r->word_errors = log.word_errors;
  r->bit_errors = log.bit_errors;
  r->errors.clear();
  std::uint64_t n = std::min<std::uint64_t>(log.logged, k_max_logged);
  for (std::uint64_t i = 0; i < n; ++i) {
    MemtestError e;
    e.offset = log.index[i] * 8;
    e.address = base_addr + e.offset;
    e.expected = log.expected[i];
    e.actual = log.actual[i];
    if (log.step[i] < steps.size()) {
      e.pattern = steps[log.step[i]].name;
      e.pass = steps[log.step[i]].pass;
    }
    r->errors.push_back(e);
  }
}

}  // namespace

int device_count(std::string* error) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (error) *error = cuda_error_text(e, "cudaGetDeviceCount");
    cudaGetLastError();
    return -1;
  }
  return n;
}

bool device_open(int ordinal, DeviceInfo* info, std::string* error, std::string* error_kind) {
  try {
    AIC_CUDA(cudaSetDevice(ordinal));
    AIC_CUDA(cudaFree(nullptr));  // creates the context now, so its errors show here
    cudaDeviceProp prop{};
    AIC_CUDA(cudaGetDeviceProperties(&prop, ordinal));
    info->ordinal = ordinal;
    info->name = prop.name;
    char bus[64] = {};
    AIC_CUDA(cudaDeviceGetPCIBusId(bus, sizeof bus - 1, ordinal));
    info->pci_bus_id = bus;
    info->cc_major = prop.major;
    info->cc_minor = prop.minor;
    info->sm_count = prop.multiProcessorCount;
    std::size_t free_b = 0, total_b = 0;
    AIC_CUDA(cudaMemGetInfo(&free_b, &total_b));
    info->free_bytes = free_b;
    info->total_bytes = total_b;
    AIC_CUDA(cudaRuntimeGetVersion(&info->runtime_version));
    AIC_CUDA(cudaDriverGetVersion(&info->driver_version));
    return true;
  } catch (const CudaFailure& f) {
    if (error) *error = cuda_error_text(f.code, f.where);
    if (error_kind) *error_kind = cuda_error_kind(f.code);
    cudaGetLastError();
    return false;
  }
}

MemtestResult run_memtest(double seconds, std::uint64_t seed, const ProgressFn& progress) {
  MemtestResult r;
  double t0 = now_s(), deadline = t0 + seconds;
  try {
    std::size_t free_b = 0, total_b = 0;
    AIC_CUDA(cudaMemGetInfo(&free_b, &total_b));
    r.free_bytes = free_b;
    r.total_bytes = total_b;
    Stream stream;
    DeviceBuffer log_buf(sizeof(MemErrorLog));
    AIC_CUDA(cudaMemset(log_buf.as(), 0, sizeof(MemErrorLog)));
    // As much as the allocator gives, leaving a reserve for the context;
    // step down until an allocation succeeds.
    const std::uint64_t mib = 1ull << 20;
    std::uint64_t reserve = std::max<std::uint64_t>(256 * mib, free_b / 200);
    DeviceBuffer block;
    std::uint64_t want = free_b > reserve ? free_b - reserve : free_b / 2;
    while (want >= 64 * mib) {
      want &= ~std::uint64_t(4095);
      if (block.try_allocate(want)) break;
      want -= std::max<std::uint64_t>(256 * mib, want / 50);
    }
    if (!block.bytes()) throw TestFailure{"could not allocate device memory to test (" + std::to_string(free_b) +
                                              " bytes reported free)", "resource"};
    r.tested_bytes = block.bytes();
    r.coverage = free_b ? double(r.tested_bytes) / double(free_b) : 0;
    auto* base = block.as<ulonglong2>();
    std::uint64_t pairs = block.bytes() / sizeof(ulonglong2);
    unsigned blocks = unsigned(sm_count_of_current()) * 16;
    std::vector<StepRecord> steps;  // step id -> name and pass, for the error log
    MemErrorLog host_log;
    r.ran = true;
    for (std::uint64_t pass = 0;; ++pass) {
      auto pass_steps = memtest_pass_steps(pass, seed);
      double ps = now_s();
      for (const auto& st : pass_steps) {
        std::uint64_t id = steps.size();
        steps.push_back({st.name, pass});
        launch_step(st, base, pairs, log_buf.as<MemErrorLog>(), id, blocks, stream);
        if (st.check) r.bytes_checked += block.bytes();
      }
      AIC_CUDA(cudaStreamSynchronize(stream));
      double pe = now_s();
      r.passes = pass + 1;
      if (r.patterns.empty())
        for (const auto& st : pass_steps)
          if (r.patterns.empty() || r.patterns.back() != st.name) r.patterns.push_back(st.name);
      double rate = double(memtest_pass_traffic(pass_steps, block.bytes())) / (pe - ps) / 1e9;
      if (progress) progress("memtest", pe - t0, r.passes, rate);
      if (pe >= deadline || interrupted()) break;
    }
    AIC_CUDA(cudaMemcpy(&host_log, log_buf.as(), sizeof host_log, cudaMemcpyDeviceToHost));
    collect_errors(host_log, reinterpret_cast<std::uint64_t>(base), steps, &r);
    double elapsed = now_s() - t0;
    r.check_gbps = elapsed > 0 ? double(r.bytes_checked) / elapsed / 1e9 : 0;
    if (interrupted()) {
      r.error = "interrupted";
      r.error_kind = "interrupted";
    }
  } catch (const CudaFailure& f) {
    record(r, f);
  } catch (const TestFailure& f) {
    record(r, f);
  }
  r.seconds = now_s() - t0;
  return r;
}

bool memtest_inject_check(std::uint64_t bytes, int pattern, std::uint64_t param, std::uint64_t flip_word,
                          std::uint64_t flip_mask, MemtestResult* out, std::string* error) {
  try {
    Stream stream;
    DeviceBuffer block(bytes);
    DeviceBuffer log_buf(sizeof(MemErrorLog));
    AIC_CUDA(cudaMemset(log_buf.as(), 0, sizeof(MemErrorLog)));
    auto* base = block.as<ulonglong2>();
    std::uint64_t pairs = bytes / sizeof(ulonglong2);
    unsigned blocks = unsigned(sm_count_of_current()) * 4;
    MemtestStep w;
    w.name = "injected";
    w.pattern = pattern;
    w.param = param;
    launch_step(w, base, pairs, log_buf.as<MemErrorLog>(), 0, blocks, stream);
    AIC_CUDA(cudaStreamSynchronize(stream));
    // Flip bits behind the kernels' back.
    std::uint64_t word = 0;
    auto* words = block.as<std::uint64_t>();
    AIC_CUDA(cudaMemcpy(&word, words + flip_word, 8, cudaMemcpyDeviceToHost));
    word ^= flip_mask;
    AIC_CUDA(cudaMemcpy(words + flip_word, &word, 8, cudaMemcpyHostToDevice));
    MemtestStep c = w;
    c.check = true;
    launch_step(c, base, pairs, log_buf.as<MemErrorLog>(), 0, blocks, stream);
    AIC_CUDA(cudaStreamSynchronize(stream));
    MemErrorLog host_log;
    AIC_CUDA(cudaMemcpy(&host_log, log_buf.as(), sizeof host_log, cudaMemcpyDeviceToHost));
    collect_errors(host_log, reinterpret_cast<std::uint64_t>(base), {{"injected", 0}}, out);
    out->tested_bytes = bytes;
    out->ran = true;
    return true;
  } catch (const CudaFailure& f) {
    *error = cuda_error_text(f.code, f.where);
  } catch (const TestFailure& f) {
    *error = f.message;
  }
  return false;
}

}  // namespace aicloud::burnin
