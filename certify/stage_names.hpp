// The certification pipeline's stage ids, in the order they run. Shared by
// profiles (which stages a level runs), the runner's stage table, verdicts
// and reports, so that every part spells them the same way.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::certify {

inline constexpr std::array<std::string_view, 8> k_stage_order = {
    "reachability",  // SSH reachability and host keys
    "deploy",        // this binary copied to every node, checksum-verified
    "health",        // node facts + `aicloudctl health` (preflight gate)
    "conformance",   // GPU count/model, NICs, versions the same across the rack
    "burnin",        // `aicloudctl burnin` on every node in parallel
    "nccl_intra",    // NCCL inside every node
    "nccl_inter",    // NCCL across the rack, localisation when it falls short
    "recheck",       // health again: no error counter may have moved
};

// Position in k_stage_order, or -1.
inline int stage_index(std::string_view id) {
  for (std::size_t i = 0; i < k_stage_order.size(); ++i)
    if (k_stage_order[i] == id) return static_cast<int>(i);
  return -1;
}

inline std::vector<std::string> all_stage_ids() { return {k_stage_order.begin(), k_stage_order.end()}; }

// Rack-scoped stages run once per rack instead of once per node.
inline bool is_rack_stage(std::string_view id) { return id == "nccl_inter"; }

}  // namespace aicloud::certify
