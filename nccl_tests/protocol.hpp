// The line protocol between the controller and its rank workers
// (`aicloudctl nccl --worker`): one JSON object per line, each with a
// "type". The same protocol runs over local pipes (the node-local runner),
// SSH exec channels (multi-node launch), or any other byte stream, so the
// launcher is a transport plus the pure Controller (controller.hpp).
//
// controller -> worker (worker's stdin)
//   job    {type, protocol, rank, nranks, local_rank, node, device, dry_run,
//           nccl_library, env{}, init_timeout_s, phase_timeout_s,
//           heartbeat_s, plan{...}}                 first line, exactly once
//   start  {type, unique_id}                          the 128-byte NCCL id, hex
//   abort  {type, reason}                             stop now (ncclCommAbort)
//   (end of input counts as abort: the controller or its channel is gone)
//
// worker -> controller (worker's stdout; NCCL's own output goes to stderr)
//   hello     {type, protocol, rank, host, pid, tool_version, nccl{}, cuda{},
//              gpu{} | gpu_error, nccl_error}     after the job was read
//   unique_id {type, rank, id}                    rank 0 only, after hello
//   ready     {type, rank, id_digest, init_s}     id received; communicator
//                                                  created (not in a dry run)
//   heartbeat {type, rank, phase, test, size_index, placement, bytes,
//              launched, completed, elapsed_s}    at least every heartbeat_s
//                                                  while waiting on the GPU
//   result    {type, rank, test, size_index, placement, bytes, times_us[],
//              wrong, wrong_iterations[], first_wrong, slices, batches,
//              algorithm, protocol, channels}     one per row and placement
//   error     {type, rank, phase, kind, message, launched, completed}
//   done      {type, rank, status}                last line; status ok |
//                                                  failed | timeout | aborted
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nccl_tests/collectives.hpp"
#include "nccl_tests/gpu_info.hpp"

namespace aicloud::nccl_tests {

inline constexpr int k_protocol_version = 1;

// One collective/type/op/root combination of a benchmark.
struct TestSpec {
  Collective collective = Collective::all_reduce;
  DataType dtype = DataType::float32;
  RedOp op = RedOp::sum;
  int root = 0;
};

// What every rank runs, identical on all ranks (the controller expands the
// sweep so that ranks never disagree on the sizes).
struct BenchPlan {
  std::vector<TestSpec> tests;
  std::vector<std::uint64_t> sizes;  // bytes, the -b..-e sweep
  int iterations = 20;
  int warmup = 5;
  bool in_place = true;       // also run the in-place form where it exists
  bool out_of_place = true;
  bool check = true;          // verify every timed iteration
  bool capture_algorithm = true;
  double memory_fraction = 0.6;  // of free GPU memory after communicator init
  std::uint32_t seed = 0x5eed;
};

struct JobMessage {
  int rank = 0;
  int nranks = 1;
  int local_rank = 0;
  std::string node;  // name of the node in the controller's plan
  int device = 0;    // CUDA device index on that node
  bool dry_run = false;
  std::string nccl_library;
  std::map<std::string, std::string> env;  // set in the worker before NCCL loads
  double init_timeout_s = 120;
  double phase_timeout_s = 120;
  double heartbeat_s = 1;
  BenchPlan plan;
};

struct HelloMessage {
  int rank = 0;
  int protocol = k_protocol_version;
  std::string host;
  long pid = 0;
  std::string tool_version;
  int nccl_version = 0;        // 0: not loaded, see nccl_error
  std::string nccl_library;
  std::string nccl_error;
  int cuda_runtime = 0;        // cudaRuntimeGetVersion, e.g. 13000
  int cuda_driver = 0;         // cudaDriverGetVersion
  std::optional<GpuInfo> gpu;  // absent: see gpu_error
  std::string gpu_error;
};

struct HeartbeatMessage {
  int rank = 0;
  std::string phase;  // init, warmup, timed, verify, finalize
  int test = -1;
  int size_index = -1;
  std::string placement;
  std::uint64_t bytes = 0;
  long launched = 0;   // operations enqueued in this phase
  long completed = 0;  // operations the GPU finished in this phase
  double elapsed_s = 0;
};

struct FirstWrong {
  int iteration = 0;
  std::uint64_t offset = 0;  // element offset in the rank's receive buffer
  double expected = 0;
  double actual = 0;
  std::string actual_hex;    // the element's bytes as stored
};

struct ResultMessage {
  int rank = 0;
  int test = 0;
  int size_index = 0;
  Placement placement = Placement::out_of_place;
  std::uint64_t bytes = 0;
  std::vector<double> times_us;
  bool checked = false;            // false: verification was off (--no-check) or no output on this rank
  std::uint64_t wrong = 0;
  std::vector<int> wrong_iterations;
  std::optional<FirstWrong> first_wrong;
  int slices = 0;
  int batches = 0;
  std::string algorithm;  // rank 0, when captured
  std::string protocol;
  std::string channels;   // "0..31"
};

struct ErrorMessage {
  int rank = 0;
  std::string phase;
  std::string kind;  // timeout, nccl, cuda, setup, memory, protocol
  std::string message;
  long launched = 0;
  long completed = 0;
};

// ---- encoding -------------------------------------------------------------
nlohmann::json to_json(const TestSpec& t);
nlohmann::json to_json(const BenchPlan& p);
nlohmann::json to_json(const GpuInfo& g);

std::string encode_job(const JobMessage& m);
std::string encode_start(const std::string& unique_id_hex);
std::string encode_abort(const std::string& reason);
std::string encode_hello(const HelloMessage& m);
std::string encode_unique_id(int rank, const std::string& id_hex);
std::string encode_ready(int rank, const std::string& id_digest, double init_s);
std::string encode_heartbeat(const HeartbeatMessage& m);
std::string encode_result(const ResultMessage& m);
std::string encode_error(const ErrorMessage& m);
std::string encode_done(int rank, const std::string& status);

// ---- decoding -------------------------------------------------------------
// A decoded line: its type and the object. Throws ProtocolError for lines
// that are not a JSON object with a string "type".
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Message {
  std::string type;
  nlohmann::json body;
};
Message decode_line(const std::string& line);

// Typed views; throw ProtocolError naming the field that is missing or of
// the wrong type.
TestSpec test_from_json(const nlohmann::json& j);
BenchPlan plan_from_json(const nlohmann::json& j);
JobMessage job_from_json(const nlohmann::json& j);
HelloMessage hello_from_json(const nlohmann::json& j);
HeartbeatMessage heartbeat_from_json(const nlohmann::json& j);
ResultMessage result_from_json(const nlohmann::json& j);
ErrorMessage error_from_json(const nlohmann::json& j);
GpuInfo gpu_from_json(const nlohmann::json& j);

}  // namespace aicloud::nccl_tests
