// The rank transport for `--launcher mpirun|srun`: the launcher (a local
// subprocess: mpirun or srun with the line of external_launch.hpp) starts
// `aicloudctl nccl --worker --connect HOST:PORT --token T` on the nodes,
// and each worker connects back here over TCP. mpirun and srun forward
// stdin to one rank only, so the protocol cannot ride on stdin/stdout as it
// does over SSH.
//
// A worker's first line is `attach {token, rank, host}` (rank from
// OMPI_COMM_WORLD_RANK, PMIX_RANK, SLURM_PROCID or PMI_RANK); a wrong token,
// an unknown or already attached rank closes the connection. Lines for
// ranks not attached yet are queued. A rank's exit is the end of its
// connection; when the launcher process ends, ranks that never attached
// exit with its status and its last stderr line as evidence. kill() closes
// the rank's connection (the worker aborts on the end of its input) and
// sends SIGTERM to the launcher's process group.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/pipe_child.hpp"
#include "nccl_tests/launch.hpp"

namespace aicloud::nccl_tests {

class TcpTransport : public RankTransport {
 public:
  // Listens on every address (IPv4), on `port` (0: any free port). Throws
  // Error when it cannot listen.
  TcpTransport(int nranks, std::string token, int port = 0);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  int port() const { return m_port; }
  // Starts the launcher (stdin closed, stdout/stderr kept as evidence).
  // Returns false with `error` when it cannot be started.
  bool start_launcher(const std::vector<std::string>& argv, std::string& error);

  void send(int rank, const std::string& line) override;
  std::vector<RankEvent> poll(std::chrono::milliseconds max_wait) override;
  void kill(int rank) override;

 private:
  struct Conn {
    int fd = -1;
    std::string in;  // bytes read, not yet a line
  };
  struct Rank {
    int fd = -1;
    std::string in, out;
    bool attached = false, exited = false, saw_done = false, kill_requested = false;
  };
  void accept_new();
  void read_pending(std::size_t i, std::vector<RankEvent>& events);
  void read_rank(int rank, std::vector<RankEvent>& events);
  void flush(Rank& r);
  void end_rank(int rank, std::vector<RankEvent>& events, int code, const std::string& why);
  void drain_launcher(std::vector<RankEvent>& events);

  std::string m_token;
  int m_listen = -1;
  int m_port = 0;
  std::vector<Rank> m_ranks;
  std::vector<Conn> m_pending;
  PipeChild m_launcher;
  bool m_launcher_done = false;
  bool m_launcher_signalled = false;
  std::string m_launcher_err, m_launcher_last;
};

// Worker side: connects to HOST:PORT, attaches with `token` and the rank
// from the launcher's environment, then runs the protocol on the socket.
// Returns the worker's exit code (2 when it cannot connect or find its rank).
int run_worker_connect(const std::string& host_port, const std::string& token);

// The rank the launcher gave this process: OMPI_COMM_WORLD_RANK, PMIX_RANK,
// SLURM_PROCID or PMI_RANK (first set wins); -1 when none is set.
int launcher_rank();

}  // namespace aicloud::nccl_tests
