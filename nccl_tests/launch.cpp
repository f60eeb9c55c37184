#include "nccl_tests/launch.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/interrupt.hpp"
#include "common/pipe_child.hpp"

namespace aicloud::nccl_tests {

void drive_many(const std::vector<DriveTarget>& targets,
                const std::function<void(std::size_t, const Controller&)>& on_progress) {
  auto send_all = [](RankTransport& t, const std::vector<Outbound>& out) {
    for (const auto& o : out) t.send(o.rank, o.line);
  };
  for (const auto& x : targets) send_all(*x.transport, x.controller->begin());
  // One transport waits up to 200 ms per turn; several share that budget.
  const auto wait = std::chrono::milliseconds(std::max<long>(10, 200 / std::max<long>(1, static_cast<long>(targets.size()))));
  auto last_progress = Clock::now();
  for (;;) {
    bool all_finished = true;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      Controller& c = *targets[i].controller;
      RankTransport& t = *targets[i].transport;
      if (c.finished()) continue;
      all_finished = false;
      for (const auto& ev : t.poll(wait)) {
        const auto now = Clock::now();
        switch (ev.kind) {
          case RankEvent::line:
            send_all(t, c.on_line(ev.rank, ev.text, now));
            break;
          case RankEvent::stderr_line:
            c.on_stderr(ev.rank, ev.text);
            break;
          case RankEvent::exited:
            send_all(t, c.on_exit(ev.rank, ev.exit_code, ev.signal, now));
            break;
        }
      }
      const auto now = Clock::now();
      if (interrupted() && !c.interrupted()) send_all(t, c.abort_all("interrupted (Ctrl-C)", "interrupted", now));
      send_all(t, c.on_tick(now));
      for (int r : c.ranks_to_kill(now)) {
        t.kill(r);
        c.mark_killed(r);
      }
    }
    if (all_finished) return;
    const auto now = Clock::now();
    if (on_progress && now - last_progress >= std::chrono::seconds(1)) {
      for (std::size_t i = 0; i < targets.size(); ++i) on_progress(i, *targets[i].controller);
      last_progress = now;
    }
  }
}

void drive(Controller& c, RankTransport& t, const std::function<void(const Controller&)>& on_progress) {
  std::function<void(std::size_t, const Controller&)> each;
  if (on_progress) each = [&on_progress](std::size_t, const Controller& ctl) { on_progress(ctl); };
  drive_many({{&c, &t}}, each);
}

LocalTransport::LocalTransport(int nranks, const std::vector<std::string>& argv,
                               const std::map<std::string, std::string>& env) {
  m_children.resize(static_cast<std::size_t>(nranks));
  for (auto& ch : m_children) {
    ch.proc = spawn_pipe_child(argv, env);
    if (!ch.proc.started()) {
      ch.start_error = ch.proc.error;
      continue;
    }
    ch.out_open = ch.err_open = true;
  }
}

LocalTransport::~LocalTransport() {
  for (std::size_t i = 0; i < m_children.size(); ++i) {
    auto& ch = m_children[i];
    if (ch.proc.started() && !ch.reaped) {
      kill_child_group(ch.proc.pid, SIGKILL);
      int code, sig;
      reap_child(ch.proc.pid, true, code, sig);
    }
    for (int fd : {ch.proc.in_fd, ch.proc.out_fd, ch.proc.err_fd})
      if (fd >= 0) ::close(fd);
  }
}

void LocalTransport::send(int rank, const std::string& line) {
  if (rank < 0 || rank >= static_cast<int>(m_children.size())) return;
  auto& ch = m_children[static_cast<std::size_t>(rank)];
  if (ch.proc.in_fd < 0) return;
  ch.pending_in += line;
  ch.pending_in += '\n';
  flush_input(ch);
}

void LocalTransport::flush_input(Child& ch) {
  while (!ch.pending_in.empty() && ch.proc.in_fd >= 0) {
    ssize_t w = ::write(ch.proc.in_fd, ch.pending_in.data(), ch.pending_in.size());
    if (w > 0) {
      ch.pending_in.erase(0, static_cast<std::size_t>(w));
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      return;  // the pipe is full; poll() flushes the rest when it drains
    } else {
      ::close(ch.proc.in_fd);  // the worker is gone (EPIPE)
      ch.proc.in_fd = -1;
      ch.pending_in.clear();
    }
  }
}

