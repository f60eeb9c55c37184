#!/usr/bin/env bash
# bench/exec.sh: `exec true` on a real loopback fleet, aicloudctl against
# pdsh and Ansible in the same run, all three with key exchange
# curve25519-sha256, the same fan-out and the same OpenSSH client config.
#
#   bench/exec.sh [--hosts 128] [--forks 64] [--rounds 3] [--rss-hosts 1000]
#                 [--forks-sweep "16 32 64 128 256"] [--json FILE]
#
# Measures, per tool, the median over the rounds of: wall time, controller
# CPU (user + sys of the tool and every child it waited for, from
# /usr/bin/time) and peak RSS. Then aicloudctl's peak RSS with --rss-hosts
# hosts selected (a fleet that large is started for it; 0 skips it), and
# optionally aicloudctl's wall time per --forks value. Needs pdsh, ansible
# and GNU time (scripts/setup --bench). Prints a table and the ratios the
# targets are stated in (bench/README.md, "## exec").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hosts=128 forks=64 rounds=3 rss_hosts=1000 sweep="" json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts=$2; shift 2 ;;
    --forks) forks=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --rss-hosts) rss_hosts=$2; shift 2 ;;
    --forks-sweep) sweep=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/exec.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${AICLOUDCTL:-$root/build/aicloudctl}
