#!/usr/bin/env bash
# bench/provision.sh: a 5-task playbook (file, copy, lineinfile, command with
# creates, a sysctl-like shell probe) on a real loopback fleet, aicloudctl
# provision against ansible-playbook running the same playbook file on the
# same hosts in the same run: same user key, same known_hosts (strict), key
# exchange curve25519-sha256 for both, the same fan-out (-f/--forks), Ansible
# with pipelining on and its default ControlPersist.
#
#   bench/provision.sh [--hosts 32] [--forks 32] [--rounds 2]
#
# Each round starts from empty remote folders and measures the first run
# (everything changes) and the second run (nothing changes); the medians
# are printed with the ratios the targets are stated in (bench/README.md,
# "## provision"). Needs ansible and GNU time (scripts/setup --bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hosts=32 forks=32 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts=$2; shift 2 ;;
    --forks) forks=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench/provision.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${AICLOUDCTL:-$root/build/aicloudctl}
[ -x "$bin" ] || { echo "bench/provision.sh: build aicloudctl first (scripts/build) or set AICLOUDCTL" >&2; exit 2; }
for t in ansible-playbook /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench/provision.sh: $t missing (scripts/setup --bench)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/aicloud-bench-provision.XXXXXX)
chmod 755 "$work"
fleet_dir=$work/fleet
cleanup() {
  "$root/scripts/fleet" stop "$fleet_dir" >/dev/null 2>&1 || true
  rm -rf "$work" "${remote:-/nonexistent}"
}
trap cleanup EXIT

# shellcheck source=bench/fleet_ssh.sh
. "$root/bench/fleet_ssh.sh"
bench_fleet_start "$fleet_dir" "$hosts" "$work/ssh_config"   # one client config for every tool
remote=$remote_dir/bench-provision

python3 - "$work" "$octet" "$hosts" <<'EOF'
import sys
work, octet, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
addrs = [f"127.{octet}.{1 + i // 250}.{1 + i % 250}" for i in range(n)]
with open(f"{work}/ansible.ini", "w") as f:
    f.write("[fleet]\n" + "".join(f"ok-{i + 1:03d} ansible_host={a}\n" for i, a in enumerate(addrs)))
EOF
cat >> "$work/ansible.ini" <<EOF
[fleet:vars]
ansible_user=$user
ansible_port=$port
ansible_ssh_private_key_file=$identity
ansible_ssh_common_args=-F $work/ssh_config
ansible_python_interpreter=/usr/bin/python3
EOF
printf '[defaults]\nforks = %s\ngathering = explicit\n[ssh_connection]\npipelining = True\n' "$forks" > "$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_SSH_CONTROL_PATH_DIR=$work/cp
export ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False

# The same playbook file for both tools.
cat > "$work/bench.yaml" <<EOF
- name: bench
  hosts: all
  gather_facts: false
  vars:
    d: "$remote/{{ inventory_hostname }}"
  tasks:
    - name: folder
      file: path={{ d }} state=directory mode=0755
    - name: config file
      copy:
        content: "# managed\nkey = value\nhost = {{ inventory_hostname }}\n"
        dest: "{{ d }}/app.conf"
        mode: "0644"
    - name: one line
      lineinfile: path={{ d }}/limits.conf line="* soft memlock unlimited" create=yes
    - name: once
      command: touch {{ d }}/initialised creates={{ d }}/initialised
    - name: sysctl-like probe
      shell: cat /proc/sys/net/core/somaxconn
      register: somaxconn
      changed_when: false
      failed_when: somaxconn.stdout | int < 1
EOF

okset="ok-[001-$(printf '%03d' "$hosts")]"
ours=("$bin" provision -i "$fleet_dir/inventory.yaml" --known-hosts "$known" --ssh-config "$work/ssh_config"
  --limit "$okset" -f "$forks" -q "$work/bench.yaml")
theirs=(ansible-playbook -i "$work/ansible.ini" -f "$forks" "$work/bench.yaml")

measure() {  # NAME CMD...: appends "name wall user sys exit"
  local name=$1; shift
  local rc=0
  /usr/bin/time -f "%e %U %S" -o "$work/time.out" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  [ "$rc" = 0 ] || { echo "bench/provision.sh: $name exit $rc" >&2; tail -20 "$work/$name.out" "$work/$name.err" >&2; exit 1; }
  echo "$name $(cat "$work/time.out") $rc" >> "$work/results.txt"
}

echo "bench/provision.sh: $hosts hosts, fan-out $forks, $rounds rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Warm up (page cache, Python bytecode) and check both reach every host.
"${ours[@]}" >/dev/null || { echo "bench/provision.sh: aicloudctl failed on the fleet" >&2; exit 1; }
"${theirs[@]}" >/dev/null || { echo "bench/provision.sh: ansible-playbook failed on the fleet" >&2; exit 1; }
: > "$work/results.txt"
for r in $(seq "$rounds"); do
  rm -rf "$remote"; measure aicloudctl-first "${ours[@]}"; measure aicloudctl-second "${ours[@]}"
  rm -rf "$remote"; measure ansible-first "${theirs[@]}"; measure ansible-second "${theirs[@]}"
done
grep -q 'changed=0' "$work/ansible-second.out" || { echo "bench/provision.sh: ansible's second run changed something" >&2; exit 1; }
python3 - "$work/results.txt" "$hosts" "$forks" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = lambda name, i: statistics.median(float(r[i]) for r in rows if r[0] == name)
print(f"{sys.argv[2]} hosts, -f {sys.argv[3]}: median wall s (controller user+sys s)")
for n in ("aicloudctl-first", "ansible-first", "aicloudctl-second", "ansible-second"):
    print(f"  {n:18s} {med(n, 1):7.2f}  ({med(n, 2) + med(n, 3):.2f})")
print(f"first run:  aicloudctl/ansible = {med('aicloudctl-first', 1) / med('ansible-first', 1):.3f}  (target <= 0.2)")
print(f"second run: aicloudctl/ansible = {med('aicloudctl-second', 1) / med('ansible-second', 1):.3f}  (target <= 0.15)")
EOF
