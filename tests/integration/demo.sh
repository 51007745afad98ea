#!/usr/bin/env bash
# tools/demo.sh run headless, twice, as a user would run it: it builds the
# tree, enters its numbers and prints the dashboard address; the province
# then holds, for every unit of the demo, exactly what that unit's own node
# holds (so its totals are the sum of everything the demo entered), and the
# read API at the printed address gives the same totals. SIGINT stops every
# node cleanly: sent to the script alone (run 1) and as a terminal's Ctrl-C
# to the whole process group (run 2, which also shows that the demo starts
# afresh on the same ports).
source "$(dirname "$0")/lib.sh"

SRC=${TIERSYNC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
DEMO="$WORK/demo"
NODES=8 # the demo's tree: a province, two districts, five communes

# Sixteen consecutive free ports for the nodes (each with its join port next
# to it), three for their HTTP servers.
free_run() { # free_run N: the first of N consecutive free ports
  local n=$1 base p ok
  for _ in $(seq 1 100); do
    base=$(( 10000 + RANDOM % 20000 )) ok=1  # below the ephemeral range
    for p in $(seq "$base" $((base + n - 1))); do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { ok=0; break; }
    done
    [ $ok = 1 ] && { echo "$base"; return 0; }
  done
  fail "no $n consecutive free ports"
}
BASE_PORT=$(free_run $((2 * NODES)))
for _ in $(seq 1 20); do # the two runs must not overlap
  HTTP_PORT=$(free_run 3)
  [ $((HTTP_PORT + 2)) -lt "$BASE_PORT" ] || [ "$HTTP_PORT" -ge $((BASE_PORT + 2 * NODES)) ] && break
done

# On the way out, kill whatever the demo left and let it go before the files.
DEMO_PID=""
kill_demo() {
  [ -n "$DEMO_PID" ] || return 0
  kill -KILL -- "-$DEMO_PID" 2>/dev/null || true
  wait "$DEMO_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
  DEMO_PID=""
}
show_demo() { # on failure: the demo's output and its nodes' logs
  [ -n "${OUT:-}" ] && [ -f "$OUT" ] && { echo "== $OUT" >&2; tail -n 20 "$OUT" >&2; }
  for f in "$DEMO"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 10 "$f" >&2; }; done
}
trap 'rc=$?; set +e; kill_demo; [ $rc = 0 ] || show_demo; (exit $rc); cleanup' EXIT

# start_demo RUN: the demo in its own session (its process group is what a
# terminal's Ctrl-C reaches), with the binary under test: no install, no build.
# A background command of a script starts with SIGINT ignored, and bash
# cannot trap a signal ignored on entry: env restores the default, as in a
# terminal.
start_demo() {
  OUT="$WORK/demo-$1.out"
  rm -f "$WORK/demo.rc"
  TIERSYNC_BIN="$TS" TIERSYNC_DEMO_DIR="$DEMO" TIERSYNC_DEMO_PORT=$BASE_PORT \
    TIERSYNC_DEMO_HTTP=$HTTP_PORT \
    setsid env --default-signal=INT bash -c 'bash "$0"; echo $? >"$1"' "$SRC/tools/demo.sh" "$WORK/demo.rc" \
    >"$OUT" 2>&1 </dev/null &
  DEMO_PID=$!
}
started() { grep -q "Press Ctrl-C" "$OUT" || [ -e "$WORK/demo.rc" ]; }
ended() { [ -e "$WORK/demo.rc" ]; }

