// Unified diffs (as `diff -u` prints them) for --diff: what copy, template,
// lineinfile and sysctl changed or would change. Pure; Myers' O(ND)
// algorithm with a bound on D so that a huge rewrite cannot stall a run.
#pragma once

#include <string>

namespace aicloud::provision {

// The unified diff between two texts with `context` lines around each
// change, headed "--- from" / "+++ to". Empty when the texts are equal.
// A text that is not text (NUL bytes) gives a one-line "Binary files differ".
std::string unified_diff(const std::string& before, const std::string& after, const std::string& from_label,
                         const std::string& to_label, int context = 3);

}  // namespace aicloud::provision
