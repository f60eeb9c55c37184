// The YAML layer: 1-based positions, every yaml-cpp failure as an
// InputError, aliases, merge keys and YAML 1.1 scalar resolution (PyYAML's,
// which Ansible uses).
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "common/files.hpp"
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

// ---------------------------------------------------------------------------
// The fast reader (yaml_fast.cpp) against yaml-cpp
// ---------------------------------------------------------------------------

namespace {
// The fast reader accepts `text` and builds what yaml-cpp builds.
void check_fast_matches(const std::string& text) {
  CAPTURE(text);
  std::optional<YamlTree> fast = YamlTree::parse_fast(text, "t.yaml");
  REQUIRE(fast.has_value());
  CHECK(describe_tree(*fast) == describe_tree(YamlTree::parse_yaml_cpp(text, "t.yaml")));
}
}  // namespace

TEST_CASE("the fast reader builds yaml-cpp's tree for block-style YAML") {
  for (const char* text : {
           "a: 1\nb:\n  c: [x, y]\n",
           "a: 1\nb:\nc: \"x\"\nd: [1, {e: f}]\ns:\n- x\n-\n- y: 1\n  z:\nt: { }\nu: a:b\nv: redfish://h:1\n",
           "k:\n- a\n- b: 1\n  c: [x, y]\n-   d: 2\n    e:\nk2: v\n",
           "a: ~\nb: null\nc: Null\nd: NULL\ne: \"~\"\nnull: x\n~: y\n",
           "'s': 'it''s'\n\"k\" : \"v\"  # c\nb : v  \n",
           "a: x #c\nb: x#c\nc: \"#x\"\nd: # only a comment\n",
           "a:b: 1\n-x: 2\nx - y: -- z\na::b: a::b\n",
           "a: {k: v, k2: [1, 2], k3: {x: \"y\", z: 'w'}}\nb: [[a], [], {}]\nc: [ a , b ]\n",
           "---\na: 1\n",
           "  - a\n  - b\n",
           "\xc3\xbc\xc3\xbc: [x, y]\nb: \"\xc3\xa9\"\n",  // columns count bytes, as yaml-cpp's do
       })
    check_fast_matches(text);
}

TEST_CASE("the fast reader marks empty values where yaml-cpp does, also at the end of the text") {
  for (const char* text : {"- a\n-\n", "a:\n  b:\n# end\n\n", " - #[a, b,x]\n ", "children:",
                           "x:\n  y: 1\n  z: # c\n    # comment\n    # end", "- <<\n-\n  -\n  ",
                           "null: # c\n   # comment\n\n  "})
    check_fast_matches(text);
  // The mark of an empty value is where the next token starts.
  YamlTree t = *YamlTree::parse_fast("a:\n\n  # c\nb: 1\n", "t.yaml");
  NodeId empty = t.node(t.root()).items[1];
  CHECK(t.is_null(empty));
  CHECK(t.where(empty).line == 4);
  CHECK(t.where(empty).column == 1);
}

TEST_CASE("the fast reader leaves everything else to yaml-cpp") {
  for (const char* text : {
           "",                               // no document
           "# only a comment\n",
           "plain\n",                        // a scalar document
           "a: x\n  y\n",                    // multi-line plain scalar
           "a: [x,\n  y]\n",                 // multi-line flow collection
           "a: b: c\n",                      // invalid
           "a:\n  b: 1\n c: 2\n",            // invalid indentation
           "a: &x {k: 1}\nb: *x\n",          // anchors and aliases
           "a: !!str 1\n",                   // tags
           "a: |\n  text\n",                 // block scalars
           "a:\tb\n",                        // tabs
           "a: 1\r\nb: 2\r\n",               // CR
           "a: \"a\\\"b\"\n",                // escapes
           "a: [a: b]\n", "a: {a, b: c}\n", "a: {k: }\n", "a: [a, b,]\n",
           "? a\n: b\n",                     // complex keys
           "a: 1\n---\nb: 2\n",              // two documents
           "%YAML 1.2\n---\na: 1\n",         // directives
           "\xef\xbb\xbf" "a: 1\n",          // a byte-order mark
       }) {
    CAPTURE(text);
    CHECK_FALSE(YamlTree::parse_fast(text, "t.yaml").has_value());
  }
  // ...and parse() still reads them (or reports yaml-cpp's error).
  YamlTree t = YamlTree::parse("a: &x {k: 1}\nb: *x\nc: |\n  text\n", "t.yaml");
  CHECK(t.node(t.node(t.root()).items[5]).text == "text\n");
  CHECK(first_error("a: b: c\n") == "t.yaml:1:5: invalid YAML: illegal map value");
}

TEST_CASE("the shipped inventory examples take the fast path and read as through yaml-cpp") {
  const std::string root = AICLOUD_SOURCE_DIR;
  for (const char* name : {"h100-rack.yaml", "two-rack-site.yaml", "ansible-hosts.yml"})
    check_fast_matches(read_text_file(root + "/inventory/examples/" + name));
}

TEST_CASE("a generated 10,000-node-style inventory takes the fast path") {
  // The shape bench/gen_inventories.py writes (one entry per node).
  std::string text = "version: 1\ndefaults:\n  ssh: {user: root, port: 22}\nsites:\n  phx1:\n    racks:\n";
  for (int r = 0; r < 20; ++r) {
    text += "      r" + std::to_string(r) + ":\n        labels: {row: \"1\"}\n        nodes:\n";
    for (int i = 0; i < 4; ++i)
      text += "          - name: gpu-r" + std::to_string(r) + "-" + std::to_string(i) +
              "\n            address: 10.0." + std::to_string(r) + "." + std::to_string(i) +
              "\n            bmc: {url: \"redfish://10.1.0.1\"}\n            groups: [compute]\n";
  }
  check_fast_matches(text);
}
