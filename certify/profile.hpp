// Certification profiles: what a healthy node of one hardware SKU looks like
// (GPU model and count, driver/firmware policy, health rules, floors from
// public figures, fleet-relative margins) and what each level runs
// (`quick` about 5 minutes a node, `standard` about 30, `burnin` hours).
//
// Shipped profiles live in profiles/*.yaml and are embedded in the binary;
// `--profile NAME|FILE` picks one, and a custom file can `extends:` a shipped
// profile (or another file) and override single values (`~` removes one).
// Every problem is reported as FILE:LINE:COL with did-you-mean for unknown
// keys; the format is documented in docs/profiles.md.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"

namespace aicloud::certify {

constexpr int k_profile_format = 1;

// Driver and firmware policy for one version fact.
struct VersionPolicy {
  enum class Kind { any, same, pinned, at_least };
  Kind kind = Kind::same;
  std::vector<std::string> versions;  // pinned: the allowed versions; at_least: the minimum

  // "same", "any", "570.133.20", "one of 570.133.20, 570.124.06", ">=550"
  std::string text() const;
  // True when `version` satisfies a pinned or at_least policy (any/same: true).
  bool admits(std::string_view version) const;
};

struct BurninPlan {
  Seconds duration{0};
  std::vector<std::string> tests;  // gemm_bf16 ... gemm_fp64, memtest, hbm, pcie, p2p
};

struct NcclPlan {
  std::vector<std::string> collectives;  // all_reduce, all_gather, reduce_scatter
  std::uint64_t size_bytes = 0;           // the message size certification judges
  int iters = 20;
  int warmup = 5;
};

struct Level {
  std::string name;
  std::string description;
  std::vector<std::string> stages;  // in pipeline order (stage_names.hpp)
  BurninPlan burnin;
  NcclPlan nccl;

  bool runs(std::string_view stage) const;
};

struct HealthRules {
  std::string ecc_mode = "required";      // required | any
  std::string mig_mode = "disabled";      // disabled | enabled | any
  std::string persistence_mode = "warn";  // required | warn | any
  std::optional<int> pcie_gen_min;
  std::optional<int> pcie_width_min;
  std::optional<int> nvlink_active_min;
  std::optional<double> row_remap_uncorrectable_max;
  std::optional<double> ecc_sram_uncorrected_max;
  std::optional<double> ecc_sram_corrected_max;
  std::optional<double> ecc_dram_errors_max;
  std::optional<double> ecc_volatile_uncorrected_max;
  std::set<int> xid_fail;
  std::vector<std::string> clock_events_fail;  // hw_slowdown, hw_thermal, hw_power_brake, sw_thermal, sw_power_cap
};

// Where one file of a profile came from, for the report's provenance.
struct ProfileSource {
  std::string origin;  // "embedded:profiles/h100-sxm-8gpu.yaml" or a file path
  std::string sha256;  // of the file's text
};

struct Profile {
  std::string name;
  std::string description;
  std::vector<std::string> gpu_models;  // NVML names, case-insensitive substrings; empty: any
  int gpu_count = 0;                    // 0: any number (at least one)
  std::optional<double> memory_mib_min;
  VersionPolicy driver, cuda_driver, vbios;
  HealthRules health;
  std::map<std::string, double> counters;  // counter -> largest increase allowed
  std::optional<int> ib_ports_min;
  std::optional<double> ib_rate_gbps_min;
  std::map<std::string, double> floors;    // metric -> minimum
  std::map<std::string, double> ceilings;  // metric -> maximum
  int fleet_min_samples = 4;
  std::map<std::string, double> fleet_margin_pct;  // metric -> margin below (above) the rack median
  std::map<std::string, Seconds> timeouts;         // stage -> limit (burnin: beyond its duration)
  std::vector<Level> levels;
  std::string default_level;

  std::vector<ProfileSource> sources;  // base first, this profile last
  std::string sha256;                  // of the canonical resolved JSON (profile_to_json)

  const Level* find_level(std::string_view level) const;
  // The level named, or the default; throws UsageError naming the levels.
  const Level& level(std::string_view name) const;
  Seconds timeout(std::string_view stage, Seconds fallback) const;
};

// Counters the `counters:` section may limit, and their meaning.
const std::vector<std::pair<std::string, std::string>>& counter_names();
const std::vector<std::string>& burnin_test_names();
const std::vector<std::string>& nccl_collective_names();
const std::vector<std::string>& clock_event_names();

// Loads `--profile NAME|FILE`: a shipped name, or a path (anything with a
// '/' or ending in .yaml/.yml, or an existing file). Resolves `extends:`
// (shipped names, or paths relative to the extending file), validates the
// merged result. Throws InputError with every diagnostic, or UsageError for
// an unknown shipped name (with the list and a did-you-mean).
Profile load_profile(const std::string& name_or_file);
// The same from text in memory; `path` names it in diagnostics and is the
// folder that relative `extends:` paths start from.
Profile parse_profile(const std::string& text, const std::string& path);

std::vector<std::string> shipped_profile_names();
// The embedded text of a shipped profile; empty when unknown.
std::string shipped_profile_text(std::string_view name);

// The shipped profile whose gpu.models match an NVML GPU name, if exactly
// one does (for `certify --local` without --profile).
std::optional<std::string> profile_for_gpu(std::string_view gpu_name);

// The resolved profile as canonical JSON (what reports embed and digest).
nlohmann::json profile_to_json(const Profile& profile);
// Rebuilds a profile from profile_to_json() output (reports, --resume),
// validating it like a file; `where` names the source in diagnostics.
Profile profile_from_json(const nlohmann::json& resolved, const std::string& where);

}  // namespace aicloud::certify
