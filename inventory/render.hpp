// How hosts are shown: the JSON object of `inventory list --json` (also
// what fleet JSON and reports should embed for a host), the one-line text
// form, and `inventory show` with each var's origin.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"

namespace aicloud::inventory {

// {"name", "address", "port", "user", "identity_file", "jump_host", "become",
//  "site", "rack", "u", "groups", "labels", "bmc", "hardware", "defined_at",
//  and "vars" when with_vars}. Unset values are null; "bmc" carries the
// credentials reference ("env:VAR", "file:PATH"), never a secret.
nlohmann::json host_to_json(const Host& h, bool with_vars = true);

// Appends host_to_json(h).dump() to out without building the JSON tree
// (what `inventory list --json` writes for 10,000 hosts).
void append_host_json(std::string& out, const Host& h);

// host_to_json() plus "origins": {var: {"level", "file", "line", "column"}}.
nlohmann::json host_show_json(const Host& h);

// Aligned text table of hosts, one host a line (header when `header`).
std::string hosts_table(const std::vector<const Host*>& hosts, bool header);

// Human-readable `inventory show`: connection, placement, BMC, hardware,
// labels, groups, then every var with its value and origin.
std::string host_show_text(const Host& h);

}  // namespace aicloud::inventory
