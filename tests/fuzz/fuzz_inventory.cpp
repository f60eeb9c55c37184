// libFuzzer target: the inventory parser (YAML tree, native and Ansible
// loaders, validation) on arbitrary bytes. The only exception allowed out
// of parse_inventory() is InputError; a crash, a sanitizer report or any
// other exception is a bug. Loaded inventories are also selected from and
// rendered, as `inventory list --json` would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "inventory/inventory.hpp"
#include "inventory/render.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aicloud;
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    inventory::Inventory inv = inventory::parse_inventory(text, "fuzz.yaml");
    for (const inventory::Host* h : inventory::select_hosts(inv, "")) {
      (void)inventory::host_show_json(*h).dump();
      (void)inventory::host_show_text(*h);
    }
    (void)inventory::hosts_table(inventory::select_hosts(inv, ""), true);
  } catch (const InputError&) {
  }
  return 0;
}
