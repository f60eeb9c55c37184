// Shared fleet flags. Values are parsed here (durations, policy, --max-fail)
// so a bad value is an invocation error before anything connects.
#include "cli/fleet_flags.hpp"

#include <string>

#include "common/duration.hpp"
#include "common/error.hpp"

namespace aicloud::cli {

namespace {

Seconds duration_value(const std::string& flag, const std::string& text, bool allow_zero) {
  auto d = parse_duration(text);
  if (!d || d->count() < 0 || (!allow_zero && d->count() == 0))
    throw CLI::ValidationError(flag, "'" + text + "' is not a duration (e.g. 30s, 10m, 2h" +
                                         std::string(allow_zero ? ", 0 for none" : "") + ")");
  return *d;
}

}  // namespace

void add_inventory_flags(CLI::App& app, fleet::ConnectionOptions& o) {
  app.add_option("-i,--inventory", o.inventory, "Inventory file (native or Ansible YAML)")->type_name("FILE");
  app.add_option("--limit", o.limit, "Select hosts: node sets, @group, rack=R, site=S, label=V; ',' '&' '!'")
      ->type_name("SEL");
  app.add_option("--known-hosts", o.known_hosts,
                 "known_hosts file (default: beside the inventory, <name>.known_hosts)")
      ->type_name("FILE");
}

void add_ssh_config_flags(CLI::App& app, fleet::ConnectionOptions& o) {
  app.add_option("--ssh-config", o.ssh_config, "OpenSSH client config to use instead of ~/.ssh/config")
      ->type_name("FILE");
  app.add_flag("--no-ssh-config", o.no_ssh_config, "Do not read any OpenSSH client config");
}

void add_connection_flags(CLI::App& app, fleet::ConnectionOptions& o) {
  add_inventory_flags(app, o);
  app.add_option_function<std::string>(
         "--host-key-policy",
         [&o](const std::string& v) {
           try {
             o.host_key_policy = fleet::parse_host_key_policy(v);
           } catch (const UsageError& e) {
             throw CLI::ValidationError("--host-key-policy", e.what());
           }
         },
         "strict (default): unknown or changed keys refused; accept-new: record unknown keys; off: no checks")
      ->type_name("POLICY");
  app.add_option("--identity", o.identities, "Private key file to try first (repeatable); then ssh-agent")
      ->type_name("FILE")
      ->allow_extra_args(false);
  add_ssh_config_flags(app, o);
  app.add_option_function<std::string>(
         "--connect-timeout",
         [&o](const std::string& v) { o.connect_timeout = duration_value("--connect-timeout", v, false); },
         "Deadline per host for TCP, SSH handshake and auth (default 10s)")
      ->type_name("DUR");
  app.add_option_function<std::string>(
         "--timeout", [&o](const std::string& v) { o.command_timeout = duration_value("--timeout", v, true); },
         "Stop commands still running after this long (default: none)")
      ->type_name("DUR");
  app.add_option_function<std::string>(
         "--keepalive",
         [&o](const std::string& v) {
           auto comma = v.find(',');
           o.keepalive_interval = duration_value("--keepalive", v.substr(0, comma), false);
           if (comma != std::string::npos) {
             std::string n = v.substr(comma + 1);
             if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos || std::stoi(n) < 1)
               throw CLI::ValidationError("--keepalive", "count after ',' must be a number of at least 1");
             o.keepalive_count = std::stoi(n);
           }
         },
         "Keepalive after this much silence, dropping the host after N unanswered (default 15s,3)")
      ->type_name("DUR[,N]");
  app.add_option("-f,--forks", o.forks, "Hosts worked on at once (default " + std::to_string(fleet::k_default_forks) + ")")
      ->type_name("N")
      ->check(CLI::Range(1, 4096));
  app.add_option_function<std::string>(
         "--max-fail",
         [&o](const std::string& v) {
           try {
             o.max_fail = fleet::parse_max_fail(v);
           } catch (const UsageError& e) {
             throw CLI::ValidationError("--max-fail", e.what());
           }
         },
         "Start no more hosts once more than N (or P%) failed")
      ->type_name("N|P%");
}

}  // namespace aicloud::cli
