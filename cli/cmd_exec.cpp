// aicloudctl exec: flags only; the work is done in fleet/exec.cpp.
#include <memory>

#include "cli/command.hpp"
#include "cli/fleet_flags.hpp"
#include "fleet/exec.hpp"

namespace aicloud::cli {

void setup_exec(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<fleet::ExecArgs>();
  add_connection_flags(app, args->connection);
  app.add_option("-o,--output", args->output_file, "Also write the JSON results to FILE (atomically)")->type_name("FILE");
  app.add_flag("--no-fold", [args](std::int64_t) { args->fold = false; },
               "Print 'host: line' for every line instead of folding identical output");
  app.add_option("command", args->command, "The command, after '--' (run by the remote user's shell)")
      ->type_name("-- CMD...");
  set_examples(app,
               "  aicloudctl exec -i racks/phx1.yaml -- uname -r\n"
               "  aicloudctl exec -i racks/phx1.yaml --limit 'rack=a12' -f 128 --timeout 2m -- nvidia-smi -L\n"
               "  aicloudctl --json exec -i racks/phx1.yaml -o out.json -- 'systemctl is-active nvidia-fabricmanager'\n");
  app.callback([&ctx, args] {
    ctx.action = [&ctx, args] {
      args->json = ctx.json;
      return fleet::exec_command(*args);
    };
  });
}

}  // namespace aicloud::cli
