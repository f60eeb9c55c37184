#!/bin/sh
# Runs the real aicloudctl binary's provision command on this machine.
#   provision_local.sh PATH/TO/aicloudctl
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# 1. --syntax-check: shipped playbooks by name, exit 2 with FILE:LINE:COL for a broken one.
for p in gpu-node-prep deploy-aicloudctl; do "$bin" provision --syntax-check "$p" >/dev/null || fail "syntax-check $p"; done
cat > "$tmp/broken.yaml" <<'YAML'
- hosts: all
  tasks:
    - name: typo
      copyy: src=a dest=/b
    - command: "true"
      when: x ==
YAML
set +e
"$bin" provision --syntax-check "$tmp/broken.yaml" 2> "$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "broken playbook: exit $rc, expected 2"
grep -q "broken.yaml:4:7: unknown module or task keyword 'copyy' (did you mean 'copy'?)" "$tmp/err" || fail "no diagnostic: $(cat "$tmp/err")"
grep -q "broken.yaml:6:" "$tmp/err" || fail "second problem not reported"
set +e
"$bin" provision --syntax-check no-such-playbook 2>/dev/null; rc=$?
"$bin" provision -i "$tmp/no-such-inventory.yaml" gpu-node-prep 2>/dev/null; rc2=$?
set -e
[ "$rc" = 2 ] || fail "missing playbook: exit $rc"
[ "$rc2" = 2 ] || fail "missing inventory: exit $rc2"

# 2. A state playbook: first run changes, second run changes nothing, --check changes nothing.
mkdir -p "$tmp/proc/sys/vm"
echo 60 > "$tmp/proc/sys/vm/swappiness"
cat > "$tmp/state.yaml" <<YAML
- name: state
  hosts: all
  gather_facts: true
  vars: {root: "$tmp/root"}
  tasks:
    - file: path={{ root }}/etc state=directory mode=0755
    - copy: content="kernel={{ ansible_kernel }}\n" dest={{ root }}/etc/app.conf mode=0644
    - lineinfile: path={{ root }}/etc/other.conf line="key = 1" create=yes
    - command: touch {{ root }}/etc/stamp creates={{ root }}/etc/stamp
    - sysctl: name=vm.swappiness value=1 sysctl_file={{ root }}/etc/sysctl.d/90.conf _proc_sys=$tmp/proc/sys
YAML
"$bin" provision -c local --check --json "$tmp/state.yaml" > "$tmp/check.json" || fail "check run"
[ ! -e "$tmp/root" ] || fail "--check created files"
[ "$(cat "$tmp/proc/sys/vm/swappiness")" = 60 ] || fail "--check changed the sysctl"
"$bin" provision -c local --json "$tmp/state.yaml" > "$tmp/first.json" || fail "first run"
[ "$(json "$tmp/first.json" "d['recap']['localhost']['changed']")" = 5 ] || fail "first run: $(json "$tmp/first.json" "d['recap']")"
[ "$(cat "$tmp/proc/sys/vm/swappiness")" = 1 ] || fail "sysctl not set"
"$bin" provision -c local --json "$tmp/state.yaml" > "$tmp/second.json" || fail "second run"
[ "$(json "$tmp/second.json" "d['recap']['localhost']['changed']")" = 0 ] || fail "second run changed: $(json "$tmp/second.json" "d['recap']")"
"$bin" provision -c local "$tmp/state.yaml" > "$tmp/second.txt" || fail "terminal run"
grep -q "TASK \[copy\]  ok: localhost" "$tmp/second.txt" || fail "terminal output: $(cat "$tmp/second.txt")"
grep -q "^localhost *6 *0 *0 *0 *0 *0" "$tmp/second.txt" || fail "recap: $(cat "$tmp/second.txt")"

# 3. A failing host: exit 1, -o writes the result, --limit @failed reruns only failed hosts.
cat > "$tmp/fails.yaml" <<'YAML'
- hosts: all
  gather_facts: false
  tasks:
    - command: test "{{ ok | default('no') }}" = yes
YAML
set +e
"$bin" provision -c local -o "$tmp/result.json" "$tmp/fails.yaml" > /dev/null; rc=$?
set -e
[ "$rc" = 1 ] || fail "failing run: exit $rc"
[ "$(json "$tmp/result.json" "d['recap']['localhost']['status']")" = failed ] || fail "result file"
"$bin" provision -c local --limit "@failed:$tmp/result.json" -e ok=yes -o "$tmp/result2.json" "$tmp/fails.yaml" > /dev/null || fail "rerun of failed hosts"
"$bin" provision -c local --limit "@failed:$tmp/result2.json" "$tmp/fails.yaml" > "$tmp/nothing.txt" || fail "nothing to rerun"
grep -q "nothing to do" "$tmp/nothing.txt" || fail "expected nothing to do"

# 4. Shipped playbooks: gpu-node-prep in check mode (read-only here), deploy-aicloudctl for real into a folder.
"$bin" provision -c local --check gpu-node-prep > "$tmp/prep.txt" || fail "gpu-node-prep --check: $(cat "$tmp/prep.txt")"
dest="$tmp/bin/aicloudctl"
"$bin" provision -c local deploy-aicloudctl -e aicloudctl_dest="$dest" -e aicloudctl_owner="$(id -un)" \
  -e aicloudctl_group="$(id -gn)" --json > "$tmp/deploy1.json" || fail "deploy: $(json "$tmp/deploy1.json" "d['recap']")"
cmp -s "$bin" "$dest" || fail "deployed binary differs"
"$dest" --version > /dev/null || fail "deployed binary does not run"
"$bin" provision -c local deploy-aicloudctl -e aicloudctl_dest="$dest" -e aicloudctl_owner="$(id -un)" \
  -e aicloudctl_group="$(id -gn)" --json > "$tmp/deploy2.json" || fail "deploy again"
[ "$(json "$tmp/deploy2.json" "d['recap']['localhost']['changed']")" = 0 ] || fail "second deploy changed something"
echo "provision local runs: ok"
