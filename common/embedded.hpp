// Text files compiled into the binary by aicloud_embed() (cmake/Helpers.cmake):
// shipped profiles, playbooks, the report schema and example inventories, so
// that the portable binary needs nothing beside it on a node.
#pragma once

#include <string>
#include <vector>

namespace aicloud {

struct EmbeddedFile {
  const char* path;     // relative to the repository root, e.g. "profiles/h100-sxm-8gpu.yaml"
  const char* content;
};

}  // namespace aicloud
