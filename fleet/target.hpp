// A Target is everything the SSH engine needs to reach one host, built from
// an inventory::Host (or by hand in tests): the engine never reads YAML, so
// it can be driven directly and the inventory format can change freely.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"

namespace aicloud::fleet {

struct Target {
  std::string name;           // inventory name: results, folding, ssh_config "Host" matching
  std::string address;        // where to connect (IP or DNS name); defaults to name
  int port = 0;               // 0: ssh_config's Port, else 22
  std::string user;           // empty: ssh_config's User, else the local user
  std::string identity_file;  // tried after --identity and before the agent
  bool become = false;        // wrap commands in `sudo -n -- sh -c ...`
  // Reached through this host: the engine opens a direct-tcpip channel on a
  // session to the jump host and runs the target's SSH over it. Targets
  // that share a jump host share one jump session.
  std::shared_ptr<const Target> jump;
};

// "[user@]host[:port]" (IPv6 as "[::1]:22") for jump hosts not in the
// inventory. Throws UsageError when it does not parse.
Target parse_jump_spec(const std::string& spec);

// Builds targets for selected inventory hosts. A host's ssh.jump_host that
// names an inventory host takes that host's address and SSH settings;
// otherwise it is parsed with parse_jump_spec. Ansible variables
// (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
// ansible_ssh_common_args is ignored) fill fields the ssh settings leave
// empty. Throws InputError (naming the host's location) for a jump loop or a
// jump spec that does not parse.
std::vector<Target> targets_from_hosts(const inventory::Inventory& inv,
                                       const std::vector<const inventory::Host*>& hosts);
Target target_from_host(const inventory::Inventory& inv, const inventory::Host& host);

// "user@address:port via jump" for messages.
std::string describe(const Target& t);

// True when the name is a plain DNS-style name ([A-Za-z0-9._-], not
// starting with '-'), safe to hand to ssh_config matching.
bool is_plain_hostname(const std::string& name);

}  // namespace aicloud::fleet
