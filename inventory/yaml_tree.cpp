// The YAML tree used by the inventory loaders: yaml-cpp events into an arena,
// merge keys, and PyYAML's YAML 1.1 scalar resolution. See yaml_tree.hpp.
#include "inventory/yaml_tree.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <limits>
#include <sstream>
#include <unordered_map>

namespace aicloud::inventory::detail {

// ---------------------------------------------------------------------------
// Building the tree: NodeStore (both readers) and yaml-cpp events
// ---------------------------------------------------------------------------

NodeId NodeStore::make(YamlNode::Kind kind, int line, int column) {
  if (m_t.m_nodes.size() >= std::numeric_limits<NodeId>::max() - 1)
    throw InputError(SourceLocation{m_t.m_path, line, column}, "too many YAML nodes");
  YamlNode& n = m_t.m_nodes.emplace_back();
  n.kind = kind;
  n.line = line;
  n.column = column;
  return static_cast<NodeId>(m_t.m_nodes.size() - 1);
}

NodeId NodeStore::open(YamlNode::Kind kind, int line, int column) {
  NodeId id = make(kind, line, column);
  if (m_frames.size() <= m_open.size()) m_frames.emplace_back();
  m_frames[m_open.size()].clear();
  m_open.push_back(id);
  return id;
}

void NodeStore::add(NodeId child) {
  if (!m_open.empty()) m_frames[m_open.size() - 1].push_back(child);
}

void NodeStore::close() {
  if (m_open.empty()) return;
  std::vector<NodeId>& kids = m_frames[m_open.size() - 1];
  m_ranges.push_back({m_open.back(), static_cast<std::uint32_t>(m_t.m_items.size()),
                      static_cast<std::uint32_t>(kids.size())});
  m_t.m_items.insert(m_t.m_items.end(), kids.begin(), kids.end());
  m_open.pop_back();
}

void NodeStore::finish() {
  while (!m_open.empty()) close();
  const NodeId* base = m_t.m_items.data();
  for (const Range& r : m_ranges) m_t.m_nodes[r.node].items = std::span<const NodeId>(base + r.offset, r.count);
}

class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(YamlTree& t) : m_t(t), m_store(t) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    NodeId id = m_store.make(YamlNode::Kind::null, mark.line + 1, mark.column + 1);
    finish(id, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = m_anchors.find(anchor);
    if (it == m_anchors.end()) fail(mark, "unknown alias");
    if (m_open.size() > it->second && m_open[it->second])
      fail(mark, "recursive alias: an alias cannot refer to a node that contains it");
    attach(it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    NodeId id = m_store.make(YamlNode::Kind::scalar, mark.line + 1, mark.column + 1);
    YamlNode& n = m_store.at(id);
    n.text = m_store.keep(value);
    if (tag == "!")
      n.quoted = true;
    else if (tag != "?" && !tag.empty())
      n.tag = m_store.keep(tag);
    finish(id, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(YamlNode::Kind::sequence, mark, tag, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(YamlNode::Kind::mapping, mark, tag, anchor);
  }
  void OnMapEnd() override { close(); }

  void done() { m_store.finish(); }

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& msg) {
    throw InputError(SourceLocation{m_t.m_path, mark.line + 1, mark.column + 1}, msg);
  }
  void attach(NodeId id) {
    if (!m_store.in_container()) {
      if (!m_have_root) {
        m_t.m_root = id;
        m_have_root = true;
      }
    } else {
      m_store.add(id);
    }
  }
  void finish(NodeId id, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) m_anchors[anchor] = id;
    attach(id);
  }
  void open(YamlNode::Kind kind, const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor) {
    // Attached to its parent before it opens, so that it is its parent's child.
    NodeId id = static_cast<NodeId>(m_t.m_nodes.size());
    if (anchor != YAML::NullAnchor) m_anchors[anchor] = id;
    attach(id);
    m_store.open(kind, mark.line + 1, mark.column + 1);
    if (tag != "?" && tag != "!" && !tag.empty()) m_store.at(id).tag = m_store.keep(tag);
    if (m_open.size() <= id) m_open.resize(id + 1, false);
    m_open[id] = true;
  }
  void close() {
    if (!m_store.in_container()) return;
    NodeId id = m_store.innermost();
    m_store.close();
    if (m_open.size() > id) m_open[id] = false;
  }

  YamlTree& m_t;
  NodeStore m_store;
  std::vector<bool> m_open;
  std::unordered_map<YAML::anchor_t, NodeId> m_anchors;
  bool m_have_root = false;
};

std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned int cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points beyond Unicode.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return i;
    i += len;
  }
  return std::string::npos;
}

