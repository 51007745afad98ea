#!/usr/bin/env bash
# Case records in a three-level tree: two communes import generated lists
# (thousands of persons with episodes and supports) and the province's
# totals — for itself, the district and each commune — equal the totals
# tools/gen_records.py computes independently from the same records. Then
# privacy: no personal value (name, ID number, birth date, address) nor any
# record id is in any byte a commune sends upward, in the district's or the
# province's data directory (LMDB files included) or in any log. Last, a
# year turn while the communes are down: on restart they add the new
# periods by themselves and the province matches the expected totals again.
source "$(dirname "$0")/lib.sh"

GEN="${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}/tools/gen_records.py"
export TIERSYNC_TODAY=2025-12-20
LATER=2026-01-10

step "generate two communes' lists"
python3 "$GEN" --out "$WORK/data1" --unit 34301 --persons 3000 --seed 11 --prefix XA --expect-at $LATER
python3 "$GEN" --out "$WORK/data2" --unit 34302 --persons 2500 --seed 12 --prefix XB --expect-at $LATER
cat "$WORK/data1/pii.txt" "$WORK/data2/pii.txt" >"$WORK/pii.txt"
cat "$WORK/data1/ids.txt" "$WORK/data2/ids.txt" >"$WORK/ids.txt"
[ "$(wc -l <"$WORK/pii.txt")" -gt 10000 ] || fail "too few personal values generated"

node_init prov 34 province
node_init dist 343 district prov
node_init c1 34301 commune dist
node_init c2 34302 commune dist
node_start prov; node_start c1; node_start c2   # the district comes later

step "import at both communes"
for c in 1 2; do
  for t in person episode support; do
    $TS import --dir "$WORK/c$c" $t "$WORK/data$c/$t.csv" >>"$WORK/import-c$c.log" 2>&1 ||
      fail "import of c$c $t refused: $(tail -n 5 "$WORK/import-c$c.log")"
  done
done
grep -q "3000 inserted" "$WORK/import-c1.log" || fail "c1 did not insert 3000 persons"
pass "imports accepted"

# match NODE UNIT EXPECTED.json...: NODE's totals of UNIT equal the sum of the files' cells.
match() {
  local node=$1 unit=$2; shift 2
  $TS totals --dir "$WORK/$node" --unit "$unit" --json | python3 -c '
import json, sys
want = {}
for path in sys.argv[1:]:
    for k, v in json.load(open(path))["cells"].items():
        want[k] = want.get(k, 0) + v
got = {}
for r in json.load(sys.stdin):
    if r["indicator"] in ("COUNSELLING_POINTS", "STAFF_TRAINED", "VOLUNTARY_REQUESTS", "TARGET_REACHED"):
        continue
    key = "%s|%s|%s" % (r["indicator"], r["period"], ",".join("%s=%s" % kv for kv in sorted(r["options"].items())))
    got[key] = r["value"]
bad = [k for k in set(want) | set(got) if want.get(k, 0) != got.get(k, 0)]
if bad:
    print("%d cells differ, e.g. %s: want %s, got %s" % (len(bad), bad[0], want.get(bad[0]), got.get(bad[0])))
    sys.exit(1)
' "$@"
}

step "what a commune sends upward holds no personal value"
# (its parent never reached, it keeps record-derived changes pending until a
# Welcome tells the parent's date)
wait_until 30 status_test c1 "s['parent']['head_seq'] > 0 or s['parent']['pending_cells'] > 0" ||
  fail "c1 holds nothing to send while its parent is away"
match c1 34301 "$WORK/data1/expected.json" || fail "c1's own totals differ from the generator's"
# the outbox (signed deltas, as they go on the wire) and pending (what goes next), raw bytes
for table in outbox pending held; do
  mdb_dump -s $table "$WORK/c1/db" | python3 -c '
import sys
lines = sys.stdin.read().split("HEADER=END\n", 1)[1].splitlines()
sys.stdout.buffer.write(b"".join(bytes.fromhex(l.strip()) + b"\n" for l in lines if l.startswith(" ")))
' >"$WORK/c1-$table.bin"
done
grep -a -q "IN_TREATMENT" "$WORK"/c1-{outbox,pending,held}.bin ||
  fail "the upward tables hold no cells: the check would be void"
if grep -a -F -q -f "$WORK/pii.txt" "$WORK/c1-outbox.bin" "$WORK/c1-pending.bin" "$WORK/c1-held.bin"; then
  fail "a personal value is in c1's upward bytes: $(grep -a -o -F -f "$WORK/pii.txt" "$WORK"/c1-*.bin | head -n 3)"
fi
if grep -a -F -q -f "$WORK/ids.txt" "$WORK/c1-outbox.bin" "$WORK/c1-pending.bin" "$WORK/c1-held.bin"; then
  fail "a record id is in c1's upward bytes"
fi
pass "c1's outbox and pending hold counts only"

step "the province's totals equal the generator's"
node_start dist
wait_until 60 match prov 34301 "$WORK/data1/expected.json" ||
  fail "province, commune 34301: $(match prov 34301 "$WORK/data1/expected.json")"
wait_until 20 match prov 34302 "$WORK/data2/expected.json" ||
  fail "province, commune 34302: $(match prov 34302 "$WORK/data2/expected.json")"
match prov 343 "$WORK/data1/expected.json" "$WORK/data2/expected.json" || fail "province, district 343"
match prov 34 "$WORK/data1/expected.json" "$WORK/data2/expected.json" || fail "province, own unit 34"
match dist 343 "$WORK/data1/expected.json" "$WORK/data2/expected.json" || fail "district 343"
pass "province exact for 34, 343, 34301 and 34302"

step "re-importing an unchanged list changes nothing"
$TS import --dir "$WORK/c1" person "$WORK/data1/person.csv" >"$WORK/reimport.log" 2>&1 || fail "re-import refused"
grep -q "3000 unchanged; 0 cells" "$WORK/reimport.log" || fail "re-import: $(cat "$WORK/reimport.log")"

step "no personal value or record id above the communes, nor in any log"
[ -n "$(grep -a -r -l -F -f "$WORK/pii.txt" "$WORK/c1/db")" ] ||
  fail "control: the search finds nothing even in c1's own records"
for what in pii ids; do
  hits=$(grep -a -r -l -F -f "$WORK/$what.txt" "$WORK/prov" "$WORK/dist" "$WORK"/*.log || true)
  [ -z "$hits" ] || fail "$what values found in: $hits"
done
pass "district and province directories and all logs are clean"

step "a year turns while the communes are down"
node_stop c1; node_stop c2
export TIERSYNC_TODAY=$LATER
# the year turns for the district and the province too: they accept no count
# for a month they have not begun (FUTURE_PERIOD)
node_stop dist; node_stop prov
node_start prov; node_start dist
node_start c1; node_start c2
wait_until 60 match prov 34 "$WORK/data1/expected-$LATER.json" "$WORK/data2/expected-$LATER.json" ||
  fail "after the turn: $(match prov 34 "$WORK/data1/expected-$LATER.json" "$WORK/data2/expected-$LATER.json")"
match prov 34301 "$WORK/data1/expected-$LATER.json" || fail "after the turn, 34301"
grep -q "counted periods moved from 202512 to 202601" "$WORK/c1.log" || fail "c1 did not log the turn"
pass "the new month and year were added by the communes themselves"
