// Runs a local program (no shell) with its output captured and a deadline.
// Used for node-local facts (dmesg, journalctl, lspci), tests and benchmarks.
// A program that is not found, times out or dies by a signal is reported as
// such in the result; it never looks like success.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aicloud {

struct ProcessOptions {
  std::string stdin_data;
  std::optional<std::chrono::milliseconds> timeout;   // kill the process group after this
  std::map<std::string, std::string> extra_env;        // added to the inherited environment
  std::string cwd;
  std::size_t max_output_bytes = 64u << 20;            // per stream; the rest is dropped
  // On Ctrl-C (common/interrupt.hpp) send SIGTERM to the process group,
  // then SIGKILL after `interrupt_grace`; the result says `interrupted`.
  // The child runs in its own process group, so without this a long child
  // (a burn-in) would outlive the user's Ctrl-C.
  bool stop_on_interrupt = false;
  std::chrono::milliseconds interrupt_grace{5000};
};

struct ProcessResult {
  bool started = false;      // false: fork/exec failed, see error
  int exit_code = -1;        // valid when exited
  bool exited = false;
  int signal = 0;            // non-zero when killed by a signal
  bool timed_out = false;
  bool interrupted = false;  // stopped because of Ctrl-C (stop_on_interrupt)
  std::string stdout_text;
  std::string stderr_text;
  std::string error;         // why it did not start, e.g. "dmesg: not found"
  double duration_s = 0;

  bool ok() const { return started && exited && exit_code == 0 && !timed_out && !interrupted; }
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Finds an executable on PATH; empty when not found.
std::string find_program(const std::string& name);

}  // namespace aicloud
