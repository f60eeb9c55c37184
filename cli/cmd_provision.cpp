// aicloudctl provision: flags only; the work is done in provision/command.cpp.
#include <iostream>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "provision/command.hpp"

namespace aicloud::cli {

void setup_provision(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<provision::ProvisionOptions>();
  app.add_option("playbook", o->playbook, "Playbook file, or the name of a shipped one (see --list-playbooks)");
  app.add_option("-i,--inventory", o->inventory, "Inventory file (native or Ansible YAML)");
  app.add_option("--limit", o->limit, "Only these hosts: a selector, or @failed:RESULT.json to rerun failed hosts");
  app.add_option("-f,--forks", o->forks, "Hosts worked on at once")->capture_default_str();
  app.add_flag("--check", o->check, "Run only the probes: report what would change, change nothing");
  app.add_flag("--diff", o->diff, "Show file and sysctl changes as unified diffs");
  app.add_option("-t,--tags", o->tags, "Only tasks with these tags (comma-separated)");
  app.add_option("--skip-tags", o->skip_tags, "Skip tasks with these tags (comma-separated)");
  app.add_option("-e,--extra-vars", o->extra_vars, "NAME=VALUE, a JSON/YAML mapping, or @FILE (repeatable)");
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
  app.callback([&ctx, o] {
    ctx.action = [&ctx, o]() -> int {
      o->json = ctx.json;
      o->verbosity = ctx.quiet ? -1 : ctx.verbose;
      if (auto rc = provision::provision_offline(*o, std::cout)) return *rc;
      if (o->connection == "local" || (o->connection.empty() && o->inventory.empty())) {
        if (!o->inventory.empty())
          throw UsageError("--connection local runs on this machine only; drop -i (per-host local runs are not supported)");
        provision::ProvisionTargets targets;
        targets.hosts = {provision::localhost_target()};
        provision::LocalTransportFactory local;
        targets.transports = &local;
        if (o->connection.empty())
          throw UsageError("provision needs -i INVENTORY (hosts over SSH) or --connection local (this machine)");
        return provision::provision_run(*o, targets, std::cout);
      }
      throw UsageError("provision over SSH (-i " + o->inventory +
                       ") needs the fleet engine, which is not in this build yet; use --syntax-check, --list-tasks or "
                       "--connection local");
    };
  });
}

}  // namespace aicloud::cli
