#!/usr/bin/env bash
# certify -i over the loopback SSH fleet (CTest fixture `fleet`), whose hosts
# have no GPU: every reachable node is deployed to (checksum-verified) and
# FAILs at the health stage naming the missing driver/NVML; the fault hosts
# are recorded as unreachable with the reason (connection refused; a changed
# host key under the strict policy); the rack is not certified; exit 5
# (1|4); the report validates against the schema and the JUnit file is
# XML with those failures. Then --resume re-runs only what did not finish
# (the unreachable hosts), and the node binary is not copied again.
. "$(dirname "$0")/lib.sh"
[ -n "${AICLOUD_FLEET_DIR:-}" ] && [ -f "$AICLOUD_FLEET_DIR/fleet.env" ] || skip "no test fleet (run through ctest: fixture 'fleet')"
[ -e /proc/driver/nvidia/version ] && skip "this machine has an NVIDIA driver; the no-GPU fleet flow is tested on machines without one"
. "$AICLOUD_FLEET_DIR/fleet.env"

cp "$AICLOUD_FLEET_KNOWN_HOSTS" known_hosts  # the fleet's own file is shared: never modified
conn=(--known-hosts known_hosts --no-ssh-config --connect-timeout 5s)
ok="ok-[001-003]"
run "$bin" certify -i "$AICLOUD_FLEET_INVENTORY" --limit "$ok,refused,changedkey" "${conn[@]}" \
  --profile h100-sxm-8gpu --level quick -o rack.json --junit rack.xml > out.txt 2> err.txt
cat err.txt
expect_rc 5 "3 nodes FAIL health (1) and 2 hosts unreachable (4)"
validate_report rack.json

# The run as a whole.
[ "$(jget rack.json 'r["run"]["mode"]')" = fleet ] || fail "run.mode"
[ "$(jget rack.json 'r["run"]["status"]')" = complete ] || fail "run.status"
[ "$(jget rack.json 'r["run"]["selector"]')" = "$ok,refused,changedkey" ] || fail "run.selector"
[ "$(jget rack.json 'r["inventory"]["path"]')" = "$AICLOUD_FLEET_INVENTORY" ] || fail "inventory.path"
[ "$(jget rack.json 'r["inventory"]["sha256"]')" = "$(sha256sum < "$AICLOUD_FLEET_INVENTORY" | cut -c1-64)" ] || fail "inventory.sha256"
[ "$(jget rack.json 'r["summary"]["verdict"]')" = FAIL ] || fail "verdict"
[ "$(jget rack.json 'r["summary"]["certified"]')" = false ] || fail "certified without GPUs"
[ "$(jget rack.json 'r["summary"]["unreachable"]')" = 2 ] || fail "summary.unreachable"
[ "$(jget rack.json 'r["summary"]["exit_code"]')" = 5 ] || fail "summary.exit_code"
[ "$(jget rack.json 'sorted(k["name"] for k in r["racks"])')" = '["faults", "r1"]' ] || fail "racks"
[ "$(jget rack.json '[k["certified"] for k in r["racks"]]')" = '[false, false]' ] || fail "a rack is certified"
contains out.txt "FAIL - not certified"

# stage NODE STAGE FIELD: one field of a node's stage record in rack.json.
stage() { jget rack.json "[s for s in [n for n in r['nodes'] if n['name']=='$1'][0]['stages'] if s['stage']=='$2'][0]['$3']"; }
sha=$(sha256sum < "$bin" | cut -c1-64)
for n in ok-001 ok-002 ok-003; do
  [ "$(stage $n reachability outcome)" = PASS ] || fail "$n reachability"
  [ "$(jget rack.json "[s for s in [n for n in r['nodes'] if n['name']=='$n'][0]['stages'] if s['stage']=='reachability'][0]['data']['host_key_sha256']")" = "$(jget "$AICLOUD_FLEET_DIR/fleet.json" 'r["host_key_sha256"]')" ] || fail "$n host key fingerprint"
  [ "$(stage $n deploy outcome)" = PASS ] || fail "$n deploy"
  [ "$(jget rack.json "[s for s in [n for n in r['nodes'] if n['name']=='$n'][0]['stages'] if s['stage']=='deploy'][0]['data']['sha256']")" = "$sha" ] || fail "$n deployed checksum"
  [ "$(stage $n health outcome)" = FAIL ] || fail "$n health is not FAIL"
  [ "$(stage $n conformance status)" = skipped ] || fail "$n conformance ran after a failed health"
  contains <(stage $n recheck detail) "not run: the node failed health"
  [ "$(jget rack.json "[n for n in r['nodes'] if n['name']=='$n'][0]['verdict']")" = FAIL ] || fail "$n verdict"
  jget rack.json "[n for n in r['nodes'] if n['name']=='$n'][0]['reasons']" > reasons-$n.txt
  grep -Eq 'NVIDIA driver|NVML|libnvidia-ml' reasons-$n.txt || { cat reasons-$n.txt; fail "$n: no reason names the missing driver or NVML"; }
