// Base64 (RFC 4648, standard alphabet, with padding) for SSH key blobs,
// known_hosts lines and armored signatures. Pure; unit-tested.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aicloud {

std::string base64_encode(std::string_view bytes);
// Decodes; whitespace (newlines of armored text) is skipped. nullopt on any
// other character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace aicloud
