#!/usr/bin/env bash
# timeout: 240
# The default burn-in (gemm-bf16, memtest, hbm, pcie, p2p) for
# GPU_CHECK_DURATION; the JSON report goes to burnin.json, the text to the log.
set -u
"$AICLOUDCTL" burnin --duration "$GPU_CHECK_DURATION" --stall-timeout 90s -o "$OUTDIR/burnin.json" --no-color
rc=$?
echo "burnin exit code: $rc (0 PASS/WARN, 1 FAIL/INCOMPLETE)"
[ -s "$OUTDIR/burnin.json" ] || exit 1
exit 0
