// The playbook expression language: a lexer, a recursive-descent parser
// that builds an immutable tree, and an evaluator over JSON values with
// Python/Jinja2 semantics for the parts that playbooks use. The grammar,
// from loosest to tightest binding:
//
//   expr     := or ['if' or ['else' expr]]
//   or       := and ('or' and)*
//   and      := not ('and' not)*
//   not      := 'not' not | compare
//   compare  := concat (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not in') concat)*
//   concat   := sum ('~' sum)*
//   sum      := product (('+'|'-') product)*
//   product  := unary (('*'|'/'|'//'|'%') unary)*
//   unary    := ('-'|'+') unary | filtered
//   filtered := postfix ('|' NAME [args] | 'is' ['not'] NAME [args | value])*
//   postfix  := primary ('.' NAME [args] | '[' expr [':' expr] ']')*
//   primary  := literal | NAME | NAME args | '(' expr ')' | '[' list ']' | '{' dict '}'
//
// Undefined values travel as a flag so that `is defined` and `default()`
// can look at them; any other use of one is an evaluation error naming the
// variable, as Ansible's StrictUndefined does.
#include "provision/expr.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include "common/strings.hpp"
#include "provision/shell.hpp"
#include "provision/template.hpp"

namespace aicloud::provision {

namespace {

constexpr int k_max_depth = 96;       // recursive descent
constexpr int k_max_tree_depth = 200;  // left-nested chains (a | f | f ..., a + b + c ...)
constexpr std::size_t k_max_value_bytes = 16u << 20;  // results of *, replace, join, range

// ---------------------------------------------------------------------------
// Tree
// ---------------------------------------------------------------------------

enum class Op {
  literal, var, attr, index, slice, list, dict, neg, pos, not_, and_, or_, add, sub, mul, div, floordiv, mod,
  concat, eq, ne, lt, le, gt, ge, in, not_in, filter, test, method, call, cond
};

}  // namespace

struct ExprNode {
  Op op = Op::literal;
  std::size_t pos = 0;
  int depth = 1;                                  // of the tree below: bounds the evaluator's recursion
  json value;                                     // literal
  std::string name;                               // var, attr, filter, test, method, call
  bool negate = false;                            // test
  std::vector<std::shared_ptr<const ExprNode>> kids;   // operands and positional args
  std::vector<std::pair<std::string, std::shared_ptr<const ExprNode>>> kwargs;
};

namespace {

using NodeP = std::shared_ptr<const ExprNode>;

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

enum class Tok { end, name, integer, number, string, op };

struct Token {
  Tok kind = Tok::end;
  std::string text;   // name, op, or decoded string
  json value;         // integer / number
  std::size_t pos = 0;
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  Lexer(std::string_view text, std::size_t pos) : m_text(text), m_pos(pos) {}

  // Returns the next token; `end_marker` (e.g. "}}") ends the expression.
  Token next(std::string_view end_marker) {
    skip_space();
    Token t;
    t.pos = m_pos;
    if (m_pos >= m_text.size()) return t;
    bool may_end = !end_marker.empty() && m_braces == 0;
    if (may_end && m_text.substr(m_pos, end_marker.size()) == end_marker) return t;
    // A "-" right before the end marker is Jinja's whitespace control ("-}}").
    if (may_end && m_text[m_pos] == '-' &&
        m_text.substr(m_pos + 1, end_marker.size()) == end_marker)
      return t;
    char c = m_text[m_pos];
    if (is_name_start(c)) {
      std::size_t b = m_pos;
      while (m_pos < m_text.size() && is_name_char(m_text[m_pos])) ++m_pos;
      t.kind = Tok::name;
      t.text = std::string(m_text.substr(b, m_pos - b));
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return number(t);
    if (c == '\'' || c == '"') return string(t);
    static const char* ops[] = {"==", "!=", "<=", ">=", "//", "<", ">", "+", "-", "*", "/", "%", "~", "|",
                                "(", ")", "[", "]", "{", "}", ",", ".", ":", "="};
    for (const char* op : ops) {
      std::string_view o(op);
      if (m_text.substr(m_pos, o.size()) == o) {
        m_pos += o.size();
        if (o == "{") ++m_braces;
        if (o == "}" && m_braces > 0) --m_braces;
        t.kind = Tok::op;
        t.text = std::string(o);
        return t;
      }
    }
    throw ExprSyntaxError(m_pos, std::string("unexpected character '") + printable(c) + "'");
  }

  std::size_t pos() const { return m_pos; }
  void reset(std::size_t pos, int braces) {
    m_pos = pos;
    m_braces = braces;
  }
  int braces() const { return m_braces; }

 private:
  static std::string printable(char c) {
    if (std::isprint(static_cast<unsigned char>(c))) return std::string(1, c);
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
    return buf;
  }

  void skip_space() {
    while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
  }

  Token number(Token& t) {
    std::size_t b = m_pos;
    while (m_pos < m_text.size() && (std::isdigit(static_cast<unsigned char>(m_text[m_pos])) || m_text[m_pos] == '_'))
      ++m_pos;
    bool is_float = false;
    if (m_pos + 1 < m_text.size() && m_text[m_pos] == '.' && std::isdigit(static_cast<unsigned char>(m_text[m_pos + 1]))) {
      is_float = true;
      ++m_pos;
      while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
    }
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
      std::size_t save = m_pos;
      ++m_pos;
      if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-')) ++m_pos;
      if (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) {
        is_float = true;
        while (m_pos < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[m_pos]))) ++m_pos;
      } else {
        m_pos = save;
      }
    }
    std::string digits;
    for (char c : m_text.substr(b, m_pos - b))
      if (c != '_') digits += c;
    if (m_pos < m_text.size() && is_name_start(m_text[m_pos]))
      throw ExprSyntaxError(m_pos, "invalid number '" + std::string(m_text.substr(b, m_pos - b + 1)) + "'");
    if (!is_float) {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(digits.c_str(), &end, 10);
      if (errno == 0) {
        t.kind = Tok::integer;
        t.value = static_cast<std::int64_t>(v);
        return t;
      }
    }
    t.kind = Tok::number;
    t.value = std::strtod(digits.c_str(), nullptr);
    return t;
  }

  Token string(Token& t) {
    char quote = m_text[m_pos++];
    std::string out;
    while (true) {
      if (m_pos >= m_text.size()) throw ExprSyntaxError(t.pos, "unterminated string");
      char c = m_text[m_pos++];
      if (c == quote) break;
      if (c == '\\' && m_pos < m_text.size()) {
        char e = m_text[m_pos++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '0': out += '\0'; break;
          case '\\': out += '\\'; break;
          case '\'': out += '\''; break;
          case '"': out += '"'; break;
          default: out += '\\'; out += e; break;  // Python keeps unknown escapes ("\d")
        }
        continue;
      }
      out += c;
    }
    t.kind = Tok::string;
    t.text = std::move(out);
    return t;
  }

  std::string_view m_text;
  std::size_t m_pos;
  int m_braces = 0;  // inside a dict literal "}}" does not end the expression
};

// ---------------------------------------------------------------------------
// Names known to the language
// ---------------------------------------------------------------------------

const std::vector<std::string> k_filters = {
    "abs", "b64decode", "b64encode", "basename", "bool", "capitalize", "combine", "count", "d", "default",
    "dict2items", "dirname", "first", "float", "from_json", "int", "items2dict", "join", "last", "length",
    "list", "lower", "map", "mandatory", "max", "min", "quote", "reject", "rejectattr", "replace", "reverse",
    "round", "select", "selectattr", "sort", "split", "string", "sum", "ternary", "to_json", "to_nice_json",
    "trim", "unique", "upper"};

const std::vector<std::string> k_tests = {
    "boolean", "change", "changed", "defined", "divisibleby", "eq", "equalto", "even", "failed", "failure",
    "falsy", "float", "ge", "gt", "in", "integer", "iterable", "le", "lower", "lt", "mapping", "ne", "none",
    "number", "odd", "sameas", "sequence", "skip", "skipped", "string", "succeeded", "success", "truthy",
    "undefined", "upper", "version", "version_compare"};

