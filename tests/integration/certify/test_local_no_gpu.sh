#!/usr/bin/env bash
# The README's quick start on a machine without an NVIDIA GPU: certify
# --local must end in a clear FAIL at the health stage that names the missing
# driver, exit 1, and leave a report that validates and a JUnit file with
# the failure.
. "$(dirname "$0")/lib.sh"
[ -e /proc/driver/nvidia/version ] && skip "this machine has an NVIDIA driver; the no-GPU flow is tested on machines without one"

run "$bin" certify --local -o local.json --junit local.xml > out.txt 2> err.txt
expect_rc 1 "certify --local without a GPU"
validate_report local.json
[ "$(jget local.json 'r["summary"]["verdict"]')" = FAIL ] || fail "verdict is not FAIL"
[ "$(jget local.json 'r["summary"]["certified"]')" = false ] || fail "certified without a GPU"
[ "$(jget local.json 'r["nodes"][0]["stages"][2]["stage"]')" = health ] || fail "stage 3 is not health"
[ "$(jget local.json 'r["nodes"][0]["stages"][2]["outcome"]')" = FAIL ] || fail "health is not FAIL"
jget local.json 'r["nodes"][0]["reasons"]' > reasons.txt
grep -Eq 'NVIDIA driver|NVML|libnvidia-ml' reasons.txt || { cat reasons.txt; fail "no reason names the missing driver or NVML"; }
# No later GPU stage ran, and each says why.
jget local.json '[s for s in r["nodes"][0]["stages"] if s["stage"] in ("conformance","recheck")]' > later.txt
contains later.txt "not run: the node failed health"
contains out.txt "FAIL - not certified"
contains out.txt "report: local.json"

xmllint --noout local.xml || fail "local.xml is not well-formed XML"
[ "$(xmllint --xpath 'count(//testcase[@name="health"]/failure)' local.xml)" = 1 ] || fail "no <failure> for health in the JUnit file"

# report show reads it back, and exits 1 for an uncertified rack.
run "$bin" report show local.json > show.txt
expect_rc 1 "report show of a failed certification"
contains show.txt "Certification of rack local: FAIL"
run "$bin" --json report show local.json > show.json
expect_rc 1
[ "$(jget show.json 'r["verdict"]')" = FAIL ] || fail "report show --json verdict"
echo "ok"
