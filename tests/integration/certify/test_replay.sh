#!/usr/bin/env bash
# Certify from recorded node outputs (--replay): the synthetic healthy H100
# node certifies (exit 0); the same node with one slow GPU does not (exit 1,
# the floor named in the report and the JUnit file); report diff between the
# two exits 1 and names what changed.
. "$(dirname "$0")/lib.sh"

make_replay good
run "$bin" certify --local --replay good --level quick -o good.json --junit good.xml > good.txt 2>&1
expect_rc 0 "healthy synthetic H100 node"
validate_report good.json
contains good.txt "PASS - CERTIFIED"
contains good.txt "--profile auto: NVIDIA H100 80GB HBM3 -> h100-sxm-8gpu"
[ "$(jget good.json 'r["nodes"][0]["name"]')" = gpu-a12-01 ] || fail "the node is not named after the recorded host"
[ "$(jget good.json 'r["run"]["mode"]')" = replay ] || fail "mode"
[ "$(jget good.json 'len(r["nodes"][0]["timeseries"]["gpus"])')" = 8 ] || fail "the 1-second series is missing"
xmllint --noout good.xml
[ "$(xmllint --xpath 'count(//failure)' good.xml)" = 0 ] || fail "failures in a passing JUnit file"

make_replay slow
"$(python_with_jsonschema)" - slow/burnin.json <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for t in b["gpus"][6]["tests"]:
    if t["name"] == "hbm":
        t["result"]["copy_gbps"] = 2411.5
json.dump(b, open(sys.argv[1], "w"))
PY
run "$bin" certify --local --replay slow --profile h100-sxm-8gpu --level quick -o slow.json --junit slow.xml > slow.txt 2>&1
expect_rc 1 "one slow GPU"
validate_report slow.json
contains slow.txt "floor.hbm_copy_gbps: GPU 6"
contains slow.txt "2411.5 GB/s is below the floor 2680 GB/s"
xmllint --noout slow.xml
[ "$(xmllint --xpath 'string(//testcase[@name="burnin"]/failure/@type)' slow.xml)" = floor.hbm_copy_gbps ] || fail "JUnit failure type"
[ "$(jget slow.json '[g["verdict"] for g in r["nodes"][0]["gpus"]].count("FAIL")')" = 1 ] || fail "exactly one GPU should FAIL"

run "$bin" report diff good.json slow.json > diff.txt
expect_rc 1 "diff with a regression"
contains diff.txt "node gpu-a12-01 started failing"
contains diff.txt "hbm_copy_gbps"
run "$bin" report diff good.json good.json > same.txt
expect_rc 0 "diff of a report with itself"

# A custom profile that extends the shipped one and lowers a single floor
# certifies the same node.
cat > lenient.yaml <<'YAML'
profile: 1
name: lab-h100
extends: h100-sxm-8gpu
floors:
  hbm_copy_gbps: 2400
YAML
run "$bin" certify --local --replay slow --profile lenient.yaml --level quick -o lenient.json > lenient.txt 2>&1
# The fleet rule still sees GPU 6 more than 5% below its 7 siblings.
expect_rc 1 "fleet rule"
contains lenient.txt "fleet.hbm_copy_gbps: GPU 6"
[ "$(jget lenient.json 'r["profile"]["sources"][0]["origin"]')" = embedded:profiles/h100-sxm-8gpu.yaml ] || fail "profile sources"
echo "ok"
