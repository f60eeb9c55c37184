#!/usr/bin/env python3
"""PyTorch reference figures on the same GPU, the peers of `aicloudctl burnin`:

  * bf16 matmul N x N x N (default 8192) on random non-zero data: TFLOP/s
    of CUDA-event timed batches after a warm-up, repeated for --seconds so
    the GPU reaches the same heat and power state as a burn-in; median,
    best, and the median of the second half (warm) are reported;
  * device-to-device copy of a 1 GiB tensor (y.copy_(x)): GB/s with bytes
    read + written counted (2 x size), exactly as burnin's HBM copy counts.

    torch_reference.py [--device 0] [--seconds 15] [--size 8192] [--out torch.json]

Writes one JSON object (stdout, or --out). Exits 1 with {"error": ...} when
torch or the GPU is unavailable.
"""
import argparse
import json
import statistics
import sys
import time


def median(xs):
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=15.0, help="matmul measurement time")
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--copy-bytes", type=int, default=1 << 30)
    ap.add_argument("--out")
    args = ap.parse_args()
    result = {"tool": "torch_reference", "size": args.size, "device_index": args.device}

    def finish(code):
        text = json.dumps(result, indent=1)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text + "\n")
        print(text)
        sys.exit(code)

    try:
        import torch
    except Exception as e:  # noqa: BLE001 - report whatever stopped the import
        result["error"] = f"cannot import torch: {e}"
        finish(1)
    result["torch"] = torch.__version__
    result["torch_cuda"] = torch.version.cuda
    if not torch.cuda.is_available():
        result["error"] = "torch.cuda.is_available() is False"
        finish(1)
    dev = torch.device("cuda", args.device)
    torch.cuda.set_device(dev)
    props = torch.cuda.get_device_properties(dev)
    result["device"] = {"name": props.name, "sm_count": props.multi_processor_count,
                        "total_bytes": props.total_memory, "capability": f"{props.major}.{props.minor}"}
    # The cuBLAS/cuBLASLt the matmul uses, for the record.
    try:
        import nvidia.cublas as ncb  # noqa: F401
        import os
        result["nvidia_cublas_dir"] = os.path.dirname(ncb.__file__) if ncb.__file__ else list(ncb.__path__)[0]
    except Exception:  # noqa: BLE001
        pass

    # --- bf16 matmul -------------------------------------------------------
    n = args.size
    a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    c = torch.empty(n, n, device=dev, dtype=torch.bfloat16)
    flops = 2.0 * n * n * n
    for _ in range(10):
        torch.matmul(a, b, out=c)
    torch.cuda.synchronize()
    batch = 20
    rates = []
    t_end = time.time() + args.seconds
    while time.time() < t_end or len(rates) < 5:
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(batch):
            torch.matmul(a, b, out=c)
        e.record()
        e.synchronize()
        sec = s.elapsed_time(e) / 1e3 / batch
        rates.append(flops / sec / 1e12)
    half = rates[len(rates) // 2:]
    result["matmul_bf16"] = {
        "m": n, "n": n, "k": n, "batches": len(rates), "batch": batch,
        "tflops_median": median(rates), "tflops_best": max(rates), "tflops_median_warm": median(half),
    }
    del a, b, c
    torch.cuda.empty_cache()

    # --- device-to-device copy --------------------------------------------
    nbytes = args.copy_bytes
    x = torch.empty(nbytes // 4, device=dev, dtype=torch.float32).uniform_(-1, 1)
    y = torch.empty_like(x)
    for _ in range(5):
        y.copy_(x)
    torch.cuda.synchronize()
    times = []
    for _ in range(50):
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        y.copy_(x)
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / 1e3)
    ok = bool(torch.equal(x, y))
    result["copy_d2d"] = {
        "bytes": nbytes, "reps": len(times), "verified": ok,
        "gbps_median": 2.0 * nbytes / median(times) / 1e9,  # read + write
        "gbps_best": 2.0 * nbytes / min(times) / 1e9,
    }
    finish(0)


if __name__ == "__main__":
    main()
