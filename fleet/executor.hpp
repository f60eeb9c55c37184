// The executor: a pool of `forks` blocking workers (as pdsh, not a thread per
// host) that takes hosts in inventory order, and Fleet, which keeps one SSH
// session per host across steps on top of it.
//
// Ctrl-C (common/interrupt.hpp): the first SIGINT stops handing out hosts,
// shuts down sockets stuck in connect/auth (cancel_blocking_io) and lets
// running commands stop themselves (TERM, close the channel); hosts never
// started are `skipped`. --max-fail: once more hosts failed than allowed, no
// further host is started; running ones finish. Workers block SIGINT so the
// main thread alone sees it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "fleet/jump.hpp"
#include "fleet/known_hosts.hpp"
#include "fleet/options.hpp"
#include "fleet/result.hpp"
#include "fleet/session.hpp"
#include "fleet/target.hpp"

namespace aicloud::fleet {

struct Progress {
  std::size_t total = 0, done = 0, ok = 0, failed = 0, unreachable = 0, running = 0;
  double elapsed_s = 0;
};

struct PoolOptions {
  int forks = k_default_forks;
  MaxFail max_fail;
  // Called on the calling thread about ten times a second and once at the end.
  std::function<void(const Progress&)> on_progress;
};

struct PoolRun {
  std::vector<bool> started;   // false: never started (Ctrl-C or --max-fail)
  bool interrupted = false;
  bool max_fail_hit = false;
  double duration_s = 0;
};

// Runs work(i) for every i in [0, n) on min(forks, n) worker threads and
// returns when all started items finished. work returns the status the item
// ended with (for progress and --max-fail); it must not throw.
PoolRun run_pool(std::size_t n, const PoolOptions& options, const std::function<Status(std::size_t)>& work);

// "SHA256 unknown key ... (record it with ...)": the host-independent part of
// a connect error, for folding.
std::string short_reason(ConnectError kind, const std::string& error);

// One persistent session per host, reused by every step run through it.
//
//   fleet::Fleet fl(targets, options);
//   auto facts = fl.run([](fleet::Session& s, std::size_t) {
//     fleet::HostResult r;
//     auto e = s.exec("uname -r");
//     ...
//     return r;
//   });
//   auto done = fl.run(next_step);   // same sessions, no new handshakes
class Fleet {
 public:
  // Loads known_hosts from known_hosts_path(options) (throws Error when
  // unreadable).
  Fleet(std::vector<Target> targets, ConnectionOptions options);
  Fleet(std::vector<Target> targets, ConnectionOptions options, std::shared_ptr<KnownHosts> known);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // The step runs on a worker thread with the host's connected session and
  // returns its result; host, address, host_key_sha256 and duration_s are
  // filled in when left empty (duration includes connecting).
  using Step = std::function<HostResult(Session& session, std::size_t index)>;

  struct RunOptions {
    bool keep_sessions = true;                 // false: close each session after its step (exec)
    std::function<bool(std::size_t)> filter;   // hosts to run on (default all); others: skipped
    std::function<void(const Progress&)> on_progress;
  };

  // Runs `step` on every host, connecting hosts that have no session yet.
  // A host that cannot be reached gets an `unreachable` result and is not
  // tried again by later runs. Results are in target order.
  std::vector<HostResult> run(const Step& step, const RunOptions& run_options);
  std::vector<HostResult> run(const Step& step) { return run(step, RunOptions{}); }

  // Connects every host that has no session yet, in parallel; the results
  // say which hosts are reachable (ok) and why the others are not. Then
  // session(i) can be used from one thread, e.g. to start() a command on
  // every host and drive them all with poll_commands().
  std::vector<HostResult> connect_all(const RunOptions& run_options);
  std::vector<HostResult> connect_all() { return connect_all(RunOptions{}); }

  // The summary of the last run (counts, duration, Ctrl-C and --max-fail).
  const Summary& last_summary() const { return m_summary; }

  std::size_t size() const { return m_slots.size(); }
  const Target& target(std::size_t i) const { return m_slots[i].target; }
  // The host's session when connected (for single-threaded use between runs).
  Session* session(std::size_t i) { return m_slots[i].session.get(); }
  bool unreachable(std::size_t i) const { return m_slots[i].unreachable; }
  KnownHosts& known_hosts() { return *m_known; }
  const ConnectionOptions& options() const { return m_options; }
  // Closes every session and the jump hosts.
  void close();

 private:
  struct Slot {
    Target target;
    std::unique_ptr<Session> session;
    bool unreachable = false;
    HostResult connect_result;
  };
  ConnectionOptions m_options;
  std::shared_ptr<KnownHosts> m_known;
  std::unique_ptr<JumpPool> m_jumps;
  std::vector<Slot> m_slots;
  Summary m_summary;
};

}  // namespace aicloud::fleet