void LocalTransport::drain(Child& ch, int rank, bool is_err, std::vector<RankEvent>& events) {
  int& fd = is_err ? ch.proc.err_fd : ch.proc.out_fd;
  bool& open = is_err ? ch.err_open : ch.out_open;
  std::string& buf = is_err ? ch.err_buf : ch.out_buf;
  if (!read_available(fd, buf)) {
    open = false;  // EOF or error
    ::close(fd);
    fd = -1;
  }
  std::size_t nl;
  while ((nl = buf.find('\n')) != std::string::npos) {
    events.push_back({is_err ? RankEvent::stderr_line : RankEvent::line, rank, buf.substr(0, nl)});
    buf.erase(0, nl + 1);
  }
  if (!open && !buf.empty()) {
    events.push_back({is_err ? RankEvent::stderr_line : RankEvent::line, rank, buf});
    buf.clear();
  }
}

std::vector<RankEvent> LocalTransport::poll(std::chrono::milliseconds max_wait) {
  std::vector<RankEvent> events;
  std::vector<pollfd> fds;
  std::vector<std::pair<int, int>> owner;  // rank, 0 out / 1 err / 2 in
  for (std::size_t i = 0; i < m_children.size(); ++i) {
    auto& ch = m_children[i];
    if (!ch.start_error.empty()) {
      // A rank that could not be started is reported once, as an exit.
      events.push_back({RankEvent::stderr_line, static_cast<int>(i), ch.start_error});
      events.push_back({RankEvent::exited, static_cast<int>(i), "", 127, 0});
      ch.start_error.clear();
      ch.reaped = true;
      continue;
    }
    if (ch.out_open) {
      fds.push_back({ch.proc.out_fd, POLLIN, 0});
      owner.emplace_back(static_cast<int>(i), 0);
    }
    if (ch.err_open) {
      fds.push_back({ch.proc.err_fd, POLLIN, 0});
      owner.emplace_back(static_cast<int>(i), 1);
    }
    if (!ch.pending_in.empty() && ch.proc.in_fd >= 0) {
      fds.push_back({ch.proc.in_fd, POLLOUT, 0});
      owner.emplace_back(static_cast<int>(i), 2);
    }
  }
  const int ifd = interrupted() ? -1 : interrupt_fd();  // once set, drive() has seen it
  if (ifd >= 0) {
    fds.push_back({ifd, POLLIN, 0});
    owner.emplace_back(-1, 3);
  }
  if (!events.empty()) max_wait = std::chrono::milliseconds(0);
  int rc = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), static_cast<int>(max_wait.count()));
  if (rc > 0) {
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      auto [rank, what] = owner[k];
      if (rank < 0) continue;
      auto& ch = m_children[static_cast<std::size_t>(rank)];
      if (what == 2) flush_input(ch);
      else drain(ch, rank, what == 1, events);
    }
  }
  // Ranks whose outputs are closed: collect their exit status.
  for (std::size_t i = 0; i < m_children.size(); ++i) {
    auto& ch = m_children[i];
    if (ch.reaped || !ch.proc.started() || ch.out_open || ch.err_open) continue;
    int code, sig;
    if (reap_child(ch.proc.pid, false, code, sig)) {
      ch.reaped = true;
      if (ch.proc.in_fd >= 0) {
        ::close(ch.proc.in_fd);
        ch.proc.in_fd = -1;
      }
      events.push_back({RankEvent::exited, static_cast<int>(i), "", code, sig});
    }
  }
  return events;
}

void LocalTransport::kill(int rank) {
  if (rank < 0 || rank >= static_cast<int>(m_children.size())) return;
  auto& ch = m_children[static_cast<std::size_t>(rank)];
  if (ch.proc.started() && !ch.reaped) kill_child_group(ch.proc.pid, SIGKILL);
}

}  // namespace aicloud::nccl_tests
