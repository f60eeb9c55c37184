// aicloudctl hostkeys scan|list|forget: flags only; the work is done in
// fleet/hostkeys.cpp.
#include <memory>

#include "cli/command.hpp"
#include "cli/fleet_flags.hpp"
#include "fleet/hostkeys.hpp"

namespace aicloud::cli {

void setup_hostkeys(CLI::App& app, Context& ctx) {
  app.require_subcommand(1);
  auto scan_opts = std::make_shared<fleet::ConnectionOptions>();
  CLI::App* scan = app.add_subcommand("scan", "Record the host keys of hosts not yet in known_hosts and print fingerprints");
  scan->fallthrough();
  add_connection_flags(*scan, *scan_opts);
  set_examples(*scan, "  aicloudctl hostkeys scan -i racks/phx1.yaml --limit rack=a12\n");
  scan->callback([&ctx, scan_opts] { ctx.action = [&ctx, scan_opts] { return fleet::hostkeys_scan(*scan_opts, ctx.json); }; });

  auto list_opts = std::make_shared<fleet::ConnectionOptions>();
  CLI::App* list = app.add_subcommand("list", "List the keys in known_hosts (and which inventory hosts they cover)");
  list->fallthrough();
  add_inventory_flags(*list, *list_opts);
  add_ssh_config_flags(*list, *list_opts);
  set_examples(*list, "  aicloudctl hostkeys list -i racks/phx1.yaml\n  aicloudctl hostkeys list --known-hosts racks/phx1.known_hosts\n");
  list->callback([&ctx, list_opts] { ctx.action = [&ctx, list_opts] { return fleet::hostkeys_list(*list_opts, ctx.json); }; });

  auto forget_opts = std::make_shared<fleet::ConnectionOptions>();
  auto selector = std::make_shared<std::string>();
  CLI::App* forget = app.add_subcommand("forget", "Remove the keys of the selected hosts (after a re-image)");
  forget->fallthrough();
  forget->add_option("-i,--inventory", forget_opts->inventory, "Inventory file")->type_name("FILE")->required();
  forget->add_option("--known-hosts", forget_opts->known_hosts, "known_hosts file (default: beside the inventory)")
      ->type_name("FILE");
  add_ssh_config_flags(*forget, *forget_opts);
  forget->add_option("selector", *selector, "Hosts to forget (node set, @group, rack=R, ...)")->required()->type_name("SEL");
  set_examples(*forget, "  aicloudctl hostkeys forget -i racks/phx1.yaml 'gpu-a12-[03,07]'\n");
  forget->callback([&ctx, forget_opts, selector] {
    ctx.action = [&ctx, forget_opts, selector] { return fleet::hostkeys_forget(*forget_opts, *selector, ctx.json); };
  });
}

}  // namespace aicloud::cli
