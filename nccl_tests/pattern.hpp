// The data every rank sends and the exact result every rank must receive,
// as closed-form functions of (rank, element index) that compile for both
// the host (unit tests, error reports) and the GPU (fill and verify
// kernels in device.cu).
//
// Inputs are small integers chosen per reduction op so that every partial
// result is exactly representable in the data type, which makes the result
// bit-exact whatever order NCCL reduces in:
//  * sum/avg: c(i) + ((r+i) & 1) with c(i) < limit/n - 1 (n times the
//    largest input still fits); when the type is too narrow for that
//    (bf16 with many ranks), one rank per element contributes and the others
//    send 0;
//  * prod: 1, or 2 on at most L ranks per element (2^L fits the type);
//  * min/max: c(i) + ((r+i) mod n) mod P, whose min is c(i) and max c(i)+P-1;
//  * copies (broadcast, all_gather, alltoall, sendrecv): a hash of (rank, i).
// Output buffers are first filled with all-ones bytes (NaN for floats, a
// value no expected result takes for integers), so an operation that writes
// nothing is caught. The one inexact case is avg on floating types with a
// rank count that is not a power of two: NCCL multiplies by a rounded 1/n,
// so one rank contributes per element and the result may differ by up to
// two units in the last place.
#pragma once

#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define AICLOUD_HD __host__ __device__ inline
#else
#define AICLOUD_HD inline
#endif

