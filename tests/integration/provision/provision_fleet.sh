#!/bin/sh
# provision over SSH against the loopback fleet (scripts/fleet, CTest
# fixture `fleet`): modules on real sshd hosts, --check changes nothing on
# disk, a second run changes nothing, unreachable and failing hosts are
# recorded while the others finish, ignore_errors, --limit @failed, and a
# malformed playbook refused before anything runs.
#   provision_fleet.sh PATH/TO/aicloudctl     (AICLOUD_FLEET_DIR set by CTest)
# Every host of the fleet is this machine, so remote paths carry
# {{ inventory_hostname }} to keep hosts apart.
set -eu
bin=$1
tag=provision; . "$(dirname "$0")/fleet_lib.sh"
OK3='ok-[001-003]'

# 1. Every file/command module on three hosts, for real.
mkdir -p "$tmp/files"
printf 'pushed from the controller\n' > "$tmp/files/payload.txt"
cat > "$tmp/files/motd.j2" <<'J2'
host {{ inventory_hostname }} ({{ ansible_system }})
{% for n in numbers %}n={{ n }}
{% endfor %}
J2
cat > "$tmp/modules.yaml" <<YAML
- name: modules over ssh
  hosts: all
  gather_facts: true
  vars:
    root: "$R/{{ inventory_hostname }}"
    numbers: [1, 2]
  tasks:
    - file: path={{ root }}/etc state=directory mode=0750
    - copy: content="key={{ inventory_hostname }}\n" dest={{ root }}/etc/app.conf mode=0640
    - copy: src=$tmp/files/payload.txt dest={{ root }}/payload.txt
    - template: src=$tmp/files/motd.j2 dest={{ root }}/motd mode=0600
    - lineinfile: path={{ root }}/etc/other.conf regexp='^level=' line='level=3' create=yes
    - command: touch {{ root }}/stamp creates={{ root }}/stamp
    - shell: rm -f {{ root }}/old.txt removes={{ root }}/old.txt
    - file: path={{ root }}/link src={{ root }}/payload.txt state=link force=yes
    - file: path={{ root }}/gone state=absent
    - fetch: src={{ root }}/etc/app.conf dest=$tmp/fetched/
    - wait_for: path={{ root }}/stamp timeout=10
    - assert:
        that:
          - ansible_kernel | length > 0
          - ansible_processor_vcpus | int > 0
          - inventory_hostname in groups['all']
YAML
# --check first: nothing may appear on disk.
prov --limit "$OK3" --check --json "$tmp/modules.yaml" > "$tmp/check.json" || fail "check run: $(why "$tmp/check.json")"
[ ! -e "$R" ] || fail "--check created $(find "$R" | head -5)"
for h in ok-001 ok-002 ok-003; do
  [ "$(json "$tmp/check.json" "d['recap']['$h']['status']")" = changed ] || fail "check recap $h: $(json "$tmp/check.json" "d['recap']['$h']")"
