// aicloudctl inventory validate|list|show: flags only; the work is done in
// inventory/commands.cpp.
#include <memory>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "inventory/commands.hpp"

namespace aicloud::cli {

namespace {

struct InventoryArgs {
  std::string file;
  std::string limit;
  std::string host;
};

}  // namespace

void setup_inventory(CLI::App& app, Context& ctx) {
  app.require_subcommand(1);

  auto v = std::make_shared<InventoryArgs>();
  CLI::App* validate = app.add_subcommand("validate", "Check an inventory and list every problem as FILE:LINE:COL");
  validate->fallthrough();
  validate->add_option("file", v->file, "Inventory file (native or Ansible YAML)")->required();
  set_examples(*validate,
               "  aicloudctl inventory validate racks/phx1.yaml\n"
               "  aicloudctl inventory validate --json hosts.yml | jq '.errors[].message'\n\n"
               "Exit codes: 0 valid, 2 invalid (every error is listed).\n");
  validate->callback([&ctx, v] {
    ctx.action = [&ctx, v]() -> int { return inventory::inventory_validate(v->file, ctx.json); };
  });

  auto l = std::make_shared<InventoryArgs>();
  CLI::App* list = app.add_subcommand("list", "List the hosts of an inventory, one a line");
  list->fallthrough();
  list->add_option("file", l->file, "Inventory file (native or Ansible YAML)")->required();
  list->add_option("-l,--limit", l->limit,
                   "Select hosts: node sets, @group, rack=a12, site=phx1, label=value; ',' union, '&' and, '!' not");
  set_examples(*list,
               "  aicloudctl inventory list racks/phx1.yaml\n"
               "  aicloudctl inventory list racks/phx1.yaml --limit 'rack=a12&!gpu-a12-[15-16]'\n"
               "  aicloudctl inventory list racks/phx1.yaml --limit '@compute,sku=h100' --json\n"
               "  aicloudctl inventory list hosts.yml --limit 'gpu*'           # Ansible inventory\n");
  list->callback([&ctx, l] {
    ctx.action = [&ctx, l]() -> int { return inventory::inventory_list(l->file, l->limit, ctx.json); };
  });

  auto s = std::make_shared<InventoryArgs>();
  CLI::App* show = app.add_subcommand("show", "Show one host's settings and merged vars, with where each came from");
  show->fallthrough();
  show->add_option("file", s->file, "Inventory file (native or Ansible YAML)")->required();
  show->add_option("host", s->host, "Host name")->required();
  set_examples(*show,
               "  aicloudctl inventory show racks/phx1.yaml gpu-a12-01\n"
               "  aicloudctl inventory show hosts.yml web01 --json | jq .origins\n");
  show->callback([&ctx, s] {
    ctx.action = [&ctx, s]() -> int { return inventory::inventory_show(s->file, s->host, ctx.json); };
  });

  set_examples(app,
               "  aicloudctl inventory validate racks/phx1.yaml\n"
               "  aicloudctl inventory list racks/phx1.yaml --limit rack=a12\n"
               "  aicloudctl inventory show racks/phx1.yaml gpu-a12-01\n\n"
               "Formats: the native format (docs/inventory.md) and Ansible YAML inventories, unchanged.\n");
}

}  // namespace aicloud::cli