const std::vector<std::string> k_methods = {
    "count", "endswith", "find", "get", "isdigit", "items", "join", "keys", "lower", "lstrip", "replace",
    "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "upper", "values"};

const std::vector<std::string> k_functions = {"range"};

bool known(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::string hint(const std::string& word, const std::vector<std::string>& names) {
  auto g = did_you_mean(word, names);
  return g ? " (did you mean '" + *g + "'?)" : "";
}

}  // namespace

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

class ExprParser {
 public:
  ExprParser(std::string_view text, std::size_t pos, std::string_view end) : m_lex(text, pos), m_end(end) {
    advance();
  }

  NodeP parse_all() {
    NodeP n = expr();
    if (m_tok.kind != Tok::end) throw ExprSyntaxError(m_tok.pos, "unexpected " + describe(m_tok));
    return n;
  }

  std::size_t stop() const { return m_tok.pos; }

 private:
  struct Depth {
    explicit Depth(ExprParser& p) : m_p(p) {
      if (++m_p.m_depth > k_max_depth) throw ExprSyntaxError(m_p.m_tok.pos, "expression nested too deeply");
    }
    ~Depth() { --m_p.m_depth; }
    ExprParser& m_p;
  };

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::end: return "end of expression";
      case Tok::name: return "'" + t.text + "'";
      case Tok::integer:
      case Tok::number: return "number " + t.value.dump();
      case Tok::string: return "string";
      case Tok::op: return "'" + t.text + "'";
    }
    return "token";
  }

  void advance() { m_tok = m_lex.next(m_end); }
  bool is_op(const char* o) const { return m_tok.kind == Tok::op && m_tok.text == o; }
  bool is_name(const char* n) const { return m_tok.kind == Tok::name && m_tok.text == n; }
  void expect_op(const char* o) {
    if (!is_op(o)) throw ExprSyntaxError(m_tok.pos, std::string("expected '") + o + "' but found " + describe(m_tok));
    advance();
  }

  static std::shared_ptr<ExprNode> make(Op op, std::size_t pos, std::vector<NodeP> kids = {}) {
    auto n = std::make_shared<ExprNode>();
    n->op = op;
    n->pos = pos;
    n->kids = std::move(kids);
    seal(*n);
    return n;
  }

  // Records the depth of a node whose operands are complete, refusing trees
  // that the evaluator could not walk without exhausting the stack.
  static void seal(ExprNode& n) {
    int d = 0;
    for (const auto& k : n.kids)
      if (k) d = std::max(d, k->depth);
    for (const auto& [name, k] : n.kwargs) {
      (void)name;
      d = std::max(d, k->depth);
    }
    n.depth = d + 1;
    if (n.depth > k_max_tree_depth) throw ExprSyntaxError(n.pos, "expression nested too deeply");
  }

  NodeP expr() {
    Depth d(*this);
    NodeP n = or_expr();
    if (is_name("if")) {
      std::size_t p = m_tok.pos;
      advance();
      NodeP cond = or_expr();
      NodeP otherwise;
      if (is_name("else")) {
        advance();
        otherwise = expr();
      } else {
        auto u = std::make_shared<ExprNode>();
        u->op = Op::var;  // Jinja: a missing else yields undefined
        u->name = "";
        u->pos = p;
        otherwise = u;
      }
      n = make(Op::cond, p, {cond, n, otherwise});
    }
    return n;
  }

  NodeP or_expr() {
    NodeP n = and_expr();
    while (is_name("or")) {
      std::size_t p = m_tok.pos;
      advance();
      n = make(Op::or_, p, {n, and_expr()});
    }
    return n;
  }

  NodeP and_expr() {
    NodeP n = not_expr();
    while (is_name("and")) {
      std::size_t p = m_tok.pos;
      advance();
      n = make(Op::and_, p, {n, not_expr()});
    }
    return n;
  }

  NodeP not_expr() {
    Depth d(*this);
    if (is_name("not")) {
      std::size_t p = m_tok.pos;
      advance();
      return make(Op::not_, p, {not_expr()});
    }
    return compare();
  }

  NodeP compare() {
    NodeP n = concat();
    while (true) {
      std::size_t p = m_tok.pos;
      if (is_op("=")) throw ExprSyntaxError(p, "'=' is assignment; use '==' to compare");
      Op op;
      if (is_op("==")) op = Op::eq;
      else if (is_op("!=")) op = Op::ne;
      else if (is_op("<")) op = Op::lt;
      else if (is_op("<=")) op = Op::le;
      else if (is_op(">")) op = Op::gt;
      else if (is_op(">=")) op = Op::ge;
      else if (is_name("in")) op = Op::in;
      else if (is_name("not")) {
        // "x not in y"; a lone "not" here is an error.
        advance();
        if (!is_name("in")) throw ExprSyntaxError(p, "expected 'in' after 'not'");
        op = Op::not_in;
      } else {
        return n;
      }
      advance();
      n = make(op, p, {n, concat()});
    }
  }

  NodeP concat() {
    NodeP n = sum();
    while (is_op("~")) {
      std::size_t p = m_tok.pos;
      advance();
      n = make(Op::concat, p, {n, sum()});
    }
    return n;
  }

  NodeP sum() {
    NodeP n = product();
    while (is_op("+") || is_op("-")) {
      Op op = is_op("+") ? Op::add : Op::sub;
      std::size_t p = m_tok.pos;
      advance();
      n = make(op, p, {n, product()});
    }
    return n;
  }

  NodeP product() {
    NodeP n = unary();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      Op op = is_op("*") ? Op::mul : is_op("/") ? Op::div : is_op("//") ? Op::floordiv : Op::mod;
      std::size_t p = m_tok.pos;
      advance();
      n = make(op, p, {n, unary()});
    }
    return n;
  }

  NodeP unary() {
    Depth d(*this);
    if (is_op("-") || is_op("+")) {
      Op op = is_op("-") ? Op::neg : Op::pos;
      std::size_t p = m_tok.pos;
      advance();
      return make(op, p, {unary()});
    }
    return filtered();
  }

  // Positional and keyword arguments of a filter, test, method or function.
  void args(ExprNode& n) {
    expect_op("(");
    while (!is_op(")")) {
      if (m_tok.kind == Tok::name) {
        // keyword argument?
        std::size_t save = m_lex.pos();
        int braces = m_lex.braces();
        Token name_tok = m_tok;
        advance();
        if (is_op("=")) {
          advance();
          n.kwargs.emplace_back(name_tok.text, expr());
          if (!is_op(",")) break;
          advance();
          continue;
        }
        m_lex.reset(save, braces);
        m_tok = name_tok;
      }
      if (!n.kwargs.empty()) throw ExprSyntaxError(m_tok.pos, "positional argument after keyword argument");
      n.kids.push_back(expr());
      if (!is_op(",")) break;
      advance();
    }
    expect_op(")");
  }

  NodeP filtered() {
    NodeP n = postfix();
    while (true) {
      if (is_op("|")) {
        advance();
        if (m_tok.kind != Tok::name) throw ExprSyntaxError(m_tok.pos, "expected a filter name after '|'");
        auto f = std::make_shared<ExprNode>();
        f->op = Op::filter;
        f->pos = m_tok.pos;
        f->name = m_tok.text;
        if (!known(k_filters, f->name))
          throw ExprSyntaxError(m_tok.pos, "unknown filter '" + f->name + "'" + hint(f->name, k_filters));
        advance();
        f->kids.push_back(n);
        if (is_op("(")) args(*f);
        seal(*f);
        n = f;
      } else if (is_name("is")) {
        advance();
        auto t = std::make_shared<ExprNode>();
        t->op = Op::test;
        if (is_name("not")) {
          t->negate = true;
          advance();
        }
        if (m_tok.kind != Tok::name) throw ExprSyntaxError(m_tok.pos, "expected a test name after 'is'");
        t->pos = m_tok.pos;
        t->name = m_tok.text;
        if (!known(k_tests, t->name))
          throw ExprSyntaxError(m_tok.pos, "unknown test '" + t->name + "'" + hint(t->name, k_tests));
        advance();
        t->kids.push_back(n);
        if (is_op("(")) {
          args(*t);
        } else if (m_tok.kind == Tok::integer || m_tok.kind == Tok::number || m_tok.kind == Tok::string) {
          // Jinja's "x is divisibleby 3", "x is sameas false"
          t->kids.push_back(primary());
        }
        seal(*t);
        n = t;
      } else {
        return n;
      }
    }
  }

  NodeP postfix() {
    NodeP n = primary();
    while (true) {
      if (is_op(".")) {
        advance();
        std::size_t p = m_tok.pos;
        if (m_tok.kind == Tok::integer) {
          auto lit = make(Op::literal, p);
          lit->value = m_tok.value;
          advance();
          n = make(Op::index, p, {n, lit});
          continue;
        }
        if (m_tok.kind != Tok::name) throw ExprSyntaxError(m_tok.pos, "expected an attribute name after '.'");
        std::string name = m_tok.text;
        advance();
        if (is_op("(")) {
          if (!known(k_methods, name))
            throw ExprSyntaxError(p, "unknown method '" + name + "()'" + hint(name, k_methods));
          auto m = std::make_shared<ExprNode>();
          m->op = Op::method;
          m->pos = p;
          m->name = name;
          m->kids.push_back(n);
          args(*m);
          seal(*m);
          n = m;
        } else {
          auto a = std::make_shared<ExprNode>();
          a->op = Op::attr;
          a->pos = p;
          a->name = name;
          a->kids.push_back(n);
          seal(*a);
          n = a;
        }
      } else if (is_op("[")) {
        std::size_t p = m_tok.pos;
        advance();
        NodeP lo, hi;
        bool slice = false;
        if (!is_op(":")) lo = expr();
        if (is_op(":")) {
          slice = true;
          advance();
          if (!is_op("]")) hi = expr();
        }
        expect_op("]");
        if (slice) {
          auto s = std::make_shared<ExprNode>();
          s->op = Op::slice;
          s->pos = p;
          s->kids = {n, lo, hi};
          seal(*s);
          n = s;
        } else {
          n = make(Op::index, p, {n, lo});
        }
      } else {
        return n;
      }
    }
  }

  NodeP primary() {
    Depth d(*this);
    Token t = m_tok;
    switch (t.kind) {
      case Tok::end: throw ExprSyntaxError(t.pos, "expected a value but found end of expression");
      case Tok::integer:
      case Tok::number: {
        advance();
        auto n = make(Op::literal, t.pos);
        n->value = t.value;
        return n;
      }
      case Tok::string: {
        advance();
        std::string s = t.text;
        // Adjacent string literals concatenate, as in Python.
        while (m_tok.kind == Tok::string) {
          s += m_tok.text;
          advance();
        }
        auto n = make(Op::literal, t.pos);
        n->value = s;
        return n;
      }
      case Tok::name: {
        advance();
        auto n = std::make_shared<ExprNode>();
        n->pos = t.pos;
        if (t.text == "true" || t.text == "True") {
          n->value = true;
          return n;
        }
        if (t.text == "false" || t.text == "False") {
          n->value = false;
          return n;
        }
        if (t.text == "none" || t.text == "None") {
          n->value = nullptr;
          return n;
        }
        static const std::vector<std::string> reserved = {"and", "or", "not", "in", "is", "if", "else"};
        if (known(reserved, t.text)) throw ExprSyntaxError(t.pos, "unexpected '" + t.text + "'");
        if (is_op("(")) {
          if (t.text == "lookup" || t.text == "query" || t.text == "q")
            throw ExprSyntaxError(t.pos, "'" + t.text + "()' is not supported: put the value in vars instead");
          if (!known(k_functions, t.text))
            throw ExprSyntaxError(t.pos, "unknown function '" + t.text + "()'" + hint(t.text, k_functions));
          n->op = Op::call;
          n->name = t.text;
          args(*n);
          seal(*n);
          return n;
        }
        n->op = Op::var;
        n->name = t.text;
        return n;
      }
      case Tok::op:
        if (t.text == "(") {
          advance();
          NodeP inner = expr();
          if (is_op(",")) {  // a tuple: treated as a list
            std::vector<NodeP> items{inner};
            while (is_op(",")) {
              advance();
              if (is_op(")")) break;
              items.push_back(expr());
            }
            expect_op(")");
            return make(Op::list, t.pos, std::move(items));
          }
          expect_op(")");
          return inner;
        }
        if (t.text == "[") {
          advance();
          std::vector<NodeP> items;
          while (!is_op("]")) {
            items.push_back(expr());
            if (!is_op(",")) break;
            advance();
          }
          expect_op("]");
          return make(Op::list, t.pos, std::move(items));
        }
        if (t.text == "{") {
          advance();
          std::vector<NodeP> items;
          while (!is_op("}")) {
            items.push_back(expr());
            expect_op(":");
            items.push_back(expr());
            if (!is_op(",")) break;
            advance();
          }
          expect_op("}");
          return make(Op::dict, t.pos, std::move(items));
        }
        throw ExprSyntaxError(t.pos, "unexpected '" + t.text + "'");
    }
    throw ExprSyntaxError(t.pos, "unexpected token");
  }

  Lexer m_lex;
  std::string_view m_end;
  Token m_tok;
  int m_depth = 0;
};

