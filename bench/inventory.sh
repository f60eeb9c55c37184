#!/usr/bin/env bash
# Benchmarks of the inventory area (figures and how to read them: bench/README.md).
#
#  1. `inventory validate` and `inventory list` (text and --json) of
#     10,000-node inventories: native with ranges, native one entry per
#     node, and Ansible YAML (with `ansible-inventory --list` on the same
#     file as the peer). Target: 0.2 s or less.
#  2. `nodeset expand` of 1,000,000 names against ClusterShell's
#     `nodeset -e` in the same run. Target: at least 10 times faster.
#  3. `nodeset fold` of 10,000 and 100,000 names (what exec output folding
#     does) against `nodeset -f`.
#
# Each command runs RUNS times (default 5); the best wall time is reported,
# because the machine may be shared. Needs build/aicloudctl (or
# AICLOUDCTL=path), python3 and, for the peers, the Debian packages
# clustershell and ansible-core (scripts/setup installs them).
#   bench/inventory.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
aic=${AICLOUDCTL:-$root/build/aicloudctl}
runs=${1:-5}
[ -x "$aic" ] || { echo "bench/inventory.sh: build first (scripts/build), or set AICLOUDCTL" >&2; exit 2; }
py=/usr/bin/python3; [ -x "$py" ] || py=python3
work=$(mktemp -d /tmp/aicloud-bench-inventory.XXXXXX)
trap 'rm -rf "$work"' EXIT

# best_of CMD...: the best wall time in seconds over $runs runs (output discarded).
best_of() {
  local best="" t0 t1 t
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$@" > /dev/null
    t1=$(date +%s%N)
    t=$(( (t1 - t0) / 1000 ))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  awk -v us="$best" 'BEGIN { printf "%.3f", us / 1e6 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }'; }
verdict() { awk -v t="$1" -v max="$2" 'BEGIN { print (t <= max) ? "ok" : "OVER" }'; }

echo "aicloudctl: $("$aic" --version | head -1)"
echo "machine:    $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), best of $runs runs"
echo

"$py" "$root/bench/gen_inventories.py" "$work"
echo "== 10,000-node inventories (target <= 0.200 s) =="
printf '%-22s %8s  %-32s %8s  %s\n' "inventory" "size" "command" "seconds" "target"
for f in native-10k.yaml native-10k-flat.yaml ansible-10k.yml; do
  size=$(du -k "$work/$f" | cut -f1)K
  n=$("$aic" inventory list "$work/$f" | wc -l)
  [ "$n" = 10000 ] || { echo "expected 10000 hosts in $f, got $n" >&2; exit 1; }
  for cmd in "validate" "list" "list --json"; do
    # shellcheck disable=SC2086
    t=$(best_of "$aic" inventory $cmd "$work/$f")
    printf '%-22s %8s  %-32s %8s  %s\n' "$f" "$size" "aicloudctl inventory $cmd" "$t" "$(verdict "$t" 0.2)"
  done
  if [ "${f%.yml}" != "$f" ] && command -v ansible-inventory > /dev/null; then
    ta=$(ANSIBLE_INVENTORY_ENABLED=yaml best_of ansible-inventory -i "$work/$f" --list)
    tl=$(best_of "$aic" inventory list --json "$work/$f")
    printf '%-22s %8s  %-32s %8s  (aicloudctl list --json is %sx faster)\n' "$f" "$size" "ansible-inventory --list" "$ta" "$(ratio "$ta" "$tl")"
  fi
done
echo

echo "== nodeset expand of 1,000,000 names (target >= 10x ClusterShell's nodeset -e) =="
printf '%-30s %10s %12s %8s\n' "pattern" "aicloudctl" "nodeset -e" "ratio"
for p in 'node[1-1000000]' 'gpu-r[0001-1000]-[0001-1000]' 'n[1-1000000/2],m[1-500000]'; do
  n=$("$aic" nodeset count "$p")
  [ "$n" = 1000000 ] || { echo "expected 1000000 names for $p, got $n" >&2; exit 1; }
  # Same names in the same order (nodeset -e separates them with spaces).
  if command -v nodeset > /dev/null; then
    cmp -s <("$aic" nodeset expand "$p") <(nodeset -e "$p" | tr ' ' '\n') || { echo "names differ for $p" >&2; exit 1; }
    tc=$(best_of nodeset -e "$p")
  else
    tc=0
  fi
  ta=$(best_of "$aic" nodeset expand "$p")
  printf '%-30s %10s %12s %7sx\n' "$p" "$ta" "$tc" "$(ratio "$tc" "$ta")"
done
echo

echo "== nodeset fold of many names (clush -b style output folding) =="
printf '%-36s %10s %12s %8s\n' "names" "aicloudctl" "nodeset -f" "ratio"
"$aic" nodeset expand 'gpu-r[001-625]-[01-16]' > "$work/names-10k.txt"
"$aic" nodeset expand 'gpu-r[001-625]-[01-16]!gpu-r[001-625]-07' > "$work/names-holes.txt"
"$aic" nodeset expand 'node[1-100000]' | awk 'NR % 7 != 3' > "$work/names-1d.txt"
for f in names-10k.txt names-holes.txt names-1d.txt; do
  if command -v nodeset > /dev/null; then
    [ "$("$aic" nodeset fold < "$work/$f")" = "$(nodeset -f < "$work/$f")" ] || { echo "fold differs for $f" >&2; exit 1; }
    tc=$(best_of sh -c "nodeset -f < '$work/$f'")
  else
    tc=0
  fi
  ta=$(best_of sh -c "'$aic' nodeset fold < '$work/$f'")
  printf '%-36s %10s %12s %7sx\n' "$f ($(wc -l < "$work/$f") names)" "$ta" "$tc" "$(ratio "$tc" "$ta")"
done
