// The tool's version, reported by --version and recorded in every JSON
// result and report.
#pragma once

#include <string>

namespace aicloud {

std::string tool_version();        // "0.1.0"
std::string tool_version_long();   // "aicloudctl 0.1.0 (cuda: yes, libssh 0.10.6/openssl/zlib)"
bool built_with_cuda();

}  // namespace aicloud
