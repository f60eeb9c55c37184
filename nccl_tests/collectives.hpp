// The seven collectives aicloudctl measures, their data types and reduction
// ops, and the two formulas everything else rests on, exactly as NVIDIA's
// nccl-tests computes them so that our numbers compare with theirs:
//
//  * the element counts of a row: for a size S in bytes (the -b..-e loop
//    variable) and count = S / sizeof(T), each collective derives the
//    per-rank send and receive counts and the count passed to NCCL
//    (all_gather, reduce_scatter and alltoall round count/nranks down to a
//    multiple of 16 bytes); the row's "size" column is the larger buffer and
//    its "count" column is the count passed to NCCL;
//  * algbw = bytes / time with bytes = param_count * sizeof(T), times nranks
//    for all_gather, reduce_scatter and alltoall; busbw = algbw * factor with
//    factor 2(n-1)/n for all_reduce, (n-1)/n for all_gather, reduce_scatter
//    and alltoall, 1 for broadcast, reduce and sendrecv. GB/s is 1e9 B/s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::nccl_tests {

enum class Collective { all_reduce, all_gather, reduce_scatter, broadcast, reduce, alltoall, sendrecv };

// Values match ncclDataType_t.
enum class DataType { int8 = 0, uint8, int32, uint32, int64, uint64, float16, float32, float64, bfloat16, f8e4m3, f8e5m2 };

// Values match ncclRedOp_t.
enum class RedOp { sum = 0, prod, max, min, avg };

enum class Placement { out_of_place, in_place };

// Names as nccl-tests spells them: "all_reduce", "float", "bfloat16", "sum".
std::string_view name(Collective c);
std::string_view name(DataType t);
std::string_view name(RedOp op);
std::string_view name(Placement p);  // "out_of_place", "in_place"

// Parsers accept the names above and common aliases (allreduce, fp32, half,
// bf16, ...); nullopt for anything else.
std::optional<Collective> parse_collective(std::string_view s);
std::optional<DataType> parse_datatype(std::string_view s);
std::optional<RedOp> parse_redop(std::string_view s);

const std::vector<Collective>& all_collectives();
const std::vector<DataType>& all_datatypes();
const std::vector<std::string>& collective_names();
const std::vector<std::string>& datatype_names();
const std::vector<std::string>& redop_names();

std::size_t element_size(DataType t);
bool is_floating(DataType t);
// Whether the collective takes a reduction op / a root rank.
bool uses_redop(Collective c);
bool uses_root(Collective c);
// alltoall and sendrecv have no meaningful in-place form (nccl-tests runs
// them aliased but does not check them); we do not run them in place.
bool supports_in_place(Collective c);

// Element counts of one row (see the file comment). Offsets are in elements
// from the start of the receive buffer, for the in-place form: rank r sends
// from recv + r*send_inplace_offset and receives into recv + r*recv_inplace_offset.
struct CollSizes {
  std::uint64_t send_count = 0;
  std::uint64_t recv_count = 0;
  std::uint64_t param_count = 0;        // the count argument given to NCCL
  std::uint64_t send_inplace_offset = 0;
  std::uint64_t recv_inplace_offset = 0;
  std::uint64_t row_bytes = 0;          // "size" column: max(send, recv) bytes
};
CollSizes coll_sizes(Collective c, std::uint64_t bytes, std::size_t elt_size, int nranks);

// busbw / algbw.
double bus_factor(Collective c, int nranks);
// Bytes the algorithm bandwidth is computed from.
double algbw_bytes(Collective c, std::uint64_t param_count, std::size_t elt_size, int nranks);

struct Bandwidth {
  double algbw_gbps = 0;
  double busbw_gbps = 0;
};
// nccl-tests' getBw: seconds > 0; zero bandwidth otherwise.
Bandwidth bandwidth(Collective c, std::uint64_t param_count, std::size_t elt_size, double seconds, int nranks);

}  // namespace aicloud::nccl_tests
