#!/usr/bin/env bash
# A parent that lost its store (wiped, or restored from an older backup) is
# brought back to exact totals by its children's snapshots, automatically.
source "$(dirname "$0")/lib.sh"

tree_nodes prov d1 c11 c12
for n in prov d1 c11 c12; do node_start $n; done
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 3 >/dev/null
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202611 4 >/dev/null
$TS value set --dir "$WORK/d1" TARGET_REACHED 2026 50 modality=methadone >/dev/null
expect_total 20 7 prov 34 COUNSELLING_POINTS 202611
expect_total 20 50 prov 34 TARGET_REACHED 2026 modality=methadone

step "district restored from an older backup"
node_stop d1
cp -a "$WORK/d1/db" "$WORK/d1-backup"
node_start d1
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 10 >/dev/null
$TS value set --dir "$WORK/d1" TARGET_REACHED 2026 60 modality=methadone >/dev/null
for i in 1 2 3; do
  $TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202611 $((4 + i)) >/dev/null; sleep 0.2
done
expect_total 20 17 prov 34 COUNSELLING_POINTS 202611
node_stop d1
rm -rf "$WORK/d1/db" && cp -a "$WORK/d1-backup" "$WORK/d1/db"
[ "$(total d1 341 COUNSELLING_POINTS 202611)" = 7 ] || fail "backup should hold the old total"
node_start d1
expect_total 30 17 d1 341 COUNSELLING_POINTS 202611
expect_total 30 17 prov 34 COUNSELLING_POINTS 202611
expect_total 10 50 prov 34 TARGET_REACHED 2026 modality=methadone   # d1's own value is the backup's
expect_total 10 10 prov 34101 COUNSELLING_POINTS 202611
grep -q "snapshot" "$WORK/c11.log" || fail "commune did not resync by snapshot"
pass "restored district exact again (children resynced by snapshot)"

step "district store wiped; operator re-enrols the children"
node_stop d1
rm -rf "$WORK/d1/db"
$TS child add --dir "$WORK/d1" 34101 "$($TS key --dir "$WORK/c11")" >/dev/null
$TS child add --dir "$WORK/d1" 34102 "$($TS key --dir "$WORK/c12")" >/dev/null
node_start d1
expect_total 30 17 d1 341 COUNSELLING_POINTS 202611
expect_total 30 17 prov 34 COUNSELLING_POINTS 202611
expect_total 10 0 prov 34 TARGET_REACHED 2026 modality=methadone   # its own value was wiped with it
pass "wiped district rebuilt from its children; province exact"

step "province wiped: the districts resync it"
node_stop prov
rm -rf "$WORK/prov/db"
$TS child add --dir "$WORK/prov" 341 "$($TS key --dir "$WORK/d1")" >/dev/null
node_start prov
expect_total 30 17 prov 34 COUNSELLING_POINTS 202611
expect_total 10 7 prov 34102 COUNSELLING_POINTS 202611
pass "wiped province exact"
