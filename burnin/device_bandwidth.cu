// Bandwidth tests: HBM (copy and triad kernels, device-to-device memcpy),
// PCIe host<->device with pinned memory (each GPU alone, then all at once),
// and peer-to-peer copies between every pair of GPUs. Bytes are counted the
// way the peers do: a copy moves its size once in each direction of memory
// traffic, so HBM copy counts read + write (as nvbandwidth's
// device_local_copy does not, see its issue #48), triad 2 reads + 1 write,
// and PCIe/P2P count the bytes that crossed the link. Every rate is the
// median of timed repetitions after a warm-up; copied data is verified.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include "burnin/device.hpp"
#include "burnin/device_common.cuh"
#include "burnin/gemm_math.hpp"
#include "common/interrupt.hpp"

namespace aicloud::burnin {

using namespace dev;

namespace {

__global__ void fill_kernel(std::uint64_t* p, std::uint64_t n, std::uint64_t seed) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::uint64_t(gridDim.x) * blockDim.x)
    p[i] = splitmix64(seed + i);
}

__global__ void compare_kernel(const std::uint64_t* p, std::uint64_t n, std::uint64_t seed, unsigned long long* bad) {
  unsigned long long local = 0;
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::uint64_t(gridDim.x) * blockDim.x)
    local += p[i] != splitmix64(seed + i);
  if (local) atomicAdd(bad, local);
}

// Streaming copy: each thread moves 4 x 16 bytes per step with
// cache-streaming loads and stores (the data is touched once).
__global__ void __launch_bounds__(256) copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, std::uint64_t n) {
  const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
  std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    uint4 a = __ldcs(src + i), b = __ldcs(src + i + stride), c = __ldcs(src + i + 2 * stride),
          d = __ldcs(src + i + 3 * stride);
    __stcs(dst + i, a);
    __stcs(dst + i + stride, b);
    __stcs(dst + i + 2 * stride, c);
    __stcs(dst + i + 3 * stride, d);
  }
  for (; i < n; i += stride) __stcs(dst + i, __ldcs(src + i));
}

__global__ void __launch_bounds__(256)
    triad_kernel(float4* __restrict__ a, const float4* __restrict__ b, const float4* __restrict__ c, float s, std::uint64_t n) {
  const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
  std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x;
  for (; i + stride < n; i += 2 * stride) {
    float4 b0 = __ldcs(b + i), c0 = __ldcs(c + i), b1 = __ldcs(b + i + stride), c1 = __ldcs(c + i + stride);
    __stcs(a + i, make_float4(b0.x + s * c0.x, b0.y + s * c0.y, b0.z + s * c0.z, b0.w + s * c0.w));
    __stcs(a + i + stride, make_float4(b1.x + s * c1.x, b1.y + s * c1.y, b1.z + s * c1.z, b1.w + s * c1.w));
  }
  for (; i < n; i += stride) {
    float4 b0 = __ldcs(b + i), c0 = __ldcs(c + i);
    __stcs(a + i, make_float4(b0.x + s * c0.x, b0.y + s * c0.y, b0.z + s * c0.z, b0.w + s * c0.w));
  }
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

unsigned grid_for(std::uint64_t n) {
  int sms = sm_count_of_current();
  return static_cast<unsigned>(std::max<std::uint64_t>(1, std::min<std::uint64_t>((n + 255) / 256, std::uint64_t(sms) * 32)));
}

std::uint64_t count_mismatches(const std::uint64_t* p, std::uint64_t n, std::uint64_t seed, cudaStream_t s) {
  DeviceBuffer bad(sizeof(unsigned long long));
  AIC_CUDA(cudaMemsetAsync(bad.as(), 0, sizeof(unsigned long long), s));
  compare_kernel<<<grid_for(n), 256, 0, s>>>(p, n, seed, bad.as<unsigned long long>());
  AIC_LAUNCHED();
  unsigned long long h = 0;
  AIC_CUDA(cudaMemcpyAsync(&h, bad.as(), sizeof h, cudaMemcpyDeviceToHost, s));
  AIC_CUDA(cudaStreamSynchronize(s));
  return h;
}

void fill(std::uint64_t* p, std::uint64_t n, std::uint64_t seed, cudaStream_t s) {
  fill_kernel<<<grid_for(n), 256, 0, s>>>(p, n, seed);
  AIC_LAUNCHED();
}

// Times `op` (enqueued on s) `reps` times after one warm-up; median seconds.
template <typename Op>
double time_median(cudaStream_t s, int reps, Op op) {
  Event a, b;
  op();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    AIC_CUDA(cudaEventRecord(a, s));
    op();
    AIC_CUDA(cudaEventRecord(b, s));
    t.push_back(elapsed_ms(a, b) / 1e3);
  }
  return median(t);
}

