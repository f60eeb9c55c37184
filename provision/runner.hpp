// The play runner: runs a validated playbook on hosts through a
// TransportFactory. Per host it sequences tasks with when / loop / register
// / retries+until / changed_when / failed_when / ignore_errors / notify and
// handlers; across hosts it runs the `free` strategy (each host at its own
// pace, the default: nodes are independent during bring-up), `linear`
// (every host finishes a task before the next starts) and `serial` batches.
// A host that fails or becomes unreachable stops there; the others go on.
//
// Nothing here knows SSH: the same runner drives LocalTransport in tests
// and fleet sessions in production. Pure apart from the transport calls,
// the clock and local writes of the `fetch` module.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "provision/module.hpp"
#include "provision/playbook.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision {

struct RunOptions {
  bool check = false;                       // --check: probes only
  bool diff = false;                        // --diff
  int forks = 64;                           // hosts worked on at once
  std::vector<std::string> tags;            // --tags (empty: all)
  std::vector<std::string> skip_tags;       // --skip-tags
  json extra_vars = json::object();         // -e, highest precedence
  std::optional<std::vector<std::string>> limit;  // --limit, resolved to host names
  int verbosity = 0;
  std::string nonce;                        // marks protocol lines; random when empty
  std::string playbook_dir;                 // the playbook_dir var
  std::string controller_binary;            // the aicloudctl_binary var (deploy-aicloudctl)
};

// The result of one task on one host.
struct HostTaskResult {
  std::string status;                       // ok, changed, failed, skipped, unreachable
  bool ignored = false;                     // failed, but ignore_errors
  std::optional<int> rc;
  std::string stdout_text;
  std::string stderr_text;
  std::string msg;
  double duration_s = 0;
  int attempts = 1;
  std::vector<FileDiff> diffs;
  json output;                              // what a debug task printed (msg or var), else null
  json items;                               // per-item statuses of a loop, else null
  bool no_log = false;
};

struct TaskRecord {
  std::string name;
  std::string action;
  SourceLocation where;
  bool handler = false;
  std::map<std::string, HostTaskResult> results;  // by host name
};

struct PlayRecord {
  std::string name;
  std::string pattern;
  Strategy strategy = Strategy::free;
  std::vector<std::string> hosts;           // selected, in inventory order
  std::vector<TaskRecord> tasks;            // in playbook order, then handlers
  std::vector<std::string> notes;           // "no hosts matched", "aborted: max_fail_percentage"
};

// Ansible's recap counters: ok counts every task that succeeded, changed
// ones included.
struct Recap {
  int ok = 0, changed = 0, failed = 0, skipped = 0, unreachable = 0, ignored = 0;
  std::string status() const;               // unreachable, failed, changed or ok
};

struct RunResult {
  std::vector<PlayRecord> plays;
  std::vector<std::string> hosts;           // every host that took part, inventory order
  std::map<std::string, Recap> recap;
  bool interrupted = false;
  double duration_s = 0;
  int exit_code() const;                    // 0, 1, 4, 5 or 130 (docs/exit-codes.md)
};

// Told about progress; the terminal reporter implements it. Called from
// worker threads (calls are serialized by the runner).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void play_started(const PlayRecord&) {}
  // Every selected host has finished the task (or stopped before it).
  virtual void task_finished(const PlayRecord&, const TaskRecord&) {}
  virtual void progress(const std::string& /*task*/, std::size_t /*done*/, std::size_t /*total*/) {}
};

// Resolves a play's `hosts:` pattern to host names: "all", "*", group
// names, host names, and Ansible's "a:b" (union), "a:&b" (intersection),
// "a:!b" (exclusion); any other term goes to `selector` (node sets,
// "@group", "rack=a12": the inventory's selector grammar). Throws
// InputError for a term that does not parse.
using HostSelector = std::function<std::vector<std::string>(const std::string& term)>;
std::vector<std::string> resolve_host_pattern(const std::string& pattern, const std::vector<RunHost>& hosts,
                                              const HostSelector& selector);

// Runs the playbook. Host selection errors throw InputError before
// anything runs; everything that happens on a host is in the result.
RunResult run_playbook(const Playbook& playbook, const std::vector<RunHost>& hosts, const HostSelector& selector,
                       TransportFactory& transports, const RunOptions& options, RunObserver* observer = nullptr);

// Parses -e values: "k=v k2=v2", a JSON or YAML mapping, or "@FILE".
// Throws InputError / UsageError.
json parse_extra_vars(const std::vector<std::string>& values);

}  // namespace aicloud::provision
