// Process-wide heap settings for a short-lived command that builds large
// in-memory structures (a 10,000-node inventory is ~150,000 YAML nodes and
// 10,000 hosts with their settings and vars).
//
// On virtual machines a first-touch page fault costs several microseconds,
// and loading such an inventory touches tens of MiB in 4 KiB pages: perf
// put most of `inventory validate|list` in the kernel's fault path. The
// settings below keep big allocations in the brk heap and grow it in large
// steps, and ask the kernel to back that heap with transparent huge pages
// (madvise mode, the default on Debian), so the same memory costs a few
// dozen faults instead of thousands. Where THP is off nothing changes.
#pragma once

namespace aicloud {

// Call once, first thing in main(), before threads exist. Returns true when
// the heap was marked for huge pages (false where THP is off, and under
// AddressSanitizer, which brings its own allocator and where this does
// nothing at all).
bool prefer_large_heap_pages();

// False in sanitizer builds, where prefer_large_heap_pages() does nothing.
bool heap_tuning_supported();

}  // namespace aicloud
