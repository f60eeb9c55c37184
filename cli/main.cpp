// aicloudctl's entry point: global flags, the subcommand table, and the one
// place where errors become exit codes (docs/exit-codes.md). Everything a
// subcommand does lives in a library; cli/ only wires flags.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/exit_codes.hpp"
#include "common/heap.hpp"
#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "common/term.hpp"
#include "common/version.hpp"

namespace aicloud::cli {

namespace {

// The subcommand table (after ninja's kTools): what each needs before it can
// run is stated here so that --help and the docs read the same way.
struct Subcommand {
  const char* name;
  const char* summary;
  const char* needs;  // "flags", "inventory", "inventory+ssh", "gpu", "report"
  void (*setup)(CLI::App&, Context&);
};

const Subcommand k_subcommands[] = {
    {"nodeset", "Expand, fold and count node sets (ClusterShell syntax)", "flags", setup_nodeset},
    {"inventory", "Validate, list and inspect rack inventories", "inventory", setup_inventory},
    {"exec", "Run a command on every selected host over SSH", "inventory+ssh", setup_exec},
    {"hostkeys", "Scan, list and forget SSH host keys of an inventory", "inventory+ssh", setup_hostkeys},
    {"provision", "Run a playbook on the selected hosts", "inventory+ssh", setup_provision},
    {"health", "GPU health preflight on this node (NVML, XID)", "gpu", setup_health},
    {"burnin", "GPU burn-in on this node: GEMM, memory, bandwidth", "gpu", setup_burnin},
    {"nccl", "NCCL bandwidth benchmarks in a node or across a rack", "gpu (+inventory+ssh)", setup_nccl},
    {"certify", "Certify a rack for tenant sale and write the report", "inventory+ssh+gpu", setup_certify},
    {"report", "Show, diff, sign and verify certification reports", "report", setup_report},
};

const char* k_exit_codes_help =
    "Exit codes:\n"
    "  0    all ok (every host and check succeeded, verdict PASS)\n"
    "  1    some host or check failed, or the verdict is FAIL\n"
    "  2    invalid invocation or input; nothing was run\n"
    "  4    some host unreachable (refused, timed out, auth or host key failure)\n"
    "  5    both 1 and 4\n"
    "  130  interrupted (Ctrl-C); partial results were written\n";

// Collects the option names of a parsed sub-app chain, for did-you-mean.
void collect_names(const CLI::App* app, std::vector<std::string>& flags, std::vector<std::string>& subs) {
  for (const CLI::Option* opt : app->get_options()) {
    for (const auto& l : opt->get_lnames()) flags.push_back("--" + l);
    for (const auto& s : opt->get_snames()) flags.push_back("-" + s);
  }
  for (const CLI::App* sub : app->get_subcommands({})) subs.push_back(sub->get_name());
}

const CLI::App* deepest_parsed(const CLI::App* app) {
  for (const CLI::App* sub : app->get_subcommands()) return deepest_parsed(sub);
  return app;
}

// Turns CLI11's "argument was not expected" into a hint naming the closest
// flag or subcommand.
std::string hint_for_extras(const CLI::App& root, const std::vector<std::string>& extras) {
  std::vector<std::string> flags, subs;
  for (const CLI::App* a = deepest_parsed(&root); a; a = a->get_parent()) collect_names(a, flags, subs);
  for (const auto& extra : extras) {
    std::string word = extra.substr(0, extra.find('='));
    auto guess = did_you_mean(word, starts_with(word, "-") ? flags : subs);
    if (guess) return " (did you mean '" + *guess + "'?)";
  }
  return "";
}

}  // namespace

void set_examples(CLI::App& app, const std::string& examples) { app.footer("Examples:\n" + examples); }

int run_main(int argc, char** argv) {
  Context ctx;
  CLI::App app{"aicloudctl: inventory, provision, burn in and certify GPU racks for sale"};
  app.name("aicloudctl");
  app.fallthrough();
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and exit");
  app.add_flag("--json", ctx.json, "Machine-readable output (JSON) on stdout");
  app.add_flag("-q,--quiet", ctx.quiet, "Only errors and results; no progress");
  app.add_flag("-v,--verbose", ctx.verbose, "More detail (repeat for more)");
  app.add_flag("--no-color", ctx.no_color, "No colour (also: NO_COLOR=1)");
  std::string table = "Commands:\n";
  for (const auto& sc : k_subcommands) {
    CLI::App* sub = app.add_subcommand(sc.name, sc.summary);
    sub->fallthrough();
    sc.setup(*sub, ctx);
  }
  app.footer(std::string(
                 "Examples:\n"
                 "  aicloudctl nodeset expand 'gpu-a12-[01-16]'\n"
                 "  aicloudctl inventory validate racks/phx1.yaml\n"
                 "  aicloudctl exec -i racks/phx1.yaml --limit rack=a12 -- nvidia-smi -L\n"
                 "  aicloudctl provision -i racks/phx1.yaml playbooks/gpu-node-prep.yaml\n"
                 "  aicloudctl certify -i racks/phx1.yaml --profile h100-sxm-8gpu -o a12.json\n\n") +
             k_exit_codes_help + "\nRun 'aicloudctl COMMAND --help' for a command's flags and examples.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return k_exit_ok;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return k_exit_ok;
  } catch (const CLI::ExtrasError& e) {
    configure_terminal(false, 0, true);
    std::vector<std::string> extras;
    for (int i = 1; i < argc; ++i) extras.push_back(argv[i]);
    // Only the words CLI11 complained about: recompute from remaining().
    std::vector<std::string> rem = app.remaining();
    const CLI::App* deep = deepest_parsed(&app);
    if (deep != &app) {
      auto r2 = deep->remaining();
      rem.insert(rem.end(), r2.begin(), r2.end());
    }
    print_error(std::string(e.what()) + hint_for_extras(app, rem.empty() ? extras : rem));
    std::fprintf(stderr, "Run 'aicloudctl --help' for usage.\n");
    return k_exit_invalid;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      // --help on a subcommand arrives here as a CallForHelp thrown inside.
      return app.exit(e);
    }
    configure_terminal(false, 0, true);
    print_error(e.what());
    std::fprintf(stderr, "Run 'aicloudctl --help' for usage.\n");
    return k_exit_invalid;
  }

