# lib.sh: shared helpers for the multi-process tests: real nodes, real LMDB
# files, real ZeroMQ sockets on 127.0.0.1. Source it; every node started is
# killed and every file removed when the test exits.
set -euo pipefail

TS=${TIERSYNC_BIN:?set TIERSYNC_BIN to the tiersync binary}
export TIERSYNC_CATALOG=${TIERSYNC_CATALOG:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tiersync-it.XXXXXX")
declare -A PID PORT HTTP
TEST_NAME=$(basename "$0" .sh)

cleanup() {
  local rc=$?
  for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ $rc -ne 0 ]; then
    echo "---- $TEST_NAME failed; node logs:" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 25 "$f" >&2; }; done
  fi
  for f in "$WORK"/port.*; do rmdir "$PORT_LOCKS/${f##*.}" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }
step() { echo "-- $*"; }

# A TCP port nobody listens on (random in a high range; checked with bash),
# reserved until this test exits: tests run in parallel, and a node binds its
# port only when it starts, so two tests could otherwise draw the same one.
PORT_LOCKS=${TMPDIR:-/tmp}/tiersync-it-ports
mkdir -p "$PORT_LOCKS"
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 10000 + RANDOM % 22000 ))  # below the ephemeral range (32768+)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    mkdir "$PORT_LOCKS/$p" 2>/dev/null || continue
    touch "$WORK/port.$p"
    echo "$p"
    return 0
  done
  fail "no free port"
}

