// Node sets in ClusterShell syntax: "gpu-a12-[01-16]", "n[1-3,7,10-12]",
// steps "n[0-10/2]", several bracket groups ("r[1-2]n[01-04]" is their
// product), comma-separated sets and set operations ("!" difference, "&"
// intersection, "^" symmetric difference), plus Ansible-style "node[01:50]".
// fold_nodeset() prints exactly what ClusterShell's `nodeset -f` prints.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::inventory {

// Expands a node-set expression into names, in ClusterShell's sorted order
// (as `nodeset -e` prints them, one per element). Throws InputError (with the
// column of the problem) when the pattern does not parse.
std::vector<std::string> expand_nodeset(std::string_view pattern);

// Folds names into the shortest ClusterShell form, identical to `nodeset -f`.
std::string fold_nodeset(const std::vector<std::string>& names);

// Number of names a pattern expands to, without materialising them.
std::size_t count_nodeset(std::string_view pattern);

}  // namespace aicloud::inventory
