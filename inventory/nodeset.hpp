// Node sets in ClusterShell syntax: "gpu-a12-[01-16]", "n[1-3,7,10-12]",
// steps "n[0-10/2]", several bracket groups ("r[1-2]n[01-04]" is their
// product), comma-separated sets and set operations ("!" difference, "&"
// intersection, "^" symmetric difference), plus Ansible-style "node[01:50]",
// "node[1:9:2]" and alphabetic "rack[a:f]".
// fold_nodeset() prints exactly what ClusterShell's `nodeset -f` prints.
//
// Indexes are limited to 18 significant digits (ClusterShell allows any
// Python integer) and "@group" / wildcard patterns need an inventory (see
// selector.hpp); everything else follows ClusterShell 1.9. docs/inventory.md
// describes the syntax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace aicloud::inventory {

// A node-set pattern that does not parse. Its one diagnostic reads
// "node set 'PATTERN':1:COL: message".
class NodeSetError : public InputError {
 public:
  NodeSetError(std::string pattern, std::size_t column, std::string reason);
  const std::string& pattern() const { return m_pattern; }
  std::size_t column() const { return m_column; }   // 1-based
  const std::string& reason() const { return m_reason; }

 private:
  std::string m_pattern;
  std::size_t m_column;
  std::string m_reason;
};

// Expands a node-set expression into names, in ClusterShell's sorted order
// (as `nodeset -e` prints them, one per element). Throws InputError (with the
// column of the problem) when the pattern does not parse, or when it holds
// more than k_max_expand names.
std::vector<std::string> expand_nodeset(std::string_view pattern);
constexpr std::uint64_t k_max_expand = 20'000'000;

// Folds names into the shortest ClusterShell form, identical to `nodeset -f`.
// Each name is taken literally (no operators or brackets are interpreted).
// Throws InputError for an empty name.
std::string fold_nodeset(const std::vector<std::string>& names);

// Number of names a pattern expands to, without materialising them.
std::size_t count_nodeset(std::string_view pattern);

// The `nodeset` command-line forms: several patterns (each may hold several
// lines) are unioned, exactly as ClusterShell's `nodeset` does with several
// arguments. expand streams the names to `sink` in `nodeset -e` order.
std::string fold_nodeset_args(const std::vector<std::string>& patterns);
std::uint64_t count_nodeset_args(const std::vector<std::string>& patterns);
void expand_nodeset_args(const std::vector<std::string>& patterns,
                         const std::function<void(std::string_view)>& sink);

// A parsed node set for membership tests (selectors): contains(name) is
// true when the name is one of the set's names. Throws NodeSetError.
class NodeSetMatcher {
 public:
  explicit NodeSetMatcher(std::string_view pattern);
  ~NodeSetMatcher();
  NodeSetMatcher(NodeSetMatcher&&) noexcept;
  NodeSetMatcher& operator=(NodeSetMatcher&&) noexcept;
  bool contains(std::string_view name) const;
  std::uint64_t size() const;

 private:
  struct Impl;
  Impl* m_impl;
};

}  // namespace aicloud::inventory
