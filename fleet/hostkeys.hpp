// `aicloudctl hostkeys scan|list|forget`: the per-inventory known_hosts file
// as a tech manages it. scan records the keys of hosts not yet known (a
// fresh rack) and reports changed ones without touching them; forget drops
// the keys of re-imaged nodes; list shows what is on file and which
// inventory hosts it covers.
#pragma once

#include <string>
#include <vector>

#include "fleet/options.hpp"

namespace aicloud::fleet {

// Each returns the exit code (0, 4 when a host was unreachable or its key
// changed, 130 on Ctrl-C) and prints a table or, with json, one document.
int hostkeys_scan(const ConnectionOptions& options, bool json);
int hostkeys_list(const ConnectionOptions& options, bool json);
// Removes the keys of the hosts `selector` selects (required, so that a
// slip cannot empty the file).
int hostkeys_forget(const ConnectionOptions& options, const std::string& selector, bool json);

}  // namespace aicloud::fleet
