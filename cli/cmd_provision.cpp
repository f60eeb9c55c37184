// aicloudctl provision: flags only; the work is done in a library (see ARCHITECTURE.md).
#include "cli/command.hpp"
#include "common/error.hpp"

namespace aicloud::cli {

void setup_provision(CLI::App& app, Context& ctx) {
  app.callback([&ctx] { ctx.action = [] () -> int { throw Error("'provision' is not available in this build yet"); }; });
}

}  // namespace aicloud::cli
