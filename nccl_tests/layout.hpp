// Where one rank's data lives for one iteration, as nccl-tests lays it out:
// out of place, the send buffer holds the input and the iteration's slice
// receives the output; in place, the slice holds both (all_gather sends
// from its own block of the output, reduce_scatter receives into its own
// block of the input). Pure, shared by the worker and the tests that run
// the collectives on the host.
#pragma once

#include <cstdint>

#include "nccl_tests/collectives.hpp"

namespace aicloud::nccl_tests {

struct RankLayout {
  bool separate_send = false;      // send pointer is in the send buffer (out of place)
  std::uint64_t send_offset = 0;   // bytes from the send buffer (out of place) or the slice (in place)
  std::uint64_t recv_offset = 0;   // bytes from the slice
  // What the slice holds before the operation: all-ones over
  // [0, poison_bytes), then input elements [0, input_count) written at
  // input_offset (bytes). Out of place only the poison is written.
  std::uint64_t poison_bytes = 0;
  std::uint64_t input_offset = 0;
  std::uint64_t input_count = 0;
  // The receive view that is verified: recv_count elements at recv_offset.
  std::uint64_t verify_offset_elems = 0;
  std::uint64_t verify_count = 0;
};

inline RankLayout rank_layout(Collective c, Placement p, const CollSizes& cs, std::size_t elt, int rank, int root) {
  RankLayout l;
  const std::uint64_t r = static_cast<std::uint64_t>(rank);
  const std::uint64_t block = cs.param_count * elt;
  l.verify_count = cs.recv_count;
  if (p == Placement::out_of_place) {
    l.separate_send = true;
    l.poison_bytes = cs.recv_count * elt;
    return l;
  }
  switch (c) {
    case Collective::all_gather:
      l.send_offset = r * block;  // = recv + rank * sendInplaceOffset
      l.poison_bytes = cs.recv_count * elt;
      l.input_offset = l.send_offset;
      l.input_count = cs.send_count;
      break;
    case Collective::reduce_scatter:
      l.recv_offset = r * block;  // = recv + rank * recvInplaceOffset
      l.input_count = cs.send_count;
      break;
    case Collective::broadcast:
      if (rank == root) l.input_count = cs.send_count;
      else l.poison_bytes = cs.recv_count * elt;
      break;
    default:  // all_reduce, reduce (alltoall and sendrecv have no in-place form)
      l.input_count = cs.send_count;
      break;
  }
  l.verify_offset_elems = l.recv_offset / (elt ? elt : 1);
  return l;
}

}  // namespace aicloud::nccl_tests
