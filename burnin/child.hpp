// A worker child process with its stdout read line by line (the JSON-lines
// protocol of the burn-in workers) and its stderr kept for the report. The
// child runs in its own process group so that a hung GPU worker can be
// killed together with anything it started, without touching the others.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "burnin/run.hpp"

namespace aicloud::burnin {

class Child {
 public:
  Child() = default;
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Starts argv[0] (a path) with extra environment variables.
  bool start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, std::string* error);
  bool running() const { return m_pid > 0 && !m_reaped; }
  pid_t pid() const { return m_pid; }
  int stdout_fd() const { return m_out; }
  int stderr_fd() const { return m_err; }

  // Reads whatever is ready on fd (one of the two above) without blocking;
  // complete stdout lines go to lines. Returns false when fd reached EOF.
  bool drain(int fd, std::vector<std::string>* lines);
  bool outputs_open() const { return m_out >= 0 || m_err >= 0; }

  void signal_group(int sig);
  // Stops caring about a child that ignores SIGKILL (stuck in the driver):
  // the destructor will not wait for it.
  void abandon() { m_reaped = true; }
  // Non-blocking wait; true once the child has exited (fills the status).
  bool reap();
  bool exited() const { return m_exited; }
  int exit_code() const { return m_exit_code; }
  int term_signal() const { return m_signal; }
  // The last ~2 KiB of stderr, one line.
  std::string stderr_tail() const;

 private:
  pid_t m_pid = -1;
  int m_out = -1, m_err = -1;
  std::string m_out_buf, m_err_buf;
  bool m_reaped = false, m_exited = false;
  int m_exit_code = -1, m_signal = 0;
};

// One running worker: its process, where its end is recorded, and what to do
// with each JSON line it prints.
struct WorkerSlot {
  std::string label;  // "GPU 3", "node"
  std::unique_ptr<Child> child;
  WorkerEnd* end = nullptr;
  std::function<void(const nlohmann::json&)> on_event;
  double last_output = 0;
  double deadline = 0;  // steady-clock seconds; killed after it
  bool killed = false;
  double killed_at = 0;
  bool interrupt_sent = false;
  double interrupt_at = 0;
  bool finished = false;
  std::string status;  // the last progress text, for the progress line
};

// Starts a slot's worker (records a start failure in its WorkerEnd).
void start_worker(WorkerSlot& slot, const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);

// Runs until every worker has exited or been given up on. A worker silent
// for stall_timeout_s is killed as hung; one past its deadline as timed out;
// on Ctrl-C each gets SIGINT and 20 s to report before SIGKILL; a killed
// worker stuck in the driver is abandoned after 15 s. Never throws.
void supervise_workers(std::vector<WorkerSlot>& slots, double stall_timeout_s);

}  // namespace aicloud::burnin
