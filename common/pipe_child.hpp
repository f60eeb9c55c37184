// A child process whose stdin, stdout and stderr are pipes held by the
// caller, for programs that talk to their children line by line while they
// run; run_process (process.hpp) is built on it and waits for the end. The child runs
// in its own process group so that it and everything it started can be
// killed together.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace aicloud {

struct PipeChild {
  pid_t pid = -1;
  int in_fd = -1;   // write end of the child's stdin (non-blocking, close-on-exec)
  int out_fd = -1;  // read end of its stdout (non-blocking, close-on-exec)
  int err_fd = -1;  // read end of its stderr (non-blocking, close-on-exec)
  std::string error;  // why it did not start; pid is -1 then
  bool started() const { return pid > 0; }
};

// Starts argv[0] (searched in PATH unless it contains '/') with the
// inherited environment plus extra_env, in `cwd` when not empty. A program
// that is missing or cannot be executed (or a cwd that cannot be entered)
// is reported in `error`, never as a started child.
PipeChild spawn_pipe_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env = {},
                           const std::string& cwd = "");

// Collects the child's exit status; with block=false returns false while it
// still runs. exit_code is set when it exited, signal when a signal killed it.
bool reap_child(pid_t pid, bool block, int& exit_code, int& signal);

// Appends everything a non-blocking descriptor (a pipe or a socket) holds
// now to `buf`. Returns true when it would block (more may come later),
// false at end of file or on a read error; closing it is the caller's.
bool read_available(int fd, std::string& buf);

// Sends `sig` to the child's process group.
void kill_child_group(pid_t pid, int sig);

// This program's own executable (/proc/self/exe), to start copies of itself.
std::string self_executable();

}  // namespace aicloud
