#include "burnin/verdict.hpp"

#include <algorithm>

namespace aicloud::burnin {

namespace {
int rank(Verdict v) {
  switch (v) {
    case Verdict::waived: return 0;
    case Verdict::pass: return 1;
    case Verdict::warn: return 2;
    case Verdict::incomplete: return 3;
    case Verdict::fail: return 4;
  }
  return 4;
}
}  // namespace

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::waived: return "WAIVED";
    case Verdict::warn: return "WARN";
    case Verdict::incomplete: return "INCOMPLETE";
    case Verdict::fail: return "FAIL";
  }
  return "FAIL";
}

Verdict worst(Verdict a, Verdict b) { return rank(a) >= rank(b) ? a : b; }

int exit_code_for(Verdict v) { return (v == Verdict::fail || v == Verdict::incomplete) ? 1 : 0; }

void Judgement::add(Verdict v, std::string reason, std::string fix) {
  verdict = worst(verdict, v);
  if (!reason.empty()) reasons.push_back(std::move(reason));
  if (!fix.empty() && std::find(remediation.begin(), remediation.end(), fix) == remediation.end())
    remediation.push_back(std::move(fix));
}

void Judgement::merge(const Judgement& other) {
  verdict = worst(verdict, other.verdict);
  reasons.insert(reasons.end(), other.reasons.begin(), other.reasons.end());
  for (const auto& f : other.remediation)
    if (std::find(remediation.begin(), remediation.end(), f) == remediation.end()) remediation.push_back(f);
}

}  // namespace aicloud::burnin
