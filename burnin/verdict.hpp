// Verdicts shared by `health` and `burnin`: PASS, WARN, FAIL, INCOMPLETE and
// WAIVED (a check that does not apply here, e.g. P2P with one GPU or FP8 on
// an A100). A list of checks is judged by its worst member; WAIVED never
// makes anything worse, and nothing that failed to start is ever PASS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aicloud::burnin {

enum class Verdict { pass, waived, warn, incomplete, fail };

std::string to_string(Verdict v);  // "PASS", "WAIVED", "WARN", "INCOMPLETE", "FAIL"
// The worse of two verdicts: FAIL > INCOMPLETE > WARN > PASS > WAIVED.
Verdict worst(Verdict a, Verdict b);
// Exit code for an overall verdict: PASS/WARN/WAIVED 0, FAIL/INCOMPLETE 1.
int exit_code_for(Verdict v);

// A judged check: the verdict and the reasons behind every non-PASS part,
// with a suggested remediation where one is known.
struct Judgement {
  Verdict verdict = Verdict::pass;
  std::vector<std::string> reasons;
  std::vector<std::string> remediation;

  // Lowers the verdict to v (if worse) and records why.
  void add(Verdict v, std::string reason, std::string fix = "");
  void merge(const Judgement& other);
};

}  // namespace aicloud::burnin
