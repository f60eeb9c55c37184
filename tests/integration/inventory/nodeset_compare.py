#!/usr/bin/env python3
"""Compares `aicloudctl nodeset expand|fold|count` with ClusterShell on many
generated node sets and name lists: multi-dimensional names, zero padding of
mixed lengths, steps, set operations and parse errors.

Every case goes through ClusterShell's library with exactly the steps of its
`nodeset` command (NodeSet.fromlist() per argument, unioned), and a sample of
cases also through the real `nodeset` executable.

usage: nodeset_compare.py AICLOUDCTL [CASES] [SEED]    (exit 77: ClusterShell missing)
"""
import random
import shutil
import subprocess
import sys

try:
    from ClusterShell.NodeSet import NodeSet
except ImportError:
    print("SKIP: ClusterShell (Debian package python3-clustershell) is not installed")
    sys.exit(77)

AIC = sys.argv[1]
CASES = int(sys.argv[2]) if len(sys.argv) > 2 else 1200
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 20240601
R = random.Random(SEED)


def clustershell(mode, args):
    try:
        x = NodeSet()
        for a in args:
            x.update(NodeSet.fromlist(a.splitlines()))
        if mode == 'fold':
            return str(x)
        if mode == 'count':
            return str(len(x))
        return '\n'.join(x)
    except Exception:
        return 'ERROR'


def ours(mode, args):
    r = subprocess.run([AIC, 'nodeset', mode, '--'] + args, capture_output=True, text=True)
    if r.returncode == 2:
        return 'ERROR'
    if r.returncode != 0:
        raise SystemExit('aicloudctl nodeset %s %r exited %d: %s' % (mode, args, r.returncode, r.stderr))
    return r.stdout.rstrip('\n')


def index():
    n = R.choice([R.randint(0, 12), R.randint(0, 120), R.randint(0, 2000)])
    return '%0*d' % (R.choice([0, 0, 0, 2, 3, 4]), n)


def name():
    parts = []
    for _ in range(R.choice([1, 1, 2, 2, 3])):
        parts.append(R.choice(['n', 'gpu-a', 'r', '-', 'x', 'node', 'c', '.']))
        parts.append(index())
    if R.random() < 0.2:
        parts.append(R.choice(['-ib', '.mgmt', 'x']))
    return ''.join(parts)


def grid_names():
    dims = R.choice([2, 2, 3])
    names = set()
    for _ in range(R.randint(1, 60)):
        if dims == 2:
            names.add('%s%d%s%02d' % (R.choice(['a', 'gpu-a']), R.randint(1, 4), R.choice(['-', 'n']), R.randint(1, 12)))
        else:
            names.add('s%dr%dn%d' % (R.randint(1, 2), R.randint(1, 3), R.randint(1, 5)))
    return sorted(names, key=lambda _: R.random())


def rng():
    parts = []
    for _ in range(R.randint(1, 3)):
        a = R.randint(0, 30)
        b = a + R.randint(0, 20)
        w = R.choice([0, 0, 2, 3])
        s = '%0*d' % (w, a)
        if R.random() < 0.7:
            s += '-' + '%0*d' % (w, b)
        if '-' in s and R.random() < 0.2:
            s += '/' + str(R.randint(1, 4))
        if R.random() < 0.03:
            s = R.choice(['', '5-1', '01-3', 'x', '1-2-3'])
        parts.append(s)
    return ','.join(parts)


def pattern():
    out = []
    for i in range(R.randint(1, 4)):
        t = R.choice(['n', 'gpu-a', 'r', 'node', 'c']) + '[' + rng() + ']'
        if R.random() < 0.4:
            t += R.choice(['n', '-', '-ib', 'x']) + '[' + rng() + ']'
        if R.random() < 0.3:
            t += R.choice(['', 'x', '-p']) + str(R.randint(0, 9))
        if R.random() < 0.2:
            t = name()
        if i:
            out.append(R.choice(',,,!&^'))
        out.append(t)
    return ''.join(out)


def case():
    r = R.random()
    if r < 0.2:
        return 'fold', [name() for _ in range(R.randint(1, 40))]
    if r < 0.45:
        return 'fold', grid_names()
    return R.choice(['fold', 'expand', 'count']), [pattern() for _ in range(R.randint(1, 3))]


cases = [case() for _ in range(CASES)]
bad = 0
errors = 0
for mode, args in cases:
    want = clustershell(mode, args)
    got = ours(mode, args)
    errors += want == 'ERROR'
    if want != got:
        bad += 1
        if bad <= 5:
            print('MISMATCH nodeset %s %r\n  ClusterShell: %s\n  aicloudctl:   %s' % (mode, args, want[:300], got[:300]))

# The real executable, for a sample (its -e joins names with spaces).
real = shutil.which('nodeset')
sampled = 0
if real:
    flag = {'fold': '-f', 'expand': '-e', 'count': '-c'}
    for mode, args in cases[:80]:
        r = subprocess.run([real, flag[mode], '--'] + args, capture_output=True, text=True)
        want = 'ERROR' if r.returncode != 0 else r.stdout.rstrip('\n')
        if mode == 'expand' and want != 'ERROR':
            want = '\n'.join(want.split())
        got = ours(mode, args)
        sampled += 1
        if want != got:
            bad += 1
            print('MISMATCH (nodeset executable) %s %r\n  nodeset:    %s\n  aicloudctl: %s' % (mode, args, want[:300], got[:300]))

print('%d cases (%d parse errors on both sides), %d also against the nodeset executable, %d mismatches'
      % (len(cases), errors, sampled, bad))
sys.exit(1 if bad else 0)
