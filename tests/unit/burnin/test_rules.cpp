#include <doctest/doctest.h>

#include <cmath>

#include "burnin/rules.hpp"
#include "fixtures.hpp"

using namespace aicloud;
using namespace aicloud::burnin;
using gpu::Reading;

namespace {

GemmResult good_gemm(double tflops = 740) {
  GemmResult r;
  r.test = "gemm-bf16";
  r.ran = true;
  r.m = r.n = 16384;
  r.k = 32768;
  r.range = 22;
  r.seed = 1;
  r.iterations = 2000;
  r.tflops = tflops;
  r.result_hash = "0x00000000000000aa";
  r.reference_samples = 128;
  return r;
}

bool has_reason(const Judgement& j, const std::string& text) {
  for (const auto& r : j.reasons)
    if (r.find(text) != std::string::npos) return true;
  return false;
}

GpuRun gpu_run(unsigned index, std::vector<std::string> tests) {
  GpuRun g;
  g.index = index;
  g.facts = fixtures::healthy_gpu(index);
  g.before = g.after = fixtures::counters_of(g.facts);
  g.after_read = true;
  g.tests = std::move(tests);
  g.worker.started = true;
  g.worker.exited = true;
  g.worker.exit_code = 0;
  return g;
}

void add_samples(GpuSeries& s, int n, int phase, std::uint64_t reasons, double temp = 60) {
  for (int i = 0; i < n; ++i) {
    gpu::GpuSample x;
    x.power_w = Reading<double>::of(690);
    x.temp_gpu = Reading<unsigned>::of(unsigned(temp));
    x.temp_hbm = Reading<unsigned>::of(70);
    x.sm_clock_mhz = Reading<unsigned>::of(1755);
    x.clock_events = Reading<std::uint64_t>::of(reasons);
    s.append(double(s.size()), phase, x);
  }
}

RunRecord healthy_run(unsigned gpus) {
  RunRecord run;
  run.phase_names = {"preflight", "stress", "interconnect"};
  run.tests = {"gemm-bf16", "memtest", "hbm"};
  run.log_before.available = true;
  run.nvml_events_available = true;
  for (unsigned i = 0; i < gpus; ++i) {
    GpuRun g = gpu_run(i, run.tests);
    g.gemm["gemm-bf16"] = good_gemm(740 + i);
    MemtestResult m;
    m.ran = true;
    m.passes = 5;
    m.coverage = 0.99;
    g.memtest = m;
    HbmResult h;
    h.ran = true;
    h.copy_gbps = 2900;
    g.hbm = h;
    add_samples(g.series, 10, 1, gpu::k_clock_sw_power_cap);
    run.gpus.push_back(g);
  }
  return run;
}

}  // namespace

TEST_CASE("a healthy run PASSes") {
  RunVerdict v = judge_run(healthy_run(4));
  CHECK(v.overall.verdict == Verdict::pass);
  REQUIRE(v.gpus.size() == 4);
  for (const auto& g : v.gpus) {
    CHECK(g.overall.verdict == Verdict::pass);
    CHECK(g.tests.size() == 6);  // 3 tests + telemetry, counters, xid
  }
}

TEST_CASE("GEMM: any wrong result FAILs, with where and what") {
  GemmResult r = good_gemm();
  r.wrong_results = 2;
  r.bad_chunks = 3;
  r.wrong_elements = 4;
  r.mismatches.push_back({17, 100, 200, 4096, 4097});
  Judgement j = judge_gemm(r, {});
  CHECK(j.verdict == Verdict::fail);
  CHECK(has_reason(j, "2 of 2000 GEMM results"));
  CHECK(has_reason(j, "(100,200): expected 4096, got 4097"));
  GemmResult ref = good_gemm();
  ref.reference_mismatches = 1;
  CHECK(judge_gemm(ref, {}).verdict == Verdict::fail);
}

TEST_CASE("GEMM: errors are FAIL when the GPU failed, INCOMPLETE when the test could not run, never PASS") {
  GemmResult r = good_gemm();
  r.error = "cudaErrorLaunchFailure: unspecified launch failure";
  r.error_kind = "device";
  CHECK(judge_gemm(r, {}).verdict == Verdict::fail);
  r.error_kind = "resource";
  r.error = "cudaErrorMemoryAllocation: out of memory";
  CHECK(judge_gemm(r, {}).verdict == Verdict::incomplete);
  r.error_kind = "setup";
  r.error = "cuBLASLt was not found";
  CHECK(judge_gemm(r, {}).verdict == Verdict::incomplete);
  GemmResult never;
  never.test = "gemm-bf16";
  CHECK(judge_gemm(never, {}).verdict == Verdict::incomplete);
  GemmResult none = good_gemm();
  none.iterations = 0;
  CHECK(judge_gemm(none, {}).verdict == Verdict::incomplete);
  GemmResult waived;
  waived.test = "gemm-fp8";
  waived.waived = "FP8 tensor cores need compute capability 8.9";
  CHECK(judge_gemm(waived, {}).verdict == Verdict::waived);
}

