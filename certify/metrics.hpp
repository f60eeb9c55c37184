// The catalog of measurements that certification judges. Every number a
// stage extracts from the node-side JSON (burnin, nccl) becomes a
// Measurement naming one of these metrics, so that floors, ceilings and the
// fleet-relative rules are one generic pass over a list instead of one rule
// per check. A profile's `floors:`, `ceilings:` and `fleet.margin_pct:` keys
// must name metrics from this table (validated with did-you-mean).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::certify {

// What a measurement belongs to: one GPU, one node, one link (a GPU pair in
// a node, or a node pair across the rack), or the whole rack.
enum class MetricScope { gpu, node, link, rack };

struct MetricInfo {
  const char* id;           // "gemm_bf16_tflops"
  const char* unit;         // "TFLOP/s", "GB/s", "" (fraction), "C"
  const char* stage;        // the stage that measures it
  MetricScope scope;
  bool higher_is_better;    // floors for these, ceilings for the others
  const char* description;  // one line for docs and `report show`
};

// Every metric, in the order reports list them.
const std::vector<MetricInfo>& metric_catalog();
// nullptr when the id is unknown.
const MetricInfo* find_metric(std::string_view id);
std::vector<std::string> metric_ids();

std::string_view to_string(MetricScope scope);

}  // namespace aicloud::certify
