#include <doctest/doctest.h>

#include "burnin/child.hpp"
#include "burnin/telemetry.hpp"

using namespace aicloud::burnin;

namespace {
WorkerSlot slot(WorkerEnd* end, const std::string& script, std::vector<nlohmann::json>* events) {
  WorkerSlot s;
  s.label = "test";
  s.end = end;
  s.deadline = steady_seconds() + 60;
  s.on_event = [events](const nlohmann::json& j) { events->push_back(j); };
  start_worker(s, {"/bin/sh", "-c", script}, {{"AICLOUD_TEST_VAR", "42"}});
  return s;
}
}  // namespace

TEST_CASE("a worker's JSON lines, exit status and stderr are collected") {
  WorkerEnd end;
  std::vector<nlohmann::json> events;
  std::vector<WorkerSlot> slots;
  slots.push_back(slot(&end,
                       "echo '{\"event\":\"start\",\"test\":\"memtest\"}'; echo 'not json'; "
                       "echo \"{\\\"event\\\":\\\"env\\\",\\\"v\\\":\\\"$AICLOUD_TEST_VAR\\\"}\"; "
                       "echo oops >&2; printf '{\"event\":\"done\"}'; exit 3",
                       &events));
  supervise_workers(slots, 30);
  CHECK(end.started);
  CHECK(end.exited);
  CHECK(end.exit_code == 3);
  CHECK(end.last_test == "memtest");
  CHECK(end.stderr_tail == "oops");
  REQUIRE(events.size() == 3);  // the non-JSON line is skipped; the unterminated last line is kept
  CHECK(events[1]["v"] == "42");
  CHECK(events[2]["event"] == "done");
}

TEST_CASE("a worker killed by a signal is reported with the signal") {
  WorkerEnd end;
  std::vector<nlohmann::json> events;
  std::vector<WorkerSlot> slots;
  slots.push_back(slot(&end, "kill -SEGV $$", &events));
  supervise_workers(slots, 30);
  CHECK_FALSE(end.exited);
  CHECK(end.signal == 11);
}

TEST_CASE("a silent worker is killed as hung while the others finish") {
  WorkerEnd hung, fine;
  std::vector<nlohmann::json> e1, e2;
  std::vector<WorkerSlot> slots;
  slots.push_back(slot(&hung, "echo '{\"event\":\"start\",\"test\":\"gemm-bf16\"}'; exec sleep 300", &e1));
  slots.push_back(slot(&fine, "for i in 1 2 3; do echo '{\"event\":\"progress\"}'; sleep 0.2; done", &e2));
  supervise_workers(slots, 1.5);
  CHECK(hung.hung);
  CHECK(hung.signal == 9);
  CHECK(hung.last_test == "gemm-bf16");
  CHECK(fine.exited);
  CHECK(fine.exit_code == 0);
  CHECK_FALSE(fine.hung);
  CHECK(e2.size() == 3);
}

TEST_CASE("a worker past its deadline is killed as timed out") {
  WorkerEnd end;
  std::vector<nlohmann::json> events;
  std::vector<WorkerSlot> slots;
  slots.push_back(slot(&end, "while true; do echo '{\"event\":\"progress\"}'; sleep 0.1; done", &events));
  slots[0].deadline = steady_seconds() + 1;
  supervise_workers(slots, 30);
  CHECK(end.timed_out);
  CHECK_FALSE(end.hung);
}

TEST_CASE("a worker that cannot start says why") {
  WorkerEnd end;
  WorkerSlot s;
  s.end = &end;
  start_worker(s, {"/nonexistent/aicloudctl", "burnin"}, {});
  CHECK_FALSE(end.started);
  CHECK(end.start_error == "/nonexistent/aicloudctl: not found");
  std::vector<WorkerSlot> slots;
  slots.push_back(std::move(s));
  supervise_workers(slots, 1);  // returns at once
}

TEST_CASE("lines written just before exit are all read, even in one chunk") {
  for (int round = 0; round < 5; ++round) {
    WorkerEnd end;
    std::vector<nlohmann::json> events;
    std::vector<WorkerSlot> slots;
    slots.push_back(slot(&end, "printf '{\"event\":\"a\"}\\n{\"event\":\"b\"}\\n{\"event\":\"done\"}\\n'", &events));
    supervise_workers(slots, 30);
    REQUIRE(events.size() == 3);
    CHECK(events[2]["event"] == "done");
  }
}