TEST_CASE("GEMM: stragglers and hashes that differ from the other GPUs") {
  GemmPeers peers;
  peers.gpus = 8;
  peers.median_tflops = 740;
  peers.majority_hash = "0x00000000000000aa";
  CHECK(judge_gemm(good_gemm(735), peers).verdict == Verdict::pass);
  CHECK(judge_gemm(good_gemm(690), peers).verdict == Verdict::warn);
  CHECK(judge_gemm(good_gemm(500), peers).verdict == Verdict::fail);
  GemmResult odd = good_gemm();
  odd.result_hash = "0x00000000000000bb";
  CHECK(judge_gemm(odd, peers).verdict == Verdict::fail);
  RunRecord run = healthy_run(3);
  run.gpus[2].gemm["gemm-bf16"].result_hash = "0x00000000000000bb";
  run.gpus[1].gemm["gemm-bf16"].tflops = 100;
  RunVerdict v = judge_run(run);
  CHECK(v.gpus[0].overall.verdict == Verdict::pass);
  CHECK(v.gpus[1].overall.verdict == Verdict::fail);  // straggler
  CHECK(v.gpus[2].overall.verdict == Verdict::fail);  // different exact product
  CHECK(v.overall.verdict == Verdict::fail);
}

TEST_CASE("memtest: bit errors FAIL with the address, low coverage WARNs") {
  MemtestResult m;
  m.ran = true;
  m.passes = 3;
  m.coverage = 0.99;
  CHECK(judge_memtest(m).verdict == Verdict::pass);
  m.bit_errors = 1;
  m.word_errors = 1;
  m.errors.push_back({0x7f0012345678ull, 0x45678, 1, 3, "walking ones", 0});
  Judgement j = judge_memtest(m);
  CHECK(j.verdict == Verdict::fail);
  CHECK(has_reason(j, "0x00007f0012345678"));
  MemtestResult low;
  low.ran = true;
  low.passes = 1;
  low.coverage = 0.5;
  CHECK(judge_memtest(low).verdict == Verdict::warn);
  MemtestResult oom;
  oom.error = "could not allocate device memory";
  oom.error_kind = "resource";
  CHECK(judge_memtest(oom).verdict == Verdict::incomplete);
}

TEST_CASE("HBM bandwidth against the theoretical peak and the node") {
  HbmResult h;
  h.ran = true;
  h.copy_gbps = 2900;
  CHECK(judge_hbm(h, 3352, 0).verdict == Verdict::pass);
  h.copy_gbps = 2300;
  CHECK(judge_hbm(h, 3352, 0).verdict == Verdict::warn);
  h.copy_gbps = 1500;
  CHECK(judge_hbm(h, 3352, 0).verdict == Verdict::fail);
  h.copy_gbps = 2900;
  CHECK(judge_hbm(h, 0, 3100).verdict == Verdict::warn);  // 93.5% of the node median
  h.mismatches = 1;
  CHECK(judge_hbm(h, 3352, 0).verdict == Verdict::fail);
}

TEST_CASE("PCIe under load: a narrow link FAILs, slow transfers WARN or FAIL") {
  auto facts = fixtures::healthy_gpu(0);
  PcieGpuResult r;
  r.h2d_gbps = 55;
  r.d2h_gbps = 56;
  r.gen_under_load = 5;
  r.width_under_load = 16;
  CHECK(judge_pcie_gpu(r, facts).verdict == Verdict::pass);
  r.width_under_load = 8;
  CHECK(judge_pcie_gpu(r, facts).verdict == Verdict::fail);
  r.width_under_load = 16;
  r.gen_under_load = 4;
  CHECK(judge_pcie_gpu(r, facts).verdict == Verdict::warn);
  r.gen_under_load = 5;
  r.h2d_gbps = 40;
  CHECK(judge_pcie_gpu(r, facts).verdict == Verdict::warn);
  r.h2d_gbps = 20;
  CHECK(judge_pcie_gpu(r, facts).verdict == Verdict::fail);
  r.h2d_gbps = 55;
  r.mismatches = 8;
  CHECK(judge_pcie_gpu(r, facts).verdict == Verdict::fail);
}

