#!/usr/bin/env bash
# timeout: 100
# PyTorch reference on GPU 0: bf16 matmul 8192^3 and a 1 GiB device copy.
set -u
if [ -z "${PYTHON:-}" ]; then
  echo "python3 missing: no torch reference"
  exit 1
fi
"$PYTHON" "$ROOT/bench/burnin/torch_reference.py" --device 0 --seconds "$GPU_CHECK_TORCH_SECONDS" \
  --out "$OUTDIR/torch.json"
