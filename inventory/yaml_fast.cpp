// A fast reader for the plain block-style YAML that inventories are made of
// (see YamlTree::parse_fast in yaml_tree.hpp).
//
// It builds exactly the tree that the yaml-cpp path builds (same nodes,
// texts, quoting and 1-based FILE:LINE:COL marks) for the subset it accepts,
// and declines everything else so that yaml-cpp reads it instead:
//
//  - block mappings and sequences (including "- key: value" entries and a
//    sequence written at its key's indentation), comment and blank lines,
//    one leading "---";
//  - plain scalars on one line, single-quoted scalars on one line, and
//    double-quoted scalars on one line without backslash escapes;
//  - flow collections ("[a, b]", "{k: v}") that open and close on one line.
//
// Declined, and so read by yaml-cpp: tabs, CR, control characters, a BOM,
// Unicode line separators, anchors, aliases, tags, block scalars ("|", ">"),
// multi-line scalars and flow collections, "?" keys, directives, several
// documents, and anything that is not valid YAML (so that every error
// message and mark comes from one place). tests/unit/inventory and the
// fuzz_yaml target compare both paths on the same inputs.
#include <string_view>

#include "inventory/yaml_tree.hpp"

namespace aicloud::inventory::detail {

namespace {

struct Decline {};

constexpr int k_max_depth = 64;

bool is_blank_or_end(std::string_view s, std::size_t i) { return i >= s.size() || s[i] == ' ' || s[i] == '\n'; }

}  // namespace

class FastParser {
 public:
  FastParser(std::string_view s, YamlTree& t) : m_s(s), m_t(t), m_store(t) {}

  // Throws Decline when the text is outside the subset.
  void run() {
    screen();
    if (!next_content()) throw Decline{};  // no document: yaml-cpp decides what that is
    if (m_indent == 0 && starts_marker("...")) throw Decline{};
    m_first_line_done = true;  // from here on, "---" and "..." at column 0 are not for us
    if (m_indent == 0 && starts_marker("---")) {
      std::size_t p = m_pos + 3;
      while (p < m_s.size() && m_s[p] == ' ') ++p;
      if (p < m_s.size() && m_s[p] != '\n' && m_s[p] != '#') throw Decline{};
      m_pos = p;
      skip_rest_of_line();
      if (!next_content()) throw Decline{};
    }
    NodeId root = block_node(m_indent, 0);
    if (!m_eof) throw Decline{};
    m_store.finish();
    m_t.m_root = root;
    m_t.m_has_document = true;
  }

 private:
  // Characters and sequences this reader leaves to yaml-cpp.
  void screen() const {
    const std::size_t n = m_s.size();
    for (std::size_t i = 0; i < n; ++i) {
      unsigned char c = static_cast<unsigned char>(m_s[i]);
      if (c >= 0x20 && c < 0x7F) continue;
      if (c == '\n') continue;
      if (c < 0x20 || c == 0x7F) throw Decline{};  // tab, CR, control characters
      // NEL (C2 85), LS/PS (E2 80 A8/A9) and BOM (EF BB BF) mean something to YAML.
      if (c == 0xC2 && i + 1 < n && static_cast<unsigned char>(m_s[i + 1]) == 0x85) throw Decline{};
      if (c == 0xE2 && i + 2 < n && static_cast<unsigned char>(m_s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(m_s[i + 2]) == 0xA8 || static_cast<unsigned char>(m_s[i + 2]) == 0xA9))
        throw Decline{};
      if (c == 0xEF && i + 2 < n && static_cast<unsigned char>(m_s[i + 1]) == 0xBB &&
          static_cast<unsigned char>(m_s[i + 2]) == 0xBF)
        throw Decline{};
    }
  }

  // --- positions -----------------------------------------------------------

  int column() const { return static_cast<int>(m_pos - m_line_start) + 1; }
  char peek(std::size_t off = 0) const { return m_pos + off < m_s.size() ? m_s[m_pos + off] : '\n'; }
  bool at_line_end() const { return m_pos >= m_s.size() || m_s[m_pos] == '\n'; }

  void skip_spaces() {
    while (m_pos < m_s.size() && m_s[m_pos] == ' ') ++m_pos;
  }
  // After a value: spaces, then an optional comment, then the end of the line.
  void end_of_line() {
    std::size_t before = m_pos;
    skip_spaces();
    if (at_line_end()) return;
    if (m_s[m_pos] == '#' && m_pos > before) {
      skip_rest_of_line();
      return;
    }
    throw Decline{};
  }
  void skip_rest_of_line() {
    while (m_pos < m_s.size() && m_s[m_pos] != '\n') ++m_pos;
  }
  bool starts_marker(const char* m) const {
    return m_s.compare(m_pos, 3, m) == 0 && is_blank_or_end(m_s, m_pos + 3);
  }