YamlTree YamlTree::parse(std::string text, const std::string& path) {
  // YAML is Unicode text; anything else would reach JSON output as bytes
  // that cannot be written.
  if (std::size_t bad = invalid_utf8_at(text); bad != std::string::npos) {
    int line = 1, col = 1;
    for (std::size_t i = 0; i < bad; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    throw InputError(SourceLocation{path, line, col}, "not valid UTF-8 text (YAML files must be UTF-8)");
  }
  auto source = std::make_unique<const std::string>(std::move(text));
  if (std::optional<YamlTree> fast = parse_fast_utf8(source, path)) return std::move(*fast);
  return parse_yaml_cpp(*source, path);
}

YamlTree YamlTree::parse_yaml_cpp(const std::string& text, const std::string& path) {
  YamlTree t;
  t.m_path = path;
  t.m_nodes.reserve(text.size() / 6 + 16);  // about one node per 8 bytes in node lists
  std::istringstream in(text);
  auto where = [&](const YAML::Mark& m) {
    return SourceLocation{path, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
  };
  try {
    YAML::Parser parser(in);
    TreeBuilder builder(t);
    if (parser.HandleNextDocument(builder)) {
      builder.done();
      t.m_has_document = true;
      // A second document would be silently ignored by most loaders; refuse it.
      struct Probe : YAML::EventHandler {
        YAML::Mark mark;
        bool seen = false;
        void OnDocumentStart(const YAML::Mark& m) override {
          if (!seen) mark = m;
          seen = true;
        }
        void OnDocumentEnd() override {}
        void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
        void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
        void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
        void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                             YAML::EmitterStyle::value) override {}
        void OnSequenceEnd() override {}
        void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
        void OnMapEnd() override {}
      } probe;
      if (parser.HandleNextDocument(probe))
        throw InputError(where(probe.mark), "a second YAML document ('---') in one file; an inventory is one document");
    }
  } catch (const YAML::DeepRecursion& e) {
    throw InputError(where(e.mark), "YAML nesting is too deep");
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg.empty() ? std::string("invalid YAML") : e.msg;
    throw InputError(where(e.mark), "invalid YAML: " + msg);
  }
  return t;
}

namespace {
void describe_node(const YamlTree& t, NodeId id, int depth, int budget, std::string& out) {
  static const char* const kinds[] = {"null", "scalar", "sequence", "mapping"};
  const YamlNode& n = t.node(id);
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  out += kinds[static_cast<int>(n.kind)];
  out += " @" + std::to_string(n.line) + ":" + std::to_string(n.column);
  if (n.quoted) out += " quoted";
  if (!n.tag.empty()) out += " tag=" + std::string(n.tag);
  if (n.kind == YamlNode::Kind::scalar) {
    // Byte for byte (the text need not be UTF-8 here), with what would
    // break the line escaped.
    out += " text=\"";
    for (unsigned char c : n.text) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c == 0x7F) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", c);
        out += hex;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '"';
  }
  out += '\n';
  if (depth >= budget) return;  // aliases may nest a subtree many times
  for (NodeId c : n.items) describe_node(t, c, depth + 1, budget, out);
}
}  // namespace

std::string describe_tree(const YamlTree& t) {
  if (!t.has_document()) return "(no document)\n";
  std::string out;
  describe_node(t, t.root(), 0, 64, out);
  return out;
}

// ---------------------------------------------------------------------------
// Merge keys
// ---------------------------------------------------------------------------

namespace {

bool is_merge_key(const YamlNode& k) {
  return k.kind == YamlNode::Kind::scalar && !k.quoted && (k.tag.empty() || k.tag == "tag:yaml.org,2002:merge") &&
         k.text == "<<";
}

void flatten(const YamlTree& t, NodeId map, std::vector<MapEntry>& out, std::vector<Diagnostic>& diags, int depth,
             bool merged) {
  const YamlNode& m = t.node(map);
  std::vector<MapEntry> merge, plain;
  if (depth > 64) {
    diags.push_back({t.where(map), "merge keys nested too deeply"});
    return;
  }
  for (std::size_t i = 0; i + 1 < m.items.size(); i += 2) {
    NodeId k = m.items[i], v = m.items[i + 1];
    if (!is_merge_key(t.node(k))) {
      plain.push_back({k, v, merged});
      continue;
    }
    if (t.is_map(v)) {
      flatten(t, v, merge, diags, depth + 1, true);
    } else if (t.is_seq(v)) {
      const auto& subs = t.node(v).items;
      std::vector<std::vector<MapEntry>> submerge;
      for (NodeId s : subs) {
        if (!t.is_map(s)) {
          diags.push_back({t.where(s), "a merge key ('<<') takes a mapping or a list of mappings"});
          continue;
        }
        submerge.emplace_back();
        flatten(t, s, submerge.back(), diags, depth + 1, true);
      }
      for (auto it = submerge.rbegin(); it != submerge.rend(); ++it) merge.insert(merge.end(), it->begin(), it->end());
    } else {
      diags.push_back({t.where(v), "a merge key ('<<') takes a mapping or a list of mappings"});
    }
  }
  out.insert(out.end(), merge.begin(), merge.end());
  out.insert(out.end(), plain.begin(), plain.end());
}

}  // namespace

