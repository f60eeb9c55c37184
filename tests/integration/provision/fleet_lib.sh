# Sourced by the provision fleet tests: the fleet's facts, a scratch folder
# ($tmp) and a remote folder of this test ($R, removed at exit unless KEEP
# is set), a private known_hosts copy, and helpers.
#   bin=PATH/TO/aicloudctl tag=NAME; . fleet_lib.sh
: "${AICLOUD_FLEET_DIR:?run through ctest (fixture fleet) or set AICLOUD_FLEET_DIR}"
. "$AICLOUD_FLEET_DIR/fleet.env"
tmp=$(mktemp -d)
R="$AICLOUD_FLEET_REMOTE_DIR/$tag-$$"
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp" "$R"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# The failed and unreachable task results of a JSON result, one a line.
why() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); [print(t['name'], h, r['status'], r['msg']) for p in d['plays'] for t in p['tasks'] for h, r in t['results'].items() if r['status'] in ('failed', 'unreachable')]" "$1" 2>&1 | head -20; }
cp "$AICLOUD_FLEET_KNOWN_HOSTS" "$tmp/known_hosts"
prov() { "$bin" provision -i "$AICLOUD_FLEET_INVENTORY" --known-hosts "$tmp/known_hosts" --connect-timeout 5s "$@"; }
