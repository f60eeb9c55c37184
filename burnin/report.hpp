// The burn-in report: JSON (schema "aicloudctl.burnin/1", documented in
// docs/gpu-health.md, consumed by certify) and the human summary.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "burnin/rules.hpp"
#include "burnin/run.hpp"

namespace aicloud::burnin {

nlohmann::json run_to_json(const RunRecord& run, const RunVerdict& verdict);
std::string run_to_text(const RunRecord& run, const RunVerdict& verdict, bool verbose);

// The telemetry of one GPU as columns ("t", "power_w", ...; NaN -> null) and
// a summary of the stress phase (max temperatures, power, mean SM clock).
nlohmann::json series_to_json(const GpuSeries& s, const std::vector<std::string>& phase_names);
nlohmann::json series_summary(const GpuSeries& s, int phase);

}  // namespace aicloud::burnin
