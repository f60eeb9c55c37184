// Template parsing in two passes: the text is cut into pieces (text,
// `{{ }}`, `{% %}`, `{# #}`) with whitespace control applied, then the
// block tags are matched into a tree with a stack. Rendering walks the tree
// with a private copy of the scope for `set` and loop variables.
#include "provision/template.hpp"

#include <vector>

#include "common/strings.hpp"

namespace aicloud::provision {

namespace {

constexpr std::size_t k_max_output = 64u << 20;
constexpr int k_max_nesting = 64;

enum class Kind { text, output, if_, for_, set };

}  // namespace

struct TemplateNode {
  Kind kind = Kind::text;
  std::string text;                                    // text
  Expr expr;                                           // output, for (iterable), set
  std::vector<std::pair<Expr, std::vector<std::shared_ptr<const TemplateNode>>>> branches;  // if
  std::vector<std::shared_ptr<const TemplateNode>> body;       // for, root
  std::vector<std::shared_ptr<const TemplateNode>> else_body;  // if, for
  std::vector<std::string> names;                      // for (1 or 2), set (1)
};

namespace {

using NodeP = std::shared_ptr<const TemplateNode>;

struct Piece {
  enum Type { text, output, tag } type = text;
  std::string content;  // text, or the tag body
  std::size_t pos = 0;  // offset of the piece (for tags: of the body)
  std::size_t start = 0;  // offset of the opening '{' (tags)
  Expr expr;            // output
};

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void rstrip_last_text(std::vector<Piece>& pieces) {
  if (!pieces.empty() && pieces.back().type == Piece::text) {
    auto& s = pieces.back().content;
    while (!s.empty() && space(s.back())) s.pop_back();
  }
}

std::vector<Piece> lex(std::string_view text) {
  std::vector<Piece> pieces;
  std::size_t i = 0;
  bool strip_next = false, trim_newline = false;
  auto add_text = [&](std::string_view t, std::size_t pos) {
    if (strip_next) {
      std::size_t k = 0;
      while (k < t.size() && space(t[k])) ++k;
      t.remove_prefix(k);
      strip_next = false;
    } else if (trim_newline) {
      if (!t.empty() && t[0] == '\n') t.remove_prefix(1);
      else if (t.size() > 1 && t[0] == '\r' && t[1] == '\n') t.remove_prefix(2);
    }
    trim_newline = false;
    if (t.empty()) return;
    if (!pieces.empty() && pieces.back().type == Piece::text) {
      pieces.back().content += t;
      return;
    }
    Piece p;
    p.type = Piece::text;
    p.content = std::string(t);
    p.pos = pos;
    pieces.push_back(std::move(p));
  };
  while (i < text.size()) {
    std::size_t open = text.find('{', i);
    while (open != std::string_view::npos && open + 1 < text.size() && text[open + 1] != '{' && text[open + 1] != '%' &&
           text[open + 1] != '#')
      open = text.find('{', open + 1);
    if (open == std::string_view::npos || open + 1 >= text.size()) {
      add_text(text.substr(i), i);
      break;
    }
    add_text(text.substr(i, open - i), i);
    char kind = text[open + 1];
    std::size_t body = open + 2;
    bool strip_before = body < text.size() && text[body] == '-';
    if (strip_before) {
      ++body;
      rstrip_last_text(pieces);
    }
    if (kind == '#') {
      std::size_t close = text.find("#}", body);
      if (close == std::string_view::npos) throw ExprSyntaxError(open, "unterminated comment '{#'");
      strip_next = close > body && text[close - 1] == '-';
      trim_newline = !strip_next;
      i = close + 2;
      continue;
    }
    if (kind == '{') {
      std::size_t stop = 0;
      Piece p;
      p.type = Piece::output;
      p.pos = body;
      p.expr = parse_expr_until(text, body, "}}", &stop);
      if (stop >= text.size()) throw ExprSyntaxError(open, "unterminated '{{' (missing '}}')");
      std::size_t close = stop;
      if (text[close] == '-') {
        strip_next = true;
        ++close;
      }
      if (text.substr(close, 2) != "}}") throw ExprSyntaxError(close, "expected '}}'");
      pieces.push_back(std::move(p));
      i = close + 2;
      continue;
    }
    // {% ... %}: find the end, skipping quoted strings.
    std::size_t j = body;
    char quote = 0;
    std::size_t close = std::string_view::npos;
    for (; j + 1 < text.size(); ++j) {
      char c = text[j];
      if (quote) {
        if (c == '\\') ++j;
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '\'' || c == '"') quote = c;
      else if (c == '%' && text[j + 1] == '}') {
        close = j;
        break;
      }
    }
    if (close == std::string_view::npos) throw ExprSyntaxError(open, "unterminated '{%' (missing '%}')");
    std::size_t end_body = close;
    bool strip_after = end_body > body && text[end_body - 1] == '-';
    if (strip_after) --end_body;
    std::string_view tag = text.substr(body, end_body - body);
    std::string_view word = trim(tag);
    std::size_t word_end = 0;
    while (word_end < word.size() && !space(word[word_end])) ++word_end;
    if (word.substr(0, word_end) == "raw") {
      // Everything up to {% endraw %} is text.
      std::size_t k = close + 2;
      std::size_t end_raw = std::string_view::npos, after = 0;
      while (true) {
        std::size_t t = text.find("{%", k);
        if (t == std::string_view::npos) break;
        std::size_t b = t + 2;
        if (b < text.size() && text[b] == '-') ++b;
        std::size_t c = text.find("%}", b);
        if (c == std::string_view::npos) break;
        std::string_view inner = text.substr(b, c - b);
        if (!inner.empty() && inner.back() == '-') inner.remove_suffix(1);
        if (trim(inner) == "endraw") {
          end_raw = t;
          after = c + 2;
          break;
        }
        k = c + 2;
      }
      if (end_raw == std::string_view::npos) throw ExprSyntaxError(open, "'{% raw %}' without '{% endraw %}'");
      trim_newline = !strip_after;
      strip_next = strip_after;
      std::string_view raw_text = text.substr(close + 2, end_raw - close - 2);
      add_text(raw_text, close + 2);
      trim_newline = true;
      i = after;
      continue;
    }
    Piece p;
    p.type = Piece::tag;
    p.content = std::string(tag);
    p.pos = body;
    p.start = open;
    pieces.push_back(std::move(p));
    strip_next = strip_after;
    trim_newline = !strip_after;
    i = close + 2;
  }
  return pieces;
}

bool valid_name(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

class TreeBuilder {
 public:
  TreeBuilder(std::string_view text, std::vector<Piece>& pieces) : m_text(text), m_pieces(pieces) {}

  NodeP build() {
    auto root = std::make_shared<TemplateNode>();
    std::string closer;
    root->body = block(0, &closer);
    if (!closer.empty()) throw ExprSyntaxError(m_last_pos, "unexpected '{% " + closer + " %}'");
    return root;
  }

 private:
  // Reads nodes until a tag that is one of the enders of the enclosing
  // block; that tag's first word is stored in *closer (empty at the end).
  std::vector<NodeP> block(int depth, std::string* closer) {
    if (depth > k_max_nesting) throw ExprSyntaxError(m_last_pos, "blocks nested too deeply");
    std::vector<NodeP> nodes;
    while (m_i < m_pieces.size()) {
      Piece& p = m_pieces[m_i++];
      m_last_pos = p.type == Piece::tag ? p.start : p.pos;
      if (p.type == Piece::text) {
        auto n = std::make_shared<TemplateNode>();
        n->kind = Kind::text;
        n->text = std::move(p.content);
        nodes.push_back(n);
        continue;
      }
      if (p.type == Piece::output) {
        auto n = std::make_shared<TemplateNode>();
        n->kind = Kind::output;
        n->expr = p.expr;
        nodes.push_back(n);
        continue;
      }
      std::string_view tag = p.content;
      std::size_t lead = 0;
      while (lead < tag.size() && space(tag[lead])) ++lead;
      std::size_t w = lead;
      while (w < tag.size() && !space(tag[w])) ++w;
      std::string word(tag.substr(lead, w - lead));
      std::size_t rest = p.pos + w;  // offset in m_text right after the keyword
      if (word == "if") {
        nodes.push_back(parse_if(p, rest, depth));
      } else if (word == "for") {
        nodes.push_back(parse_for(p, rest, depth));
      } else if (word == "set") {
        nodes.push_back(parse_set(p, rest));
      } else if (word == "elif" || word == "else" || word == "endif" || word == "endfor") {
        m_closer_piece = &p;
        m_closer_rest = rest;
        *closer = word;
        return nodes;
      } else if (word.empty()) {
        throw ExprSyntaxError(p.start, "empty '{% %}' tag");
      } else {
        static const std::vector<std::string> tags = {"if", "elif", "else", "endif", "for", "endfor", "set", "raw", "endraw"};
        auto g = did_you_mean(word, tags);
        throw ExprSyntaxError(p.pos + lead, "unsupported template tag '" + word + "'" +
                                                (g ? " (did you mean '" + *g + "'?)" : " (supported: if, for, set, raw)"));
      }
    }
    closer->clear();
    return nodes;
  }

  // The expression in a tag after its keyword, to the end of the tag.
  Expr tag_expr(const Piece& p, std::size_t rest) {
    std::string body(m_text.substr(0, p.pos + p.content.size()));
    std::size_t stop = 0;
    Expr e = parse_expr_until(body, rest, "", &stop);
    return e;
  }

  void expect_end_of_tag(const Piece& p, std::size_t rest, const std::string& word) {
    std::string_view after = m_text.substr(rest, p.pos + p.content.size() - rest);
    if (!trim(after).empty()) throw ExprSyntaxError(rest, "unexpected text after '" + word + "'");
  }

  NodeP parse_if(const Piece& p, std::size_t rest, int depth) {
    auto n = std::make_shared<TemplateNode>();
    n->kind = Kind::if_;
    Expr cond = tag_expr(p, rest);
    std::size_t open_pos = p.start;
    while (true) {
      std::string closer;
      auto body = block(depth + 1, &closer);
      n->branches.emplace_back(cond, std::move(body));
      if (closer == "elif") {
        cond = tag_expr(*m_closer_piece, m_closer_rest);
        continue;
      }
      if (closer == "else") {
        expect_end_of_tag(*m_closer_piece, m_closer_rest, "else");
        std::string closer2;
        n->else_body = block(depth + 1, &closer2);
        if (closer2 != "endif") throw unclosed("if", open_pos, closer2);
        expect_end_of_tag(*m_closer_piece, m_closer_rest, "endif");
        return n;
      }
      if (closer == "endif") {
        expect_end_of_tag(*m_closer_piece, m_closer_rest, "endif");
        return n;
      }
      throw unclosed("if", open_pos, closer);
    }
  }

  NodeP parse_for(const Piece& p, std::size_t rest, int depth) {
    auto n = std::make_shared<TemplateNode>();
    n->kind = Kind::for_;
    // "x in expr" or "k, v in expr"
    std::string_view tail = m_text.substr(rest, p.pos + p.content.size() - rest);
    std::size_t in_at = std::string_view::npos;
    for (std::size_t k = 0; k + 2 <= tail.size(); ++k) {
      if (tail.substr(k, 2) == "in" && (k == 0 || space(tail[k - 1])) && (k + 2 == tail.size() || space(tail[k + 2]))) {
        in_at = k;
        break;
      }
    }
    if (in_at == std::string_view::npos) throw ExprSyntaxError(rest, "expected '{% for NAME in EXPR %}'");
    for (const auto& part : split(tail.substr(0, in_at), ',')) {
      std::string name(trim(part));
      if (!valid_name(name)) throw ExprSyntaxError(rest, "invalid loop variable '" + name + "'");
      n->names.push_back(name);
    }
    if (n->names.empty() || n->names.size() > 2) throw ExprSyntaxError(rest, "a for loop takes one or two variables");
    n->expr = tag_expr(p, rest + in_at + 2);
    std::string closer;
    n->body = block(depth + 1, &closer);
    if (closer == "else") {
      expect_end_of_tag(*m_closer_piece, m_closer_rest, "else");
      n->else_body = block(depth + 1, &closer);
    }
    if (closer != "endfor") throw unclosed("for", p.start, closer);
    expect_end_of_tag(*m_closer_piece, m_closer_rest, "endfor");
    return n;
  }

  NodeP parse_set(const Piece& p, std::size_t rest) {
    auto n = std::make_shared<TemplateNode>();
    n->kind = Kind::set;
    std::string_view tail = m_text.substr(rest, p.pos + p.content.size() - rest);
    auto eq = tail.find('=');
    if (eq == std::string_view::npos) throw ExprSyntaxError(rest, "expected '{% set NAME = EXPR %}'");
    std::string name(trim(tail.substr(0, eq)));
    if (!valid_name(name)) throw ExprSyntaxError(rest, "invalid variable name '" + name + "' in set");
    n->names.push_back(name);
    n->expr = tag_expr(p, rest + eq + 1);
    return n;
  }

  ExprSyntaxError unclosed(const std::string& what, std::size_t pos, const std::string& found) {
    if (found.empty()) return ExprSyntaxError(pos, "'{% " + what + " %}' is never closed with '{% end" + what + " %}'");
    return ExprSyntaxError(m_closer_piece ? m_closer_piece->start : pos,
                           "unexpected '{% " + found + " %}' inside '{% " + what + " %}'");
  }

  std::string_view m_text;
  std::vector<Piece>& m_pieces;
  std::size_t m_i = 0;
  std::size_t m_last_pos = 0;
  const Piece* m_closer_piece = nullptr;
  std::size_t m_closer_rest = 0;
};

class Renderer {
 public:
  explicit Renderer(Scope scope) : m_scope(std::move(scope)) {}

  void run(const std::vector<NodeP>& nodes, std::string& out) {
    for (const auto& n : nodes) {
      switch (n->kind) {
        case Kind::text: out += n->text; break;
        case Kind::output: out += to_display_string(n->expr.eval(m_scope)); break;
        case Kind::set: m_scope.set_local(n->names[0], n->expr.eval(m_scope)); break;
        case Kind::if_: {
          bool done = false;
          for (const auto& [cond, body] : n->branches) {
            if (cond.eval_bool(m_scope)) {
              run(body, out);
              done = true;
              break;
            }
          }
          if (!done) run(n->else_body, out);
          break;
        }
        case Kind::for_: loop(*n, out); break;
      }
      if (out.size() > k_max_output) throw ExprEvalError("template output larger than 64 MiB");
    }
  }

 private:
  void loop(const TemplateNode& n, std::string& out) {
    json items = n.expr.eval(m_scope);
    if (items.is_object()) {
      // Iterating a dict yields its keys, as in Jinja.
      json keys = json::array();
      for (auto it = items.begin(); it != items.end(); ++it) keys.push_back(it.key());
      items = std::move(keys);
    } else if (items.is_string()) {
      json chars = json::array();
      for (char c : items.get<std::string>()) chars.push_back(std::string(1, c));
      items = std::move(chars);
    } else if (items.is_null()) {
      items = json::array();
    }
    if (!items.is_array()) throw ExprEvalError("'" + n.expr.text() + "' is not a list, so it cannot be looped over");
    if (items.empty()) {
      run(n.else_body, out);
      return;
    }
    std::size_t total = items.size();
    for (std::size_t i = 0; i < total; ++i) {
      const json& item = items[i];
      if (n.names.size() == 2) {
        if (!item.is_array() || item.size() != 2)
          throw ExprEvalError("cannot unpack an item of '" + n.expr.text() + "' into two loop variables");
        m_scope.set_local(n.names[0], item[0]);
        m_scope.set_local(n.names[1], item[1]);
      } else {
        m_scope.set_local(n.names[0], item);
      }
      m_scope.set_local("loop", json{{"index", i + 1},
                                     {"index0", i},
                                     {"revindex", total - i},
                                     {"revindex0", total - i - 1},
                                     {"first", i == 0},
                                     {"last", i + 1 == total},
                                     {"length", total}});
      run(n.body, out);
    }
    m_scope.erase_local("loop");
  }

  Scope m_scope;
};

}  // namespace

bool Template::is_plain(std::string_view text) {
  return text.find("{{") == std::string_view::npos && text.find("{%") == std::string_view::npos &&
         text.find("{#") == std::string_view::npos;
}

Template Template::parse(std::string_view text) {
  Template t;
  std::vector<Piece> pieces = lex(text);
  if (pieces.size() == 1 && pieces[0].type == Piece::output) {
    // Exactly "{{ expr }}" (nothing around it) keeps the value's type.
    std::string_view tt = text;
    if (starts_with(tt, "{{") && ends_with(tt, "}}")) t.m_single = std::make_shared<Expr>(pieces[0].expr);
  }
  TreeBuilder b(text, pieces);
  t.m_root = b.build();
  return t;
}

std::string Template::render(const Scope& scope) const {
  std::string out;
  if (!m_root) return out;
  Renderer r(scope);
  r.run(m_root->body, out);
  return out;
}

json Template::render_value(const Scope& scope) const {
  if (m_single) return m_single->eval(scope);
  return render(scope);
}

json render_json(const json& value, const Scope& scope) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (Template::is_plain(s)) return value;
    return Template::parse(s).render_value(scope);
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& x : value) out.push_back(render_json(x, scope));
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = render_json(it.value(), scope);
    return out;
  }
  return value;
}

static void check_rec(const json& v, const std::string& ptr, std::vector<TemplateProblem>& out) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (Template::is_plain(s)) return;
    try {
      Template::parse(s);
    } catch (const ExprSyntaxError& e) {
      out.push_back({ptr, e.offset(), e.what()});
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) check_rec(v[i], ptr + "/" + std::to_string(i), out);
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) check_rec(it.value(), ptr + "/" + it.key(), out);
  }
}

std::vector<TemplateProblem> check_json_templates(const json& value) {
  std::vector<TemplateProblem> out;
  check_rec(value, "", out);
  return out;
}

}  // namespace aicloud::provision
