// Templates: {{ }} substitution in arguments (native types for a lone
// expression) and the block subset for template files.
#include <doctest/doctest.h>

#include <random>

#include "provision/template.hpp"

using namespace aicloud::provision;

namespace {
std::string render(const std::string& tpl, const json& vars) {
  Scope s(&vars);
  return Template::parse(tpl).render(s);
}
}  // namespace

TEST_CASE("substitution keeps the type of a lone expression") {
  json v = {{"n", 8}, {"l", {1, 2}}, {"name", "gpu-01"}, {"b", true}};
  Scope s(&v);
  CHECK(Template::parse("{{ n }}").render_value(s) == 8);
  CHECK(Template::parse("{{ l }}").render_value(s) == json::array({1, 2}));
  CHECK(Template::parse("{{n}}").render_value(s) == 8);
  CHECK(Template::parse("n={{ n }}").render_value(s) == "n=8");
  CHECK(Template::parse("{{ b }}!").render_value(s) == "True!");
  CHECK(Template::parse("{{ l }}x").render_value(s) == "[1, 2]x");
  CHECK(Template::parse("host {{ name | upper }}").render_value(s) == "host GPU-01");
  CHECK(render_json(json{{"a", "{{ n }}"}, {"b", {"{{ name }}", 3}}}, s) == json{{"a", 8}, {"b", {"gpu-01", 3}}});
  CHECK(Template::parse("{{ {'a': 1}['a'] }}").render_value(s) == 1);
  CHECK(Template::parse("{{ {'a': 1}}}").render_value(s) == json{{"a", 1}});
}

TEST_CASE("if, for, set, comments and raw in template files") {
  json v = {{"gpus", {{{"pci", "17:00.0"}}, {{"pci", "2a:00.0"}}}},
            {"fm", true},
            {"opts", {{"a", 1}, {"b", 2}}}};
  // trim_blocks is on, as in Ansible: the newline right after a block tag
  // goes, so block tags sit on their own lines.
  std::string tpl =
      "# {{ gpus | length }} GPUs\n"
      "{% for g in gpus %}\n"
      "gpu{{ loop.index0 }}={{ g.pci }}{{ ',' if not loop.last else '' }}\n"
      "{% endfor %}\n"
      "{% if fm %}\n"
      "fabricmanager=on\n"
      "{% elif false %}\n"
      "never\n"
      "{% else %}\n"
      "fabricmanager=off\n"
      "{% endif %}\n"
      "{% set total = gpus | length * 2 %}\n"
      "total={{ total }}\n"
      "{# a comment #}\n"
      "{% for k, val in opts.items() %}{{ k }}:{{ val }} {% endfor %}\n"
      "\n"
      "{% for x in [] %}x{% else %}empty{% endfor %}\n"
      "\n"
      "{% raw %}{{ not rendered }}{% endraw %}\n";
  CHECK(render(tpl, v) ==
        "# 2 GPUs\n"
        "gpu0=17:00.0,\n"
        "gpu1=2a:00.0\n"
        "fabricmanager=on\n"
        "total=4\n"
        "a:1 b:2 \n"
        "empty\n"
        "{{ not rendered }}");
}

TEST_CASE("whitespace control") {
  json v = {{"xs", {1, 2, 3}}};
  CHECK(render("a  {%- for x in xs %} {{ x }}{% endfor -%}  b", v) == "a 1 2 3b");
  CHECK(render("[ {{- 'x' -}} ]", v) == "[x]");
}

TEST_CASE("template syntax errors carry offsets") {
  struct Case {
    const char* text;
    std::size_t offset;
    const char* words;
  };
  Case cases[] = {
      {"a {{ x", 2, "missing '}}'"},
      {"{% if x %}a", 0, "never closed"},
      {"{% for x in y %}{% endif %}", 16, "unexpected"},
      {"{% macro m() %}", 3, "unsupported template tag"},
      {"{% endif %}", 0, "unexpected"},
      {"{# open", 0, "unterminated comment"},
      {"{{ x | nofilter }}", 7, "unknown filter"},
      {"{% for 1x in y %}{% endfor %}", 6, "invalid loop variable"},
  };
  for (const auto& c : cases) {
    std::string text = c.text;
    CAPTURE(text);
    try {
      Template::parse(c.text);
      FAIL("parsed");
    } catch (const ExprSyntaxError& e) {
      CHECK(std::string(e.what()).find(c.words) != std::string::npos);
      CHECK(e.offset() == c.offset);
    }
  }
  json value = json::object();
  value["ok"] = "{{ a }}";
  value["bad"] = json::array({"x", "{{ a |"});
  auto problems = check_json_templates(value);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/bad/1");
}

TEST_CASE("rendering errors name the problem, output size is bounded") {
  json v = {{"n", 1}};
  Scope s(&v);
  CHECK_THROWS_AS(Template::parse("{{ missing }}").render(s), ExprEvalError);
  CHECK_THROWS_AS(Template::parse("{% for x in n %}{% endfor %}").render(s), ExprEvalError);
  json big = {{"mb", std::string(1u << 20, 'x')}};
  Scope bs(&big);
  CHECK_THROWS_AS(Template::parse("{% for a in range(100) %}{{ mb }}{% endfor %}").render(bs), ExprEvalError);
}

TEST_CASE("no input crashes the template parser") {
  std::mt19937 rng(777);
  const std::vector<std::string> atoms = {"{{", "}}", "{%", "%}", "{#", "#}", "if", "for", "x", "in", "endif", "endfor",
                                          "else", "elif", "set", "=", "raw", "endraw", "-", " ", "\n", "'", "y", "|",
                                          "int", "(", ")", "loop.index", "{", "}"};
  json v = {{"x", 1}, {"y", {1, 2}}};
  Scope s(&v);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    int len = 1 + static_cast<int>(rng() % 16);
    for (int k = 0; k < len; ++k) text += atoms[rng() % atoms.size()];
    try {
      Template t = Template::parse(text);
      try {
        t.render(s);
      } catch (const ExprEvalError&) {
      }
    } catch (const ExprSyntaxError& e) {
      CHECK(e.offset() <= text.size());
    }
  }
  std::string nested;
  for (int i = 0; i < 200; ++i) nested += "{% if x %}";
  CHECK_THROWS_AS(Template::parse(nested), ExprSyntaxError);
}
