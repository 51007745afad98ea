#!/usr/bin/env bash
# `child add` and `child remove` take effect on a running parent without a
# restart: a child started before its enrolment connects once added, and a
# removed child's deltas are no longer accepted.
source "$(dirname "$0")/lib.sh"

node_init d1 341 district
node_init c1 34101 commune d1
node_init c2 34102 commune
# c2 points at d1 but is not enrolled yet
node_set c2 parent endpoint "tcp://127.0.0.1:${PORT[d1]}"
node_set c2 parent key "$($TS key --dir "$WORK/d1")"
for n in d1 c1 c2; do node_start $n; done
$TS value set --dir "$WORK/c2" COUNSELLING_POINTS 202611 4 >/dev/null
$TS value set --dir "$WORK/c1" COUNSELLING_POINTS 202611 1 >/dev/null
expect_total 20 1 d1 341 COUNSELLING_POINTS 202611
sleep 1
[ "$(total d1 341 COUNSELLING_POINTS 202611)" = 1 ] || fail "unenrolled child's value arrived"
wait_until 10 grep -q "refused this node's key" "$WORK/c2.log" || fail "child did not report the refusal"
pass "unenrolled child kept out, told why"

step "enrol c2 while d1 runs"
$TS child add --dir "$WORK/d1" 34102 "$($TS key --dir "$WORK/c2")" >/dev/null
expect_total 20 5 d1 341 COUNSELLING_POINTS 202611
pass "enrolment took effect without restart"

step "remove c2 while d1 runs"
$TS child remove --dir "$WORK/d1" 34102 >/dev/null
$TS value set --dir "$WORK/c2" COUNSELLING_POINTS 202611 40 >/dev/null
$TS value set --dir "$WORK/c1" COUNSELLING_POINTS 202611 2 >/dev/null
expect_total 20 6 d1 341 COUNSELLING_POINTS 202611
sleep 1
[ "$(total d1 341 COUNSELLING_POINTS 202611)" = 6 ] || fail "removed child's change applied"
pass "removal took effect without restart"
