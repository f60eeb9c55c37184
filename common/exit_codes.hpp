// Exit codes of every aicloudctl command, documented in docs/exit-codes.md
// and in `aicloudctl --help`. They are bits where that makes sense: a run in
// which some host failed (1) and some host was unreachable (4) exits 5.
#pragma once

namespace aicloud {

enum ExitCode : int {
  k_exit_ok = 0,           // every host and check succeeded (verdict PASS)
  k_exit_failed = 1,       // some host or check failed, or the verdict is FAIL
  k_exit_invalid = 2,      // invalid invocation or input; nothing was run
  k_exit_unreachable = 4,  // some host unreachable (refused, timeout, auth, host key)
  k_exit_interrupted = 130 // interrupted by SIGINT (Ctrl-C)
};

// Combines the outcome of a fleet run into one exit code: failed and
// unreachable OR together (1|4 = 5); interruption wins over both.
constexpr int combine_exit(bool any_failed, bool any_unreachable, bool interrupted = false) {
  if (interrupted) return k_exit_interrupted;
  return (any_failed ? k_exit_failed : 0) | (any_unreachable ? k_exit_unreachable : 0);
}

}  // namespace aicloud
