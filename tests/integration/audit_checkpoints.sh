#!/usr/bin/env bash
# Checkpoints bound the audit trail above a commune: with [audit]
# checkpoint_s = 2 (the test override of checkpoint_days) the commune and
# the district each send a signed snapshot every 2 s while changes flow; a
# checkpoint changes no total, the district keeps the commune's deltas only
# back to the second-newest checkpoint (the trail starts with a snapshot and
# holds exactly two), `tiersync verify` checks from there and passes, and
# the province's totals stay exact. Last, the commune's store is altered
# behind its back: its next checkpoint disagrees with what the district
# holds, which the district logs and counts, and takes as truth.
source "$(dirname "$0")/lib.sh"
TRAIL="${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}/tests/integration/trail_dump.py"
command -v mdb_load >/dev/null && command -v mdb_dump >/dev/null ||
  fail "mdb_dump and mdb_load are needed (Debian package lmdb-utils)"
export TIERSYNC_TODAY=2026-06-15
MONTH=202606

node_init prov 34 province
node_init dist 343 district prov
node_init c 34301 commune dist
for n in dist c; do node_set $n audit checkpoint_s 2; done
for n in prov dist c; do node_start $n; done

# unit_lines NAME UNIT: NAME's totals of UNIT, sorted
unit_lines() {
  $TS totals --dir "$WORK/$1" --unit "$2" --json | python3 -c '
import json, sys
for r in sorted(json.load(sys.stdin), key=lambda r: (r["indicator"], r["period"], sorted(r["options"].items()))):
    print(r["indicator"], r["period"], sorted(r["options"].items()), r["value"])'
}
# snapshots: seqs of the commune's snapshots in the district's trail, then "first=SEQ"
snapshots() {
  python3 "$TRAIL" "$WORK/dist/db" 34301 | python3 -c '
import json, sys
d = [json.loads(l) for l in sys.stdin]
print(" ".join(str(x["seq"]) for x in d if x["snapshot"]), "first=%d" % (d[0]["seq"] if d else 0),
      "first_is_snapshot=%s" % (bool(d) and d[0]["snapshot"]))'
}
# trail_cut: the trail holds exactly two snapshots and starts with the older
trail_cut() { [[ "$(snapshots)" =~ ^[0-9]+\ [0-9]+\ first=[0-9]+\ first_is_snapshot=True$ ]]; }
settled() { status_test "$1" "s['parent']['acked_seq'] == s['parent']['head_seq'] and s['parent']['pending_cells'] == 0"; }

step "changes flow for several checkpoint periods"
for i in $(seq 1 12); do
  $TS record add --dir "$WORK/c" person id="P$i" full_name="Người $i" sex=M birth_date=1990-01-01 \
    registered_on=2026-0$(( i % 6 + 1 ))-02 >/dev/null
  $TS value set --dir "$WORK/c" COUNSELLING_POINTS $MONTH "$i" >/dev/null
  $TS value set --dir "$WORK/dist" STAFF_TRAINED 2026 "$i" >/dev/null
  sleep 0.6
done
wait_until 30 settled c || fail "the commune's changes did not settle"
wait_until 30 settled dist || fail "the district's changes did not settle"
[ "$(unit_lines prov 34301)" = "$(unit_lines c 34301)" ] || fail "the province's totals of the commune differ"
[ "$(unit_lines prov 343)" = "$(unit_lines dist 343)" ] || fail "the province's totals of the district differ"
pass "the province's totals equal the commune's and the district's"

step "the district keeps the commune's deltas back to the second-newest checkpoint"
node_stop c # no more checkpoints: the trail settles at the next prune (every 5 s)
wait_until 30 trail_cut ||
  fail "the trail is not cut at the second-newest checkpoint: snapshots $(snapshots)"
read -r older newest first _ <<<"$(snapshots)"
[ "${first#first=}" = "$older" ] && [ "$older" -gt 1 ] ||
  fail "the trail starts at seq ${first#first=}, its oldest checkpoint is $older"
$TS verify --dir "$WORK/dist" >"$WORK/v-dist.out" || { cat "$WORK/v-dist.out"; fail "the district does not verify"; }
grep -q "^ok: child 34301: seq $older\.\.[0-9]* checked: .*from its oldest checkpoint kept (the signed snapshot at seq $older)" \
  "$WORK/v-dist.out" || fail "verify does not check from the oldest checkpoint: $(cat "$WORK/v-dist.out")"
$TS verify --dir "$WORK/prov" >"$WORK/v-prov.out" || { cat "$WORK/v-prov.out"; fail "the province does not verify"; }
status_test dist "s['children'][0]['checkpoints_disagreed'] == 0" || fail "a checkpoint disagreed"
pass "trail from seq $older (checkpoints $older and $newest); verify passes from there; no disagreement"

step "a checkpoint that disagrees is logged, counted and taken as truth"
node_stop dist
# the commune's own value, changed behind its back: key "34301|COUNSELLING_POINTS|202606|", int64 77
printf '34301|COUNSELLING_POINTS|%s|\n\\4d\\00\\00\\00\\00\\00\\00\\00\n' $MONTH >"$WORK/local.txt"
mdb_load -T -s local -f "$WORK/local.txt" "$WORK/c/db" || fail "mdb_load of the commune's value"
node_start dist; node_start c
expect_total 30 77 dist 34301 COUNSELLING_POINTS $MONTH
wait_until 30 status_test dist "s['children'][0]['checkpoints_disagreed'] >= 1" || fail "the disagreement was not counted"
grep -q "child 34301: its checkpoint at seq [0-9]* disagrees with the contribution held here in 1 cells (first 34301|COUNSELLING_POINTS|$MONTH|: held 12 (cell key [0-9]*), the checkpoint says 77 (cell key [0-9]*))" \
  "$WORK/dist.log" || fail "the disagreement was not logged: $(grep -i checkpoint "$WORK/dist.log" | tail -n 3)"
expect_total 30 77 prov 34301 COUNSELLING_POINTS $MONTH
pass "counted, logged with the cell, and the checkpoint's value taken up to the province"
