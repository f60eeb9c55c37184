#include "common/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "common/pipe_child.hpp"  // the spawn itself

extern char** environ;

namespace aicloud {

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  for (const auto& dir : split(p, ':', false)) {
    std::string full = dir + "/" + name;
    struct stat st {};
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult r;
  auto t0 = std::chrono::steady_clock::now();
  PipeChild child = spawn_pipe_child(argv, options.extra_env, options.cwd);
  if (!child.started()) {
    r.error = child.error;
    return r;
  }
  r.started = true;
  const pid_t pid = child.pid;

  // Feed stdin and drain both outputs without blocking on either.
  std::size_t in_off = 0;
  int in_fd = child.in_fd;
  if (options.stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int fds[2] = {child.out_fd, child.err_fd};
  std::string* sinks[2] = {&r.stdout_text, &r.stderr_text};
  auto deadline = options.timeout ? std::optional(t0 + *options.timeout) : std::nullopt;
  char buf[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[3];
    int n = 0, idx[3];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        p[n] = {fds[i], POLLIN, 0};
        idx[n++] = i;
      }
    if (in_fd >= 0) {
      p[n] = {in_fd, POLLOUT, 0};
      idx[n++] = 2;
    }
    int wait_ms = -1;
    if (options.stop_on_interrupt && !r.interrupted && interrupted()) {
      r.interrupted = true;
      ::kill(-pid, SIGTERM);
      auto grace = std::chrono::steady_clock::now() + options.interrupt_grace;
      if (!deadline || grace < *deadline) deadline = grace;
    }
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        if (!r.interrupted) r.timed_out = true;
        ::kill(-pid, SIGKILL);
        break;
      }
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
    }
    if (options.stop_on_interrupt && !r.interrupted) wait_ms = wait_ms < 0 ? 200 : std::min(wait_ms, 200);
    int rc = ::poll(p, static_cast<nfds_t>(n), wait_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < n; ++k) {
      if (!p[k].revents) continue;
      if (idx[k] == 2) {
        ssize_t w = ::write(in_fd, options.stdin_data.data() + in_off, options.stdin_data.size() - in_off);
        if (w > 0) in_off += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) in_off = options.stdin_data.size();
        if (in_off >= options.stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      int i = idx[k];
      ssize_t got = ::read(fds[i], buf, sizeof buf);
      if (got > 0) {
        std::size_t room = options.max_output_bytes > sinks[i]->size() ? options.max_output_bytes - sinks[i]->size() : 0;
        sinks[i]->append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  for (int i = 0; i < 2; ++i)
    if (fds[i] >= 0) ::close(fds[i]);
  if (in_fd >= 0) ::close(in_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace aicloud
