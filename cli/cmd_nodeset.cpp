// aicloudctl nodeset expand|fold|count: flags only; the work is done in
// inventory/commands.cpp (ClusterShell-compatible node sets).
#include <memory>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "inventory/commands.hpp"

namespace aicloud::cli {

namespace {

struct NodesetArgs {
  std::vector<std::string> patterns;
  std::string separator;
};

void add_mode(CLI::App& parent, Context& ctx, const char* name, const char* summary, inventory::NodesetMode mode,
              const std::string& examples) {
  auto args = std::make_shared<NodesetArgs>();
  CLI::App* sub = parent.add_subcommand(name, summary);
  sub->fallthrough();
  sub->add_option("patterns", args->patterns,
                  "Node sets (ClusterShell syntax; several are unioned); none or '-' reads standard input");
  if (mode == inventory::NodesetMode::expand)
    sub->add_option("-S,--separator", args->separator, "Join names with this text instead of one name a line");
  set_examples(*sub, examples);
  sub->callback([&ctx, args, mode] {
    ctx.action = [&ctx, args, mode]() -> int {
      return inventory::nodeset_command(mode, args->patterns, ctx.json, args->separator);
    };
  });
}

}  // namespace

void setup_nodeset(CLI::App& app, Context& ctx) {
  app.require_subcommand(1);
  add_mode(app, ctx, "expand", "Print every name of the node sets, one a line", inventory::NodesetMode::expand,
           "  aicloudctl nodeset expand 'gpu-a12-[01-16]'\n"
           "  aicloudctl nodeset expand 'r[1-2]n[01-04]' 'login[1-2]'\n"
           "  aicloudctl nodeset expand 'gpu-[01-32]!gpu-[05-08]'       # difference\n"
           "  aicloudctl nodeset expand 'node[01:50]' -S ' '            # Ansible range, one line\n");
  add_mode(app, ctx, "fold", "Fold names into the shortest node set (as ClusterShell's nodeset -f)",
           inventory::NodesetMode::fold,
           "  aicloudctl nodeset fold gpu-a12-01 gpu-a12-02 gpu-a12-03   # gpu-a12-[01-03]\n"
           "  aicloudctl nodeset fold 'n[1-8]&n[5-12]'                  # n[5-8]\n"
           "  cat failed-hosts.txt | aicloudctl nodeset fold\n");
  add_mode(app, ctx, "count", "Count the names of the node sets", inventory::NodesetMode::count,
           "  aicloudctl nodeset count 'gpu-a[12-13]-[01-16]'            # 32\n"
           "  aicloudctl nodeset count 'n[0-100/2]' 'm[1-3]'\n");
  set_examples(app,
               "  aicloudctl nodeset expand 'gpu-a12-[01-16]'\n"
               "  aicloudctl nodeset fold $(cat hosts.txt)\n"
               "  aicloudctl nodeset count 'r[1-4]n[01-16]!r2n[01-16]'\n\n"
               "Syntax: ranges n[1-3,7], steps n[0-10/2], zero padding n[01-16], several brackets\n"
               "r[1-2]n[1-4], operators ',' union, '!' difference, '&' intersection, '^' symmetric\n"
               "difference (left to right), Ansible n[01:50], n[1:9:2] and [a:f]. See docs/inventory.md.\n");
}

}  // namespace aicloud::cli