std::vector<MapEntry> map_entries(const YamlTree& t, NodeId map, std::vector<Diagnostic>& diags) {
  std::vector<MapEntry> out;
  const YamlNode& m = t.node(map);
  bool any_merge = false;
  for (std::size_t i = 0; i + 1 < m.items.size(); i += 2)
    if (is_merge_key(t.node(m.items[i]))) any_merge = true;
  if (!any_merge) {
    out.reserve(m.items.size() / 2);
    for (std::size_t i = 0; i + 1 < m.items.size(); i += 2) out.push_back({m.items[i], m.items[i + 1], false});
    return out;
  }
  flatten(t, map, out, diags, 0, false);
  return out;
}

// ---------------------------------------------------------------------------
// YAML 1.1 scalars (PyYAML's Resolver and SafeConstructor)
// ---------------------------------------------------------------------------

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool match_bool(std::string_view s, bool& value) {
  static const char* yes[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* no[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* w : yes)
    if (s == w) return value = true, true;
  for (const char* w : no)
    if (s == w) return value = false, true;
  return false;
}

bool match_null(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// Consumes [0-9_]* from s at i.
void skip_digits_us(std::string_view s, std::size_t& i) {
  while (i < s.size() && (is_digit(s[i]) || s[i] == '_')) ++i;
}

// (:[0-5]?[0-9])+ at i; true when at least one group matched.
bool skip_sexagesimal(std::string_view s, std::size_t& i) {
  bool any = false;
  while (i < s.size() && s[i] == ':') {
    std::size_t j = i + 1;
    if (j + 1 < s.size() && s[j] >= '0' && s[j] <= '5' && is_digit(s[j + 1]))
      j += 2;
    else if (j < s.size() && is_digit(s[j]))
      j += 1;
    else
      break;
    // [0-5]?[0-9] is greedy but may backtrack: "1:5" and "1:59" both match.
    i = j;
    any = true;
  }
  return any;
}

bool match_int(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string_view r = s.substr(i);
  if (r.empty()) return false;
  if (r.size() > 2 && r[0] == '0' && r[1] == 'b') {
    for (char c : r.substr(2))
      if (c != '0' && c != '1' && c != '_') return false;
    return true;
  }
  if (r.size() > 2 && r[0] == '0' && r[1] == 'x') {
    for (char c : r.substr(2))
      if (!is_hex(c) && c != '_') return false;
    return true;
  }
  if (r[0] == '0') {
    if (r.size() == 1) return true;
    for (char c : r.substr(1))
      if (!(c >= '0' && c <= '7') && c != '_') return false;
    return true;
  }
  if (r[0] < '1' || r[0] > '9') return false;
  std::size_t j = 1;
  skip_digits_us(r, j);
  if (j == r.size()) return true;
  // sexagesimal: [1-9][0-9_]*(:[0-5]?[0-9])+
  return skip_sexagesimal(r, j) && j == r.size();
}

bool match_float(std::string_view s) {
  std::size_t i = 0;
  auto exp_ok = [&](std::size_t j) {
    if (j == s.size()) return true;
    if (s[j] != 'e' && s[j] != 'E') return false;
    ++j;
    if (j >= s.size() || (s[j] != '+' && s[j] != '-')) return false;
    ++j;
    if (j >= s.size()) return false;
    for (; j < s.size(); ++j)
      if (!is_digit(s[j])) return false;
    return true;
  };
  // \.[0-9_]+([eE][-+][0-9]+)?  and  \.(nan|NaN|NAN)
  if (!s.empty() && s[0] == '.') {
    if (s == ".nan" || s == ".NaN" || s == ".NAN" || s == ".inf" || s == ".Inf" || s == ".INF") return true;
    std::size_t j = 1;
    skip_digits_us(s, j);
    return j > 1 && exp_ok(j);
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string_view r = s.substr(i);
  if (r == ".inf" || r == ".Inf" || r == ".INF") return true;
  if (r.empty() || !is_digit(r[0])) return false;
  std::size_t j = 1;
  skip_digits_us(r, j);
  if (j < r.size() && r[j] == '.') {
    ++j;
    skip_digits_us(r, j);
    std::size_t k = i + j;
    return exp_ok(k);
  }
  // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
  if (!skip_sexagesimal(r, j)) return false;
  if (j >= r.size() || r[j] != '.') return false;
  ++j;
  skip_digits_us(r, j);
  return j == r.size();
}

std::string without_underscores(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '_') out.push_back(c);
  return out;
}

__extension__ typedef unsigned __int128 u128;

// construct_yaml_int; false when Python would raise.
bool construct_int(std::string_view text, nlohmann::json& out) {
  std::string v = without_underscores(text);
  int sign = 1;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    if (v[0] == '-') sign = -1;
    v.erase(0, 1);
  }
  if (v.empty()) return false;
  u128 acc = 0;
  bool overflow = false;
  auto push = [&](unsigned digit, unsigned base) {
    acc = acc * base + digit;
    if (acc > (static_cast<u128>(1) << 100)) overflow = true;
  };
  double big = 0;  // used when the value does not fit 64 bits
  auto digits = [&](std::string_view d, unsigned base) -> bool {
    if (d.empty()) return false;
    for (char c : d) {
      unsigned x;
      if (is_digit(c))
        x = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        x = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        x = static_cast<unsigned>(c - 'A' + 10);
      else
        return false;
      if (x >= base) return false;
      big = big * base + x;
      push(x, base);
    }
    return true;
  };
  bool ok;
  if (v == "0")
    ok = digits("0", 10);
  else if (v.rfind("0b", 0) == 0)
    ok = digits(std::string_view(v).substr(2), 2);
  else if (v.rfind("0x", 0) == 0)
    ok = digits(std::string_view(v).substr(2), 16);
  else if (v[0] == '0')
    ok = digits(v, 8);
  else if (v.find(':') != std::string::npos) {
    acc = 0;
    big = 0;
    ok = true;
    std::size_t start = 0;
    while (ok) {
      std::size_t p = v.find(':', start);
      std::string_view part = std::string_view(v).substr(start, p == std::string::npos ? std::string::npos : p - start);
      u128 a = 0;
      double b = 0;
      if (part.empty()) ok = false;
      for (char c : part) {
        if (!is_digit(c)) ok = false;
        a = a * 10 + static_cast<unsigned>(c - '0');
        b = b * 10 + (c - '0');
        if (a > (static_cast<u128>(1) << 100)) overflow = true;
      }
      acc = acc * 60 + a;
      big = big * 60 + b;
      if (acc > (static_cast<u128>(1) << 100)) overflow = true;
      if (p == std::string::npos) break;
      start = p + 1;
    }
  } else {
    ok = digits(v, 10);
  }
  if (!ok) return false;
  if (!overflow && acc <= static_cast<u128>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(acc) * sign;
  } else if (!overflow && sign > 0 && acc <= std::numeric_limits<std::uint64_t>::max()) {
    out = static_cast<std::uint64_t>(acc);
  } else if (!overflow && sign < 0 && acc == static_cast<u128>(std::numeric_limits<std::int64_t>::max()) + 1) {
    out = std::numeric_limits<std::int64_t>::min();
  } else {
    out = sign * big;  // beyond 64 bits: JSON cannot hold Python's big integers exactly
  }
  return true;
}

bool construct_float(std::string_view text, nlohmann::json& out) {
  std::string v = without_underscores(text);
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double sign = 1;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    if (v[0] == '-') sign = -1;
    v.erase(0, 1);
  }
  if (v == ".inf") {
    out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  if (v == ".nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (v.find(':') != std::string::npos) {
    double value = 0;
    std::size_t start = 0;
    while (true) {
      std::size_t p = v.find(':', start);
      std::string part = v.substr(start, p == std::string::npos ? std::string::npos : p - start);
      char* end = nullptr;
      double d = std::strtod(part.c_str(), &end);
      if (part.empty() || end != part.c_str() + part.size()) return false;
      value = value * 60 + d;
      if (p == std::string::npos) break;
      start = p + 1;
    }
    out = sign * value;
    return true;
  }
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size()) return false;
  out = sign * d;
  return true;
}

}  // namespace

