// aicloudctl report show|diff|sign|verify: flags only; the work is done in
// certify/commands.cpp.
#include <memory>

#include "certify/commands.hpp"
#include "cli/command.hpp"

namespace aicloud::cli {

void setup_report(CLI::App& app, Context& ctx) {
  app.require_subcommand(1);
  set_examples(app,
               "  aicloudctl report show a12.json\n"
               "  aicloudctl report diff a12-march.json a12.json --margin 5\n"
               "  aicloudctl report sign a12.json -k ~/.ssh/id_ed25519\n"
               "  aicloudctl report verify a12.json --allowed-signers allowed_signers -I ops@example.com\n");

  auto show_path = std::make_shared<std::string>();
  CLI::App* show = app.add_subcommand("show", "Summarise a report: rack verdict, failing checks, worst measurements");
  show->fallthrough();
  show->add_option("REPORT", *show_path, "Certification report (JSON)")->required();
  show->callback([&ctx, show_path] {
    ctx.action = [&ctx, show_path] { return certify::report_show_command(*show_path, ctx.json); };
  });

  struct DiffArgs {
    std::string before, after;
    double margin = 5;
  };
  auto d = std::make_shared<DiffArgs>();
  CLI::App* diff = app.add_subcommand("diff", "What changed between two certifications of the same rack");
  diff->fallthrough();
  diff->add_option("OLD", d->before, "The earlier report")->required();
  diff->add_option("NEW", d->after, "The later report")->required();
  diff->add_option("--margin", d->margin, "List measurements that moved by more than this many percent (default 5)");
  diff->footer("Exit code 1 when a node started failing, a rack lost its certification, or a measurement got worse by more than the margin.");
  diff->callback([&ctx, d] {
    ctx.action = [&ctx, d] { return certify::report_diff_command(d->before, d->after, d->margin, ctx.json); };
  });

  struct SignArgs {
    std::string report, key, out, hash = "sha512";
  };
  auto s = std::make_shared<SignArgs>();
  CLI::App* sign = app.add_subcommand("sign", "Sign a report with an SSH key (ssh-keygen -Y sign format, namespace aicloudctl-report)");
  sign->fallthrough();
  sign->add_option("REPORT", s->report, "Certification report (JSON)")->required();
  sign->add_option("-k,--key", s->key,
                   "SSH private key (OpenSSH or PEM, unencrypted), or a key (or .pub) held by ssh-agent")->required();
  sign->add_option("-o,--output", s->out, "Signature file (default: REPORT.sig)");
  sign->add_option("--hash", s->hash, "sha512 (default, as ssh-keygen) or sha256");
  sign->callback([&ctx, s] {
    ctx.action = [&ctx, s] { return certify::report_sign_command(s->report, s->key, s->out, s->hash, ctx.json); };
  });

  struct VerifyArgs {
    std::string report, allowed, identity, sig;
  };
  auto v = std::make_shared<VerifyArgs>();
  CLI::App* verify = app.add_subcommand("verify", "Verify a report's signature against an allowed-signers file");
  verify->fallthrough();
  verify->add_option("REPORT", v->report, "Certification report (JSON)")->required();
  verify->add_option("-f,--allowed-signers", v->allowed, "Allowed signers file (ssh-keygen(1) ALLOWED SIGNERS format)")->required();
  verify->add_option("-I,--identity", v->identity, "Principal that must have signed (default: any allowed principal)");
  verify->add_option("-s,--signature", v->sig, "Signature file (default: REPORT.sig)");
  verify->footer("Equivalent with stock OpenSSH: ssh-keygen -Y verify -f FILE -I ID -n aicloudctl-report -s REPORT.sig < REPORT");
  verify->callback([&ctx, v] {
    ctx.action = [&ctx, v] { return certify::report_verify_command(v->report, v->allowed, v->identity, v->sig, ctx.json); };
  });
}

}  // namespace aicloud::cli