Expr Expr::parse(std::string_view text) {
  if (text.size() > (1u << 20)) throw ExprSyntaxError(0, "expression longer than 1 MiB");
  ExprParser p(text, 0, "");
  Expr e;
  e.m_root = p.parse_all();
  e.m_text = std::string(text);
  return e;
}

Expr parse_expr_until(std::string_view text, std::size_t pos, std::string_view end, std::size_t* stop) {
  ExprParser p(text, pos, end);
  Expr e;
  e.m_root = p.parse_all();
  std::size_t s = p.stop();
  e.m_text = std::string(trim(text.substr(pos, s - pos)));
  if (stop) *stop = s;
  return e;
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

Scope::Found Scope::find(std::string_view name) const {
  auto it = m_locals.find(name);
  if (it != m_locals.end()) return {&it->second, false};
  for (auto l = m_layers.rbegin(); l != m_layers.rend(); ++l) {
    auto f = l->value->find(name);
    if (f != l->value->end()) return {&*f, l->templated};
  }
  return {};
}

bool contains_template(const json& v) {
  if (v.is_string()) return !Template::is_plain(v.get_ref<const std::string&>());
  if (v.is_array() || v.is_object()) {
    for (const auto& x : v)
      if (contains_template(x)) return true;
  }
  return false;
}

namespace {

// A value during evaluation: borrowed from the vars when possible.
struct Val {
  const json* ref = nullptr;
  json own;
  bool undef = false;
  std::string name;  // what was undefined, for the message

  const json& get() const { return ref ? *ref : own; }
  static Val of(json j) {
    Val v;
    v.own = std::move(j);
    return v;
  }
  static Val borrowed(const json* j) {
    Val v;
    v.ref = j;
    return v;
  }
  static Val undefined(std::string what) {
    Val v;
    v.undef = true;
    v.name = std::move(what);
    return v;
  }
  json take() { return ref ? *ref : std::move(own); }
};

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "NoneType";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "int";
    case json::value_t::number_float: return "float";
    case json::value_t::string: return "str";
    case json::value_t::array: return "list";
    case json::value_t::object: return "dict";
    default: return "value";
  }
}

bool is_int(const json& v) { return v.is_number_integer() || v.is_boolean(); }
bool is_num(const json& v) { return v.is_number() || v.is_boolean(); }
std::int64_t as_int(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(u);
  }
  return v.get<std::int64_t>();
}
double as_double(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_number_float()) return v.get<double>();
  return static_cast<double>(as_int(v));
}

std::string python_repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += q;
  return out;
}

std::string python_repr(const json& v) {
  if (v.is_string()) return python_repr_string(v.get<std::string>());
  if (v.is_array()) {
    std::string out = "[";
    bool first = true;
    for (const auto& x : v) {
      if (!first) out += ", ";
      first = false;
      out += python_repr(x);
    }
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += python_repr_string(it.key()) + ": " + python_repr(it.value());
    }
    return out + "}";
  }
  return to_display_string(v);
}

[[noreturn]] void fail(const std::string& msg) { throw ExprEvalError(msg); }

std::string undefined_message(const Val& v) {
  if (v.name.empty()) return "the expression has no value (an 'if' without 'else' whose condition is false)";
  return "'" + v.name + "' is undefined";
}

const json& need(const Val& v) {
  if (v.undef) fail(undefined_message(v));
  return v.get();
}

void check_size(std::size_t n) {
  if (n > k_max_value_bytes) fail("result larger than 16 MiB");
}

bool equal(const json& a, const json& b) {
  if (is_num(a) && is_num(b)) {
    if (is_int(a) && is_int(b)) return as_int(a) == as_int(b);
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto f = b.find(it.key());
      if (f == b.end() || !equal(it.value(), *f)) return false;
    }
    return true;
  }
  return a == b;
}