nlohmann::json resolve_scalar(const YamlNode& n) {
  if (n.kind == YamlNode::Kind::null) return nullptr;
  if (n.kind != YamlNode::Kind::scalar) return nullptr;
  const std::string s(n.text);
  nlohmann::json out;
  if (!n.tag.empty()) {
    std::string_view tag = n.tag;
    bool b;
    if (tag == "tag:yaml.org,2002:int" && construct_int(s, out)) return out;
    if (tag == "tag:yaml.org,2002:float" && construct_float(s, out)) return out;
    if (tag == "tag:yaml.org,2002:bool" && match_bool(s, b)) return b;
    if (tag == "tag:yaml.org,2002:null") return nullptr;
    return s;  // !!str, !unsafe, !vault and unknown tags keep the text
  }
  if (n.quoted) return s;
  bool b;
  if (match_bool(s, b)) return b;
  if (match_float(s) && construct_float(s, out)) return out;
  if (match_int(s) && construct_int(s, out)) return out;
  if (match_null(s)) return nullptr;
  return s;
}

std::string json_key_text(const nlohmann::json& key) {
  if (key.is_string()) return key.get<std::string>();
  if (key.is_null()) return "null";
  if (key.is_boolean()) return key.get<bool>() ? "true" : "false";
  if (key.is_number_integer() || key.is_number_unsigned()) return key.dump();
  if (key.is_number_float()) {
    double d = key.get<double>();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    // Python's repr(): the shortest digits that read back the same, fixed
    // notation for exponents -4..15, otherwise d.ddde+XX.
    char buf[64];
    int prec = 1;
    for (; prec < 17; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
      if (std::strtod(buf, nullptr) == d) break;
    }
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    int exponent = std::atoi(std::strchr(buf, 'e') + 1);
    if (exponent >= -4 && exponent < 16) {
      std::snprintf(buf, sizeof buf, "%.*f", std::max(prec - 1 - exponent, 0), d);
      std::string r = buf;
      if (r.find('.') == std::string::npos) r += ".0";
      return r;
    }
    return buf;
  }
  return key.dump();
}

