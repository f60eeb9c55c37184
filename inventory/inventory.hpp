// The inventory model shared by every fleet command: sites, racks and nodes
// loaded from aicloudctl's native YAML format or from an Ansible YAML
// inventory, with each host's merged vars and where each var came from.
//
// Data flows one way: load_inventory() -> select_hosts() -> (fleet, provision,
// nccl, certify). Nothing in this library does I/O other than reading the
// inventory file.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"

namespace aicloud::inventory {

// How the controller reaches a node over SSH. Empty/zero fields mean "not
// set here": the OpenSSH client config and command-line flags fill them.
struct SshSettings {
  std::string user;
  int port = 0;                 // 0: not set (22, or ~/.ssh/config)
  std::string identity_file;   // a leading "~/" is expanded to $HOME when loading
  std::string jump_host;        // "[user@]host[:port]" or the name of an inventory host
  bool become = false;          // run through `sudo -n`
};

// The node's baseboard management controller. Credentials are references
// only ("env:VAR" or "file:PATH"), never the secret itself.
struct Bmc {
  std::string url;              // redfish://host[:port][/path] or ipmi://host[:port]
  std::string scheme;           // "redfish" or "ipmi"
  std::string host;
  int port = 0;
  std::string credentials;      // "env:BMC_PASS" or "file:/etc/aicloud/bmc-a12"
};

// What the node is expected to contain, checked by `certify` (conformance).
struct ExpectedHardware {
  std::string gpu_model;        // e.g. "H100-SXM" or "NVIDIA H100 80GB HBM3"
  int gpu_count = 0;            // 0: not stated
  std::vector<std::string> nics;  // e.g. {"mlx5_0", ...} or models
};

// Where a merged var came from, for `inventory show`.
struct VarOrigin {
  std::string level;            // native: "node", "rack", "site", "group:<name>", "defaults";
                                // Ansible: "host", "group:<name>", "all"
  SourceLocation where;
};

struct Host {
  std::string name;
  std::string address;          // IP or DNS name used to connect (defaults to name)
  SshSettings ssh;
  std::string site;
  std::string rack;
  std::optional<int> rack_u;    // rack unit (U position)
  std::optional<Bmc> bmc;
  ExpectedHardware hardware;
  std::map<std::string, std::string> labels;
  std::vector<std::string> groups;   // sorted, without "all"
  nlohmann::json vars = nlohmann::json::object();   // merged, precedence node > rack > site > defaults
  std::map<std::string, VarOrigin> var_origins;     // one entry per key of vars
  SourceLocation defined_at;         // where the host (or its range) was written
};

enum class Format { native, ansible };

struct Inventory {
  std::string path;             // as given on the command line
  Format format = Format::native;
  std::vector<Host> hosts;      // in file order, names unique
  std::map<std::string, std::vector<std::string>> groups;  // group -> host names (Ansible: incl. children)
  std::vector<Diagnostic> warnings;  // problems that do not stop loading (e.g. Ansible duplicate keys)

  const Host* find(const std::string& name) const;
  // Rebuilds name_index (used by find()); call after editing `hosts`.
  // find() falls back to a linear search while the index is stale.
  void reindex();
  std::unordered_map<std::string, std::size_t> name_index;
};

// Inventories larger than this are refused before parsing.
constexpr std::uint64_t k_max_inventory_bytes = 16ull << 20;  // 16 MiB
// Most hosts one inventory may expand to.
constexpr std::size_t k_max_inventory_hosts = 1'000'000;

// What a loader builds besides hosts and their settings.
struct LoadOptions {
  // Host::vars and Host::var_origins. Commands that never look at vars
  // (validate, a text listing) skip them; every check runs either way.
  bool merge_vars = true;
  bool var_origins = true;  // only with merge_vars
};

// Loads and validates an inventory. The format is detected from the content
// (Ansible inventories have "all:" or group mappings with "hosts:").
// Throws InputError listing every problem as FILE:LINE:COL: message.
Inventory load_inventory(const std::string& path);
Inventory load_inventory(const std::string& path, const LoadOptions& options);
// The same from text already in memory (tests, fuzzing); `path` names it in diagnostics.
Inventory parse_inventory(const std::string& text, const std::string& path);
Inventory parse_inventory(const std::string& text, const std::string& path, const LoadOptions& options);

// Selects hosts with the selector grammar shared by every fleet command
// (--limit): node sets ("gpu-a12-[01-04]"), "@group", "rack=a12",
// "site=phx1", "label=value", combined with "," (union), "&" (intersection)
// and "!" (exclusion). An empty selector selects every host. The result keeps
// inventory order. Throws InputError for a selector that does not parse.
std::vector<const Host*> select_hosts(const Inventory& inv, const std::string& selector);

}  // namespace aicloud::inventory
