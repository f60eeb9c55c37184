#!/usr/bin/env python3
"""Builds gpu-check's summary.json from the step table and the JSON files
the steps wrote (health.json, burnin.json, burnin-dtypes.json, torch.json,
and any <step>.json an added step wrote).

    gpu-check-summary.py OUTDIR STEPS_TSV ENV_JSON    (prints the summary)

The figures section puts burn-in's measurements next to PyTorch's on the
same GPU and computes the performance targets of issue #5:
  gemm_bf16_ratio  burnin gemm-bf16 sustained TFLOP/s / torch.matmul bf16 8192^3  (>= 0.90)
  hbm_copy_ratio   burnin HBM copy GB/s / torch device-to-device copy GB/s         (>= 0.90)
  memtest_coverage bytes tested / free bytes per pass                              (>= 0.90)
"""
import json
import os
import sys

KNOWN = {"health.json", "burnin.json", "burnin-dtypes.json", "torch.json", "summary.json"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001
        return {"_unreadable": str(e)} if os.path.exists(path) else None


def find_test(gpu, name):
    for t in gpu.get("tests", []):
        if t.get("name") == name:
            return t
    return None


def result(gpu, name):
    t = find_test(gpu, name)
    return (t or {}).get("result") or {}


def ratio(a, b):
    try:
        return round(float(a) / float(b), 4) if a and b else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def burnin_gpus(doc):
    out = []
    for g in (doc or {}).get("gpus", []):
        entry = {"index": g.get("index"), "name": g.get("name"), "uuid": g.get("uuid"), "verdict": g.get("verdict"),
                 "reasons": g.get("reasons", [])[:10], "tests": {}}
        for t in g.get("tests", []):
            r = t.get("result") or {}
            figures = {"verdict": t.get("verdict")}
            for k in ("tflops", "tflops_gemm_only", "iterations", "wrong_results", "wrong_elements", "result_hash",
                      "algo", "m", "n", "k", "range", "error", "waived", "copy_gbps", "triad_gbps", "memcpy_gbps",
                      "peak_gbps", "coverage", "passes", "tested_bytes", "free_bytes", "bit_errors", "check_gbps",
                      "h2d_gbps", "d2h_gbps", "bidir_gbps", "gen_under_load", "width_under_load", "link_gbps",
                      "max_temp_gpu_c", "max_temp_hbm_c", "max_power_w", "mean_power_w", "mean_sm_clock_mhz",
                      "min_sm_clock_mhz", "clock_event_reasons_seen"):
                if k in r and r[k] not in ("", None):
                    figures[k] = r[k]
            if t.get("verdict") not in ("PASS", "WAIVED"):
                figures["reasons"] = t.get("reasons", [])[:5]
            entry["tests"][t.get("name")] = figures
        out.append(entry)
    return out


def main():
    outdir, steps_tsv, env_json = sys.argv[1:4]
    summary = {"schema": "aicloudctl.gpu-check/1", "env": load(env_json) or {}}
    steps = []
    with open(steps_tsv) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            name, rc, secs, timed_out = parts
            steps.append({"name": name, "exit": rc if rc == "skipped" else int(rc), "seconds": int(secs),
                          "timed_out": timed_out == "1"})
    summary["steps"] = steps
    summary["all_steps_ok"] = all(s["exit"] in (0, "skipped") for s in steps)

    health = load(os.path.join(outdir, "health.json"))
    burnin = load(os.path.join(outdir, "burnin.json"))
    dtypes = load(os.path.join(outdir, "burnin-dtypes.json"))
    torch = load(os.path.join(outdir, "torch.json"))

    if health:
        summary["health"] = {
            "verdict": health.get("verdict"),
            "versions": health.get("versions"),
            "gpus": [{"index": g.get("index"), "name": g.get("name"), "uuid": g.get("uuid"),
                      "pci_bus_id": g.get("pci_bus_id"), "vbios": g.get("vbios"), "verdict": g.get("verdict")}
                     for g in health.get("gpus", [])],
            "not_pass": [f for f in health.get("findings", []) if f.get("verdict") != "PASS"][:30],
            "xid_log": {k: health.get("xid", {}).get(k) for k in ("available", "source", "error")},
        }
    if burnin:
        summary["burnin"] = {"verdict": burnin.get("verdict"), "reasons": burnin.get("reasons", [])[:20],
                             "versions": burnin.get("versions"), "elapsed_s": burnin.get("elapsed_s"),
                             "gpus": burnin_gpus(burnin), "node_tests": burnin.get("node_tests"),
                             "xid": burnin.get("xid")}
    if dtypes:
        summary["burnin_dtypes"] = {"verdict": dtypes.get("verdict"), "reasons": dtypes.get("reasons", [])[:20],
                                    "gpus": burnin_gpus(dtypes)}
    if torch:
        summary["torch"] = torch

    # The targets, on GPU 0 (the GPU the torch reference ran on).
    fig = {}
    g0 = (burnin or {}).get("gpus", [None])[0] if (burnin or {}).get("gpus") else None
    if g0:
        gemm = result(g0, "gemm-bf16")
        hbm = result(g0, "hbm")
        mem = result(g0, "memtest")
        fig["burnin_gemm_bf16_tflops"] = gemm.get("tflops")
        fig["burnin_gemm_bf16_tflops_gemm_only"] = gemm.get("tflops_gemm_only")
        fig["burnin_gemm_bf16_shape"] = [gemm.get("m"), gemm.get("n"), gemm.get("k")]
        fig["burnin_hbm_copy_gbps"] = hbm.get("copy_gbps")
        fig["burnin_hbm_triad_gbps"] = hbm.get("triad_gbps")
        fig["burnin_hbm_memcpy_gbps"] = hbm.get("memcpy_gbps")
        fig["hbm_peak_gbps"] = hbm.get("peak_gbps")
        fig["memtest_coverage"] = mem.get("coverage")
        fig["memtest_passes"] = mem.get("passes")
    if torch and "matmul_bf16" in torch:
        fig["torch_matmul_bf16_tflops"] = torch["matmul_bf16"].get("tflops_median_warm")
        fig["torch_matmul_bf16_tflops_best"] = torch["matmul_bf16"].get("tflops_best")
    if torch and "copy_d2d" in torch:
        fig["torch_copy_gbps"] = torch["copy_d2d"].get("gbps_median")
    fig["gemm_bf16_ratio"] = ratio(fig.get("burnin_gemm_bf16_tflops"), fig.get("torch_matmul_bf16_tflops"))
    fig["gemm_bf16_ratio_gemm_only"] = ratio(fig.get("burnin_gemm_bf16_tflops_gemm_only"),
                                             fig.get("torch_matmul_bf16_tflops"))
    fig["hbm_copy_ratio"] = ratio(fig.get("burnin_hbm_copy_gbps"), fig.get("torch_copy_gbps"))
    summary["figures"] = fig
    summary["targets"] = {
        "gemm_bf16_ratio>=0.90": None if fig["gemm_bf16_ratio"] is None else fig["gemm_bf16_ratio"] >= 0.90,
        "hbm_copy_ratio>=0.90": None if fig["hbm_copy_ratio"] is None else fig["hbm_copy_ratio"] >= 0.90,
        "memtest_coverage>=0.90": None if fig.get("memtest_coverage") is None else fig["memtest_coverage"] >= 0.90,
    }

    # Any other JSON a step wrote (e.g. the NCCL benchmark's).
    extra = {}
    for name in sorted(os.listdir(outdir)):
        if name.endswith(".json") and name not in KNOWN:
            doc = load(os.path.join(outdir, name))
            size = os.path.getsize(os.path.join(outdir, name))
            if size <= 256 * 1024:
                extra[name] = doc
            elif isinstance(doc, dict):
                extra[name] = {k: v for k, v in doc.items() if not isinstance(v, (list, dict))}
    if extra:
        summary["other_steps"] = extra
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
