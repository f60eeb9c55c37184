// Running the Controller over a transport. A transport moves protocol
// lines to and from each rank's worker and says when a worker has ended;
// drive() does the rest (deadlines, aborts, kills, Ctrl-C). LocalTransport
// runs each rank as a child process of this binary (`aicloudctl nccl
// --worker`) with pipes; the SSH launcher implements the same interface
// over exec channels, one per rank.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/pipe_child.hpp"
#include "nccl_tests/controller.hpp"

namespace aicloud::nccl_tests {

struct RankEvent {
  enum Kind { line, stderr_line, exited };
  Kind kind = line;
  int rank = 0;
  std::string text;  // the line, without its newline
  int exit_code = -1;
  int signal = 0;
};

class RankTransport {
 public:
  virtual ~RankTransport() = default;
  // Queues one line (a newline is appended) for the rank's worker.
  virtual void send(int rank, const std::string& line) = 0;
  // Waits up to max_wait for lines or exits; returns what happened (possibly
  // nothing). Must return early when common/interrupt.hpp's flag is set.
  virtual std::vector<RankEvent> poll(std::chrono::milliseconds max_wait) = 0;
  // Ends the rank's worker at once (SIGKILL, closing the channel).
  virtual void kill(int rank) = 0;
};

// Runs `c` over `t` until every rank has exited. `on_progress` (may be
// empty) is called about every second with the controller, for a progress
// line. Returns when Controller::finished().
void drive(Controller& c, RankTransport& t, const std::function<void(const Controller&)>& on_progress = {});

// Several independent launches at once (the groups of one localisation
// round): each controller over its own transport, until all have finished.
// Ctrl-C aborts every one of them.
struct DriveTarget {
  Controller* controller = nullptr;
  RankTransport* transport = nullptr;
};
void drive_many(const std::vector<DriveTarget>& targets,
                const std::function<void(std::size_t, const Controller&)>& on_progress = {});

// One local child process per rank, each started from `argv` (usually
// {self_executable(), "nccl", "--worker"}) with `env` added.
class LocalTransport : public RankTransport {
 public:
  LocalTransport(int nranks, const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~LocalTransport() override;
  void send(int rank, const std::string& line) override;
  std::vector<RankEvent> poll(std::chrono::milliseconds max_wait) override;
  void kill(int rank) override;

 private:
  struct Child {
    PipeChild proc;
    std::string out_buf, err_buf, pending_in;
    bool out_open = false, err_open = false, reaped = false;
    std::string start_error;
  };
  void flush_input(Child& c);
  void drain(Child& c, int rank, bool is_err, std::vector<RankEvent>& events);
  std::vector<Child> m_children;
};

}  // namespace aicloud::nccl_tests
