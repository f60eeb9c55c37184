// The seam between the play runner and the outside world (after ninja's
// CommandRunner): a HostTransport runs one POSIX shell script on one node
// and returns what happened. The runner and the modules never talk SSH; the
// SSH runner (fleet sessions) implements this interface, and LocalTransport
// implements it with /bin/sh on this machine, which is what the tests and
// `provision --connection local` use.
//
// Contract for implementations: a node problem (session lost, cannot exec)
// is a value in ExecResult (unreachable = true), never an exception; one
// transport is used by one runner thread at a time.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aicloud::provision {

// One script to run on the node as `/bin/sh -c SCRIPT`.
struct ExecRequest {
  std::string script;
  std::string stdin_data;           // bytes fed to the script's stdin
  std::string stdin_path;           // or: stream this local file (large files); used when stdin_data is empty
  bool become = false;              // run through `sudo -n` (as become_user when set)
  std::string become_user;
  std::optional<double> timeout_s;  // kill the command after this long (a timeout is a failure, not unreachable)
};

struct ExecResult {
  bool unreachable = false;         // the node could not be reached or the session died
  std::string error;                // why (unreachable, or the command could not be started)
  int exit_code = -1;               // valid when exited
  bool exited = false;
  int signal = 0;                   // killed by a signal on the node
  bool timed_out = false;
  std::string stdout_text;
  std::string stderr_text;
  double duration_s = 0;
  std::string host_key_sha256;      // reconnect(): the key the node presented this time

  bool ok() const { return !unreachable && exited && exit_code == 0 && !timed_out; }
};

class HostTransport {
 public:
  virtual ~HostTransport() = default;
  // Runs one script; see ExecRequest.
  virtual ExecResult exec(const ExecRequest& request) = 0;
  // Used by the `reboot` module after it told the node to reboot: drops the
  // session, waits (polling every few seconds, each try bounded by
  // connect_timeout_s) until the node accepts a new session or timeout_s
  // passed, and reports the host key of the new session. Unreachable when
  // the node did not come back. Transports that cannot reconnect (local)
  // return an error saying so.
  virtual ExecResult reconnect(double timeout_s, double connect_timeout_s) = 0;
  // The SHA-256 fingerprint of the node's host key in the current session
  // ("SHA256:..."), or "" when the transport has none (local).
  virtual std::string host_key_sha256() const = 0;
};

// What the runner knows about a host; built from the inventory.
struct RunHost {
  std::string name;                 // inventory_hostname
  std::string address;              // what the transport connects to
  std::string user;                 // SSH user ("" : the transport's default); a play's remote_user overrides it
  bool become = false;              // the inventory asks for sudo on this host
  std::vector<std::string> groups;  // without "all"
  nlohmann::json vars = nlohmann::json::object();   // inventory vars, merged
  nlohmann::json magic = nlohmann::json::object();  // rack, site, hardware, labels...
};

// Opens the transport for a host, once per run (the session is reused by
// every task). Returns nullptr and sets *error when the host cannot be
// reached; the host is then reported unreachable. Called from worker
// threads, concurrently for different hosts.
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;
  virtual std::unique_ptr<HostTransport> open(const RunHost& host, std::string* error) = 0;
};

// Runs scripts with /bin/sh on this machine (common/run_process). become
// uses `sudo -n` unless already root. reconnect() is not possible.
class LocalTransport : public HostTransport {
 public:
  explicit LocalTransport(std::map<std::string, std::string> env = {}) : m_env(std::move(env)) {}
  ExecResult exec(const ExecRequest& request) override;
  ExecResult reconnect(double timeout_s, double connect_timeout_s) override;
  std::string host_key_sha256() const override { return ""; }

 private:
  std::map<std::string, std::string> m_env;  // added to the environment (tests: PATH)
};

class LocalTransportFactory : public TransportFactory {
 public:
  explicit LocalTransportFactory(std::map<std::string, std::string> env = {}) : m_env(std::move(env)) {}
  std::unique_ptr<HostTransport> open(const RunHost& host, std::string* error) override;

 private:
  std::map<std::string, std::string> m_env;
};

}  // namespace aicloud::provision
