// aicloudctl certify: flags only; the work is done in certify/commands.cpp.
#include <memory>

#include "certify/commands.hpp"
#include "cli/command.hpp"

namespace aicloud::cli {

void setup_certify(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<certify::CertifyOptions>();
  app.add_flag("--local", o->local, "Certify this machine, without SSH (health, burn-in, NCCL inside the node)");
  app.add_option("-i,--inventory", o->inventory, "Inventory of the rack(s) to certify over SSH");
  app.add_option("--profile", o->profile,
                 "Certification profile: a shipped name (see --list-profiles) or a YAML file; "
                 "with --local the default 'auto' picks it from the GPUs found");
  app.add_option("--level", o->level, "quick (about 5 min a node), standard (about 30 min), burnin (hours); default: the profile's");
  app.add_option("--limit", o->limit, "Certify only the selected inventory hosts (node set, @group, rack=, site=)");
  app.add_option("-o,--output", o->output,
                 "Report file (JSON), rewritten atomically after every stage; '-' for stdout "
                 "(default: aicloudctl-certify-HOST-TIME.json)");
  app.add_option("--junit", o->junit, "Also write JUnit XML (one test case per node and stage) for CI");
  app.add_option("--resume", o->resume, "Continue an interrupted certification from its report, re-running only what did not finish");
  app.add_option("--replay", o->replay,
                 "Judge recorded node outputs from DIR (health.json, burnin.json, nccl.json, facts.txt) instead of running them");
  app.add_option("--node-binary", o->node_binary,
                 "The aicloudctl binary that runs the node-side commands (health, burnin, nccl); default: this one");
  app.add_flag("--list-profiles", o->list_profiles, "List the shipped profiles and exit");
  app.add_flag("--check-profile", o->check_profile, "Validate --profile (with its extends chain), print it resolved, and exit");
  set_examples(app,
               "  aicloudctl certify --local -o node.json                  # this machine, profile from its GPUs\n"
               "  aicloudctl certify --local --profile h100-sxm-8gpu --level quick --junit node.xml\n"
               "  aicloudctl certify --resume node.json                    # after Ctrl-C (exit 130)\n"
               "  aicloudctl certify --profile site-h100.yaml --check-profile\n"
               "  aicloudctl certify -i racks/phx1.yaml --limit rack=a12 --profile h100-sxm-8gpu -o a12.json\n");
  app.callback([&ctx, o] {
    ctx.action = [&ctx, o]() -> int {
      o->json = ctx.json;
      return certify::certify_command(*o);
    };
  });
}

}  // namespace aicloud::cli
