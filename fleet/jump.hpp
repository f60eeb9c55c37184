// Jump hosts without an ssh child process: libssh 0.10 has no in-process
// ProxyJump, so for each jump host we keep one SSH session (connected and
// host-key checked like any target) and a hub thread that owns it. A target
// behind the jump asks the hub for a direct-tcpip channel to host:port
// (ssh_channel_open_forward); the hub pumps that channel into one end of a
// socketpair and the target's Session gets the other end as SSH_OPTIONS_FD.
// Every target behind one jump host (a rack's bastion) shares its single
// connection, so bastion connection limits are not an issue. Jump hosts may
// themselves sit behind jump hosts (the pool resolves them recursively).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fleet/known_hosts.hpp"
#include "fleet/options.hpp"
#include "fleet/session.hpp"
#include "fleet/target.hpp"

namespace aicloud::fleet {

class JumpPool {
 public:
  // `policy` overrides options.host_key_policy for jump hosts (hostkeys
  // scan records unknown jump-host keys as it goes).
  JumpPool(const ConnectionOptions& options, KnownHosts& known);
  JumpPool(const ConnectionOptions& options, KnownHosts& known, HostKeyPolicy policy);
  ~JumpPool();
  JumpPool(const JumpPool&) = delete;
  JumpPool& operator=(const JumpPool&) = delete;

  // A socket connected through `jump` to host:port, ready to hand to libssh;
  // -1 with *error set when the jump host is unreachable or refuses the
  // forward. The jump host is connected on first use; one that failed is
  // not retried by this pool. Thread-safe.
  int open(const Target& jump, const std::string& host, int port, Clock::time_point deadline, std::string* error);

  // Stops every hub and closes the jump sessions (also done by the destructor).
  void shutdown();

  struct Hub;

 private:
  ConnectionOptions m_options;
  KnownHosts& m_known;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<Hub>> m_hubs;
};

}  // namespace aicloud::fleet