  configure_terminal(ctx.json, ctx.quiet ? -1 : ctx.verbose, ctx.no_color);
  if (show_version) {
    if (ctx.json)
      std::cout << "{\"tool\":\"aicloudctl\",\"version\":\"" << tool_version() << "\",\"cuda\":"
                << (built_with_cuda() ? "true" : "false") << "}\n";
    else
      std::cout << tool_version_long() << "\n";
    return k_exit_ok;
  }
  if (!ctx.action) {
    const CLI::App* deep = deepest_parsed(&app);
    std::cout << deep->help();
    return deep == &app ? k_exit_invalid : k_exit_invalid;
  }
  install_interrupt_handler();
  try {
    int rc = ctx.action();
    clear_progress();
    std::cout.flush();
    return rc;
  } catch (const InputError& e) {
    clear_progress();
    for (const auto& d : e.diagnostics()) std::fprintf(stderr, "%s\n", format_diagnostic(d).c_str());
    print_error(e.diagnostics().size() == 1 ? "invalid input"
                                            : std::to_string(e.diagnostics().size()) + " problems in the input");
    return k_exit_invalid;
  } catch (const UsageError& e) {
    clear_progress();
    print_error(e.what());
    return k_exit_invalid;
  } catch (const Error& e) {
    clear_progress();
    print_error(e.what());
    return k_exit_failed;
  } catch (const std::exception& e) {
    clear_progress();
    print_error(std::string("internal error: ") + e.what());
    return k_exit_failed;
  }
}

}  // namespace aicloud::cli

int main(int argc, char** argv) {
  aicloud::prefer_large_heap_pages();
  ::signal(SIGPIPE, SIG_IGN);
  return aicloud::cli::run_main(argc, argv);
}
