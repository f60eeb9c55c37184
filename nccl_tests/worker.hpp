// One rank: `aicloudctl nccl --worker`. Reads its job from the controller,
// answers hello, takes part in the rendezvous (rank 0 creates the NCCL
// unique id), creates a non-blocking communicator with a deadline, runs
// every row of the plan and streams heartbeats and results back
// (protocol.hpp). It never waits on the GPU or on NCCL without a deadline:
// on expiry, on an asynchronous NCCL error or on the controller's abort
// (or the end of its input) it calls ncclCommAbort, reports how far it got
// and exits 1.
#pragma once

namespace aicloud::nccl_tests {

// The worker entry point: protocol on stdin/stdout. NCCL's and CUDA's own
// prints are redirected to stderr first so they cannot corrupt the protocol
// stream. Returns the process exit code (0 ok, 1 failed or aborted, 2 bad job).
int run_worker();

// The same over explicit descriptors (a socket, or pipes in tests).
int run_worker_fds(int in_fd, int out_fd);

}  // namespace aicloud::nccl_tests
