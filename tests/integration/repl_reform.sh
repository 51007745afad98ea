#!/usr/bin/env bash
# The 2025 reform: a commune that reported through a district now reports
# straight to the province. Same binary, no code change: the district purges
# it, the province enrols it, the commune points at the province and resyncs.
source "$(dirname "$0")/lib.sh"
command -v mdb_dump >/dev/null || fail "mdb_dump is needed (Debian package lmdb-utils)"

tree_nodes prov d1 c11 c12
for n in prov d1 c11 c12; do node_start $n; done
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 3 >/dev/null
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202611 4 >/dev/null
expect_total 20 7 prov 34 COUNSELLING_POINTS 202611
expect_total 5 7 prov 341 COUNSELLING_POINTS 202611

step "the province cannot take c12 while the district still counts it"
out=$($TS child add --dir "$WORK/prov" 34102 "$($TS key --dir "$WORK/c12")" 2>&1) && fail "add should be refused"
echo "$out" | grep -q "remove --purge 34102" || fail "refusal does not say what to do: $out"

step "district purges c12; province enrols it; c12 now reports to the province"
# c12's signed deltas in the district's audit trail: index keys "34102|" + seq
trail_c2() { mdb_dump -s audit_index "$WORK/d1/db" | grep -c "^ $(printf '34102|' | od -An -tx1 | tr -d ' \n')" || true; }
[ "$(trail_c2)" -gt 0 ] || fail "the district keeps no signed delta of c12 before the purge"
$TS child remove --dir "$WORK/d1" --purge 34102 >/dev/null
[ "$(trail_c2)" = 0 ] || fail "the purge left c12's signed deltas in the district's audit trail"
entries() { mdb_stat -s "$1" "$WORK/d1/db" | awk '/Entries:/ {print $2}'; }
[ "$(entries audit_log)" = "$(entries audit_index)" ] || fail "the purge left deltas in audit_log"
expect_total 20 3 prov 341 COUNSELLING_POINTS 202611
expect_total 20 3 prov 34 COUNSELLING_POINTS 202611
$TS verify --dir "$WORK/d1" >/dev/null || fail "district does not verify after the purge"
$TS child add --dir "$WORK/prov" 34102 "$($TS key --dir "$WORK/c12")" >/dev/null
node_stop c12
node_set c12 parent endpoint "tcp://127.0.0.1:${PORT[prov]}"
node_set c12 parent key "$($TS key --dir "$WORK/prov")"
node_start c12
expect_total 20 7 prov 34 COUNSELLING_POINTS 202611
expect_total 5 4 prov 34102 COUNSELLING_POINTS 202611
expect_total 5 3 prov 341 COUNSELLING_POINTS 202611
[ "$(total d1 34102 COUNSELLING_POINTS 202611)" = 0 ] || fail "district still holds the moved commune"
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202611 6 >/dev/null
expect_total 20 9 prov 34 COUNSELLING_POINTS 202611
expect_total 5 3 prov 341 COUNSELLING_POINTS 202611
pass "commune moved from district to province, totals exact throughout"
