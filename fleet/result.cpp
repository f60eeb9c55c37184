// Result vocabulary, JSON shapes, summaries and exit codes. See result.hpp.
#include "fleet/result.hpp"

#include <fmt/format.h>

#include <cmath>

#include "common/exit_codes.hpp"

namespace aicloud::fleet {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::failed: return "failed";
    case Status::unreachable: return "unreachable";
    case Status::timeout: return "timeout";
    case Status::signal: return "signal";
    case Status::interrupted: return "interrupted";
    case Status::skipped: return "skipped";
  }
  return "failed";
}

bool counts_as_failure(Status s) { return s == Status::failed || s == Status::timeout || s == Status::signal; }
bool counts_as_unreachable(Status s) { return s == Status::unreachable; }

nlohmann::json to_json(const HostResult& r) {
  using nlohmann::json;
  json j = json::object();
  j["host"] = r.host;
  j["address"] = r.address;
  j["status"] = to_string(r.status);
  j["exit_code"] = r.exit_code ? json(*r.exit_code) : json(nullptr);
  j["signal"] = r.signal.empty() ? json(nullptr) : json(r.signal);
  j["stdout"] = r.stdout_text;
  j["stderr"] = r.stderr_text;
  j["duration_s"] = std::round(r.duration_s * 1000.0) / 1000.0;
  j["host_key_sha256"] = r.host_key_sha256.empty() ? json(nullptr) : json(r.host_key_sha256);
  j["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  if (r.output_truncated) j["output_truncated"] = true;
  return j;
}

std::size_t Summary::count(Status s) const {
  switch (s) {
    case Status::ok: return ok;
    case Status::failed: return failed;
    case Status::unreachable: return unreachable;
    case Status::timeout: return timeout;
    case Status::signal: return signal;
    case Status::interrupted: return interrupted;
    case Status::skipped: return skipped;
  }
  return 0;
}

Summary summarize(const std::vector<HostResult>& results) {
  Summary s;
  s.total = results.size();
  for (const auto& r : results) {
    switch (r.status) {
      case Status::ok: ++s.ok; break;
      case Status::failed: ++s.failed; break;
      case Status::unreachable: ++s.unreachable; break;
      case Status::timeout: ++s.timeout; break;
      case Status::signal: ++s.signal; break;
      case Status::interrupted: ++s.interrupted; break;
      case Status::skipped: ++s.skipped; break;
    }
  }
  return s;
}

nlohmann::json to_json(const Summary& s) {
  return {{"total", s.total},
          {"ok", s.ok},
          {"failed", s.failed},
          {"unreachable", s.unreachable},
          {"timeout", s.timeout},
          {"signal", s.signal},
          {"interrupted", s.interrupted},
          {"skipped", s.skipped},
          {"duration_s", std::round(s.duration_s * 1000.0) / 1000.0},
          {"interrupted_run", s.interrupted_run},
          {"max_fail_hit", s.max_fail_hit},
          {"exit_code", exit_code(s)}};
}

int exit_code(const Summary& s) {
  bool failed = s.failed + s.timeout + s.signal > 0;
  bool unreachable = s.unreachable > 0;
  return combine_exit(failed, unreachable, s.interrupted_run || s.interrupted > 0);
}

std::string summary_line(const Summary& s) {
  std::string out = fmt::format("{} host{}:", s.total, s.total == 1 ? "" : "s");
  std::vector<std::string> parts;
  for (Status st : {Status::ok, Status::failed, Status::unreachable, Status::timeout, Status::signal,
                    Status::interrupted, Status::skipped}) {
    std::size_t n = s.count(st);
    if (n || st == Status::ok) parts.push_back(fmt::format("{} {}", n, to_string(st)));
  }
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : " ") + parts[i];
  out += fmt::format(" in {:.1f}s", s.duration_s);
  if (s.max_fail_hit) out += " (stopped by --max-fail)";
  if (s.interrupted_run) out += " (interrupted)";
  return out;
}

std::string dump_json(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace aicloud::fleet