done
prov --limit "$OK3" --json -f 2 "$tmp/modules.yaml" > "$tmp/first.json" || fail "first run: $(why "$tmp/first.json")"
for h in ok-001 ok-002 ok-003; do
  d="$R/$h"
  [ "$(cat "$d/etc/app.conf")" = "key=$h" ] || fail "$h app.conf: $(cat "$d/etc/app.conf")"
  [ "$(cat "$d/etc/other.conf")" = "level=3" ] || fail "$h other.conf: $(cat "$d/etc/other.conf")"
  [ "$(stat -c %a "$d/etc")" = 750 ] || fail "$h etc mode"
  [ "$(stat -c %a "$d/etc/app.conf")" = 640 ] || fail "$h app.conf mode"
  [ "$(stat -c %U "$d/etc/app.conf")" = "$AICLOUD_FLEET_USER" ] || fail "$h app.conf owner (ran as the fleet user?)"
  cmp -s "$tmp/files/payload.txt" "$d/payload.txt" || fail "$h payload"
  [ "$(cat "$d/motd")" = "host $h (Linux)
n=1
n=2" ] || fail "$h motd: $(cat "$d/motd")"
  [ "$(readlink "$d/link")" = "$d/payload.txt" ] || fail "$h link"
  [ -f "$d/stamp" ] || fail "$h stamp"
  cmp -s "$d/etc/app.conf" "$tmp/fetched/$h$d/etc/app.conf" || fail "$h fetch: $(find "$tmp/fetched" | head)"
  # 13 tasks (facts included), all ok; 8 change state (file, copy x2, template,
  # lineinfile, command creates, link, fetch).
  [ "$(json "$tmp/first.json" "d['recap']['$h']['changed']")" = 8 ] || fail "first run $h: $(json "$tmp/first.json" "d['recap']['$h']")"
  json "$tmp/first.json" "d['recap']['$h']['host_key_sha256']" | grep -q '^SHA256:' || fail "no host key in the recap"
done
# shell removes: the file exists now, so the task runs once.
for h in ok-001 ok-002 ok-003; do touch "$R/$h/old.txt"; done
chown -R "$AICLOUD_FLEET_USER" "$R" 2>/dev/null || true
prov --limit "$OK3" --json "$tmp/modules.yaml" > "$tmp/removes.json" || fail "removes run"
for h in ok-001 ok-002 ok-003; do
  [ ! -e "$R/$h/old.txt" ] || fail "$h: removes= did not run"
  [ "$(json "$tmp/removes.json" "d['recap']['$h']['changed']")" = 1 ] || fail "removes run $h: $(json "$tmp/removes.json" "d['recap']['$h']")"
done
# Second identical run: zero changed, terminal output folds the hosts.
prov --limit "$OK3" "$tmp/modules.yaml" > "$tmp/second.txt" || fail "second run: $(cat "$tmp/second.txt")"
grep -q "TASK \[copy\]  ok: ok-\[001-003\]" "$tmp/second.txt" || fail "folded task line: $(cat "$tmp/second.txt")"
grep -q "^ok-\[001-003\] *13 *0 *0 *0 *0 *0" "$tmp/second.txt" || fail "second run recap (folded rows): $(cat "$tmp/second.txt")"

# 2. Failure paths: unreachable hosts are recorded, a failing task fails
# only its host, ignore_errors goes on, the others finish.
cat > "$tmp/fails.yaml" <<YAML
- hosts: all
  gather_facts: false
  tasks:
    - name: fails on ok-002 only
      command: test {{ inventory_hostname }} != {{ bad | default('ok-002') }}
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - name: last
      copy: content=done dest=$R/{{ inventory_hostname }}.done
YAML
set +e
prov --limit 'ok-[001-003],refused,blackhole,changedkey,authdenied' -o "$tmp/fails.json" "$tmp/fails.yaml" > "$tmp/fails.txt" 2>&1
rc=$?
set -e
[ "$rc" = 5 ] || fail "failed + unreachable: exit $rc, expected 5: $(cat "$tmp/fails.txt")"
for h in refused blackhole changedkey authdenied; do
  [ "$(json "$tmp/fails.json" "d['recap']['$h']['status']")" = unreachable ] || fail "$h: $(json "$tmp/fails.json" "d['recap']['$h']")"
done
json "$tmp/fails.json" "d['plays'][0]['tasks'][0]['results']['changedkey']['msg']" | grep -qi 'host key' || fail "changedkey reason"
[ "$(json "$tmp/fails.json" "d['recap']['ok-002']['status']")" = failed ] || fail "ok-002 should fail"
[ ! -e "$R/ok-002.done" ] || fail "ok-002 went on after its failure"
for h in ok-001 ok-003; do
  [ "$(json "$tmp/fails.json" "d['recap']['$h']['status']")" = changed ] || fail "$h: $(json "$tmp/fails.json" "d['recap']['$h']")"
  [ "$(json "$tmp/fails.json" "d['recap']['$h']['ignored']")" = 1 ] || fail "$h ignored count"
  [ "$(cat "$R/$h.done")" = done ] || fail "$h did not finish"
done
grep -q "unreachable: authdenied,blackhole,changedkey,refused" "$tmp/fails.txt" || fail "folded unreachable line: $(cat "$tmp/fails.txt")"
# Only unreachable: exit 4. Only failed: exit 1.
set +e
prov --limit refused "$tmp/fails.yaml" > /dev/null 2>&1; rc4=$?
prov --limit ok-002 "$tmp/fails.yaml" > /dev/null 2>&1; rc1=$?
set -e
[ "$rc4" = 4 ] || fail "unreachable only: exit $rc4"
[ "$rc1" = 1 ] || fail "failed only: exit $rc1"
# --limit @failed: reruns ok-002 and the unreachable hosts, not ok-001/003.
set +e
prov --limit "@failed:$tmp/fails.json" -e bad=none --json "$tmp/fails.yaml" > "$tmp/rerun.json"; rc=$?
set -e
[ "$rc" = 4 ] || fail "rerun: exit $rc (ok-002 fixed, 4 still unreachable)"
[ "$(json "$tmp/rerun.json" "sorted(d['recap'])")" = "['authdenied', 'blackhole', 'changedkey', 'ok-002', 'refused']" ] \
  || fail "rerun hosts: $(json "$tmp/rerun.json" "sorted(d['recap'])")"
[ "$(cat "$R/ok-002.done")" = done ] || fail "ok-002 not finished on rerun"

# 3. A malformed playbook is refused before anything runs: FILE:LINE:COL, exit 2.
cat > "$tmp/bad.yaml" <<YAML
- hosts: all
  tasks:
    - copy: content=x dest=$R/must-not-exist
    - lineinfile: path=/tmp/x line=y
      when: inventory_hostname ==
YAML
set +e
prov --limit "$OK3" "$tmp/bad.yaml" > /dev/null 2> "$tmp/bad.err"; rc=$?
set -e
[ "$rc" = 2 ] || fail "malformed playbook: exit $rc"
grep -q "bad.yaml:5:[0-9]*: " "$tmp/bad.err" || fail "no FILE:LINE:COL: $(cat "$tmp/bad.err")"
[ ! -e "$R/must-not-exist" ] || fail "a task ran before the playbook was refused"
echo "provision over ssh: ok"
