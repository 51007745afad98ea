#!/usr/bin/env bash
# A planned key rotation at a district with a parent and children, under a
# stream of changes: the province moves the district's enrolment, the
# communes pin its new key, the chain continues, every total stays exact,
# `verify` passes across the rotation, and the old key is refused. The
# district is killed (-9) in the middle of the rotation and its restart
# completes it. Then a second rotation while the daemon is stopped.
source "$(dirname "$0")/lib.sh"
BURST=${CHANGE_BURST:?set CHANGE_BURST}
ROGUE=${ROGUE_CHILD:?set ROGUE_CHILD}

tree_nodes prov d1 c11 c12
for n in prov d1 c11 c12; do node_start $n; done
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202612 7 >/dev/null
expect_total 30 7 prov 34 COUNSELLING_POINTS 202612

fp() { $TS key --fingerprint "$1"; }
enrolled_fp() { $TS child list --dir "$WORK/$1" | awk -v c="$2" '$1 == c { print $2 }'; }
pinned() { sed -n '/^\[parent\]/,/^\[/p' "$WORK/$1/tiersync.conf" | sed -n 's/^key = //p'; }
rotation_done() { [ ! -e "$WORK/d1/node.key.old" ] && [ ! -e "$WORK/d1/node.key.new" ]; }
all_have() { [ "$(enrolled_fp prov 341)" = "$(fp "$1")" ] && [ "$(pinned c11)" = "$1" ] &&
             [ "$(pinned c12)" = "$1" ] && rotation_done; }

OLD=$($TS key --dir "$WORK/d1")
mkdir "$WORK/oldd1"  # the old identity, as a thief who copied it would hold it
cp -p "$WORK/d1/node.key" "$WORK/d1/node.pub" "$WORK/d1/tiersync.conf" "$WORK/oldd1/"

step "rotate d1's key while both communes stream changes; kill -9 d1 mid-rotation"
"$BURST" "$WORK/c11" 3000 202611 300 >"$WORK/burst1.out" &
B1=$!
"$BURST" "$WORK/c12" 2000 202611 300 >"$WORK/burst2.out" &
B2=$!
sleep 0.5
node_pause c12  # c12 cannot acknowledge: the rotation stays under way
$TS key rotate --dir "$WORK/d1" >"$WORK/rotate.out" || fail "key rotate failed"
cat "$WORK/rotate.out"
NEW=$($TS key --dir "$WORK/d1")
[ "$NEW" != "$OLD" ] || fail "key rotate kept the old key"
grep -q "^new key $NEW" "$WORK/rotate.out" || fail "key rotate did not print the new key"
[ "$(stat -c %a "$WORK/d1/node.key")" = 600 ] || fail "the new secret key is not mode 0600"
sleep 0.3
node_kill9 d1
[ -e "$WORK/d1/node.key.old" ] || fail "the old key is gone before c12 acknowledged the rotation"
[ "$(stat -c %a "$WORK/d1/node.key.old")" = 600 ] || fail "the old secret key is not mode 0600"
echo "killed d1 (kill -9) with the rotation under way"
node_start d1
wait_until 30 status_test d1 's["key_rotation"] and s["key_rotation"]["children_waiting"] == ["34102"] and s["key_rotation"]["parent_acknowledged"]' ||
  fail "d1's status does not show the rotation waiting for c12 only: $(status_field d1 's["key_rotation"]')"
node_resume c12
wait $B1 $B2
[ "$(cat "$WORK/burst1.out")" = 3000 ] && [ "$(cat "$WORK/burst2.out")" = 2000 ] ||
  fail "a burst did not finish"
wait_until 60 all_have "$NEW" ||
  fail "rotation incomplete: prov enrols $(enrolled_fp prov 341) (new $(fp "$NEW")), c11 pins" \
       "$(pinned c11), c12 pins $(pinned c12), old key file present: $([ -e "$WORK/d1/node.key.old" ] && echo yes || echo no)"
status_test d1 's["key_rotation"] is None' || fail "d1's status still shows a rotation"
pass "prov enrols d1's new key, c11 and c12 pin it, d1 wiped its old key"

step "exact throughout: province totals equal the communes' values"
expect_total 60 5000 prov 34 COUNSELLING_POINTS 202611
expect_total 30 10000 prov 34 STAFF_TRAINED 2026
expect_total 30 3000 prov 34101 COUNSELLING_POINTS 202611
expect_total 30 2000 prov 34102 COUNSELLING_POINTS 202611
expect_total 30 7 prov 34102 COUNSELLING_POINTS 202612
diff <(totals_lines prov | grep -v '^34 \|^341 ') <( (totals_lines c11; totals_lines c12) | sort) ||
  fail "province's per-commune totals differ from the communes' own"