  // Moves from the end of a line (or the start of the text) to the first
  // character of the next line that holds something other than a comment.
  // Sets m_indent; sets m_eof (and returns false) at the end of the text.
  bool next_content() {
    for (;;) {
      if (m_pos < m_s.size() && m_s[m_pos] != '\n') {
        // Only at the very start of the text are we not at a line end.
        if (m_pos != 0) throw Decline{};
      } else if (m_pos < m_s.size()) {
        ++m_pos;  // the '\n'
        ++m_line;
        m_line_start = m_pos;
      }
      if (m_pos >= m_s.size()) {
        m_eof = true;
        m_indent = -1;
        return false;
      }
      skip_spaces();
      if (at_line_end()) continue;        // blank line
      if (m_s[m_pos] == '#') {            // comment line
        skip_rest_of_line();
        continue;
      }
      m_indent = static_cast<int>(m_pos - m_line_start);
      if (m_indent == 0 && m_first_line_done && (starts_marker("---") || starts_marker("..."))) throw Decline{};
      return true;
    }
  }

  // --- nodes ---------------------------------------------------------------

  NodeId make(YamlNode::Kind kind, int line, int col) { return m_store.make(kind, line, col); }
  // yaml-cpp marks an empty value where the next token starts. At the end
  // of the text that token closes the innermost collection (indented
  // coll_indent): it is marked at the end of the text when the text ends
  // left of that collection (or at its column, for a sequence), and at the
  // start of the last line otherwise.
  NodeId make_null_here(int coll_indent, bool coll_is_seq) {
    if (m_eof) {
      int end = static_cast<int>(m_s.size() - m_line_start);
      bool at_end = coll_indent > end || (coll_indent == end && coll_is_seq);
      return make(YamlNode::Kind::null, m_line, at_end ? end + 1 : 1);
    }
    return make(YamlNode::Kind::null, m_line, column());
  }
  // A plain scalar; yaml-cpp reports "~", "null", "Null" and "NULL" (and
  // nothing at all) as a null node.
  NodeId make_plain(int line, int col, std::size_t start, std::size_t len) {
    std::string_view text = m_s.substr(start, len);
    bool null = text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
    NodeId id = make(null ? YamlNode::Kind::null : YamlNode::Kind::scalar, line, col);
    if (!null) m_store.at(id).text = text;
    return id;
  }
  void add(NodeId child) { m_store.add(child); }

  bool at_dash() const { return peek() == '-' && is_blank_or_end(m_s, m_pos + 1); }

  // A node that starts at the current content line, indented `indent`.
  NodeId block_node(int indent, int depth) {
    if (depth > k_max_depth) throw Decline{};
    if (at_dash()) return block_sequence(indent, depth);
    std::size_t key_end;
    if (key_ahead(key_end)) return block_mapping(indent, key_end, depth);
    throw Decline{};  // a scalar alone on its line, or something stranger
  }

  NodeId block_sequence(int indent, int depth) {
    NodeId seq = m_store.open(YamlNode::Kind::sequence, m_line, column());
    for (;;) {
      // At the '-' of an entry.
      m_pos += 1;
      skip_spaces();
      NodeId child;
      if (at_line_end() || peek() == '#') {
        if (peek() == '#' && m_s[m_pos - 1] != ' ') throw Decline{};
        skip_rest_of_line();
        if (next_content() && m_indent > indent)
          child = block_node(m_indent, depth + 1);
        else
          child = make_null_here(indent, true);
      } else {
        child = inline_entry(indent, depth + 1);
      }
      add(child);
      if (m_eof || m_indent < indent) break;
      if (m_indent > indent) throw Decline{};
      if (!at_dash()) break;  // the mapping around a sequence written at its key's indentation
    }
    m_store.close();
    return seq;
  }

  // What follows "- " on the same line of a sequence indented seq_indent:
  // a compact mapping (indented as far as its first key), or a value.
  NodeId inline_entry(int seq_indent, int depth) {
    if (at_dash()) throw Decline{};  // "- - x"
    std::size_t key_end;
    if (key_ahead(key_end)) return block_mapping(column() - 1, key_end, depth);
    NodeId v = inline_value(depth);
    if (next_content() && m_indent > seq_indent) throw Decline{};  // a continuation line
    return v;
  }

