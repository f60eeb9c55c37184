// See heap.hpp.
#include "common/heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define AICLOUD_OWN_ALLOCATOR 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define AICLOUD_OWN_ALLOCATOR 0
#endif
#endif
#ifndef AICLOUD_OWN_ALLOCATOR
#define AICLOUD_OWN_ALLOCATOR 1
#endif

namespace aicloud {

bool heap_tuning_supported() {
#if AICLOUD_OWN_ALLOCATOR && defined(__GLIBC__)
  return true;
#else
  return false;
#endif
}

bool prefer_large_heap_pages() {
#if AICLOUD_OWN_ALLOCATOR && defined(__GLIBC__)
  constexpr std::size_t k_step = 64u << 20;   // heap growth per sbrk
  constexpr std::uintptr_t k_huge = 2u << 20;  // x86-64 and arm64 THP size
  // Allocations below 64 MiB come from the heap (not one mmap each), the
  // heap grows 64 MiB at a time and is not trimmed back in between.
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(k_step));
  mallopt(M_TOP_PAD, static_cast<int>(k_step));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * k_step));
  // Grow the heap now (a block the heap cannot already hold), then mark the
  // whole heap as a huge-page candidate.
  auto* start = static_cast<char*>(sbrk(0));
  void* probe = std::malloc(1u << 20);
  if (probe == nullptr) return false;
  auto* top = static_cast<char*>(sbrk(0));
  std::uintptr_t from = (reinterpret_cast<std::uintptr_t>(start) + k_huge - 1) & ~(k_huge - 1);
  std::uintptr_t to = reinterpret_cast<std::uintptr_t>(top) & ~(k_huge - 1);
  bool advised = start != reinterpret_cast<char*>(-1) && to > from &&
                 madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE) == 0;  // EINVAL where THP is off
  // Keep the compiler from eliding the malloc/free pair.
  asm volatile("" : : "r"(probe) : "memory");
  std::free(probe);
  return advised;
#else
  return false;
#endif
}

}  // namespace aicloud
