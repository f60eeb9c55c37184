#include <doctest/doctest.h>

#include "burnin/verdict.hpp"

using namespace aicloud::burnin;

TEST_CASE("verdicts order FAIL > INCOMPLETE > WARN > PASS > WAIVED") {
  CHECK(worst(Verdict::pass, Verdict::fail) == Verdict::fail);
  CHECK(worst(Verdict::incomplete, Verdict::warn) == Verdict::incomplete);
  CHECK(worst(Verdict::fail, Verdict::incomplete) == Verdict::fail);
  CHECK(worst(Verdict::waived, Verdict::pass) == Verdict::pass);
  CHECK(worst(Verdict::waived, Verdict::waived) == Verdict::waived);
  CHECK(worst(Verdict::warn, Verdict::pass) == Verdict::warn);
}

TEST_CASE("only FAIL and INCOMPLETE make a non-zero exit code") {
  CHECK(exit_code_for(Verdict::pass) == 0);
  CHECK(exit_code_for(Verdict::warn) == 0);
  CHECK(exit_code_for(Verdict::waived) == 0);
  CHECK(exit_code_for(Verdict::incomplete) == 1);
  CHECK(exit_code_for(Verdict::fail) == 1);
  CHECK(to_string(Verdict::incomplete) == "INCOMPLETE");
  CHECK(to_string(Verdict::waived) == "WAIVED");
}

TEST_CASE("a judgement keeps the worst verdict and every reason, remediation once") {
  Judgement j;
  CHECK(j.verdict == Verdict::pass);
  j.add(Verdict::warn, "slow", "reseat");
  j.add(Verdict::fail, "wrong bits", "reseat");
  j.add(Verdict::warn, "warm");
  CHECK(j.verdict == Verdict::fail);
  CHECK(j.reasons.size() == 3);
  CHECK(j.remediation.size() == 1);
  Judgement k;
  k.add(Verdict::incomplete, "no memory", "stop other processes");
  j.merge(k);
  CHECK(j.verdict == Verdict::fail);
  CHECK(j.reasons.size() == 4);
  CHECK(j.remediation.size() == 2);
}
