// The CUDA side of a rank, as plain host functions: device facts, streams,
// events, memory, and the fill and verify kernels of pattern.hpp. device.cu
// implements them with the statically linked CUDA runtime; device_stub.cpp
// (builds without CUDA) answers every call with "built without CUDA".
// Nothing here blocks on the GPU: completion is polled by the caller, so a
// stuck GPU or collective can always be given a deadline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nccl_tests/gpu_info.hpp"
#include "nccl_tests/pattern.hpp"

struct CUstream_st;

namespace aicloud::nccl_tests::device {

using Stream = CUstream_st*;
using Event = void*;

bool available();  // false in builds without CUDA

int runtime_version();  // cudaRuntimeGetVersion, 0 when unavailable
int driver_version();   // cudaDriverGetVersion, 0 when no driver

// Number of visible devices; -1 and `error` set when CUDA cannot count them.
int device_count(std::string& error);
std::optional<GpuInfo> gpu_info(int device, std::string& error);

bool set_device(int device, std::string& error);
bool mem_info(std::uint64_t& free_bytes, std::uint64_t& total_bytes, std::string& error);

bool stream_create(Stream& s, std::string& error);
void stream_destroy(Stream s);

enum class Query { done, pending, error };
Query stream_query(Stream s, std::string& error);

bool event_create(Event& e, bool timing, std::string& error);
void event_destroy(Event e);
bool event_record(Event e, Stream s, std::string& error);
Query event_query(Event e, std::string& error);
bool event_elapsed_ms(Event start, Event stop, float& ms, std::string& error);

bool alloc(void** p, std::uint64_t bytes, std::string& error);
void free(void* p);
// Synchronous copy of a few bytes back to the host (error reports only).
bool copy_to_host(void* dst, const void* src, std::uint64_t bytes, std::string& error);

// All-ones bytes (NaN, or a value no expected result takes).
bool fill_poison(void* p, std::uint64_t bytes, Stream s, std::string& error);
// p[k] = input_value(params, rank, index_offset + k) for k < count.
bool fill_input(void* p, std::uint64_t count, const pattern::Params& params, int rank, std::uint64_t index_offset,
                Stream s, std::string& error);

// Device counters for one verification pass over up to `slices` slices.
struct VerifyCounters {
  unsigned long long* dev = nullptr;  // [0] wrong, [1] first wrong (slice*count + k), [2+i] wrong in slice i
  int slices = 0;
};
bool verify_counters_alloc(VerifyCounters& c, int slices, std::string& error);
void verify_counters_free(VerifyCounters& c);

// Compares `count` elements at base + i*stride_bytes + elem_offset*elt for
// i < slices with expected_value(params, rank, k); enqueued on `s`.
bool verify_launch(const void* base, std::uint64_t stride_bytes, int slices, std::uint64_t elem_offset,
                   std::uint64_t count, const pattern::Params& params, int rank, VerifyCounters& c, Stream s,
                   std::string& error);

struct VerifyOutcome {
  std::uint64_t wrong = 0;
  long long first_slice = -1;  // -1: none wrong
  std::uint64_t first_offset = 0;
  std::vector<std::uint64_t> per_slice;
};
// Reads the counters back once the stream has finished the verify kernel.
bool verify_collect(const VerifyCounters& c, int slices, std::uint64_t count, VerifyOutcome& out, std::string& error);

}  // namespace aicloud::nccl_tests::device
