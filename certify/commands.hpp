// The `certify` and `report` commands as library functions: cli/cmd_certify.cpp
// and cli/cmd_report.cpp only declare flags and call these. Each returns the
// process exit code (docs/exit-codes.md) and throws UsageError/InputError
// (exit 2) for bad invocations or input, before anything runs.
#pragma once

#include <string>

namespace aicloud::certify {

struct CertifyOptions {
  bool local = false;        // --local: this machine, no SSH
  std::string inventory;     // -i INVENTORY (fleet mode: phase 2)
  std::string profile;       // --profile NAME|FILE; empty = auto (--local only)
  std::string level;         // --level quick|standard|burnin; empty = the profile's default
  std::string limit;         // --limit SELECTOR
  std::string output;        // -o REPORT.json; empty = aicloudctl-certify-<host>-<time>.json
  std::string junit;         // --junit FILE
  std::string resume;        // --resume REPORT.json
  std::string replay;        // --replay DIR: judge recorded outputs
  std::string node_binary;   // --node-binary PATH: the aicloudctl that runs node-side commands
  bool list_profiles = false;
  bool check_profile = false;
  bool json = false;         // global --json: summary JSON on stdout
};

int certify_command(const CertifyOptions& options);

int report_show_command(const std::string& report, bool json);
int report_diff_command(const std::string& before, const std::string& after, double margin_pct, bool json);
int report_sign_command(const std::string& report, const std::string& key, const std::string& signature_out,
                        const std::string& hash, bool json);
int report_verify_command(const std::string& report, const std::string& allowed_signers, const std::string& identity,
                          const std::string& signature, bool json);

}  // namespace aicloud::certify