[ -x "$bin" ] || { echo "bench/exec.sh: build aicloudctl first (scripts/build) or set AICLOUDCTL" >&2; exit 2; }
for t in pdsh ansible /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench/exec.sh: $t missing (scripts/setup --bench)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/aicloud-bench-exec.XXXXXX)
fleet_dir=$work/fleet
cleanup() {
  "$root/scripts/fleet" stop "$fleet_dir" >/dev/null 2>&1 || true
  "$root/scripts/fleet" stop "$work/fleet-rss" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/fleet_ssh.sh
. "$root/bench/fleet_ssh.sh"
bench_fleet_start "$fleet_dir" "$hosts" "$work/ssh_config"   # one client config for every tool
last=$(( (hosts - 1) % 250 + 1 )); blocks=$(( (hosts - 1) / 250 + 1 ))

# Host lists: addresses 127.O.B.C of the healthy hosts.
python3 - "$work" "$octet" "$hosts" <<'EOF'
import sys
work, octet, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
addrs = [f"127.{octet}.{1 + i // 250}.{1 + i % 250}" for i in range(n)]
open(f"{work}/hosts.txt", "w").write("\n".join(addrs) + "\n")
with open(f"{work}/ansible.ini", "w") as f:
    f.write("[fleet]\n" + "\n".join(addrs) + "\n")
EOF
cat >> "$work/ansible.ini" <<EOF
[fleet:vars]
ansible_user=$user
ansible_port=$port
ansible_ssh_private_key_file=$identity
ansible_ssh_common_args=-F $work/ssh_config
EOF
: > "$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_SSH_CONTROL_PATH_DIR=$work/cp
export ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1
first=$(head -1 "$work/hosts.txt"); okset="ok-[$(printf '%03d' 1)-$(printf '%03d' "$hosts")]"
[ "$hosts" -ge 1000 ] && okset="ok-[0001-$(printf '%04d' "$hosts")]"

aicloudctl_cmd=("$bin" exec -i "$fleet_dir/inventory.yaml" --known-hosts "$known" --ssh-config "$work/ssh_config"
  --limit "$okset" -f "$forks" -q -- true)
pdsh_cmd=(env "PDSH_SSH_ARGS_APPEND=-F $work/ssh_config" pdsh -R ssh -f "$forks" -l "$user" -w "^$work/hosts.txt" true)
ansible_cmd=(ansible fleet -i "$work/ansible.ini" -m raw -a true -f "$forks")

# measure NAME CMD...: appends "name wall user sys maxrss_kb exit" to results
measure() {
  local name=$1; shift
  local rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$@" >/dev/null 2>"$work/$name.err" || rc=$?
  echo "$name $(cat "$work/time.out") $rc" >> "$work/results.txt"
}

echo "bench/exec.sh: $hosts hosts, fan-out $forks, $rounds rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Warm up (page cache, Python bytecode, sshd) and check every tool reaches every host.
"${aicloudctl_cmd[@]}" >/dev/null || { echo "bench/exec.sh: aicloudctl failed on the fleet" >&2; exit 1; }
"${pdsh_cmd[@]}" >/dev/null || { echo "bench/exec.sh: pdsh failed on the fleet" >&2; exit 1; }
"${ansible_cmd[@]}" >/dev/null || { echo "bench/exec.sh: ansible failed on the fleet" >&2; exit 1; }
: > "$work/results.txt"
for r in $(seq "$rounds"); do
  measure aicloudctl "${aicloudctl_cmd[@]}"
  measure pdsh "${pdsh_cmd[@]}"
  measure ansible "${ansible_cmd[@]}"
done
: > "$work/sweep.txt"
for f in $sweep; do
  for r in $(seq "$rounds"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$bin" exec -i "$fleet_dir/inventory.yaml" --known-hosts "$known" \
      --ssh-config "$work/ssh_config" --limit "$okset" -f "$f" -q -- true >/dev/null || true
    echo "$f $(cat "$work/time.out")" >> "$work/sweep.txt"
  done
done

# Peak RSS with a large selection: a fleet of rss_hosts real hosts.
: > "$work/rss.txt"
if [ "$rss_hosts" -gt 0 ]; then
  "$root/scripts/fleet" stop "$fleet_dir" >/dev/null
  "$root/scripts/fleet" start "$work/fleet-rss" --hosts "$rss_hosts" >/dev/null
  w=$(( ${#rss_hosts} > 3 ? ${#rss_hosts} : 3 ))
  big="ok-[$(printf "%0${w}d" 1)-$(printf "%0${w}d" "$rss_hosts")]"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$bin" exec -i "$work/fleet-rss/inventory.yaml" \
    --known-hosts "$work/fleet-rss/known_hosts" --ssh-config "$work/ssh_config" --limit "$big" -f "$forks" \
    -o "$work/rss.json" -q -- true >/dev/null || true
  echo "$(cat "$work/time.out") $(python3 -c "import json;print(json.load(open('$work/rss.json'))['summary']['ok'])")" > "$work/rss.txt"
fi

python3 - "$work" "$hosts" "$forks" "$rss_hosts" "${json_out:-}" <<'EOF'
import json, statistics, sys
work, hosts, forks, rss_hosts, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rows = {}
for line in open(f"{work}/results.txt"):
    name, wall, user, sys_, rss, rc = line.split()
    rows.setdefault(name, []).append((float(wall), float(user) + float(sys_), int(rss), int(rc)))
med = {n: {"wall_s": statistics.median(r[0] for r in v), "cpu_s": statistics.median(r[1] for r in v),
           "peak_rss_kb": max(r[2] for r in v), "failures": sum(1 for r in v if r[3] != 0)} for n, v in rows.items()}
for m in med.values():
    m["cpu_ms_per_host"] = 1000.0 * m["cpu_s"] / hosts
a, p, s = med["aicloudctl"], med["pdsh"], med["ansible"]
ratios = {"wall_vs_pdsh": a["wall_s"] / p["wall_s"], "wall_vs_ansible": a["wall_s"] / s["wall_s"],
          "cpu_per_host_vs_pdsh": a["cpu_s"] / p["cpu_s"]}
print(f"exec true on {hosts} loopback hosts, fan-out {forks} (median of {len(rows['pdsh'])} rounds)")
print(f"{'tool':12} {'wall s':>8} {'cpu s':>8} {'cpu ms/host':>12} {'peak RSS MB':>12} {'failed runs':>12}")
for n in ("aicloudctl", "pdsh", "ansible"):
    m = med[n]
    print(f"{n:12} {m['wall_s']:8.2f} {m['cpu_s']:8.2f} {m['cpu_ms_per_host']:12.2f} {m['peak_rss_kb']/1024:12.1f} {m['failures']:12d}")
print(f"wall vs pdsh {ratios['wall_vs_pdsh']:.2f} (target <= 0.6), wall vs ansible {ratios['wall_vs_ansible']:.2f} "
      f"(target <= 0.25), cpu/host vs pdsh {ratios['cpu_per_host_vs_pdsh']:.3f} (target <= 0.2)")
doc = {"hosts": hosts, "forks": forks, "tools": med, "ratios": ratios}
sweep = {}
for line in open(f"{work}/sweep.txt"):
    f, wall, user, sys_, rss = line.split()
    sweep.setdefault(int(f), []).append((float(wall), float(user) + float(sys_), int(rss)))
if sweep:
    print("aicloudctl --forks sweep: forks, median wall s, median cpu s, peak RSS MB")
    doc["forks_sweep"] = {}
    for f in sorted(sweep):
        v = sweep[f]
        w, c, r = statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), max(x[2] for x in v)
        doc["forks_sweep"][f] = {"wall_s": w, "cpu_s": c, "peak_rss_kb": r}
        print(f"  {f:5d} {w:8.2f} {c:8.2f} {r/1024:8.1f}")
rss = open(f"{work}/rss.txt").read().split()
if rss:
    wall, user, sys_, kb, ok = rss
    doc["rss_run"] = {"hosts": rss_hosts, "ok": int(ok), "wall_s": float(wall), "cpu_s": float(user) + float(sys_),
                      "peak_rss_kb": int(kb)}
    print(f"aicloudctl with {rss_hosts} hosts selected: peak RSS {int(kb)/1024:.1f} MB (target <= 256), "
          f"{ok} ok, wall {float(wall):.1f} s, cpu {float(user)+float(sys_):.2f} s")
if out:
    json.dump(doc, open(out, "w"), indent=2)
EOF
