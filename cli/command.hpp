// The seam between cli/main.cpp and the one-file-per-subcommand setup
// functions. A setup function declares the subcommand's flags on a CLI11
// sub-app and, in the sub-app's callback, stores the action to run in
// Context::action; main() runs it after parsing, so every exception a
// command throws is mapped to an exit code in one place.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace aicloud::cli {

struct Context {
  bool json = false;      // --json: machine output on stdout
  bool no_color = false;  // --no-color (NO_COLOR is honoured too)
  int verbose = 0;        // -v, -vv
  bool quiet = false;     // -q
  std::function<int()> action;  // set by the parsed subcommand
};

// Subcommand setup functions, one per cli/cmd_*.cpp file.
void setup_nodeset(CLI::App& app, Context& ctx);
void setup_inventory(CLI::App& app, Context& ctx);
void setup_exec(CLI::App& app, Context& ctx);
void setup_hostkeys(CLI::App& app, Context& ctx);
void setup_provision(CLI::App& app, Context& ctx);
void setup_health(CLI::App& app, Context& ctx);
void setup_burnin(CLI::App& app, Context& ctx);
void setup_nccl(CLI::App& app, Context& ctx);
void setup_certify(CLI::App& app, Context& ctx);
void setup_report(CLI::App& app, Context& ctx);

// Appends an "Examples:" block to a sub-app's --help.
void set_examples(CLI::App& app, const std::string& examples);

}  // namespace aicloud::cli
