// Presenting reports: the terminal summary (`report show`, and the end of
// `certify`), its JSON form, the comparison of two certifications
// (`report diff`) and JUnit XML for CI systems (`certify --junit`). All pure
// functions of reports.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "certify/report.hpp"

namespace aicloud::certify {

// Rack verdict, a node x stage table, every failing check with its numbers,
// and the worst measurements against their floors. Colour via common/term.
std::string render_summary(const Report& report);
// The same content as JSON: {verdict, certified, profile, run, racks,
// nodes: [{name, verdict, stages, failing}], worst: [...]}.
nlohmann::json summary_json(const Report& report);

struct DiffResult {
  nlohmann::json json;  // {nodes_started_failing, nodes_fixed, nodes_added, nodes_removed,
                        //  checks_new, checks_gone, measurements: [...], regressed}
  std::string text;
  bool regressed = false;  // a node or rack got worse, or a measurement fell by more than the margin
};

// Compares two certifications of the same rack. Measurements are matched by
// node, metric, GPU and link; a change larger than margin_pct is listed.
DiffResult diff_reports(const Report& before, const Report& after, double margin_pct);

// JUnit XML: one <testsuite> per node (and one per rack), one <testcase>
// per stage; FAIL -> <failure>, INCOMPLETE or not run -> <error>, skipped
// because of an earlier failure or not applicable -> <skipped>.
std::string junit_xml(const Report& report);

}  // namespace aicloud::certify
