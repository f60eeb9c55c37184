// aicloudctl exec and the selection step shared by fleet commands.
#include "fleet/exec.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"
#include "fleet/fold.hpp"

namespace aicloud::fleet {

Selection load_selection(const ConnectionOptions& options) {
  if (options.inventory.empty()) throw UsageError("no inventory: give -i/--inventory FILE");
  Selection sel{inventory::load_inventory(options.inventory), {}};
  auto hosts = inventory::select_hosts(sel.inventory, options.limit);
  if (hosts.empty()) {
    if (options.limit.empty()) throw UsageError("the inventory " + options.inventory + " has no hosts");
    throw UsageError("--limit '" + options.limit + "' selects no host of " + options.inventory);
  }
  sel.targets = targets_from_hosts(sel.inventory, hosts);
  return sel;
}

std::vector<HostResult> run_command(Fleet& fleet, const std::string& command, const Fleet::RunOptions& run_options) {
  Seconds timeout = fleet.options().command_timeout;
  return fleet.run(
      [&](Session& s, std::size_t) {
        ExecOptions eo;
        eo.timeout = timeout;
        ExecResult e = s.exec(command, eo);
        HostResult r;
        r.status = e.status;
        r.exit_code = e.exit_code;
        r.signal = e.signal;
        r.stdout_text = std::move(e.stdout_text);
        r.stderr_text = std::move(e.stderr_text);
        r.output_truncated = e.output_truncated;
        r.error = e.status == Status::ok ? std::string() : e.error;
        if (e.status == Status::timeout) r.reason = "still running after --timeout; stopped (TERM)";
        if (e.status == Status::interrupted) r.reason = "interrupted (Ctrl-C) while the command ran";
        return r;
      },
      run_options);
}

std::string progress_line(const char* what, const Progress& p) {
  return fmt::format("{}: {}/{} done · {} ok · {} failed · {} unreachable · {} running · {:.1f}s", what, p.done,
                     p.total, p.ok, p.failed, p.unreachable, p.running, p.elapsed_s);
}

nlohmann::json exec_json(const ExecArgs& args, const std::vector<HostResult>& results, const Summary& summary) {
  using nlohmann::json;
  json hosts = json::array();
  for (const auto& r : results) hosts.push_back(to_json(r));
  json groups = json::array();
  for (const auto& g : fold_results(results)) {
    const HostResult& r = results[g.members.front()];
    groups.push_back({{"nodes", g.nodes},
                      {"count", g.members.size()},
                      {"status", to_string(r.status)},
                      {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                      {"signal", r.signal.empty() ? json(nullptr) : json(r.signal)},
                      {"error", r.reason.empty() ? (r.error.empty() ? json(nullptr) : json(r.error)) : json(r.reason)}});
  }
  return {{"tool", "aicloudctl"},
          {"version", tool_version()},
          {"command", "exec"},
          {"remote_command", join(args.command, " ")},
          {"inventory", args.connection.inventory},
          {"limit", args.connection.limit},
          {"known_hosts", known_hosts_path(args.connection)},
          {"host_key_policy", to_string(args.connection.host_key_policy)},
          {"hosts", std::move(hosts)},
          {"groups", std::move(groups)},
          {"summary", to_json(summary)}};
}

int exec_command(const ExecArgs& args) {
  validate(args.connection);
  if (args.command.empty()) throw UsageError("no command: give it after '--', e.g. aicloudctl exec -i INV -- uptime");
  std::string command = join(args.command, " ");
  if (trim(command).empty()) throw UsageError("the command is empty");
  Selection sel = load_selection(args.connection);
  if (args.connection.host_key_policy == HostKeyPolicy::off)
    print_warning("--host-key-policy off: host keys are not checked, so any machine on the path can pose as these hosts");

  Fleet fleet(std::move(sel.targets), args.connection);
  Fleet::RunOptions ro;
  ro.keep_sessions = false;
  if (terminal().progress) ro.on_progress = [](const Progress& p) { show_progress(progress_line("exec", p)); };
  std::vector<HostResult> results = run_command(fleet, command, ro);
  clear_progress();
  const Summary& summary = fleet.last_summary();
  fleet.close();

  nlohmann::json doc;
  if (args.json || !args.output_file.empty()) doc = exec_json(args, results, summary);
  if (!args.output_file.empty()) write_file_atomic(args.output_file, dump_json(doc) + "\n");
  if (args.json) {
    std::cout << dump_json(doc) << "\n";
  } else {
    std::cout << (args.fold ? render_folded(results, fold_results(results)) : render_lines(results));
    std::cout.flush();
    if (terminal().verbosity >= 0) {
      std::string line = summary_line(summary);
      Color c = exit_code(summary) == 0 ? Color::green : Color::red;
      std::fprintf(stderr, "%s\n", stderr_is_tty() && terminal().color ? paint(c, line).c_str() : line.c_str());
    }
  }
  return exit_code(summary);
}

}  // namespace aicloud::fleet
