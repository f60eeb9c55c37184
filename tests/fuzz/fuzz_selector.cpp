// libFuzzer target: the --limit selector grammar against a fixed inventory
// with sites, racks, groups and labels. Only InputError may escape.
#include <cstddef>
#include <cstdint>
#include <string>

#include "inventory/inventory.hpp"
#include "inventory/rangeset.hpp"

namespace {
const aicloud::inventory::Inventory& fixture() {
  static const aicloud::inventory::Inventory inv = aicloud::inventory::parse_inventory(R"(version: 1
groups:
  compute: {}
  login: {}
sites:
  phx1:
    nodes:
      - {name: login1, groups: [login], labels: {role: login}}
    racks:
      a12:
        nodes:
          - {name: "gpu-a12-[01-16]", groups: [compute], labels: {sku: h100, row: "4"}}
      a13:
        nodes:
          - {name: "gpu-a13-[01-16]", groups: [compute], labels: {sku: h200, row: "4"}}
  iad2:
    racks:
      b01:
        nodes:
          - {name: "r[1-2]n[01-04]", labels: {sku: h100, state: rma}}
)",
                                                                                        "fixture.yaml");
  return inv;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aicloud::inventory::detail::set_max_fold_points(20000);
  std::string sel(reinterpret_cast<const char*>(data), size);
  try {
    auto hosts = aicloud::inventory::select_hosts(fixture(), sel);
    if (hosts.size() > fixture().hosts.size()) __builtin_trap();
  } catch (const aicloud::InputError&) {
  }
  return 0;
}
