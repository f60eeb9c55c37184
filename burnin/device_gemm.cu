// The verified GEMM stress (see gemm_math.hpp for why the product is exact).
//
// Setup, once per test:
//   1. seeded int8 inputs are generated on the device (gemm_input);
//   2. an independent reference on the CUDA cores (int8 dot products with
//      __dp4a, int32 accumulation) writes the exact product into D, and the
//      verify kernel in "record" mode stores the hash of every 1024-element
//      chunk; the CPU re-computes a sample of reference elements;
//   3. the inputs are converted to the GEMM's type (bf16, fp16, fp32, fp64,
//      fp8 e4m3), the int8 copies freed;
//   4. cuBLASLt's heuristic proposes up to 8 algorithms with a 256 MiB
//      workspace; each runs (verified) and is timed, and the fastest is kept.
// Stress loop, until the deadline: GEMM then verify, on one stream, in
// batches of ~0.5 s with one batch always queued ahead, so the GPU never
// waits for the host. The verify kernel reads D once (4 bytes per element
// against 2*K flops: ~1% of the GEMM's time at K = 32768), hashes every chunk
// and compares it with the reference hash; a chunk that differs is counted
// and copied to a quarantine buffer, and the host later re-computes those
// elements exactly to report which ones were wrong and how.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cstring>
#include <deque>

#include "burnin/device.hpp"
#include "burnin/device_common.cuh"
#include "burnin/gemm_check.hpp"
#include "burnin/gemm_math.hpp"
#include "common/interrupt.hpp"
#include "gpu/cublaslt.hpp"

namespace aicloud::burnin {

using namespace dev;

namespace {

constexpr int k_max_quarantine = 16;
constexpr std::size_t k_max_mismatch_records = 16;
constexpr int k_spot_samples = 128;
constexpr int k_heuristic_candidates = 8;

struct VerifyState {
  unsigned long long bad_chunks;
  unsigned long long wrong_results;
  unsigned long long last_bad_iteration_plus1;
  unsigned long long log_chunk[k_max_quarantine];
  unsigned long long log_iteration[k_max_quarantine];
};

// ---- kernels ----------------------------------------------------------------

__global__ void gen_int8_kernel(signed char* out, std::uint64_t count, std::uint64_t seed, int which, int range) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < count;
       i += std::uint64_t(gridDim.x) * blockDim.x)
    out[i] = static_cast<signed char>(gemm_input(seed, which, i, range));
}

template <typename T>
__device__ __forceinline__ T from_int(int v);
template <>
__device__ __forceinline__ __nv_bfloat16 from_int<__nv_bfloat16>(int v) {
  return __float2bfloat16_rn(static_cast<float>(v));
}
template <>
__device__ __forceinline__ __half from_int<__half>(int v) {
  return __float2half_rn(static_cast<float>(v));
}
template <>
__device__ __forceinline__ float from_int<float>(int v) {
  return static_cast<float>(v);
}
template <>
__device__ __forceinline__ double from_int<double>(int v) {
  return static_cast<double>(v);
}
template <>
__device__ __forceinline__ __nv_fp8_e4m3 from_int<__nv_fp8_e4m3>(int v) {
  return __nv_fp8_e4m3(static_cast<float>(v));
}

template <typename T>
__global__ void convert_kernel(const signed char* in, T* out, std::uint64_t count) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < count;
       i += std::uint64_t(gridDim.x) * blockDim.x)
    out[i] = from_int<T>(in[i]);
}

// Reference: D(m,n) = sum_k A(m,k) B(k,n) with int8 inputs packed four per
// 32-bit word along K and __dp4a. Block tile 64x64, 256 threads with 4x4
// outputs each, K staged through shared memory 32 values at a time.
constexpr int k_ref_tile = 64;
constexpr int k_ref_kw = 8;  // 32-bit words of K per stage

