#!/usr/bin/env bash
# Ctrl-C in the middle of the burn-in: certify stops the node-side command,
# writes a valid partial report and exits 130; --resume then runs only what
# did not finish (not health again) and certifies.
. "$(dirname "$0")/lib.sh"
export STANDIN_FIXTURES=$fixtures STANDIN_LOG=$work/calls.log
tool=$src/tests/integration/certify/stand-in-node-tool.sh
# This machine has no InfiniBand: a site profile without the NIC requirement.
cat > site.yaml <<'YAML'
profile: 1
name: lab-h100-no-ib
extends: h100-sxm-8gpu
network: {ib_ports_min: 0}
YAML

STANDIN_SLOW_BURNIN=1 "$bin" certify --local --node-binary "$tool" --profile site.yaml --level quick \
  -o partial.json --junit partial.xml > run1.txt 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q burnin calls.log 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q burnin calls.log || { cat run1.txt; fail "burnin never started"; }
kill -INT "$pid"
run wait "$pid"
expect_rc 130 "Ctrl-C during burnin"
validate_report partial.json
[ "$(jget partial.json 'r["run"]["status"]')" = interrupted ] || fail "run.status"
[ "$(jget partial.json '[s["status"] for s in r["nodes"][0]["stages"] if s["stage"]=="burnin"][0]')" = interrupted ] || fail "burnin status"
[ "$(jget partial.json '[s["status"] for s in r["nodes"][0]["stages"] if s["stage"]=="health"][0]')" = done ] || fail "health status"
[ "$(jget partial.json 'r["summary"]["exit_code"]')" = 130 ] || fail "summary exit code"
xmllint --noout partial.xml
contains run1.txt "certify --resume partial.json"
# The node-side command's whole process group was stopped (a grandchild too).
sleeper=$(cat calls.log.sleep-pid)
for _ in $(seq 1 50); do kill -0 "$sleeper" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sleeper" 2>/dev/null && { kill "$sleeper"; fail "the node-side command outlived Ctrl-C"; }
: > calls.log

run "$bin" certify --resume partial.json --node-binary "$tool" --profile site.yaml > run2.txt 2>&1
expect_rc 0 "resume"
validate_report partial.json
contains run2.txt "resuming partial.json"
# The recheck runs `health` once; the health stage itself must not run again.
[ "$(grep -cx health calls.log)" = 1 ] || { cat calls.log; fail "health ran again on resume (only the recheck may)"; }
[ "$(grep -cx burnin calls.log)" = 1 ] || fail "burnin did not run exactly once on resume"
[ "$(jget partial.json 'r["summary"]["certified"]')" = true ] || fail "not certified after resume"
[ "$(jget partial.json 'len(r["run"]["resumed_at"])')" = 1 ] || fail "resumed_at"

# Resuming with another profile is refused before anything runs.
run "$bin" certify --resume partial.json --profile h100-sxm-8gpu > run3.txt 2>&1
expect_rc 2 "resume with a different profile"
contains run3.txt "was made with profile lab-h100-no-ib"
echo "ok"
