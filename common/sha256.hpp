// SHA-256 (through OpenSSL, linked statically) for file pushes, inventory
// and profile digests in reports, and the SSH signature format.
#pragma once

#include <string>
#include <string_view>

namespace aicloud {

// Lower-case hex digest of the bytes.
std::string sha256_hex(std::string_view data);
// Raw 32-byte digest.
std::string sha256_raw(std::string_view data);
// Digest of a file's contents; throws Error when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace aicloud