nlohmann::json to_json(const YamlTree& t, NodeId id, std::uint64_t& budget) {
  struct Walker {
    const YamlTree& t;
    std::uint64_t& budget;
    std::vector<Diagnostic> diags;
    nlohmann::json walk(NodeId id, int depth) {
      if (budget == 0)
        throw InputError(t.where(id), "YAML aliases expand to too much data (possible alias bomb)");
      --budget;
      if (depth > 256) throw InputError(t.where(id), "YAML nesting is deeper than 256 levels");
      const YamlNode& n = t.node(id);
      switch (n.kind) {
        case YamlNode::Kind::null: return nullptr;
        case YamlNode::Kind::scalar: return resolve_scalar(n);
        case YamlNode::Kind::sequence: {
          nlohmann::json arr = nlohmann::json::array();
          for (NodeId c : n.items) arr.push_back(walk(c, depth + 1));
          return arr;
        }
        case YamlNode::Kind::mapping: {
          nlohmann::json obj = nlohmann::json::object();
          for (const MapEntry& e : map_entries(t, id, diags)) {
            const YamlNode& k = t.node(e.key);
            std::string key = k.kind == YamlNode::Kind::scalar || k.kind == YamlNode::Kind::null
                                  ? json_key_text(resolve_scalar(k))
                                  : walk(e.key, depth + 1).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            obj[key] = walk(e.value, depth + 1);
          }
          return obj;
        }
      }
      return nullptr;
    }
  } w{t, budget, {}};
  nlohmann::json out = w.walk(id, 0);
  if (!w.diags.empty()) throw InputError(w.diags);
  return out;
}

std::string kind_name(const YamlTree& t, NodeId id) {
  const YamlNode& n = t.node(id);
  switch (n.kind) {
    case YamlNode::Kind::null: return "nothing (null)";
    case YamlNode::Kind::sequence: return "a list";
    case YamlNode::Kind::mapping: return "a mapping";
    case YamlNode::Kind::scalar: {
      nlohmann::json v = resolve_scalar(n);
      if (v.is_boolean()) return "a boolean ('" + std::string(n.text) + "')";
      if (v.is_number()) return "a number (" + std::string(n.text) + ")";
      if (v.is_null()) return "nothing (null)";
      return "a string ('" + std::string(n.text.substr(0, 40)) + "')";
    }
  }
  return "something else";
}

}  // namespace aicloud::inventory::detail
