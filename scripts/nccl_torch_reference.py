#!/usr/bin/env python3
"""The same NCCL collectives as `aicloudctl nccl`, driven through PyTorch's
torch.distributed (NCCL backend), and the comparison of the two.

  nccl_torch_reference.py run --out torch.json [--min 1M --max 1G --factor 4 ...]
  nccl_torch_reference.py compare ours.json torch.json [--abort abort.json]

`run` starts one process per GPU (torch.multiprocessing, file:// rendezvous),
uses nccl-tests' element counts for each size (as aicloudctl does), gives every
timed iteration its own output buffer (as aicloudctl does), times each
iteration with CUDA events, takes the slowest rank per iteration and reports the
median, with algbw/busbw from nccl-tests' formulas. Nothing is verified inside
the timed loop on either side.

`compare` matches rows by collective, placement and size and prints JSON with
the ratio ours/torch of algbw and busbw; "within_3pct" is |ratio - 1| <= 0.03.
The verdict looks at sizes of 64 MiB and up, where a row measures bandwidth
rather than launch latency, and leaves out single-rank all_reduce and broadcast
in place, which move no data at all.
"""
import argparse
import json
import os
import sys
import tempfile

PLAN = [("all_reduce", "in_place"), ("all_gather", "out_of_place"),
        ("reduce_scatter", "out_of_place"), ("broadcast", "in_place")]


def parse_size(s):
    s = s.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:], 1)
    return int(s[:-1] if mult > 1 else s) * mult


