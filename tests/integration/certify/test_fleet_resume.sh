#!/usr/bin/env bash
# certify -i over the loopback SSH fleet with a stand-in node tool (recorded
# synthetic H100 outputs, deployed to the nodes like the real binary), so
# the nodes pass: Ctrl-C during the burn-in writes a valid partial fleet
# report and exits 130; --resume re-runs only what did not finish, over new
# sessions; every node then passes its own stages, but the stand-in cannot
# act as an NCCL rank, so the inter-node stage (the fleet NCCL launcher)
# fails both nodes and the rack is not certified (exit 1) - never PASS.
# Resuming with another binary is refused.
. "$(dirname "$0")/lib.sh"
[ -n "${AICLOUD_FLEET_DIR:-}" ] && [ -f "$AICLOUD_FLEET_DIR/fleet.env" ] || skip "no test fleet (run through ctest: fixture 'fleet')"
. "$AICLOUD_FLEET_DIR/fleet.env"
py=$(python_with_jsonschema)

# The stand-in logs "<command> <node address>" to a file the test can read;
# it is self-contained (the fixtures inline) since it runs as the fleet's
# user, without this environment.
log="$AICLOUD_FLEET_REMOTE_DIR/certify-standin-$$.log"
{
  echo '#!/bin/sh'
  echo "# stand-in node-side aicloudctl for tests/integration/certify/test_fleet_resume.sh"
  echo "log='$log'"
  echo 'echo "$1 $2 ${SSH_CONNECTION:-local}" | cut -d" " -f1,2,5 >> "$log"'
  echo 'case "$1" in'
  echo "  --json) echo '$("$bin" --json --version)' ;;"
  for c in health:health-pass burnin:burnin-pass nccl:nccl-intra-pass; do
    echo "  ${c%%:*})"
    [ "${c%%:*}" = burnin ] && echo '    if [ -e "$log.slow" ]; then sleep 30; fi'
    echo "    cat <<'JSON'"
    cat "$fixtures/synthetic-h100-${c#*:}.json"
    echo "JSON"
    echo "    ;;"
  done
  echo '  *) echo "stand-in: unknown command $1" >&2; exit 2 ;;'
  echo 'esac'
} > standin.sh
chmod 755 standin.sh
: > "$log"; chmod 666 "$log"
touch "$log.slow"
trap 'rm -rf "$work" "$log" "$log.slow"' EXIT
write_lab_profile
cp "$AICLOUD_FLEET_KNOWN_HOSTS" known_hosts
conn=(--known-hosts known_hosts --no-ssh-config --connect-timeout 5s)

"$bin" certify -i "$AICLOUD_FLEET_INVENTORY" --limit "ok-[001-002]" "${conn[@]}" --node-binary ./standin.sh \
  --profile site.yaml --level quick -o rack.json --junit rack.xml > run1.txt 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ "$(grep -c '^burnin' "$log")" = 2 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ "$(grep -c '^burnin' "$log")" = 2 ] || { cat run1.txt "$log"; fail "the burn-in never started on both nodes"; }
kill -INT "$pid"
run wait "$pid"
cat run1.txt
expect_rc 130 "Ctrl-C during the fleet burn-in"
validate_report rack.json
xmllint --noout rack.xml || fail "rack.xml is not well-formed XML"
contains run1.txt "certify --resume rack.json"
"$py" - rack.json <<'PY' || fail "partial report"
import json, sys
r = json.load(open(sys.argv[1]))
st = {(n["name"], s["stage"]): s for n in r["nodes"] for s in n["stages"]}
assert r["run"]["mode"] == "fleet" and r["run"]["status"] == "interrupted", r["run"]
assert r["summary"]["exit_code"] == 130 and not r["summary"]["certified"], r["summary"]
for n in ["ok-001", "ok-002"]:
    assert st[n, "health"]["outcome"] == "PASS", st[n, "health"]
    assert st[n, "deploy"]["outcome"] == "PASS" and st[n, "deploy"]["data"]["remote_path"].startswith(".cache/aicloudctl/"), st[n, "deploy"]
    assert st[n, "burnin"]["status"] == "interrupted", st[n, "burnin"]
    assert st[n, "nccl_intra"]["status"] == "pending", st[n, "nccl_intra"]
PY

# Another binary cannot finish what this one started.
run "$bin" certify --resume rack.json "${conn[@]}" > run2.txt 2>&1
expect_rc 2 "resume with another node binary"
contains run2.txt "resume with the same binary"

rm -f "$log.slow"
: > "$log"; chmod 666 "$log"
run "$bin" certify --resume rack.json "${conn[@]}" --node-binary ./standin.sh > run3.txt 2>&1
cat run3.txt
expect_rc 1 "every node passes its own stages, but the inter-node NCCL launch fails: not certified"
validate_report rack.json
contains run3.txt "resuming rack.json"
xmllint --noout rack.xml 2>/dev/null || true
# Health ran only as the recheck (once per node); burn-in and NCCL once per node.
[ "$(grep -c '^health' "$log")" = 2 ] || { cat "$log"; fail "health ran again on resume (only the recheck may)"; }
[ "$(grep -c '^burnin' "$log")" = 2 ] || { cat "$log"; fail "burnin did not run once per node on resume"; }
[ "$(grep -c '^nccl --json' "$log")" = 2 ] || { cat "$log"; fail "nccl did not run once per node"; }
# The rack stage went through the fleet NCCL launcher, which asked the
# stand-in for each node's GPUs; it does not answer the probe, so each node
# is named as failed in the launch and the rack is not certified.
[ "$(grep -c '^nccl --probe' "$log")" = 2 ] || { cat "$log"; fail "the inter-node NCCL launcher did not probe each node"; }
"$py" - rack.json <<'PY' || fail "resumed report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["run"]["status"] == "complete" and len(r["run"]["resumed_at"]) == 1, r["run"]
for n in r["nodes"]:
    assert n["verdict"] == "FAIL", (n["name"], n["verdict"], n["reasons"])
    assert all(s["outcome"] in ("PASS", "SKIPPED") for s in n["stages"]), n["stages"]
    assert any("nccl_inter.host" in json.dumps(x) for x in n["reasons"]), n["reasons"]
k = [k for k in r["racks"] if k["name"] == "r1"][0]
inter = [s for s in k["stages"] if s["stage"] == "nccl_inter"][0]
assert inter["outcome"] != "PASS", inter
assert inter["data"]["nodes"] == ["ok-001", "ok-002"], inter["data"]
assert sorted(inter["data"]["host_failures"]) == ["ok-001", "ok-002"], inter["data"]
assert "probe" in inter["data"]["host_failures"]["ok-001"], inter["data"]
assert not k["certified"], k
assert r["summary"]["exit_code"] == 1 and not r["summary"]["certified"] and r["summary"]["verdict"] == "FAIL", r["summary"]
PY
"$bin" exec -i "$AICLOUD_FLEET_INVENTORY" --limit ok-001 "${conn[@]}" -- \
  rm -f .cache/aicloudctl/aicloudctl-"$(sha256sum < standin.sh | cut -c1-16)" > /dev/null
echo "ok"
