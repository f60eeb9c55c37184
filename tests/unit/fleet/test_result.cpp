// Result JSON shape, summaries, exit codes, JSON text with bytes that are
// not UTF-8.
#include <doctest/doctest.h>

#include "common/exit_codes.hpp"
#include "fleet/result.hpp"

using namespace aicloud;
using namespace aicloud::fleet;

namespace {
HostResult make(const std::string& host, Status st) {
  HostResult r;
  r.host = host;
  r.address = "10.0.0.1";
  r.status = st;
  return r;
}
}  // namespace

TEST_CASE("a host result has every documented key, with nulls where nothing applies") {
  HostResult r = make("n1", Status::signal);
  r.signal = "TERM";
  r.stdout_text = "out";
  r.duration_s = 1.23456;
  auto j = to_json(r);
  for (const char* k : {"host", "address", "status", "exit_code", "signal", "stdout", "stderr", "duration_s",
                        "host_key_sha256", "error"})
    CHECK(j.contains(k));
  CHECK(j["status"] == "signal");
  CHECK(j["exit_code"].is_null());
  CHECK(j["signal"] == "TERM");
  CHECK(j["host_key_sha256"].is_null());
  CHECK(j["duration_s"].get<double>() == doctest::Approx(1.235));
  CHECK_FALSE(j.contains("output_truncated"));
  r.exit_code = 0;
  r.status = Status::ok;
  r.signal.clear();
  r.output_truncated = true;
  j = to_json(r);
  CHECK(j["exit_code"] == 0);
  CHECK(j["signal"].is_null());
  CHECK(j["output_truncated"] == true);
}

TEST_CASE("exit codes: 0, 1 for failed/timeout/signal, 4 for unreachable, 5 for both, 130 for Ctrl-C") {
  auto code = [](std::vector<Status> sts, bool interrupted = false) {
    std::vector<HostResult> rs;
    for (auto s : sts) rs.push_back(make("h", s));
    Summary s = summarize(rs);
    s.interrupted_run = interrupted;
    return exit_code(s);
  };
  CHECK(code({Status::ok, Status::ok}) == 0);
  CHECK(code({Status::ok, Status::failed}) == 1);
  CHECK(code({Status::timeout}) == 1);
  CHECK(code({Status::signal}) == 1);
  CHECK(code({Status::unreachable, Status::ok}) == 4);
  CHECK(code({Status::unreachable, Status::signal}) == 5);
  CHECK(code({Status::ok, Status::skipped}) == 0);  // --max-fail skips do not change the code
  CHECK(code({Status::ok, Status::interrupted}) == k_exit_interrupted);
  CHECK(code({Status::ok}, true) == k_exit_interrupted);
}

TEST_CASE("summary counts and line") {
  std::vector<HostResult> rs{make("a", Status::ok), make("b", Status::ok), make("c", Status::unreachable),
                             make("d", Status::timeout)};
  Summary s = summarize(rs);
  s.duration_s = 2.34;
  CHECK(s.total == 4);
  CHECK(s.ok == 2);
  CHECK(s.count(Status::unreachable) == 1);
  CHECK(summary_line(s) == "4 hosts: 2 ok, 1 unreachable, 1 timeout in 2.3s");
  auto j = to_json(s);
  CHECK(j["exit_code"] == 5);
  CHECK(j["timeout"] == 1);
}

TEST_CASE("JSON text survives output that is not UTF-8") {
  HostResult r = make("n1", Status::ok);
  r.stdout_text = std::string("ok \xff\xfe binary\n");
  std::string text;
  CHECK_NOTHROW(text = dump_json(to_json(r)));
  CHECK(text.find("\\ufffd") == std::string::npos);  // replaced by the character itself
  CHECK(nlohmann::json::parse(text)["stdout"].get<std::string>().find("binary") != std::string::npos);
}
