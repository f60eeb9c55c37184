// The burn-in orchestrator (see burnin.hpp). The run reads as a list of
// passes over one RunRecord:
//   1. plan: parse --tests/--gpus/--duration, split the time between tests;
//   2. preflight: NVML facts and findings of every selected GPU, counters
//      and the kernel log before, telemetry threads started;
//   3. stress: one worker process per GPU, all at once, watched for output
//      (a silent worker is a hung GPU and is killed);
//   4. interconnect: one worker that sees every GPU runs PCIe and P2P;
//   5. after: telemetry stopped, counters and kernel log read again, new
//      XIDs attributed to GPUs by PCI bus id;
//   6. judge (rules.hpp) and report (report.hpp).
#include "burnin/burnin.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "burnin/child.hpp"
#include "burnin/health.hpp"
#include "burnin/plan.hpp"
#include "burnin/report.hpp"
#include "burnin/rules.hpp"
#include "burnin/telemetry.hpp"
#include "common/hostinfo.hpp"
#include "common/error.hpp"
#include "common/exit_codes.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"
#include "gpu/cuda_driver.hpp"

namespace aicloud::burnin {

using nlohmann::json;

namespace {

std::string self_executable(const std::string& configured) {
  if (!configured.empty()) return configured;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  buf[n] = '\0';
  return buf;
}

std::string fmt_rate(const std::string& test, double rate) {
  char buf[64];
  if (is_gemm_test(test))
    std::snprintf(buf, sizeof buf, "%.0f TFLOP/s", rate);
  else
    std::snprintf(buf, sizeof buf, "%.0f GB/s", rate);
  return buf;
}

}  // namespace

int run_burnin(const BurninOptions& options) {
  // 1. Plan (bad flags end here, before anything ran).
  std::vector<std::string> tests = parse_test_list(options.tests);
  std::vector<GpuSelector> selectors = parse_gpu_list(options.gpus);
  if (!(options.duration_s > 0)) throw UsageError("--duration must be positive");
#ifndef AICLOUDCTL_HAVE_CUDA
  throw Error(
      "this aicloudctl was built without CUDA, so 'burnin' cannot run here; use a build made with the CUDA toolkit "
      "('aicloudctl --version' says cuda: yes). 'aicloudctl health' works in this build.");
#else
  RunRecord run;
  run.host = host_name();
  run.started = utc_now_iso();
  run.requested_s = options.duration_s;
  run.tests = tests;
  run.phase_names = {"preflight", "stress", "interconnect"};
  run.versions["tool"] = tool_version();
  const double t0 = steady_seconds();
  install_interrupt_handler();

  auto finish = [&](RunRecord& r) {
    r.finished = utc_now_iso();
    r.elapsed_s = steady_seconds() - t0;
    RunVerdict v = judge_run(r);
    json report = run_to_json(r, v);
    if (!options.output.empty()) write_file_atomic(options.output, report.dump(1) + "\n");
    if (options.json)
      std::cout << report.dump(1) << "\n";
    else
      std::cout << run_to_text(r, v, options.verbosity > 0);
    if (r.interrupted) return int(k_exit_interrupted);
    return exit_code_for(v.overall.verdict);
  };

  // 2. Preflight.
  auto& nvml = gpu::Nvml::instance();
  if (!nvml.available()) {
    run.nvml_error = nvml.error();
    return finish(run);
  }
  gpu::NvmlSystem sys = nvml.system();
  if (sys.driver_version.ok()) run.versions["driver"] = *sys.driver_version;
  if (sys.cuda_driver_version.ok()) run.versions["cuda_driver"] = gpu::format_cuda_version(*sys.cuda_driver_version);
  if (sys.nvml_version.ok()) run.versions["nvml"] = *sys.nvml_version;
  gpu::CudaDriverInfo cuda = gpu::probe_cuda_driver();
  if (!cuda.loaded)
    run.cuda_error = cuda.error;
  else if (!cuda.initialized)
    run.cuda_error = "the CUDA driver cannot initialise: " + cuda.init_error + " (" +
                     gpu::cuda_init_remediation(cuda.init_status) + ")";
  unsigned count = sys.device_count.value_or(0);
  if (count == 0) {
    run.nvml_error = sys.device_count.ok() ? "NVML sees no GPU on this node"
                                           : "NVML cannot count the GPUs: " + sys.device_count.error;
    return finish(run);
  }
  std::vector<unsigned> indices;
  if (selectors.empty()) {
    for (unsigned i = 0; i < count; ++i) indices.push_back(i);
  } else {
    for (const auto& s : selectors) {
      unsigned idx = 0;
      if (s.index) {
        if (*s.index >= count)
          throw UsageError("--gpus: GPU " + std::to_string(*s.index) + " does not exist (this node has " +
                           std::to_string(count) + " GPU(s), 0-" + std::to_string(count ? count - 1 : 0) + ")");
        idx = *s.index;
      } else {
        bool found = false;
        for (unsigned i = 0; i < count && !found; ++i) {
          auto f = nvml.read_gpu(i);
          if (f.uuid.ok() && to_lower(*f.uuid) == to_lower(s.uuid)) {
            idx = i;
            found = true;
          }
        }
        if (!found) throw UsageError("--gpus: no GPU with UUID " + s.uuid);
      }
      if (std::find(indices.begin(), indices.end(), idx) == indices.end()) indices.push_back(idx);
    }
  }
  std::vector<std::string> gpu_tests, node_tests;
  for (const auto& t : tests) (is_node_test(t) ? node_tests : gpu_tests).push_back(t);
  for (unsigned idx : indices) {
    GpuRun g;
    g.index = idx;
    g.facts = nvml.read_gpu(idx);
    g.preflight = evaluate_gpu(g.facts);
    g.tests = gpu_tests;
    if (std::find(tests.begin(), tests.end(), "pcie") != tests.end()) g.tests.push_back("pcie");
    if (!g.facts.handle_error.empty())
      g.blocked = "the GPU cannot be opened through NVML: " + g.facts.handle_error;
    else if (g.facts.mig_current.ok() && *g.facts.mig_current)
      g.blocked = "MIG mode is enabled; burn-in needs the whole GPU (nvidia-smi -i " + std::to_string(idx) + " -mig 0)";
    else if (!run.cuda_error.empty())
      g.blocked = run.cuda_error;
    g.before = nvml.read_counters(idx);
    run.gpus.push_back(std::move(g));
  }
  if (!run.cuda_error.empty()) return finish(run);
  run.log_before = read_kernel_log();
  std::set<std::string> lines_before;
  for (const auto& e : parse_xid_log(run.log_before.text)) lines_before.insert(e.line);
  std::string log_text_before_error = run.log_before.error;
  run.log_before.text.clear();

  Telemetry telemetry(indices, t0);
  telemetry.start();
  telemetry.set_phase(0);

  const std::string exe = self_executable(options.self_exe);
  auto env_for = [&](const std::vector<const GpuRun*>& gpus) {
    std::vector<std::string> ids;
    for (const auto* g : gpus) ids.push_back(g->facts.uuid.ok() ? *g->facts.uuid : std::to_string(g->index));
    return std::map<std::string, std::string>{{"CUDA_VISIBLE_DEVICES", join(ids, ",")},
                                              {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"}};
  };

  // 3. Stress: one worker per GPU.
  std::vector<TestBudget> budgets = split_duration(options.duration_s, gpu_tests);
  double budget_total = 0;
  json spec_tests = json::array();
  for (const auto& b : budgets) {
    spec_tests.push_back({{"name", b.test}, {"seconds", b.seconds}});
    budget_total += b.seconds;
  }
  telemetry.set_phase(1);
  if (!gpu_tests.empty() && !interrupted()) {
    std::vector<WorkerSlot> slots;
    slots.reserve(run.gpus.size());
    for (auto& g : run.gpus) {
      if (!g.blocked.empty()) continue;
      WorkerSlot s;
      s.label = "GPU " + std::to_string(g.index);
      s.end = &g.worker;
      s.deadline = steady_seconds() + budget_total + 300;
      GpuRun* gp = &g;
      WorkerSlot* sp = nullptr;
      slots.push_back(std::move(s));
      sp = &slots.back();
      sp->on_event = [&run, gp, sp](const json& j) {
        std::string ev = j.value("event", "");
        if (ev == "device") {
          gp->device_info = j.value("info", json::object());
        } else if (ev == "versions") {
          for (const char* k : {"cuda_runtime", "cublaslt", "cublaslt_path"})
            if (!j.value(k, std::string()).empty() && !run.versions.count(k)) run.versions[k] = j.value(k, std::string());
          if (!j.value("cublaslt_error", std::string()).empty()) run.versions["cublaslt_error"] = j.value("cublaslt_error", std::string());
        } else if (ev == "progress") {
          sp->status = j.value("test", "") + " " + fmt_rate(j.value("test", ""), j.value("rate", 0.0));
        } else if (ev == "result") {
          std::string test = j.value("test", "");
          const json& r = j.contains("result") ? j["result"] : json::object();
          if (is_gemm_test(test)) {
            GemmResult x;
            from_json(r, x);
            gp->gemm[test] = x;
          } else if (test == "memtest") {
            MemtestResult x;
            from_json(r, x);
            gp->memtest = x;
          } else if (test == "hbm") {
            HbmResult x;
            from_json(r, x);
            gp->hbm = x;
          }
        } else if (ev == "fatal") {
          gp->worker.fatal = j.value("message", "");
          gp->worker.fatal_kind = j.value("kind", "");
        }
      };
      json spec = {{"mode", "gpu"}, {"gpu", g.index}, {"tests", spec_tests}};
      start_worker(*sp, {exe, "burnin", "--worker", spec.dump()}, env_for({gp}));
    }
    supervise_workers(slots, options.stall_timeout_s);
  }

  // 4. Interconnect: one worker that sees every GPU.
  telemetry.set_phase(2);
  std::vector<const GpuRun*> usable;
  for (const auto& g : run.gpus)
    if (g.blocked.empty()) usable.push_back(&g);
  if (!node_tests.empty() && !usable.empty() && !interrupted()) {
    bool want_p2p = std::find(node_tests.begin(), node_tests.end(), "p2p") != node_tests.end();
    std::vector<std::string> to_run;
    for (const auto& t : node_tests)
      if (t != "p2p" || usable.size() >= 2) to_run.push_back(t);
    if (want_p2p && usable.size() < 2) {
      P2PResult p;
      p.waived = "peer-to-peer needs at least two GPUs (" + std::to_string(usable.size()) + " under test)";
      run.p2p = p;
    }
    if (!to_run.empty()) {
      std::vector<WorkerSlot> slots(1);
      WorkerSlot& s = slots[0];
      s.label = "node";
      s.end = &run.node_worker;
      s.deadline = steady_seconds() + 120 + 30.0 * double(usable.size() * usable.size());
      run.node_worker_ran = true;
      s.on_event = [&run, &usable, &s](const json& j) {
        std::string ev = j.value("event", "");
        auto nvml_of = [&](int pos) {
          return pos >= 0 && std::size_t(pos) < usable.size() ? int(usable[std::size_t(pos)]->index) : pos;
        };
        if (ev == "progress") {
          s.status = j.value("test", "") + " " + fmt_rate(j.value("test", ""), j.value("rate", 0.0));
        } else if (ev == "result") {
          std::string test = j.value("test", "");
          const json& r = j.contains("result") ? j["result"] : json::object();
          if (test == "pcie") {
            PcieResult x;
            from_json(r, x);
            for (auto& g : x.gpus) {
              int pos = g.gpu;
              g.gpu = nvml_of(pos);
              for (auto& gr : run.gpus)
                if (int(gr.index) == g.gpu) gr.pcie = g;
            }
            run.pcie = x;
          } else if (test == "p2p") {
            P2PResult x;
            from_json(r, x);
            for (auto& p : x.pairs) {
              p.src = nvml_of(p.src);
              p.dst = nvml_of(p.dst);
            }
            for (auto& b : x.bidir) {
              b.a = nvml_of(b.a);
              b.b = nvml_of(b.b);
            }
            run.p2p = x;
          }
        } else if (ev == "fatal") {
          run.node_worker.fatal = j.value("message", "");
          run.node_worker.fatal_kind = j.value("kind", "");
        }
      };
      std::vector<unsigned> idx;
      for (const auto* g : usable) idx.push_back(g->index);
      json spec = {{"mode", "node"}, {"gpus", idx}, {"tests", to_run}};
      start_worker(s, {exe, "burnin", "--worker", spec.dump()}, env_for(usable));
      supervise_workers(slots, options.stall_timeout_s);
    }
  }

  // 5. After: telemetry, counters, kernel log.
  telemetry.stop();
  for (std::size_t i = 0; i < run.gpus.size(); ++i) {
    run.gpus[i].series = telemetry.series()[i];
    for (const auto& e : telemetry.events())
      if (e.gpu == run.gpus[i].index) run.gpus[i].nvml_events.push_back(e);
    run.gpus[i].after = nvml.read_counters(run.gpus[i].index);
    run.gpus[i].after_read = true;
  }
  run.nvml_events_available = telemetry.events_available();
  run.nvml_events_error = telemetry.events_error();
  if (run.log_before.available) {
    KernelLog after = read_kernel_log();
    if (after.available) {
      for (const auto& e : parse_xid_log(after.text)) {
        if (lines_before.count(e.line) || e.nvswitch) continue;
        for (auto& g : run.gpus)
          if (g.facts.pci_bus_id.ok() && normalize_bus_id(*g.facts.pci_bus_id) == e.pci_bus_id) g.xids.push_back(e);
      }
    }
  }
  run.log_before.error = log_text_before_error;
  run.interrupted = interrupted();
  return finish(run);
#endif
}

}  // namespace aicloud::burnin
