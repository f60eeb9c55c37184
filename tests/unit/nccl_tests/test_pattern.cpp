// The data patterns must make every reduction exact in any order, and the
// expected values must match what the collectives produce with the
// worker's buffer layout. NCCL itself cannot run here, so the collectives
// are run on the host over the same layout (rank_layout) and the results
// checked element by element against expected_value.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "nccl_tests/collectives.hpp"
#include "nccl_tests/layout.hpp"
#include "nccl_tests/pattern.hpp"

using namespace aicloud::nccl_tests;
namespace pt = aicloud::nccl_tests::pattern;

namespace {

bool is_integer(double v) { return std::floor(v) == v; }

double reduce_op(RedOp op, const std::vector<double>& v, bool floating) {
  double acc = v.front();
  for (std::size_t i = 1; i < v.size(); ++i) {
    switch (op) {
      case RedOp::sum:
      case RedOp::avg: acc += v[i]; break;
      case RedOp::prod: acc *= v[i]; break;
      case RedOp::max: acc = std::max(acc, v[i]); break;
      case RedOp::min: acc = std::min(acc, v[i]); break;
    }
  }
  if (op == RedOp::avg) {
    const double n = static_cast<double>(v.size());
    acc = floating ? acc / n : std::floor(acc / n);
  }
  return acc;
}

pt::Params params_for(Collective c, DataType t, RedOp op, int n, int root, std::uint64_t base) {
  return pt::make_params(static_cast<int>(c), static_cast<int>(t), static_cast<int>(op), n, root, 0x1234u, base);
}

}  // namespace

TEST_CASE("reduction inputs keep every partial result exact, for every type, op and rank count") {
  const std::vector<std::uint64_t> indices = {0, 1, 2, 3, 7, 64, 999, 65535, (1ull << 33) + 5, (1ull << 40) + 1};
  for (DataType t : all_datatypes()) {
    const double limit = static_cast<double>(pt::exact_limit(static_cast<int>(t)));
    for (RedOp op : {RedOp::sum, RedOp::prod, RedOp::max, RedOp::min, RedOp::avg}) {
      for (int n : {1, 2, 3, 5, 8, 16, 64, 100, 257, 1024}) {
        CAPTURE(name(t));
        CAPTURE(name(op));
        CAPTURE(n);
        pt::Params p = params_for(Collective::all_reduce, t, op, n, 0, 0);
        for (std::uint64_t i : indices) {
          std::vector<double> v;
          for (int r = 0; r < n; ++r) {
            double x = pt::input_value(p, r, i);
            REQUIRE(is_integer(x));
            REQUIRE(x >= 0);
            REQUIRE(x <= limit - 1);
            v.push_back(x);
          }
          double total = 0, product = 1;
          for (double x : v) {
            total += x;
            product *= x;
          }
          if (op == RedOp::sum || op == RedOp::avg) CHECK(total <= limit - 1);
          if (op == RedOp::prod) CHECK(product <= std::ldexp(1.0, pt::prod_limit(static_cast<int>(t))));
          const double want = reduce_op(op, v, is_floating(t));
          const double got = pt::reduced_value(p, i);
          if (p.tolerant) {
            CHECK(got == doctest::Approx(want));
          } else {
            CHECK(got == want);
          }
          // Never the all-ones poison: negative or NaN for signed and
          // floating types, the maximum for unsigned ones.
          if (t == DataType::uint8) CHECK(got < 255);
          CHECK(got >= 0);
        }
      }
    }
  }
}

TEST_CASE("avg on floating types is exact for power-of-two rank counts only") {
  CHECK_FALSE(params_for(Collective::all_reduce, DataType::float32, RedOp::avg, 8, 0, 0).tolerant);
  pt::Params p = params_for(Collective::all_reduce, DataType::float32, RedOp::avg, 6, 0, 0);
  CHECK(p.tolerant);
  CHECK(p.kind == pt::k_sum_sparse);  // one contributor per element: one rounding only
  CHECK(pt::tolerance(p, 1.0) == std::ldexp(1.0, -22));  // two ulps of float at 1.0
  CHECK(pt::tolerance(p, 0.0) == 0.0);
  CHECK_FALSE(params_for(Collective::all_reduce, DataType::int32, RedOp::avg, 6, 0, 0).tolerant);
  CHECK(pt::tolerance(params_for(Collective::all_reduce, DataType::float32, RedOp::sum, 6, 0, 0), 5.0) == 0.0);
}

