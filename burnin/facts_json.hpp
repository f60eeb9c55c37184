// JSON forms of the NVML facts (gpu/nvml.hpp), shared by the health and
// burn-in reports. A reading that failed is null, and its NVML message is
// listed under "unavailable" so that a consumer can tell "0" from "could not
// read".
#pragma once

#include <nlohmann/json.hpp>

#include "gpu/nvml.hpp"

namespace aicloud::burnin {

nlohmann::json facts_to_json(const gpu::GpuFacts& f);
nlohmann::json counters_to_json(const gpu::GpuCounters& c);

}  // namespace aicloud::burnin
