// The provision command's passes; see command.hpp.
#include "provision/command.hpp"

#include <unistd.h>

#include <climits>
#include <iostream>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"
#include "provision/playbook.hpp"

namespace aicloud::provision {

namespace {

std::vector<std::string> expand_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& v : in)
    for (const auto& p : split(v, ',', false)) {
      std::string t(trim(p));
      if (!t.empty()) out.push_back(t);
    }
  return out;
}

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<std::size_t>(n));
}

void list_tasks(const Playbook& pb, std::ostream& out) {
  out << "playbook: " << pb.path << "\n";
  int i = 0;
  for (const auto& p : pb.plays) {
    ++i;
    out << "\n  play #" << i << " (" << p.hosts << "): " << p.name << "\tTAGS: [" << join(p.tags, ",") << "]\n";
    out << "    tasks:\n";
    for (const auto& t : p.tasks) {
      if (t.implicit) continue;
      out << "      " << t.display_name() << "\tTAGS: [" << join(t.tags, ",") << "]\n";
    }
    if (!p.handlers.empty()) {
      out << "    handlers:\n";
      for (const auto& t : p.handlers) out << "      " << t.display_name() << "\n";
    }
  }
}

}  // namespace

RunHost localhost_target() {
  RunHost h;
  h.name = "localhost";
  h.address = "127.0.0.1";
  h.groups = {};
  return h;
}

std::optional<int> provision_offline(const ProvisionOptions& o, std::ostream& out) {
  if (o.list_playbooks) {
    auto names = shipped_playbook_names();
    if (o.json) {
      out << nlohmann::json{{"tool", "aicloudctl"}, {"command", "provision"}, {"shipped_playbooks", names}}.dump(2) << "\n";
    } else {
      for (const auto& n : names) out << n << "\n";
    }
    return 0;
  }
  if (o.playbook.empty()) throw UsageError("provision: which playbook? (a file, or one of: " + join(shipped_playbook_names(), ", ") + ")");
  if (!o.syntax_check && !o.list_tasks) return std::nullopt;
  Playbook pb = load_playbook(o.playbook);
  if (o.list_tasks) {
    list_tasks(pb, out);
    return 0;
  }
  if (o.json) {
    out << nlohmann::json{{"tool", "aicloudctl"},
                          {"version", tool_version()},
                          {"command", "provision"},
                          {"syntax_check", true},
                          {"playbook", pb.path},
                          {"valid", true},
                          {"plays", pb.plays.size()},
                          {"tasks", pb.task_count()}}
               .dump(2)
        << "\n";
  } else {
    out << pb.path << ": syntax ok (" << pb.plays.size() << " play" << (pb.plays.size() == 1 ? "" : "s") << ", "
        << pb.task_count() << " task" << (pb.task_count() == 1 ? "" : "s") << ")\n";
  }
  return 0;
}

int provision_run(const ProvisionOptions& o, ProvisionTargets& targets, std::ostream& out) {
  // 1. Load and validate everything that can be wrong before touching a host.
  if (o.forks < 1) throw UsageError("-f/--forks must be at least 1");
  Playbook pb = load_playbook(o.playbook);
  RunOptions ro;
  ro.check = o.check;
  ro.diff = o.diff;
  ro.forks = o.forks;
  ro.tags = expand_commas(o.tags);
  ro.skip_tags = expand_commas(o.skip_tags);
  ro.extra_vars = parse_extra_vars(o.extra_vars);
  ro.verbosity = o.verbosity;
  ro.playbook_dir = pb.builtin ? "" : pb.base_dir;
  ro.controller_binary = self_exe();
  if (!targets.transports) throw Error("provision: no transport to reach the hosts");

  // 2. Select: --limit is a selector, or the failed hosts of an earlier result.
  if (!o.limit.empty()) {
    if (starts_with(o.limit, "@failed:")) {
      ro.limit = failed_hosts_from_result(o.limit.substr(8));
      if (ro.limit->empty()) {
        if (!o.json) out << "no failed or unreachable hosts in " << o.limit.substr(8) << ": nothing to do\n";
        return 0;
      }
    } else {
      ro.limit = resolve_host_pattern(o.limit, targets.hosts, targets.selector);
      if (ro.limit->empty()) throw UsageError("--limit " + o.limit + " selects no host");
    }
  }

  // 3. Run, reporting as it goes (terminal) or at the end (JSON).
  std::unique_ptr<TerminalReporter> reporter;
  if (!o.json) reporter = std::make_unique<TerminalReporter>(out, o.fold, o.verbosity, o.diff);
  RunResult result = run_playbook(pb, targets.hosts, targets.selector, *targets.transports, ro, reporter.get());

  // 4. Report.
  nlohmann::json doc = run_result_json(result, pb.path, ro);
  if (targets.host_keys)
    for (const auto& [host, fp] : targets.host_keys())
      if (doc["recap"].contains(host)) doc["recap"][host]["host_key_sha256"] = fp;
  if (!o.output.empty()) write_file_atomic(o.output, doc.dump(2) + "\n");
  if (o.json)
    out << doc.dump(2) << "\n";
  else
    reporter->finish(result);
  out.flush();
  return result.exit_code();
}

}  // namespace aicloud::provision