def coll_counts(coll, nbytes, elt, n):
    """(param, send, recv) element counts, as nccl-tests and aicloudctl."""
    count = nbytes // elt
    align = max(1, 16 // elt)
    base = (count // n) // align * align
    if coll in ("all_reduce", "broadcast", "reduce", "sendrecv"):
        return count, count, count
    if coll == "all_gather":
        return base, base, base * n
    if coll == "reduce_scatter":
        return base, base * n, base
    raise ValueError(coll)


def algbw_bytes(coll, param, elt, n):
    b = param * elt
    return b * n if coll in ("all_gather", "reduce_scatter", "alltoall") else b


def bus_factor(coll, n):
    if coll == "all_reduce":
        return 2.0 * (n - 1) / n
    if coll in ("all_gather", "reduce_scatter", "alltoall"):
        return (n - 1) / n
    return 1.0


def percentile(values, q):
    v = sorted(values)
    if not v:
        return 0.0
    pos = q / 100.0 * (len(v) - 1)
    lo, hi = int(pos), min(int(pos) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def worker(rank, world, init_file, args, out_path):
    import torch
    import torch.distributed as dist

    torch.cuda.set_device(rank)
    dev = torch.device("cuda", rank)
    kwargs = dict(backend="nccl", init_method="file://" + init_file, rank=rank, world_size=world)
    try:
        dist.init_process_group(device_id=dev, **kwargs)
    except TypeError:  # torch < 2.3
        dist.init_process_group(**kwargs)
    dtype, elt = torch.float32, 4
    sizes = []
    s = args.min
    while s <= args.max:
        sizes.append(s)
        s *= args.factor
    rows = []
    for coll, placement in PLAN:
        for nbytes in sizes:
            param, send, recv = coll_counts(coll, nbytes, elt, world)
            if param == 0:
                continue
            free, _ = torch.cuda.mem_get_info(dev)
            slice_elems = recv if placement == "out_of_place" else max(send, recv)
            slices = max(1, min(args.iters, int(0.5 * free) // max(1, slice_elems * elt)))
            inp = torch.ones(send, dtype=dtype, device=dev) if placement == "out_of_place" else None
            bufs = [torch.ones(slice_elems, dtype=dtype, device=dev) for _ in range(slices)]
            if coll == "all_reduce":
                op = lambda k: dist.all_reduce(bufs[k])
            elif coll == "broadcast":
                op = lambda k: dist.broadcast(bufs[k], src=0)
            elif coll == "all_gather":
                op = lambda k: dist.all_gather_into_tensor(bufs[k], inp)
            else:
                op = lambda k: dist.reduce_scatter_tensor(bufs[k], inp)
            for _ in range(args.warmup):
                op(0)
            torch.cuda.synchronize()
            starts = [torch.cuda.Event(enable_timing=True) for _ in range(args.iters)]
            ends = [torch.cuda.Event(enable_timing=True) for _ in range(args.iters)]
            for i in range(args.iters):
                starts[i].record()
                op(i % slices)
                ends[i].record()
            torch.cuda.synchronize()
            times = torch.tensor([a.elapsed_time(b) * 1000.0 for a, b in zip(starts, ends)],
                                 dtype=torch.float64, device=dev)
            dist.all_reduce(times, op=dist.ReduceOp.MAX)  # slowest rank per iteration
            times = times.tolist()
            med = percentile(times, 50)
            algbw = algbw_bytes(coll, param, elt, world) / 1e9 / (med * 1e-6) if med > 0 else 0.0
            rows.append({"collective": coll, "placement": placement, "size": max(send, recv) * elt,
                         "count": param, "time_us": med, "algbw_gbps": algbw,
                         "busbw_gbps": algbw * bus_factor(coll, world), "slices": slices,
                         "times_us": times})
            del inp, bufs
            torch.cuda.empty_cache()
    if rank == 0:
        nccl_version = None
        try:
            v = torch.cuda.nccl.version()
            nccl_version = ".".join(str(x) for x in v) if isinstance(v, tuple) else str(v)
        except Exception:  # noqa: BLE001 - informational only
            pass
        doc = {"tool": "torch.distributed", "torch": torch.__version__, "cuda": torch.version.cuda,
               "nccl": nccl_version, "world_size": world, "dtype": "float",
               "gpus": [torch.cuda.get_device_name(i) for i in range(world)],
               "iterations": args.iters, "warmup": args.warmup,
               "method": "per-iteration CUDA events on the current stream, own output buffer per "
                         "iteration, slowest rank per iteration, median",
               "results": rows}
        with open(out_path, "w") as f:
            json.dump(doc, f, indent=2)
    dist.barrier()
    dist.destroy_process_group()


def cmd_run(args):
    import torch
    import torch.multiprocessing as mp

    world = args.gpus or torch.cuda.device_count()
    if world < 1:
        print("nccl_torch_reference: no CUDA GPU", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="aicloudctl-torch-")
    init_file = os.path.join(tmp, "rendezvous")
    mp.spawn(worker, args=(world, init_file, args, args.out), nprocs=world, join=True)
    try:
        os.remove(init_file)
    except OSError:
        pass
    os.rmdir(tmp)
    return 0


def cmd_compare(args):
    try:
        ours = json.load(open(args.ours))
    except (OSError, ValueError) as e:
        ours = {"status": "unreadable: %s" % e}
    try:
        torch_doc = json.load(open(args.torch))
    except (OSError, ValueError) as e:
        torch_doc = {"error": "no torch.distributed results: %s" % e, "results": []}
    ref = {(r["collective"], r["placement"], r["size"]): r for r in torch_doc["results"]}
    nranks = len(ours.get("ranks", []))
    rows, verdict_rows = [], []
    for t in ours.get("tests", []):
        for row in t["results"]:
            for placement in ("out_of_place", "in_place"):
                p = row.get(placement)
                r = ref.get((t["collective"], placement, row["size"]))
                if not p or not r:
                    continue
                ratio = p["algbw_gbps"] / r["algbw_gbps"] if r["algbw_gbps"] else None
                bus_ratio = p["busbw_gbps"] / r["busbw_gbps"] if r["busbw_gbps"] else None
                no_data = nranks == 1 and t["collective"] in ("all_reduce", "broadcast") and placement == "in_place"
                counted = row["size"] >= (64 << 20) and not no_data
                entry = {"collective": t["collective"], "placement": placement, "size": row["size"],
                         "ours_time_us": p["time_us"], "torch_time_us": r["time_us"],
                         "ours_algbw_gbps": p["algbw_gbps"], "torch_algbw_gbps": r["algbw_gbps"],
                         "ours_busbw_gbps": p["busbw_gbps"], "torch_busbw_gbps": r["busbw_gbps"],
                         "algbw_ratio": ratio, "busbw_ratio": bus_ratio,
                         "within_3pct": ratio is not None and abs(ratio - 1) <= 0.03,
                         "ours_wrong": p["wrong"], "ours_checked": p.get("checked"),
                         "ours_p5_us": (p.get("stats_us") or {}).get("p5"),
                         "ours_p95_us": (p.get("stats_us") or {}).get("p95"),
                         "ours_cv": (p.get("stats_us") or {}).get("cv"),
                         "torch_p5_us": percentile(r.get("times_us", []), 5),
                         "torch_p95_us": percentile(r.get("times_us", []), 95),
                         "algorithm": p.get("algorithm"), "protocol": p.get("protocol"),
                         "counted_in_verdict": counted}
                if no_data:
                    entry["note"] = "one rank in place: NCCL moves no data, the time is launch overhead"
                rows.append(entry)
                if counted:
                    verdict_rows.append(entry)
    doc = {"ours": {"status": ours.get("status"), "exit_code": ours.get("exit_code"), "nccl": ours.get("nccl"),
                    "cuda": ours.get("cuda"), "nranks": nranks, "problems": ours.get("problems"),
                    "duration_s": ours.get("duration_s"),
                    "gpus": [r.get("gpu", {}).get("name") if r.get("gpu") else None for r in ours.get("ranks", [])]},
           "torch": {k: torch_doc.get(k) for k in ("torch", "cuda", "nccl", "world_size", "gpus", "method", "error")},
           "criterion": "algbw (and busbw) of aicloudctl within 3% of torch.distributed, sizes >= 64 MiB",
           "rows": rows,
           "verdict_rows": len(verdict_rows),
           "within_3pct": all(e["within_3pct"] for e in verdict_rows) if verdict_rows else None,
           "not_slower_than_3pct": all((e["algbw_ratio"] or 0) >= 0.97 for e in verdict_rows) if verdict_rows else None}
    if args.abort:
        try:
            a = json.load(open(args.abort))
            doc["abort_check"] = {"status": a.get("status"), "exit_code": a.get("exit_code"),
                                  "duration_s": a.get("duration_s"),
                                  "problems": [p.get("kind") for p in a.get("problems", [])],
                                  "stalled_ranks": a.get("stalled_ranks"),
                                  "ok": a.get("exit_code") == 1 and any(p.get("kind") == "timeout" for p in a.get("problems", []))}
        except (OSError, ValueError) as e:
            doc["abort_check"] = {"ok": False, "error": str(e)}
    json.dump(doc, sys.stdout, indent=2)
    print()
    print("%-15s %-13s %12s %12s %12s %7s" % ("collective", "placement", "size", "ours GB/s", "torch GB/s", "ratio"),
          file=sys.stderr)
    for e in rows:
        print("%-15s %-13s %12d %12.2f %12.2f %7s%s" % (
            e["collective"], e["placement"], e["size"], e["ours_algbw_gbps"], e["torch_algbw_gbps"],
            "%.3f" % e["algbw_ratio"] if e["algbw_ratio"] else "-", "" if e["counted_in_verdict"] else "  (not counted)"),
            file=sys.stderr)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", required=True)
    r.add_argument("--min", type=parse_size, default=parse_size("1M"))
    r.add_argument("--max", type=parse_size, default=parse_size("1G"))
    r.add_argument("--factor", type=int, default=4)
    r.add_argument("--iters", type=int, default=20)
    r.add_argument("--warmup", type=int, default=5)
    r.add_argument("--gpus", type=int, default=0)
    c = sub.add_parser("compare")
    c.add_argument("ours")
    c.add_argument("torch")
    c.add_argument("--abort")
    args = ap.parse_args()
    return cmd_run(args) if args.cmd == "run" else cmd_compare(args)


if __name__ == "__main__":
    sys.exit(main())