template <typename OutT>
__global__ void __launch_bounds__(256)
    ref_gemm_kernel(const int* A, const int* B, std::int64_t M, std::int64_t Kw, OutT* D) {
  __shared__ int As[k_ref_tile][k_ref_kw + 1];
  __shared__ int Bs[k_ref_tile][k_ref_kw + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const std::int64_t m0 = std::int64_t(blockIdx.y) * k_ref_tile, n0 = std::int64_t(blockIdx.x) * k_ref_tile;
  int acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0;
  for (std::int64_t kw0 = 0; kw0 < Kw; kw0 += k_ref_kw) {
    for (int t = threadIdx.x; t < k_ref_tile * k_ref_kw; t += 256) {
      int r = t / k_ref_kw, c = t % k_ref_kw;
      As[r][c] = A[(m0 + r) * Kw + kw0 + c];
      Bs[r][c] = B[(n0 + r) * Kw + kw0 + c];
    }
    __syncthreads();
#pragma unroll
    for (int c = 0; c < k_ref_kw; ++c) {
      int a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        a[i] = As[ty * 4 + i][c];
        b[i] = Bs[tx * 4 + i][c];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = __dp4a(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      std::int64_t m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
      D[m + n * M] = static_cast<OutT>(acc[i][j]);
    }
}

__device__ __forceinline__ void load4(const float* p, float (&v)[4]) {
  float4 f = *reinterpret_cast<const float4*>(p);
  v[0] = f.x;
  v[1] = f.y;
  v[2] = f.z;
  v[3] = f.w;
}
__device__ __forceinline__ void load4(const double* p, double (&v)[4]) {
  double2 a = reinterpret_cast<const double2*>(p)[0];
  double2 b = reinterpret_cast<const double2*>(p)[1];
  v[0] = a.x;
  v[1] = a.y;
  v[2] = b.x;
  v[3] = b.y;
}

// Hashes every 1024-element chunk of D (256 threads x 4 elements). Record
// mode (expected == nullptr) stores the hashes; check mode compares them and
// counts, logs and quarantines the chunks that differ. Non-integer values
// (including NaN and infinities) always count as wrong.
template <typename OutT>
__global__ void __launch_bounds__(256)
    verify_kernel(const OutT* D, std::uint64_t n_chunks, const std::uint64_t* expected, std::uint64_t* record,
                  VerifyState* st, double* quarantine, std::uint64_t iteration) {
  __shared__ unsigned long long s_hash[8];
  __shared__ int s_bad[8];
  __shared__ unsigned long long s_slot;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (std::uint64_t c = blockIdx.x; c < n_chunks; c += gridDim.x) {
    const std::uint64_t first = c * k_gemm_chunk + std::uint64_t(threadIdx.x) * 4;
    OutT v[4];
    load4(D + first, v);
    unsigned long long h = 0;
    int bad = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      long long iv = static_cast<long long>(v[j]);
      bad |= static_cast<OutT>(iv) != v[j];
      h += gemm_element_hash(first + j, iv);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      h += __shfl_xor_sync(0xffffffffu, h, o);
      bad |= __shfl_xor_sync(0xffffffffu, bad, o);
    }
    if (lane == 0) {
      s_hash[warp] = h;
      s_bad[warp] = bad;
    }
    __syncthreads();
    unsigned long long total = 0;
    int any_bad = 0;
#pragma unroll
    for (int w = 0; w < 8; ++w) {
      total += s_hash[w];
      any_bad |= s_bad[w];
    }
    if (expected == nullptr) {
      if (threadIdx.x == 0) record[c] = total;
    } else if (total != expected[c] || any_bad) {  // the same for every thread of the block
      if (threadIdx.x == 0) {
        unsigned long long slot = atomicAdd(&st->bad_chunks, 1ull);
        unsigned long long prev = atomicMax(&st->last_bad_iteration_plus1, (unsigned long long)(iteration + 1));
        if (prev < iteration + 1) atomicAdd(&st->wrong_results, 1ull);
        if (slot < k_max_quarantine) {
          st->log_chunk[slot] = c;
          st->log_iteration[slot] = iteration;
        }
        s_slot = slot;
      }
      __syncthreads();
      unsigned long long slot = s_slot;
      if (slot < k_max_quarantine) {
#pragma unroll
        for (int j = 0; j < 4; ++j)
          quarantine[slot * k_gemm_chunk + std::uint64_t(threadIdx.x) * 4 + j] = static_cast<double>(v[j]);
      }
    }
    __syncthreads();
  }
}

// ---- host side ------------------------------------------------------------

struct TypeSetup {
  cudaDataType_t ab;
  cudaDataType_t d;
  cublasComputeType_t compute;
  cudaDataType_t scale;
  const char* text;
};

TypeSetup type_setup(GemmType t) {
  switch (t) {
    case GemmType::bf16: return {CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, "bf16 x bf16 -> fp32, fp32 accumulate"};
    case GemmType::fp16: return {CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, "fp16 x fp16 -> fp32, fp32 accumulate"};
    case GemmType::tf32:
      return {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F, "tf32 x tf32 -> fp32, fp32 accumulate"};
    case GemmType::fp32: return {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, "fp32 x fp32 -> fp32 (SGEMM)"};
    case GemmType::fp64: return {CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F, CUDA_R_64F, "fp64 x fp64 -> fp64 (DGEMM)"};
    case GemmType::fp8:
      return {CUDA_R_8F_E4M3, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, "fp8 e4m3 x e4m3 -> fp32, fp32 accumulate"};
  }
  return {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, "?"};
}

unsigned blocks_for(std::uint64_t count, unsigned threads, unsigned cap) {
  std::uint64_t b = (count + threads - 1) / threads;
  return static_cast<unsigned>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(b, cap)));
}

