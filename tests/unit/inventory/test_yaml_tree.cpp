// The YAML layer: 1-based positions, every yaml-cpp failure as an
// InputError, aliases, merge keys and YAML 1.1 scalar resolution (PyYAML's,
// which Ansible uses).
#include <doctest/doctest.h>

#include <string>

#include "inventory/yaml_tree.hpp"

using namespace aicloud;
using namespace aicloud::inventory::detail;

namespace {
nlohmann::json scalar(const std::string& text) {
  YamlTree t = YamlTree::parse("v: " + text + "\n", "t.yaml");
  return resolve_scalar(t.node(t.node(t.root()).items[1]));
}
std::string first_error(const std::string& text) {
  try {
    YamlTree t = YamlTree::parse(text, "t.yaml");
    std::uint64_t budget = 1000;
    if (t.has_document()) to_json(t, t.root(), budget);
  } catch (const InputError& e) {
    return format_diagnostic(e.diagnostics().at(0));
  }
  return "no error";
}
}  // namespace

TEST_CASE("positions are 1-based lines and columns") {
  YamlTree t = YamlTree::parse("a: 1\nb:\n  c: [x, y]\n", "t.yaml");
  const YamlNode& root = t.node(t.root());
  REQUIRE(root.items.size() == 4);
  CHECK(t.where(root.items[0]).line == 1);
  CHECK(t.where(root.items[0]).column == 1);
  CHECK(t.where(root.items[1]).column == 4);
  NodeId b = root.items[3];
  NodeId c = t.node(b).items[1];
  CHECK(t.where(c).line == 3);
  CHECK(t.where(c).column == 6);
  CHECK(t.where(t.node(c).items[1]).column == 10);
}

TEST_CASE("syntax errors carry yaml-cpp's mark, converted to 1-based") {
  CHECK(first_error("a: [1, 2\nb: 3\n") == "t.yaml:2:2: invalid YAML: end of sequence flow not found");
  CHECK(first_error("\t- a\n").rfind("t.yaml:1:2: invalid YAML", 0) == 0);
  CHECK(first_error("a: 1\n---\nb: 2\n").rfind("t.yaml:2:1: a second YAML document", 0) == 0);
  CHECK(first_error("a: *nope\n").find("t.yaml:1:4") == 0);
  CHECK(first_error("a: &x [*x]\n").find("recursive alias") != std::string::npos);
  CHECK(first_error(std::string(5000, '[') + std::string(5000, ']')).find("too deep") != std::string::npos);
}

TEST_CASE("an empty document has no root") {
  CHECK_FALSE(YamlTree::parse("", "t.yaml").has_document());
  CHECK_FALSE(YamlTree::parse("# only a comment\n", "t.yaml").has_document());
}

TEST_CASE("aliases share a subtree and an alias bomb is stopped by the budget") {
  YamlTree t = YamlTree::parse("a: &x {k: 1}\nb: *x\n", "t.yaml");
  std::uint64_t budget = 100;
  nlohmann::json j = to_json(t, t.root(), budget);
  CHECK(j["b"]["k"] == 1);
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  YamlTree tb = YamlTree::parse(bomb, "bomb.yaml");
  std::uint64_t small = 100000;
  CHECK_THROWS_AS(to_json(tb, tb.root(), small), InputError);
}

TEST_CASE("merge keys: explicit keys win, earlier merged maps win") {
  YamlTree t = YamlTree::parse(
      "base: &b {x: 1, y: 1}\nother: &o {y: 2, z: 2}\nm:\n  <<: [*b, *o]\n  x: 3\n", "t.yaml");
  std::uint64_t budget = 100;
  nlohmann::json j = to_json(t, t.root(), budget);
  CHECK(j["m"] == nlohmann::json({{"x", 3}, {"y", 1}, {"z", 2}}));
}

TEST_CASE("plain scalars resolve as YAML 1.1 (PyYAML)") {
  CHECK(scalar("yes") == true);
  CHECK(scalar("Off") == false);
  CHECK(scalar("TRUE") == true);
  CHECK(scalar("~") == nullptr);
  CHECK(scalar("Null") == nullptr);
  CHECK(scalar("42") == 42);
  CHECK(scalar("-17") == -17);
  CHECK(scalar("0x1F") == 31);
  CHECK(scalar("010") == 8);
  CHECK(scalar("0b101") == 5);
  CHECK(scalar("1_000") == 1000);
  CHECK(scalar("1:20") == 80);
  CHECK(scalar("1.5") == 1.5);
  CHECK(scalar("1.0e+3") == 1000.0);
  CHECK(scalar("1e3") == "1e3");
  CHECK(scalar("3.") == 3.0);
  CHECK(scalar("-.5") == "-.5");  // PyYAML needs a digit before the point when signed
  CHECK(scalar(".5") == 0.5);
  CHECK(scalar("09") == "09");
  CHECK(scalar("0o7") == "0o7");
  CHECK(scalar("2001-12-14") == "2001-12-14");
  CHECK(scalar("\"42\"") == "42");
  CHECK(scalar("'yes'") == "yes");
  CHECK(scalar("!!str 42") == "42");
  CHECK(scalar("!!int \"42\"") == 42);
  CHECK(scalar("plain text") == "plain text");
  CHECK(scalar("18446744073709551615") == 18446744073709551615ull);
}

TEST_CASE("mapping keys become JSON keys the way Python's json writes them") {
  YamlTree t = YamlTree::parse("m: {1: a, yes: b, ~: c, 1.5: d, x: e}\n", "t.yaml");
  std::uint64_t budget = 100;
  nlohmann::json j = to_json(t, t.root(), budget)["m"];
  CHECK(j["1"] == "a");
  CHECK(j["true"] == "b");
  CHECK(j["null"] == "c");
  CHECK(j["1.5"] == "d");
  CHECK(json_key_text(1e20) == "1e+20");
  CHECK(json_key_text(0.0001) == "0.0001");
  CHECK(json_key_text(3.0) == "3.0");
}
