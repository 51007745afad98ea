#!/usr/bin/env bash
# kill -9 of a district, a commune and the province in the middle of a stream
# of changes, each restarted: every ancestor ends exact, nothing counted twice.
source "$(dirname "$0")/lib.sh"
BURST=${CHANGE_BURST:?set CHANGE_BURST}

tree_nodes prov d1 d2 c11 c12 c21
for n in prov d1 d2 c11 c12 c21; do node_start $n; done
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202611 7 >/dev/null
expect_total 20 7 prov 34 COUNSELLING_POINTS 202611

step "two communes stream 3,000 changes each while nodes are killed"
"$BURST" "$WORK/c11" 3000 202611 700 >"$WORK/burst1.out" &
B1=$!
"$BURST" "$WORK/c21" 3000 202611 700 >"$WORK/burst2.out" &
B2=$!
for victim in d1 c21 prov d2 c11 d1; do
  sleep 0.7
  node_kill9 $victim
  echo "killed $victim (kill -9)"
  sleep 0.3
  node_start $victim
done
wait $B1 $B2
[ "$(cat "$WORK/burst1.out")" = 3000 ] && [ "$(cat "$WORK/burst2.out")" = 3000 ] || fail "a burst did not finish"

step "every ancestor exact"
expect_total 60 6007 prov 34 COUNSELLING_POINTS 202611
expect_total 10 12000 prov 34 STAFF_TRAINED 2026
expect_total 10 3007 prov 341 COUNSELLING_POINTS 202611
expect_total 10 3000 prov 342 COUNSELLING_POINTS 202611
expect_total 10 3000 prov 34101 COUNSELLING_POINTS 202611
expect_total 10 3007 d1 341 COUNSELLING_POINTS 202611
expect_total 10 3000 d2 34201 COUNSELLING_POINTS 202611
pass "exact after kill -9 of district, commune and province mid-stream"

step "the province's full table equals the sum of the communes' own values"
diff <(totals_lines prov | grep -v '^34 \|^341 \|^342 ') \
     <( (totals_lines c11; totals_lines c12; totals_lines c21) | sort) ||
  fail "province's per-commune totals differ from the communes' own"
pass "per-commune totals identical"
