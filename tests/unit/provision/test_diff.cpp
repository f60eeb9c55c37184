// Unified diffs for --diff, compared with what diff -u prints.
#include <doctest/doctest.h>

#include "common/process.hpp"
#include "helpers.hpp"
#include "provision/diff.hpp"

using namespace aicloud;
using namespace aicloud::provision;

TEST_CASE("unified diff matches diff -u hunks") {
  test::TempDir tmp;
  struct Case {
    std::string a, b;
  };
  std::string base;
  for (int i = 1; i <= 30; ++i) base += "line " + std::to_string(i) + "\n";
  std::string changed = base;
  changed.replace(changed.find("line 5\n"), 7, "line five\n");
  changed.replace(changed.find("line 25\n"), 8, "");
  changed += "line 31\n";
  Case cases[] = {{"", "a\n"}, {"a\n", ""}, {"a\nb\nc\n", "a\nx\nc\n"}, {base, changed}, {"a\nb", "a\nb\n"},
                  {"x\n", "x\ny\n"}};
  for (const auto& c : cases) {
    test::spit(tmp / "a", c.a);
    test::spit(tmp / "b", c.b);
    auto r = run_process({"diff", "-u", "--label", "A", "--label", "B", tmp / "a", tmp / "b"});
    REQUIRE(r.exited);
    CHECK(unified_diff(c.a, c.b, "A", "B") == r.stdout_text);
  }
  CHECK(unified_diff("same\n", "same\n", "A", "B").empty());
  CHECK(unified_diff(std::string("a\0b", 3), "ab", "A", "B") == "Binary files A and B differ\n");
}

TEST_CASE("a huge rewrite still gives a correct, bounded diff") {
  std::string a, b;
  for (int i = 0; i < 5000; ++i) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
  }
  std::string d = unified_diff(a, b, "A", "B");
  CHECK(d.find("@@ -1,5000 +1,5000 @@") != std::string::npos);
}
