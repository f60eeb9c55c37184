// prefer_large_heap_pages(): big blocks stay in the brk heap, and the heap
// is marked for transparent huge pages where the kernel offers them.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "common/heap.hpp"

namespace {
std::string slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
// VmFlags of the [heap] mappings in /proc/self/smaps (madvise splits the
// heap into several), one line each.
std::string heap_vm_flags() {
  std::istringstream smaps(slurp("/proc/self/smaps"));
  std::string line, out;
  bool in_heap = false;
  while (std::getline(smaps, line)) {
    if (line.find(" [heap]") != std::string::npos) {
      in_heap = true;
    } else if (in_heap && line.rfind("VmFlags:", 0) == 0) {
      out += line + "\n";
      in_heap = false;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("the heap keeps big blocks and is marked for huge pages where THP is on") {
  if (!aicloud::heap_tuning_supported()) {
    MESSAGE("skipped: a sanitizer build brings its own allocator");
    CHECK_FALSE(aicloud::prefer_large_heap_pages());
    return;
  }
  bool advised = aicloud::prefer_large_heap_pages();
  constexpr std::size_t k_big = 16u << 20;  // over glibc's default mmap threshold (128 KiB .. 32 MiB)
  auto* p = static_cast<char*>(std::malloc(k_big));
  REQUIRE(p != nullptr);
  std::memset(p, 0x5A, k_big);
  CHECK(p + k_big <= static_cast<char*>(sbrk(0)));  // in the brk heap, not a mapping of its own
  CHECK(p[k_big - 1] == 0x5A);
  std::free(p);

  std::string thp = slurp("/sys/kernel/mm/transparent_hugepage/enabled");
  bool thp_on = thp.find("[always]") != std::string::npos || thp.find("[madvise]") != std::string::npos;
  INFO("THP: " << thp << "heap:\n" << heap_vm_flags());
  if (thp_on) {
    CHECK(advised);
    CHECK(heap_vm_flags().find(" hg") != std::string::npos);
  } else {
    MESSAGE("THP is off here (" << thp << "): only the heap settings are checked");
  }
}
