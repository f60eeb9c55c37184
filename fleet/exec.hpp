// `aicloudctl exec`: one command on every selected host, the answer folded
// so a rack reads at a glance, JSON for scripts, a results file that is
// never half-written. Also the inventory-to-targets step every fleet
// command starts with.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fleet/executor.hpp"
#include "fleet/options.hpp"
#include "fleet/result.hpp"
#include "fleet/target.hpp"
#include "inventory/inventory.hpp"

namespace aicloud::fleet {

struct Selection {
  inventory::Inventory inventory;
  std::vector<Target> targets;
};

// Loads options.inventory and selects options.limit. Throws UsageError
// without -i or when the selection is empty, InputError for an inventory or
// selector that does not parse (exit 2: nothing ran).
Selection load_selection(const ConnectionOptions& options);

// Runs `command` on every host of the fleet (sessions closed as hosts
// finish) and returns one result per host, in target order.
std::vector<HostResult> run_command(Fleet& fleet, const std::string& command, const Fleet::RunOptions& run_options);

struct ExecArgs {
  ConnectionOptions connection;
  std::vector<std::string> command;   // the words after "--", joined with spaces as ssh does
  std::string output_file;            // -o/--output: JSON results, written atomically
  bool json = false;                  // --json on stdout
  bool fold = true;                   // false: "host: line" output (--no-fold)
};

// The whole command: prints progress (terminal only), folded output and a
// summary line, or JSON; writes the results file; returns 0/1/4/5/130.
int exec_command(const ExecArgs& args);

// The JSON document of a run: {"tool","version","command","inventory",
// "limit","known_hosts","host_key_policy","hosts":[...],"groups":[...],
// "summary":{...}}.
nlohmann::json exec_json(const ExecArgs& args, const std::vector<HostResult>& results, const Summary& summary);

// "exec: 37/128 done · 35 ok · 1 failed · 1 unreachable · 64 running · 2.1s"
std::string progress_line(const char* what, const Progress& p);

}  // namespace aicloud::fleet
