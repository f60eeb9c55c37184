#!/usr/bin/env bash
# Bad invocations and bad input exit 2 with a clear message, before
# anything runs; profile errors point at FILE:LINE:COL.
. "$(dirname "$0")/lib.sh"
check2() { run "$bin" "$@" > out.txt 2> err.txt; expect_rc 2 "$*"; }

check2 certify
contains err.txt "certify needs -i INVENTORY"
check2 certify --local --profile h100
contains err.txt "did you mean 'h100-sxm-8gpu'"
check2 certify --local --profile h100-sxm-8gpu --level fast
contains err.txt "--level fast: expected quick, standard or burnin"
printf 'profile: 1\nname: quick-only\nextends: h100-sxm-8gpu\nlevels: {standard: ~, burnin: ~}\ndefault_level: quick\n' > quick-only.yaml
check2 certify --local --profile quick-only.yaml --level burnin
contains err.txt "has no level 'burnin'"
check2 certify --local -o /nonexistent/dir/r.json
contains err.txt "does not exist"
check2 certify --local --limit rack=a12
contains err.txt "needs -i INVENTORY"
check2 certify --local --replay /nonexistent
contains err.txt "not a folder"
printf 'profile: 1\nname: bad\nextends: h100-sxm-8gpu\nfloors:\n  hbm_copy_gbs: 2000\n' > bad.yaml
check2 certify --local --profile bad.yaml
contains err.txt "bad.yaml:5:3: unknown metric 'hbm_copy_gbs' in floors (did you mean 'hbm_copy_gbps'?)"
echo '{"kind": "aicloudctl.certification",' > broken.json
check2 certify --resume broken.json
contains err.txt "broken.json:2:1: not valid JSON"
check2 report show broken.json
check2 report show
check2 report diff broken.json
check2 report sign broken.json -k /nonexistent
check2 report verify broken.json
# --check-profile and --list-profiles
run "$bin" certify --profile h200-sxm-8gpu --check-profile > cp.txt
expect_rc 0
contains cp.txt "profile h200-sxm-8gpu is valid"
run "$bin" certify --list-profiles > lp.txt
expect_rc 0
for p in a100-sxm-8gpu b200-8gpu h100-sxm-8gpu h200-sxm-8gpu; do contains lp.txt "$p"; done
# Fleet mode is the second phase: a clear error, exit 1.
run "$bin" certify -i inventory.yaml --profile h100-sxm-8gpu 2> fleet.txt
expect_rc 1
contains fleet.txt "not in this build yet"
echo "ok"
