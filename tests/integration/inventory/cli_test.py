#!/usr/bin/env python3
"""The real `aicloudctl inventory` and `aicloudctl nodeset` commands: exit
codes, FILE:LINE:COL errors on stderr, JSON shapes, --limit, show, standard
input for nodeset, and --help with examples.

usage: cli_test.py AICLOUDCTL SOURCE_DIR WORKDIR
"""
import json
import os
import subprocess
import sys

AIC, SRC, WORK = sys.argv[1:4]
os.makedirs(WORK, exist_ok=True)
EX = os.path.join(SRC, 'inventory', 'examples')
failures = []


def run(*args, stdin=None):
    r = subprocess.run([AIC] + list(args), input=stdin, capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR='1'))
    return r.returncode, r.stdout, r.stderr


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def write(name, text):
    p = os.path.join(WORK, name)
    with open(p, 'w') as f:
        f.write(text)
    return p


# validate: examples are valid
for f in ('h100-rack.yaml', 'two-rack-site.yaml', 'ansible-hosts.yml'):
    rc, out, err = run('inventory', 'validate', os.path.join(EX, f))
    check(rc == 0 and 'valid' in out, 'validate %s exits 0 (rc=%d, %s)' % (f, rc, err))

# validate: every error on stderr as FILE:LINE:COL, exit 2
bad = write('bad.yaml', """version: 1
sites:
  phx1:
    racks:
      a12:
        nodes:
          - name: gpu-[01-04]
            address: 10.0.0.[1-3]
          - name: gpu-05
            u: 200
            ssh: {prot: 22}
""")
rc, out, err = run('inventory', 'validate', bad)
check(rc == 2, 'invalid inventory exits 2 (got %d)' % rc)
lines = [l for l in err.splitlines() if l.startswith(bad + ':')]
check(lines == [
    bad + ":8:22: address has 3 values but name 'gpu-[01-04]' has 4 names; zipped ranges must have the same length (or one value for all)",
    bad + ":10:16: u '200' is not a rack unit (1-100)",
    bad + ":11:19: unknown key 'prot' in ssh (did you mean 'port'?)",
], 'every error as FILE:LINE:COL: %r' % lines)
check('aicloudctl: error: 3 problems in the input' in err, 'summary line on stderr')
check(out == '', 'nothing on stdout for an invalid inventory')

rc, out, err = run('--json', 'inventory', 'validate', bad)
j = json.loads(out)
check(rc == 2 and j['valid'] is False and len(j['errors']) == 3 and j['errors'][0]['line'] == 8,
      'validate --json lists the errors')
rc, out, err = run('inventory', 'validate', os.path.join(EX, 'two-rack-site.yaml'), '--json')
j = json.loads(out)
check(rc == 0 and j['valid'] and j['hosts'] == 9 and j['racks'] == 2 and j['format'] == 'native',
      'validate --json summary')

# malformed, empty, binary, missing files: exit 2 with a clear message
for name, content, needle in [
        ('syntax.yaml', 'a: [1, 2\nb: 3\n', ':2:2: invalid YAML: end of sequence flow not found'),
        ('empty.yaml', '', ':1:1: inventory is empty'),
        ('binary.yaml', '\x00\x01\x02ELF', ': is a binary file, not text'),
        ('deep.yaml', '[' * 20000 + ']' * 20000, 'YAML nesting is too deep'),
        ('alias.yaml', 'a: &a [*a]\n', 'recursive alias')]:
    p = write(name, content)
    rc, out, err = run('inventory', 'validate', p)
    check(rc == 2 and needle in err and 'Traceback' not in err, '%s: exit 2 with %r (rc=%d, %s)' % (name, needle, rc, err))
rc, out, err = run('inventory', 'list', os.path.join(WORK, 'missing.yaml'))
check(rc == 2 and 'cannot open' in err, 'missing file: exit 2')

