#!/usr/bin/env python3
"""Loads Ansible YAML inventories with `aicloudctl inventory list --json` and
with `ansible-inventory -i FILE --list` and compares the host sets and every
host's merged vars. The inventories are the shipped example plus generated
ones: nested children, ranges ([01:10], [a:f], [1:9:2]), host:port patterns,
YAML 1.1 scalars (yes/no, 0x1F, 010, 1:20, 1.0e+3, 1e3), merge keys,
duplicate keys, group priorities and hosts named like groups.

usage: ansible_compare.py AICLOUDCTL WORKDIR [FILES...] [--generate N]   (exit 77: no ansible-inventory)
"""
import json
import os
import random
import shutil
import subprocess
import sys

if not shutil.which('ansible-inventory'):
    print('SKIP: ansible-inventory (Debian package ansible-core) is not installed')
    sys.exit(77)

args = sys.argv[1:]
generate = 0
if '--generate' in args:
    i = args.index('--generate')
    generate = int(args[i + 1])
    del args[i:i + 2]
AIC, WORK, files = args[0], args[1], args[2:]
os.makedirs(WORK, exist_ok=True)

SCALARS = ['yes', 'no', 'on', 'Off', 'true', 'False', '~', 'null', '0x1F', '010', '0o7', '1_000', '1:20', '1.5',
           '1.0e+3', '1e3', '-.5', '+12', '0b101', '"quoted 5"', "'single'", 'plain text', '2001-12-14', '3.',
           '-0', '007', '09', '"{{ templated }}"', '!!str 42', '"yes"']
VARS = ['ntp', 'x', 'y', 'ansible_user', 'ansible_port', 'ansible_host', 'role', 'dc', 'nested']
GROUPS = ['gpu', 'cpu', 'h100', 'a100', 'login', 'rack_a', 'rack_b', 'aaa', 'zzz']


def generate_file(seed, path):
    R = random.Random(seed)
    lines = []

    def val(d=0):
        r = R.random()
        if d < 2 and r < 0.15:
            return '{' + ', '.join('k%d: %s' % (i, val(d + 1)) for i in range(R.randint(0, 3))) + '}'
        if d < 2 and r < 0.25:
            return '[' + ', '.join(val(d + 1) for _ in range(R.randint(0, 3))) + ']'
        return R.choice(SCALARS)

    def hostkey():
        base = R.choice(['gpu', 'node', 'web', 'db-', 'h'])
        r = R.random()
        if r < 0.3:
            return '%s[%02d:%02d]' % (base, R.randint(0, 3), R.randint(4, 9))
        if r < 0.4:
            return '%s[a:%s]' % (base, R.choice('cdf'))
        if r < 0.5:
            return '%s[1:10:%d]' % (base, R.randint(2, 3))
        if r < 0.6:
            return '%s%d:%d' % (base, R.randint(1, 9), R.randint(2200, 2300))
        if r < 0.65:
            return '10.0.%d.%d' % (R.randint(0, 3), R.randint(1, 9))
        if r < 0.68:
            return '"[10.0.0.%d]:%d"' % (R.randint(1, 9), R.randint(2200, 2300))
        if r < 0.70:
            return '"fe80::%d"' % R.randint(1, 9)
        if r < 0.74:
            return R.choice(GROUPS) + str(R.randint(1, 3))
        return '%s%d' % (base, R.randint(1, 12))

    def group(name, ind, depth):
        lines.append(' ' * ind + name + ':')
        if R.random() < 0.1:
            lines[-1] += ' ~'
            return
        if R.random() < 0.6:
            lines.append(' ' * (ind + 2) + 'vars:')
            for v in R.sample(VARS, R.randint(1, 4)):
                lines.append(' ' * (ind + 4) + '%s: %s' % (v, val()))
            if R.random() < 0.15:
                lines.append(' ' * (ind + 4) + '%s: %s' % (R.choice(VARS), val()))
            if R.random() < 0.2:
                lines.append(' ' * (ind + 4) + '<<: {merged_a: 1, x: merged}')
            if R.random() < 0.3:
                lines.append(' ' * (ind + 4) + 'ansible_group_priority: %d' % R.randint(0, 5))
        if R.random() < 0.1:
            lines.append(' ' * (ind + 2) + 'hosts: ' + R.choice(['gpu1', 'web1', 'node7']))
        elif R.random() < 0.8:
            lines.append(' ' * (ind + 2) + 'hosts:')
            for _ in range(R.randint(1, 4)):
                lines.append(' ' * (ind + 4) + hostkey() + ':')
                if R.random() < 0.5:
                    for v in R.sample(VARS, R.randint(1, 3)):
                        lines.append(' ' * (ind + 6) + '%s: %s' % (v, val()))
        if depth < 3 and R.random() < 0.6:
            lines.append(' ' * (ind + 2) + 'children:')
            for c in R.sample(GROUPS, R.randint(1, 3)):
                group(c + str(depth + 1), ind + 4, depth + 1)

    lines.append('all:')
    if R.random() < 0.7:
        lines.append('  vars:')
        for v in R.sample(VARS, 3):
            lines.append('    %s: %s' % (v, val()))
    if R.random() < 0.5:
        lines.append('  hosts:')
        lines.append('    %s:' % hostkey())
    lines.append('  children:')
    for g in R.sample(GROUPS, R.randint(1, 4)):
        group(g + '1', 4, 1)
    if R.random() < 0.5:
        group(R.choice(GROUPS) + '_top', 0, 1)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


for i in range(generate):
    p = os.path.join(WORK, 'generated-%03d.yml' % i)
    generate_file(1000 + i, p)
    files.append(p)

bad = 0
total_hosts = 0
env = dict(os.environ, ANSIBLE_INVENTORY_ENABLED='yaml', ANSIBLE_LOCAL_TEMP=WORK, ANSIBLE_HOME=WORK)
for f in files:
    r = subprocess.run(['ansible-inventory', '-i', f, '--list'], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        print('ansible-inventory failed on %s: %s' % (f, r.stderr))
        bad += 1
        continue
    a = json.loads(r.stdout)
    hostvars = a['_meta']['hostvars']
    hosts = set(hostvars)
    for g, d in a.items():
        if g != '_meta':
            hosts.update(d.get('hosts', []))
    o = subprocess.run([AIC, 'inventory', 'list', f, '--json'], capture_output=True, text=True)
    if o.returncode != 0:
        print('aicloudctl failed on %s: %s' % (f, o.stderr))
        bad += 1
        continue
    ours = {h['name']: h['vars'] for h in json.loads(o.stdout)}
    total_hosts += len(hosts)
    if set(ours) != hosts:
        print('%s: host sets differ: %s' % (f, sorted(set(ours) ^ hosts)[:10]))
        bad += 1
        continue
    for h in sorted(hosts):
        if ours[h] != hostvars.get(h, {}):
            print('%s: vars of %s differ\n  ansible-inventory: %s\n  aicloudctl:        %s'
                  % (f, h, hostvars.get(h, {}), ours[h]))
            bad += 1
            break
print('%d inventories, %d hosts compared, %d mismatches' % (len(files), total_hosts, bad))
sys.exit(1 if bad else 0)
