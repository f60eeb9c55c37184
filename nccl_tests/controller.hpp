// The launcher's brain: a pure state machine that drives N rank workers
// through the protocol of protocol.hpp, whatever carries the lines (local
// pipes today, SSH exec channels or TCP for the multi-node launchers). It
// never blocks and never does I/O: the transport feeds it lines, exits and
// clock ticks, and sends what it returns.
//
// Rendezvous: every rank gets its job; every rank answers hello (host, GPU,
// NCCL and CUDA versions); rank 0 also creates the NCCL unique id (its
// process then hosts NCCL's bootstrap root) and sends it up; once all hellos
// and the id are in, the controller hands the id to every rank (start), so
// no rank begins ncclCommInitRank before every rank is known to be alive.
//
// Never hangs: a rank that reports an error, exits early, or goes silent for
// silence_timeout_s makes the controller send abort to every other rank (the
// workers then ncclCommAbort and exit); ranks still running abort_grace_s
// after that are listed by ranks_to_kill(). Heartbeats carry each rank's
// count of enqueued and completed NCCL operations, which are the same
// sequence on every rank, so the report names the ranks that stopped
// advancing rather than every rank that was left waiting.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "nccl_tests/protocol.hpp"

namespace aicloud::nccl_tests {

using Clock = std::chrono::steady_clock;

// Where one rank runs.
struct RankSpec {
  int rank = 0;
  std::string node;  // node name (inventory name, or this host for local runs)
  int local_rank = 0;
  int device = 0;    // CUDA device index on that node
};

// Everything a launch needs, independent of the transport.
struct LaunchSpec {
  std::vector<RankSpec> ranks;
  BenchPlan plan;
  bool dry_run = false;
  std::string nccl_library;                 // passed to every worker (empty: its own search)
  std::map<std::string, std::string> env;   // set in every worker before NCCL loads
  double init_timeout_s = 120;              // communicator creation, per rank
  double phase_timeout_s = 120;             // each warm-up, each timed row
  double heartbeat_s = 1;
  double silence_timeout_s = 60;            // a rank that sends nothing this long is unresponsive
  double abort_grace_s = 15;                // after abort, how long before ranks are killed
};

// Ranks numbered 0..n-1 over `nodes`, `ranks_per_node` each (devices 0..k-1,
// or `devices` when given, which must then have ranks_per_node entries).
std::vector<RankSpec> plan_ranks(const std::vector<std::string>& nodes, int ranks_per_node,
                                 const std::vector<int>& devices = {});

struct Outbound {
  int rank = 0;
  std::string line;  // without the trailing newline
};

struct Problem {
  int rank = -1;      // -1: not tied to one rank
  std::string phase;  // start, init, warmup, timed, verify, finalize, ...
  std::string kind;   // error, timeout, unresponsive, exited, protocol, mismatch, interrupted, nccl, cuda, ...
  std::string message;
};

struct RankRecord {
  RankSpec spec;
  std::optional<HelloMessage> hello;
  bool ready = false;
  std::string id_digest;
  double init_s = 0;
  std::string done_status;  // empty until done: ok, failed, timeout, aborted
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
  bool killed = false;
  std::optional<HeartbeatMessage> progress;
  Clock::time_point last_seen{};
  std::vector<std::string> stderr_tail;  // last lines the worker wrote on stderr
};

// One row and placement as each rank reported it.
using RowKey = std::tuple<int, int, Placement>;  // test, size_index, placement

class Controller {
 public:
  Controller(LaunchSpec spec, Clock::time_point now);

  // The job line for every rank; call once, first.
  std::vector<Outbound> begin();
  // A line the worker of `rank` wrote on its protocol stream.
  std::vector<Outbound> on_line(int rank, const std::string& line, Clock::time_point now);
  // A line the worker wrote on stderr (kept as evidence, last 20 lines).
  void on_stderr(int rank, const std::string& line);
  // The worker ended (process exit or channel closed); signal 0 unless killed by one.
  std::vector<Outbound> on_exit(int rank, int exit_code, int signal, Clock::time_point now);
  // Deadlines: silent ranks; call at least every second.
  std::vector<Outbound> on_tick(Clock::time_point now);
  // Ctrl-C or a transport failure: abort every rank.
  std::vector<Outbound> abort_all(const std::string& reason, const std::string& kind, Clock::time_point now);
  // Ranks that are still running abort_grace_s after the abort was sent.
  std::vector<int> ranks_to_kill(Clock::time_point now) const;
  void mark_killed(int rank);

  bool finished() const;  // every rank has exited
  bool aborting() const { return m_aborting; }
  bool interrupted() const { return m_interrupted; }

  const LaunchSpec& spec() const { return m_spec; }
  const std::vector<RankRecord>& ranks() const { return m_ranks; }
  const std::vector<Problem>& problems() const { return m_problems; }
  const std::vector<std::string>& warnings() const { return m_warnings; }
  const std::map<RowKey, std::map<int, ResultMessage>>& results() const { return m_results; }
  // Ranks that stopped advancing, as sentences (empty when none lagged).
  const std::vector<std::string>& stalled() const { return m_stalled; }
  bool all_ok() const;  // every rank done ok, no problems

 private:
  std::vector<Outbound> handle(int rank, const Message& m, Clock::time_point now);
  std::vector<Outbound> maybe_start();
  void add_problem(int rank, std::string phase, std::string kind, std::string message);
  void describe_stall(Clock::time_point now);
  std::string where(int rank) const;

  LaunchSpec m_spec;
  std::vector<RankRecord> m_ranks;
  Clock::time_point m_begin;
  std::string m_unique_id;
  bool m_started = false;
  bool m_aborting = false;
  bool m_interrupted = false;
  Clock::time_point m_abort_time{};
  std::vector<Problem> m_problems;
  std::vector<std::string> m_warnings;
  std::vector<std::string> m_stalled;
  std::map<RowKey, std::map<int, ResultMessage>> m_results;
};

// Orders ranks by how far they got: ranks whose count of enqueued NCCL
// operations is below the highest are the ones the others wait for. Pure;
// `seconds_silent` per rank (same order as `progress`).
struct LagReport {
  std::vector<int> lagging;  // ranks behind the front
  bool all_equal = false;    // nobody behind: the operation itself did not complete
  long front_launched = 0;
};
LagReport find_laggards(const std::vector<std::optional<HeartbeatMessage>>& progress);

}  // namespace aicloud::nccl_tests
