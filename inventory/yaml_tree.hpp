// A small read-only YAML tree built from yaml-cpp's event parser (or, for
// plain block-style files, from a faster reader that builds the same tree).
//
// yaml-cpp's YAML::Node graph is slow to build for large inventories and
// hides what a validator needs (duplicate keys, which key a value belongs
// to, quoted versus plain scalars), so the inventory loaders read the event
// stream into an arena of YamlNode instead. Every position is 1-based
// (yaml-cpp's Mark is 0-based), every yaml-cpp exception (syntax errors,
// DeepRecursion, bad aliases) becomes an InputError with FILE:LINE:COL, and
// aliases are shared subtrees (a recursive alias is refused).
//
// Scalars are resolved the way PyYAML (and so Ansible) resolves YAML 1.1
// plain scalars: yes/no/on/off are booleans, 0x1F and 010 are integers,
// "1.0e+3" is a float while "1e3" is a string, and so on.
//
// Internal to the inventory library.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace aicloud::inventory::detail {

using NodeId = std::uint32_t;

// 64 bytes: a 10,000-node inventory is ~150,000 of them, and on a VM the
// memory they touch costs more than reading them. Texts and child lists are
// views into storage the tree owns (the source text itself, where a scalar
// is written verbatim), valid as long as the tree.
struct YamlNode {
  enum class Kind : std::uint8_t { null, scalar, sequence, mapping };
  Kind kind = Kind::null;
  bool quoted = false;          // quoted or "!"-tagged: never resolved to a number, bool or null
  int line = 0;                 // 1-based
  int column = 0;               // 1-based
  std::string_view text;        // scalar text
  std::string_view tag;         // explicit tag, e.g. "tag:yaml.org,2002:str" or "!unsafe"; "" when none
  std::span<const NodeId> items;  // sequence: children; mapping: key, value, key, value, ...
};

class YamlTree {
 public:
  YamlTree() = default;
  YamlTree(YamlTree&&) = default;
  YamlTree& operator=(YamlTree&&) = default;
  YamlTree(const YamlTree&) = delete;  // nodes point into this tree's storage
  YamlTree& operator=(const YamlTree&) = delete;

  // Parses one YAML document. Throws InputError (FILE:LINE:COL) on syntax
  // errors, nesting deeper than yaml-cpp allows, recursive or unknown
  // aliases, and several documents in one file. An empty text yields a tree
  // whose has_document() is false.
  // Plain block-style files (what inventories are made of) are read by a
  // fast reader of their own (yaml_fast.cpp); anything outside that subset,
  // and every invalid file, by yaml-cpp. Both build the same tree.
  static YamlTree parse(std::string text, const std::string& path);
  // The two readers on their own, for tests and fuzzing. parse_fast()
  // returns nullopt where it leaves the text to yaml-cpp (text that is not
  // UTF-8 included; parse() refuses that before either reader runs).
  static std::optional<YamlTree> parse_fast(const std::string& text, const std::string& path);
  static YamlTree parse_yaml_cpp(const std::string& text, const std::string& path);

  bool has_document() const { return m_has_document; }
  NodeId root() const { return m_root; }
  const YamlNode& node(NodeId id) const { return m_nodes[id]; }
  const std::string& path() const { return m_path; }
  SourceLocation where(NodeId id) const { return {m_path, m_nodes[id].line, m_nodes[id].column}; }
  std::size_t node_count() const { return m_nodes.size(); }

  bool is_map(NodeId id) const { return m_nodes[id].kind == YamlNode::Kind::mapping; }
  bool is_seq(NodeId id) const { return m_nodes[id].kind == YamlNode::Kind::sequence; }
  bool is_scalar(NodeId id) const { return m_nodes[id].kind == YamlNode::Kind::scalar; }
  bool is_null(NodeId id) const { return m_nodes[id].kind == YamlNode::Kind::null; }

 private:
  // The fast reader on UTF-8 text; on success the tree takes `source`.
  static std::optional<YamlTree> parse_fast_utf8(std::unique_ptr<const std::string>& source, const std::string& path);
  friend class TreeBuilder;
  friend class FastParser;
  friend class NodeStore;
  std::vector<YamlNode> m_nodes;
  std::vector<NodeId> m_items;                 // every child list, each contiguous
  std::unique_ptr<const std::string> m_source; // the text, where the fast reader read it
  std::deque<std::string> m_strings;           // texts and tags that are not in m_source
  NodeId m_root = 0;
  bool m_has_document = false;
  std::string m_path;
};

// Builds a tree's nodes and child lists; both readers use it. Containers
// are opened and closed in document order; add() appends to the innermost
// open one. finish() points every container at its children.
class NodeStore {
 public:
  explicit NodeStore(YamlTree& t) : m_t(t) {}
  NodeId make(YamlNode::Kind kind, int line, int column);
  NodeId open(YamlNode::Kind kind, int line, int column);
  void add(NodeId child);
  void close();
  bool in_container() const { return !m_open.empty(); }
  NodeId innermost() const { return m_open.back(); }  // only while in_container()
  YamlNode& at(NodeId id) { return m_t.m_nodes[id]; }
  // Keeps a string in the tree; the view stays valid as long as the tree.
  std::string_view keep(std::string s) { return m_t.m_strings.emplace_back(std::move(s)); }
  void finish();

 private:
  struct Range {
    NodeId node;
    std::uint32_t offset, count;
  };
  YamlTree& m_t;
  std::vector<std::vector<NodeId>> m_frames;  // children of each open container (by depth), reused
  std::vector<NodeId> m_open;                 // open containers, innermost last
  std::vector<Range> m_ranges;
};

// One key/value pair of a mapping, after YAML merge keys ("<<: *base") are
// applied. `merged` marks pairs that came from a merge key.
struct MapEntry {
  NodeId key;
  NodeId value;
  bool merged = false;
};

// The pairs of a mapping in document order with merge keys expanded (PyYAML
// semantics: explicit keys win over merged ones, earlier merged maps win over
// later ones). Duplicate explicit keys are all returned; callers decide.
// Problems with merge keys are appended to diags.
std::vector<MapEntry> map_entries(const YamlTree& t, NodeId map, std::vector<Diagnostic>& diags);

// What a scalar means under YAML 1.1 (PyYAML's resolver and constructors).
// Timestamps stay strings. Plain scalars with an explicit core tag (!!int,
// !!str, ...) follow the tag.
nlohmann::json resolve_scalar(const YamlNode& n);

// The text Python's json module would use for a resolved mapping key.
std::string json_key_text(const nlohmann::json& key);

// Converts a subtree to JSON (mappings with merge keys applied, later
// duplicate keys win). Throws InputError when the subtree nests deeper than
// 256 levels or expands (through aliases) to more than `budget` nodes;
// budget is decremented as nodes are visited.
nlohmann::json to_json(const YamlTree& t, NodeId id, std::uint64_t& budget);

// The whole tree, one line per node (indented by depth): kind, line:column,
// whether quoted, tag and text. Tests compare the two readers with it.
std::string describe_tree(const YamlTree& t);

// Offset of the first byte that is not part of valid UTF-8, or npos.
std::size_t invalid_utf8_at(std::string_view s);

// Short description of a node's kind for "expected X, found Y" messages.
std::string kind_name(const YamlTree& t, NodeId id);

}  // namespace aicloud::inventory::detail
