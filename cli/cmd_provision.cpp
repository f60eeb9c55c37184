// aicloudctl provision: flags only; the work is done in provision/command.cpp
// (and provision/ssh_transport.cpp for the inventory's hosts over SSH).
#include <iostream>

#include "cli/command.hpp"
#include "cli/fleet_flags.hpp"
#include "common/error.hpp"
#include "common/term.hpp"
#include "provision/command.hpp"
#include "inventory/nodeset.hpp"
#include "provision/ssh_transport.hpp"

namespace aicloud::cli {

void setup_provision(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<provision::ProvisionOptions>();
  auto conn = std::make_shared<fleet::ConnectionOptions>();
  app.add_option("playbook", o->playbook, "Playbook file, or the name of a shipped one (see --list-playbooks)");
  // -i --limit --known-hosts --host-key-policy --identity --ssh-config
  // --no-ssh-config --connect-timeout --timeout --keepalive -f --max-fail.
  // --limit also takes @failed:RESULT.json (hosts that failed or were
  // unreachable in an earlier -o/--json result).
  add_connection_flags(app, *conn);
  app.add_flag("--check", o->check, "Run only the probes: report what would change, change nothing");
  app.add_flag("--diff", o->diff, "Show file and sysctl changes as unified diffs");
  app.add_option("-t,--tags", o->tags, "Only tasks with these tags (comma-separated)")
      ->allow_extra_args(false);
  app.add_option("--skip-tags", o->skip_tags, "Skip tasks with these tags (comma-separated)")
      ->allow_extra_args(false);
  app.add_option("-e,--extra-vars", o->extra_vars, "NAME=VALUE, a JSON/YAML mapping, or @FILE (repeatable)")
      ->allow_extra_args(false);
  app.add_option("-c,--connection", o->connection, "local: run on this machine; ssh: the inventory's hosts")
      ->check(CLI::IsMember({"local", "ssh"}));
  app.add_flag("--syntax-check", o->syntax_check, "Validate the playbook and exit (no inventory needed)");
  app.add_flag("--list-tasks", o->list_tasks, "List the plays and tasks and exit");
  app.add_flag("--list-playbooks", o->list_playbooks, "List the playbooks shipped in the binary and exit");
  app.add_option("-o,--output", o->output, "Also write the JSON result to FILE (for --limit @failed:FILE)");
  set_examples(app,
               "  aicloudctl provision --syntax-check my-playbook.yaml\n"
               "  aicloudctl provision --list-playbooks\n"
               "  aicloudctl provision -c local --check --diff gpu-node-prep\n"
               "  aicloudctl provision -i racks/phx1.yaml --limit rack=a12 gpu-node-prep -o a12.json\n"
               "  aicloudctl provision -i racks/phx1.yaml --limit @failed:a12.json gpu-node-prep\n");
  app.callback([&ctx, o, conn] {
    ctx.action = [&ctx, o, conn]() -> int {
      o->json = ctx.json;
      o->verbosity = ctx.quiet ? -1 : ctx.verbose;
      o->inventory = conn->inventory;
      o->limit = conn->limit;
      o->forks = conn->forks;
      o->fold = [](const std::vector<std::string>& names) { return inventory::fold_nodeset(names); };
      if (auto rc = provision::provision_offline(*o, std::cout)) return *rc;
      if (!conn->max_fail.unlimited())
        throw UsageError("provision does not take --max-fail; set max_fail_percentage (or any_errors_fatal) on the play");
      if (o->connection == "local" || (o->connection.empty() && o->inventory.empty())) {
        if (!o->inventory.empty())
          throw UsageError("--connection local runs on this machine only; drop -i (per-host local runs are not supported)");
        if (o->connection.empty())
          throw UsageError("provision needs -i INVENTORY (hosts over SSH) or --connection local (this machine)");
        provision::ProvisionTargets targets;
        targets.hosts = {provision::localhost_target()};
        provision::LocalTransportFactory local;
        targets.transports = &local;
        return provision::provision_run(*o, targets, std::cout);
      }
      // The SSH engine reads the whole inventory; --limit is applied by the
      // runner (so that @failed:FILE works too).
      fleet::ConnectionOptions c = *conn;
      c.limit.clear();
      auto setup = provision::ssh_provision_setup(c);
      if (c.host_key_policy == fleet::HostKeyPolicy::off)
        print_warning("--host-key-policy off: host keys are not checked, so any machine on the path can pose as these hosts");
      auto* factory = setup->factory.get();
      setup->targets.host_keys = [factory] { return factory->host_keys(); };
      return provision::provision_run(*o, setup->targets, std::cout);
    };
  });
}

}  // namespace aicloud::cli
