// Facts: what a node is (OS, kernel, CPU, memory, PCI GPUs and NVSwitches,
// NICs and InfiniBand ports, disks, NVIDIA driver version), gathered by one
// POSIX shell script that reads /proc and /sys (no lspci, no nvidia-smi, no
// Python) and prints `key=value` lines; the parser turns them into Ansible's
// fact names (ansible_distribution, ansible_memtotal_mb, ...) plus ours
// (gpus, gpu_count, nvidia_gpu_count, nvswitch_count, nics, infiniband,
// disks, nvidia_driver_version). docs/playbooks.md lists them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace aicloud::provision {

// The gathering script. The roots are parameters so that tests can point
// them at a fake /sys tree (8 GPUs and 4 NVSwitches on a CPU-only machine).
std::string facts_script(const std::string& sysfs_root = "/sys", const std::string& proc_root = "/proc",
                         const std::string& os_release = "/etc/os-release");

// Parses the script's output into the facts dict (keys without "ansible_").
nlohmann::json parse_facts(const std::string& output);

// The vars a host gets from its facts: `ansible_facts` (the dict) and
// `ansible_<name>` for each fact, as Ansible injects them.
nlohmann::json facts_to_vars(const nlohmann::json& facts);

}  // namespace aicloud::provision
