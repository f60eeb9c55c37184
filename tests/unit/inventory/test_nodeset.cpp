// Node sets: expansion, folding and counting with ClusterShell's semantics.
// The expected strings are what ClusterShell 1.9's `nodeset -e/-f/-c`
// prints for the same input (checked against the real tool by
// tests/integration/inventory/nodeset_compare.py over random sets).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "inventory/nodeset.hpp"
#include "inventory/rangeset.hpp"

using namespace aicloud;
using namespace aicloud::inventory;

namespace {
std::string expand_line(const std::string& p) {
  std::string out;
  for (const auto& n : expand_nodeset(p)) out += (out.empty() ? "" : " ") + n;
  return out;
}
std::string fold1(const std::string& p) { return fold_nodeset_args({p}); }
}  // namespace

TEST_CASE("expand keeps zero padding and ClusterShell's order") {
  CHECK(expand_line("gpu-a12-[01-04]") == "gpu-a12-01 gpu-a12-02 gpu-a12-03 gpu-a12-04");
  CHECK(expand_line("n[1-3,7,10-12]") == "n1 n2 n3 n7 n10 n11 n12");
  CHECK(expand_line("n[0-10/2]") == "n0 n2 n4 n6 n8 n10");
  CHECK(expand_line("n[9-10],n[08-11]") == "n9 n08 n09 n10 n11");  // "9" sorts before "08"
  CHECK(expand_line("r[1-2]n[01-02]") == "r1n01 r1n02 r2n01 r2n02");
  CHECK(expand_line("n[-3-2]") == "n-3 n-2 n-1 n0 n1 n2");
  CHECK(expand_line("b,a,c") == "a b c");
  CHECK(expand_line("x%y[1-2]") == "x%y1 x%y2");
  CHECK(expand_nodeset("  ").empty());
}

TEST_CASE("expand applies set operations left to right") {
  CHECK(expand_line("n[1-5]!n[2-3]") == "n1 n4 n5");
  CHECK(expand_line("n[1-5]&n[4-8]") == "n4 n5");
  CHECK(expand_line("n[1-5]^n[4-8]") == "n1 n2 n3 n6 n7 n8");
  CHECK(expand_line("a,b!a") == "b");
  CHECK(expand_line("n[1-4],m1!n2&n[1-3]") == "n1 n3");
}

TEST_CASE("digits next to brackets join the range as ClusterShell does") {
  CHECK(fold1("n1[05-12]") == "n[105-112]");
  CHECK(fold1("n[1-2]0") == "n[10,20]");
  CHECK(expand_line("n1[0-4/2]") == "n10 n12 n14");
}

TEST_CASE("Ansible-style and alphabetic ranges") {
  CHECK(expand_line("node[01:03]") == "node01 node02 node03");
  CHECK(expand_line("node[1:9:4]") == "node1 node5 node9");
  CHECK(expand_line("rack[a:c]-n1") == "racka-n1 rackb-n1 rackc-n1");
  CHECK(expand_line("r[a:b]n[1-2]") == "ran1 ran2 rbn1 rbn2");
  CHECK(expand_line("r[A:C:2]") == "rA rC");
  CHECK(count_nodeset("n[1:10]!n[a:z]") == 10);
  CHECK_THROWS_AS(expand_nodeset("n[01:5]"), NodeSetError);
  CHECK_THROWS_AS(expand_nodeset("n[a:5]"), NodeSetError);
  CHECK_THROWS_AS(expand_nodeset("n[c:a]"), NodeSetError);
  CHECK_THROWS_AS(expand_nodeset("n[1:2:3:4]"), NodeSetError);
}

TEST_CASE("fold matches nodeset -f, including padding classes") {
  CHECK(fold_nodeset({"gpu-a12-01", "gpu-a12-02", "gpu-a12-03"}) == "gpu-a12-[01-03]");
  CHECK(fold_nodeset({"n1", "n3", "n2", "n10", "n9"}) == "n[1-3,9-10]");
  CHECK(fold_nodeset({"n09", "n10", "n9"}) == "n[9,09-10]");
  CHECK(fold_nodeset({"n99", "n100", "n098"}) == "n[99,098,100]");  // ordered by (length, text)
  CHECK(fold_nodeset({"n99", "n100", "n101"}) == "n[99-101]");
  CHECK(fold_nodeset({"b", "a", "a"}) == "a,b");
  CHECK(fold_nodeset({"node"}) == "node");
  CHECK(fold_nodeset({}) == "");
  CHECK(fold1("n[-3-2]") == "n[-3-2]");
  CHECK(fold1("n[1-3/2]") == "n[1,3]");
}

TEST_CASE("multi-dimensional folding follows ClusterShell's RangeSetND") {
  CHECK(fold1("r[1-2]n[01-04]") == "r[1-2]n[01-04]");
  CHECK(fold1("a[1-3]b[1-3]!a2b2") == "a[1,3]b[1-3],a2b[1,3]");
  CHECK(fold1("a[1-3]b[1-3]^a[2-4]b[2-4]") == "a[2-3]b[1,4],a1b[1-3],a4b[2-4]");
  CHECK(fold1("a[1-3]b[1-3]&a[2-4]b[2-4]") == "a[2-3]b[2-3]");
  CHECK(fold1("n[1-2]-[1-2],n3-1") == "n[1-2]-[1-2],n3-1");
  std::vector<std::string> names;
  for (int r = 12; r <= 13; ++r)
    for (int n = 1; n <= 16; ++n) names.push_back("gpu-a" + std::to_string(r) + "-" + (n < 10 ? "0" : "") + std::to_string(n));
  CHECK(fold_nodeset(names) == "gpu-a[12-13]-[01-16]");
  names.erase(names.begin() + 20);  // gpu-a13-05
  CHECK(fold_nodeset(names) == "gpu-a12-[01-16],gpu-a13-[01-04,06-16]");
}

