// The connection options every fleet command shares (exec, hostkeys, and
// later provision, nccl -i, certify): where the inventory and known_hosts
// are, the host-key policy, identities, ssh_config handling, deadlines,
// keepalive, fan-out and --max-fail. cli/fleet_flags.cpp wires them to
// flags once, so every command spells them the same way.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"

namespace aicloud::fleet {

// What to do with a host whose key is not in known_hosts, or differs.
enum class HostKeyPolicy {
  strict,      // unknown or changed key: host unreachable, nothing runs (default)
  accept_new,  // unknown key: recorded in known_hosts; changed key: refused
  off,         // no checking at all (only when asked for by name; warns)
};

std::string_view to_string(HostKeyPolicy p);
// "strict", "accept-new" (or "accept_new"), "off"; throws UsageError otherwise.
HostKeyPolicy parse_host_key_policy(std::string_view text);

// --max-fail N or P%: abort the hosts not yet started once more than N hosts
// (or more than P percent of the selected hosts) failed in any way.
struct MaxFail {
  std::size_t count = static_cast<std::size_t>(-1);  // default: never abort
  double percent = -1;                                 // >= 0 when given as P%

  bool unlimited() const { return percent < 0 && count == static_cast<std::size_t>(-1); }
  // True once `failed` hosts out of `total` is more than allowed.
  bool exceeded(std::size_t failed, std::size_t total) const;
};
// Parses "3", "0", "10%", "2.5%"; throws UsageError for anything else.
MaxFail parse_max_fail(std::string_view text);

// Default fan-out, chosen by measurement (bench/README.md, "## exec").
inline constexpr int k_default_forks = 128;

struct ConnectionOptions {
  std::string inventory;               // -i/--inventory
  std::string limit;                   // --limit selector (empty: every host)
  std::string known_hosts;             // --known-hosts; empty: beside the inventory
  HostKeyPolicy host_key_policy = HostKeyPolicy::strict;
  std::vector<std::string> identities; // --identity FILE (repeatable), tried before the agent
  std::string ssh_config;              // --ssh-config FILE; empty: ~/.ssh/config + /etc/ssh/ssh_config
  bool no_ssh_config = false;          // --no-ssh-config
  Seconds connect_timeout{10};         // TCP + banner + key exchange + auth, per host
  Seconds command_timeout{0};          // --timeout per command; 0: none
  Seconds keepalive_interval{15};      // keepalive@openssh.com after this much silence
  int keepalive_count = 3;             // unanswered keepalives before the host is dropped
  int forks = k_default_forks;         // -f/--forks: hosts worked on at once
  MaxFail max_fail;                    // --max-fail
};

// The known_hosts file used when --known-hosts is not given: beside the
// inventory, named after it ("racks/phx1.yaml" -> "racks/phx1.known_hosts").
std::string default_known_hosts_path(const std::string& inventory_path);

// The known_hosts path options resolve to (explicit, or the default).
std::string known_hosts_path(const ConnectionOptions& options);

// Checks values that flags cannot check alone (forks >= 1, timeouts > 0, an
// --ssh-config file that exists and parses). Throws UsageError.
void validate(const ConnectionOptions& options);

}  // namespace aicloud::fleet