std::string lt_kind(cublasStatus_t st) {
  if (st == CUBLAS_STATUS_ALLOC_FAILED) return "resource";
  if (st == CUBLAS_STATUS_EXECUTION_FAILED || st == CUBLAS_STATUS_INTERNAL_ERROR) return "device";
  return "setup";
}

// One problem on one device: buffers, the reference hashes, cuBLASLt state.
class GemmRunner {
 public:
  GemmRunner(const GemmPlan& plan) : m_plan(plan), m_types(type_setup(plan.type)), m_lt(gpu::load_cublaslt()) {
    m_sms = sm_count_of_current();
    m_elems = std::uint64_t(plan.m) * std::uint64_t(plan.n);
    m_chunks = m_elems / k_gemm_chunk;
  }
  ~GemmRunner() { destroy_lt(); }

  // Steps 1-3: reference hashes on the device, CPU spot check, typed inputs.
  void prepare(GemmResult* r) {
    const GemmPlan& p = m_plan;
    std::uint64_t a_count = std::uint64_t(p.m) * std::uint64_t(p.k), b_count = std::uint64_t(p.n) * std::uint64_t(p.k);
    DeviceBuffer a8(a_count), b8(b_count);
    unsigned cap = unsigned(m_sms) * 16;
    gen_int8_kernel<<<blocks_for(a_count, 256, cap), 256, 0, m_stream>>>(a8.as<signed char>(), a_count, p.seed, 0, p.range);
    AIC_LAUNCHED();
    gen_int8_kernel<<<blocks_for(b_count, 256, cap), 256, 0, m_stream>>>(b8.as<signed char>(), b_count, p.seed, 1, p.range);
    AIC_LAUNCHED();
    m_d.allocate(m_elems * std::uint64_t(p.out_bytes));
    m_expected.allocate(m_chunks * sizeof(std::uint64_t));
    m_state.allocate(sizeof(VerifyState));
    m_quarantine.allocate(k_max_quarantine * k_gemm_chunk * sizeof(double));
    AIC_CUDA(cudaMemsetAsync(m_state.as(), 0, sizeof(VerifyState), m_stream));
    dim3 grid(unsigned(p.n / k_ref_tile), unsigned(p.m / k_ref_tile));
    if (p.out_bytes == 8)
      ref_gemm_kernel<double><<<grid, 256, 0, m_stream>>>(a8.as<int>(), b8.as<int>(), p.m, p.k / 4, m_d.as<double>());
    else
      ref_gemm_kernel<float><<<grid, 256, 0, m_stream>>>(a8.as<int>(), b8.as<int>(), p.m, p.k / 4, m_d.as<float>());
    AIC_LAUNCHED();
    verify(/*record=*/true, 0);
    AIC_CUDA(cudaStreamSynchronize(m_stream));
    m_host_hashes.resize(m_chunks);
    AIC_CUDA(cudaMemcpy(m_host_hashes.data(), m_expected.as(), m_chunks * sizeof(std::uint64_t), cudaMemcpyDeviceToHost));
    if (r) {
      r->result_hash = gemm_result_hash(m_host_hashes);
      spot_check(r);
    }
    // Typed inputs for cuBLASLt.
    m_a.allocate(a_count * std::uint64_t(p.in_bytes));
    m_b.allocate(b_count * std::uint64_t(p.in_bytes));
    convert(a8, m_a, a_count);
    convert(b8, m_b, b_count);
    AIC_CUDA(cudaStreamSynchronize(m_stream));
  }