# list: text, --limit, --json with the promised keys
site = os.path.join(EX, 'two-rack-site.yaml')
rc, out, err = run('inventory', 'list', site)
check(rc == 0 and len(out.splitlines()) == 9 and out.splitlines()[1].split()[0] == 'gpu-a12-01', 'list: one host a line')
rc, out, err = run('inventory', 'list', site, '--limit', 'rack=a13&!gpu-a13-04', '--json')
hosts = json.loads(out)
check([h['name'] for h in hosts] == ['gpu-a13-01', 'gpu-a13-02', 'gpu-a13-03'], 'list --limit --json selects')
for k in ('name', 'address', 'port', 'user', 'site', 'rack', 'groups', 'labels', 'bmc', 'hardware'):
    check(k in hosts[0], 'list --json has %s' % k)
check(hosts[0]['bmc']['credentials'] == 'file:/etc/aicloud/bmc/a13', 'bmc shows the credentials reference')
rc, out, err = run('inventory', 'list', site, '--limit', '@comptue')
check(rc == 2 and "unknown group '@comptue' (did you mean '@compute'?)" in err, 'bad selector: exit 2 with hint')
rc, out, err = run('inventory', 'list', site, '--limit', 'gpu-a12-[01-')
check(rc == 2 and 'missing bracket' in err, 'bad node set in selector: exit 2')

# a secret never shows: only the reference
sec = write('secret.yaml', 'nodes:\n  - name: n1\n    bmc: {url: "ipmi://10.0.0.1", credentials: "s3cr3t-pass"}\n')
rc, out, err = run('inventory', 'validate', sec)
check(rc == 2 and 's3cr3t-pass' not in err + out, 'a literal BMC secret is refused without being echoed')

# show: merged vars with origins
rc, out, err = run('inventory', 'show', site, 'gpu-a13-04')
check(rc == 0 and 'burnin_minutes' in out and 'two-rack-site.yaml:65:' in out, 'show prints vars and origins')
rc, out, err = run('--json', 'inventory', 'show', site, 'gpu-a13-04')
j = json.loads(out)
check(j['vars']['burnin_minutes'] == 240 and j['origins']['burnin_minutes']['level'] == 'node', 'show --json origins')
rc, out, err = run('inventory', 'show', site, 'gpu-a13-4')
check(rc == 2 and "did you mean 'gpu-a13-04'" in err, 'show unknown host: exit 2 with hint')

# nodeset
rc, out, err = run('nodeset', 'expand', 'gpu-a12-[01-03]')
check(rc == 0 and out == 'gpu-a12-01\ngpu-a12-02\ngpu-a12-03\n', 'nodeset expand: one name a line')
rc, out, err = run('nodeset', 'expand', '-S', ' ', 'n[1-3]')
check(out == 'n1 n2 n3\n', 'nodeset expand -S')
rc, out, err = run('nodeset', 'fold', 'n1', 'n3', 'n2', 'm[1-2]')
check(out == 'm[1-2],n[1-3]\n', 'nodeset fold unions its arguments')
rc, out, err = run('nodeset', 'count', 'r[1-2]n[01-16]', 'r3n01')
check(out == '33\n', 'nodeset count')
rc, out, err = run('nodeset', 'fold', stdin='gpu-a12-01 gpu-a12-02  # comment\ngpu-a12-03\n')
check(out == 'gpu-a12-[01-03]\n', 'nodeset fold reads standard input')
rc, out, err = run('--json', 'nodeset', 'fold', 'n[1-4]!n2')
check(json.loads(out) == {'nodeset': 'n[1,3-4]', 'count': 3}, 'nodeset fold --json')
rc, out, err = run('nodeset', 'expand', 'n[1-')
check(rc == 2 and "node set 'n[1-':1:1: missing bracket" in err, 'nodeset: bad pattern exits 2 with column')

# --help with examples on each command
for cmd in (['inventory'], ['inventory', 'validate'], ['inventory', 'list'], ['inventory', 'show'], ['nodeset'],
            ['nodeset', 'expand'], ['nodeset', 'fold'], ['nodeset', 'count']):
    rc, out, err = run(*cmd, '--help')
    check(rc == 0 and 'Examples:' in out and 'aicloudctl ' + cmd[0] in out, '%s --help has examples' % ' '.join(cmd))

print('%d failures' % len(failures))
sys.exit(1 if failures else 0)
