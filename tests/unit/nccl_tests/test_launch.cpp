// drive() and LocalTransport with real child processes and pipes. The
// workers are small shell scripts that speak (or break) the protocol, so
// the never-hang rules are exercised with processes that really hang,
// crash or print garbage; the real worker needs a GPU and is covered by the
// gpu-labelled tests.
#include <doctest/doctest.h>

#include <csignal>

#include "nccl_tests/launch.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;

namespace {

// Reads the job, answers hello (rank 0 also sends the id), waits for start,
// says ready and done.
const char* k_good_worker = R"SH(
read -r job
rank=$(printf '%s' "$job" | sed -n 's/.*"rank":\([0-9]*\).*/\1/p')
printf '{"type":"hello","protocol":1,"rank":%s,"host":"h","pid":%s,"nccl":{"version":22809,"library":"x"},"gpu":{"index":%s,"name":"g","pci_bus_id":"0000:0%s:00.0"}}\n' "$rank" "$$" "$rank" "$rank"
echo "rank $rank says hello on stderr" >&2
if [ "$rank" = 0 ]; then printf '{"type":"unique_id","rank":0,"id":"%s"}\n' "$(printf 'a%.0s' $(seq 256))"; fi
read -r start
case "$start" in *'"type":"start"'*) ;; *) exit 3 ;; esac
printf '{"type":"ready","rank":%s,"id_digest":"same","init_s":0}\n' "$rank"
printf '{"type":"done","rank":%s,"status":"ok"}\n' "$rank"
)SH";

// Only the hang test relies on the silence timeout and the abort grace; the
// others get long ones so that a loaded machine cannot turn a slow shell
// into a "hang".
LaunchSpec spec_for(int nranks, double silence_s = 120, double grace_s = 120) {
  LaunchSpec s;
  s.ranks = plan_ranks({"local"}, nranks);
  s.plan.tests = {TestSpec{}};
  s.plan.sizes = {1024};
  s.dry_run = true;
  s.silence_timeout_s = silence_s;
  s.abort_grace_s = grace_s;
  return s;
}

bool has_kind(const Controller& c, const std::string& kind) {
  for (const auto& p : c.problems())
    if (p.kind == kind) return true;
  return false;
}

struct IgnoreSigpipe {
  IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
} g_ignore_sigpipe;

}  // namespace

TEST_CASE("local workers rendezvous through the controller over pipes") {
  Controller c(spec_for(4), Clock::now());
  LocalTransport t(4, {"/bin/sh", "-c", k_good_worker});
  drive(c, t);
  CHECK(c.finished());
  CHECK(c.problems().empty());
  CHECK(c.all_ok());
  for (const auto& r : c.ranks()) {
    CHECK(r.ready);
    CHECK(r.exit_code == 0);
    REQUIRE(r.hello);
    CHECK(r.hello->gpu->index == r.spec.rank);
    REQUIRE(r.stderr_tail.size() == 1);
    CHECK(r.stderr_tail[0] == "rank " + std::to_string(r.spec.rank) + " says hello on stderr");
  }
}

TEST_CASE("workers that hang are found silent, aborted, then killed") {
  Controller c(spec_for(2, 1, 1), Clock::now());
  // Reads its job and then sleeps without a word; ignores the abort.
  LocalTransport t(2, {"/bin/sh", "-c", "read -r job; exec sleep 600"});
  drive(c, t);
  CHECK(c.finished());
  CHECK(has_kind(c, "unresponsive"));
  CHECK(has_kind(c, "killed"));
  for (const auto& r : c.ranks()) {
    CHECK(r.killed);
    CHECK(r.signal == SIGKILL);
  }
}

TEST_CASE("a worker that crashes aborts the others, which stop on their own") {
  Controller c(spec_for(3), Clock::now());
  // Rank 1 dies right after reading its job; the others wait for input and
  // end when the abort (or the end of input) arrives.
  LocalTransport t(3, {"/bin/sh", "-c",
                       "read -r job; case \"$job\" in *'\"rank\":1,'*) echo boom >&2; exit 7;; esac; "
                       "while read -r line; do case \"$line\" in *abort*) exit 1;; esac; done"});
  drive(c, t);
  CHECK(c.finished());
  REQUIRE(has_kind(c, "exited"));
  bool named = false;
  for (const auto& p : c.problems())
    if (p.kind == "exited" && p.rank == 1 && p.message.find("code 7") != std::string::npos &&
        p.message.find("boom") != std::string::npos)
      named = true;
  CHECK(named);
  CHECK_FALSE(has_kind(c, "killed"));
  CHECK(c.ranks()[0].exit_code == 1);
}

TEST_CASE("a worker that prints garbage breaks the protocol and the run stops") {
  Controller c(spec_for(2), Clock::now());
  // Both ranks print garbage and then obey the abort the controller sends
  // (one that ignores it is the hang test's job): the run stops at once
  // instead of waiting out the abort grace.
  LocalTransport t(2, {"/bin/sh", "-c",
                       "read -r job; echo 'this is not json'; "
                       "while read -r l; do case \"$l\" in *abort*) exit 1;; esac; done"});
  drive(c, t);
  CHECK(c.finished());
  CHECK(has_kind(c, "protocol"));
  CHECK_FALSE(has_kind(c, "killed"));
}

TEST_CASE("a worker program that cannot be started is reported as such") {
  Controller c(spec_for(2), Clock::now());
  LocalTransport t(2, {"/nonexistent/aicloudctl", "nccl", "--worker"});
  drive(c, t);
  CHECK(c.finished());
  REQUIRE(has_kind(c, "exited"));
  CHECK(c.problems().front().message.find("not found") != std::string::npos);
}

TEST_CASE("several launches run at once, a hung one does not hold up the others") {
  Controller good(spec_for(2), Clock::now());
  Controller other(spec_for(3), Clock::now());
  Controller hung(spec_for(2, 1, 1), Clock::now());
  LocalTransport tg(2, {"/bin/sh", "-c", k_good_worker});
  LocalTransport to(3, {"/bin/sh", "-c", k_good_worker});
  LocalTransport th(2, {"/bin/sh", "-c", "read -r job; exec sleep 600"});
  drive_many({{&good, &tg}, {&other, &to}, {&hung, &th}});
  CHECK(good.finished());
  CHECK(good.all_ok());
  CHECK(other.all_ok());
  CHECK(hung.finished());
  CHECK(has_kind(hung, "killed"));
}
