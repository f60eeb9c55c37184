// aicloudctl inventory: flags only; the work is done in a library (see ARCHITECTURE.md).
#include "cli/command.hpp"
#include "common/error.hpp"

namespace aicloud::cli {

void setup_inventory(CLI::App& app, Context& ctx) {
  app.callback([&ctx] { ctx.action = [] () -> int { throw Error("'inventory' is not available in this build yet"); }; });
}

}  // namespace aicloud::cli
