// Verdicts. judge() derives everything a report concludes - node facts,
// measurements, reasons, GPU/node/rack verdicts, stage outcomes, the
// summary and the exit code - from the report's stage records and the
// profile, and nothing else. It is pure and idempotent: the runner calls it
// after every stage (to decide who goes on), `--resume` calls it on a loaded
// report, and the tests call it on fixtures.
//
// Rules, in the order they are applied:
//   1. per node and stage: what the node-side command said (health findings,
//      burnin and NCCL verdicts) plus the profile's rules on the facts
//      (ECC, remaps, XIDs, PCIe, NVLink, clock events, counters);
//   2. conformance across the rack (GPU count and model, memory, NICs,
//      driver/CUDA/VBIOS policy, "same" meaning the rack's majority);
//   3. GEMM result hashes that must agree across every GPU of the rack;
//   4. rack stages (inter-node NCCL, localisation suspects);
//   5. floors and ceilings on every measurement;
//   6. fleet-relative rules: more than margin_pct below the rack median fails;
//   7. outcomes: FAIL beats INCOMPLETE beats PASS; a stage that did not run,
//      errored or was interrupted is INCOMPLETE; nothing missing is PASS.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "certify/profile.hpp"
#include "certify/report.hpp"

namespace aicloud::certify {

void judge(Report& report, const Profile& profile);

// Why `node` must not be sent to `stage` (an earlier stage of the node did
// not PASS), or nothing when it may go on. Reads the outcomes of the last
// judge() call.
std::optional<std::string> stage_blocked(const NodeRecord& node, std::string_view stage);

// A short human name for the XIDs that certification fails on ("GPU has
// fallen off the bus"), empty when unknown.
std::string_view xid_name(int xid);

// Formats a measured value for messages: 612.3, 2680, 0.85, 20000000.
std::string format_value(double v);

}  // namespace aicloud::certify