TEST_CASE("P2P: wrong data, missing peer access over NVLink and slow pairs") {
  std::vector<GpuRun> gpus = {gpu_run(0, {}), gpu_run(1, {}), gpu_run(2, {})};
  std::vector<const GpuRun*> ptrs = {&gpus[0], &gpus[1], &gpus[2]};
  P2PResult r;
  r.ran = true;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      if (a != b) r.pairs.push_back({a, b, true, 380, 0, ""});
  CHECK(judge_p2p(r, ptrs).verdict == Verdict::pass);
  auto slow = r;
  slow.pairs[0].gbps = 250;
  CHECK(judge_p2p(slow, ptrs).verdict == Verdict::warn);
  slow.pairs[0].gbps = 100;
  CHECK(judge_p2p(slow, ptrs).verdict == Verdict::fail);
  auto bad = r;
  bad.pairs[1].mismatches = 3;
  CHECK(judge_p2p(bad, ptrs).verdict == Verdict::fail);
  auto nopeer = r;
  nopeer.pairs[2].peer_access = false;
  CHECK(judge_p2p(nopeer, ptrs).verdict == Verdict::fail);  // both have active NVLinks
  for (auto& g : gpus) g.facts.nvlinks.clear();
  CHECK(judge_p2p(nopeer, ptrs).verdict == Verdict::warn);  // a PCIe-only platform
  P2PResult one;
  one.waived = "needs two GPUs";
  CHECK(judge_p2p(one, ptrs).verdict == Verdict::waived);
}

TEST_CASE("telemetry: hardware slowdowns during the stress FAIL, not before it") {
  auto facts = fixtures::healthy_gpu(0);
  GpuSeries s;
  add_samples(s, 5, 0, gpu::k_clock_hw_slowdown);  // preflight: ignored
  add_samples(s, 5, 1, gpu::k_clock_sw_power_cap);
  CHECK(judge_telemetry(s, facts, 1).verdict == Verdict::pass);
  for (std::uint64_t bit : {std::uint64_t(gpu::k_clock_hw_slowdown), std::uint64_t(gpu::k_clock_hw_thermal),
                            std::uint64_t(gpu::k_clock_hw_power_brake), std::uint64_t(gpu::k_clock_sw_thermal)}) {
    GpuSeries t = s;
    add_samples(t, 2, 1, bit | gpu::k_clock_sw_power_cap);
    Judgement j = judge_telemetry(t, facts, 1);
    CHECK(j.verdict == Verdict::fail);
    CHECK(has_reason(j, "2 sample(s)"));
  }
  GpuSeries hot;
  add_samples(hot, 3, 1, 0, 84);
  CHECK(judge_telemetry(hot, facts, 1).verdict == Verdict::warn);
  GpuSeries hotter;
  add_samples(hotter, 3, 1, 0, 88);
  CHECK(judge_telemetry(hotter, facts, 1).verdict == Verdict::fail);
  CHECK(judge_telemetry(GpuSeries{}, facts, 1).verdict == Verdict::warn);
}

TEST_CASE("counters: new uncorrectable errors, remaps and dead links FAIL, corrected errors and replays WARN") {
  auto f = fixtures::healthy_gpu(0);
  auto before = fixtures::counters_of(f);
  CHECK(judge_counters(before, before, true).verdict == Verdict::pass);
  auto after = before;
  after.ecc.volatile_uncorrected = Reading<std::uint64_t>::of(1);
  CHECK(judge_counters(before, after, true).verdict == Verdict::fail);
  after = before;
  after.ecc.volatile_corrected = Reading<std::uint64_t>::of(4);
  CHECK(judge_counters(before, after, true).verdict == Verdict::warn);
  after = before;
  after.remap = Reading<gpu::RowRemap>::of(gpu::RowRemap{0, 1, true, false});
  CHECK(judge_counters(before, after, true).verdict == Verdict::fail);
  after = before;
  after.remap = Reading<gpu::RowRemap>::of(gpu::RowRemap{0, 0, false, true});
  CHECK(judge_counters(before, after, true).verdict == Verdict::fail);
  after = before;
  after.pcie_replay = Reading<unsigned>::of(12);
  CHECK(judge_counters(before, after, true).verdict == Verdict::warn);
  after = before;
  after.nvlinks[4].active = false;
  CHECK(judge_counters(before, after, true).verdict == Verdict::fail);
  after = before;
  after.nvlinks[4].crc_flit = Reading<std::uint64_t>::of(9);
  CHECK(judge_counters(before, after, true).verdict == Verdict::warn);
  after = before;
  after.remap = Reading<gpu::RowRemap>::failed(gpu::k_nvml_gpu_is_lost, "GPU is lost");
  CHECK(judge_counters(before, after, true).verdict == Verdict::fail);
  CHECK(judge_counters(before, before, false).verdict == Verdict::incomplete);
}

