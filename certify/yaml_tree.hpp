// A YAML document as a plain tree that remembers where every node and key
// was written, so that a profile assembled from several files (a custom
// profile that `extends:` a shipped one) still points each diagnostic at the
// FILE:LINE:COL that set the value. yaml-cpp parses; this tree is what the
// validators walk. Merging implements `extends:` (maps merge key by key, a
// later file wins, `~` removes a key, lists are replaced whole).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace aicloud::certify {

struct YNode {
  enum class Kind { null, scalar, sequence, map };
  Kind kind = Kind::null;
  std::string scalar;     // scalars only
  bool quoted = false;    // scalar written in quotes ('5' is a string, 5 a number)
  std::vector<YNode> items;                         // sequences
  std::vector<std::pair<std::string, YNode>> entries;  // maps, in file order
  std::vector<SourceLocation> key_locations;        // parallel to entries
  SourceLocation where;

  bool is_map() const { return kind == Kind::map; }
  bool is_null() const { return kind == Kind::null; }
  const YNode* find(std::string_view key) const;
  const SourceLocation* key_location(std::string_view key) const;
  // "a mapping", "a list", "the text 'x'", "nothing" - for "expected ..., got ..." messages.
  std::string describe() const;
};

// Parses one YAML document. Throws InputError (FILE:LINE:COL) on a syntax
// error, a duplicate key, anchors/aliases to maps being merged with "<<", or
// a document that is not a mapping.
YNode parse_yaml_tree(const std::string& text, const std::string& path);

// `over` applied on top of `base`: maps merge recursively; a null value in
// `over` removes the key; every other value (scalars, lists) replaces.
YNode merge_yaml_trees(const YNode& base, const YNode& over);

}  // namespace aicloud::certify