# check compare: the province holds, for every unit, what that unit's own
# node holds, and its own unit's totals are the sum of its children's and of
# what the demo enters at the province itself: its percentage targets (a
# percentage does not add up; each level sets its own). check api URL: URL's
# /api/totals (no token) gives the province's totals for every indicator and
# period of this year it holds: exact for value indicators, else rounded to a
# multiple of 5 within 4 of the total. Each prints what it compared, or the
# first difference.
check() {
  python3 - "$TS" "$DEMO" "$@" <<'PY'
import collections, configparser, datetime, glob, json, os, subprocess, sys, urllib.request
ts, demo, mode = sys.argv[1:4]
nodes = {}
for conf in sorted(glob.glob(os.path.join(demo, "*", "tiersync.conf"))):
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(conf, encoding="utf-8")
    nodes[os.path.dirname(conf)] = {"code": cp["node"]["code"],
                                    "listen": cp["listen"].get("endpoint", "").strip(),
                                    "parent": cp["parent"].get("endpoint", "").strip()}
roots = [d for d, n in nodes.items() if not n["parent"]]
if len(nodes) != 8 or len(roots) != 1:
    sys.exit(f"expected 8 nodes and one root, found {len(nodes)} nodes, roots {roots}")
prov = roots[0]
pcode = nodes[prov]["code"]

def rows(d, unit, with_options=True):
    out = subprocess.run([ts, "totals", "--dir", d, "--unit", unit, "--json"], check=True,
                         capture_output=True, text=True).stdout
    got = collections.Counter()
    for r in json.loads(out):
        if r["unit"] == unit:
            key = (r["indicator"], r["period"])
            got[key + (json.dumps(r["options"], sort_keys=True),) if with_options else key] += r["value"]
    return +got

def differ(a, b):
    return sorted(set(a.items()) ^ set(b.items()))[:3]

if mode == "compare":
    for d, n in nodes.items():
        mine, there = rows(d, n["code"]), rows(prov, n["code"])
        if not mine:
            sys.exit(f"{n['code']} holds no totals: the demo entered nothing there?")
        if mine != there:
            sys.exit(f"the province differs from {n['code']} for unit {n['code']}: {differ(mine, there)}")
    kids = collections.Counter()
    for d, n in nodes.items():
        if n["parent"] == nodes[prov]["listen"]:
            kids.update(rows(d, n["code"]))
    year = str(datetime.date.today().year)
    for ind, v in (("TARGET_COUNSELLORS_CERTIFIED_PCT", 100), ("TARGET_POST_REHAB_SUPPORTED_PCT", 100),
                   ("TARGET_ADULTS_AWARE_PCT", 80)):
        kids[(ind, year, "{}")] += v
    top = rows(prov, pcode)
    if top != +kids:
        sys.exit(f"province {pcode} is not the sum of its children and its targets: {differ(top, +kids)}")
    print(f"{len(top)} cells")
else:
    base = sys.argv[4]
    year = str(datetime.date.today().year)
    checked = 0
    cat = json.load(urllib.request.urlopen(f"{base}/api/catalog", timeout=10))
    value = {i["code"] for i in cat["indicators"] if i["kind"] == "value"}
    for (ind, period), want in sorted(rows(prov, pcode, with_options=False).items()):
        if not period.startswith(year):
            continue
        url = f"{base}/api/totals?unit={pcode}&indicator={ind}&period={period}"
        got = json.load(urllib.request.urlopen(url, timeout=10))["total"]
        if (got != want) if ind in value else (got % 5 or abs(got - want) >= 5):
            sys.exit(f"{url} gives {got!r}, the province holds {want}")
        checked += 1
    if checked < 5:
        sys.exit(f"only {checked} indicator/period pairs of {year} to compare")
    print(checked)
PY
}

# stop_demo script|group: SIGINT to the demo script alone (it must stop its
# nodes itself), or to its whole process group (a terminal's Ctrl-C); then
# the demo and every node must be gone, each node having stopped cleanly.
stop_demo() {
  if [ "$1" = script ]; then
    local script
    script=$(pgrep -P "$DEMO_PID") || fail "cannot find the demo script under $DEMO_PID"
    [ "$(echo "$script" | wc -l)" = 1 ] || fail "expected one demo script, found: $script"
    kill -INT "$script"
  else
    kill -INT -- "-$DEMO_PID"
  fi
  wait_until 60 ended || fail "the demo did not stop within 60 s of SIGINT"
  wait "$DEMO_PID" 2>/dev/null || true
  ! kill -0 -- "-$DEMO_PID" 2>/dev/null || fail "processes of the demo still run after it exited"
  DEMO_PID=""
  local rc; rc=$(cat "$WORK/demo.rc")
  [ "$rc" = 0 ] || [ "$rc" = 130 ] || fail "the demo exited $rc after SIGINT"
  local logs=("$DEMO"/*.log) f code
  [ ${#logs[@]} = $NODES ] || fail "expected $NODES node logs, found ${#logs[@]}"
  for f in "${logs[@]}"; do
    code=$(sed -n 's/.* info node \([^ ]*\) (.*) running:.*/\1/p' "$f" | tail -1)
    [ -n "$code" ] || fail "$f: the node never ran"
    grep -q " info node $code stopping$" "$f" || fail "$f: node $code did not stop cleanly: $(tail -3 "$f")"
    ! grep -E " error |AddressSanitizer|runtime error|LeakSanitizer" "$f" ||
      fail "$f: errors logged"
  done
  grep -q "stopping $NODES nodes" "$OUT" || fail "the demo did not report stopping $NODES nodes"
}

for run in 1 2; do
  step "run $run: tools/demo.sh (nodes on 127.0.0.1:$BASE_PORT.., HTTP from $HTTP_PORT)"
  start_demo $run
  wait_until 400 started || fail "the demo did not start within 400 s: $(tail -5 "$OUT")"
  ended && fail "the demo exited $(cat "$WORK/demo.rc") before it was stopped: $(tail -15 "$OUT")"
  url=$(sed -n 's#^Dashboard (province): \(http://[^ ]*\)/$#\1#p' "$OUT")
  [ "$url" = "http://127.0.0.1:$HTTP_PORT" ] || fail "unexpected dashboard address '$url'"
  wait_until 120 check compare || fail "the province's totals never matched: $(check compare 2>&1 || true)"
  got=$(check compare)
  pass "run $run: the province holds every unit's totals exactly ($got at the province's unit)"
  n=$(check api "$url") || fail "API: $n"
  pass "run $run: $url/api/totals agrees for $n indicator/period pairs"
  ended && fail "the demo exited by itself: $(tail -5 "$OUT")"
  if [ $run = 1 ]; then
    stop_demo script
    pass "run $run: SIGINT to the demo script stopped all $NODES nodes cleanly"
  else
    stop_demo group
    pass "run $run: Ctrl-C (SIGINT to the process group) stopped all $NODES nodes cleanly"
  fi
done
