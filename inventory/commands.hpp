// The `aicloudctl inventory ...` and `aicloudctl nodeset ...` commands. The
// CLI files only declare flags and call these; each returns the exit code
// (docs/exit-codes.md) and throws InputError/UsageError for bad input.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace aicloud::inventory {

// `inventory validate FILE`: 0 when valid (warnings on stderr), 2 with every
// problem as FILE:LINE:COL: message. With json, one JSON document on stdout
// either way: {"file", "valid", "format", "hosts", "sites", "racks",
// "groups", "errors": [{"file","line","column","message"}], "warnings": [...]}.
int inventory_validate(const std::string& path, bool json);

// `inventory list FILE [--limit SEL]`: one host a line (aligned table,
// header on a terminal), or a JSON array of host_to_json() objects.
int inventory_list(const std::string& path, const std::string& limit, bool json);

// `inventory show FILE HOST`: the host's settings and merged vars with the
// origin of each; UsageError (exit 2) with a did-you-mean for an unknown host.
int inventory_show(const std::string& path, const std::string& host, bool json);

enum class NodesetMode { expand, fold, count };

// `nodeset expand|fold|count PATTERN...`: the patterns are unioned as
// ClusterShell's `nodeset` does; no pattern or "-" reads node sets from
// standard input (whitespace separated, '#' comments). expand prints one
// name a line (or joined by `separator` when it is not empty); json prints
// an array, {"nodeset","count"} or {"count"}. Output goes to `out`.
int nodeset_command(NodesetMode mode, std::vector<std::string> patterns, bool json, const std::string& separator,
                    std::FILE* out = stdout);

}  // namespace aicloud::inventory
