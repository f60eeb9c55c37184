#include <doctest/doctest.h>

#include "nccl_tests/collectives.hpp"

using namespace aicloud::nccl_tests;

TEST_CASE("collective, type and op names round-trip and accept nccl-tests spellings") {
  for (Collective c : all_collectives()) CHECK(parse_collective(name(c)) == c);
  for (DataType t : all_datatypes()) CHECK(parse_datatype(name(t)) == t);
  for (int i = 0; i < 5; ++i) CHECK(parse_redop(name(static_cast<RedOp>(i))) == static_cast<RedOp>(i));
  CHECK(parse_collective("allreduce") == Collective::all_reduce);
  CHECK(parse_collective("all_reduce_perf") == Collective::all_reduce);
  CHECK(parse_collective("ReduceScatter") == Collective::reduce_scatter);
  CHECK(parse_datatype("bf16") == DataType::bfloat16);
  CHECK(parse_datatype("fp16") == DataType::float16);
  CHECK(parse_datatype("half") == DataType::float16);
  CHECK(name(DataType::float32) == "float");
  CHECK_FALSE(parse_collective("allreduc").has_value());
  CHECK_FALSE(parse_datatype("float128").has_value());
  CHECK_FALSE(parse_redop("mulsum").has_value());
}

TEST_CASE("element sizes follow ncclDataType_t") {
  CHECK(element_size(DataType::int8) == 1);
  CHECK(element_size(DataType::float16) == 2);
  CHECK(element_size(DataType::bfloat16) == 2);
  CHECK(element_size(DataType::float32) == 4);
  CHECK(element_size(DataType::uint64) == 8);
  CHECK(element_size(DataType::f8e5m2) == 1);
  CHECK(static_cast<int>(DataType::bfloat16) == 9);  // ncclBfloat16
  CHECK(static_cast<int>(RedOp::avg) == 4);          // ncclAvg
}

TEST_CASE("bus factors are nccl-tests' 2(n-1)/n, (n-1)/n and 1") {
  CHECK(bus_factor(Collective::all_reduce, 8) == doctest::Approx(1.75));
  CHECK(bus_factor(Collective::all_reduce, 1) == 0.0);
  CHECK(bus_factor(Collective::all_reduce, 2) == doctest::Approx(1.0));
  CHECK(bus_factor(Collective::all_gather, 8) == doctest::Approx(0.875));
  CHECK(bus_factor(Collective::reduce_scatter, 4) == doctest::Approx(0.75));
  CHECK(bus_factor(Collective::alltoall, 16) == doctest::Approx(15.0 / 16));
  CHECK(bus_factor(Collective::broadcast, 8) == 1.0);
  CHECK(bus_factor(Collective::reduce, 8) == 1.0);
  CHECK(bus_factor(Collective::sendrecv, 8) == 1.0);
}

TEST_CASE("all_reduce row: count = S/size, algbw from count*size") {
  CollSizes s = coll_sizes(Collective::all_reduce, 1ull << 30, 4, 8);
  CHECK(s.param_count == 268435456);
  CHECK(s.send_count == 268435456);
  CHECK(s.recv_count == 268435456);
  CHECK(s.row_bytes == 1ull << 30);
  Bandwidth b = bandwidth(Collective::all_reduce, s.param_count, 4, 0.01, 8);
  CHECK(b.algbw_gbps == doctest::Approx(107.3741824));
  CHECK(b.busbw_gbps == doctest::Approx(107.3741824 * 1.75));
}

TEST_CASE("all_gather row: per-rank count rounded to 16 bytes, S = count*size*n") {
  CollSizes s = coll_sizes(Collective::all_gather, 1ull << 30, 4, 8);
  CHECK(s.param_count == 33554432);
  CHECK(s.send_count == 33554432);
  CHECK(s.recv_count == 268435456);
  CHECK(s.send_inplace_offset == 33554432);
  CHECK(s.row_bytes == 1ull << 30);
  Bandwidth b = bandwidth(Collective::all_gather, s.param_count, 4, 0.001, 8);
  CHECK(b.algbw_gbps == doctest::Approx(1073.741824));
  CHECK(b.busbw_gbps == doctest::Approx(1073.741824 * 0.875));

  // 1000 B of float over 3 ranks: 250 elements, 83 per rank, 80 after the 16-byte rounding.
  s = coll_sizes(Collective::all_gather, 1000, 4, 3);
  CHECK(s.param_count == 80);
  CHECK(s.recv_count == 240);
  CHECK(s.row_bytes == 960);
  // int8 rounds to 16 elements, double to 2.
  CHECK(coll_sizes(Collective::all_gather, 1000, 1, 8).param_count == 112);
  CHECK(coll_sizes(Collective::all_gather, 1000, 8, 3).param_count == 40);
}

TEST_CASE("reduce_scatter and alltoall rows") {
  CollSizes rs = coll_sizes(Collective::reduce_scatter, 1000, 4, 3);
  CHECK(rs.param_count == 80);
  CHECK(rs.send_count == 240);
  CHECK(rs.recv_count == 80);
  CHECK(rs.recv_inplace_offset == 80);
  CHECK(rs.row_bytes == 960);
  CollSizes a2a = coll_sizes(Collective::alltoall, 1000, 4, 3);
  CHECK(a2a.param_count == 80);
  CHECK(a2a.send_count == 240);
  CHECK(a2a.recv_count == 240);
  CHECK(algbw_bytes(Collective::alltoall, a2a.param_count, 4, 3) == 960.0);
  CHECK(algbw_bytes(Collective::reduce_scatter, rs.param_count, 4, 3) == 960.0);
}

TEST_CASE("broadcast, reduce and sendrecv use the whole count and factor 1") {
  for (Collective c : {Collective::broadcast, Collective::reduce, Collective::sendrecv}) {
    CollSizes s = coll_sizes(c, 4096, 2, 8);
    CHECK(s.param_count == 2048);
    CHECK(s.row_bytes == 4096);
    Bandwidth b = bandwidth(c, s.param_count, 2, 1e-6, 8);
    CHECK(b.algbw_gbps == doctest::Approx(4.096));
    CHECK(b.busbw_gbps == doctest::Approx(4.096));
  }
}

TEST_CASE("bandwidth is zero for a zero or negative time, and rows may be empty") {
  CHECK(bandwidth(Collective::all_reduce, 100, 4, 0, 8).algbw_gbps == 0.0);
  CHECK(bandwidth(Collective::all_reduce, 100, 4, -1, 8).busbw_gbps == 0.0);
  CHECK(coll_sizes(Collective::all_gather, 8, 4, 8).param_count == 0);
  CHECK(coll_sizes(Collective::all_reduce, 3, 4, 8).param_count == 0);
}

TEST_CASE("which collectives take an op, a root, an in-place form") {
  CHECK(uses_redop(Collective::all_reduce));
  CHECK(uses_redop(Collective::reduce_scatter));
  CHECK(uses_redop(Collective::reduce));
  CHECK_FALSE(uses_redop(Collective::all_gather));
  CHECK(uses_root(Collective::broadcast));
  CHECK_FALSE(uses_root(Collective::all_reduce));
  CHECK_FALSE(supports_in_place(Collective::alltoall));
  CHECK_FALSE(supports_in_place(Collective::sendrecv));
  CHECK(supports_in_place(Collective::all_gather));
}
