# Sourced by the fleet benchmarks (bench/exec.sh, bench/provision.sh):
# starts the loopback fleet and writes the one OpenSSH client config every
# tool in a comparison reads, so that all of them negotiate the same key
# exchange with the same key, known_hosts and strictness.
#
#   bench_fleet_start FLEET_DIR HOSTS SSH_CONFIG_OUT
#
# Sets port, octet, user, identity, known and remote_dir from fleet.json.
bench_fleet_start() {
  local fleet_dir=$1 hosts=$2 config=$3
  "$root/scripts/fleet" start "$fleet_dir" --hosts "$hosts" >/dev/null
  eval "$(python3 -c "
import json; s = json.load(open('$fleet_dir/fleet.json'))
print(f\"port={s['port']} octet={s['octet']} user={s['user']} identity={s['identity']} known={s['known_hosts']} remote_dir={s['remote_dir']}\")")"
  cat > "$config" <<CONFIG
Host *
  User $user
  Port $port
  IdentityFile $identity
  IdentitiesOnly yes
  UserKnownHostsFile $known
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  KexAlgorithms curve25519-sha256
  GSSAPIAuthentication no
  ConnectTimeout 10
CONFIG
}
