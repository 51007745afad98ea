#!/usr/bin/env bash
# Nothing forged, replayed, out of order, foreign, unknown or malformed is
# applied; an unenrolled key cannot even connect; every refusal is counted in
# status, and the parent keeps serving its honest children meanwhile.
source "$(dirname "$0")/lib.sh"
ROGUE=${ROGUE_CHILD:?set ROGUE_CHILD}

tree_nodes prov d1 d2 c11 c21
node_init rogue 34102 commune d1        # enrolled at d1, driven by rogue_child
node_init stranger 34199 commune        # never enrolled anywhere
for n in prov d1 d2 c11 c21; do node_start $n; done
$TS value set --dir "$WORK/c21" COUNSELLING_POINTS 202611 1 >/dev/null
expect_total 20 1 prov 34201 COUNSELLING_POINTS 202611   # 34201 is now known under 342
D1_EP="tcp://127.0.0.1:${PORT[d1]}"
D1_KEY=$($TS key --dir "$WORK/d1")

step "an unenrolled key cannot complete the handshake"
out=$("$ROGUE" "$WORK/stranger" "$D1_EP" "$D1_KEY" valid || true)
[ "$out" = "NO-WELCOME" ] || fail "unenrolled node got: $out"
grep -q "refused connection .* not enrolled" "$WORK/d1.log" || fail "refused handshake not logged"
pass "unenrolled key refused"

step "forged, replayed, gap, broken chain, foreign, wrong origin, unknown, random, oversized"
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 5 >/dev/null
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" valid forged replay gap broken foreign=34201 \
    origin=34101 unknown random oversized valid >"$WORK/rogue.out"
cat "$WORK/rogue.out"
expected="WELCOME 0
ACK 1
NACK REASON_BAD_SIGNATURE 2
ACK 1
NACK REASON_GAP 2
NACK REASON_BROKEN_CHAIN 2
NACK REASON_FOREIGN_UNIT 2
NACK REASON_WRONG_ORIGIN 2
NACK REASON_UNKNOWN_CODE 2
NACK REASON_MALFORMED 2
NACK REASON_TOO_LARGE 2
ACK 2"
[ "$(cat "$WORK/rogue.out")" = "$expected" ] || fail "unexpected replies (see above)"
pass "each refused with its reason; duplicates re-acked"

step "only the two valid deltas were applied, upward too"
expect_total 10 2 d1 34102 COUNSELLING_POINTS 202611
expect_total 10 2 prov 34102 COUNSELLING_POINTS 202611
expect_total 10 1 prov 34201 COUNSELLING_POINTS 202611
[ "$(total d1 34201 COUNSELLING_POINTS 202611)" = 0 ] || fail "foreign cell applied at d1"
[ "$(total d1 341 NO_SUCH_INDICATOR 202611 2>/dev/null || echo 0)" = 0 ] || fail "unknown applied"
pass "nothing refused was applied"

step "refusals are counted in status"
refused=$(status_field d1 '[c["refused"] for c in s["children"] if c["code"]=="34102"][0]')
[ "$refused" = 8 ] || fail "d1 counts $refused refusals for 34102, expected 8"
[ "$(status_field d1 '[c["refused"] for c in s["children"] if c["code"]=="34101"][0]')" = 0 ] ||
  fail "honest child has refusals"
pass "8 refusals counted for 34102, none for 34101"

step "a grossly oversized message only drops the connection; the node keeps serving"
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" valid >/dev/null
node_set rogue sync max_message_bytes 16777216   # rogue builds a 16 MiB message
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" oversized >"$WORK/rogue2.out" || true
grep -q "NO-REPLY" "$WORK/rogue2.out" || fail "giant message got a reply: $(cat "$WORK/rogue2.out")"
node_alive d1 || fail "district died"
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 7 >/dev/null
expect_total 20 10 prov 341 COUNSELLING_POINTS 202611   # 7 (c11) + 3 (rogue's valid deltas)
pass "district alive and serving"
