// run_process with stop_on_interrupt: Ctrl-C stops a long child (its whole
// process group) instead of waiting for it, and the result says so.
#include <doctest/doctest.h>

#include <signal.h>

#include <thread>

#include "common/interrupt.hpp"
#include "common/process.hpp"

using namespace aicloud;

TEST_CASE("run_process stops the child on interrupt when asked and reports it") {
  reset_interrupt_for_tests();
  ProcessOptions o;
  o.stop_on_interrupt = true;
  o.interrupt_grace = std::chrono::milliseconds(2000);
  o.timeout = std::chrono::milliseconds(60000);
  std::thread t([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    request_interrupt();
  });
  // A child and a grandchild that both ignore nothing: SIGTERM ends them.
  ProcessResult r = run_process({"sh", "-c", "sleep 30 & sleep 30; wait"}, o);
  t.join();
  CHECK(r.started);
  CHECK(r.interrupted);
  CHECK_FALSE(r.timed_out);
  CHECK_FALSE(r.ok());
  CHECK(r.signal == SIGTERM);  // stopped, not waited for
  reset_interrupt_for_tests();

  // Without the option the flag is ignored and the child finishes normally.
  request_interrupt();
  ProcessResult plain = run_process({"sh", "-c", "echo done"});
  CHECK(plain.ok());
  CHECK(plain.stdout_text == "done\n");
  reset_interrupt_for_tests();
}
