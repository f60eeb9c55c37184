// libFuzzer target: the fast YAML reader (inventory/yaml_fast.cpp) against
// yaml-cpp. Wherever the fast reader accepts a text, yaml-cpp must read it
// too and build the same tree (nodes, texts, quoting, 1-based positions);
// a difference aborts. Texts the fast reader declines are yaml-cpp's alone.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "inventory/yaml_tree.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aicloud::inventory::detail;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<YamlTree> fast = YamlTree::parse_fast(text, "fuzz.yaml");
  if (!fast) return 0;
  std::string expected;
  try {
    expected = describe_tree(YamlTree::parse_yaml_cpp(text, "fuzz.yaml"));
  } catch (const aicloud::InputError& e) {
    expected = std::string("yaml-cpp refuses it: ") + e.what() + "\n";
  }
  std::string got = describe_tree(*fast);
  if (got != expected) {
    std::fprintf(stderr, "fast YAML reader differs from yaml-cpp\n--- input\n%s\n--- fast\n%s--- yaml-cpp\n%s",
                 text.c_str(), got.c_str(), expected.c_str());
    std::abort();
  }
  return 0;
}
