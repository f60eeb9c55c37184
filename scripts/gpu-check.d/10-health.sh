#!/usr/bin/env bash
# timeout: 60
# aicloudctl health: JSON to health.json, the human report into the log.
set -u
"$AICLOUDCTL" health --json >"$OUTDIR/health.json"
rc=$?
"$AICLOUDCTL" health -v --no-color || true
echo "health exit code: $rc (0 = no FAIL)"
# A FAIL verdict is a finding about the machine, not a broken step.
[ -s "$OUTDIR/health.json" ] || exit 1
exit 0
