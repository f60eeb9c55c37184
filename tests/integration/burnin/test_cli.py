#!/usr/bin/env python3
"""health/burnin through the real aicloudctl binary on a machine without a
GPU driver: every missing piece must be a clear FAIL with exit code 1 (never
a PASS), bad flags exit 2, and --json output must parse.

    test_cli.py CASE /path/to/aicloudctl      (exit 77 = skipped, with a reason)
"""
import ctypes
import json
import os
import subprocess
import sys

SKIP = 77


def have_nvml():
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
        return True
    except OSError:
        return False


def run(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=100)
    return p.returncode, p.stdout, p.stderr


def expect(cond, what, out=""):
    if not cond:
        print("FAILED:", what)
        if out:
            print(out[-4000:])
        sys.exit(1)


def cuda_build():
    rc, out, _ = run(["--version", "--json"])
    return json.loads(out).get("cuda", False)


def case_health_no_driver():
    if have_nvml():
        print("skipped: this machine has NVML (libnvidia-ml.so.1); the no-driver case cannot be shown here")
        sys.exit(SKIP)
    rc, out, err = run(["health", "--json"])
    expect(rc == 1, f"exit code 1 expected, got {rc}", out + err)
    doc = json.loads(out)
    expect(doc["schema"] == "aicloudctl.health/1", "schema")
    expect(doc["verdict"] == "FAIL", "verdict FAIL", out)
    nvml = [f for f in doc["findings"] if f["check"] == "nvml"]
    expect(nvml and nvml[0]["verdict"] == "FAIL", "an nvml FAIL finding", out)
    expect("libnvidia-ml.so.1" in nvml[0]["reason"], "the finding names libnvidia-ml.so.1", out)
    expect(nvml[0]["remediation"], "a remediation")
    expect(all(f["verdict"] in ("PASS", "WARN", "FAIL") for f in doc["findings"]), "verdict vocabulary")


def case_health_text():
    if have_nvml():
        print("skipped: this machine has NVML")
        sys.exit(SKIP)
    rc, out, err = run(["health", "--no-color"])
    expect(rc == 1, f"exit code 1 expected, got {rc}", out + err)
    expect("Verdict: FAIL" in out, "text verdict", out)
    expect("libnvidia-ml.so.1" in out, "names the library", out)
    expect("fix:" in out, "shows a remediation", out)


def case_health_bad_nvml():
    # A library that is not NVML (libc) given as the NVML override.
    rc, out, err = run(["health", "--json"], {"AICLOUDCTL_NVML": "libc.so.6"})
    expect(rc == 1, f"exit code 1 expected, got {rc}", out + err)
    doc = json.loads(out)
    nvml = [f for f in doc["findings"] if f["check"] == "nvml"]
    expect(nvml and "nvmlInit_v2" in nvml[0]["reason"], "names the missing entry point", out)


def case_burnin_no_driver():
    if have_nvml():
        print("skipped: this machine has NVML")
        sys.exit(SKIP)
    rc, out, err = run(["burnin", "--duration", "5s", "--json"])
    if not cuda_build():
        expect(rc == 1, f"exit code 1 expected, got {rc}", out + err)
        expect("built without CUDA" in err, "says it was built without CUDA", err)
        return
    expect(rc == 1, f"exit code 1 expected, got {rc}", out + err)
    doc = json.loads(out)
    expect(doc["schema"] == "aicloudctl.burnin/1", "schema")
    expect(doc["verdict"] == "FAIL", "verdict FAIL", out)
    expect(any("libnvidia-ml.so.1" in r for r in doc["reasons"]), "reason names NVML", out)
    expect(doc["gpus"] == [], "no GPU results", out)


def case_burnin_usage_errors():
    for args, needle in [
        (["burnin", "--tests", "gemm-bf17"], "did you mean 'gemm-bf16'"),
        (["burnin", "--duration", "ten minutes"], "--duration"),
        (["burnin", "--duration", "0s"], "--duration"),
        (["burnin", "--gpus", "3-1"], "--gpus"),
        (["burnin", "--stall-timeout", "soon"], "--stall-timeout"),
    ]:
        rc, out, err = run(args)
        if rc == 1 and "built without CUDA" in err:
            continue  # a build without CUDA stops before parsing the plan
        expect(rc == 2, f"{args}: exit code 2 expected, got {rc}", out + err)
        expect(needle in err, f"{args}: message mentions {needle}", err)


def case_burnin_worker_bad_spec():
    rc, out, err = run(["burnin", "--worker", "{not json"])
    expect(rc == 2, f"exit code 2 expected, got {rc}", out + err)
    line = json.loads(out.strip().splitlines()[-1])
    expect(line["event"] == "fatal" and "bad worker spec" in line["message"], "a fatal protocol line", out)


def case_burnin_help():
    rc, out, err = run(["burnin", "--help"])
    expect(rc == 0, "help exits 0", out + err)
    for word in ["--duration", "--gpus", "--tests", "gemm-fp8", "Exit status"]:
        expect(word in out, f"help mentions {word}", out)
    expect("--worker" not in out, "the worker flag is hidden", out)


if __name__ == "__main__":
    CASE, BIN = sys.argv[1], sys.argv[2]
    globals()["case_" + CASE]()
    print("ok")
