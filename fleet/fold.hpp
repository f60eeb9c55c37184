// Output folding as `clush -b` / `dshbak -c` do it: hosts whose output and
// outcome are identical are printed once, under the folded node set of their
// names ("ok-[001-126] (126)"). Groups are ordered ok first and problems
// last, nearest the summary line where the eye lands. Pure; unit-tested.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fleet/result.hpp"

namespace aicloud::fleet {

struct OutputGroup {
  std::vector<std::size_t> members;  // indexes into the results, in result order
  std::string nodes;                 // folded node set of the members' names
};

// Groups results with identical status, exit code, signal, stdout, stderr
// and error.
std::vector<OutputGroup> fold_results(const std::vector<HostResult>& results);

// The folded report: for each group a header (node set, count, outcome),
// then its stdout and stderr. `color` paints headers and outcomes.
std::string render_folded(const std::vector<HostResult>& results, const std::vector<OutputGroup>& groups);

// One line per host, "host: line" (as pdsh prints), for --no-fold.
std::string render_lines(const std::vector<HostResult>& results);

// "exit 3", "killed by signal TERM", "unreachable: connection refused", ...
std::string outcome_text(const HostResult& r);

}  // namespace aicloud::fleet