  // A mapping whose first key starts here and ends at key_end (its ':').
  NodeId block_mapping(int indent, std::size_t key_end, int depth) {
    NodeId map = m_store.open(YamlNode::Kind::mapping, m_line, column());
    for (;;) {
      // At the first character of a key.
      add(key_scalar(key_end));
      // Just past the ':'.
      skip_spaces();
      NodeId value;
      if (at_line_end() || peek() == '#') {
        if (peek() == '#' && m_s[m_pos - 1] != ' ') throw Decline{};
        skip_rest_of_line();
        if (!next_content())
          value = make_null_here(indent, false);
        else if (m_indent > indent)
          value = block_node(m_indent, depth + 1);
        else if (m_indent == indent && at_dash())
          value = block_sequence(indent, depth + 1);
        else
          value = make_null_here(indent, false);
      } else {
        if (at_dash()) throw Decline{};  // "key: - x"
        value = inline_value(depth + 1);
        if (next_content() && m_indent > indent) throw Decline{};  // a continuation line
      }
      add(value);
      if (m_eof || m_indent < indent) break;
      if (m_indent > indent) throw Decline{};
      // "- x" at a mapping's indentation ends it only where the mapping is
      // a sequence entry's ("- a: 1\n- b: 2"); the caller checks.
      if (at_dash()) break;
      if (!key_ahead(key_end)) throw Decline{};
    }
    m_store.close();
    return map;
  }

  // --- scalars ---------------------------------------------------------------

  static bool plain_start_ok(std::string_view s, std::size_t i, bool flow) {
    if (i >= s.size()) return false;
    char c = s[i];
    switch (c) {
      case ',': case '[': case ']': case '{': case '}': case '#': case '&': case '*': case '!':
      case '|': case '>': case '\'': case '"': case '%': case '@': case '`': case '?': case ':':
      case ' ': case '\n':
        return false;
      case '-':
        return !is_blank_or_end(s, i + 1) && !(flow && (s[i + 1] == ',' || s[i + 1] == ']' || s[i + 1] == '}'));
      default:
        return true;
    }
  }