TEST_CASE("several patterns are unioned like nodeset's arguments") {
  CHECK(fold_nodeset_args({"n[1-3]", "n[5-6]", "m1"}) == "m1,n[1-3,5-6]");
  CHECK(count_nodeset_args({"n[1-3]", "n[2-4]"}) == 4);
  CHECK(fold_nodeset_args({"n1\nn2\r\nn3"}) == "n[1-3]");
  std::vector<std::string> got;
  expand_nodeset_args({"b[1-2]", "a1"}, [&](std::string_view s) { got.emplace_back(s); });
  CHECK(got == std::vector<std::string>{"a1", "b1", "b2"});
}

TEST_CASE("count does not materialise names") {
  CHECK(count_nodeset("n[1-999999999]") == 999999999u);
  CHECK(count_nodeset("r[1-1000]n[1-1000000]") == 1000000000u);
  CHECK(count_nodeset("n[1-10]!n[1-10]") == 0);
  CHECK_THROWS_AS(expand_nodeset("n[1-999999999]"), NodeSetError);  // above k_max_expand
}

TEST_CASE("bad patterns give the column and ClusterShell's reason") {
  auto reason = [](const std::string& p) {
    try {
      expand_nodeset(p);
    } catch (const NodeSetError& e) {
      return std::to_string(e.column()) + ": " + e.reason();
    }
    return std::string("no error");
  };
  CHECK(reason("n[1-2") == "1: missing bracket in \"n[1-2\"");
  CHECK(reason("n[1-2][3-4]") == "7: illegal reopening bracket in \"[3-4]\"");
  CHECK(reason("n[01-3]").find("padding length mismatch") != std::string::npos);
  CHECK(reason("a,") == "1: missing node set operand with ',' operator in \"a\"");
  CHECK(reason("n]1") == "1: illegal closing bracket in \"n]1\"");
  CHECK(reason("n[5-1]").find("invalid values in range") != std::string::npos);
  CHECK(reason("n[]").find("empty range") != std::string::npos);
  CHECK(reason("n[1-2/0]").find("invalid values") != std::string::npos);
  CHECK(reason("n[1-1000000000]").find("range too large") != std::string::npos);
  CHECK(reason("n[1-2000002/2]").find("stepped range too large") != std::string::npos);
  CHECK(reason("a[a:z]b[a:z]c[a:z]d[a:z]").find("too many letter combinations") != std::string::npos);
  CHECK(reason("V444444444[-4441152]3z").find("stepped range too large") != std::string::npos);
  CHECK(reason("n1234567890123456789").find("18 significant digits") != std::string::npos);
  CHECK(reason("@compute").find("need an inventory") != std::string::npos);
  CHECK(reason("gpu-*").find("wildcards") != std::string::npos);
  try {
    expand_nodeset("n[1-2");
    FAIL("expected NodeSetError");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(format_diagnostic(e.diagnostics()[0]) == "node set 'n[1-2':1:1: missing bracket in \"n[1-2\"");
  }
}

TEST_CASE("NodeSetMatcher tests membership without expanding") {
  NodeSetMatcher m("gpu-a[12-13]-[01-16]!gpu-a13-05,login1");
  CHECK(m.contains("gpu-a12-01"));
  CHECK(m.contains("gpu-a13-16"));
  CHECK_FALSE(m.contains("gpu-a13-05"));
  CHECK_FALSE(m.contains("gpu-a12-1"));  // "1" is not "01"
  CHECK(m.contains("login1"));
  CHECK_FALSE(m.contains("login"));
  CHECK(m.size() == 32);
  CHECK_FALSE(m.contains("gpu-a1234567890123456789-01"));  // 19 digits: not an index, no overflow
  NodeSetMatcher big("n[1-900000000]");
  CHECK(big.contains("n123456789"));
  CHECK_FALSE(big.contains("n0"));
}

TEST_CASE("range sets keep ClusterShell's string identity of indexes") {
  using detail::RangeSet;
  RangeSet a = RangeSet::parse("5,05,005");
  CHECK(a.size() == 3);
  CHECK(a.str() == "5,05,005");
  RangeSet b = RangeSet::parse("08-12");
  CHECK(b.str() == "08-12");
  CHECK(b.contains(2, 10));
  CHECK_FALSE(b.contains(1, 9));
  RangeSet c = RangeSet::parse("1-1000000");
  CHECK(c.intervals().size() == 7);  // one per digit count
  CHECK(c.str() == "1-1000000");
  RangeSet d = RangeSet::parse("1-10");
  d.difference_update(RangeSet::parse("3-4,9"));
  CHECK(d.str() == "1-2,5-8,10");
  CHECK(d.runs() == std::vector<std::string>{"1-2", "5-8", "10"});
  RangeSet e = RangeSet::parse("1-5");
  e.symmetric_difference_update(RangeSet::parse("4-7"));
  CHECK(e.str() == "1-3,6-7");
  CHECK(RangeSet::parse("2-3").is_subset_of(RangeSet::parse("1-5")));
  CHECK_FALSE(RangeSet::parse("2-6").is_subset_of(RangeSet::parse("1-5")));
  CHECK(RangeSet::parse("-8--4").str() == "-8--4");
  CHECK(RangeSet::parse(" 1 - 3 , 7 ").str() == "1-3,7");
  CHECK(RangeSet::parse("+5").str() == "5");
  CHECK(RangeSet::parse("1_0").str() == "10");
}
