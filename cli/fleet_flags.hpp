// The connection flags every fleet command takes, declared once so that
// exec, hostkeys, provision, nccl -i and certify spell and document them the
// same way: -i/--inventory --limit --known-hosts --host-key-policy
// --identity --ssh-config --no-ssh-config --connect-timeout --timeout
// --keepalive -f/--forks --max-fail.
#pragma once

#include <CLI/CLI.hpp>

#include "fleet/options.hpp"

namespace aicloud::cli {

// Every connection flag. `options` must outlive the parse (CLI11 writes
// into it while parsing); values are checked as they are parsed (exit 2).
void add_connection_flags(CLI::App& app, fleet::ConnectionOptions& options);

// Only -i/--inventory, --limit and --known-hosts (commands that read the
// inventory and known_hosts but do not connect).
void add_inventory_flags(CLI::App& app, fleet::ConnectionOptions& options);

// Only --ssh-config and --no-ssh-config (they decide which HostName and
// Port a host's known_hosts entry is filed under).
void add_ssh_config_flags(CLI::App& app, fleet::ConnectionOptions& options);

}  // namespace aicloud::cli