void pin_thread(const std::vector<unsigned long>& set) {
  if (set.empty()) return;
  cpu_set_t cs;
  CPU_ZERO(&cs);
  bool any = false;
  for (std::size_t w = 0; w < set.size(); ++w)
    for (unsigned b = 0; b < sizeof(unsigned long) * 8; ++b)
      if (set[w] & (1ul << b)) {
        std::size_t cpu = w * sizeof(unsigned long) * 8 + b;
        if (cpu < CPU_SETSIZE) {
          CPU_SET(cpu, &cs);
          any = true;
        }
      }
  if (any) pthread_setaffinity_np(pthread_self(), sizeof cs, &cs);
}

}  // namespace

HbmResult run_hbm(double seconds, const ProgressFn& progress) {
  HbmResult r;
  double t0 = now_s();
  try {
    std::size_t free_b = 0, total_b = 0;
    AIC_CUDA(cudaMemGetInfo(&free_b, &total_b));
    // Three buffers far larger than L2 (tens of MB): 1 GiB each, less on small GPUs.
    std::uint64_t bytes = std::min<std::uint64_t>(1ull << 30, (free_b / 8) & ~std::uint64_t(0xFFFFF));
    if (bytes < (64ull << 20)) throw TestFailure{"not enough free device memory for the bandwidth buffers", "resource"};
    r.buffer_bytes = bytes;
    Stream s;
    DeviceBuffer a(bytes), b(bytes), c(bytes);
    std::uint64_t words = bytes / 8, vecs = bytes / 16;
    fill(a.as<std::uint64_t>(), words, 1, s);
    fill(b.as<std::uint64_t>(), words, 2, s);
    fill(c.as<std::uint64_t>(), words, 3, s);
    AIC_CUDA(cudaStreamSynchronize(s));
    // Pick the launch shape that copies fastest (a few candidates), then
    // measure it; repetitions scale with the time budget.
    int sms = sm_count_of_current();
    unsigned best_grid = unsigned(sms) * 8;
    double best_t = 0;
    for (unsigned mult : {4u, 8u, 16u, 32u}) {
      unsigned grid = unsigned(sms) * mult;
      double t = time_median(s, 3, [&] {
        copy_kernel<<<grid, 256, 0, s>>>(a.as<uint4>(), b.as<uint4>(), vecs);
        AIC_LAUNCHED();
      });
      if (best_t == 0 || t < best_t) {
        best_t = t;
        best_grid = grid;
      }
    }
    int reps = static_cast<int>(std::clamp(seconds / 3 / std::max(best_t, 1e-6), 10.0, 200.0));
    r.reps = reps;
    double tc = time_median(s, reps, [&] {
      copy_kernel<<<best_grid, 256, 0, s>>>(a.as<uint4>(), b.as<uint4>(), vecs);
      AIC_LAUNCHED();
    });
    r.copy_gbps = 2.0 * double(bytes) / tc / 1e9;
    if (progress) progress("hbm", now_s() - t0, 1, r.copy_gbps);
    // The copy must have copied: b now equals a's pattern.
    r.mismatches = count_mismatches(b.as<std::uint64_t>(), words, 1, s);
    double tt = time_median(s, reps, [&] {
      triad_kernel<<<best_grid, 256, 0, s>>>(c.as<float4>(), a.as<float4>(), b.as<float4>(), 0.5f, vecs);
      AIC_LAUNCHED();
    });
    r.triad_gbps = 3.0 * double(bytes) / tt / 1e9;
    if (progress) progress("hbm", now_s() - t0, 2, r.triad_gbps);
    double tm = time_median(s, reps, [&] {
      AIC_CUDA(cudaMemcpyAsync(b.as(), a.as(), bytes, cudaMemcpyDeviceToDevice, s));
    });
    r.memcpy_gbps = 2.0 * double(bytes) / tm / 1e9;
    r.mismatches += count_mismatches(b.as<std::uint64_t>(), words, 1, s);
    r.ran = true;
  } catch (const CudaFailure& f) {
    record(r, f);
  } catch (const TestFailure& f) {
    record(r, f);
  }
  r.seconds = now_s() - t0;
  return r;
}