pass "exact after a rotation under load and a kill -9 of the rotating district"

step "the chain continued: no snapshot after the rotation, and verify passes"
for n in prov d1; do
  $TS verify --dir "$WORK/$n" >"$WORK/v-$n.out" || { cat "$WORK/v-$n.out"; fail "$n does not verify"; }
  grep -q "everything holds" "$WORK/v-$n.out" || { cat "$WORK/v-$n.out"; fail "$n: no clean summary"; }
done
grep -q "the parent enrolled this node's new key" "$WORK/d1.log" || fail "d1 logged no enrolment of its new key"
sed -n "/the parent enrolled this node's new key/,\$p" "$WORK/d1.log" | grep -q "sending a snapshot" &&
  fail "d1 sent a snapshot after the rotation: the chain did not continue"
pass "verify passes at d1 and prov across the rotation"

step "the old key is refused"
PROV_EP="tcp://127.0.0.1:${PORT[prov]}"
out=$("$ROGUE" "$WORK/oldd1" "$PROV_EP" "$($TS key --dir "$WORK/prov")" handshakes=3 || true)
[ "$out" = "REFUSED 3 of 3" ] || fail "the old key still connects to prov: $out"
pass "prov refuses d1's old key"

step "further changes flow with the new key"
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202612 5 >/dev/null
expect_total 30 12 prov 34 COUNSELLING_POINTS 202612

step "a second rotation, made while d1's daemon is stopped, completes when it starts"
node_stop d1
$TS key rotate --dir "$WORK/d1" >/dev/null || fail "key rotate (no daemon) failed"
NEW2=$($TS key --dir "$WORK/d1")
[ "$NEW2" != "$NEW" ] || fail "the second rotation kept the key"
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202612 9 >/dev/null
node_start d1
wait_until 60 all_have "$NEW2" || fail "second rotation incomplete"
expect_total 30 14 prov 34 COUNSELLING_POINTS 202612
$TS verify --dir "$WORK/prov" >/dev/null || fail "prov does not verify after two rotations"
pass "second rotation done, totals exact, prov verifies"

step "a rotation while one is under way is refused and changes nothing"
node_pause c11
$TS key rotate --dir "$WORK/d1" >/dev/null
sleep 0.3
set +e
$TS key rotate --dir "$WORK/d1" >/dev/null 2>"$WORK/again.err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "already under way" "$WORK/again.err" || fail "a second rotation was not refused ($rc)"
node_resume c11
wait_until 60 rotation_done || fail "third rotation incomplete"
pass "one rotation at a time"

step "a stolen key: --unannounced at d1, child add --force at prov, parent set-key at the communes"
mkdir "$WORK/stolen"
cp -p "$WORK/d1/node.key" "$WORK/d1/node.pub" "$WORK/d1/tiersync.conf" "$WORK/stolen/"
node_stop d1
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS 202612 6 >/dev/null  # waits at c11
$TS key rotate --dir "$WORK/d1" --unannounced >"$WORK/oob.out" || fail "--unannounced failed"
NEW3=$($TS key --dir "$WORK/d1")
grep -q "^new key $NEW3" "$WORK/oob.out" || fail "--unannounced did not print the new key"
[ -e "$WORK/d1/node.key.old" ] && fail "--unannounced kept the stolen key"
$TS child add --dir "$WORK/prov" --force 341 "$NEW3" >/dev/null || fail "child add --force failed"
for c in c11 c12; do
  $TS parent set-key --dir "$WORK/$c" "$NEW3" >/dev/null || fail "parent set-key failed at $c"
  node_stop $c
  node_start $c
done
node_start d1
wait_until 60 all_have "$NEW3" || fail "the out-of-band key change did not take"
expect_total 60 15 prov 34 COUNSELLING_POINTS 202612
for n in prov d1; do
  $TS verify --dir "$WORK/$n" >"$WORK/v2-$n.out" || { cat "$WORK/v2-$n.out"; fail "$n does not verify"; }
done
out=$("$ROGUE" "$WORK/stolen" "$PROV_EP" "$($TS key --dir "$WORK/prov")" handshakes=3 || true)
[ "$out" = "REFUSED 3 of 3" ] || fail "the stolen key still connects to prov: $out"
pass "stolen key replaced out of band: totals exact, verify passes, the stolen key is refused"
