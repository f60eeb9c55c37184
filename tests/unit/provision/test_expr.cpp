// The expression language: Jinja2/Python semantics for what playbooks
// write in when/changed_when/failed_when/until/assert and inside {{ }}.
#include <doctest/doctest.h>

#include <random>

#include "provision/expr.hpp"

using namespace aicloud::provision;

namespace {

json vars() {
  return json::parse(R"({
    "n": 8, "f": 2.5, "s": "Hello World", "empty": "", "flag": "yes", "off": "false", "none": null,
    "list": [3, 1, 2], "names": ["a", "b"], "d": {"k": "v", "nested": {"x": [10, 20]}},
    "result": {"rc": 0, "stdout": "8\n", "stdout_lines": ["GPU 0", "GPU 1"], "changed": true, "failed": false},
    "bad": {"rc": 2, "failed": true, "changed": false},
    "skip": {"changed": false, "skipped": true},
    "driver": "535.104.05",
    "hardware": {"gpu_count": 8}
  })");
}

json ev(const std::string& text) {
  json v = vars();
  Scope s(&v);
  return Expr::parse(text).eval(s);
}

bool cond(const std::string& text) {
  json v = vars();
  Scope s(&v);
  return Expr::parse(text).eval_bool(s);
}

}  // namespace

TEST_CASE("literals and arithmetic follow Python") {
  CHECK(ev("1 + 2 * 3") == 7);
  CHECK(ev("7 // 2") == 3);
  CHECK(ev("-7 // 2") == -4);
  CHECK(ev("-7 % 3") == 2);
  CHECK(ev("7 / 2") == 3.5);
  CHECK(ev("'a' ~ 1 ~ true") == "a1True");
  CHECK(ev("'ab' * 3") == "ababab");
  CHECK(ev("[1, 2] + [3]") == json::array({1, 2, 3}));
  CHECK(ev("{'a': 1}") == json{{"a", 1}});
  CHECK(ev("(1, 2)") == json::array({1, 2}));
  CHECK(ev("none") == nullptr);
  CHECK(ev("True and False") == false);
  CHECK(ev("'x' if n > 3 else 'y'") == "x");
  CHECK(ev("'a' 'b'") == "ab");
  CHECK(ev("9223372036854775807 + 1").is_number_float());  // overflow becomes float, never UB
}

TEST_CASE("comparisons, boolean logic and membership") {
  CHECK(cond("n == 8"));
  CHECK(cond("n >= 8 and n < 9"));
  CHECK(cond("not n == 7"));
  CHECK(cond("n != '8'"));  // int and str are never equal
  CHECK(cond("f > 2"));
  CHECK(cond("'World' in s"));
  CHECK(cond("'z' not in s"));
  CHECK(cond("1 in list"));
  CHECK(cond("'k' in d"));
  CHECK(cond("[1, 2] < [1, 3]"));
  CHECK(cond("1 == 1.0"));
  CHECK(cond("true == 1"));
  CHECK_FALSE(cond("n < 3 or s == 'x'"));
  CHECK(ev("0 or 'fallback'") == "fallback");  // or returns an operand, as in Python
  CHECK(ev("'a' and 'b'") == "b");
}

TEST_CASE("attribute and index access over vars, facts and registered results") {
  CHECK(ev("d.k") == "v");
  CHECK(ev("d['k']") == "v");
  CHECK(ev("d.nested.x[1]") == 20);
  CHECK(ev("d.nested.x[-1]") == 20);
  CHECK(ev("list.0") == 3);
  CHECK(ev("s[0:5]") == "Hello");
  CHECK(ev("list[1:]") == json::array({1, 2}));
  CHECK(ev("result.rc") == 0);
  CHECK(cond("result.rc == 0 and 'GPU 1' in result.stdout_lines"));
  CHECK(ev("result.stdout_lines | length") == 2);
}