// <0, 0, >0 with Python's ordering rules; throws for incomparable types.
int order(const json& a, const json& b, const char* op) {
  if (is_num(a) && is_num(b)) {
    if (is_int(a) && is_int(b)) {
      auto x = as_int(a), y = as_int(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = as_double(a), y = as_double(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_array() && b.is_array()) {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (equal(a[i], b[i])) continue;
      return order(a[i], b[i], op);
    }
    return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
  }
  fail(std::string("'") + op + "' not supported between " + type_name(a) + " and " + type_name(b) +
       " (convert with '| int' or '| string')");
}

bool contains(const json& hay, const json& needle) {
  if (hay.is_string()) {
    if (!needle.is_string()) fail("'in <string>' requires a string on the left, not " + type_name(needle));
    return hay.get_ref<const std::string&>().find(needle.get_ref<const std::string&>()) != std::string::npos;
  }
  if (hay.is_array()) {
    for (const auto& x : hay)
      if (equal(x, needle)) return true;
    return false;
  }
  if (hay.is_object()) {
    if (!needle.is_string()) return false;
    return hay.contains(needle.get<std::string>());
  }
  fail("'in' needs a string, list or dict on the right, not " + type_name(hay));
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

json int_arith(Op op, std::int64_t x, std::int64_t y) {
  std::int64_t r = 0;
  switch (op) {
    case Op::add:
      if (__builtin_add_overflow(x, y, &r)) return static_cast<double>(x) + static_cast<double>(y);
      return r;
    case Op::sub:
      if (__builtin_sub_overflow(x, y, &r)) return static_cast<double>(x) - static_cast<double>(y);
      return r;
    case Op::mul:
      if (__builtin_mul_overflow(x, y, &r)) return static_cast<double>(x) * static_cast<double>(y);
      return r;
    case Op::floordiv:
    case Op::mod: {
      if (y == 0) fail("division by zero");
      if (x == std::numeric_limits<std::int64_t>::min() && y == -1)
        return op == Op::mod ? json(0) : json(-static_cast<double>(x));
      std::int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return op == Op::mod ? m : q;
    }
    default: break;
  }
  return nullptr;
}

json arith(Op op, const json& a, const json& b) {
  if (op == Op::add) {
    if (a.is_string() && b.is_string()) {
      check_size(a.get_ref<const std::string&>().size() + b.get_ref<const std::string&>().size());
      return a.get<std::string>() + b.get<std::string>();
    }
    if (a.is_array() && b.is_array()) {
      check_size((a.size() + b.size()) * 8);
      json r = a;
      for (const auto& x : b) r.push_back(x);
      return r;
    }
  }
  if (op == Op::mul && (a.is_string() || a.is_array() || b.is_string() || b.is_array())) {
    const json& seq = (a.is_string() || a.is_array()) ? a : b;
    const json& n = (a.is_string() || a.is_array()) ? b : a;
    if (!is_int(n)) fail("can only multiply a sequence by an int");
    std::int64_t k = std::max<std::int64_t>(0, as_int(n));
    std::size_t unit = seq.is_string() ? seq.get_ref<const std::string&>().size() : seq.size() * 8;
    if (unit && static_cast<std::uint64_t>(k) > k_max_value_bytes / unit) fail("result larger than 16 MiB");
    if (seq.is_string()) {
      std::string r;
      for (std::int64_t i = 0; i < k; ++i) r += seq.get_ref<const std::string&>();
      return r;
    }
    json r = json::array();
    for (std::int64_t i = 0; i < k; ++i)
      for (const auto& x : seq) r.push_back(x);
    return r;
  }
  const char* sym = op == Op::add ? "+" : op == Op::sub ? "-" : op == Op::mul ? "*" : op == Op::div ? "/"
                    : op == Op::floordiv ? "//" : "%";
  if (!is_num(a) || !is_num(b))
    fail(std::string("'") + sym + "' not supported between " + type_name(a) + " and " + type_name(b) +
         " (convert with '| int')");
  if (op == Op::div) {
    double y = as_double(b);
    if (y == 0) fail("division by zero");
    return as_double(a) / y;
  }
  if (is_int(a) && is_int(b)) return int_arith(op, as_int(a), as_int(b));
  double x = as_double(a), y = as_double(b);
  switch (op) {
    case Op::add: return x + y;
    case Op::sub: return x - y;
    case Op::mul: return x * y;
    case Op::floordiv:
      if (y == 0) fail("division by zero");
      return std::floor(x / y);
    case Op::mod: {
      if (y == 0) fail("division by zero");
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return m;
    }
    default: break;
  }
  return nullptr;
}

// Python's int() on a string, then float(); Jinja's `int` filter falls back
// to a default of 0 when neither works.
std::optional<std::int64_t> parse_int_text(std::string_view s) {
  std::string t(trim(s));
  if (t.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno == 0 && end && *end == '\0') return v;
  errno = 0;
  double d = std::strtod(t.c_str(), &end);
  if (errno == 0 && end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18)
    return static_cast<std::int64_t>(d);
  return std::nullopt;
}

std::optional<double> parse_float_text(std::string_view s) {
  std::string t(trim(s));
  if (t.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (errno == 0 && end && *end == '\0') return d;
  return std::nullopt;
}

bool ansible_bool(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return as_double(v) == 1.0;
  if (v.is_string()) {
    std::string s = to_lower(trim(v.get<std::string>()));
    return s == "yes" || s == "on" || s == "1" || s == "true" || s == "y" || s == "t";
  }
  return false;
}

json python_split(const std::string& s, const json* sep, std::int64_t maxsplit, bool from_right) {
  json out = json::array();
  if (!sep || sep->is_null()) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      std::size_t b = i;
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      words.emplace_back(s.substr(b, i - b));
    }
    if (maxsplit >= 0 && static_cast<std::size_t>(maxsplit) + 1 < words.size()) {
      // Rejoining loses the original spacing; good enough for playbooks.
      std::vector<std::string> head(words.begin(), words.begin() + maxsplit);
      std::vector<std::string> tail(words.begin() + maxsplit, words.end());
      if (from_right) {
        head.assign(words.begin(), words.end() - maxsplit);
        tail.assign(words.end() - maxsplit, words.end());
        out.push_back(join(head, " "));
        for (auto& t : tail) out.push_back(t);
        return out;
      }
      for (auto& h : head) out.push_back(h);
      out.push_back(join(tail, " "));
      return out;
    }
    for (auto& w : words) out.push_back(w);
    return out;
  }
  if (!sep->is_string()) fail("split(): the separator must be a string");
  const std::string& d = sep->get_ref<const std::string&>();
  if (d.empty()) fail("split(): empty separator");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto p = s.find(d, start);
    if (p == std::string::npos) break;
    parts.emplace_back(s.substr(start, p - start));
    start = p + d.size();
  }
  parts.emplace_back(s.substr(start));
  if (maxsplit >= 0 && static_cast<std::size_t>(maxsplit) + 1 < parts.size()) {
    std::vector<std::string> merged;
    if (from_right) {
      std::size_t keep = parts.size() - static_cast<std::size_t>(maxsplit);
      std::vector<std::string> head(parts.begin(), parts.begin() + keep);
      merged.push_back(join(head, d));
      merged.insert(merged.end(), parts.begin() + keep, parts.end());
    } else {
      merged.assign(parts.begin(), parts.begin() + maxsplit);
      std::vector<std::string> tail(parts.begin() + maxsplit, parts.end());
      merged.push_back(join(tail, d));
    }
    parts = std::move(merged);
  }
  for (auto& p : parts) out.push_back(p);
  return out;
}

std::string strip_chars(const std::string& s, const json* chars, bool left, bool right) {
  std::string set = chars && chars->is_string() ? chars->get<std::string>() : std::string(" \t\n\r\f\v");
  std::size_t b = 0, e = s.size();
  if (left)
    while (b < e && set.find(s[b]) != std::string::npos) ++b;
  if (right)
    while (e > b && set.find(s[e - 1]) != std::string::npos) --e;
  return s.substr(b, e - b);
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, std::int64_t count) {
  if (from.empty()) return s;
  std::size_t hits = 0;
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + from.size())) ++hits;
  if (count >= 0) hits = std::min<std::size_t>(hits, static_cast<std::size_t>(count));
  if (to.size() > from.size()) check_size(s.size() + hits * (to.size() - from.size()));
  std::string out;
  std::size_t start = 0, done = 0;
  while (count < 0 || done < static_cast<std::size_t>(count)) {
    auto p = s.find(from, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}

std::string path_basename(const std::string& p) {
  auto i = p.rfind('/');
  return i == std::string::npos ? p : p.substr(i + 1);
}
std::string path_dirname(const std::string& p) {
  auto i = p.rfind('/');
  if (i == std::string::npos) return "";
  std::string d = p.substr(0, i);
  if (d.empty()) return "/";
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

// ---------------------------------------------------------------------------
// Evaluator
// ---------------------------------------------------------------------------

class Evaluator {
 public:
  explicit Evaluator(const Scope& scope) : m_scope(scope) {}

  Val eval(const ExprNode& n) {
    switch (n.op) {
      case Op::literal: return Val::borrowed(&n.value);
      case Op::var: {
        if (n.name.empty()) return Val::undefined("");
        Scope::Found f = m_scope.find(n.name);
        if (!f.value) return Val::undefined(n.name);
        if (f.templated && contains_template(*f.value)) return render_var(n.name, *f.value);
        Val v = Val::borrowed(f.value);
        v.name = n.name;
        return v;
      }
      case Op::attr: return attr(eval(*n.kids[0]), n.name);
      case Op::index: return index(eval(*n.kids[0]), eval(*n.kids[1]));
      case Op::slice: return slice(n);
      case Op::list: {
        json out = json::array();
        for (const auto& k : n.kids) out.push_back(need(eval(*k)));
        return Val::of(std::move(out));
      }
      case Op::dict: {
        json out = json::object();
        for (std::size_t i = 0; i + 1 < n.kids.size(); i += 2) {
          Val kv = eval(*n.kids[i]);
          const json& k = need(kv);
          std::string key = k.is_string() ? k.get<std::string>() : to_display_string(k);
          out[key] = need(eval(*n.kids[i + 1]));
        }
        return Val::of(std::move(out));
      }
      case Op::neg:
      case Op::pos: {
        Val operand = eval(*n.kids[0]);
        const json& v = need(operand);
        if (!is_num(v)) fail("unary '" + std::string(n.op == Op::neg ? "-" : "+") + "' needs a number, not " + type_name(v));
        if (n.op == Op::pos) return Val::of(v.is_boolean() ? json(as_int(v)) : v);
        if (is_int(v)) {
          auto x = as_int(v);
          if (x == std::numeric_limits<std::int64_t>::min()) return Val::of(-static_cast<double>(x));
          return Val::of(-x);
        }
        return Val::of(-as_double(v));
      }
      case Op::not_: return Val::of(!truthy(need(eval(*n.kids[0]))));
      case Op::and_: {
        Val l = eval(*n.kids[0]);
        if (!truthy(need(l))) return l;
        return eval(*n.kids[1]);
      }
      case Op::or_: {
        Val l = eval(*n.kids[0]);
        if (truthy(need(l))) return l;
        return eval(*n.kids[1]);
      }
      case Op::add:
      case Op::sub:
      case Op::mul:
      case Op::div:
      case Op::floordiv:
      case Op::mod: {
        Val l = eval(*n.kids[0]);
        Val r = eval(*n.kids[1]);
        return Val::of(arith(n.op, need(l), need(r)));
      }
      case Op::concat: {
        Val l = eval(*n.kids[0]);
        Val r = eval(*n.kids[1]);
        std::string s = to_display_string(need(l)) + to_display_string(need(r));
        check_size(s.size());
        return Val::of(std::move(s));
      }
      case Op::eq:
      case Op::ne: {
        Val l = eval(*n.kids[0]);
        Val r = eval(*n.kids[1]);
        bool e = equal(need(l), need(r));
        return Val::of(n.op == Op::eq ? e : !e);
      }
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge: {
        Val l = eval(*n.kids[0]);
        Val r = eval(*n.kids[1]);
        const char* sym = n.op == Op::lt ? "<" : n.op == Op::le ? "<=" : n.op == Op::gt ? ">" : ">=";
        int c = order(need(l), need(r), sym);
        bool res = n.op == Op::lt ? c < 0 : n.op == Op::le ? c <= 0 : n.op == Op::gt ? c > 0 : c >= 0;
        return Val::of(res);
      }
      case Op::in:
      case Op::not_in: {
        Val l = eval(*n.kids[0]);
        Val r = eval(*n.kids[1]);
        bool c = contains(need(r), need(l));
        return Val::of(n.op == Op::in ? c : !c);
      }
      case Op::filter: return filter(n);
      case Op::test: {
        bool r = test(n);
        return Val::of(n.negate ? !r : r);
      }
      case Op::method: return method(n);
      case Op::call: return call(n);
      case Op::cond: {
        if (truthy(need(eval(*n.kids[0])))) return eval(*n.kids[1]);
        return eval(*n.kids[2]);
      }
    }
    fail("internal: unknown expression node");
  }

 private:
  // A var written as a template ("{{ base }}/x") is rendered when read.
  Val render_var(const std::string& name, const json& value) {
    static thread_local int depth = 0;
    if (depth > 16) fail("var '" + name + "' refers to itself (a template loop)");
    ++depth;
    try {
      json r = render_json(value, m_scope);
      --depth;
      Val v = Val::of(std::move(r));
      v.name = name;
      return v;
    } catch (const ExprSyntaxError& e) {
      --depth;
      fail("var '" + name + "': " + e.what());
    } catch (...) {
      --depth;
      throw;
    }
  }

  static std::string qualified(const Val& base, const std::string& attr) {
    return base.name.empty() ? attr : base.name + "." + attr;
  }

  Val attr(Val base, const std::string& name) {
    if (base.undef) return Val::undefined(qualified(base, name));
    const json& b = base.get();
    if (b.is_object()) {
      auto it = b.find(name);
      if (it == b.end()) {
        Val u = Val::undefined(qualified(base, name));
        return u;
      }
      Val v = base.ref ? Val::borrowed(&*it) : Val::of(*it);
      v.name = qualified(base, name);
      return v;
    }
    Val u = Val::undefined(qualified(base, name));
    return u;
  }

  Val index(Val base, Val key) {
    const json& k = need(key);
    if (base.undef) return Val::undefined(base.name + "[" + to_display_string(k) + "]");
    const json& b = base.get();
    if (b.is_object()) {
      std::string ks = k.is_string() ? k.get<std::string>() : to_display_string(k);
      auto it = b.find(ks);
      if (it == b.end()) {
        Val u = Val::undefined((base.name.empty() ? std::string("value") : base.name) + "['" + ks + "']");
        return u;
      }
      Val v = base.ref ? Val::borrowed(&*it) : Val::of(*it);
      v.name = (base.name.empty() ? std::string("value") : base.name) + "['" + ks + "']";
      return v;
    }
    if (b.is_array() || b.is_string()) {
      if (!is_int(k)) fail("list and string indices must be integers, not " + type_name(k));
      std::int64_t i = as_int(k);
      std::int64_t size = b.is_array() ? static_cast<std::int64_t>(b.size())
                                       : static_cast<std::int64_t>(b.get_ref<const std::string&>().size());
      if (i < 0) i += size;
      if (i < 0 || i >= size) {
        return Val::undefined((base.name.empty() ? std::string("value") : base.name) + "[" + std::to_string(as_int(k)) +
                              "] (index out of range)");
      }
      if (b.is_string()) return Val::of(std::string(1, b.get_ref<const std::string&>()[static_cast<std::size_t>(i)]));
      return base.ref ? Val::borrowed(&b[static_cast<std::size_t>(i)]) : Val::of(b[static_cast<std::size_t>(i)]);
    }
    fail("'" + type_name(b) + "' value cannot be indexed");
  }

  Val slice(const ExprNode& n) {
    Val base = eval(*n.kids[0]);
    const json& b = need(base);
    if (!b.is_array() && !b.is_string()) fail("only lists and strings can be sliced, not " + type_name(b));
    std::int64_t size = b.is_array() ? static_cast<std::int64_t>(b.size())
                                     : static_cast<std::int64_t>(b.get_ref<const std::string&>().size());
    auto bound = [&](const NodeP& e, std::int64_t dflt) {
      if (!e) return dflt;
      Val bv = eval(*e);
      const json& v = need(bv);
      if (v.is_null()) return dflt;
      if (!is_int(v)) fail("slice indices must be integers");
      std::int64_t i = as_int(v);
      if (i < 0) i += size;
      return std::clamp<std::int64_t>(i, 0, size);
    };
    std::int64_t lo = bound(n.kids[1], 0), hi = bound(n.kids[2], size);
    if (hi < lo) hi = lo;
    if (b.is_string())
      return Val::of(b.get_ref<const std::string&>().substr(static_cast<std::size_t>(lo), static_cast<std::size_t>(hi - lo)));
    json out = json::array();
    for (std::int64_t i = lo; i < hi; ++i) out.push_back(b[static_cast<std::size_t>(i)]);
    return Val::of(std::move(out));
  }

  // Argument access for filters/tests/methods (kids[0] is the subject for
  // filters and tests, so positional args start at `first`).
  struct Args {
    std::vector<Val> pos;
    std::map<std::string, Val> kw;
    const json* get(std::size_t i, const char* kwname) const {
      if (i < pos.size()) return &need(pos[i]);
      auto it = kw.find(kwname);
      if (it != kw.end()) return &need(it->second);
      return nullptr;
    }
    const Val* raw(std::size_t i, const char* kwname) const {
      if (i < pos.size()) return &pos[i];
      auto it = kw.find(kwname);
      return it != kw.end() ? &it->second : nullptr;
    }
  };

  Args collect(const ExprNode& n, std::size_t first) {
    Args a;
    for (std::size_t i = first; i < n.kids.size(); ++i) a.pos.push_back(eval(*n.kids[i]));
    for (const auto& [k, v] : n.kwargs) a.kw.emplace(k, eval(*v));
    return a;
  }

  static std::string need_string(const json& v, const std::string& what) {
    if (!v.is_string()) fail(what + " needs a string, not " + type_name(v));
    return v.get<std::string>();
  }

  static std::int64_t opt_int(const json* v, std::int64_t dflt, const std::string& what) {
    if (!v || v->is_null()) return dflt;
    if (!is_int(*v)) fail(what + " needs an int, not " + type_name(*v));
    return as_int(*v);
  }

  Val apply_filter(const std::string& f, Val subject, const Args& a) {
    if (f == "default" || f == "d") {
      const Val* dv = a.raw(0, "default_value");
      const json* boolean = a.get(1, "boolean");
      bool use_default = subject.undef || (boolean && truthy(*boolean) && !truthy(subject.get()));
      if (use_default) return dv ? *dv : Val::of("");
      return subject;
    }
    if (f == "mandatory") {
      if (subject.undef) {
        const json* msg = a.get(0, "msg");
        fail(msg && msg->is_string() ? msg->get<std::string>() : "Mandatory variable '" + subject.name + "' not defined.");
      }
      return subject;
    }
    const json& v = need(subject);
    if (f == "int") {
      if (is_int(v)) return Val::of(as_int(v));
      if (v.is_number_float()) {
        double d = v.get<double>();
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return Val::of(0);
        return Val::of(static_cast<std::int64_t>(d));
      }
      if (v.is_string()) {
        auto i = parse_int_text(v.get<std::string>());
        if (i) return Val::of(*i);
      }
      const json* dflt = a.get(0, "default");
      return Val::of(dflt ? *dflt : json(0));
    }
    if (f == "float") {
      if (is_num(v)) return Val::of(as_double(v));
      if (v.is_string()) {
        auto d = parse_float_text(v.get<std::string>());
        if (d) return Val::of(*d);
      }
      const json* dflt = a.get(0, "default");
      return Val::of(dflt ? *dflt : json(0.0));
    }
    if (f == "bool") return Val::of(ansible_bool(v));
    if (f == "string") return Val::of(to_display_string(v));
    if (f == "length" || f == "count") {
      if (v.is_string()) return Val::of(static_cast<std::int64_t>(utf8_length(v.get<std::string>())));
      if (v.is_array() || v.is_object()) return Val::of(static_cast<std::int64_t>(v.size()));
      fail("'" + f + "' needs a string, list or dict, not " + type_name(v));
    }
    if (f == "lower" || f == "upper" || f == "capitalize") {
      std::string s = need_string(v, "'" + f + "'");
      for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (f == "upper" || (f == "capitalize" && i == 0)) s[i] = static_cast<char>(std::toupper(c));
        else s[i] = static_cast<char>(std::tolower(c));
      }
      return Val::of(s);
    }
    if (f == "trim") return Val::of(std::string(trim(need_string(v, "'trim'"))));
    if (f == "join") {
      const json* sep = a.get(0, "d");
      std::string d = sep ? to_display_string(*sep) : "";
      if (v.is_string()) return Val::of(v);
      if (!v.is_array()) fail("'join' needs a list, not " + type_name(v));
      std::vector<std::string> parts;
      std::size_t total = 0;
      for (const auto& x : v) {
        parts.push_back(to_display_string(x));
        total += parts.back().size() + d.size();
        check_size(total);
      }
      return Val::of(join(parts, d));
    }
    if (f == "first" || f == "last") {
      if (v.is_array()) {
        if (v.empty()) return Val::undefined("first item of an empty list");
        return Val::of(f == "first" ? v.front() : v.back());
      }
      if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (s.empty()) return Val::undefined("first character of an empty string");
        return Val::of(std::string(1, f == "first" ? s.front() : s.back()));
      }
      fail("'" + f + "' needs a list or string, not " + type_name(v));
    }
    if (f == "min" || f == "max") {
      if (!v.is_array()) fail("'" + f + "' needs a list, not " + type_name(v));
      if (v.empty()) return Val::undefined(f + " of an empty list");
      const json* best = &v[0];
      for (const auto& x : v) {
        int c = order(x, *best, f == "min" ? "<" : ">");
        if ((f == "min" && c < 0) || (f == "max" && c > 0)) best = &x;
      }
      return Val::of(*best);
    }
    if (f == "sum") {
      if (!v.is_array()) fail("'sum' needs a list, not " + type_name(v));
      json total = a.get(1, "start") ? *a.get(1, "start") : json(0);
      for (const auto& x : v) total = arith(Op::add, total, x);
      return Val::of(total);
    }
    if (f == "sort") {
      if (!v.is_array()) fail("'sort' needs a list, not " + type_name(v));
      const json* rev = a.get(0, "reverse");
      std::vector<json> items(v.begin(), v.end());
      std::stable_sort(items.begin(), items.end(), [](const json& x, const json& y) { return order(x, y, "<") < 0; });
      if (rev && truthy(*rev)) std::reverse(items.begin(), items.end());
      return Val::of(json(items));
    }
    if (f == "reverse") {
      if (v.is_string()) {
        std::string s = v.get<std::string>();
        std::reverse(s.begin(), s.end());
        return Val::of(s);
      }
      if (!v.is_array()) fail("'reverse' needs a list or string, not " + type_name(v));
      std::vector<json> items(v.begin(), v.end());
      std::reverse(items.begin(), items.end());
      return Val::of(json(items));
    }
    if (f == "unique") {
      if (!v.is_array()) fail("'unique' needs a list, not " + type_name(v));
      json out = json::array();
      for (const auto& x : v) {
        bool seen = false;
        for (const auto& y : out)
          if (equal(x, y)) {
            seen = true;
            break;
          }
        if (!seen) out.push_back(x);
      }
      return Val::of(std::move(out));
    }
    if (f == "list") {
      if (v.is_array()) return Val::of(v);
      json out = json::array();
      if (v.is_string())
        for (char c : v.get<std::string>()) out.push_back(std::string(1, c));
      else if (v.is_object())
        for (auto it = v.begin(); it != v.end(); ++it) out.push_back(it.key());
      else
        fail("'list' needs a list, string or dict, not " + type_name(v));
      return Val::of(std::move(out));
    }
    if (f == "replace") {
      const json* from = a.get(0, "old");
      const json* to = a.get(1, "new");
      if (!from || !to) fail("'replace' needs two arguments: replace(old, new)");
      return Val::of(replace_all(need_string(v, "'replace'"), to_display_string(*from), to_display_string(*to),
                                 opt_int(a.get(2, "count"), -1, "'replace' count")));
    }
    if (f == "split") {
      const json* sep = a.get(0, "sep");
      return Val::of(python_split(need_string(v, "'split'"), sep, opt_int(a.get(1, "maxsplit"), -1, "'split' maxsplit"), false));
    }
    if (f == "abs") {
      if (!is_num(v)) fail("'abs' needs a number, not " + type_name(v));
      if (is_int(v)) {
        auto x = as_int(v);
        if (x == std::numeric_limits<std::int64_t>::min()) return Val::of(-static_cast<double>(x));
        return Val::of(x < 0 ? -x : x);
      }
      return Val::of(std::fabs(as_double(v)));
    }
    if (f == "round") {
      if (!is_num(v)) fail("'round' needs a number, not " + type_name(v));
      std::int64_t prec = std::clamp<std::int64_t>(opt_int(a.get(0, "precision"), 0, "'round' precision"), -15, 15);
      const json* method = a.get(1, "method");
      std::string m = method && method->is_string() ? method->get<std::string>() : "common";
      double scale = std::pow(10.0, static_cast<double>(prec));
      double x = as_double(v) * scale;
      double r = m == "floor" ? std::floor(x) : m == "ceil" ? std::ceil(x) : std::round(x);
      return Val::of(r / scale);
    }
    if (f == "to_json") return Val::of(v.dump(-1, ' ', false, json::error_handler_t::replace));
    if (f == "to_nice_json") {
      std::int64_t indent = std::clamp<std::int64_t>(opt_int(a.get(0, "indent"), 4, "'to_nice_json' indent"), 0, 16);
      return Val::of(v.dump(static_cast<int>(indent), ' ', false, json::error_handler_t::replace));
    }
    if (f == "from_json") {
      std::string text = need_string(v, "'from_json'");
      int depth = 0, max_depth = 0;
      bool in_string = false;
      for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
          if (c == '\\') ++i;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '[' || c == '{') {
          max_depth = std::max(max_depth, ++depth);
        } else if (c == ']' || c == '}') {
          --depth;
        }
      }
      if (max_depth > 64) fail("from_json: nested more than 64 levels");
      try {
        return Val::of(json::parse(text));
      } catch (const json::exception& e) {
        fail(std::string("from_json: ") + e.what());
      }
    }
    if (f == "b64encode") return Val::of(base64_encode(need_string(v, "'b64encode'")));
    if (f == "b64decode") {
      auto d = base64_decode(need_string(v, "'b64decode'"));
      if (!d) fail("b64decode: not base64");
      return Val::of(*d);
    }
    if (f == "basename") return Val::of(path_basename(need_string(v, "'basename'")));
    if (f == "dirname") return Val::of(path_dirname(need_string(v, "'dirname'")));
    if (f == "quote") return Val::of(shell_quote(to_display_string(v)));
    if (f == "ternary") {
      const json* t = a.get(0, "true_val");
      const json* e = a.get(1, "false_val");
      const json* none = a.get(2, "none_val");
      if (!t || !e) fail("'ternary' needs two arguments: ternary(if_true, if_false)");
      if (v.is_null() && none) return Val::of(*none);
      return Val::of(truthy(v) ? *t : *e);
    }
    if (f == "dict2items") {
      if (!v.is_object()) fail("'dict2items' needs a dict, not " + type_name(v));
      json out = json::array();
      for (auto it = v.begin(); it != v.end(); ++it) out.push_back({{"key", it.key()}, {"value", it.value()}});
      return Val::of(std::move(out));
    }
    if (f == "items2dict") {
      if (!v.is_array()) fail("'items2dict' needs a list, not " + type_name(v));
      json out = json::object();
      for (const auto& x : v) {
        if (!x.is_object() || !x.contains("key") || !x.contains("value")) fail("'items2dict' needs items with 'key' and 'value'");
        out[to_display_string(x["key"])] = x["value"];
      }
      return Val::of(std::move(out));
    }
    if (f == "combine") {
      if (!v.is_object()) fail("'combine' needs a dict, not " + type_name(v));
      const json* rec = nullptr;
      auto it = a.kw.find("recursive");
      if (it != a.kw.end()) rec = &need(it->second);
      json out = v;
      for (const auto& p : a.pos) {
        const json& o = need(p);
        if (!o.is_object()) fail("'combine' needs dicts, not " + type_name(o));
        if (rec && truthy(*rec))
          out.merge_patch(o);
        else
          for (auto i = o.begin(); i != o.end(); ++i) out[i.key()] = i.value();
      }
      return Val::of(std::move(out));
    }
    if (f == "map" || f == "select" || f == "reject" || f == "selectattr" || f == "rejectattr") return sequence_filter(f, v, a);
    fail("filter '" + f + "' is not implemented");
  }

  Val sequence_filter(const std::string& f, const json& v, const Args& a) {
    if (!v.is_array()) fail("'" + f + "' needs a list, not " + type_name(v));
    json out = json::array();
    if (f == "map") {
      auto at = a.kw.find("attribute");
      if (at != a.kw.end()) {
        std::string attr_name = to_display_string(need(at->second));
        const json* dflt = a.get(99, "default");
        for (const auto& x : v) {
          if (x.is_object() && x.contains(attr_name))
            out.push_back(x[attr_name]);
          else if (dflt)
            out.push_back(*dflt);
          else
            fail("map(attribute='" + attr_name + "'): an item has no attribute '" + attr_name + "'");
        }
        return Val::of(std::move(out));
      }
      if (a.pos.empty()) fail("'map' needs a filter name or attribute=NAME");
      std::string name = need_string(need(a.pos[0]), "'map'");
      if (!known(k_filters, name) || name == "map") fail("map(): unknown filter '" + name + "'");
      Args rest;
      rest.pos.assign(a.pos.begin() + 1, a.pos.end());
      for (const auto& x : v) out.push_back(apply_filter(name, Val::of(x), rest).take());
      return Val::of(std::move(out));
    }
    bool by_attr = f == "selectattr" || f == "rejectattr";
    bool keep_if = f == "select" || f == "selectattr";
    std::size_t first = 0;
    std::string attr_name;
    if (by_attr) {
      if (a.pos.empty()) fail("'" + f + "' needs an attribute name");
      attr_name = to_display_string(need(a.pos[0]));
      first = 1;
    }
    std::string test_name = a.pos.size() > first ? need_string(need(a.pos[first]), "'" + f + "' test") : "";
    if (!test_name.empty()) {
      if (test_name == "==") test_name = "eq";
      else if (test_name == "!=") test_name = "ne";
      else if (test_name == "<") test_name = "lt";
      else if (test_name == "<=") test_name = "le";
      else if (test_name == ">") test_name = "gt";
      else if (test_name == ">=") test_name = "ge";
      if (!known(k_tests, test_name)) fail("'" + f + "': unknown test '" + test_name + "'");
    }
    std::vector<Val> targs;
    for (std::size_t i = first + 1; i < a.pos.size(); ++i) targs.push_back(a.pos[i]);
    for (const auto& x : v) {
      Val subject;
      if (by_attr) {
        if (x.is_object() && x.contains(attr_name))
          subject = Val::of(x[attr_name]);
        else
          subject = Val::undefined(attr_name);
      } else {
        subject = Val::of(x);
      }
      bool r = test_name.empty() ? (!subject.undef && truthy(subject.get())) : run_test(test_name, subject, targs);
      if (r == keep_if) out.push_back(x);
    }
    return Val::of(std::move(out));
  }

  Val filter(const ExprNode& n) {
    Val subject = eval(*n.kids[0]);
    Args a = collect(n, 1);
    return apply_filter(n.name, std::move(subject), a);
  }

  static const json& result_dict(const Val& v, const std::string& test) {
    const json& r = need(v);
    if (!r.is_object()) fail("the '" + test + "' test needs a registered task result, not " + type_name(r));
    return r;
  }

  static bool flag(const json& r, const char* key) {
    auto it = r.find(key);
    return it != r.end() && truthy(*it);
  }

  bool run_test(const std::string& t, const Val& subject, const std::vector<Val>& args) {
    if (t == "defined") return !subject.undef;
    if (t == "undefined") return subject.undef;
    auto arg = [&](std::size_t i) -> const json& {
      if (i >= args.size()) fail("the '" + t + "' test needs an argument");
      return need(args[i]);
    };
    if (t == "succeeded" || t == "success") return !flag(result_dict(subject, t), "failed");
    if (t == "failed" || t == "failure") return flag(result_dict(subject, t), "failed");
    if (t == "changed" || t == "change") return flag(result_dict(subject, t), "changed");
    if (t == "skipped" || t == "skip") return flag(result_dict(subject, t), "skipped");
    const json& v = need(subject);
    if (t == "none") return v.is_null();
    if (t == "boolean") return v.is_boolean();
    if (t == "string") return v.is_string();
    if (t == "number") return v.is_number();
    if (t == "integer") return v.is_number_integer();
    if (t == "float") return v.is_number_float();
    if (t == "mapping") return v.is_object();
    if (t == "sequence" || t == "iterable") return v.is_array() || v.is_string() || v.is_object();
    if (t == "truthy") return truthy(v);
    if (t == "falsy") return !truthy(v);
    if (t == "lower" || t == "upper") {
      if (!v.is_string()) return false;
      for (char c : v.get<std::string>())
        if (t == "lower" ? std::isupper(static_cast<unsigned char>(c)) : std::islower(static_cast<unsigned char>(c))) return false;
      return true;
    }
    if (t == "even" || t == "odd") {
      if (!is_int(v)) fail("the '" + t + "' test needs an int");
      bool even = as_int(v) % 2 == 0;
      return t == "even" ? even : !even;
    }
    if (t == "divisibleby") {
      const json& d = arg(0);
      if (!is_int(v) || !is_int(d) || as_int(d) == 0) fail("'divisibleby' needs non-zero ints");
      if (as_int(d) == -1) return true;
      return as_int(v) % as_int(d) == 0;
    }
    if (t == "eq" || t == "equalto" || t == "sameas") return equal(v, arg(0));
    if (t == "ne") return !equal(v, arg(0));
    if (t == "lt") return order(v, arg(0), "<") < 0;
    if (t == "le") return order(v, arg(0), "<=") <= 0;
    if (t == "gt") return order(v, arg(0), ">") > 0;
    if (t == "ge") return order(v, arg(0), ">=") >= 0;
    if (t == "in") return contains(arg(0), v);
    if (t == "version" || t == "version_compare") {
      std::string op = args.size() > 1 ? to_display_string(arg(1)) : "==";
      int c = compare_versions(to_display_string(v), to_display_string(arg(0)));
      if (op == "<" || op == "lt") return c < 0;
      if (op == "<=" || op == "le") return c <= 0;
      if (op == ">" || op == "gt") return c > 0;
      if (op == ">=" || op == "ge") return c >= 0;
      if (op == "==" || op == "=" || op == "eq") return c == 0;
      if (op == "!=" || op == "<>" || op == "ne") return c != 0;
      fail("version test: unknown operator '" + op + "'");
    }
    fail("test '" + t + "' is not implemented");
  }

  bool test(const ExprNode& n) {
    Val subject = eval(*n.kids[0]);
    std::vector<Val> args;
    for (std::size_t i = 1; i < n.kids.size(); ++i) args.push_back(eval(*n.kids[i]));
    for (const auto& [k, v] : n.kwargs) {
      (void)k;
      args.push_back(eval(*v));
    }
    return run_test(n.name, subject, args);
  }

  Val method(const ExprNode& n) {
    Val subject = eval(*n.kids[0]);
    const json& v = need(subject);
    Args a = collect(n, 1);
    const std::string& m = n.name;
    if (v.is_object()) {
      if (m == "items") {
        json out = json::array();
        for (auto it = v.begin(); it != v.end(); ++it) out.push_back(json::array({it.key(), it.value()}));
        return Val::of(std::move(out));
      }
      if (m == "keys" || m == "values") {
        json out = json::array();
        for (auto it = v.begin(); it != v.end(); ++it) out.push_back(m == "keys" ? json(it.key()) : it.value());
        return Val::of(std::move(out));
      }
      if (m == "get") {
        const json* k = a.get(0, "key");
        if (!k) fail("get() needs a key");
        auto it = v.find(to_display_string(*k));
        if (it != v.end()) return Val::of(*it);
        const json* d = a.get(1, "default");
        return Val::of(d ? *d : json(nullptr));
      }
      fail("a dict has no method '" + m + "()'");
    }
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      if (m == "startswith" || m == "endswith") {
        const json* p = a.get(0, "prefix");
        if (!p) fail(m + "() needs an argument");
        std::vector<std::string> options;
        if (p->is_array())
          for (const auto& x : *p) options.push_back(to_display_string(x));
        else
          options.push_back(to_display_string(*p));
        for (const auto& o : options)
          if (m == "startswith" ? starts_with(s, o) : ends_with(s, o)) return Val::of(true);
        return Val::of(false);
      }
      if (m == "split" || m == "rsplit")
        return Val::of(python_split(s, a.get(0, "sep"), opt_int(a.get(1, "maxsplit"), -1, m + "() maxsplit"), m == "rsplit"));
      if (m == "strip") return Val::of(strip_chars(s, a.get(0, "chars"), true, true));
      if (m == "lstrip") return Val::of(strip_chars(s, a.get(0, "chars"), true, false));
      if (m == "rstrip") return Val::of(strip_chars(s, a.get(0, "chars"), false, true));
      if (m == "lower" || m == "upper") {
        std::string out = s;
        for (auto& c : out)
          c = static_cast<char>(m == "lower" ? std::tolower(static_cast<unsigned char>(c)) : std::toupper(static_cast<unsigned char>(c)));
        return Val::of(out);
      }
      if (m == "replace") {
        const json* from = a.get(0, "old");
        const json* to = a.get(1, "new");
        if (!from || !to) fail("replace() needs two arguments");
        return Val::of(replace_all(s, to_display_string(*from), to_display_string(*to), opt_int(a.get(2, "count"), -1, "replace() count")));
      }
      if (m == "find") {
        const json* sub = a.get(0, "sub");
        if (!sub) fail("find() needs an argument");
        auto p = s.find(to_display_string(*sub));
        return Val::of(p == std::string::npos ? std::int64_t{-1} : static_cast<std::int64_t>(p));
      }
      if (m == "count") {
        const json* sub = a.get(0, "sub");
        if (!sub) fail("count() needs an argument");
        std::string needle = to_display_string(*sub);
        if (needle.empty()) return Val::of(static_cast<std::int64_t>(s.size() + 1));
        std::int64_t c = 0;
        for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++c;
        return Val::of(c);
      }
      if (m == "splitlines") {
        json out = json::array();
        std::size_t start = 0;
        while (start < s.size()) {
          auto p = s.find('\n', start);
          std::string line = s.substr(start, p == std::string::npos ? std::string::npos : p - start);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          out.push_back(line);
          if (p == std::string::npos) break;
          start = p + 1;
        }
        return Val::of(std::move(out));
      }
      if (m == "isdigit") {
        return Val::of(!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
      }
      if (m == "join") {
        const json* items = a.get(0, "iterable");
        if (!items || !items->is_array()) fail("join() needs a list");
        std::vector<std::string> parts;
        std::size_t total = 0;
        for (const auto& x : *items) {
          parts.push_back(to_display_string(x));
          total += parts.back().size() + s.size();
          check_size(total);
        }
        return Val::of(join(parts, s));
      }
      fail("a string has no method '" + m + "()'");
    }
    fail("'" + type_name(v) + "' value has no method '" + m + "()'");
  }

  Val call(const ExprNode& n) {
    Args a = collect(n, 0);
    if (n.name == "range") {
      std::int64_t start = 0, stop = 0, step = 1;
      if (a.pos.size() == 1) {
        stop = opt_int(&need(a.pos[0]), 0, "range()");
      } else if (a.pos.size() >= 2) {
        start = opt_int(&need(a.pos[0]), 0, "range()");
        stop = opt_int(&need(a.pos[1]), 0, "range()");
        if (a.pos.size() >= 3) step = opt_int(&need(a.pos[2]), 1, "range()");
      } else {
        fail("range() needs 1 to 3 arguments");
      }
      if (step == 0) fail("range() step must not be zero");
      json out = json::array();
      for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        out.push_back(i);
        if (out.size() > 100000) fail("range() longer than 100000 items");
      }
      return Val::of(std::move(out));
    }
    fail("unknown function '" + n.name + "()'");
  }

  const Scope& m_scope;
};