namespace aicloud::nccl_tests::pattern {

// Mirrors of the enums in collectives.hpp (plain ints so device code needs
// nothing else).
enum Coll : int { all_reduce = 0, all_gather, reduce_scatter, broadcast, reduce, alltoall, sendrecv };
enum Type : int { t_int8 = 0, t_uint8, t_int32, t_uint32, t_int64, t_uint64, t_half, t_float, t_double, t_bf16, t_f8e4m3, t_f8e5m2 };
enum Op : int { op_sum = 0, op_prod, op_max, op_min, op_avg };
enum Kind : int { k_copy = 0, k_sum_dense, k_sum_sparse, k_prod, k_minmax };

struct Params {
  int coll = all_reduce;
  int type = t_float;
  int op = op_sum;
  int nranks = 1;
  int root = 0;
  std::uint32_t seed = 0;
  int kind = k_copy;
  std::uint64_t modulus = 1;  // range of the hashed part
  std::uint64_t period = 1;   // prod: q; minmax: P
  std::uint64_t base = 0;     // block size in elements (all_gather, reduce_scatter, alltoall)
  bool tolerant = false;      // avg on floats with non-power-of-two n
};

// Largest integer L such that 0..L are all exact in the type (capped at
// 2^20 so that values stay exact in a double on the host).
AICLOUD_HD std::uint64_t exact_limit(int type) {
  switch (type) {
    case t_int8: return 127;
    case t_uint8: return 255;
    case t_half: return 2048;
    case t_bf16: return 256;
    case t_f8e4m3: return 16;
    case t_f8e5m2: return 8;
    default: return 1u << 20;
  }
}

// Largest power-of-two exponent a product may reach.
AICLOUD_HD int prod_limit(int type) {
  switch (type) {
    case t_int8: return 6;
    case t_uint8: return 7;
    case t_half: return 15;
    case t_f8e4m3: return 8;
    case t_f8e5m2: return 15;
    case t_uint32: return 31;
    default: return 30;
  }
}

AICLOUD_HD bool is_float_type(int type) {
  return type == t_half || type == t_float || type == t_double || type == t_bf16 || type == t_f8e4m3 ||
         type == t_f8e5m2;
}

AICLOUD_HD std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

AICLOUD_HD std::uint32_t hash3(std::uint32_t seed, std::uint32_t a, std::uint64_t i) {
  std::uint32_t h = mix32(seed ^ mix32(a + 0x9e3779b9U));
  h = mix32(h ^ static_cast<std::uint32_t>(i >> 32));
  return mix32(h ^ static_cast<std::uint32_t>(i));
}

// Uniform in [0, m) from a 32-bit hash (multiply-shift, no division).
AICLOUD_HD std::uint64_t reduce_range(std::uint32_t h, std::uint64_t m) {
  return (static_cast<std::uint64_t>(h) * m) >> 32;
}

AICLOUD_HD Params make_params(int coll, int type, int op, int nranks, int root, std::uint32_t seed,
                              std::uint64_t base) {
  Params p;
  p.coll = coll;
  p.type = type;
  p.op = op;
  p.nranks = nranks < 1 ? 1 : nranks;
  p.root = root;
  p.seed = seed;
  p.base = base;
  const std::uint64_t n = static_cast<std::uint64_t>(p.nranks);
  const std::uint64_t limit = exact_limit(type);
  const bool reduces = coll == all_reduce || coll == reduce_scatter || coll == reduce;
  if (!reduces) {
    p.kind = k_copy;
    p.modulus = limit;  // values 0..limit-1; all-ones is never one of them
    return p;
  }
  const bool pow2 = (n & (n - 1)) == 0;
  switch (op) {
    case op_prod: {
      p.kind = k_prod;
      const std::uint64_t L = static_cast<std::uint64_t>(prod_limit(type));
      p.period = (n + L - 1) / L;  // at most ceil(n/q) <= L twos per element
      break;
    }
    case op_min:
    case op_max: {
      p.kind = k_minmax;
      std::uint64_t pmax = (limit + 1) / 2;
      if (pmax > 1024) pmax = 1024;
      p.period = n < pmax ? n : pmax;
      p.modulus = limit + 1 - p.period;  // c + P - 1 <= limit - 1
      if (p.modulus > 1) p.modulus -= 1;
      break;
    }
    default: {  // sum, avg
      const std::uint64_t k = limit / n;
      const bool float_avg = op == op_avg && is_float_type(type);
      if (k >= 3 && !(float_avg && !pow2)) {
        p.kind = k_sum_dense;
        p.modulus = k - 1;  // c in [0, k-2], inputs <= k-1, sums <= n(k-1) < limit
      } else {
        p.kind = k_sum_sparse;
        p.modulus = limit > 2 ? limit - 1 : 1;  // value in [1, limit-1]
      }
      p.tolerant = float_avg && !pow2;
      break;
    }
  }
  return p;
}

// The value rank `rank` holds at element i of its send data (i counts from
// the start of the rank's own send buffer).
AICLOUD_HD double input_value(const Params& p, int rank, std::uint64_t i) {
  const std::uint64_t r = static_cast<std::uint64_t>(rank);
  const std::uint64_t n = static_cast<std::uint64_t>(p.nranks);
  switch (p.kind) {
    case k_copy:
      return static_cast<double>(reduce_range(hash3(p.seed, static_cast<std::uint32_t>(rank), i), p.modulus));
    case k_sum_dense:
      return static_cast<double>(reduce_range(hash3(p.seed, 0xffffffffU, i), p.modulus) + ((r + i) & 1));
    case k_sum_sparse:
      if (i % n != r) return 0.0;
      return static_cast<double>(1 + reduce_range(hash3(p.seed, 0xffffffffU, i), p.modulus));
    case k_prod:
      return (p.period <= 1 || (i + r) % p.period == 0) ? 2.0 : 1.0;
    case k_minmax:
      return static_cast<double>(reduce_range(hash3(p.seed, 0xffffffffU, i), p.modulus) + ((r + i) % n) % p.period);
  }
  return 0.0;
}

// Reduction over all ranks of element i (i indexes the reduced vector).
AICLOUD_HD double reduced_value(const Params& p, std::uint64_t i) {
  const std::uint64_t n = static_cast<std::uint64_t>(p.nranks);
  double v = 0;
  switch (p.kind) {
    case k_sum_dense: {
      const std::uint64_t c = reduce_range(hash3(p.seed, 0xffffffffU, i), p.modulus);
      const std::uint64_t odd = (i & 1) == 0 ? n / 2 : (n + 1) / 2;  // ranks r with (r+i) odd
      v = static_cast<double>(n * c + odd);
      break;
    }
    case k_sum_sparse:
      v = static_cast<double>(1 + reduce_range(hash3(p.seed, 0xffffffffU, i), p.modulus));
      break;
    case k_prod: {
      std::uint64_t twos = n;
      if (p.period > 1) {
        const std::uint64_t r0 = (p.period - i % p.period) % p.period;
        twos = r0 < n ? (n - 1 - r0) / p.period + 1 : 0;
      }
      return ldexp(1.0, static_cast<int>(twos));
    }
    case k_minmax: {
      const std::uint64_t c = reduce_range(hash3(p.seed, 0xffffffffU, i), p.modulus);
      return static_cast<double>(p.op == op_max ? c + p.period - 1 : c);
    }
    default:
      return 0.0;
  }
  if (p.op == op_avg) {
    if (is_float_type(p.type)) return v / static_cast<double>(n);
    return static_cast<double>(static_cast<std::uint64_t>(v) / n);
  }
  return v;
}

// Whether rank `rank` has a defined output to check (reduce: root only).
AICLOUD_HD bool has_output(const Params& p, int rank) { return p.coll != reduce || rank == p.root; }

// The value rank `rank` must find at element k of its receive buffer.
AICLOUD_HD double expected_value(const Params& p, int rank, std::uint64_t k) {
  const std::uint64_t r = static_cast<std::uint64_t>(rank);
  const std::uint64_t n = static_cast<std::uint64_t>(p.nranks);
  switch (p.coll) {
    case all_reduce:
    case reduce:
      return reduced_value(p, k);
    case reduce_scatter:
      return reduced_value(p, r * p.base + k);
    case broadcast:
      return input_value(p, p.root, k);
    case all_gather:
      return p.base ? input_value(p, static_cast<int>(k / p.base), k % p.base) : 0.0;
    case alltoall:
      return p.base ? input_value(p, static_cast<int>(k / p.base), r * p.base + k % p.base) : 0.0;
    case sendrecv:
      return input_value(p, static_cast<int>((r + n - 1) % n), k);
  }
  return 0.0;
}

// Mantissa bits (without the implicit one) of the floating types.
AICLOUD_HD int mantissa_bits(int type) {
  switch (type) {
    case t_half: return 10;
    case t_bf16: return 7;
    case t_float: return 23;
    case t_double: return 52;
    case t_f8e4m3: return 3;
    case t_f8e5m2: return 2;
    default: return 0;
  }
}

// Allowed |actual - expected| (0: bit-exact).
AICLOUD_HD double tolerance(const Params& p, double expected) {
  if (!p.tolerant || expected == 0.0) return 0.0;
  int e = 0;
  (void)frexp(expected, &e);  // expected = m * 2^e, 0.5 <= |m| < 1
  return 2.0 * ldexp(1.0, e - 1 - mantissa_bits(p.type));
}

// ---- host-side decoding for error reports ----------------------------------

// Decodes an IEEE-like binary float of the given layout (e4m3 has no
// infinities and a single NaN pattern per sign).
inline double decode_minifloat(std::uint32_t bits, int exp_bits, int mant_bits, bool e4m3) {
  const std::uint32_t sign = (bits >> (exp_bits + mant_bits)) & 1;
  const std::uint32_t e = (bits >> mant_bits) & ((1u << exp_bits) - 1);
  const std::uint32_t m = bits & ((1u << mant_bits) - 1);
  const int bias = (1 << (exp_bits - 1)) - 1;
  double v;
  if (e4m3 && e == 15 && m == 7) {
    v = NAN;
  } else if (!e4m3 && e == (1u << exp_bits) - 1) {
    v = m ? NAN : INFINITY;
  } else if (e == 0) {
    v = std::ldexp(static_cast<double>(m), 1 - bias - mant_bits);
  } else {
    v = std::ldexp(static_cast<double>(m | (1u << mant_bits)), static_cast<int>(e) - bias - mant_bits);
  }
  return sign ? -v : v;
}

// The numeric value of one element stored in `bytes` (element_size bytes).
inline double decode_element(int type, const unsigned char* bytes) {
  switch (type) {
    case t_int8: return static_cast<double>(static_cast<std::int8_t>(bytes[0]));
    case t_uint8: return static_cast<double>(bytes[0]);
    case t_int32: { std::int32_t v; std::memcpy(&v, bytes, 4); return static_cast<double>(v); }
    case t_uint32: { std::uint32_t v; std::memcpy(&v, bytes, 4); return static_cast<double>(v); }
    case t_int64: { std::int64_t v; std::memcpy(&v, bytes, 8); return static_cast<double>(v); }
    case t_uint64: { std::uint64_t v; std::memcpy(&v, bytes, 8); return static_cast<double>(v); }
    case t_float: { float v; std::memcpy(&v, bytes, 4); return static_cast<double>(v); }
    case t_double: { double v; std::memcpy(&v, bytes, 8); return v; }
    case t_half: { std::uint16_t v; std::memcpy(&v, bytes, 2); return decode_minifloat(v, 5, 10, false); }
    case t_bf16: { std::uint16_t v; std::memcpy(&v, bytes, 2); return decode_minifloat(v, 8, 7, false); }
    case t_f8e4m3: return decode_minifloat(bytes[0], 4, 3, true);
    case t_f8e5m2: return decode_minifloat(bytes[0], 5, 2, false);
  }
  return 0.0;
}

}  // namespace aicloud::nccl_tests::pattern