  // Is there a mapping key ("key:" then a blank or the line end) at the
  // current position? key_end: offset of its ':'.
  bool key_ahead(std::size_t& key_end) const {
    std::size_t i = m_pos;
    char c = peek();
    if (c == '\'' || c == '"') {
      std::size_t j = i + 1;
      for (;;) {
        if (j >= m_s.size() || m_s[j] == '\n') return false;
        if (m_s[j] == c) {
          if (c == '\'' && j + 1 < m_s.size() && m_s[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        if (c == '"' && m_s[j] == '\\') return false;
        ++j;
      }
      ++j;
      while (j < m_s.size() && m_s[j] == ' ') ++j;
      if (j < m_s.size() && m_s[j] == ':' && is_blank_or_end(m_s, j + 1)) {
        key_end = j;
        return true;
      }
      return false;
    }
    if (!plain_start_ok(m_s, i, false)) return false;
    for (std::size_t j = i; j < m_s.size() && m_s[j] != '\n'; ++j) {
      if (m_s[j] == ':' && is_blank_or_end(m_s, j + 1)) {
        key_end = j;
        return true;
      }
      if (m_s[j] == '#' && m_s[j - 1] == ' ') return false;
    }
    return false;
  }

  // The key at the current position, whose ':' key_ahead() found at
  // key_end; leaves the position just past that ':'.
  NodeId key_scalar(std::size_t key_end) {
    NodeId k;
    if (peek() == '\'' || peek() == '"') {
      k = quoted_scalar();
      skip_spaces();
    } else {
      std::size_t e = key_end;
      while (e > m_pos && m_s[e - 1] == ' ') --e;
      k = make_plain(m_line, column(), m_pos, e - m_pos);
    }
    m_pos = key_end + 1;
    return k;
  }

  // A quoted scalar that ends on its line; the position moves past it.
  NodeId quoted_scalar() {
    char q = peek();
    NodeId id = make(YamlNode::Kind::scalar, m_line, column());
    const std::size_t start = m_pos + 1;
    bool doubled = false;  // '' inside single quotes: the text is not verbatim
    std::size_t j = start;
    for (;;) {
      if (j >= m_s.size() || m_s[j] == '\n') throw Decline{};
      char c = m_s[j];
      if (c == q) {
        if (q == '\'' && j + 1 < m_s.size() && m_s[j + 1] == '\'') {
          doubled = true;
          j += 2;
          continue;
        }
        break;
      }
      if (q == '"' && c == '\\') throw Decline{};
      ++j;
    }
    std::string_view raw = m_s.substr(start, j - start);
    m_pos = j + 1;
    YamlNode& n = m_store.at(id);
    n.quoted = true;
    if (!doubled) {
      n.text = raw;
    } else {
      std::string text;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        text.push_back(raw[i]);
        if (raw[i] == '\'') ++i;  // the second quote of ''
      }
      n.text = m_store.keep(std::move(text));
    }
    return id;
  }

  // A value after "key: " or "- ", ending its line.
  NodeId inline_value(int depth) {
    char c = peek();
    NodeId v;
    if (c == '[' || c == '{') {
      v = flow_collection(depth);
    } else if (c == '\'' || c == '"') {
      v = quoted_scalar();
    } else {
      if (!plain_start_ok(m_s, m_pos, false)) throw Decline{};
      std::size_t start = m_pos, end = m_pos;
      std::size_t j = m_pos;
      for (; j < m_s.size() && m_s[j] != '\n'; ++j) {
        if (m_s[j] == ':' && is_blank_or_end(m_s, j + 1)) throw Decline{};  // "a: b: c"
        if (m_s[j] == '#' && m_s[j - 1] == ' ') break;
        if (m_s[j] != ' ') end = j + 1;
      }
      v = make_plain(m_line, column(), start, end - start);
      m_pos = j;
      skip_rest_of_line();
      return v;
    }
    end_of_line();
    return v;
  }

  // [a, b] or {k: v, ...}, closed on the same line.
  NodeId flow_collection(int depth) {
    if (depth > k_max_depth) throw Decline{};
    bool is_map = peek() == '{';
    char close = is_map ? '}' : ']';
    NodeId coll = m_store.open(is_map ? YamlNode::Kind::mapping : YamlNode::Kind::sequence, m_line, column());
    ++m_pos;
    skip_spaces();
    if (peek() == close) {
      ++m_pos;
      m_store.close();
      return coll;
    }
    for (;;) {
      if (is_map) {
        add(flow_scalar(true));
        // flow_scalar(true) stops at ": ".
        if (peek() != ':' || peek(1) != ' ') throw Decline{};
        m_pos += 1;
        skip_spaces();
        if (peek() == ',' || peek() == '}') throw Decline{};  // "{k: }": empty value
        add(flow_node(depth + 1));
      } else {
        NodeId item = flow_node(depth + 1);
        if (peek() == ':') throw Decline{};  // "[k: v]": a single-pair mapping
        add(item);
      }
      skip_spaces();
      if (peek() == ',') {
        ++m_pos;
        skip_spaces();
        if (peek() == close) throw Decline{};  // trailing comma
        continue;
      }
      if (peek() == close) {
        ++m_pos;
        m_store.close();
        return coll;
      }
      throw Decline{};
    }
  }

  NodeId flow_node(int depth) {
    char c = peek();
    if (c == '[' || c == '{') return flow_collection(depth);
    return flow_scalar(false);
  }

  // A scalar inside a flow collection. Keys must be followed by ": ".
  NodeId flow_scalar(bool key) {
    char c = peek();
    NodeId v;
    if (c == '\'' || c == '"') {
      v = quoted_scalar();
      skip_spaces();
    } else {
      if (!plain_start_ok(m_s, m_pos, true)) throw Decline{};
      std::size_t start = m_pos, end = m_pos, j = m_pos;
      for (; j < m_s.size(); ++j) {
        char d = m_s[j];
        if (d == '\n') throw Decline{};
        if (d == ',' || d == ']' || d == '}') break;
        if (d == '[' || d == '{' || d == '?') throw Decline{};  // yaml-cpp ends a flow scalar at '?'
        if (d == ':') {
          char e = j + 1 < m_s.size() ? m_s[j + 1] : '\n';
          if (e == ' ') break;
          // "redfish://h:1" and "12:30:45" are scalars; "a:," and "a:}" are not for us.
          if (e == ',' || e == ']' || e == '}' || e == '[' || e == '{' || e == '\n') throw Decline{};
        }
        if (d == '#' && m_s[j - 1] == ' ') throw Decline{};
        if (d != ' ') end = j + 1;
      }
      v = make_plain(m_line, column(), start, end - start);
      m_pos = j;
    }
    if (!key && peek() == ':') throw Decline{};
    return v;
  }

  std::string_view m_s;
  YamlTree& m_t;
  NodeStore m_store;
  std::size_t m_pos = 0;
  std::size_t m_line_start = 0;
  int m_line = 1;
  int m_indent = 0;
  bool m_eof = false;
  bool m_first_line_done = false;
};

std::optional<YamlTree> YamlTree::parse_fast(const std::string& text, const std::string& path) {
  if (invalid_utf8_at(text) != std::string::npos) return std::nullopt;
  auto source = std::make_unique<const std::string>(text);
  return parse_fast_utf8(source, path);
}

std::optional<YamlTree> YamlTree::parse_fast_utf8(std::unique_ptr<const std::string>& source, const std::string& path) {
  YamlTree t;
  t.m_path = path;
  t.m_nodes.reserve(source->size() / 10 + 16);
  t.m_items.reserve(source->size() / 10 + 16);
  try {
    FastParser(*source, t).run();
  } catch (const Decline&) {
    return std::nullopt;
  }
  t.m_source = std::move(source);
  return t;
}

}  // namespace aicloud::inventory::detail
