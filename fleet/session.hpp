// One SSH connection to one host, kept open and reused by every step that
// runs there (exec, file pushes, long-running commands), as Ansible needs
// ControlPersist for. In-process libssh, no ssh child process.
//
// Connecting follows the order that makes ssh_config work: set the host,
// parse ssh_config (or --ssh-config FILE, or nothing with --no-ssh-config),
// then apply inventory and command-line values. We open the TCP socket
// ourselves (or a socketpair through a jump host) and hand it to libssh with
// SSH_OPTIONS_FD, so that the connect deadline, Ctrl-C and jump hosts are in
// our hands; libssh's own timeouts (SSH_OPTIONS_TIMEOUT + _USEC) are set to
// what is left of the per-host deadline before every blocking step. The host
// key is checked against our KnownHosts under the policy before any
// authentication; auth uses identity files and the agent and never prompts.
//
// Commands run on channels driven by our own poll() loop: output is read
// as it arrives, --timeout and Ctrl-C stop the command (TERM, then the
// channel is closed), and after silence keepalive@openssh.com requests are
// sent; a peer that answers none of them is dropped. A command that ends by
// a signal, or without any exit status, is never reported as success.
//
// Threads: a Session and its commands must be used by one thread at a time
// (libssh's rule); different sessions run in parallel.
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.hpp"
#include "fleet/known_hosts.hpp"
#include "fleet/options.hpp"
#include "fleet/result.hpp"
#include "fleet/target.hpp"

namespace aicloud::fleet {

class JumpPool;

using Clock = std::chrono::steady_clock;

// Why connect() failed. Every kind makes the host "unreachable".
enum class ConnectError {
  none,
  config,            // ssh_config could not be parsed, bad host name
  resolve,           // the name does not resolve
  refused,           // connection refused
  connect_timeout,   // no TCP connection before the deadline
  network,           // no route, reset, ...
  no_banner,         // TCP accepted but no SSH banner / key exchange before the deadline
  protocol,          // key exchange or protocol error
  host_key_unknown,  // strict policy and the key is not on file
  host_key_changed,  // the key differs from the one on file
  host_key_revoked,
  auth_denied,       // no identity was accepted
  auth_partial,      // the server wants more than public-key auth
  jump,              // the jump host could not be used
  interrupted,       // Ctrl-C
};
std::string_view to_string(ConnectError e);

struct ExecOptions {
  Seconds timeout{0};                  // 0: none (keepalive still catches dead peers)
  std::optional<bool> become;          // default: the target's become
  std::string_view stdin_data;         // sent to the command (must outlive the command)
  bool close_stdin = true;             // send EOF after stdin_data
  std::size_t max_output_bytes = 64u << 20;   // kept per stream; the rest is counted as truncated
  // Called with each piece of output as it arrives (heartbeats, progress).
  std::function<void(std::string_view chunk, bool is_stderr)> on_output;
};

struct ExecResult {
  Status status = Status::failed;      // ok, failed, signal, timeout, interrupted, unreachable (connection lost)
  std::optional<int> exit_code;
  std::string signal;                  // "TERM", ..., "unknown" when no exit status came back
  bool core_dumped = false;
  std::string stdout_text;
  std::string stderr_text;
  bool output_truncated = false;
  std::string error;
  double duration_s = 0;
};

// A command started with Session::start(): read incrementally, fed stdin,
// signalled and stopped. Destroying a running command stops it.
class RemoteCommand {
 public:
  ~RemoteCommand();
  RemoteCommand(const RemoteCommand&) = delete;
  RemoteCommand& operator=(const RemoteCommand&) = delete;

  // Processes what arrived and waits up to `wait` for more; handles
  // --timeout, Ctrl-C and keepalive. Returns false once the command is over
  // (result() is then final), true while it runs. Returns early when new
  // output arrived.
  bool poll(Seconds wait);
  bool running() const;
  // Queues bytes for the command's stdin, sent as the channel window allows.
  void write_stdin(std::string_view data);
  void close_stdin();
  // Sends a signal request ("TERM", "INT", "KILL"); false if it could not be sent.
  bool send_signal(const std::string& name);
  // Stops the command: TERM, EOF and close; status becomes `why`.
  void stop(Status why, const std::string& error = {});
  // The socket to poll() on when driving many commands from one thread.
  int fd() const;

  const ExecResult& result() const;
  ExecResult take_result();

