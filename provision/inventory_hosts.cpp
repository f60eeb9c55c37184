// Inventory hosts to RunHosts: field copies only, so that the runner and its
// tests do not depend on how inventories are loaded.
#include "provision/inventory_hosts.hpp"

namespace aicloud::provision {

RunHost run_host_from_inventory(const inventory::Host& h) {
  RunHost r;
  r.name = h.name;
  r.address = h.address.empty() ? h.name : h.address;
  r.user = h.ssh.user;
  r.become = h.ssh.become;
  r.groups = h.groups;
  r.vars = h.vars.is_object() ? h.vars : nlohmann::json::object();
  nlohmann::json hw = {{"gpu_model", h.hardware.gpu_model}, {"gpu_count", h.hardware.gpu_count}, {"nics", h.hardware.nics}};
  r.magic = {{"hardware", hw}, {"site", h.site}, {"rack", h.rack}, {"labels", h.labels}};
  if (h.rack_u) r.magic["rack_u"] = *h.rack_u;
  if (h.bmc) r.magic["bmc"] = {{"url", h.bmc->url}, {"scheme", h.bmc->scheme}, {"host", h.bmc->host}};
  return r;
}

std::vector<RunHost> run_hosts_from_inventory(const inventory::Inventory& inv) {
  std::vector<RunHost> out;
  out.reserve(inv.hosts.size());
  for (const auto& h : inv.hosts) out.push_back(run_host_from_inventory(h));
  return out;
}

}  // namespace aicloud::provision
