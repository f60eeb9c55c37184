#!/usr/bin/env bash
# certify -i over the loopback SSH fleet (CTest fixture `fleet`), whose hosts
# have no GPU: every reachable node is deployed to (checksum-verified) and
# FAILs at the health stage naming the missing driver/NVML; the fault hosts
# are recorded as unreachable with the reason (connection refused; a changed
# host key under the strict policy); the rack is not certified; exit 5
# (1|4); the report validates against the schema and the JUnit file is
# XML with those failures. Then --resume re-runs only what did not finish
# (the unreachable hosts), a second certification finds the binary
# already on the nodes, and --timeout stops a node that hangs. Checks are batched into one Python run per report
# (Python starts slowly on a loaded CI machine).
. "$(dirname "$0")/lib.sh"
[ -n "${AICLOUD_FLEET_DIR:-}" ] && [ -f "$AICLOUD_FLEET_DIR/fleet.env" ] || skip "no test fleet (run through ctest: fixture 'fleet')"
[ -e /proc/driver/nvidia/version ] && skip "this machine has an NVIDIA driver; the no-GPU fleet flow is tested on machines without one"
. "$AICLOUD_FLEET_DIR/fleet.env"
py=$(python_with_jsonschema)

# check REPORT: runs the Python assertions on stdin with the report as `r`,
# `stage(node, id)` and `node(name)`; each failed check is printed.
check() {
  "$py" - "$1" "$2" <<PY || fail "checks on $1 failed (see above)"
import json, sys
r = json.load(open(sys.argv[1]))
env = json.loads(sys.argv[2])
def node(name): return [n for n in r["nodes"] if n["name"] == name][0]
def stage(name, sid): return [s for s in node(name)["stages"] if s["stage"] == sid][0]
def rack(name): return [k for k in r["racks"] if k["name"] == name][0]
bad = []
def expect(cond, what):
    if not cond: bad.append(what)
$(cat)
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
}

cp "$AICLOUD_FLEET_KNOWN_HOSTS" known_hosts  # the fleet's own file is shared: never modified
conn=(--known-hosts known_hosts --no-ssh-config --connect-timeout 5s)
sel="ok-[001-003],refused,changedkey"
run "$bin" certify -i "$AICLOUD_FLEET_INVENTORY" --limit "$sel" "${conn[@]}" \
  --profile h100-sxm-8gpu --level quick -o rack.json --junit rack.xml > out.txt 2> err.txt