  const std::vector<std::uint64_t>& reference_hashes() const { return m_host_hashes; }

  // Step 4: cuBLASLt descriptors, candidates, timing; returns GEMM seconds.
  double tune(GemmResult* r) {
    create_lt();
    std::vector<cublasLtMatmulHeuristicResult_t> cands = candidates();
    double best = 0;
    Event e0, e1, e2, e3;
    for (auto& c : cands) {
      if (c.state != CUBLAS_STATUS_SUCCESS) continue;
      try {
        m_algo = c.algo;
        gemm();  // warm-up, verified like every other result
        verify(false, m_iteration++);
        AIC_CUDA(cudaEventRecord(e0, m_stream));
        gemm();
        AIC_CUDA(cudaEventRecord(e1, m_stream));
        verify(false, m_iteration++);
        AIC_CUDA(cudaEventRecord(e2, m_stream));
        gemm();
        AIC_CUDA(cudaEventRecord(e3, m_stream));
        verify(false, m_iteration++);
        double s = (elapsed_ms(e0, e1) + elapsed_ms(e2, e3)) / 2e3;
        if (best == 0 || s < best) {
          best = s;
          m_best = c.algo;
        }
      } catch (const TestFailure&) {
        // cuBLASLt refused this candidate: try the next.
      }
    }
    if (best == 0) throw TestFailure{"cuBLASLt: none of the proposed algorithms ran for " + m_plan.test, "setup"};
    m_algo = m_best;
    if (r) {
      r->algo = describe_algo(m_best);
      r->tflops_gemm_only = m_plan.flops_per_gemm() / best / 1e12;
      r->workspace_bytes = m_plan.workspace_bytes;
    }
    return best;
  }

  // The stress loop until `deadline` (steady-clock seconds).
  void stress(double deadline, double gemm_seconds, GemmResult* r, const ProgressFn& progress) {
    int batch = static_cast<int>(std::clamp(0.5 / std::max(gemm_seconds, 1e-6), 1.0, 2000.0));
    PinnedBuffer snaps(2 * sizeof(VerifyState));
    Event done[2];
    std::deque<std::pair<int, std::uint64_t>> outstanding;  // (slot, iterations enqueued so far)
    int next_slot = 0;
    std::uint64_t enqueued = 0;
    auto enqueue = [&] {
      for (int i = 0; i < batch; ++i) {
        gemm();
        verify(false, m_iteration++);
        ++enqueued;
      }
      AIC_CUDA(cudaMemcpyAsync(snaps.as<VerifyState>() + next_slot, m_state.as(), sizeof(VerifyState),
                               cudaMemcpyDeviceToHost, m_stream));
      AIC_CUDA(cudaEventRecord(done[next_slot], m_stream));
      outstanding.push_back({next_slot, enqueued});
      next_slot ^= 1;
    };
    const double flops = m_plan.flops_per_gemm();
    double start = now_s(), last_t = start;
    std::uint64_t last_done = 0, completed = 0;
    enqueue();
    while (!outstanding.empty()) {
      if (outstanding.size() < 2 && now_s() < deadline && !interrupted()) enqueue();
      auto [slot, upto] = outstanding.front();
      outstanding.pop_front();
      AIC_CUDA(cudaEventSynchronize(done[slot]));
      double t = now_s();
      completed = upto;
      VerifyState snap;
      std::memcpy(&snap, snaps.as<VerifyState>() + slot, sizeof snap);
      double rate = t > last_t ? double(completed - last_done) * flops / (t - last_t) / 1e12 : 0;
      r->series_t.push_back(t - start);
      r->series_tflops.push_back(rate);
      last_t = t;
      last_done = completed;
      r->wrong_results = snap.wrong_results;
      r->bad_chunks = snap.bad_chunks;
      if (progress) progress(m_plan.test, t - start, completed, rate);
    }
    r->iterations = completed;
    r->loop_seconds = now_s() - start;
    r->tflops = r->loop_seconds > 0 ? double(completed) * flops / r->loop_seconds / 1e12 : 0;
    if (interrupted()) {
      r->error = "interrupted";
      r->error_kind = "interrupted";
    }
  }