TEST_CASE("XIDs during the run: hardware and even application XIDs FAIL, unknown ones WARN") {
  XidEvent hw;
  hw.xid = 79;
  XidEvent app;
  app.xid = 13;
  XidEvent other;
  other.xid = 61;
  CHECK(judge_run_xids({}, {}).verdict == Verdict::pass);
  CHECK(judge_run_xids({hw}, {}).verdict == Verdict::fail);
  CHECK(judge_run_xids({app}, {}).verdict == Verdict::fail);
  CHECK(judge_run_xids({other}, {}).verdict == Verdict::warn);
  gpu::NvmlEvent e;
  e.kind = "xid";
  e.xid = 48;
  CHECK(judge_run_xids({}, {e}).verdict == Verdict::fail);
  e.kind = "sbe";
  CHECK(judge_run_xids({}, {e}).verdict == Verdict::warn);
}

TEST_CASE("a dead, hung or blocked worker leaves FAIL or INCOMPLETE, never PASS") {
  RunRecord run = healthy_run(3);
  run.gpus[0].gemm.clear();
  run.gpus[0].memtest.reset();
  run.gpus[0].hbm.reset();
  run.gpus[0].worker.hung = true;
  run.gpus[0].worker.exited = false;
  run.gpus[0].worker.signal = 9;
  run.gpus[0].worker.last_test = "gemm-bf16";
  run.gpus[1].gemm.clear();
  run.gpus[1].worker.exited = false;
  run.gpus[1].worker.signal = 11;
  run.gpus[2].blocked = "MIG mode is enabled";
  run.gpus[2].gemm.clear();
  RunVerdict v = judge_run(run);
  CHECK(v.gpus[0].overall.verdict == Verdict::fail);
  CHECK(has_reason(v.gpus[0].overall, "stopped responding during gemm-bf16"));
  CHECK(v.gpus[1].overall.verdict == Verdict::fail);
  CHECK(has_reason(v.gpus[1].overall, "SIGSEGV"));
  CHECK(v.gpus[2].overall.verdict == Verdict::incomplete);
  CHECK(v.overall.verdict == Verdict::fail);
  GpuRun g = gpu_run(0, {});
  WorkerEnd w;
  w.started = true;
  w.fatal = "cannot use the GPU: cudaErrorSystemNotReady";
  w.fatal_kind = "setup";
  CHECK(judge_missing(g, w, "gemm-bf16").verdict == Verdict::incomplete);
  w.fatal_kind = "device";
  CHECK(judge_missing(g, w, "gemm-bf16").verdict == Verdict::fail);
  WorkerEnd not_started;
  not_started.start_error = "exec: Permission denied";
  CHECK(judge_missing(g, not_started, "memtest").verdict == Verdict::incomplete);
}

TEST_CASE("run-level: missing NVML or CUDA FAILs, P2P with one GPU is WAIVED, an unreadable log WARNs") {
  RunRecord none;
  none.nvml_error = "NVML is not available: cannot load libnvidia-ml.so.1";
  CHECK(judge_run(none).overall.verdict == Verdict::fail);
  RunRecord run = healthy_run(1);
  run.tests.push_back("p2p");
  RunVerdict v = judge_run(run);
  REQUIRE(v.node.size() == 1);
  CHECK(v.node[0].judgement.verdict == Verdict::waived);
  CHECK(v.overall.verdict == Verdict::pass);
  run.log_before.available = false;
  run.log_before.error = "XID history unavailable: /dev/kmsg: Operation not permitted";
  run.nvml_events_available = false;
  run.nvml_events_error = "NVML events not supported";
  v = judge_run(run);
  CHECK(v.overall.verdict == Verdict::warn);
  CHECK(has_reason(v.overall, "XID history unavailable"));
  run.nvml_events_available = true;  // NVML watched XIDs: the run is covered
  CHECK(judge_run(run).overall.verdict == Verdict::pass);
  RunRecord cuda = healthy_run(1);
  cuda.cuda_error = "cuInit failed";
  CHECK(judge_run(cuda).overall.verdict == Verdict::fail);
  RunRecord intr = healthy_run(1);
  intr.interrupted = true;
  CHECK(judge_run(intr).overall.verdict == Verdict::incomplete);
}

TEST_CASE("median") {
  CHECK(median_of({}) == 0);
  CHECK(median_of({3}) == 3);
  CHECK(median_of({5, 1, 3}) == 3);
  CHECK(median_of({4, 1, 3, 2}) == 2.5);
}
