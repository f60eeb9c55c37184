// The SSH side of provision: HostTransport over fleet/ sessions. One
// persistent fleet::Session per host, opened when the host's first task
// needs it and reused by every later task (exec with stdout/stderr/rc,
// become through `sudo -n`, file contents streamed on stdin). The
// `reboot` module's reconnect() drops the session and polls for a new one,
// reporting the key the node presented (the module fails the host when it
// changed; under the strict policy a changed key never authenticates).
//
// Also the inventory-to-targets step of `provision -i INV`: RunHosts for the
// runner, a selector for `hosts:` and --limit, and the factory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fleet/jump.hpp"
#include "fleet/known_hosts.hpp"
#include "fleet/options.hpp"
#include "fleet/target.hpp"
#include "inventory/inventory.hpp"
#include "provision/command.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision {

class SshTransportFactory : public TransportFactory {
 public:
  // Loads known_hosts (fleet::known_hosts_path(options)); throws Error when
  // it cannot be read. `targets` maps inventory names to how to reach them.
  SshTransportFactory(std::map<std::string, fleet::Target> targets, fleet::ConnectionOptions options);
  ~SshTransportFactory() override;

  // Connects within --connect-timeout. nullptr and *error (why, e.g.
  // "HOST KEY CHANGED ...", "connection refused") when the host cannot be
  // reached. Thread-safe.
  std::unique_ptr<HostTransport> open(const RunHost& host, std::string* error) override;

  // Fingerprints of the keys hosts presented (also those that were refused).
  std::map<std::string, std::string> host_keys() const;

 private:
  friend class SshTransport;
  void record_key(const std::string& host, const std::string& fp);
  std::map<std::string, fleet::Target> m_targets;
  fleet::ConnectionOptions m_options;
  std::shared_ptr<fleet::KnownHosts> m_known;
  std::unique_ptr<fleet::JumpPool> m_jumps;
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_keys;
};

// Everything `provision -i INV` needs before it runs: the loaded inventory,
// the hosts and a selector over them, and the SSH factory. Throws
// InputError/UsageError (exit 2) for an inventory that does not load.
struct SshProvisionSetup {
  inventory::Inventory inventory;
  ProvisionTargets targets;
  std::unique_ptr<SshTransportFactory> factory;
};
std::unique_ptr<SshProvisionSetup> ssh_provision_setup(const fleet::ConnectionOptions& options);

// The command line sent for one script: `/bin/sh -c SCRIPT` (whatever the
// remote login shell is), through `sudo -n -H [-u USER] --` for become.
std::string remote_script_command(const ExecRequest& request);

}  // namespace aicloud::provision