  // After the loop (or a failure): the final counters and the exact check of
  // the quarantined chunks.
  void analyse(GemmResult* r) {
    AIC_CUDA(cudaStreamSynchronize(m_stream));
    VerifyState st;
    AIC_CUDA(cudaMemcpy(&st, m_state.as(), sizeof st, cudaMemcpyDeviceToHost));
    r->wrong_results = st.wrong_results;
    r->bad_chunks = st.bad_chunks;
    std::uint64_t logged = std::min<std::uint64_t>(st.bad_chunks, k_max_quarantine);
    r->wrong_elements_complete = st.bad_chunks <= k_max_quarantine;
    if (logged == 0) return;
    std::vector<double> q(logged * k_gemm_chunk);
    AIC_CUDA(cudaMemcpy(q.data(), m_quarantine.as(), q.size() * sizeof(double), cudaMemcpyDeviceToHost));
    for (std::uint64_t s = 0; s < logged; ++s)
      r->wrong_elements += gemm_check_chunk(m_plan, st.log_chunk[s], st.log_iteration[s], &q[s * k_gemm_chunk],
                                            &r->mismatches, k_max_mismatch_records);
  }

  // One GEMM, a corrupted element, one check (GPU tests).
  void inject(std::uint64_t element, double delta) {
    gemm();
    verify(false, m_iteration++);
    AIC_CUDA(cudaStreamSynchronize(m_stream));
    if (m_plan.out_bytes == 8) {
      double v = 0;
      AIC_CUDA(cudaMemcpy(&v, m_d.as<double>() + element, sizeof v, cudaMemcpyDeviceToHost));
      v += delta;
      AIC_CUDA(cudaMemcpy(m_d.as<double>() + element, &v, sizeof v, cudaMemcpyHostToDevice));
    } else {
      float v = 0;
      AIC_CUDA(cudaMemcpy(&v, m_d.as<float>() + element, sizeof v, cudaMemcpyDeviceToHost));
      v += static_cast<float>(delta);
      AIC_CUDA(cudaMemcpy(m_d.as<float>() + element, &v, sizeof v, cudaMemcpyHostToDevice));
    }
    verify(false, m_iteration++);
    AIC_CUDA(cudaStreamSynchronize(m_stream));
  }

