// Folding identical results under node sets, as clush -b does.
#include <doctest/doctest.h>

#include "common/term.hpp"
#include "fleet/fold.hpp"

using namespace aicloud;
using namespace aicloud::fleet;

namespace {
HostResult make(const std::string& host, Status st, const std::string& out, std::optional<int> rc = 0) {
  HostResult r;
  r.host = host;
  r.status = st;
  r.stdout_text = out;
  r.exit_code = rc;
  return r;
}
}  // namespace

TEST_CASE("identical output and status fold into one node set, problems come last") {
  configure_terminal(false, 0, true);  // no colour
  std::vector<HostResult> rs;
  rs.push_back(make("gpu-03", Status::failed, "boom\n", 3));
  for (int i = 1; i <= 5; ++i) {
    if (i == 3) continue;
    rs.push_back(make("gpu-0" + std::to_string(i), Status::ok, "5.15.0\n"));
  }
  rs.push_back(make("gpu-06", Status::ok, "6.1.0\n"));
  HostResult un = make("gpu-07", Status::unreachable, "", std::nullopt);
  un.error = "connection refused by 10.0.0.7:22";
  un.reason = "connection refused";
  rs.push_back(un);
  un.host = "gpu-08";
  un.error = "connection refused by 10.0.0.8:22";
  rs.push_back(un);
  auto groups = fold_results(rs);
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].nodes == "gpu-[01-02,04-05]");
  CHECK(groups[0].members.size() == 4);
  CHECK(groups[1].nodes == "gpu-06");
  CHECK(groups[2].nodes == "gpu-03");
  CHECK(groups[3].nodes == "gpu-[07-08]");  // folded on the reason, not the per-host error
  std::string text = render_folded(rs, groups);
  CHECK(text.find("gpu-[01-02,04-05] (4)\n---------------\n5.15.0\n") != std::string::npos);
  CHECK(text.find("gpu-03 (1) exit 3\n") != std::string::npos);
  CHECK(text.find("gpu-[07-08] (2) unreachable: connection refused\n") != std::string::npos);
}

TEST_CASE("same output with another exit code or signal is another group") {
  std::vector<HostResult> rs{make("a1", Status::ok, "x"), make("a2", Status::failed, "x", 1),
                             make("a3", Status::signal, "x", std::nullopt)};
  rs[2].signal = "KILL";
  CHECK(fold_results(rs).size() == 3);
  CHECK(outcome_text(rs[2]) == "killed by signal KILL");
  rs[2].signal = "unknown";
  CHECK(outcome_text(rs[2]).find("no exit status") != std::string::npos);
}

TEST_CASE("--no-fold prints host: line for every line") {
  configure_terminal(false, 0, true);
  std::vector<HostResult> rs{make("n1", Status::ok, "a\nb\n"), make("n2", Status::failed, "c", 2)};
  rs[1].stderr_text = "err\n";
  CHECK(render_lines(rs) == "n1: a\nn1: b\nn2: c\nn2[err]: err\nn2: exit 2\n");
}
