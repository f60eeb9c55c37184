#include "common/version.hpp"

namespace aicloud {

std::string tool_version() { return AICLOUDCTL_VERSION; }

bool built_with_cuda() {
#ifdef AICLOUDCTL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::string tool_version_long() {
  return std::string("aicloudctl ") + AICLOUDCTL_VERSION + " (cuda: " + (built_with_cuda() ? "yes" : "no") + ")";
}

}  // namespace aicloud
