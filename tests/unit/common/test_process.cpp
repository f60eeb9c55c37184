#include <doctest/doctest.h>
#include <signal.h>

#include "common/process.hpp"

using namespace aicloud;

TEST_CASE("run_process captures stdout, stderr and the exit code separately") {
  auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.started);
  CHECK(r.exited);
  CHECK(r.exit_code == 3);
  CHECK(r.stdout_text == "out\n");
  CHECK(r.stderr_text == "err\n");
  CHECK_FALSE(r.ok());
}

TEST_CASE("run_process feeds stdin and passes extra environment") {
  ProcessOptions o;
  o.stdin_data = std::string(200000, 'x');
  o.extra_env["AICLOUD_TEST_VAR"] = "v1";
  auto r = run_process({"/bin/sh", "-c", "wc -c; echo $AICLOUD_TEST_VAR"}, o);
  REQUIRE(r.ok());
  CHECK(r.stdout_text == "200000\nv1\n");
}

TEST_CASE("run_process reports signals and timeouts, never success") {
  auto sig = run_process({"/bin/sh", "-c", "kill -TERM $$"});
  CHECK_FALSE(sig.exited);
  CHECK(sig.signal == SIGTERM);
  CHECK_FALSE(sig.ok());

  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto slow = run_process({"/bin/sleep", "5"}, o);
  CHECK(slow.timed_out);
  CHECK_FALSE(slow.ok());
  CHECK(slow.duration_s < 4.0);
}

TEST_CASE("run_process says when a program does not exist") {
  auto r = run_process({"aicloud-no-such-program-xyz"});
  CHECK_FALSE(r.started);
  CHECK(r.error.find("not found") != std::string::npos);
  CHECK(find_program("sh") != "");
}
