#!/usr/bin/env bash
# timeout: 200
# The other GEMM types (fp16, tf32, fp32, fp64, fp8) verified exactly, each
# for at least 10 s; the report goes to burnin-dtypes.json.
set -u
"$AICLOUDCTL" burnin --duration "$GPU_CHECK_DTYPES_DURATION" --stall-timeout 90s \
  --tests gemm-fp16,gemm-tf32,gemm-fp32,gemm-fp64,gemm-fp8 -o "$OUTDIR/burnin-dtypes.json" --no-color
rc=$?
echo "burnin (GEMM types) exit code: $rc"
[ -s "$OUTDIR/burnin-dtypes.json" ] || exit 1
exit 0
