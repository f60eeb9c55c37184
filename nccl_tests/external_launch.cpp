#include "nccl_tests/external_launch.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace aicloud::nccl_tests {

std::string_view to_string(Launcher l) {
  switch (l) {
    case Launcher::ssh: return "ssh";
    case Launcher::mpirun: return "mpirun";
    case Launcher::srun: return "srun";
  }
  return "ssh";
}

Launcher parse_launcher(std::string_view text) {
  const std::string t = to_lower(trim(text));
  if (t == "ssh") return Launcher::ssh;
  if (t == "mpirun" || t == "mpi") return Launcher::mpirun;
  if (t == "srun" || t == "slurm") return Launcher::srun;
  auto guess = did_you_mean(t, {"ssh", "mpirun", "srun"});
  throw UsageError("--launcher: unknown launcher '" + std::string(text) + "'" +
                   (guess ? " (did you mean '" + *guess + "'?)" : "") + "; one of: ssh, mpirun, srun");
}

namespace {

int check_hosts(const ExternalLaunch& l) {
  if (l.hosts.empty()) throw UsageError("no host to launch on");
  if (l.slots.size() != l.hosts.size()) throw UsageError("one slot count per host is needed");
  int total = 0;
  for (std::size_t i = 0; i < l.hosts.size(); ++i) {
    if (l.slots[i] < 1) throw UsageError("host " + l.hosts[i] + " has no rank");
    if (l.hosts[i].empty() || l.hosts[i].find_first_of(",: \t") != std::string::npos)
      throw UsageError("host name '" + l.hosts[i] + "' cannot be passed to a launcher");
    total += l.slots[i];
  }
  if (l.binary.empty()) throw UsageError("no worker binary");
  return total;
}

bool uniform(const std::vector<int>& slots) {
  return std::all_of(slots.begin(), slots.end(), [&](int s) { return s == slots.front(); });
}

}  // namespace

std::vector<std::string> mpirun_command(const ExternalLaunch& l) {
  const int total = check_hosts(l);
  std::vector<std::string> argv = {l.launcher_path.empty() ? "mpirun" : l.launcher_path, "-np", std::to_string(total)};
  std::string hosts;
  for (std::size_t i = 0; i < l.hosts.size(); ++i)
    hosts += (i ? "," : "") + l.hosts[i] + ":" + std::to_string(l.slots[i]);
  argv.insert(argv.end(), {"--host", hosts});
  // Fill each node with its slots before the next (rank order = node order).
  if (uniform(l.slots)) argv.insert(argv.end(), {"--map-by", "ppr:" + std::to_string(l.slots.front()) + ":node"});
  else argv.insert(argv.end(), {"--map-by", "slot"});
  argv.insert(argv.end(), {"--bind-to", "none"});
  for (const auto& [k, v] : l.env) argv.insert(argv.end(), {"-x", k + "=" + v});
  argv.push_back(l.binary);
  argv.insert(argv.end(), l.worker_args.begin(), l.worker_args.end());
  return argv;
}

std::vector<std::string> srun_command(const ExternalLaunch& l) {
  const int total = check_hosts(l);
  if (!uniform(l.slots))
    throw UsageError("srun: every node must run the same number of ranks (give --ranks-per-node)");
  std::vector<std::string> argv = {l.launcher_path.empty() ? "srun" : l.launcher_path,
                                   "--nodes=" + std::to_string(l.hosts.size()),
                                   "--ntasks=" + std::to_string(total),
                                   "--ntasks-per-node=" + std::to_string(l.slots.front()),
                                   "--nodelist=" + join(l.hosts, ","),
                                   "--distribution=block",
                                   "--kill-on-bad-exit=1"};
  std::string exp = "--export=ALL";
  for (const auto& [k, v] : l.env) {
    if (v.find(',') != std::string::npos)
      throw UsageError("srun: " + k + "='" + v + "' holds a comma, which srun --export cannot pass");
    exp += "," + k + "=" + v;
  }
  argv.push_back(exp);
  argv.push_back(l.binary);
  argv.insert(argv.end(), l.worker_args.begin(), l.worker_args.end());
  return argv;
}

std::map<std::string, std::string> forwarded_env(const std::map<std::string, std::string>& process_env,
                                                 const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : process_env)
    if (starts_with(k, "NCCL_")) out[k] = v;
  for (const auto& [k, v] : overrides) out[k] = v;
  return out;
}

}  // namespace aicloud::nccl_tests
