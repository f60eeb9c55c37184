// The expression language of playbooks: what `when`, `changed_when`,
// `failed_when`, `until`, `assert: that` and the inside of `{{ }}` are
// written in. It is the part of Jinja2 that real playbooks use (literals,
// comparisons, and/or/not, in, attribute and index access, a few filters,
// tests and string methods), implemented as a small recursive-descent
// parser and an evaluator over JSON values. There is no Jinja engine and no
// way to call anything outside the language, so an expression can only read
// vars. docs/playbooks.md is the reference.
//
// Parsing and evaluation are separate so that every expression of a
// playbook is parsed (and its filter and test names checked) before
// anything runs. Both are pure, never crash on any input (recursion depth
// and sizes are bounded) and report errors with the column of the problem.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::provision {

using json = nlohmann::json;

// An expression that does not parse. `offset` is the 0-based byte offset of
// the problem within the expression text.
class ExprSyntaxError : public std::runtime_error {
 public:
  ExprSyntaxError(std::size_t offset, const std::string& message)
      : std::runtime_error(message), m_offset(offset) {}
  std::size_t offset() const { return m_offset; }

 private:
  std::size_t m_offset;
};

// An expression that parsed but cannot be evaluated with these vars: an
// undefined variable, a type mismatch, a filter that cannot convert. The
// runner turns it into a failed task on that host.
class ExprEvalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where an expression reads its variables. Layers are searched from the
// last added to the first, so later layers (task vars, loop items)
// shadow earlier ones (inventory vars). Layers are borrowed, not copied.
// A layer marked `templated` holds values written by people (playbook and
// inventory vars): a string in it that holds `{{ }}` is rendered when it is
// read, as Ansible does lazily. Facts and registered results are never
// templated, so output from a node can never be evaluated.
class Scope {
 public:
  Scope() = default;
  explicit Scope(const json* base, bool templated = false) { push(base, templated); }
  void push(const json* layer, bool templated = false) {
    if (layer && layer->is_object()) m_layers.push_back({layer, templated});
  }
  struct Found {
    const json* value = nullptr;
    bool templated = false;
  };
  Found find(std::string_view name) const;
  // nullptr when no layer defines the name.
  const json* lookup(std::string_view name) const { return find(name).value; }
  // Local names set by templates ({% set %}, {% for %}); they shadow layers.
  void set_local(const std::string& name, json value) { m_locals[name] = std::move(value); }
  void erase_local(const std::string& name) { m_locals.erase(name); }

 private:
  std::vector<Found> m_layers;
  std::map<std::string, json, std::less<>> m_locals;
};

// True when a string anywhere inside the value holds template syntax.
bool contains_template(const json& value);

struct ExprNode;

// A parsed expression: cheap to copy (shared, immutable AST).
class Expr {
 public:
  Expr() = default;
  // Parses a whole expression; throws ExprSyntaxError.
  static Expr parse(std::string_view text);
  // Evaluates; throws ExprEvalError. An undefined result (a missing var
  // that was not guarded by `is defined` or `default`) is an error.
  json eval(const Scope& scope) const;
  // Evaluates as a condition: Python truthiness, plus the strings
  // "true/yes/on/1" and "false/no/off/0" (any case) read as booleans.
  bool eval_bool(const Scope& scope) const;
  const std::string& text() const { return m_text; }
  bool empty() const { return !m_root; }
  // The top-level variable names the expression reads (for diagnostics).
  std::vector<std::string> variables() const;

 private:
  friend class ExprParser;
  friend Expr parse_expr_until(std::string_view, std::size_t, std::string_view, std::size_t*);
  std::shared_ptr<const ExprNode> m_root;
  std::string m_text;
};

// Parses the expression that starts at text[pos] and stops before `end`
// (for example "}}" or "%}"), returning it and the offset just after it.
// Throws ExprSyntaxError with an offset into `text`.
Expr parse_expr_until(std::string_view text, std::size_t pos, std::string_view end, std::size_t* stop);

// Truthiness of a value as a condition (see Expr::eval_bool).
bool truthy(const json& v);

// The string form of a value when it is substituted into text, as Python
// prints it: strings bare, True/False/None, lists and dicts in Python's repr.
std::string to_display_string(const json& v);

// Names known to the language, for did-you-mean hints and docs.
const std::vector<std::string>& filter_names();
const std::vector<std::string>& test_names();

// Compares two version strings ("535.104.05" vs "535") numerically part by
// part; returns <0, 0, >0.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace aicloud::provision
