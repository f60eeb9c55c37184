// Small string helpers with no project knowledge: splitting, trimming,
// shell quoting, edit distance for did-you-mean hints, and human-readable
// numbers. Everything here is pure and unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep, bool keep_empty = true);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string to_lower(std::string_view s);

// Quotes a value for a POSIX shell so that it is always one literal word:
// nothing in it ($(...), backticks, ;, quotes, newlines) is ever run.
// Plain words made only of safe characters are returned unchanged.
std::string shell_quote(std::string_view s);
// Quotes every element and joins them with spaces.
std::string shell_join(const std::vector<std::string>& argv);

// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a distance that scales with the word length,
// or nothing when no candidate is close enough to be a plausible typo.
std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// 1536 -> "1.5 KiB"; rate formatting in decimal units: 1.2e9 -> "1.20 GB/s".
std::string format_bytes(std::uint64_t bytes);
// Parses "64", "4K", "32M", "8G" (powers of 1024, as nccl-tests) into bytes.
std::optional<std::uint64_t> parse_size(std::string_view s);

// Lower-case hexadecimal of bytes.
std::string to_hex(const unsigned char* data, std::size_t n);

// True if the bytes look like text (no NUL, mostly printable, valid enough
// UTF-8) so that binary files can be refused with a clear message.
bool looks_like_text(std::string_view bytes);

}  // namespace aicloud