void collect_vars(const ExprNode& n, std::vector<std::string>& out) {
  if (n.op == Op::var && !n.name.empty() && std::find(out.begin(), out.end(), n.name) == out.end())
    out.push_back(n.name);
  for (const auto& k : n.kids)
    if (k) collect_vars(*k, out);
  for (const auto& [name, k] : n.kwargs) {
    (void)name;
    collect_vars(*k, out);
  }
}

}  // namespace

json Expr::eval(const Scope& scope) const {
  if (!m_root) throw ExprEvalError("empty expression");
  Evaluator ev(scope);
  Val v = ev.eval(*m_root);
  return need(v);
}

bool Expr::eval_bool(const Scope& scope) const {
  json v = eval(scope);
  if (v.is_string()) {
    std::string s = to_lower(trim(v.get<std::string>()));
    if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
    if (s == "false" || s == "no" || s == "off" || s == "0" || s.empty()) return false;
  }
  return truthy(v);
}

std::vector<std::string> Expr::variables() const {
  std::vector<std::string> out;
  if (m_root) collect_vars(*m_root, out);
  return out;
}

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>() != 0;
    case json::value_t::number_unsigned: return v.get<std::uint64_t>() != 0;
    case json::value_t::number_float: return v.get<double>() != 0.0;
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object: return !v.empty();
    default: return false;
  }
}