cat err.txt
expect_rc 5 "3 nodes FAIL health (1) and 2 hosts unreachable (4)"
validate_report rack.json
contains out.txt "FAIL - not certified"
facts=$(printf '{"sel": "%s", "inv": "%s", "inv_sha": "%s", "bin_sha": "%s", "key": "%s"}' "$sel" \
  "$AICLOUD_FLEET_INVENTORY" "$(sha256sum < "$AICLOUD_FLEET_INVENTORY" | cut -c1-64)" \
  "$(sha256sum < "$bin" | cut -c1-64)" "$(grep -o '"host_key_sha256": "[^"]*"' "$AICLOUD_FLEET_DIR/fleet.json" | cut -d'"' -f4)")
check rack.json "$facts" <<'PY'
expect(r["run"]["mode"] == "fleet", "run.mode")
expect(r["run"]["status"] == "complete", "run.status")
expect(r["run"]["selector"] == env["sel"], "run.selector")
expect(r["inventory"]["path"] == env["inv"] and r["inventory"]["sha256"] == env["inv_sha"], "inventory path/sha256")
s = r["summary"]
expect(s["verdict"] == "FAIL" and s["certified"] is False, "summary verdict/certified")
expect(s["unreachable"] == 2 and s["exit_code"] == 5, "summary unreachable/exit_code")
expect(sorted(k["name"] for k in r["racks"]) == ["faults", "r1"], "racks")
expect(not any(k["certified"] for k in r["racks"]), "a rack is certified")
expect("fewer than 2 nodes passed" in [x for x in rack("r1")["stages"] if x["stage"] == "nccl_inter"][0]["detail"], "r1 nccl_inter reason")
for n in ["ok-001", "ok-002", "ok-003"]:
    reach, dep, health = stage(n, "reachability"), stage(n, "deploy"), stage(n, "health")
    expect(reach["outcome"] == "PASS" and reach["data"]["host_key_sha256"] == env["key"], n + " reachability + host key")
    expect(dep["outcome"] == "PASS" and dep["data"]["sha256"] == env["bin_sha"], n + " deploy checksum")
    expect(dep["data"]["remote_path"].startswith(".cache/aicloudctl/aicloudctl-"), n + " remote path")
    expect(health["outcome"] == "FAIL", n + " health is not FAIL")
    expect(health["command"] == "aicloudctl health --json", n + " health command")
    for later in ["conformance", "burnin", "nccl_intra", "recheck"]:
        expect(stage(n, later)["status"] == "skipped" and "not run: the node failed health" in stage(n, later)["detail"],
               n + " " + later + " ran after a failed health")
    expect(node(n)["verdict"] == "FAIL", n + " verdict")
    expect(any(w in x["message"] for x in node(n)["reasons"] for w in ["NVIDIA driver", "NVML", "libnvidia-ml"]),
           n + ": no reason names the missing driver or NVML")
refused, changed = stage("refused", "reachability"), stage("changedkey", "reachability")
expect(refused["status"] == "error" and "unreachable" in refused["detail"] and "refused" in refused["detail"], "refused: " + refused["detail"])
expect(refused["data"]["unreachable"] is True, "refused: data.unreachable")
expect(changed["status"] == "error" and "CHANGED" in changed["detail"], "changedkey: " + changed["detail"])
for h in ["refused", "changedkey"]:
    expect(all(stage(h, x)["status"] == "skipped" for x in ["deploy", "health", "recheck"]), h + ": a later stage ran")
    expect(node(h)["verdict"] == "INCOMPLETE", h + " verdict")
PY
xmllint --noout rack.xml || fail "rack.xml is not well-formed XML"
[ "$(xmllint --xpath 'count(//testcase[@name="health"]/failure)' rack.xml)" = 3 ] || fail "expected 3 health failures in the JUnit file"
# The binary is really on the node, where the report says, with that checksum.
"$bin" exec -i "$AICLOUD_FLEET_INVENTORY" --limit ok-001 "${conn[@]}" -- \
  sha256sum .cache/aicloudctl/aicloudctl-"$(sha256sum < "$bin" | cut -c1-16)" > remote-sha.txt
contains remote-sha.txt "$(sha256sum < "$bin" | cut -c1-64)"

# --resume: only the unreachable hosts' stages (and the rack stages) run
# again; the finished nodes keep their records.
cp rack.json first.json
run "$bin" certify --resume rack.json "${conn[@]}" > out2.txt 2> err2.txt
cat err2.txt
expect_rc 5 "resume: still unreachable"
validate_report rack.json
contains err2.txt "resuming rack.json: 16 stages to run (refused:reachability"
grep -q "ok-00.:" err2.txt && fail "resume re-ran a stage of a finished node"
check rack.json '{}' <<'PY'
first = json.load(open("first.json"))
def first_stage(name, sid): return [s for s in [n for n in first["nodes"] if n["name"] == name][0]["stages"] if s["stage"] == sid][0]
expect(stage("ok-001", "health") == first_stage("ok-001", "health"), "ok-001 health record changed")
expect(stage("ok-002", "deploy") == first_stage("ok-002", "deploy"), "ok-002 deploy record changed")
expect(stage("refused", "reachability")["status"] == "error", "refused still unreachable")
expect(len(r["run"]["resumed_at"]) == 1 and r["run"]["id"] == first["run"]["id"], "resumed_at / run id")
expect(r["summary"]["unreachable"] == 2, "summary.unreachable after resume")
PY

# A resume that would select other hosts is refused before anything connects.
run "$bin" certify --resume rack.json --limit ok-001 "${conn[@]}" > out3.txt 2> err3.txt
expect_rc 2 "resume with another --limit"
contains err3.txt "resume without --limit"

# A second certification of a node finds the binary already there.
run "$bin" certify -i "$AICLOUD_FLEET_INVENTORY" --limit ok-001 "${conn[@]}" --profile h100-sxm-8gpu -o one.json > out4.txt 2> err4.txt
expect_rc 1 "one node, no GPU"
check one.json '{}' <<'PY'
d = stage("ok-001", "deploy")
expect(d["outcome"] == "PASS" and d["data"]["copied"] is False and "already there" in d["detail"], "deploy copied again: " + d["detail"])
PY
# Deadlines: on `slow` every command hangs for 30 s; --timeout caps the
# deploy's commands, the node is recorded as timed out, and nothing hangs.
run "$bin" certify -i "$AICLOUD_FLEET_INVENTORY" --limit slow "${conn[@]}" --timeout 2s --profile h100-sxm-8gpu \
  -o slow.json > out5.txt 2> err5.txt
expect_rc 1 "a node past its deadline fails (not unreachable)"
check slow.json '{}' <<'PY'
d = stage("slow", "deploy")
expect(stage("slow", "reachability")["outcome"] == "PASS", "slow: reachability")
expect(d["status"] == "error" and "timed out" in d["detail"], "slow deploy: " + d["detail"])
expect(stage("slow", "health")["status"] == "skipped", "slow: health ran after a failed deploy")
expect(node("slow")["verdict"] == "INCOMPLETE" and r["summary"]["unreachable"] == 0, "slow: verdict/unreachable")
PY

# Leave the test user's home as we found it (each build is a new file).
"$bin" exec -i "$AICLOUD_FLEET_INVENTORY" --limit ok-001 "${conn[@]}" -- \
  rm -f .cache/aicloudctl/aicloudctl-"$(sha256sum < "$bin" | cut -c1-16)" > /dev/null
echo "ok"