# node_init NAME CODE LEVEL [PARENT] [extra init args...]: creates $WORK/NAME
# listening for children, enrolled at PARENT (already initialised) if given.
node_init() {
  local name=$1 code=$2 level=$3 parent=${4:-}
  shift $(( $# < 4 ? $# : 4 ))
  PORT[$name]=$(free_port)
  local args=(--dir "$WORK/$name" --code "$code" --name "Unit $code" --level "$level"
              --listen "tcp://127.0.0.1:${PORT[$name]}" --http "")
  if [ -n "$parent" ]; then
    args+=(--parent "tcp://127.0.0.1:${PORT[$parent]}" --parent-key "$($TS key --dir "$WORK/$parent")")
  fi
  $TS init "${args[@]}" "$@" >/dev/null
  # record-derived changes travel at once here; a test of the release window sets it
  node_set "$name" sync release_s 0
  if [ -n "$parent" ]; then
    $TS child add --dir "$WORK/$parent" "$code" "$($TS key --dir "$WORK/$name")" >/dev/null
  fi
}

# node_set NAME SECTION KEY VALUE: edits one setting of NAME's config file.
# The test tree: NAME -> CODE LEVEL [PARENT] for node_init.
declare -A TREE=(
  [prov]="34 province"
  [d1]="341 district prov" [d2]="342 district prov"
  [c11]="34101 commune d1" [c12]="34102 commune d1"
  [c21]="34201 commune d2" [c22]="34202 commune d2"
  [c0]="34001 commune prov"  # reports straight to the province
)

# tree_nodes NAME...: node_init for each named node of the test tree, parents
# first (prov d1 d2 c11 c12 c21 c22 is the whole seven-node tree; c0 a
# commune of the province's own).
tree_nodes() {
  local n
  for n in "$@"; do
    [ -n "${TREE[$n]:-}" ] || fail "tree_nodes: $n is not a node of the test tree"
    # shellcheck disable=SC2086 # CODE LEVEL [PARENT], split on purpose
    node_init "$n" ${TREE[$n]}
  done
}

# node_set NAME SECTION KEY VALUE: edits one setting of NAME's config file.
node_set() {
  python3 - "$WORK/$1/tiersync.conf" "$2" "$3" "$4" <<'PY'
import sys, re
path, section, key, value = sys.argv[1:]
lines, out, cur, done = open(path).read().splitlines(), [], None, False
for l in lines:
    m = re.match(r'\[(\w+)\]', l)
    if m: cur = m.group(1)
    if cur == section and re.match(r'\s*' + key + r'\s*=', l):
        l, done = f"{key} = {value}", True
    out.append(l)
    if m and cur == section and not done and not re.search(r'(?m)^\s*' + re.escape(key) + r'\s*=', "\n".join(lines)):
        out.append(f"{key} = {value}"); done = True
open(path, "w").write("\n".join(out) + "\n")
PY
}

node_start() {
  local name=$1
  "$TS" run --dir "$WORK/$name" >>"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
}

node_kill9() { kill -9 "${PID[$1]}" 2>/dev/null || true; wait "${PID[$1]}" 2>/dev/null || true; unset "PID[$1]"; }
node_stop() { kill -TERM "${PID[$1]}" 2>/dev/null || true; wait "${PID[$1]}" 2>/dev/null || true; unset "PID[$1]"; }
node_pause() { kill -STOP "${PID[$1]}"; }
node_resume() { kill -CONT "${PID[$1]}"; }
node_alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

# total NAME UNIT INDICATOR PERIOD [OPTIONS]: sum of NAME's totals (0 if none).
total() {
  local args=(--dir "$WORK/$1" --unit "$2" --indicator "$3" --period "$4" --json)
  [ $# -ge 5 ] && args+=(--options "$5")
  $TS totals "${args[@]}" | python3 -c 'import json,sys; print(sum(r["value"] for r in json.load(sys.stdin)))'
}

# totals_json NAME: every total NAME holds as sorted "unit indicator period options value" lines.
totals_lines() {
  $TS totals --dir "$WORK/$1" --json | python3 -c '
import json,sys
for r in sorted(json.load(sys.stdin), key=lambda r:(r["unit"],r["indicator"],r["period"],sorted(r["options"].items()))):
    print(r["unit"], r["indicator"], r["period"], ",".join(k+"="+v for k,v in sorted(r["options"].items())), r["value"])'
}

# status_field NAME PYEXPR: evaluates PYEXPR on the status JSON bound to s.
status_field() {
  $TS status --dir "$WORK/$1" --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"
}

# wait_until TIMEOUT_S CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
  local limit=$1; shift
  local end=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
  until "$@" >/dev/null 2>&1; do
    [ $(( $(date +%s%N) / 1000000 )) -lt $end ] || return 1
    sleep 0.1
  done
}

# status_test NAME PYEXPR: success when PYEXPR on NAME's status JSON (bound to s)
# is true; re-evaluated on every call, so it can be polled with wait_until.
status_test() {
  [ "$(status_field "$1" "bool($2)")" = True ]
}

# eq_total EXPECTED NAME UNIT INDICATOR PERIOD [OPTIONS]: success when equal.
eq_total() { local want=$1; shift; [ "$(total "$@")" = "$want" ]; }

# expect_total TIMEOUT EXPECTED NAME UNIT INDICATOR PERIOD [OPTIONS]
expect_total() {
  local limit=$1 want=$2; shift 2
  wait_until "$limit" eq_total "$want" "$@" ||
    fail "$1 holds $(total "$@") for ${*:2}, expected $want"
}

# import_generated NAME PERSONS SEED: generated case files (tools/gen_records.py,
# ids prefixed with X and NAME) imported into NAME's store.
import_generated() {
  python3 "${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}/tools/gen_records.py" \
    --out "$WORK/data-$1" --unit 0 --persons "$2" --seed "$3" --prefix "X${1^^}" \
    --first-year 2024 --no-expected
  for t in person episode support; do
    $TS import --dir "$WORK/$1" $t "$WORK/data-$1/$t.csv" >>"$WORK/import.log" 2>&1 ||
      fail "import of $1 $t refused: $(tail -n 3 "$WORK/import.log")"
  done
}

# expect_exact NAME UNIT DIR: NAME's totals of UNIT for the indicators
# counted from records are exactly DIR/expected.json (tools/gen_records.py).
expect_exact() {
  totals_lines "$1" | python3 -c '
import json, os, sys
unit, exp = sys.argv[1], json.load(open(sys.argv[2] + "/expected.json"))["cells"]
cat = json.load(open(os.environ["TIERSYNC_CATALOG"]))
entered = {i["code"] for i in cat["indicators"] if i["kind"] == "value"}
got = {}
for l in sys.stdin:
    u, ind, per, opts, v = l.split(" ")
    if u == unit and ind not in entered:
        got["|".join([ind, per, "" if opts == "-" else opts])] = int(v)
want = {k: v for k, v in exp.items() if v}
bad = [(k, want.get(k, 0), got.get(k, 0)) for k in sorted(set(want) | set(got)) if want.get(k, 0) != got.get(k, 0)]
for k, w, g in bad[:10]:
    print(f"{k}: expected {w}, found {g}", file=sys.stderr)
sys.exit(1 if bad else 0)' "$2" "$3"
}
