#include "common/pipe_child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "common/process.hpp"  // find_program

extern char** environ;

namespace aicloud {

namespace {

void close_pair(int p[2]) {
  if (p[0] >= 0) ::close(p[0]);
  if (p[1] >= 0) ::close(p[1]);
}

}  // namespace

PipeChild spawn_pipe_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env,
                           const std::string& cwd) {
  PipeChild c;
  if (argv.empty()) {
    c.error = "empty command";
    return c;
  }
  std::string exe = find_program(argv[0]);
  if (exe.empty()) {
    c.error = argv[0] + ": not found";
    return c;
  }
  int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, exec_p[2] = {-1, -1};
  if (::pipe2(in_p, O_CLOEXEC) || ::pipe2(out_p, O_CLOEXEC) || ::pipe2(err_p, O_CLOEXEC) || ::pipe2(exec_p, O_CLOEXEC)) {
    c.error = std::string("pipe: ") + std::strerror(errno);
    for (int* p : {in_p, out_p, err_p, exec_p}) close_pair(p);
    return c;
  }
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos && extra_env.count(kv.substr(0, eq))) continue;
    env_store.push_back(std::move(kv));
  }
  for (const auto& [k, v] : extra_env) env_store.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    c.error = std::string("fork: ") + std::strerror(errno);
    for (int* p : {in_p, out_p, err_p, exec_p}) close_pair(p);
    return c;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in_p[0], 0);
    ::dup2(out_p[1], 1);
    ::dup2(err_p[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(exec_p[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execve(exe.c_str(), args.data(), envp.data());
    int e = errno;
    (void)!::write(exec_p[1], &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(in_p[0]);
  ::close(out_p[1]);
  ::close(err_p[1]);
  ::close(exec_p[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_p[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_p[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int code, sig;
    reap_child(pid, true, code, sig);
    ::close(in_p[1]);
    ::close(out_p[0]);
    ::close(err_p[0]);
    c.error = argv[0] + ": " + std::strerror(child_errno);
    return c;
  }
  for (int fd : {in_p[1], out_p[0], err_p[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  c.pid = pid;
  c.in_fd = in_p[1];
  c.out_fd = out_p[0];
  c.err_fd = err_p[0];
  return c;
}

bool read_available(int fd, std::string& buf) {
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

bool reap_child(pid_t pid, bool block, int& exit_code, int& signal) {
  exit_code = -1;
  signal = 0;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  if (r < 0) return true;  // not our child any more (already reaped)
  if (WIFEXITED(status)) exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) signal = WTERMSIG(status);
  return true;
}

void kill_child_group(pid_t pid, int sig) {
  if (pid > 0) ::kill(-pid, sig);
}

std::string self_executable() {
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlink("/proc/self/exe", buf, PATH_MAX);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

}  // namespace aicloud
