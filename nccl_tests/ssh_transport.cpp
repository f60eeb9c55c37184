#include "nccl_tests/ssh_transport.hpp"

#include <csignal>

#include "common/duration.hpp"

namespace aicloud::nccl_tests {

int signal_number(const std::string& name) {
  static const std::pair<const char*, int> k_names[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"ABRT", SIGABRT},
      {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"SEGV", SIGSEGV}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"BUS", SIGBUS}};
  for (const auto& [n, v] : k_names)
    if (name == n) return v;
  return 0;
}

SshTransport::SshTransport(const std::vector<Rank>& ranks) {
  for (const auto& r : ranks) {
    auto c = std::make_unique<Channel>();
    fleet::ExecOptions eo;
    eo.close_stdin = false;                 // the protocol keeps stdin open
    eo.max_output_bytes = 1u << 20;         // lines are taken from on_output; keep little
    Channel* raw = c.get();
    eo.on_output = [raw](std::string_view chunk, bool is_stderr) {
      (is_stderr ? raw->err_buf : raw->out_buf).append(chunk);
    };
    if (r.session) c->cmd = r.session->start(r.command, eo);
    m_channels.push_back(std::move(c));
  }
}

SshTransport::~SshTransport() {
  // Destroying a running command stops it (TERM, EOF, close).
  for (auto& c : m_channels)
    if (c->cmd && c->cmd->running()) c->cmd->stop(fleet::Status::interrupted, "the launcher ended");
}

void SshTransport::send(int rank, const std::string& line) {
  if (rank < 0 || rank >= static_cast<int>(m_channels.size())) return;
  auto& c = *m_channels[static_cast<std::size_t>(rank)];
  if (c.cmd && c.cmd->running()) c.cmd->write_stdin(line + "\n");
}

void SshTransport::take_output(Channel& c, int rank, std::vector<RankEvent>& events, bool flush) {
  for (bool err : {false, true}) {
    std::string& buf = err ? c.err_buf : c.out_buf;
    std::size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      events.push_back({err ? RankEvent::stderr_line : RankEvent::line, rank, buf.substr(0, nl)});
      buf.erase(0, nl + 1);
    }
    if (flush && !buf.empty()) {
      events.push_back({err ? RankEvent::stderr_line : RankEvent::line, rank, buf});
      buf.clear();
    }
  }
}

std::vector<RankEvent> SshTransport::poll(std::chrono::milliseconds max_wait) {
  std::vector<RankEvent> events;
  std::vector<fleet::RemoteCommand*> running;
  bool ended = false;
  for (auto& c : m_channels)
    if (c->cmd && c->cmd->running()) running.push_back(c->cmd.get());
    else if (!c->reported) ended = true;
  if (!running.empty())
    fleet::poll_commands(running, ended ? Seconds(0) : std::chrono::duration_cast<Seconds>(max_wait));
  for (std::size_t i = 0; i < m_channels.size(); ++i) {
    auto& c = *m_channels[i];
    const int rank = static_cast<int>(i);
    if (c.reported) continue;
    const bool over = !c.cmd || !c.cmd->running();
    take_output(c, rank, events, over);
    if (!over) continue;
    c.reported = true;
    RankEvent ev{RankEvent::exited, rank, "", 255, 0};
    if (!c.cmd) {
      c.status = fleet::Status::unreachable;
      c.error = "no SSH session to the node";
    } else {
      const fleet::ExecResult& r = c.cmd->result();
      c.status = r.status;
      c.error = r.error;
      if (r.status == fleet::Status::ok || r.status == fleet::Status::failed) {
        ev.exit_code = r.exit_code.value_or(255);
      } else if (r.status == fleet::Status::signal && r.signal != "unknown") {
        ev.exit_code = -1;
        ev.signal = signal_number(r.signal);
        if (!ev.signal) events.push_back({RankEvent::stderr_line, rank, "ssh: " + r.error});
      } else if (c.killed) {
        ev.exit_code = -1;
        ev.signal = SIGKILL;
      } else {
        // Connection lost, channel closed without a status, Ctrl-C.
        events.push_back({RankEvent::stderr_line, rank, "ssh: " + (r.error.empty() ? std::string("channel closed") : r.error)});
      }
    }
    events.push_back(ev);
  }
  return events;
}

void SshTransport::kill(int rank) {
  if (rank < 0 || rank >= static_cast<int>(m_channels.size())) return;
  auto& c = *m_channels[static_cast<std::size_t>(rank)];
  if (!c.cmd || !c.cmd->running()) return;
  c.killed = true;
  c.cmd->send_signal("KILL");
  c.cmd->stop(fleet::Status::interrupted, "killed by the launcher");
}

fleet::Status SshTransport::end_status(int rank) const { return m_channels[static_cast<std::size_t>(rank)]->status; }
const std::string& SshTransport::end_error(int rank) const { return m_channels[static_cast<std::size_t>(rank)]->error; }

}  // namespace aicloud::nccl_tests
