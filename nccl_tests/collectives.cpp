#include "nccl_tests/collectives.hpp"

#include <algorithm>
#include <map>

#include "common/strings.hpp"

namespace aicloud::nccl_tests {

namespace {

const Collective k_collectives[] = {Collective::all_reduce, Collective::all_gather, Collective::reduce_scatter,
                                    Collective::broadcast,  Collective::reduce,     Collective::alltoall,
                                    Collective::sendrecv};
const char* const k_collective_names[] = {"all_reduce", "all_gather", "reduce_scatter", "broadcast",
                                          "reduce",     "alltoall",   "sendrecv"};
const char* const k_type_names[] = {"int8",  "uint8", "int32",  "uint32",   "int64",  "uint64",
                                    "half",  "float", "double", "bfloat16", "f8e4m3", "f8e5m2"};
const std::size_t k_type_sizes[] = {1, 1, 4, 4, 8, 8, 2, 4, 8, 2, 1, 1};
const char* const k_op_names[] = {"sum", "prod", "max", "min", "avg"};

std::string normalise(std::string_view s) {
  std::string out;
  for (char c : to_lower(trim(s)))
    if (c != '-' && c != '_') out += c;
  return out;
}

}  // namespace

std::string_view name(Collective c) { return k_collective_names[static_cast<int>(c)]; }
std::string_view name(DataType t) { return k_type_names[static_cast<int>(t)]; }
std::string_view name(RedOp op) { return k_op_names[static_cast<int>(op)]; }
std::string_view name(Placement p) { return p == Placement::in_place ? "in_place" : "out_of_place"; }

std::optional<Collective> parse_collective(std::string_view s) {
  static const std::map<std::string, Collective> k = {
      {"allreduce", Collective::all_reduce},     {"allgather", Collective::all_gather},
      {"reducescatter", Collective::reduce_scatter}, {"broadcast", Collective::broadcast},
      {"bcast", Collective::broadcast},          {"reduce", Collective::reduce},
      {"alltoall", Collective::alltoall},        {"a2a", Collective::alltoall},
      {"sendrecv", Collective::sendrecv},        {"p2p", Collective::sendrecv}};
  std::string key = normalise(s);
  if (ends_with(key, "perf")) key.resize(key.size() - 4);  // all_reduce_perf
  auto it = k.find(key);
  if (it == k.end()) return std::nullopt;
  return it->second;
}

std::optional<DataType> parse_datatype(std::string_view s) {
  static const std::map<std::string, DataType> k = {
      {"int8", DataType::int8},       {"char", DataType::int8},         {"uint8", DataType::uint8},
      {"int32", DataType::int32},     {"int", DataType::int32},         {"uint32", DataType::uint32},
      {"int64", DataType::int64},     {"uint64", DataType::uint64},     {"half", DataType::float16},
      {"float16", DataType::float16}, {"fp16", DataType::float16},      {"float", DataType::float32},
      {"float32", DataType::float32}, {"fp32", DataType::float32},      {"double", DataType::float64},
      {"float64", DataType::float64}, {"fp64", DataType::float64},      {"bfloat16", DataType::bfloat16},
      {"bf16", DataType::bfloat16},   {"f8e4m3", DataType::f8e4m3},     {"fp8e4m3", DataType::f8e4m3},
      {"float8e4m3", DataType::f8e4m3}, {"f8e5m2", DataType::f8e5m2},   {"fp8e5m2", DataType::f8e5m2},
      {"float8e5m2", DataType::f8e5m2}};
  auto it = k.find(normalise(s));
  if (it == k.end()) return std::nullopt;
  return it->second;
}

std::optional<RedOp> parse_redop(std::string_view s) {
  std::string key = normalise(s);
  for (int i = 0; i < 5; ++i)
    if (key == k_op_names[i]) return static_cast<RedOp>(i);
  return std::nullopt;
}

const std::vector<Collective>& all_collectives() {
  static const std::vector<Collective> v(std::begin(k_collectives), std::end(k_collectives));
  return v;
}

const std::vector<DataType>& all_datatypes() {
  static const std::vector<DataType> v = [] {
    std::vector<DataType> out;
    for (int i = 0; i < 12; ++i) out.push_back(static_cast<DataType>(i));
    return out;
  }();
  return v;
}

const std::vector<std::string>& collective_names() {
  static const std::vector<std::string> v(std::begin(k_collective_names), std::end(k_collective_names));
  return v;
}
const std::vector<std::string>& datatype_names() {
  static const std::vector<std::string> v(std::begin(k_type_names), std::end(k_type_names));
  return v;
}
const std::vector<std::string>& redop_names() {
  static const std::vector<std::string> v(std::begin(k_op_names), std::end(k_op_names));
  return v;
}

std::size_t element_size(DataType t) { return k_type_sizes[static_cast<int>(t)]; }

bool is_floating(DataType t) {
  switch (t) {
    case DataType::float16:
    case DataType::float32:
    case DataType::float64:
    case DataType::bfloat16:
    case DataType::f8e4m3:
    case DataType::f8e5m2:
      return true;
    default:
      return false;
  }
}

bool uses_redop(Collective c) {
  return c == Collective::all_reduce || c == Collective::reduce_scatter || c == Collective::reduce;
}
bool uses_root(Collective c) { return c == Collective::broadcast || c == Collective::reduce; }
bool supports_in_place(Collective c) { return c != Collective::alltoall && c != Collective::sendrecv; }

CollSizes coll_sizes(Collective c, std::uint64_t bytes, std::size_t elt_size, int nranks) {
  CollSizes s;
  if (elt_size == 0 || nranks <= 0) return s;
  const std::uint64_t count = bytes / elt_size;
  const std::uint64_t n = static_cast<std::uint64_t>(nranks);
  // (count/nranks) rounded down to a multiple of 16 bytes, as nccl-tests does.
  const std::uint64_t align = std::max<std::uint64_t>(1, 16 / elt_size);
  const std::uint64_t base = (count / n) / align * align;
  switch (c) {
    case Collective::all_reduce:
    case Collective::broadcast:
    case Collective::reduce:
    case Collective::sendrecv:
      s.send_count = s.recv_count = s.param_count = count;
      break;
    case Collective::all_gather:
      s.send_count = base;
      s.recv_count = base * n;
      s.param_count = base;
      s.send_inplace_offset = base;
      break;
    case Collective::reduce_scatter:
      s.send_count = base * n;
      s.recv_count = base;
      s.param_count = base;
      s.recv_inplace_offset = base;
      break;
    case Collective::alltoall:
      s.send_count = s.recv_count = base * n;
      s.param_count = base;
      break;
  }
  s.row_bytes = std::max(s.send_count, s.recv_count) * elt_size;
  return s;
}

double bus_factor(Collective c, int nranks) {
  if (nranks <= 0) return 0;
  const double n = nranks;
  switch (c) {
    case Collective::all_reduce:
      return 2.0 * (n - 1) / n;
    case Collective::all_gather:
    case Collective::reduce_scatter:
    case Collective::alltoall:
      return (n - 1) / n;
    case Collective::broadcast:
    case Collective::reduce:
    case Collective::sendrecv:
      return 1.0;
  }
  return 0;
}

double algbw_bytes(Collective c, std::uint64_t param_count, std::size_t elt_size, int nranks) {
  double bytes = static_cast<double>(param_count) * static_cast<double>(elt_size);
  if (c == Collective::all_gather || c == Collective::reduce_scatter || c == Collective::alltoall)
    bytes *= nranks;
  return bytes;
}

Bandwidth bandwidth(Collective c, std::uint64_t param_count, std::size_t elt_size, double seconds, int nranks) {
  Bandwidth b;
  if (!(seconds > 0)) return b;
  b.algbw_gbps = algbw_bytes(c, param_count, elt_size, nranks) / 1.0e9 / seconds;
  b.busbw_gbps = b.algbw_gbps * bus_factor(c, nranks);
  return b;
}

}  // namespace aicloud::nccl_tests
