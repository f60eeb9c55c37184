// `aicloudctl provision`, as a library call (cli/cmd_provision.cpp only
// declares flags): load and validate the playbook, pick the hosts, run,
// report. Read as a list of passes: load -> select -> connect (lazily, per
// host, through a TransportFactory) -> run -> report -> exit code.
//
// Where the hosts and transports come from is the caller's choice
// (ProvisionTargets): the local machine for `--connection local`, the
// inventory and fleet sessions for SSH runs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "provision/report.hpp"
#include "provision/runner.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision {

struct ProvisionOptions {
  std::string playbook;                 // a file, or a shipped playbook's name
  std::string inventory;                // -i
  std::string limit;                    // --limit SEL, or @failed:RESULT.json
  int forks = 64;                       // -f
  bool check = false;                   // --check
  bool diff = false;                    // --diff
  bool json = false;                    // --json
  std::vector<std::string> tags;        // --tags (comma lists allowed)
  std::vector<std::string> skip_tags;   // --skip-tags
  std::vector<std::string> extra_vars;  // -e
  std::string connection;               // -c: "local" or "ssh" ("" : ssh with an inventory)
  bool syntax_check = false;            // --syntax-check: validate only, no inventory needed
  bool list_tasks = false;              // --list-tasks
  bool list_playbooks = false;          // --list-playbooks: the shipped ones
  std::string output;                   // -o FILE: the JSON result, written atomically
  int verbosity = 0;
  HostFolder fold;                      // node-set folding for display
};

// The hosts of a run and how to reach them.
struct ProvisionTargets {
  std::vector<RunHost> hosts;
  HostSelector selector;                // resolves selector terms of `hosts:` and --limit
  TransportFactory* transports = nullptr;
  // Host-key fingerprints seen while connecting ("SHA256:..."), added to
  // each host's recap in the JSON result (SSH runs).
  std::function<std::map<std::string, std::string>()> host_keys;
};

// The single host of `--connection local` runs without an inventory.
RunHost localhost_target();

// Handles --list-playbooks, --syntax-check and --list-tasks (no hosts
// needed) and returns their exit code, or nullopt when a run is asked for.
std::optional<int> provision_offline(const ProvisionOptions& options, std::ostream& out);

// Runs the playbook on the targets, prints the report (or JSON), writes
// --output, and returns the exit code (0, 1, 4, 5, 130). Throws
// InputError/UsageError for bad input before anything runs.
int provision_run(const ProvisionOptions& options, ProvisionTargets& targets, std::ostream& out);

}  // namespace aicloud::provision
