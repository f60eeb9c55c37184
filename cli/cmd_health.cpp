// aicloudctl health: flags only; the work is done in a library (see ARCHITECTURE.md).
#include "cli/command.hpp"
#include "common/error.hpp"

namespace aicloud::cli {

void setup_health(CLI::App& app, Context& ctx) {
  app.callback([&ctx] { ctx.action = [] () -> int { throw Error("'health' is not available in this build yet"); }; });
}

}  // namespace aicloud::cli
