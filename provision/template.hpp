// Templates: text with `{{ expr }}` substitutions, used for module arguments
// and for the files of the `template` module. Besides substitution a small
// block subset of Jinja2 is supported, enough for config files:
// `{% if %}/{% elif %}/{% else %}/{% endif %}`, `{% for x in xs %}` (also
// `for k, v in d.items()`, with `loop.index`, `loop.first`, `loop.last`,
// and `{% else %}` for empty lists), `{% set x = expr %}`, `{% raw %}`,
// `{# comments #}`, and the `-` whitespace markers. As in Ansible,
// trim_blocks is on: the first newline after a block tag is removed.
//
// Parsing is separate from rendering so that a playbook's templates are
// checked before anything runs. Pure; never crashes on any input.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "provision/expr.hpp"

namespace aicloud::provision {

struct TemplateNode;

class Template {
 public:
  Template() = default;
  // Throws ExprSyntaxError with the byte offset of the problem in `text`.
  static Template parse(std::string_view text);
  // True when the text has no `{{`, `{%` or `{#` at all.
  static bool is_plain(std::string_view text);

  // Renders to text. Throws ExprEvalError.
  std::string render(const Scope& scope) const;
  // Renders a module argument: when the whole text is a single `{{ expr }}`
  // the value keeps its type (a list stays a list, 8 stays an int), as
  // Ansible does; otherwise the result is the rendered string.
  json render_value(const Scope& scope) const;

 private:
  std::shared_ptr<const TemplateNode> m_root;
  std::shared_ptr<const Expr> m_single;  // set when the text is exactly one {{ expr }}
};

// Renders every string inside a JSON value (module args, vars) that holds
// template syntax; other values are returned unchanged. Throws
// ExprSyntaxError / ExprEvalError.
json render_json(const json& value, const Scope& scope);

// Checks every string inside a JSON value; returns the problems found as
// (json pointer to the string, offset within it, message).
struct TemplateProblem {
  std::string pointer;
  std::size_t offset = 0;
  std::string message;
};
std::vector<TemplateProblem> check_json_templates(const json& value);

}  // namespace aicloud::provision
