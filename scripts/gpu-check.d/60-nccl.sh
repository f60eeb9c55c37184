#!/usr/bin/env bash
# timeout: 400
# NCCL (issue #6): scripts/gpu-check-nccl -- dry run, the single-node sweep,
# the expired-deadline abort check, and the same collectives through
# torch.distributed. The comparison (with the sweep's status and the abort
# check) goes to nccl.json; the full sweep JSON goes to the log, and the
# one-node run through the mpirun/TCP launcher path too.
set -u
lib=${AICLOUDCTL_NCCL_LIBRARY:-${AICLOUDCTL_NCCL:-}}
if [ -n "$lib" ]; then export AICLOUDCTL_NCCL_LIBRARY=$lib; fi
work=$GPU_CHECK_TMP/nccl
AICLOUDCTL=$AICLOUDCTL PYTHON=${PYTHON:-python3} "$ROOT/scripts/gpu-check-nccl" "$work"
rc=$?
if [ -s "$work/nccl-compare.json" ]; then cp "$work/nccl-compare.json" "$OUTDIR/nccl.json"; fi
echo "== nccl sweep JSON"
cat "$work/nccl.json" 2>/dev/null
echo "== nccl launcher-path JSON"
cat "$work/nccl-launcher.json" 2>/dev/null
echo "gpu-check-nccl exit code: $rc"
exit $rc
