// Shared pieces of the two inventory loaders (native.cpp, ansible.cpp):
// a diagnostics collector that keeps going after the first problem so that
// `inventory validate` can list every error, and typed readers for YAML
// nodes that report "expected X, found Y" at the node's FILE:LINE:COL.
//
// Internal to the inventory library.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.hpp"
#include "inventory/yaml_tree.hpp"

namespace aicloud::inventory::detail {

class Loader {
 public:
  explicit Loader(const YamlTree& t) : m_t(t) {}

  const YamlTree& tree() const { return m_t; }
  std::vector<Diagnostic>& diags() { return m_diags; }
  std::vector<Diagnostic>& warnings() { return m_warnings; }

  void error(NodeId at, std::string msg) { m_diags.push_back({m_t.where(at), std::move(msg)}); }
  void error(const SourceLocation& at, std::string msg) { m_diags.push_back({at, std::move(msg)}); }
  void warn(NodeId at, std::string msg) { m_warnings.push_back({m_t.where(at), std::move(msg)}); }

  // The entries of a mapping (null counts as empty); reports duplicate keys
  // as errors (or warnings when dup_is_warning) and keys not in `allowed`
  // (when non-empty) with a did-you-mean hint. Returns false when the node
  // is not a mapping (after reporting it).
  struct Entry {
    std::string key;
    NodeId key_node;
    NodeId value;
  };
  bool entries(NodeId map, std::string_view what, const std::vector<std::string>& allowed, std::vector<Entry>& out,
               bool dup_is_warning = false);

  // Typed scalar readers: nullopt (with an error) on a wrong type.
  std::optional<std::string> string(NodeId v, std::string_view what);
  std::optional<long long> integer(NodeId v, std::string_view what, long long min, long long max);
  std::optional<bool> boolean(NodeId v, std::string_view what);
  // A list of strings; a single string counts as a one-element list.
  std::optional<std::vector<std::string>> string_list(NodeId v, std::string_view what);

  // Column of character `offset` inside scalar v (for errors inside a
  // pattern): plain scalars start at the node, quoted ones one later.
  SourceLocation inside(NodeId v, std::size_t offset) const;

 private:
  const YamlTree& m_t;
  std::vector<Diagnostic> m_diags;
  std::vector<Diagnostic> m_warnings;
};

// Diagnostics in file order, each (location, message) once: a bad value in
// a range is reported once, not once per node.
std::vector<Diagnostic> sorted_unique(std::vector<Diagnostic> diags);

Inventory load_native(const YamlTree& t, const LoadOptions& options);
Inventory load_ansible(const YamlTree& t, const LoadOptions& options);
// True when the document looks like an Ansible YAML inventory rather than
// the native format (see load_inventory()).
bool looks_like_ansible(const YamlTree& t);

// "~/x" -> "$HOME/x".
std::string expand_home(const std::string& path);

}  // namespace aicloud::inventory::detail