  // One GEMM + chunk hashes of D in record mode (GPU tests).
  std::vector<std::uint64_t> once_hashes() {
    gemm();
    verify(true, 0);
    AIC_CUDA(cudaStreamSynchronize(m_stream));
    std::vector<std::uint64_t> h(m_chunks);
    AIC_CUDA(cudaMemcpy(h.data(), m_expected.as(), m_chunks * sizeof(std::uint64_t), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  void convert(const DeviceBuffer& in, DeviceBuffer& out, std::uint64_t count) {
    unsigned blocks = blocks_for(count, 256, unsigned(m_sms) * 16);
    const signed char* src = in.as<signed char>();
    switch (m_plan.type) {
      case GemmType::bf16: convert_kernel<<<blocks, 256, 0, m_stream>>>(src, out.as<__nv_bfloat16>(), count); break;
      case GemmType::fp16: convert_kernel<<<blocks, 256, 0, m_stream>>>(src, out.as<__half>(), count); break;
      case GemmType::tf32:
      case GemmType::fp32: convert_kernel<<<blocks, 256, 0, m_stream>>>(src, out.as<float>(), count); break;
      case GemmType::fp64: convert_kernel<<<blocks, 256, 0, m_stream>>>(src, out.as<double>(), count); break;
      case GemmType::fp8: convert_kernel<<<blocks, 256, 0, m_stream>>>(src, out.as<__nv_fp8_e4m3>(), count); break;
    }
    AIC_LAUNCHED();
  }

  void verify(bool record, std::uint64_t iteration) {
    unsigned blocks = static_cast<unsigned>(std::min<std::uint64_t>(m_chunks, std::uint64_t(m_sms) * 8));
    const std::uint64_t* expected = record ? nullptr : m_expected.as<std::uint64_t>();
    std::uint64_t* rec = record ? m_expected.as<std::uint64_t>() : nullptr;
    if (m_plan.out_bytes == 8)
      verify_kernel<double><<<blocks, 256, 0, m_stream>>>(m_d.as<double>(), m_chunks, expected, rec,
                                                          m_state.as<VerifyState>(), m_quarantine.as<double>(), iteration);
    else
      verify_kernel<float><<<blocks, 256, 0, m_stream>>>(m_d.as<float>(), m_chunks, expected, rec,
                                                         m_state.as<VerifyState>(), m_quarantine.as<double>(), iteration);
    AIC_LAUNCHED();
  }

  void spot_check(GemmResult* r) {
    auto positions = gemm_spot_positions(m_plan, k_spot_samples);
    r->reference_samples = static_cast<int>(positions.size());
    for (const auto& [row, col] : positions) {
      std::uint64_t e = std::uint64_t(row) + std::uint64_t(col) * std::uint64_t(m_plan.m);
      double got = 0;
      if (m_plan.out_bytes == 8) {
        AIC_CUDA(cudaMemcpy(&got, m_d.as<double>() + e, sizeof(double), cudaMemcpyDeviceToHost));
      } else {
        float f = 0;
        AIC_CUDA(cudaMemcpy(&f, m_d.as<float>() + e, sizeof(float), cudaMemcpyDeviceToHost));
        got = f;
      }
      if (got != double(gemm_exact_element(m_plan, row, col))) r->reference_mismatches++;
    }
  }

  void check_lt(cublasStatus_t st, const char* what) {
    if (st != CUBLAS_STATUS_SUCCESS)
      throw TestFailure{std::string("cuBLASLt ") + what + ": " + m_lt.status_text(st), lt_kind(st)};
  }

  void create_lt() {
    const auto& a = m_lt.api;
    check_lt(a.Create(&m_handle), "create");
    m_workspace.allocate(m_plan.workspace_bytes);
    check_lt(a.MatmulDescCreate(&m_op, m_types.compute, m_types.scale), "matmul descriptor");
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    check_lt(a.MatmulDescSetAttribute(m_op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "transa");
    check_lt(a.MatmulDescSetAttribute(m_op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "transb");
    if (m_plan.type == GemmType::fp8) {
      // Per-tensor scales of 1 (FP8 kernels take device pointers), and the
      // default (promoting) accumulation: no fast accumulate.
      float ones[2] = {1.0f, 1.0f};
      m_scales.allocate(sizeof ones);
      AIC_CUDA(cudaMemcpy(m_scales.as(), ones, sizeof ones, cudaMemcpyHostToDevice));
      const float* sa = m_scales.as<float>();
      const float* sb = m_scales.as<float>() + 1;
      check_lt(a.MatmulDescSetAttribute(m_op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sa, sizeof sa), "A scale");
      check_lt(a.MatmulDescSetAttribute(m_op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sb, sizeof sb), "B scale");
      std::int8_t fast = 0;
      check_lt(a.MatmulDescSetAttribute(m_op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof fast), "fast accumulate");
    }
    const GemmPlan& p = m_plan;
    check_lt(a.MatrixLayoutCreate(&m_la, m_types.ab, std::uint64_t(p.k), std::uint64_t(p.m), p.k), "A layout");
    check_lt(a.MatrixLayoutCreate(&m_lb, m_types.ab, std::uint64_t(p.k), std::uint64_t(p.n), p.k), "B layout");
    check_lt(a.MatrixLayoutCreate(&m_ld, m_types.d, std::uint64_t(p.m), std::uint64_t(p.n), p.m), "D layout");
    check_lt(a.MatmulPreferenceCreate(&m_pref), "preference");
    std::uint64_t ws = m_plan.workspace_bytes;
    check_lt(a.MatmulPreferenceSetAttribute(m_pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws), "workspace");
  }

  // Asks the heuristic; for FP8, a BF16 C (with beta = 0 it is never read)
  // is the fallback where an FP32 C is refused.
  std::vector<cublasLtMatmulHeuristicResult_t> candidates() {
    const auto& a = m_lt.api;
    std::vector<cudaDataType_t> c_types = {m_types.d};
    if (m_plan.type == GemmType::fp8) c_types.push_back(CUDA_R_16BF);
    std::string last;
    for (cudaDataType_t ct : c_types) {
      if (m_lc) a.MatrixLayoutDestroy(m_lc);
      m_lc = nullptr;
      check_lt(a.MatrixLayoutCreate(&m_lc, ct, std::uint64_t(m_plan.m), std::uint64_t(m_plan.n), m_plan.m), "C layout");
      std::vector<cublasLtMatmulHeuristicResult_t> res(k_heuristic_candidates);
      int found = 0;
      cublasStatus_t st = a.MatmulAlgoGetHeuristic(m_handle, m_op, m_la, m_lb, m_lc, m_ld, m_pref,
                                                   k_heuristic_candidates, res.data(), &found);
      if (st == CUBLAS_STATUS_SUCCESS && found > 0) {
        res.resize(std::size_t(found));
        if (ct != m_types.d) {
          m_c.allocate(std::uint64_t(m_plan.m) * std::uint64_t(m_plan.n) * 2);
          AIC_CUDA(cudaMemset(m_c.as(), 0, m_c.bytes()));
        }
        return res;
      }
      last = st == CUBLAS_STATUS_SUCCESS ? "no algorithm" : m_lt.status_text(st);
    }
    throw TestFailure{"cuBLASLt has no algorithm for " + std::string(m_types.text) + " on this GPU (" + last + ")",
                      "setup"};
  }

  void gemm() {
    float alpha_f = 1.0f, beta_f = 0.0f;
    double alpha_d = 1.0, beta_d = 0.0;
    bool dbl = m_types.scale == CUDA_R_64F;
    const void* alpha = dbl ? static_cast<const void*>(&alpha_d) : static_cast<const void*>(&alpha_f);
    const void* beta = dbl ? static_cast<const void*>(&beta_d) : static_cast<const void*>(&beta_f);
    const void* c = m_c.bytes() ? m_c.as() : m_d.as();
    check_lt(m_lt.api.Matmul(m_handle, m_op, alpha, m_a.as(), m_la, m_b.as(), m_lb, beta, c, m_lc, m_d.as(), m_ld,
                             &m_algo, m_workspace.as(), m_plan.workspace_bytes, m_stream),
             "matmul");
  }

  std::string describe_algo(const cublasLtMatmulAlgo_t& algo) {
    const auto& a = m_lt.api;
    int id = -1;
    std::uint32_t tile = 0, stages = 0, splitk = 0;
    std::size_t written = 0;
    a.MatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &written);
    a.MatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &tile, sizeof tile, &written);
    a.MatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_STAGES_ID, &stages, sizeof stages, &written);
    a.MatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitk, sizeof splitk, &written);
    return "id " + std::to_string(id) + ", tile " + std::to_string(tile) + ", stages " + std::to_string(stages) +
           ", split-k " + std::to_string(splitk);
  }

  void destroy_lt() {
    if (!m_lt.loaded) return;
    const auto& a = m_lt.api;
    if (m_pref) a.MatmulPreferenceDestroy(m_pref);
    if (m_la) a.MatrixLayoutDestroy(m_la);
    if (m_lb) a.MatrixLayoutDestroy(m_lb);
    if (m_lc) a.MatrixLayoutDestroy(m_lc);
    if (m_ld) a.MatrixLayoutDestroy(m_ld);
    if (m_op) a.MatmulDescDestroy(m_op);
    if (m_handle) a.Destroy(m_handle);
    m_pref = nullptr;
    m_la = m_lb = m_lc = m_ld = nullptr;
    m_op = nullptr;
    m_handle = nullptr;
  }

  GemmPlan m_plan;
  TypeSetup m_types;
  const gpu::CublasLt& m_lt;
  int m_sms = 0;
  std::uint64_t m_elems = 0, m_chunks = 0;
  std::uint64_t m_iteration = 0;
  Stream m_stream;
  DeviceBuffer m_a, m_b, m_c, m_d, m_expected, m_state, m_quarantine, m_workspace, m_scales;
  std::vector<std::uint64_t> m_host_hashes;
  cublasLtHandle_t m_handle = nullptr;
  cublasLtMatmulDesc_t m_op = nullptr;
  cublasLtMatrixLayout_t m_la = nullptr, m_lb = nullptr, m_lc = nullptr, m_ld = nullptr;
  cublasLtMatmulPreference_t m_pref = nullptr;
  cublasLtMatmulAlgo_t m_algo{}, m_best{};
};

}  // namespace

