#!/bin/sh
# A first, local-only look at provision speed (the loopback-fleet benchmark
# against ansible-playbook over SSH comes with the fleet engine): the same
# 5-task playbook file (copy, lineinfile, command with creates, file, a
# sysctl-like shell probe) run by `aicloudctl provision -c local` and by
# `ansible-playbook -c local`, first run (changes) and second run (no
# change), median of N repetitions each.
#   bench/provision_local.sh [AICLOUDCTL] [N]
set -eu
bin=${1:-build/aicloudctl}
n=${2:-5}
command -v ansible-playbook >/dev/null || { echo "needs ansible-playbook (scripts/setup --bench)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/pb.yaml" <<'YAML'
- hosts: all
  gather_facts: false
  tasks:
    - copy: content="setting=1\n" dest={{ root }}/a.conf mode=0644
    - lineinfile: path={{ root }}/b.conf line="key = 1" create=yes
    - command: touch {{ root }}/stamp creates={{ root }}/stamp
    - file: path={{ root }}/dir state=directory mode=0755
    - shell: test "$(cat {{ root }}/knob 2>/dev/null)" = 1 || { echo 1 > {{ root }}/knob; echo changed; }
      register: knob
      changed_when: "'changed' in knob.stdout"
YAML
now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run() {  # tool run-index -> prints "first second"
  root="$tmp/$1.$2"; rm -rf "$root"; mkdir -p "$root"
  for pass in 1 2; do
    t0=$(now)
    if [ "$1" = aicloudctl ]; then
      "$bin" provision -c local -q -e root="$root" "$tmp/pb.yaml" > /dev/null
    else
      ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ansible-playbook -i localhost, -c local \
        -e root="$root" "$tmp/pb.yaml" > /dev/null
    fi
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f ", b - a }'
  done
  echo
}
for tool in aicloudctl ansible; do
  : > "$tmp/$tool.times"
  i=0
  while [ $i -lt "$n" ]; do run $tool $i >> "$tmp/$tool.times"; i=$((i + 1)); done
  eval "${tool}_first=$(cut -d' ' -f1 "$tmp/$tool.times" | median)"
  eval "${tool}_second=$(cut -d' ' -f2 "$tmp/$tool.times" | median)"
done
awk -v a="$aicloudctl_first" -v b="$ansible_first" -v c="$aicloudctl_second" -v d="$ansible_second" 'BEGIN {
  printf "first run  (changes):   aicloudctl %.3f s  ansible-playbook %.3f s  ratio %.3f\n", a, b, a / b
  printf "second run (no change): aicloudctl %.3f s  ansible-playbook %.3f s  ratio %.3f\n", c, d, c / d }'
