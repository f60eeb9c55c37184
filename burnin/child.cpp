#include "burnin/child.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>

#include <cerrno>

#include "burnin/telemetry.hpp"
#include "common/interrupt.hpp"
#include "common/pipe_child.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"

namespace aicloud::burnin {

namespace {
constexpr double k_interrupt_grace_s = 20;  // after Ctrl-C, workers get this long to report
constexpr double k_kill_abandon_s = 15;     // a killed worker that does not exit is left behind after this
}  // namespace

Child::~Child() {
  if (m_pid > 0 && !m_reaped) {
    ::kill(-m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
  }
  if (m_out >= 0) ::close(m_out);
  if (m_err >= 0) ::close(m_err);
}

bool Child::start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  std::string* error) {
  PipeChild c = spawn_pipe_child(argv, env);
  if (!c.started()) {
    *error = c.error;
    return false;
  }
  ::close(c.in_fd);  // workers read nothing: their stdin is at end of file
  m_pid = c.pid;
  m_out = c.out_fd;
  m_err = c.err_fd;
  return true;
}

bool Child::drain(int fd, std::vector<std::string>* lines) {
  if (fd < 0) return false;
  bool is_out = fd == m_out;
  std::string& buf = is_out ? m_out_buf : m_err_buf;
  auto split_lines = [&] {
    std::size_t pos;
    while ((pos = buf.find('\n')) != std::string::npos) {
      if (lines) lines->push_back(buf.substr(0, pos));
      buf.erase(0, pos + 1);
    }
  };
  char tmp[65536];
  while (true) {
    ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n > 0) {
      buf.append(tmp, static_cast<std::size_t>(n));
      if (is_out)
        split_lines();
      else if (buf.size() > 65536)
        buf.erase(0, buf.size() - 16384);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    // EOF or a read error: this stream is done; an unterminated last line counts.
    ::close(fd);
    (is_out ? m_out : m_err) = -1;
    if (is_out && !buf.empty()) {
      if (lines) lines->push_back(buf);
      buf.clear();
    }
    return false;
  }
}

void Child::signal_group(int sig) {
  if (m_pid > 0 && !m_reaped) ::kill(-m_pid, sig);
}

bool Child::reap() {
  if (m_pid <= 0 || m_reaped) return true;
  if (!reap_child(m_pid, false, m_exit_code, m_signal)) return false;
  m_reaped = true;
  m_exited = m_signal == 0 && m_exit_code >= 0;
  return true;
}

std::string Child::stderr_tail() const {
  std::string s = m_err_buf.size() > 2048 ? m_err_buf.substr(m_err_buf.size() - 2048) : m_err_buf;
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return std::string(trim(s));
}

void supervise_workers(std::vector<WorkerSlot>& slots, double stall_timeout_s) {
  for (auto& s : slots) s.last_output = steady_seconds();
  while (true) {
    bool any = false;
    std::vector<pollfd> fds;
    std::vector<std::pair<WorkerSlot*, int>> owners;
    for (auto& s : slots) {
      if (s.finished) continue;
      any = true;
      for (int fd : {s.child->stdout_fd(), s.child->stderr_fd()}) {
        if (fd < 0) continue;
        fds.push_back({fd, POLLIN, 0});
        owners.push_back({&s, fd});
      }
    }
    if (!any) break;
    // The interrupt pipe stays readable once Ctrl-C came: poll it only until then.
    if (!interrupted()) fds.push_back({interrupt_fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 500);
    double now = steady_seconds();
    for (std::size_t i = 0; i < owners.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto [slot, fd] = owners[i];
      std::vector<std::string> lines;
      if (fd == slot->child->stderr_fd()) slot->last_output = now;  // a worker that talks on stderr is alive too
      slot->child->drain(fd, &lines);
      for (const auto& line : lines) {
        slot->last_output = now;
        if (trim(line).empty()) continue;
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line);
        } catch (const std::exception&) {
          continue;  // not protocol output (a library printing to stdout)
        }
        if (j.value("event", "") == "start") slot->end->last_test = j.value("test", "");
        if (slot->on_event) slot->on_event(j);
      }
    }
    std::string progress;
    for (auto& s : slots) {
      if (s.finished) continue;
      if (s.child->reap() && !s.child->outputs_open()) {
        s.finished = true;
        s.end->exited = s.child->exited();
        s.end->exit_code = s.child->exit_code();
        s.end->signal = s.child->term_signal();
        s.end->stderr_tail = s.child->stderr_tail();
        continue;
      }
      if (s.killed) {
        if (now - s.killed_at > k_kill_abandon_s) {
          // Stuck in the driver (D state): report it and stop waiting.
          s.finished = true;
          s.child->abandon();
          s.end->stderr_tail = s.child->stderr_tail() + " [the worker did not exit after SIGKILL]";
        }
        continue;
      }
      if (interrupted() && !s.interrupt_sent) {
        s.interrupt_sent = true;
        s.interrupt_at = now;
        s.end->interrupted = true;
        s.child->signal_group(SIGINT);
      }
      std::string why;
      if (s.interrupt_sent && now - s.interrupt_at > k_interrupt_grace_s) why = "interrupt grace";
      if (!s.interrupt_sent && now - s.last_output > stall_timeout_s) {
        s.end->hung = true;
        why = "stall";
      }
      if (!s.interrupt_sent && s.deadline > 0 && now > s.deadline) {
        s.end->timed_out = true;
        why = "deadline";
      }
      if (!why.empty()) {
        s.child->signal_group(SIGKILL);
        s.killed = true;
        s.killed_at = now;
      }
      if (!s.status.empty()) progress += (progress.empty() ? "" : " | ") + s.label + " " + s.status;
    }
    if (!progress.empty()) show_progress(progress);
  }
  clear_progress();
}

void start_worker(WorkerSlot& s, const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  s.child = std::make_unique<Child>();
  std::string err;
  if (!s.child->start(argv, env, &err)) {
    s.end->started = false;
    s.end->start_error = err;
    s.finished = true;
    return;
  }
  s.end->started = true;
}

}  // namespace aicloud::burnin
