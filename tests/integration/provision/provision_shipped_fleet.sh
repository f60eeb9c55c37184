#!/bin/sh
# The shipped playbooks and the reboot module against the loopback fleet.
#   provision_shipped_fleet.sh PATH/TO/aicloudctl   (AICLOUD_FLEET_DIR set by CTest)
#
# deploy-aicloudctl runs for real (become through sudo -n as the fleet user):
# the binary is pushed, checksum-verified and run on two hosts; a second run
# changes nothing; a corrupted copy is replaced.
# gpu-node-prep runs with --check only. What that skips, plainly: applying
# it would change this CI machine's kernel settings and /etc (every fleet
# host is this machine), the NVIDIA tasks (persistence mode, nvidia_peermem,
# fabric manager) are skipped because there is no NVIDIA driver or NVSwitch
# here, and no package manager runs. The GPU-count check is exercised
# against a count the machine cannot meet, so it must fail that host.
# reboot: a real node reboot is not possible here, so the reboot_command
# drops the host's SSH connection (kills the sshd process serving it) and
# writes a new boot id where boot_time_command reads it; the module must
# see the connection go, reconnect, find the same host key and run
# test_command.
set -eu
bin=$1
tag=provision-shipped; . "$(dirname "$0")/fleet_lib.sh"
HOSTS='ok-[001-002]'

# 1. reboot (no become needed).
cat > "$tmp/reboot.yaml" <<YAML
- hosts: all
  gather_facts: false
  vars: {bootid: "$R/{{ inventory_hostname }}.bootid"}
  tasks:
    - name: the sshd process serving this session
      shell: |
        mkdir -p $R && echo first > {{ bootid }}
        p=\$\$
        while [ "\$p" -gt 1 ] && ! grep -qx 'sshd\(-session\)\?' /proc/\$p/comm; do p=\$(cut -d' ' -f4 /proc/\$p/stat); done
        [ "\$p" -gt 1 ] && echo "\$p"
      register: conn
    - reboot:
        boot_time_command: cat {{ bootid }}
        reboot_command: echo second > {{ bootid }}; kill -TERM {{ conn.stdout }}
        test_command: test "\$(cat {{ bootid }})" = second
        reboot_timeout: 60
        connect_timeout: 5
    - command: cat {{ bootid }}
      register: after
    - assert: {that: [after.stdout == 'second']}
YAML
prov --limit "$HOSTS" --json "$tmp/reboot.yaml" > "$tmp/reboot.json" || fail "reboot: $(why "$tmp/reboot.json")"
for h in ok-001 ok-002; do
  [ "$(json "$tmp/reboot.json" "d['plays'][0]['tasks'][1]['results']['$h']['status']")" = changed ] \
    || fail "reboot $h: $(json "$tmp/reboot.json" "d['plays'][0]['tasks'][1]['results']['$h']")"
  [ "$(json "$tmp/reboot.json" "d['recap']['$h']['failed']")" = 0 ] || fail "after reboot $h"
done

# 2. deploy-aicloudctl for real.
if [ "${AICLOUD_FLEET_BECOME:-0}" = 1 ]; then
  deploy() {
    prov --limit "$HOSTS" deploy-aicloudctl -e "aicloudctl_dest=$R/{{ inventory_hostname }}/bin/aicloudctl" \
      -e "aicloudctl_owner=$AICLOUD_FLEET_USER" -e "aicloudctl_group=$(id -gn "$AICLOUD_FLEET_USER")" --json "$@"
  }
  deploy > "$tmp/deploy1.json" || fail "deploy: $(why "$tmp/deploy1.json")"
  for h in ok-001 ok-002; do
    cmp -s "$bin" "$R/$h/bin/aicloudctl" || fail "$h: deployed binary differs"
    [ "$(json "$tmp/deploy1.json" "d['recap']['$h']['changed']")" -ge 1 ] || fail "$h: first deploy changed nothing"
  done
  deploy > "$tmp/deploy2.json" || fail "deploy again"
  for h in ok-001 ok-002; do
    [ "$(json "$tmp/deploy2.json" "d['recap']['$h']['changed']")" = 0 ] || fail "$h: second deploy changed something"
  done
  printf x >> "$R/ok-002/bin/aicloudctl"
  deploy > "$tmp/deploy3.json" || fail "deploy over a corrupted copy"
  cmp -s "$bin" "$R/ok-002/bin/aicloudctl" || fail "corrupted copy not replaced"
  [ "$(json "$tmp/deploy3.json" "d['recap']['ok-002']['changed']")" = 1 ] || fail "repair not reported"
  [ "$(json "$tmp/deploy3.json" "d['recap']['ok-001']['changed']")" = 0 ] || fail "intact copy touched"
else
  echo "NOTE: deploy-aicloudctl and gpu-node-prep need sudo on the fleet (AICLOUD_FLEET_BECOME=1; run as root): skipped"
  echo "provision shipped playbooks over ssh: reboot ok, the rest skipped"
  exit 0
fi

# 3. gpu-node-prep --check: reports, changes nothing.
state() { cat /proc/sys/net/core/rmem_max /proc/sys/vm/max_map_count; ls -la /etc/sysctl.d /etc/modprobe.d /etc/security/limits.d 2>/dev/null || true; }
before=$(state)
prov --limit "$HOSTS" --check --diff --json gpu-node-prep > "$tmp/prep.json" || fail "gpu-node-prep --check: $(why "$tmp/prep.json")"
after=$(state)
[ "$before" = "$after" ] || fail "gpu-node-prep --check changed the machine"
[ "$(json "$tmp/prep.json" "d['check']")" = True ] || fail "not a check run"
# The GPU count check: this machine has no NVIDIA GPU, the inventory claims 8.
set +e
prov --limit ok-001 --check --json -e expected_gpus=8 --tags check gpu-node-prep > "$tmp/gpus.json"; rc=$?
set -e
[ "$rc" = 1 ] || fail "missing GPUs: exit $rc"
json "$tmp/gpus.json" "[t['results']['ok-001']['msg'] for t in d['plays'][0]['tasks'] if t['results'].get('ok-001',{}).get('status')=='failed'][0]" \
  | grep -q "the inventory expects 8" || fail "GPU count message: $(json "$tmp/gpus.json" "d['plays'][0]['tasks']")"
echo "provision shipped playbooks and reboot over ssh: ok"
