// Host-side checks of the verified GEMM: the exact value of any element of
// a plan's product (computed from the seeded inputs, no GPU involved), the
// chunk hashes of a whole product for small plans (tests), and the analysis
// of quarantined chunks that the device flagged as wrong. Pure; unit-tested.
#pragma once

#include <cstdint>
#include <vector>

#include "burnin/plan.hpp"
#include "burnin/results.hpp"

namespace aicloud::burnin {

// The exact product element D(row, col) of a plan.
std::int64_t gemm_exact_element(const GemmPlan& plan, std::int64_t row, std::int64_t col);

// Chunk hashes of the exact product (what the device's reference yields).
// O(M*N*K): for test-sized plans only.
std::vector<std::uint64_t> gemm_exact_chunk_hashes(const GemmPlan& plan);

// Chunk hash of `count` consecutive elements starting at element `first`
// (column-major order), from their values.
std::uint64_t gemm_chunk_hash(std::uint64_t first, const double* values, std::uint64_t count);

// The plan's result hash: the sum of its chunk hashes (so it does not depend
// on how the chunks were computed), as 0x-prefixed hex.
std::string gemm_result_hash(const std::vector<std::uint64_t>& chunk_hashes);

// Element positions at which the CPU re-computes the device reference
// (deterministic, spread over the matrix).
std::vector<std::pair<std::int64_t, std::int64_t>> gemm_spot_positions(const GemmPlan& plan, int count);

// Compares one quarantined chunk (values read back from the device) with the
// exact product; appends up to max_records mismatches and returns how many
// elements were wrong.
std::uint64_t gemm_check_chunk(const GemmPlan& plan, std::uint64_t chunk, std::uint64_t iteration,
                               const double* values, std::vector<GemmMismatch>* records, std::size_t max_records);

}  // namespace aicloud::burnin
