// Reading input files with clear errors, and writing results atomically
// (a temporary file in the same folder, fsync, then rename) so that a report
// or results file is never left half-written, even on Ctrl-C.
#pragma once

#include <cstdint>
#include <string>

namespace aicloud {

constexpr std::uint64_t k_default_max_input_bytes = 64ull << 20;  // 64 MiB

// Reads a text input (inventory, playbook, profile, report). Throws
// InputError naming the file when it is missing, unreadable, a directory,
// larger than max_bytes, or binary.
std::string read_text_file(const std::string& path, std::uint64_t max_bytes = k_default_max_input_bytes);

// Writes content to path atomically. Throws Error on failure.
void write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0644);

bool file_exists(const std::string& path);

// The folder part of a path ("." when there is none).
std::string dirname_of(const std::string& path);

// $HOME, or the passwd entry's home when HOME is unset.
std::string home_dir();

}  // namespace aicloud