TEST_CASE("filters that real playbooks use") {
  CHECK(ev("result.stdout | int") == 8);
  CHECK(ev("'3.7' | int") == 3);
  CHECK(ev("'abc' | int") == 0);
  CHECK(ev("'abc' | int(7)") == 7);
  CHECK(ev("'2.5' | float") == 2.5);
  CHECK(ev("flag | bool") == true);
  CHECK(ev("off | bool") == false);
  CHECK(ev("missing | default(5)") == 5);
  CHECK(ev("missing | d('x')") == "x");
  CHECK(ev("empty | default('e', true)") == "e");
  CHECK(ev("empty | default('e')") == "");
  CHECK(ev("s | lower") == "hello world");
  CHECK(ev("s | upper") == "HELLO WORLD");
  CHECK(ev("'  x ' | trim") == "x");
  CHECK(ev("names | join(',')") == "a,b");
  CHECK(ev("list | sort") == json::array({1, 2, 3}));
  CHECK(ev("list | max") == 3);
  CHECK(ev("list | first") == 3);
  CHECK(ev("[1, 1, 2] | unique") == json::array({1, 2}));
  CHECK(ev("'a,b' | split(',')") == json::array({"a", "b"}));
  CHECK(ev("s | replace('World', 'GPU')") == "Hello GPU");
  CHECK(ev("'/usr/local/bin/aicloudctl' | basename") == "aicloudctl");
  CHECK(ev("'/usr/local/bin/aicloudctl' | dirname") == "/usr/local/bin");
  CHECK(ev("\"it's\" | quote") == "'it'\\''s'");
  CHECK(ev("'{\"a\": [1]}' | from_json") == json{{"a", json::array({1})}});
  CHECK(ev("d | dict2items | length") == 2);
  CHECK(ev("[{'name': 'a'}, {'name': 'b'}] | map(attribute='name') | list") == json::array({"a", "b"}));
  CHECK(ev("[{'x': 1}, {'x': 0}] | selectattr('x') | list | length") == 1);
  CHECK(ev("n | string") == "8");
  CHECK(ev("'hi' | b64encode | b64decode") == "hi");
  CHECK(ev("(n > 3) | ternary('big', 'small')") == "big");
  CHECK(ev("{'a': 1} | combine({'b': 2})") == json{{"a", 1}, {"b", 2}});
}

TEST_CASE("tests: defined, registered results, versions") {
  CHECK(cond("n is defined"));
  CHECK(cond("missing is not defined"));
  CHECK(cond("missing is undefined"));
  CHECK(cond("d.nope is not defined"));
  CHECK(cond("missing.deeper is not defined"));
  CHECK(cond("result is succeeded"));
  CHECK(cond("result is success"));
  CHECK(cond("result is changed"));
  CHECK(cond("bad is failed"));
  CHECK(cond("bad is not succeeded"));
  CHECK(cond("skip is skipped"));
  CHECK(cond("driver is version('535', '>=')"));
  CHECK(cond("driver is version('535.104.5', '==')"));
  CHECK(cond("driver is version('550', 'lt')"));
  CHECK(cond("none is none"));
  CHECK(cond("s is string"));
  CHECK(cond("n is number and n is integer"));
  CHECK(cond("n is divisibleby 4"));
  CHECK(cond("n is even"));
  CHECK(cond("'x' is lower"));
  CHECK(cond("d is mapping"));
}

TEST_CASE("string and dict methods") {
  CHECK(ev("s.startswith('Hel')") == true);
  CHECK(ev("s.endswith(('x', 'ld'))") == true);
  CHECK(ev("s.split()") == json::array({"Hello", "World"}));
  CHECK(ev("'a=b=c'.split('=', 1)") == json::array({"a", "b=c"}));
  CHECK(ev("'  x '.strip()") == "x");
  CHECK(ev("s.find('World')") == 6);
  CHECK(ev("s.lower()") == "hello world");
  CHECK(ev("'a\\nb'.splitlines()") == json::array({"a", "b"}));
  CHECK(ev("','.join(names)") == "a,b");
  CHECK(ev("d.get('k')") == "v");
  CHECK(ev("d.get('zz', 3)") == 3);
  CHECK(ev("d.keys() | length") == 2);
  CHECK(ev("d.items()[0][0]") == "k");
  CHECK(ev("range(3)") == json::array({0, 1, 2}));
}

TEST_CASE("conditions read yes/no strings as booleans") {
  CHECK(cond("flag"));
  CHECK_FALSE(cond("off"));
  CHECK_FALSE(cond("empty"));
  CHECK_FALSE(cond("[]"));
  CHECK(cond("list"));
  CHECK_FALSE(cond("none"));
}

TEST_CASE("an undefined variable is an error naming it, unless guarded") {
  json v = vars();
  Scope s(&v);
  try {
    Expr::parse("missing == 1").eval(s);
    FAIL("no error");
  } catch (const ExprEvalError& e) {
    CHECK(std::string(e.what()).find("'missing' is undefined") != std::string::npos);
  }
  try {
    Expr::parse("d.nested.y > 1").eval(s);
    FAIL("no error");
  } catch (const ExprEvalError& e) {
    CHECK(std::string(e.what()).find("d.nested.y") != std::string::npos);
  }
  CHECK_THROWS_AS(Expr::parse("n < 'a'").eval(s), ExprEvalError);
  CHECK_THROWS_AS(Expr::parse("1 / 0").eval(s), ExprEvalError);
  CHECK_THROWS_AS(Expr::parse("'x' * 100000000").eval(s), ExprEvalError);  // bounded, no allocation bomb
  CHECK_THROWS_AS(Expr::parse("n | length").eval(s), ExprEvalError);
  CHECK(Expr::parse("missing is defined and missing > 1").eval_bool(s) == false);  // short-circuit
}