GemmResult run_gemm(const GemmPlan& plan, double seconds, const ProgressFn& progress) {
  GemmResult r;
  double t0 = now_s(), deadline = t0 + seconds;
  r.test = plan.test;
  r.types = type_setup(plan.type).text;
  r.m = plan.m;
  r.n = plan.n;
  r.k = plan.k;
  r.range = plan.range;
  r.seed = plan.seed;
  if (!plan.supported) {
    r.waived = plan.waived;
    return r;
  }
  const auto& lt = gpu::load_cublaslt();
  if (!lt.loaded) {
    r.error = lt.error;
    r.error_kind = "setup";
    return r;
  }
  GemmRunner* runner = nullptr;
  try {
    runner = new GemmRunner(plan);
    runner->prepare(&r);
    double gemm_s = runner->tune(&r);
    if (progress) progress(plan.test, now_s() - t0, 0, r.tflops_gemm_only);
    r.ran = true;
    runner->stress(deadline, gemm_s, &r, progress);
  } catch (const CudaFailure& f) {
    record(r, f);
  } catch (const TestFailure& f) {
    record(r, f);
  }
  // The counters and quarantined chunks are read even after a failure, as
  // long as the device still answers.
  if (runner) {
    try {
      runner->analyse(&r);
    } catch (const CudaFailure& f) {
      if (r.error.empty()) record(r, f);
    }
    delete runner;
  }
  r.seconds = now_s() - t0;
  return r;
}