std::string to_display_string(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "None";
    case json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.dump();
    case json::value_t::array:
    case json::value_t::object: return python_repr(v);
    default: return v.dump();
  }
}

const std::vector<std::string>& filter_names() { return k_filters; }
const std::vector<std::string>& test_names() { return k_tests; }

int compare_versions(std::string_view a, std::string_view b) {
  auto parts = [](std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
      if (c == '.' || c == '-' || c == '_' || c == '+' || c == ':' || c == '~') {
        out.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    out.push_back(cur);
    return out;
  };
  auto pa = parts(trim(a)), pb = parts(trim(b));
  std::size_t n = std::max(pa.size(), pb.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string x = i < pa.size() ? pa[i] : "0", y = i < pb.size() ? pb[i] : "0";
    bool xn = !x.empty() && std::all_of(x.begin(), x.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    bool yn = !y.empty() && std::all_of(y.begin(), y.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (xn && yn) {
      std::string_view xs = x, ys = y;
      while (xs.size() > 1 && xs[0] == '0') xs.remove_prefix(1);
      while (ys.size() > 1 && ys[0] == '0') ys.remove_prefix(1);
      if (xs.size() != ys.size()) return xs.size() < ys.size() ? -1 : 1;
      int c = xs.compare(ys);
      if (c) return c < 0 ? -1 : 1;
    } else {
      if (xn != yn) return xn ? 1 : -1;  // a number sorts after a word (1.0 > 1.0rc)
      int c = x.compare(y);
      if (c) return c < 0 ? -1 : 1;
    }
  }
  return 0;
}

}  // namespace aicloud::provision
