#!/usr/bin/env bash
# report sign|verify against stock OpenSSH: our signature verifies with
# ssh-keygen -Y verify, ssh-keygen -Y sign's verifies with ours, a tampered
# report fails both, and an encrypted key without an agent is a clear error.
. "$(dirname "$0")/lib.sh"
command -v ssh-keygen >/dev/null || fail "ssh-keygen (openssh-client) is required"
make_replay good
"$bin" -q certify --local --replay good --level quick -o report.json > /dev/null || true
ssh-keygen -q -t ed25519 -N '' -C ops -f key
echo "ops@example.com namespaces=\"aicloudctl-report\" $(cat key.pub)" > allowed_signers

run "$bin" report sign report.json -k key > sign.txt
expect_rc 0 "sign"
contains sign.txt "signed report.json with ED25519 key SHA256:"
ssh-keygen -Y verify -f allowed_signers -I ops@example.com -n aicloudctl-report -s report.json.sig < report.json > v1.txt \
  || fail "ssh-keygen rejects our signature"
run "$bin" report verify report.json -f allowed_signers -I ops@example.com > v2.txt
expect_rc 0 "our verify of our signature"
contains v2.txt 'Good "aicloudctl-report" signature for ops@example.com with ED25519 key'

cp report.json theirs.json
ssh-keygen -q -Y sign -f key -n aicloudctl-report theirs.json
run "$bin" report verify theirs.json -f allowed_signers -I ops@example.com
expect_rc 0 "our verify of ssh-keygen's signature"
run "$bin" --json report verify theirs.json -f allowed_signers > v3.json
expect_rc 0
[ "$(jget v3.json 'r["principals"][0]')" = ops@example.com ] || fail "principal lookup without -I"

sed 's/"PASS"/"FAIL"/' report.json > tampered.json
cp report.json.sig tampered.json.sig
run "$bin" report verify tampered.json -f allowed_signers -I ops@example.com 2> t.txt
expect_rc 1 "tampered report"
contains t.txt "verification failed"
ssh-keygen -Y verify -f allowed_signers -I ops@example.com -n aicloudctl-report -s tampered.json.sig < tampered.json \
  > /dev/null 2>&1 && fail "ssh-keygen accepts a tampered report"
run "$bin" report verify report.json -f allowed_signers -I eve@example.com 2> e.txt
expect_rc 1 "wrong identity"

ssh-keygen -q -t ed25519 -N 'secret passphrase' -f enc
run env -u SSH_AUTH_SOCK "$bin" report sign report.json -k enc -o enc.sig 2> enc.txt
expect_rc 1 "encrypted key without an agent"
contains enc.txt "encrypted with a passphrase"
contains enc.txt "ssh-add"
run "$bin" report sign /etc/hostname -k key 2> notreport.txt
expect_rc 2 "signing something that is not a report"
echo "ok"