bool gemm_reference_hashes(const GemmPlan& plan, std::vector<std::uint64_t>* hashes, std::string* error) {
  try {
    GemmRunner runner(plan);
    runner.prepare(nullptr);
    *hashes = runner.reference_hashes();
    return true;
  } catch (const CudaFailure& f) {
    *error = cuda_error_text(f.code, f.where);
  } catch (const TestFailure& f) {
    *error = f.message;
  }
  return false;
}

bool gemm_inject_check(const GemmPlan& plan, std::uint64_t element, double delta, GemmResult* out, std::string* error) {
  const auto& lt = gpu::load_cublaslt();
  if (!lt.loaded) {
    *error = lt.error;
    return false;
  }
  try {
    GemmRunner runner(plan);
    runner.prepare(out);
    runner.tune(out);
    runner.inject(element, delta);
    runner.analyse(out);
    return true;
  } catch (const CudaFailure& f) {
    *error = cuda_error_text(f.code, f.where);
  } catch (const TestFailure& f) {
    *error = f.message;
  }
  return false;
}

bool gemm_once_hashes(const GemmPlan& plan, std::vector<std::uint64_t>* hashes, std::string* error) {
  const auto& lt = gpu::load_cublaslt();
  if (!lt.loaded) {
    *error = lt.error;
    return false;
  }
  try {
    GemmRunner runner(plan);
    runner.prepare(nullptr);
    runner.tune(nullptr);
    *hashes = runner.once_hashes();
    return true;
  } catch (const CudaFailure& f) {
    *error = cuda_error_text(f.code, f.where);
  } catch (const TestFailure& f) {
    *error = f.message;
  }
  return false;
}

}  // namespace aicloud::burnin