TEST_CASE("syntax errors carry the offset of the problem") {
  struct Case {
    const char* text;
    std::size_t offset;
    const char* words;
  };
  Case cases[] = {
      {"n ==", 4, "expected a value"},
      {"n == (1", 7, "expected ')'"},
      {"x | lenght", 4, "did you mean 'length'"},
      {"x is defind", 5, "did you mean 'defined'"},
      {"n = 1", 2, "use '=='"},
      {"'abc", 0, "unterminated string"},
      {"a not b", 2, "expected 'in'"},
      {"lookup('env', 'HOME')", 0, "not supported"},
      {"s.foo()", 2, "unknown method"},
      {"1 $ 2", 2, "unexpected character"},
  };
  for (const auto& c : cases) {
    std::string text = c.text;
    CAPTURE(text);
    try {
      Expr::parse(c.text);
      FAIL("parsed");
    } catch (const ExprSyntaxError& e) {
      CHECK(e.offset() == c.offset);
      CHECK(std::string(e.what()).find(c.words) != std::string::npos);
    }
  }
}

TEST_CASE("templated vars are rendered when read, facts are never rendered") {
  json inv = {{"base", "/opt"}, {"path", "{{ base }}/bin"}, {"loop1", "{{ loop2 }}"}, {"loop2", "{{ loop1 }}"}};
  json facts = {{"hostile", "{{ base }}"}};
  Scope s;
  s.push(&inv, true);
  s.push(&facts, false);
  CHECK(Expr::parse("path").eval(s) == "/opt/bin");
  CHECK(Expr::parse("hostile").eval(s) == "{{ base }}");  // output from a node is data, not a template
  CHECK_THROWS_AS(Expr::parse("loop1").eval(s), ExprEvalError);
}

TEST_CASE("version comparison is numeric part by part") {
  CHECK(compare_versions("535.104.05", "535.54.03") > 0);
  CHECK(compare_versions("2.10", "2.9") > 0);
  CHECK(compare_versions("1.0", "1") == 0);
  CHECK(compare_versions("1.0rc1", "1.0") < 0);
}

TEST_CASE("no input crashes the parser or the evaluator") {
  // Deterministic pseudo-random expressions from the language's own
  // alphabet, plus deep nesting: every outcome is a value or one of the two
  // documented errors.
  std::mt19937 rng(12345);
  const std::vector<std::string> atoms = {"n", "s", "d", "list", "result", "(", ")", "[", "]", "{", "}", ",", ".",
                                          ":", "|", "int", "length", "default(", "is", "not", "defined", "and", "or",
                                          "in", "==", "<", "+", "-", "*", "/", "//", "%", "~", "'x'", "\"y\"", "0",
                                          "1.5", "-1", "if", "else", "none", "split(", "[0]", "d.k", "'", "\\", "\x01"};
  json v = vars();
  Scope scope(&v);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) text += atoms[rng() % atoms.size()] + (rng() % 2 ? " " : "");
    try {
      Expr e = Expr::parse(text);
      ++parsed;
      try {
        e.eval(scope);
      } catch (const ExprEvalError&) {
      }
    } catch (const ExprSyntaxError& e) {
      CHECK(e.offset() <= text.size());
    }
  }
  CHECK(parsed > 100);
  std::string deep(100000, '(');
  CHECK_THROWS_AS(Expr::parse(deep), ExprSyntaxError);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  CHECK_THROWS_AS(Expr::parse(nots + "1"), ExprSyntaxError);
  std::string chain = "n";
  for (int i = 0; i < 150; ++i) chain += " | int";
  CHECK(Expr::parse(chain).eval(scope) == 8);
  for (int i = 0; i < 5000; ++i) chain += " | int";
  CHECK_THROWS_AS(Expr::parse(chain), ExprSyntaxError);  // bounded, so evaluation cannot exhaust the stack
  std::string sum = "1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  CHECK_THROWS_AS(Expr::parse(sum), ExprSyntaxError);
  std::string attrs = "d";
  for (int i = 0; i < 5000; ++i) attrs += ".k";
  CHECK_THROWS_AS(Expr::parse(attrs), ExprSyntaxError);
  std::string deep_json = "'" + std::string(1000, '[') + std::string(1000, ']') + "' | from_json";
  CHECK_THROWS_AS(Expr::parse(deep_json).eval(scope), ExprEvalError);
}