namespace {

struct HostLink {
  int ordinal = 0;
  DeviceBuffer dev_in, dev_out;
  PinnedBuffer host_src, host_dst;
  Stream s1, s2;
};

constexpr int k_pcie_reps = 5;

}  // namespace

PcieResult run_pcie(const std::vector<int>& ordinals, const std::vector<std::vector<unsigned long>>& cpu_sets,
                    const LinkProbe& probe, const ProgressFn& progress) {
  PcieResult r;
  double t0 = now_s();
  const std::uint64_t bytes = 256ull << 20;
  r.bytes = bytes;
  std::vector<std::unique_ptr<HostLink>> links(ordinals.size());
  r.gpus.resize(ordinals.size());
  // Each GPU alone, one after the other (GPUs behind one PCIe switch would
  // otherwise share its uplink).
  for (std::size_t i = 0; i < ordinals.size(); ++i) {
    PcieGpuResult& g = r.gpus[i];
    g.gpu = static_cast<int>(i);
    std::thread worker([&] {
      try {
        if (i < cpu_sets.size()) pin_thread(cpu_sets[i]);  // host buffers land near the GPU
        AIC_CUDA(cudaSetDevice(ordinals[i]));
        auto l = std::make_unique<HostLink>();
        l->ordinal = ordinals[i];
        l->dev_in.allocate(bytes);
        l->dev_out.allocate(bytes);
        l->host_src = PinnedBuffer(bytes);
        l->host_dst = PinnedBuffer(bytes);
        auto* src = l->host_src.as<std::uint64_t>();
        for (std::uint64_t w = 0; w < bytes / 8; ++w) src[w] = splitmix64(0x9C1Eull + w);
        cudaStream_t s = l->s1;
        // H2D, with the link state sampled while the copies run.
        Event a, b;
        AIC_CUDA(cudaMemcpyAsync(l->dev_in.as(), src, bytes, cudaMemcpyHostToDevice, s));  // warm-up
        AIC_CUDA(cudaEventRecord(a, s));
        for (int k = 0; k < k_pcie_reps; ++k)
          AIC_CUDA(cudaMemcpyAsync(l->dev_in.as(), src, bytes, cudaMemcpyHostToDevice, s));
        AIC_CUDA(cudaEventRecord(b, s));
        if (probe) {
          auto [gen, width] = probe(ordinals[i]);
          g.gen_under_load = gen;
          g.width_under_load = width;
        }
        g.h2d_gbps = double(bytes) * k_pcie_reps / (elapsed_ms(a, b) / 1e3) / 1e9;
        // D2H of what arrived, then compare on the host: the round trip is verified.
        AIC_CUDA(cudaMemcpyAsync(l->host_dst.as(), l->dev_in.as(), bytes, cudaMemcpyDeviceToHost, s));  // warm-up
        AIC_CUDA(cudaEventRecord(a, s));
        for (int k = 0; k < k_pcie_reps; ++k)
          AIC_CUDA(cudaMemcpyAsync(l->host_dst.as(), l->dev_in.as(), bytes, cudaMemcpyDeviceToHost, s));
        AIC_CUDA(cudaEventRecord(b, s));
        g.d2h_gbps = double(bytes) * k_pcie_reps / (elapsed_ms(a, b) / 1e3) / 1e9;
        const auto* back = l->host_dst.as<std::uint64_t>();
        for (std::uint64_t w = 0; w < bytes / 8; ++w) g.mismatches += back[w] != src[w] ? 8 : 0;
        // Both directions at once on two streams.
        cudaStream_t s2 = l->s2;
        double start = now_s();
        for (int k = 0; k < k_pcie_reps; ++k) {
          AIC_CUDA(cudaMemcpyAsync(l->dev_in.as(), src, bytes, cudaMemcpyHostToDevice, s));
          AIC_CUDA(cudaMemcpyAsync(l->host_dst.as(), l->dev_out.as(), bytes, cudaMemcpyDeviceToHost, s2));
        }
        AIC_CUDA(cudaStreamSynchronize(s));
        AIC_CUDA(cudaStreamSynchronize(s2));
        g.bidir_gbps = 2.0 * double(bytes) * k_pcie_reps / (now_s() - start) / 1e9;
        links[i] = std::move(l);
      } catch (const CudaFailure& f) {
        g.error = cuda_error_text(f.code, f.where);
        g.error_kind = cuda_error_kind(f.code);
        cudaGetLastError();
      }
    });
    worker.join();
    if (progress) progress("pcie", now_s() - t0, i + 1, r.gpus[i].h2d_gbps);
    if (interrupted()) break;
  }
  // All at once: one thread per GPU, started together; the aggregate is the
  // bytes moved by all over the wall time until the last one finished.
  for (int dir = 0; dir < 2 && !interrupted(); ++dir) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    std::vector<double> secs(ordinals.size(), 0);
    std::size_t active = 0;
    for (std::size_t i = 0; i < ordinals.size(); ++i) {
      if (!links[i]) continue;
      ++active;
      threads.emplace_back([&, i] {
        HostLink& l = *links[i];
        try {
          if (i < cpu_sets.size()) pin_thread(cpu_sets[i]);
          AIC_CUDA(cudaSetDevice(l.ordinal));
          ready++;
          while (!go.load()) std::this_thread::yield();
          double start = now_s();
          for (int k = 0; k < k_pcie_reps; ++k) {
            if (dir == 0)
              AIC_CUDA(cudaMemcpyAsync(l.dev_in.as(), l.host_src.as(), bytes, cudaMemcpyHostToDevice, l.s1));
            else
              AIC_CUDA(cudaMemcpyAsync(l.host_dst.as(), l.dev_in.as(), bytes, cudaMemcpyDeviceToHost, l.s1));
          }
          AIC_CUDA(cudaStreamSynchronize(l.s1));
          secs[i] = now_s() - start;
        } catch (const CudaFailure& f) {
          if (r.gpus[i].error.empty()) {
            r.gpus[i].error = cuda_error_text(f.code, f.where);
            r.gpus[i].error_kind = cuda_error_kind(f.code);
          }
          cudaGetLastError();
          ready++;
        }
      });
    }
    while (ready.load() < int(active)) std::this_thread::yield();
    double start = now_s();
    go = true;
    for (auto& t : threads) t.join();
    double wall = now_s() - start;
    double total = 0;
    for (std::size_t i = 0; i < ordinals.size(); ++i) {
      if (secs[i] <= 0) continue;
      double rate = double(bytes) * k_pcie_reps / secs[i] / 1e9;
      (dir == 0 ? r.gpus[i].all_h2d_gbps : r.gpus[i].all_d2h_gbps) = rate;
      total += double(bytes) * k_pcie_reps;
    }
    (dir == 0 ? r.all_h2d_total_gbps : r.all_d2h_total_gbps) = wall > 0 ? total / wall / 1e9 : 0;
  }
  r.ran = true;
  for (const auto& g : r.gpus)
    if (!g.error.empty() && r.error.empty()) {
      r.error = "GPU " + std::to_string(g.gpu) + ": " + g.error;
      r.error_kind = g.error_kind;
    }
  if (interrupted() && r.error.empty()) {
    r.error = "interrupted";
    r.error_kind = "interrupted";
  }
  r.seconds = now_s() - t0;
  return r;
}

