#!/usr/bin/env bash
# smoke_loadgen.sh: correctness smoke test of the load generator (ctest
# bench_smoke_loadgen; no timing is asserted). A real district on 127.0.0.1
# enrols 10 generated children; the generator plays them for a second and
# writes what was acknowledged; the district's totals must equal it exactly,
# per child unit and rolled up to the district itself.
set -euo pipefail
SRC=${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}
LOADGEN=${LOADGEN:?set LOADGEN to the loadgen binary}
source "$SRC/tests/integration/lib.sh"

node_init dist 343 district
step "enrol 10 generated children"
"$LOADGEN" keys --count 10 --prefix 3439 --out "$WORK/kids.keys" >"$WORK/kids.pub"
[ "$(wc -l <"$WORK/kids.pub")" -eq 10 ] || fail "loadgen keys did not print 10 keys"
[ "$(stat -c %a "$WORK/kids.keys")" = 600 ] || fail "the keys file is not mode 0600"
while read -r code key; do $TS child add --dir "$WORK/dist" "$code" "$key" >/dev/null; done <"$WORK/kids.pub"
node_start dist

step "play them for a second: 3-cell deltas, window 4"
"$LOADGEN" run --keys "$WORK/kids.keys" --parent "tcp://127.0.0.1:${PORT[dist]}" \
  --parent-key "$($TS key --dir "$WORK/dist")" --cells 3 --distinct 50 --window 4 \
  --count 100000 --duration 1 --drain 30 --connect-timeout 30 \
  --expect "$WORK/expect.txt" >"$WORK/run.txt" || fail "loadgen run failed: $(cat "$WORK/run.txt")"
acked=$(awk '$1 == "acked" {print $2}' "$WORK/run.txt")
[ "${acked:-0}" -gt 10 ] || fail "only ${acked:-0} deltas acknowledged in a second"
[ "$(awk '$1 == "nacks" {print $2}' "$WORK/run.txt")" = 0 ] || fail "the district refused deltas"

step "the district's totals equal what was acknowledged ($acked deltas)"
$TS totals --dir "$WORK/dist" --json >"$WORK/totals.json"
python3 - "$WORK/expect.txt" "$WORK/totals.json" "$acked" <<'PY'
import collections, json, sys
expect_path, totals_path, acked = sys.argv[1], sys.argv[2], int(sys.argv[3])
want, rolled = {}, collections.Counter()
for line in open(expect_path):
    unit, ind, period, opts, v = line.split()
    opts = "" if opts == "-" else opts
    want[(unit, ind, period, opts)] = int(v)
    rolled[(ind, period, opts)] += int(v)
assert sum(want.values()) == 3 * acked, f"expect file holds {sum(want.values())} cells, not 3 x {acked}"
assert len({k[0] for k in want}) == 10, "not every child had a delta acknowledged"
got, own = {}, {}
for r in json.load(open(totals_path)):
    opts = ",".join(f"{k}={v}" for k, v in sorted(r["options"].items()))
    key = (r["indicator"], r["period"], opts)
    if r["unit"] == "343":
        own[key] = r["value"]
    else:
        got[(r["unit"],) + key] = r["value"]
if got != want:
    diff = sorted(set(got.items()) ^ set(want.items()))[:5]
    sys.exit(f"child totals differ from what was acknowledged, e.g. {diff}")
if own != dict(rolled):
    sys.exit("the district's own rolled-up totals differ from the sum of its children")
print(f"{len(want)} child cells and {len(own)} rolled-up cells exact")
PY
pass "loadgen: the district holds exactly what it acknowledged"
