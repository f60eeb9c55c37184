# Shared helpers for the certify integration tests. Each test script gets
# the aicloudctl binary and the source tree as $1 and $2, works in a fresh
# temporary folder, and exits 0 (pass), 1 (fail) or 77 (skipped, with why).
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
fixtures=$src/tests/fixtures/certify
work=$(mktemp -d /tmp/aicloud-certify-it.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export NO_COLOR=1

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# Runs a command, stores its exit code in $rc (never aborts the script).
run() { set +e; "$@"; rc=$?; set -e; }

expect_rc() { [ "$rc" = "$1" ] || fail "expected exit code $1, got $rc${2:+ ($2)}"; }

contains() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$1 does not contain: $2"; }; }

python_with_jsonschema() {
  for p in /usr/bin/python3 python3; do
    if "$p" -c 'import jsonschema' 2>/dev/null; then echo "$p"; return; fi
  done
  fail "python3-jsonschema is required (scripts/setup installs it)"
}

# Validates a report against docs/report.schema.json (JSON Schema 2020-12).
validate_report() {
  "$(python_with_jsonschema)" - "$src/docs/report.schema.json" "$1" <<'PY' || fail "$1 does not validate against docs/report.schema.json"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path), e.message[:300])
sys.exit(1 if errors else 0)
PY
}

# Prints a value from a JSON file: jq-like path as Python expression on `r`.
jget() {
  "$(python_with_jsonschema)" -c "import json,sys; r=json.load(open(sys.argv[1])); v=$2; print(json.dumps(v) if not isinstance(v,str) else v)" "$1"
}

# A replay folder from the synthetic H100 fixtures.
make_replay() {
  mkdir -p "$1"
  cp "$fixtures/synthetic-h100-health-pass.json" "$1/health.json"
  cp "$fixtures/synthetic-h100-burnin-pass.json" "$1/burnin.json"
  cp "$fixtures/synthetic-h100-nccl-intra-pass.json" "$1/nccl.json"
  cp "$fixtures/synthetic-h100-facts.txt" "$1/facts.txt"
}
