#!/usr/bin/env python3
"""Writes the 10,000-node inventories that bench/inventory.sh times.

  native-10k.yaml       the native format as a tech writes it: 2 sites x 313
                        racks, one 16-node range per rack zipped with address,
                        U and BMC ranges, plus rack labels, vars and BMC
                        credentials (~0.2 MB)
  native-10k-flat.yaml  the same 10,000 nodes written one entry per node, as
                        a generator might (~2.6 MB)
  ansible-10k.yml       an Ansible YAML inventory of 10,000 hosts in 626
                        rack groups under two site groups, each host with
                        ansible_host and a var (~0.9 MB)

usage: gen_inventories.py OUTDIR
"""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
RACKS = 625  # x 16 = 10,000 nodes

head = """version: 1
defaults:
  ssh: {user: root, port: 22, identity_file: ~/.ssh/id_ed25519, jump_host: bastion.example.net}
  vars: {ntp_server: 10.0.0.1, burnin_minutes: 30}
  hardware: {gpu_model: H100-SXM, gpu_count: 8, nics: [mlx5_0, mlx5_1, mlx5_2, mlx5_3, mlx5_4, mlx5_5, mlx5_6, mlx5_7]}
groups:
  compute: {vars: {nvidia_driver_branch: "550"}}
sites:
"""


def rack_coords(r):
    site = 'phx%d' % (1 + r // 313)
    return site, 'r%03d' % r, 10 + r // 250, r % 250


with open(os.path.join(out, 'native-10k.yaml'), 'w') as f:
    f.write(head)
    current = None
    for r in range(RACKS):
        site, rack, a, b = rack_coords(r)
        if site != current:
            f.write('  %s:\n    labels: {dc: %s}\n    racks:\n' % (site, site))
            current = site
        f.write('      %s:\n' % rack)
        f.write('        labels: {row: "%d"}\n' % (r // 20))
        f.write('        vars: {rack_pdu: %s-pdu}\n' % rack)
        f.write('        bmc: {credentials: "env:BMC_PASS_%s"}\n' % rack.upper())
        f.write('        nodes:\n')
        f.write('          - name: gpu-%s-[01-16]\n' % rack)
        f.write('            address: 10.%d.%d.[11-26]\n' % (a, b))
        f.write('            u: "[2-32/2]"\n')
        f.write('            bmc: {url: "redfish://10.%d.%d.[11-26]"}\n' % (a + 100, b))
        f.write('            labels: {sku: h100}\n')
        f.write('            groups: [compute]\n')

with open(os.path.join(out, 'native-10k-flat.yaml'), 'w') as f:
    f.write(head)
    current = None
    for r in range(RACKS):
        site, rack, a, b = rack_coords(r)
        if site != current:
            f.write('  %s:\n    labels: {dc: %s}\n    racks:\n' % (site, site))
            current = site
        f.write('      %s:\n        labels: {row: "%d"}\n        bmc: {credentials: "env:BMC_PASS"}\n        nodes:\n'
                % (rack, r // 20))
        for i in range(16):
            f.write('          - name: gpu-%s-%02d\n' % (rack, i + 1))
            f.write('            address: 10.%d.%d.%d\n' % (a, b, 11 + i))
            f.write('            u: %d\n' % (2 + 2 * i))
            f.write('            bmc: {url: "redfish://10.%d.%d.%d"}\n' % (a + 100, b, 11 + i))
            f.write('            groups: [compute]\n')

with open(os.path.join(out, 'ansible-10k.yml'), 'w') as f:
    f.write('all:\n  vars: {ansible_user: root, ntp_server: 10.0.0.1}\n  children:\n')
    current = None
    for r in range(RACKS):
        site, rack, a, b = rack_coords(r)
        if site != current:
            f.write('    %s:\n      vars: {dc: %s}\n      children:\n' % (site, site))
            current = site
        f.write('        %s:\n          vars: {row: "%d"}\n          hosts:\n' % (rack, r // 20))
        for i in range(16):
            f.write('            gpu-%s-%02d: {ansible_host: 10.%d.%d.%d, u: %d}\n' % (rack, i + 1, a, b, 11 + i, 2 + 2 * i))
