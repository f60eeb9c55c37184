// What NCCL was told and what it chose, for the JSON report:
//  * an allow-list of NCCL_* (and a few CUDA_*) variables that change how
//    NCCL behaves; the report never copies the whole environment (nccl-tests
//    -J does, and leaks tokens and paths);
//  * the algorithm and protocol NCCL picked per collective and size, read
//    from the lines NCCL writes with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=TUNING:
//      host:pid:tid [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE channel{Lo..Hi}={0..31}
//    The worker turns that logging on for the warm-up iterations only (NCCL
//    2.24+ re-reads NCCL_DEBUG after ncclResetDebugInit), so the timed
//    iterations pay nothing for it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::nccl_tests {

// True for variable names the report may record.
bool env_allowed(std::string_view name);
// The allowed variables of an environment given as "NAME=VALUE" strings
// (environ), sorted by name.
std::map<std::string, std::string> allowed_env(const char* const* envp);
std::map<std::string, std::string> allowed_env_of_process();

struct TuningChoice {
  std::string function;  // NCCL's name: AllReduce, AllGather, ReduceScatter, Broadcast, Reduce
  unsigned long long bytes = 0;
  std::string algorithm;  // RING, TREE, NVLS, NVLSTREE, COLLNETDIRECT, COLLNETCHAIN, PAT
  std::string protocol;   // LL, LL128, SIMPLE
  int channel_lo = -1, channel_hi = -1;
};

// Parses one line of NCCL's TUNING output; nullopt for any other line.
std::optional<TuningChoice> parse_tuning_line(std::string_view line);

// NCCL's function name for a collective name of ours ("all_reduce" ->
// "AllReduce"); empty for point-to-point collectives (alltoall, sendrecv),
// which NCCL does not tune.
std::string nccl_function_name(std::string_view collective);

// The most frequent choice for (function, bytes) among `lines` of a log,
// nullopt when none matches.
std::optional<TuningChoice> choice_for(const std::vector<std::string>& lines, std::string_view function,
                                       unsigned long long bytes);

}  // namespace aicloud::nccl_tests
