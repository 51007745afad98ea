#!/usr/bin/env bash
# The release window ([sync] release_s): a commune's record-derived changes
# wait in its store and leave together, at most once per window, in one
# delta stamped with the release time, while a value set leaves at once;
# through kill -9 of the commune in the middle of a window nothing is lost
# and nothing leaves early. What the commune signed is read back from the
# district's audit trail (trail_dump.py), so every claim is about the
# deltas the parent actually holds.
source "$(dirname "$0")/lib.sh"
TRAIL="${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}/tests/integration/trail_dump.py"
command -v mdb_dump >/dev/null || fail "mdb_dump is needed (Debian package lmdb-utils)"
export TIERSYNC_TODAY=2026-06-15
MONTH=202606

node_init prov 34 province
node_init dist 343 district prov
node_init c 34301 commune dist
node_set c sync release_s 3600 # first: a window far longer than the test
# the district's own window applies to its own records only: what its communes
# released it forwards at once
node_set dist sync release_s 3600
node_start prov; node_start dist; node_start c
wait_until 30 status_test c "s['parent']['acked_seq'] > 0 and s['parent']['acked_seq'] == s['parent']['head_seq']" ||
  fail "the commune's first snapshot was not acknowledged"

# record_deltas: the commune's deltas at the district that carry a record-derived
# cell (any but the catalog's value indicators), one JSON line each, seq order
record_deltas() {
  python3 "$TRAIL" "$WORK/dist/db" 34301 | python3 -c '
import json, sys
values = {"COUNSELLING_POINTS", "STAFF_TRAINED", "VOLUNTARY_REQUESTS", "TARGET_REACHED"}
for line in sys.stdin:
    d = json.loads(line)
    if any(c["indicator"] not in values for c in d["cells"]):
        print(line.strip())'
}
# unit_lines NAME: NAME's totals of commune 34301, sorted
unit_lines() {
  $TS totals --dir "$WORK/$1" --unit 34301 --json | python3 -c '
import json, sys
for r in sorted(json.load(sys.stdin), key=lambda r: (r["indicator"], r["period"], sorted(r["options"].items()))):
    print(r["indicator"], r["period"], sorted(r["options"].items()), r["value"])'
}
held() { status_field c "s['parent']['held_cells']"; }
same_as_commune() { [ "$(unit_lines "$1")" = "$(unit_lines c)" ]; }
person() { # person ID SEX REGISTERED: a person and an episode of theirs
  $TS record add --dir "$WORK/c" person id="$1" full_name="Người $1" sex="$2" birth_date=1990-01-01 \
    registered_on="$3" >/dev/null
  $TS record add --dir "$WORK/c" episode id="E$1" person_id="$1" modality=methadone start_on="$3" >/dev/null
}

step "record changes wait for the window; a value set leaves at once"
person P1 M 2026-03-02
person P2 F 2026-04-10
person P3 M 2026-05-20
h1=$(held)
[ "$h1" -gt 0 ] || fail "the record changes are not held (held_cells $h1)"
$TS value set --dir "$WORK/c" COUNSELLING_POINTS $MONTH 4 >/dev/null
expect_total 30 4 dist 34301 COUNSELLING_POINTS $MONTH
[ "$(held)" = "$h1" ] || fail "held cells changed from $h1 to $(held) inside the window"
[ -z "$(record_deltas)" ] || fail "a record-derived change reached the district inside the window: $(record_deltas)"
[ "$(total dist 34301 IN_TREATMENT $MONTH)" = 0 ] || fail "the district counts persons before the release"
pass "$h1 record-derived cells held; the value arrived alone"

step "kill -9 of the commune mid-window: nothing lost, nothing sent early"
node_kill9 c
person P4 F 2026-06-01 # while the daemon is down
h2=$(held)
[ "$h2" -gt "$h1" ] || fail "the change made while down is not held ($h2 cells, before $h1)"
node_start c
$TS value set --dir "$WORK/c" COUNSELLING_POINTS $MONTH 5 >/dev/null
expect_total 30 5 dist 34301 COUNSELLING_POINTS $MONTH # the restarted commune is linked and flushing
[ "$(held)" = "$h2" ] || fail "the restart released or lost held cells ($(held), expected $h2)"
[ -z "$(record_deltas)" ] || fail "the restart sent record-derived changes early: $(record_deltas)"
status_test c "s['parent']['next_release'] is not None" || fail "status shows no next release"
pass "held across kill -9 ($h2 cells), none sent early"

step "the window opens: every held change leaves in one delta stamped with the release time"
node_kill9 c
node_set c sync release_s 3
node_start c
wait_until 60 status_test c "s['parent']['held_cells'] == 0 and s['parent']['acked_seq'] == s['parent']['head_seq']" ||
  fail "the held changes did not leave ($(held) still held)"
[ "$(unit_lines dist)" = "$(unit_lines c)" ] || fail "the district's totals of the commune differ: $(diff <(unit_lines c) <(unit_lines dist))"
[ "$(record_deltas | wc -l)" = 1 ] || fail "the release came in $(record_deltas | wc -l) deltas: $(record_deltas)"
# releases: the release times the commune logged, one line each
releases() { sed -n 's/.*released [0-9]* record-derived cell changes (release time \([0-9]*\) ms).*/\1/p' "$WORK/c.log"; }
released=$(releases)
[ "$(wc -w <<<"$released")" = 1 ] || fail "the commune logged releases at '$released', expected one"
stamp=$(record_deltas | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["created_ms"])')
[ "$stamp" = "$released" ] || fail "the release's delta is stamped $stamp, the release was at $released"
wait_until 30 same_as_commune prov ||
  fail "the district held back what the commune released: $(diff <(unit_lines c) <(unit_lines prov))"
pass "one delta, stamped $stamp (the release time); the district's and province's totals equal the commune's"

step "a stream of edits over several windows leaves at most once per window"
before=$(record_deltas | wc -l)
for i in 5 6 7 8 9 10 11 12; do
  person "P$i" M 2026-06-0$(( i % 9 + 1 ))
  sleep 0.5
done
wait_until 60 status_test c "s['parent']['held_cells'] == 0 and s['parent']['acked_seq'] == s['parent']['head_seq']" ||
  fail "the stream did not leave ($(held) still held)"
[ "$(unit_lines dist)" = "$(unit_lines c)" ] || fail "the district's totals of the commune differ after the stream"
record_deltas | tail -n +"$before" | python3 -c '
import json, sys
t = [json.loads(l)["created_ms"] for l in sys.stdin]
gaps = [b - a for a, b in zip(t, t[1:])]
if len(t) < 2 or min(gaps) < 3000:
    sys.exit("releases %s ms apart (at least 3000 each, and at least two releases expected)" % gaps)
print("releases", len(t) - 1, "gaps ms", gaps)' || fail "the window was not respected"
[ "$(record_deltas | python3 -c 'import json,sys; [print(json.loads(l)["created_ms"]) for l in sys.stdin]')" = "$(releases)" ] ||
  fail "the record-derived deltas are not stamped with the release times: $(record_deltas) vs $(releases)"
$TS verify --dir "$WORK/dist" >"$WORK/verify.out" || { cat "$WORK/verify.out"; fail "the district does not verify"; }
pass "record changes left at most once per 3 s window; totals exact; the district verifies"
