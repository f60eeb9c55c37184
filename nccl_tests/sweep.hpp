// Size sweeps (-b/-e with -f or --step-bytes, as nccl-tests loops) and the
// memory plan of one row: every timed iteration writes its own output slice
// so that every one of them can be verified after the timed loop; when the
// slices of all iterations do not fit in the memory budget the iterations
// run in batches, each batch verified (outside the timed region) before the
// next one reuses the slices.
#pragma once

#include <cstdint>
#include <vector>

#include "nccl_tests/collectives.hpp"

namespace aicloud::nccl_tests {

struct SweepSpec {
  std::uint64_t min_bytes = 1ull << 20;
  std::uint64_t max_bytes = 1ull << 30;
  std::uint64_t step_bytes = 0;  // additive step, used when step_factor <= 1
  int step_factor = 2;           // multiplicative step (nccl-tests -f)
};

// At most this many rows in one sweep (a typo such as -f 1 -i 1 would
// otherwise plan billions of rows).
inline constexpr std::size_t k_max_sweep_rows = 4096;

// The sizes of the sweep, min_bytes first, then size*factor (or
// size+step) while size <= max_bytes. Throws UsageError naming the flag when
// the spec is invalid (min > max, no step, min 0 with a factor, too many rows).
std::vector<std::uint64_t> sweep_sizes(const SweepSpec& spec);

// Slice stride alignment (bytes): NCCL and the copy engines prefer aligned
// buffers, and cudaMalloc gives 256.
inline constexpr std::uint64_t k_slice_alignment = 4096;
std::uint64_t align_up(std::uint64_t bytes, std::uint64_t alignment = k_slice_alignment);

// At most this many slices (and so iterations per batch): one verify
// launch covers a batch with one grid row per slice.
inline constexpr int k_max_slices = 1024;

struct MemoryPlan {
  std::uint64_t send_bytes = 0;    // separate send buffer (out-of-place only)
  std::uint64_t slice_bytes = 0;   // one iteration's output (in place: its whole buffer)
  std::uint64_t slice_stride = 0;  // slice_bytes aligned
  int slices = 0;                  // slices allocated, 1..iterations; 0 when nothing fits
  int batches = 0;                 // ceil(iterations / slices)
  std::uint64_t total_bytes = 0;   // send + slices * stride
  bool fits() const { return slices > 0; }
};

// Plans one row: as many slices as iterations (up to k_max_slices) when
// they fit in budget_bytes, fewer (and more batches) otherwise.
MemoryPlan plan_memory(Collective c, Placement p, const CollSizes& sizes, std::size_t elt_size, int iterations,
                       std::uint64_t budget_bytes);

}  // namespace aicloud::nccl_tests
