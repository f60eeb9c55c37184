#include "nccl_tests/sweep.hpp"

#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace aicloud::nccl_tests {

std::vector<std::uint64_t> sweep_sizes(const SweepSpec& spec) {
  if (spec.min_bytes > spec.max_bytes)
    throw UsageError("--min-bytes (" + format_bytes(spec.min_bytes) + ") is larger than --max-bytes (" +
                     format_bytes(spec.max_bytes) + ")");
  const bool multiplicative = spec.step_factor > 1;
  if (!multiplicative && spec.step_bytes == 0 && spec.min_bytes != spec.max_bytes)
    throw UsageError("--step-factor must be 2 or more, or give --step-bytes");
  if (multiplicative && spec.min_bytes == 0)
    throw UsageError("--min-bytes 0 with --step-factor never grows; start at 1 byte or more");
  std::vector<std::uint64_t> sizes;
  std::uint64_t size = spec.min_bytes;
  while (size <= spec.max_bytes) {
    if (sizes.size() >= k_max_sweep_rows)
      throw UsageError("the sweep has more than " + std::to_string(k_max_sweep_rows) +
                       " sizes; raise --step-factor or --step-bytes");
    sizes.push_back(size);
    if (spec.min_bytes == spec.max_bytes) break;
    std::uint64_t next;
    if (multiplicative) {
      if (size > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(spec.step_factor)) break;
      next = size * static_cast<std::uint64_t>(spec.step_factor);
    } else {
      if (size > std::numeric_limits<std::uint64_t>::max() - spec.step_bytes) break;
      next = size + spec.step_bytes;
    }
    size = next;
  }
  return sizes;
}

std::uint64_t align_up(std::uint64_t bytes, std::uint64_t alignment) {
  if (alignment == 0) return bytes;
  return (bytes + alignment - 1) / alignment * alignment;
}

MemoryPlan plan_memory(Collective c, Placement p, const CollSizes& sizes, std::size_t elt_size, int iterations,
                       std::uint64_t budget_bytes) {
  MemoryPlan m;
  const std::uint64_t send = sizes.send_count * elt_size;
  const std::uint64_t recv = sizes.recv_count * elt_size;
  if (p == Placement::in_place) {
    // One buffer holds the input and receives the output (all_gather sends
    // from its own block of it, reduce_scatter receives into its own block).
    m.slice_bytes = std::max(send, recv);
  } else {
    m.send_bytes = align_up(std::max<std::uint64_t>(send, 1));
    m.slice_bytes = recv;
  }
  (void)c;
  m.slice_stride = align_up(std::max<std::uint64_t>(m.slice_bytes, 1));
  iterations = std::max(iterations, 1);
  if (budget_bytes <= m.send_bytes) return m;
  std::uint64_t fit = (budget_bytes - m.send_bytes) / m.slice_stride;
  m.slices = static_cast<int>(
      std::min<std::uint64_t>(fit, static_cast<std::uint64_t>(std::min(iterations, k_max_slices))));
  if (m.slices == 0) return m;
  m.batches = (iterations + m.slices - 1) / m.slices;
  m.total_bytes = m.send_bytes + static_cast<std::uint64_t>(m.slices) * m.slice_stride;
  return m;
}

}  // namespace aicloud::nccl_tests
