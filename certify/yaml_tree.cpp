// yaml-cpp -> YNode with 1-based locations. yaml-cpp accepts duplicate keys
// silently (the first wins on lookup); a profile with two `floors:` blocks is
// almost certainly a mistake, so they are rejected here with both places.
#include "certify/yaml_tree.hpp"

#include <yaml-cpp/yaml.h>

namespace aicloud::certify {

namespace {

SourceLocation at(const YAML::Mark& m, const std::string& path) {
  if (m.is_null()) return {path, 0, 0};
  return {path, m.line + 1, m.column + 1};
}

YNode convert(const YAML::Node& n, const std::string& path, std::vector<Diagnostic>& diags) {
  YNode out;
  out.where = at(n.Mark(), path);
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.kind = YNode::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      out.kind = YNode::Kind::scalar;
      out.scalar = n.Scalar();
      out.quoted = n.Tag() == "!";
      break;
    case YAML::NodeType::Sequence:
      out.kind = YNode::Kind::sequence;
      for (const auto& item : n) out.items.push_back(convert(item, path, diags));
      break;
    case YAML::NodeType::Map:
      out.kind = YNode::Kind::map;
      for (const auto& kv : n) {
        SourceLocation kw = at(kv.first.Mark(), path);
        if (!kv.first.IsScalar()) {
          diags.push_back({kw, "keys must be plain words, not " + std::string(kv.first.IsMap() ? "mappings" : "lists")});
          continue;
        }
        std::string key = kv.first.Scalar();
        if (key == "<<") {
          diags.push_back({kw, "YAML merge keys ('<<') are not supported in profiles; use 'extends:'"});
          continue;
        }
        if (const SourceLocation* prev = out.key_location(key)) {
          diags.push_back({kw, "duplicate key '" + key + "' (first set at " + format_location(*prev) + ")"});
          continue;
        }
        out.entries.emplace_back(key, convert(kv.second, path, diags));
        out.key_locations.push_back(kw);
      }
      break;
  }
  return out;
}

}  // namespace

const YNode* YNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

const SourceLocation* YNode::key_location(std::string_view key) const {
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (entries[i].first == key) return &key_locations[i];
  return nullptr;
}

std::string YNode::describe() const {
  switch (kind) {
    case Kind::null: return "nothing";
    case Kind::map: return "a mapping";
    case Kind::sequence: return "a list";
    case Kind::scalar: return "'" + scalar + "'";
  }
  return "?";
}

YNode parse_yaml_tree(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(at(e.mark, path), "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw InputError(at(e.mark, path), std::string("cannot read YAML: ") + e.what());
  }
  std::vector<Diagnostic> diags;
  YNode tree = convert(root, path, diags);
  if (!diags.empty()) throw InputError(std::move(diags));
  if (!tree.is_map()) {
    SourceLocation w = tree.where.line ? tree.where : SourceLocation{path, 1, 1};
    throw InputError(w, "expected a mapping of profile keys at the top level, got " + tree.describe());
  }
  return tree;
}

YNode merge_yaml_trees(const YNode& base, const YNode& over) {
  if (!base.is_map() || !over.is_map()) return over;
  YNode out = base;
  for (std::size_t i = 0; i < over.entries.size(); ++i) {
    const auto& [key, value] = over.entries[i];
    std::size_t pos = out.entries.size();
    for (std::size_t j = 0; j < out.entries.size(); ++j)
      if (out.entries[j].first == key) pos = j;
    if (value.is_null()) {
      if (pos < out.entries.size()) {
        out.entries.erase(out.entries.begin() + static_cast<std::ptrdiff_t>(pos));
        out.key_locations.erase(out.key_locations.begin() + static_cast<std::ptrdiff_t>(pos));
      }
      continue;
    }
    if (pos == out.entries.size()) {
      out.entries.emplace_back(key, value);
      out.key_locations.push_back(over.key_locations[i]);
    } else {
      out.entries[pos].second = merge_yaml_trees(out.entries[pos].second, value);
      out.key_locations[pos] = over.key_locations[i];
    }
  }
  return out;
}

}  // namespace aicloud::certify
