#!/usr/bin/env bash
# A province with two districts and four communes, plus one commune directly
# under the province (post-2025 shape): values set at communes and districts
# reach every ancestor exactly, with drill-down per unit.
source "$(dirname "$0")/lib.sh"

tree_nodes prov d1 d2 c11 c12 c21 c22 c0
for n in prov d1 d2 c11 c12 c21 c22 c0; do node_start $n; done

step "values at communes and districts"
i=0
for n in c11 c12 c21 c22 c0; do
  i=$((i + 1))
  $TS value set --dir "$WORK/$n" COUNSELLING_POINTS 202611 $i >/dev/null
  $TS value set --dir "$WORK/$n" TARGET_REACHED 2026 $((10 * i)) modality=methadone >/dev/null
done
$TS value set --dir "$WORK/d1" TARGET_REACHED 2026 100 modality=compulsory >/dev/null
$TS value set --dir "$WORK/d2" TARGET_REACHED 2026 200 modality=compulsory >/dev/null

expect_total 20 15 prov 34 COUNSELLING_POINTS 202611
expect_total 20 150 prov 34 TARGET_REACHED 2026 modality=methadone
expect_total 20 300 prov 34 TARGET_REACHED 2026 modality=compulsory
pass "province totals exact"

step "drill-down at the province and the districts"
expect_total 5 3 prov 341 COUNSELLING_POINTS 202611
expect_total 5 7 prov 342 COUNSELLING_POINTS 202611
expect_total 5 5 prov 34001 COUNSELLING_POINTS 202611
expect_total 5 1 prov 34101 COUNSELLING_POINTS 202611
expect_total 5 4 prov 34202 COUNSELLING_POINTS 202611
expect_total 5 100 prov 341 TARGET_REACHED 2026 modality=compulsory
expect_total 5 30 prov 341 TARGET_REACHED 2026 modality=methadone
expect_total 5 3 d1 341 COUNSELLING_POINTS 202611
expect_total 5 7 d2 342 COUNSELLING_POINTS 202611
[ "$(total d1 34201 COUNSELLING_POINTS 202611)" = 0 ] || fail "district 341 holds another district's commune"
pass "drill-down exact"

step "overwrite at a commune propagates the difference"
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 11 >/dev/null
expect_total 20 25 prov 34 COUNSELLING_POINTS 202611
expect_total 5 13 prov 341 COUNSELLING_POINTS 202611
pass "overwrite exact"

step "forward_detail = self hides a district's communes"
node_init d3 343 district prov --forward-detail self
node_init c31 34301 commune d3
node_start d3; node_start c31
$TS value set --dir "$WORK/c31" COUNSELLING_POINTS 202611 9 >/dev/null
expect_total 20 34 prov 34 COUNSELLING_POINTS 202611
expect_total 5 9 prov 343 COUNSELLING_POINTS 202611
[ "$(total prov 34301 COUNSELLING_POINTS 202611)" = 0 ] || fail "self detail leaked commune 34301"
pass "forward_detail self"

step "status shows children current"
[ "$(status_field prov 'len(s["children"])')" = 4 ] || fail "province should list 4 children"
[ "$(status_field c11 's["parent"]["connected"]')" = True ] || fail "commune not connected"
[ "$(status_field c11 's["parent"]["code"]')" = 341 ] || fail "commune does not know its parent's code"
pass "status"
