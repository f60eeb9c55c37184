// `--launcher mpirun|srun`: the command line that starts the rank workers
// through OpenMPI or Slurm instead of aicloudctl's own SSH sessions, for
// sites where a scheduler already owns the nodes. Pure: hosts and slots
// from the inventory selection, the worker's path on the nodes, and the
// NCCL_* variables to forward, to argv. Unit-tested; `--print-command`
// shows it without running anything.
//
// The workers started this way cannot use stdin/stdout as their protocol
// channel (mpirun and srun forward stdin to rank 0 only), so they connect
// back to the controller over TCP: `nccl --worker --connect HOST:PORT
// --token T`, their rank taken from OMPI_COMM_WORLD_RANK, SLURM_PROCID or
// PMI_RANK (docs/nccl.md).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::nccl_tests {

enum class Launcher { ssh, mpirun, srun };
std::string_view to_string(Launcher l);
// "ssh", "mpirun", "srun"; throws UsageError (with a suggestion) otherwise.
Launcher parse_launcher(std::string_view text);

struct ExternalLaunch {
  std::vector<std::string> hosts;           // node names as the launcher knows them (inventory address)
  std::vector<int> slots;                   // ranks on each host (same length as hosts)
  std::string binary;                       // aicloudctl on the nodes
  std::vector<std::string> worker_args;     // after the binary, e.g. {"nccl", "--worker", "--connect", ...}
  std::map<std::string, std::string> env;   // forwarded to every rank (NCCL_* only)
  std::string launcher_path;                // mpirun/srun to run (empty: found on PATH)
};

// mpirun (OpenMPI): -np N --host a:s,b:s --map-by ppr:s:node (uniform
// slots) --bind-to none, -x NAME=VALUE per variable, then the worker.
// Throws UsageError for empty or mismatched hosts/slots.
std::vector<std::string> mpirun_command(const ExternalLaunch& l);

// srun (Slurm): --nodes --ntasks --ntasks-per-node --nodelist a,b
// --distribution=block --kill-on-bad-exit=1 --export=ALL,NAME=VALUE...,
// then the worker. Throws UsageError for nodes with different rank counts
// or a value with a comma (Slurm's --export cannot carry it).
std::vector<std::string> srun_command(const ExternalLaunch& l);

// Which of this process's variables to forward: NCCL_* names only (the
// launchers pass the rest of the environment by their own rules).
std::map<std::string, std::string> forwarded_env(const std::map<std::string, std::string>& process_env,
                                                 const std::map<std::string, std::string>& overrides);

}  // namespace aicloud::nccl_tests
