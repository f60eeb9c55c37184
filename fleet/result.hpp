// Per-host results of a fleet run and the shapes other commands reuse: the
// status vocabulary, the JSON object of one host, the summary counts and the
// exit code (docs/exit-codes.md). Pure; unit-tested.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::fleet {

enum class Status {
  ok,           // the command ran and exited 0
  failed,       // it exited non-zero (or a step failed)
  unreachable,  // refused, connect timeout, no banner, host key, auth, jump, connection lost
  timeout,      // the command ran past --timeout and was stopped
  signal,       // the command died by a signal, or no exit status came back
  interrupted,  // stopped by Ctrl-C while it ran
  skipped,      // never started (Ctrl-C or --max-fail before its turn)
};

std::string_view to_string(Status s);
// For exit codes: failed, timeout and signal count as failures (1);
// unreachable as unreachable (4).
bool counts_as_failure(Status s);
bool counts_as_unreachable(Status s);

struct HostResult {
  std::string host;              // inventory name
  std::string address;
  Status status = Status::skipped;
  std::optional<int> exit_code;  // absent when the command did not exit normally
  std::string signal;            // "TERM", "KILL", "unknown" (no exit status came back)
  std::string stdout_text;
  std::string stderr_text;
  bool output_truncated = false;
  double duration_s = 0;
  std::string host_key_sha256;   // "SHA256:..." of the key the host presented
  std::string error;             // why it is not ok, in words; empty when ok
  // The same without host-specific detail (fingerprints, addresses), so
  // that folding groups hosts that failed alike; empty: use error. Not in JSON.
  std::string reason;
};

// {"host","address","status","exit_code"(null),"signal"(null),"stdout",
//  "stderr","duration_s","host_key_sha256"(null),"error"(null)} and
// "output_truncated" only when true.
nlohmann::json to_json(const HostResult& r);

struct Summary {
  std::size_t total = 0, ok = 0, failed = 0, unreachable = 0, timeout = 0, signal = 0, interrupted = 0, skipped = 0;
  double duration_s = 0;
  bool interrupted_run = false;   // Ctrl-C ended the run
  bool max_fail_hit = false;      // --max-fail stopped starting hosts

  std::size_t count(Status s) const;
};

Summary summarize(const std::vector<HostResult>& results);
nlohmann::json to_json(const Summary& s);
// 0, 1, 4, 5 or 130 (docs/exit-codes.md).
int exit_code(const Summary& s);
// "128 hosts: 120 ok, 3 failed, 2 unreachable, 1 timeout in 2.3s"
std::string summary_line(const Summary& s);

// JSON text that never throws on bytes that are not UTF-8 (remote output
// often is not): invalid sequences become U+FFFD.
std::string dump_json(const nlohmann::json& j, int indent = 2);

}  // namespace aicloud::fleet
