// The rank transport over SSH: one exec channel per rank on the node's
// persistent fleet::Session, running `<remote aicloudctl> nccl --worker`.
// Protocol lines go down the channel's stdin and come back on its stdout;
// the worker's stderr is kept as evidence; the channel's end is the rank's
// exit. Ranks on one node share that node's session (libssh multiplexes the
// channels), and every session is driven from the calling thread with
// fleet::poll_commands, so drive() and the Controller run unchanged.
//
// kill() sends KILL and closes the channel; the worker also aborts on the
// end of its input, so a rank whose controller went away never lingers. A
// channel that ends without an exit status (the connection was lost, sshd
// died) is reported as exit 255 with the reason on the rank's stderr, the
// way the ssh client reports its own failures.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fleet/session.hpp"
#include "nccl_tests/launch.hpp"

namespace aicloud::nccl_tests {

class SshTransport : public RankTransport {
 public:
  struct Rank {
    fleet::Session* session = nullptr;  // the node's connected session (not owned)
    std::string command;                // the remote command line
  };
  // Starts every rank's command at once (a rank whose channel cannot be
  // opened is reported by the first poll() as an exit with the reason).
  explicit SshTransport(const std::vector<Rank>& ranks);
  ~SshTransport() override;
  SshTransport(const SshTransport&) = delete;
  SshTransport& operator=(const SshTransport&) = delete;

  void send(int rank, const std::string& line) override;
  std::vector<RankEvent> poll(std::chrono::milliseconds max_wait) override;
  void kill(int rank) override;

  // How the rank's channel ended (valid once its exit was reported):
  // fleet::Status::unreachable means the connection to its node was lost.
  fleet::Status end_status(int rank) const;
  const std::string& end_error(int rank) const;

 private:
  struct Channel {
    std::unique_ptr<fleet::RemoteCommand> cmd;
    std::string out_buf, err_buf;
    std::string pending;  // lines sent before the command polled
    bool reported = false;
    bool killed = false;
    fleet::Status status = fleet::Status::ok;
    std::string error;
  };
  void take_output(Channel& c, int rank, std::vector<RankEvent>& events, bool flush);
  std::vector<std::unique_ptr<Channel>> m_channels;
};

// SIGTERM = 15 for "TERM", ...; 0 for names we do not know.
int signal_number(const std::string& name);

}  // namespace aicloud::nccl_tests
