// aicloudctl burnin: flags only; the work is done in burnin/burnin.cpp.
#include "burnin/burnin.hpp"
#include "cli/command.hpp"
#include "common/duration.hpp"
#include "common/error.hpp"

namespace aicloud::cli {

void setup_burnin(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<burnin::BurninOptions>();
  auto duration = std::make_shared<std::string>("10m");
  auto stall = std::make_shared<std::string>("120s");
  auto worker = std::make_shared<std::string>();
  app.add_option("-d,--duration", *duration, "Total time of the per-GPU stress (90s, 10m, 2h; default 10m)");
  app.add_option("--gpus", opts->gpus, "GPUs to test: all, 0,2,5, 0-3 or GPU-UUIDs (default all)");
  app.add_option("--tests", opts->tests,
                 "Tests: gemm (=gemm-bf16), gemm-fp16, gemm-tf32, gemm-fp32, gemm-fp64, gemm-fp8, gemm-all, "
                 "memtest, hbm, pcie, p2p, default, all (default: gemm-bf16,memtest,hbm,pcie,p2p)");
  app.add_option("-o,--output", opts->output, "Also write the JSON report to this file");
  app.add_option("--stall-timeout", *stall, "Kill a GPU's worker that prints nothing for this long (default 120s)");
  // The per-GPU worker mode (the binary re-executes itself); not for people.
  app.add_option("--worker", *worker, "")->group("");
  set_examples(app,
               "  aicloudctl burnin --duration 10m\n"
               "  aicloudctl burnin --duration 2h --tests all --json -o burnin.json\n"
               "  aicloudctl burnin --gpus 0,1 --tests gemm-bf16,gemm-fp8 --duration 90s\n"
               "Exit status: 0 PASS/WARN, 1 FAIL or INCOMPLETE, 130 interrupted.\n");
  app.callback([&ctx, opts, duration, stall, worker] {
    ctx.action = [&ctx, opts, duration, stall, worker]() -> int {
      if (!worker->empty()) return burnin::run_burnin_worker(*worker);
      auto d = parse_duration(*duration);
      if (!d || d->count() <= 0) throw UsageError("--duration: '" + *duration + "' is not a duration (e.g. 90s, 10m, 2h)");
      auto st = parse_duration(*stall);
      if (!st || st->count() <= 0) throw UsageError("--stall-timeout: '" + *stall + "' is not a duration");
      opts->duration_s = d->count();
      opts->stall_timeout_s = st->count();
      opts->json = ctx.json;
      opts->verbosity = ctx.quiet ? -1 : ctx.verbose;
      return burnin::run_burnin(*opts);
    };
  });
}

}  // namespace aicloud::cli
