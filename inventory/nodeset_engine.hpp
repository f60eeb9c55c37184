// The node-set engine behind nodeset.hpp: ClusterShell's NodeSetBase (a map
// from a name pattern such as "gpu-a%s-%s" to a RangeSet or RangeSetND) and
// its string parser (ParsingEngine._scan_string), ported step by step so
// that parsing, set operations, folding and expansion order match
// ClusterShell 1.9. Two extensions: Ansible-style ranges inside brackets
// ("node[01:50]", "node[1:9:2]", "rack[a:f]").
//
// Pattern keys are kept exactly as ClusterShell keys them ("%s" for an index,
// "%%" for a literal percent sign) so that sorting by key gives the same
// output order.
//
// Internal to the inventory library; the public API is nodeset.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/rangeset.hpp"

namespace aicloud::inventory::detail {

struct NodeEntry {
  enum class Kind { none, one, nd };
  Kind kind = Kind::none;
  RangeSet one;     // kind == one
  RangeSetND nd;    // kind == nd

  bool truthy() const {
    return kind == Kind::one ? !one.empty() : kind == Kind::nd ? nd.truthy() : false;
  }
  NodeEntry copy();  // RangeSetND::copy() folds the source, as in Python
};

// The entry of one parsed token: no index, one RangeSet, or a one-vector
// RangeSetND (ClusterShell's _rsets4nsb).
NodeEntry entry_from(std::vector<RangeSet> rsets);

class NodeSetBase {
 public:
  void add(const std::string& pat, NodeEntry entry, bool copy_rangeset);
  void update(NodeSetBase& other);
  void difference_update(NodeSetBase& other);
  void intersection_update(NodeSetBase& other);
  void symmetric_difference_update(NodeSetBase& other);

  std::uint64_t size();                 // number of names (saturating)
  bool empty() const { return m_patterns.empty(); }
  std::string str();                    // folded, as `nodeset -f` prints it
  // Calls f(name) for every name in `nodeset -e` order.
  void for_each(const std::function<void(std::string_view)>& f);
  bool contains(std::string_view name);

  std::map<std::string, NodeEntry>& patterns() { return m_patterns; }

 private:
  std::map<std::string, NodeEntry> m_patterns;
};

// A single node name, as _scan_string_single() splits it: "gpu-a12-01" is
// the pattern "gpu-a%s-%s" with the indexes "12" and "01". Throws RangeError.
void scan_single(std::string_view name, std::string& pattern, std::vector<RangeSet>& rsets);

// Parses one node-set string with operators (ParsingEngine.parse_string).
// Throws ParseError.
struct ParseError {
  std::string message;
  std::size_t column;  // 1-based column in the parsed text
};
NodeSetBase parse_nodeset_string(std::string_view text);

// `nodeset` command-line semantics: every argument is split into lines,
// each line parsed and unioned (NodeSet.fromlist), and the arguments are
// unioned in turn. Throws ParseError (column relative to the argument).
NodeSetBase parse_nodeset_args(const std::vector<std::string>& args, std::size_t* bad_arg = nullptr);

// Renders pattern key pat with the given index texts ("%s" -> index,
// "%%" -> "%") into out.
void render_pattern(std::string& out, std::string_view pat, const std::vector<std::string_view>& idx);

}  // namespace aicloud::inventory::detail
