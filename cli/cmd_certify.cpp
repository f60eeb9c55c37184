// aicloudctl certify: flags only; the work is done in a library (see ARCHITECTURE.md).
#include "cli/command.hpp"
#include "common/error.hpp"

namespace aicloud::cli {

void setup_certify(CLI::App& app, Context& ctx) {
  app.callback([&ctx] { ctx.action = [] () -> int { throw Error("'certify' is not available in this build yet"); }; });
}

}  // namespace aicloud::cli
