#!/usr/bin/env bash
# Nothing forged, replayed, out of order, foreign, unknown or malformed is
# applied; an unenrolled key cannot even connect; every refusal is counted in
# status, and the parent keeps serving its honest children meanwhile. A
# string that is not text (NUL, invalid UTF-8) is refused wherever it is; a
# newline in a refused code forges no log line; repeated refusals are logged
# once a minute; a child removed while connected is disconnected at once.
source "$(dirname "$0")/lib.sh"
ROGUE=${ROGUE_CHILD:?set ROGUE_CHILD}

tree_nodes prov d1 d2 c11 c21
node_init rogue 34102 commune d1        # enrolled at d1, driven by rogue_child
node_init forger 34103 commune d1       # enrolled at d1, sends one forged log line
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

step "a string that is not text is refused MALFORMED, in every field, before any other check"
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" nul:indicator nul:unit nul:period nul:options \
    nul:origin nul:catalog nul:name badutf8:name badutf8:indicator badutf8:unit nul:hello \
    >"$WORK/rogue3.out"
cat "$WORK/rogue3.out"
expected="WELCOME 2"
for i in $(seq 11); do expected+=$'\n'"NACK REASON_MALFORMED 3"; done
[ "$(cat "$WORK/rogue3.out")" = "$expected" ] || fail "unexpected replies (see above)"
expect_total 10 2 d1 34102 COUNSELLING_POINTS 202611
[ "$(total d1 34102 STAFF_TRAINED 202611 2>/dev/null || echo 0)" = 0 ] || fail "cut string applied"
pass "11 strings with NUL or invalid UTF-8 refused, nothing applied"

step "repeated refusals: one log line a minute per child and reason, per address at the handshake"
n=$(grep -c 'child 34102: refused (REASON_MALFORMED)' "$WORK/d1.log")
[ "$n" = 1 ] || fail "$n lines for 12 MALFORMED refusals of 34102 within a minute, expected 1"
out=$("$ROGUE" "$WORK/stranger" "$D1_EP" "$D1_KEY" handshakes=40)
[ "$out" = "REFUSED 40 of 40" ] || fail "unenrolled handshakes: $out"
n=$(grep -c "refused connection .* not enrolled" "$WORK/d1.log")
[ "$n" = 1 ] || fail "$n lines for over 40 refused handshakes from one address, expected 1"
pass "one line each"

step "a newline in a refused code forges no log line; a Nack quoting a cut code is still UTF-8"
out=$("$ROGUE" "$WORK/forger" "$D1_EP" "$D1_KEY" newline:origin long:origin)
[ "$out" = $'WELCOME 0\nNACK REASON_WRONG_ORIGIN 1\nNACK REASON_WRONG_ORIGIN 1' ] ||
  fail "forger got: $out"
! grep -q '^FAKE-LOG-LINE' "$WORK/d1.log" || fail "the district's log holds a forged line"
grep -qF 'claims origin x\x0aFAKE-LOG-LINE' "$WORK/d1.log" || fail "the refusal is not logged escaped"
pass "the newline is logged as \\x0a; the Nack details are UTF-8"

step "a snapshot in parts changes nothing until its last part, then everything at once"
rm -f "$WORK/part1" "$WORK/part2"
"$ROGUE" "$WORK/forger" "$D1_EP" "$D1_KEY" snap:1/3 "pause=$WORK/part1" snap:2/3 \
    "pause=$WORK/part2" snap:3/3 >"$WORK/snap.out" &
snap_pid=$!
wait_until 20 grep -q '^ACK 1' "$WORK/snap.out" || fail "part 1 not acknowledged"
[ "$(total d1 34103 COUNSELLING_POINTS 202601)" = 0 ] || fail "part 1 of 3 applied on its own"
touch "$WORK/part1"
wait_until 20 grep -q '^ACK 2' "$WORK/snap.out" || fail "part 2 not acknowledged"
for m in 01 02; do
  [ "$(total d1 34103 COUNSELLING_POINTS 2026$m)" = 0 ] || fail "2026$m applied before the last part"
done
$TS verify --dir "$WORK/d1" >/dev/null || fail "verify finds the trail wrong while a snapshot is staged"
touch "$WORK/part2"
wait "$snap_pid" || true
cat "$WORK/snap.out"
grep -q '^ACK 3' "$WORK/snap.out" || fail "last part not acknowledged"
for m in 01 02 03; do
  eq_total 10 d1 34103 COUNSELLING_POINTS 2026$m || fail "2026$m not applied with the last part"
  expect_total 20 10 prov 34103 COUNSELLING_POINTS 2026$m
done
$TS verify --dir "$WORK/d1" >/dev/null || fail "verify finds the trail wrong after the snapshot"
pass "held while staged, applied whole with its last part, here and upward"

step "a grossly oversized message only drops the connection; the node keeps serving"
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" valid >/dev/null
node_set rogue sync max_message_bytes 16777216   # rogue builds a 16 MiB message
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" oversized >"$WORK/rogue2.out" || true
grep -q "NO-REPLY" "$WORK/rogue2.out" || fail "giant message got a reply: $(cat "$WORK/rogue2.out")"
node_alive d1 || fail "district died"
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202611 7 >/dev/null
expect_total 20 10 prov 341 COUNSELLING_POINTS 202611   # 7 (c11) + 3 (rogue's valid deltas)
pass "district alive and serving"

step "a child removed while connected is disconnected at once and cannot come back"
rm -f "$WORK/removed"
"$ROGUE" "$WORK/rogue" "$D1_EP" "$D1_KEY" valid "pause=$WORK/removed" disconnected valid \
    >"$WORK/rogue4.out" &
rogue_pid=$!
wait_until 20 grep -q '^ACK' "$WORK/rogue4.out" || fail "rogue got no ack: $(cat "$WORK/rogue4.out")"
$TS child remove --dir "$WORK/d1" 34102 >/dev/null   # a CLI process beside the running daemon
touch "$WORK/removed"
wait "$rogue_pid" || true
cat "$WORK/rogue4.out"
[ "$(sed -n 3,4p "$WORK/rogue4.out")" = $'DISCONNECTED\nNO-REPLY' ] ||
  fail "the removed child kept its session or got an answer"
pass "disconnected; its next delta gets no answer"