P2PResult run_p2p(const std::vector<int>& ordinals, const ProgressFn& progress) {
  P2PResult r;
  double t0 = now_s();
  const std::uint64_t bytes = 256ull << 20;
  r.bytes = bytes;
  if (ordinals.size() < 2) {
    r.waived = "peer-to-peer needs at least two GPUs (" + std::to_string(ordinals.size()) + " selected)";
    return r;
  }
  struct Side {
    DeviceBuffer src, dst;
    std::unique_ptr<Stream> s;
  };
  std::vector<Side> sides(ordinals.size());
  try {
    for (std::size_t i = 0; i < ordinals.size(); ++i) {
      AIC_CUDA(cudaSetDevice(ordinals[i]));
      sides[i].src.allocate(bytes);
      sides[i].dst.allocate(bytes);
      sides[i].s = std::make_unique<Stream>();
      fill(sides[i].src.as<std::uint64_t>(), bytes / 8, 0x7000 + i, *sides[i].s);
      AIC_CUDA(cudaStreamSynchronize(*sides[i].s));
    }
  } catch (const CudaFailure& f) {
    record(r, f);
    r.seconds = now_s() - t0;
    return r;
  }
  auto enable = [&](std::size_t i, std::size_t j) -> bool {
    int can = 0;
    if (cudaDeviceCanAccessPeer(&can, ordinals[i], ordinals[j]) != cudaSuccess || !can) {
      cudaGetLastError();
      return false;
    }
    cudaSetDevice(ordinals[i]);
    cudaError_t e = cudaDeviceEnablePeerAccess(ordinals[j], 0);
    if (e != cudaSuccess && e != cudaErrorPeerAccessAlreadyEnabled) {
      cudaGetLastError();
      return false;
    }
    cudaGetLastError();
    return true;
  };
  std::size_t done = 0;
  for (std::size_t i = 0; i < ordinals.size() && !interrupted(); ++i)
    for (std::size_t j = 0; j < ordinals.size(); ++j) {
      if (i == j) continue;
      P2PPair p;
      p.src = int(i);
      p.dst = int(j);
      try {
        p.peer_access = enable(i, j) && enable(j, i);
        AIC_CUDA(cudaSetDevice(ordinals[i]));
        cudaStream_t s = *sides[i].s;
        double t = time_median(s, k_pcie_reps, [&] {
          AIC_CUDA(cudaMemcpyPeerAsync(sides[j].dst.as(), ordinals[j], sides[i].src.as(), ordinals[i], bytes, s));
        });
        p.gbps = double(bytes) / t / 1e9;
        AIC_CUDA(cudaSetDevice(ordinals[j]));
        p.mismatches = count_mismatches(sides[j].dst.as<std::uint64_t>(), bytes / 8, 0x7000 + i, *sides[j].s);
      } catch (const CudaFailure& f) {
        p.error = cuda_error_text(f.code, f.where);
        if (r.error.empty()) {
          r.error = p.error;
          r.error_kind = cuda_error_kind(f.code);
        }
        cudaGetLastError();
      }
      r.pairs.push_back(p);
      if (progress) progress("p2p", now_s() - t0, ++done, p.gbps);
    }
  // Both directions at once for every unordered pair.
  for (std::size_t i = 0; i < ordinals.size() && !interrupted(); ++i)
    for (std::size_t j = i + 1; j < ordinals.size(); ++j) {
      P2PBidir b;
      b.a = int(i);
      b.b = int(j);
      try {
        cudaStream_t si = *sides[i].s, sj = *sides[j].s;
        auto both = [&] {
          AIC_CUDA(cudaMemcpyPeerAsync(sides[j].dst.as(), ordinals[j], sides[i].src.as(), ordinals[i], bytes, si));
          AIC_CUDA(cudaMemcpyPeerAsync(sides[i].dst.as(), ordinals[i], sides[j].src.as(), ordinals[j], bytes, sj));
        };
        both();  // warm-up
        AIC_CUDA(cudaStreamSynchronize(si));
        AIC_CUDA(cudaStreamSynchronize(sj));
        double start = now_s();
        for (int k = 0; k < k_pcie_reps; ++k) both();
        AIC_CUDA(cudaStreamSynchronize(si));
        AIC_CUDA(cudaStreamSynchronize(sj));
        b.gbps = 2.0 * double(bytes) * k_pcie_reps / (now_s() - start) / 1e9;
      } catch (const CudaFailure& f) {
        b.error = cuda_error_text(f.code, f.where);
        cudaGetLastError();
      }
      r.bidir.push_back(b);
    }
  r.ran = true;
  if (interrupted() && r.error.empty()) {
    r.error = "interrupted";
    r.error_kind = "interrupted";
  }
  r.seconds = now_s() - t0;
  return r;
}

}  // namespace aicloud::burnin
