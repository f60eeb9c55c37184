// The runner's view of inventory hosts. RunHost is what the play runner
// needs from an inventory::Host: its name and address, SSH user and become,
// groups, vars, and what the inventory says about the hardware (exposed to
// playbooks as `hardware.gpu_count`, `rack`, `site`, `labels`). BMC
// credentials are never copied.
#pragma once

#include <vector>

#include "inventory/inventory.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision {

RunHost run_host_from_inventory(const inventory::Host& host);
std::vector<RunHost> run_hosts_from_inventory(const inventory::Inventory& inv);

}  // namespace aicloud::provision
