// What a provision run shows: on a terminal, per task one folded line of
// hosts by status (ok / changed / failed / skipped / unreachable, node sets
// folded), then what failed and why, debug output and --diff deltas,
// grouped by identical text; at the end a recap table. With --json one
// document with every host's result of every task and the recap (schema in
// docs/playbooks.md). `--limit @failed:RESULT.json` reads such a document
// back.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "provision/runner.hpp"

namespace aicloud::provision {

// Folds host names for display ("gpu-a12-[01-04]"); inventory's
// fold_nodeset in aicloudctl, a plain comma join by default.
using HostFolder = std::function<std::string(const std::vector<std::string>&)>;
std::string join_hosts(const std::vector<std::string>& hosts);

// Prints as the run goes: play headers and task lines, live progress on
// stderr (through common/term), and the recap at the end.
class TerminalReporter : public RunObserver {
 public:
  TerminalReporter(std::ostream& out, HostFolder fold, int verbosity, bool show_diff);
  void play_started(const PlayRecord& play) override;
  void task_finished(const PlayRecord& play, const TaskRecord& task) override;
  void progress(const std::string& task, std::size_t done, std::size_t total) override;
  // The recap table and a one-line summary.
  void finish(const RunResult& result);

 private:
  std::ostream& m_out;
  HostFolder m_fold;
  int m_verbosity;
  bool m_show_diff;
};

// The --json document (also written by --output FILE).
nlohmann::json run_result_json(const RunResult& result, const std::string& playbook, const RunOptions& options);

// Hosts that failed or were unreachable in an earlier JSON result: this
// command's document (recap), or a fleet result with per-host statuses
// (`results`/`hosts` arrays of {host, status}). Throws InputError when the
// file cannot be read or has neither shape.
std::vector<std::string> failed_hosts_from_result(const std::string& path);

}  // namespace aicloud::provision