 private:
  friend class Session;
  struct Impl;
  explicit RemoteCommand(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

// A local file prepared once (mapped, hashed) and pushed to many hosts.
class LocalFile {
 public:
  // Maps the file read-only and computes its SHA-256. Throws Error.
  static LocalFile open(const std::string& path);
  static LocalFile from_string(std::string content, unsigned mode = 0644);
  LocalFile(LocalFile&&) noexcept;
  LocalFile& operator=(LocalFile&&) noexcept;
  ~LocalFile();

  std::string_view data() const;
  const std::string& sha256() const { return m_sha256; }
  unsigned mode() const { return m_mode; }
  const std::string& path() const { return m_path; }

 private:
  LocalFile() = default;
  std::string m_path;
  std::string m_owned;
  void* m_map = nullptr;
  std::size_t m_size = 0;
  std::string m_sha256;
  unsigned m_mode = 0644;
};

struct PushOptions {
  std::optional<unsigned> mode;   // default: the local file's mode
  std::optional<bool> become;     // default: the target's become
  Seconds timeout{0};
  bool create_dirs = true;        // mkdir -p the remote folder
};

struct PushResult {
  Status status = Status::failed;  // ok (changed or skipped), failed, unreachable, timeout, interrupted
  bool changed = false;            // false: the remote file already had this SHA-256 and mode
  std::string remote_sha256;
  std::string error;
  double duration_s = 0;
};

class Session {
 public:
  enum class Mode {
    full,            // host key policy + authentication
    host_key_only,   // key exchange only: for `hostkeys scan` (no policy, no auth)
  };

  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connects within options.connect_timeout. On failure returns false with
  // error_kind()/error() set; host_key_sha256() is set whenever a key was
  // seen. `jumps` is needed for targets with a jump host.
  bool connect(const Target& target, const ConnectionOptions& options, KnownHosts& known,
               JumpPool* jumps = nullptr, Mode mode = Mode::full);

  bool connected() const;
  ConnectError error_kind() const { return m_error_kind; }
  const std::string& error() const { return m_error; }
  const Target& target() const { return m_target; }

  // The key the host presented (set after the key exchange).
  const std::string& host_key_sha256() const { return m_key_fp; }
  const std::string& host_key_type() const { return m_key_type; }
  const std::string& host_key_blob() const { return m_key_blob; }
  // How the key compared with known_hosts (host_key_only mode too).
  KeyMatch host_key_match() const { return m_key_match; }
  // The known_hosts lookup name: "addr" or "[addr]:port".
  const std::string& host_key_name() const { return m_key_name; }
  double connect_duration_s() const { return m_connect_s; }

  // Runs a command to completion.
  ExecResult exec(std::string_view command, const ExecOptions& options = {});
  // Starts a command and returns at once; drive it with poll(). The
  // returned command must be destroyed before the session.
  std::unique_ptr<RemoteCommand> start(std::string_view command, const ExecOptions& options = {});
  // Copies a file unless the remote one already has the same SHA-256 (and
  // mode): exec stream into a temporary file, verify its SHA-256 remotely,
  // then rename over the destination. Needs sh, cat, mkdir, chmod, mv and
  // sha256sum (or shasum) on the host.
  PushResult push(const LocalFile& file, const std::string& remote_path, const PushOptions& options = {});

  // The command line actually sent for `command` (with become applied).
  std::string wrap_command(std::string_view command, std::optional<bool> become) const;

  void close();
  // The libssh session, for features not wrapped here (same thread rule).
  ssh_session raw() { return m_s; }

 private:
  friend class RemoteCommand;
  friend class JumpPool;
  bool fail(ConnectError kind, std::string message);
  bool authenticate(Clock::time_point deadline);
  void set_timeout(Clock::time_point deadline);
  void mark_dead(const std::string& why);
  // Keepalive bookkeeping shared by the commands of this session.
  bool keepalive_tick(Clock::time_point now, std::string* error);
  Clock::time_point next_keepalive() const;

  ssh_session m_s = nullptr;
  int m_fd = -1;                       // our socket (owned by libssh once handed over)
  bool m_connected = false;
  bool m_dead = false;
  Target m_target;
  Seconds m_connect_timeout{10};
  Seconds m_keepalive_interval{15};
  int m_keepalive_count = 3;
  std::vector<std::string> m_identities;
  ConnectError m_error_kind = ConnectError::none;
  std::string m_error;
  std::string m_key_fp, m_key_type, m_key_blob, m_key_name;
  KeyMatch m_key_match = KeyMatch::unknown;
  double m_connect_s = 0;
  ::ssh_counter_struct m_rx {};
  std::uint64_t m_last_packets = 0;
  Clock::time_point m_last_rx{};
  int m_keepalives_unanswered = 0;
  ::ssh_callbacks_struct m_callbacks {};
};

// Drives many running commands from one thread (e.g. one per host of an
// NCCL job): waits up to `wait` (at most 1 s, so keepalives stay on time)
// until one of them has input, then lets each running one process it.
// Returns how many are still running. Each command's session must not be
// used by another thread meanwhile.
std::size_t poll_commands(const std::vector<RemoteCommand*>& commands, Seconds wait);

// Shuts down the sockets of every session that is in a blocking libssh
// call (connect, auth, channel open) so that Ctrl-C ends them at once. Called
// by the executor when the run is interrupted; safe from any thread.
void cancel_blocking_io();
// Clears the cancelled state (tests only).
void reset_cancel_for_tests();

// The known_hosts name ("addr" or "[addr]:port") that connect() would look
// the target up by: ssh_config's HostName and Port applied, without
// connecting. Used by `hostkeys list/forget`.
std::string known_hosts_name(const Target& target, const ConnectionOptions& options);

// `sudo -n -H -- /bin/sh -c '<command>'`: the command as one quoted word.
std::string become_command(std::string_view command);

}  // namespace aicloud::fleet