TEST_CASE("inputs differ between ranks and indices for copies") {
  pt::Params p = params_for(Collective::all_gather, DataType::float32, RedOp::sum, 8, 0, 16);
  int distinct_rank = 0, distinct_index = 0;
  for (std::uint64_t i = 0; i < 100; ++i) {
    distinct_rank += pt::input_value(p, 0, i) != pt::input_value(p, 1, i);
    distinct_index += pt::input_value(p, 0, i) != pt::input_value(p, 0, i + 1);
  }
  CHECK(distinct_rank > 90);
  CHECK(distinct_index > 90);
}

TEST_CASE("the collectives run on the host over the worker's layout give exactly the expected values") {
  const double poison = std::numeric_limits<double>::quiet_NaN();
  for (Collective c : all_collectives()) {
    for (Placement pl : {Placement::out_of_place, Placement::in_place}) {
      if (pl == Placement::in_place && !supports_in_place(c)) continue;
      for (DataType t : {DataType::int8, DataType::uint8, DataType::float32, DataType::bfloat16, DataType::float64}) {
        for (RedOp op : uses_redop(c) ? std::vector<RedOp>{RedOp::sum, RedOp::prod, RedOp::max, RedOp::min, RedOp::avg}
                                      : std::vector<RedOp>{RedOp::sum}) {
          for (int n : {1, 2, 3, 4, 8}) {
            const int root = n > 2 ? 2 : 0;
            const std::size_t elt = element_size(t);
            const CollSizes cs = coll_sizes(c, 6144, elt, n);
            CAPTURE(name(c));
            CAPTURE(name(pl));
            CAPTURE(name(t));
            CAPTURE(name(op));
            CAPTURE(n);
            REQUIRE(cs.param_count > 0);
            const bool blocks = c == Collective::all_gather || c == Collective::reduce_scatter || c == Collective::alltoall;
            const pt::Params p = params_for(c, t, op, n, root, blocks ? cs.param_count : 0);
            const std::uint64_t slice_elems = pl == Placement::out_of_place ? cs.recv_count : std::max(cs.send_count, cs.recv_count);

            struct Mem {
              std::vector<double> send, slice;
              RankLayout lay;
            };
            std::vector<Mem> mem(static_cast<std::size_t>(n));
            for (int r = 0; r < n; ++r) {
              Mem& m = mem[static_cast<std::size_t>(r)];
              m.lay = rank_layout(c, pl, cs, elt, r, root);
              if (pl == Placement::in_place) {
                // NCCL treats an operation as in place only for these exact
                // pointers (nccl.h: ncclAllGather, ncclReduceScatter).
                const std::uint64_t block = cs.param_count * elt * static_cast<std::uint64_t>(r);
                CHECK_FALSE(m.lay.separate_send);
                if (c == Collective::all_gather) CHECK(m.lay.send_offset == m.lay.recv_offset + block);
                else if (c == Collective::reduce_scatter) CHECK(m.lay.recv_offset == m.lay.send_offset + block);
                else CHECK(m.lay.send_offset == m.lay.recv_offset);
              }
              m.slice.assign(slice_elems, 0.0);
              for (std::uint64_t k = 0; k < m.lay.poison_bytes / elt; ++k) m.slice[k] = poison;
              if (m.lay.separate_send) {
                for (std::uint64_t k = 0; k < cs.send_count; ++k) m.send.push_back(pt::input_value(p, r, k));
              } else {
                for (std::uint64_t k = 0; k < m.lay.input_count; ++k)
                  m.slice[m.lay.input_offset / elt + k] = pt::input_value(p, r, k);
              }
            }
            // Every rank's send data is read before any output is written
            // (in place they alias).
            std::vector<std::vector<double>> sends;
            for (auto& m : mem) {
              const double* s = m.lay.separate_send ? m.send.data() : m.slice.data();
              s += m.lay.send_offset / elt;
              sends.emplace_back(s, s + cs.send_count);
            }
            auto recv = [&](int r) { return mem[static_cast<std::size_t>(r)].slice.data() + mem[static_cast<std::size_t>(r)].lay.recv_offset / elt; };
            const std::uint64_t count = cs.param_count;
            auto reduce_at = [&](std::uint64_t i) {
              std::vector<double> v;
              for (int q = 0; q < n; ++q) v.push_back(sends[static_cast<std::size_t>(q)][i]);
              return reduce_op(op, v, is_floating(t));
            };
            for (int r = 0; r < n; ++r) {
              double* out = recv(r);
              switch (c) {
                case Collective::all_reduce:
                  for (std::uint64_t k = 0; k < count; ++k) out[k] = reduce_at(k);
                  break;
                case Collective::reduce:
                  if (r == root)
                    for (std::uint64_t k = 0; k < count; ++k) out[k] = reduce_at(k);
                  break;
                case Collective::broadcast:
                  for (std::uint64_t k = 0; k < count; ++k) out[k] = sends[static_cast<std::size_t>(root)][k];
                  break;
                case Collective::all_gather:
                  for (int q = 0; q < n; ++q)
                    for (std::uint64_t k = 0; k < count; ++k) out[static_cast<std::uint64_t>(q) * count + k] = sends[static_cast<std::size_t>(q)][k];
                  break;
                case Collective::reduce_scatter:
                  for (std::uint64_t k = 0; k < count; ++k) out[k] = reduce_at(static_cast<std::uint64_t>(r) * count + k);
                  break;
                case Collective::alltoall:
                  for (int q = 0; q < n; ++q)
                    for (std::uint64_t k = 0; k < count; ++k)
                      out[static_cast<std::uint64_t>(q) * count + k] = sends[static_cast<std::size_t>(q)][static_cast<std::uint64_t>(r) * count + k];
                  break;
                case Collective::sendrecv:
                  for (std::uint64_t k = 0; k < count; ++k) out[k] = sends[static_cast<std::size_t>((r + n - 1) % n)][k];
                  break;
              }
            }
            for (int r = 0; r < n; ++r) {
              if (!pt::has_output(p, r)) continue;
              const Mem& m = mem[static_cast<std::size_t>(r)];
              REQUIRE(m.lay.verify_count == cs.recv_count);
              std::uint64_t wrong = 0;
              for (std::uint64_t k = 0; k < m.lay.verify_count; ++k) {
                const double got = m.slice[m.lay.verify_offset_elems + k];
                const double want = pt::expected_value(p, r, k);
                if (!(std::fabs(got - want) <= pt::tolerance(p, want))) ++wrong;
              }
              CHECK(wrong == 0);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("an output left untouched is caught (out of place)") {
  const CollSizes cs = coll_sizes(Collective::all_reduce, 4096, 4, 4);
  pt::Params p = params_for(Collective::all_reduce, DataType::float32, RedOp::sum, 4, 0, 0);
  // The poison is NaN for floats: never equal to an expected value.
  for (std::uint64_t k = 0; k < cs.recv_count; ++k) CHECK(std::isfinite(pt::expected_value(p, 1, k)));
}

TEST_CASE("elements decode from their stored bytes for error reports") {
  unsigned char b[8] = {0};
  auto put16 = [&](std::uint16_t v) { std::memcpy(b, &v, 2); };
  put16(0x3C00);
  CHECK(pt::decode_element(pt::t_half, b) == 1.0);
  put16(0xC000);
  CHECK(pt::decode_element(pt::t_half, b) == -2.0);
  put16(0x7C00);
  CHECK(std::isinf(pt::decode_element(pt::t_half, b)));
  put16(0xFFFF);
  CHECK(std::isnan(pt::decode_element(pt::t_half, b)));
  put16(0x0001);
  CHECK(pt::decode_element(pt::t_half, b) == std::ldexp(1.0, -24));
  put16(0x3F80);
  CHECK(pt::decode_element(pt::t_bf16, b) == 1.0);
  put16(0x4049);
  CHECK(pt::decode_element(pt::t_bf16, b) == 3.140625);
  b[0] = 0x38;
  CHECK(pt::decode_element(pt::t_f8e4m3, b) == 1.0);
  b[0] = 0x7E;
  CHECK(pt::decode_element(pt::t_f8e4m3, b) == 448.0);
  b[0] = 0x7F;
  CHECK(std::isnan(pt::decode_element(pt::t_f8e4m3, b)));
  b[0] = 0x3C;
  CHECK(pt::decode_element(pt::t_f8e5m2, b) == 1.0);
  b[0] = 0x7B;
  CHECK(pt::decode_element(pt::t_f8e5m2, b) == 57344.0);
  b[0] = 0xFF;
  CHECK(pt::decode_element(pt::t_int8, b) == -1.0);
  CHECK(pt::decode_element(pt::t_uint8, b) == 255.0);
  float f = 1.5f;
  std::memcpy(b, &f, 4);
  CHECK(pt::decode_element(pt::t_float, b) == 1.5);
  std::uint64_t u = 1ull << 40;
  std::memcpy(b, &u, 8);
  CHECK(pt::decode_element(pt::t_uint64, b) == std::ldexp(1.0, 40));
}
