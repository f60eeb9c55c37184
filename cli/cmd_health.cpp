// aicloudctl health: flags only; the work is done in burnin/health.cpp.
#include "burnin/health.hpp"
#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/term.hpp"

namespace aicloud::cli {

void setup_health(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<burnin::HealthOptions>();
  auto expect = std::make_shared<int>(-1);
  auto only = std::make_shared<std::vector<unsigned>>();
  app.add_option("--expect-gpus", *expect, "FAIL unless exactly this many GPUs are present")->check(CLI::NonNegativeNumber);
  app.add_option("--gpus", *only, "Only report these GPU indices (default: all)")->delimiter(',');
  set_examples(app,
               "  aicloudctl health\n"
               "  aicloudctl health --json > health.json\n"
               "  aicloudctl health --expect-gpus 8 -v\n"
               "Exit status: 0 when no check FAILs (WARN allowed), 1 when one does.\n");
  app.callback([&ctx, opts, expect, only] {
    ctx.action = [&ctx, opts, expect, only]() -> int {
      opts->json = ctx.json;
      opts->verbosity = ctx.quiet ? -1 : ctx.verbose;
      if (*expect >= 0) opts->expect_gpus = static_cast<unsigned>(*expect);
      opts->only_gpus = *only;
      return burnin::run_health(*opts);
    };
  });
}

}  // namespace aicloud::cli
