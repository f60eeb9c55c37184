// libFuzzer target: node-set parsing, set operations, folding (ClusterShell's
// RangeSetND port) and expansion. The first byte picks the operation; the
// rest is the pattern (or newline-separated names to fold). Only
// NodeSetError (an InputError) may escape. The fold budget is lowered so
// that one input stays well under a second.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "inventory/nodeset.hpp"
#include "inventory/rangeset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aicloud;
  using namespace aicloud::inventory;
  if (size < 1) return 0;
  detail::set_max_fold_points(5000);
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0: {
        if (count_nodeset(text) <= 5000) {
          std::vector<std::string> names = expand_nodeset(text);
          // Folding the expansion gives back the same set.
          std::string folded = fold_nodeset(names);
          if (!names.empty() && count_nodeset(folded) != names.size()) __builtin_trap();
        }
        break;
      }
      case 1: {
        std::vector<std::string> args;
        std::size_t start = 0;
        while (start <= text.size()) {
          std::size_t nl = text.find('\t', start);
          if (nl == std::string::npos) nl = text.size();
          args.push_back(text.substr(start, nl - start));
          start = nl + 1;
        }
        (void)fold_nodeset_args(args);
        (void)count_nodeset_args(args);
        break;
      }
      case 2: {
        std::vector<std::string> names;
        std::size_t start = 0;
        while (start < text.size()) {
          std::size_t nl = text.find('\n', start);
          if (nl == std::string::npos) nl = text.size();
          if (nl > start) names.push_back(text.substr(start, nl - start));
          start = nl + 1;
        }
        (void)fold_nodeset(names);
        break;
      }
      case 3: {
        NodeSetMatcher m(text);
        (void)m.contains("gpu-a12-01");
        (void)m.contains(text);
        (void)m.size();
        break;
      }
      case 4: {
        std::uint64_t n = 0;
        expand_nodeset_args({text}, [&n](std::string_view) {
          if (++n > 20000) throw NodeSetError("", 1, "enough");
        });
        break;
      }
    }
  } catch (const InputError&) {
  }
  return 0;
}