done
# The binary is really on the nodes, where the report says, with that checksum.
remote=$(jget rack.json "[s for s in r['nodes'][0]['stages'] if s['stage']=='deploy'][0]['data']['remote_path']")
"$bin" exec -i "$AICLOUD_FLEET_INVENTORY" --limit ok-001 "${conn[@]}" -- sha256sum "$remote" > remote-sha.txt
contains remote-sha.txt "$sha"

# The fault hosts: unreachable with the reason; nothing later ran, each stage says why.
[ "$(stage refused reachability status)" = error ] || fail "refused: reachability"
contains <(stage refused reachability detail) "unreachable"
contains <(stage refused reachability detail) "refused"
[ "$(stage changedkey reachability status)" = error ] || fail "changedkey: reachability"
stage changedkey reachability detail > changedkey.txt
grep -qi "changed" changedkey.txt || { cat changedkey.txt; fail "changedkey: the reason does not say the key changed"; }
for h in refused changedkey; do
  [ "$(stage $h deploy status)" = skipped ] || fail "$h deploy ran"
  [ "$(stage $h health status)" = skipped ] || fail "$h health ran"
  [ "$(jget rack.json "[n for n in r['nodes'] if n['name']=='$h'][0]['verdict']")" = INCOMPLETE ] || fail "$h verdict"
done
# Rack r1: no node passed, so no inter-node NCCL; never PASS.
jget rack.json '[k for k in r["racks"] if k["name"]=="r1"][0]["stages"]' > r1.txt
contains r1.txt "fewer than 2 nodes passed"

xmllint --noout rack.xml || fail "rack.xml is not well-formed XML"
[ "$(xmllint --xpath 'count(//testcase[@name="health"]/failure)' rack.xml)" = 3 ] || fail "expected 3 health failures in the JUnit file"

# --resume: only the unreachable hosts' stages run again; the finished nodes
# keep their records (same start times); the binary is not pushed again.
health_started=$(stage ok-001 health started_at)
reach_started=$(stage refused reachability started_at)
sleep 1
run "$bin" certify --resume rack.json "${conn[@]}" > out2.txt 2> err2.txt
cat err2.txt
expect_rc 5 "resume: still unreachable"
validate_report rack.json
contains err2.txt "resuming rack.json"
contains err2.txt "refused:reachability"
grep -q "ok-001:health" err2.txt && fail "resume plans to re-run the finished health stage of ok-001"
[ "$(stage ok-001 health started_at)" = "$health_started" ] || fail "ok-001 health ran again"
[ "$(stage refused reachability started_at)" != "$reach_started" ] || fail "refused was not retried"
[ "$(jget rack.json 'len(r["run"]["resumed_at"])')" = 1 ] || fail "resumed_at"
[ "$(jget rack.json 'r["summary"]["unreachable"]')" = 2 ] || fail "summary.unreachable after resume"

# A resume that would select other hosts is refused before anything connects.
run "$bin" certify --resume rack.json --limit ok-001 "${conn[@]}" > out3.txt 2> err3.txt
expect_rc 2 "resume with another --limit"
contains err3.txt "resume without --limit"

# A second certification of the same nodes finds the binary already there.
run "$bin" certify -i "$AICLOUD_FLEET_INVENTORY" --limit ok-001 "${conn[@]}" --profile h100-sxm-8gpu -o one.json > out4.txt 2> err4.txt
expect_rc 1 "one node, no GPU"
validate_report one.json
[ "$(jget one.json "[s for s in r['nodes'][0]['stages'] if s['stage']=='deploy'][0]['data']['copied']")" = false ] || fail "the identical binary was copied again"
contains <(jget one.json "[s for s in r['nodes'][0]['stages'] if s['stage']=='deploy'][0]['detail']") "already there"
echo "ok"
