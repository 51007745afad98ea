#!/usr/bin/env bash
# Backup and restore at a district of a running three-level tree: a hot
# backup taken while its communes keep changing values is consistent, has
# mode 0600 and is never overwritten; restore is refused while the node runs
# and for another node's backup; the older backup restored at the stopped
# district comes back to exact totals, and so does the province, through the
# children's snapshots and the parent's resync.
source "$(dirname "$0")/lib.sh"
export TIERSYNC_TODAY=2026-11-15
M=202611 Y=2026

tree_nodes prov d1 c11 c12
for n in prov d1 c11 c12; do node_start $n; done
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS $M 3 >/dev/null
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS $M 4 >/dev/null
$TS value set --dir "$WORK/c11" STAFF_TRAINED $Y 5 >/dev/null
$TS value set --dir "$WORK/d1" TARGET_REACHED $Y 50 modality=methadone >/dev/null
expect_total 20 7 prov 34 COUNSELLING_POINTS $M
expect_total 20 50 prov 34 TARGET_REACHED $Y modality=methadone

# sum_parts NAME: COUNSELLING_POINTS of 341 minus its communes' at NAME; 0
# when the store NAME holds is consistent (the district enters none itself).
sum_parts() {
  echo $(( $(total "$1" 341 COUNSELLING_POINTS $M) - $(total "$1" 34101 COUNSELLING_POINTS $M) \
           - $(total "$1" 34102 COUNSELLING_POINTS $M) ))
}

step "hot backup of the district while its communes keep changing values"
# The communes change values until the backup is done, then 5 more times
# (bounded: 400 rounds at most).
changes() {
  local after=0
  for i in $(seq 1 400); do
    $TS value set --dir "$WORK/c11" COUNSELLING_POINTS $M $((10 + i)) >/dev/null
    $TS value set --dir "$WORK/c12" COUNSELLING_POINTS $M $((500 + i)) >/dev/null
    [ -e "$WORK/backup-done" ] && after=$((after + 1))
    [ $after -lt 5 ] || return 0
  done
}
changes &
CHANGER=$!
district_sees_changes() { [ "$(total d1 34102 COUNSELLING_POINTS $M)" -gt 500 ]; }
wait_until 30 district_sees_changes || fail "the district never saw the communes' changes"
B1="$WORK/backups/d1-1.mdb"
mkdir -p "$WORK/backups"
out=$($TS backup --dir "$WORK/d1" "$B1") || fail "backup while running: $out"
touch "$WORK/backup-done"
wait "$CHANGER"
[ -f "$B1" ] || fail "no backup file"
[ "$(stat -c %a "$B1")" = 600 ] || fail "backup mode $(stat -c %a "$B1"), expected 600"
ls "$WORK/backups" | grep -v '^d1-1.mdb$' && fail "backup left a temporary file"
pass "backup written while the district ran and changed: $out"

step "backup refuses an existing file and leaves it alone"
sum_before=$(sha256sum <"$B1")
set +e
err=$($TS backup --dir "$WORK/d1" "$B1" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "backup over an existing file exited $rc, expected 2"
echo "$err" | grep -q "already exists" || fail "refusal does not say why: $err"
[ "$(sha256sum <"$B1")" = "$sum_before" ] || fail "the existing backup was changed"
pass "existing file refused: $err"

step "the backup is consistent: its roll-ups equal the sum of its parts"
mkdir "$WORK/inspect"
cp "$WORK/d1/tiersync.conf" "$WORK/d1/node.key" "$WORK/d1/node.pub" "$WORK/inspect/"
$TS restore --dir "$WORK/inspect" "$B1" >/dev/null || fail "restore into a scratch copy failed"
[ "$(sum_parts inspect)" = 0 ] || fail "backup inconsistent: 341 differs from its communes by $(sum_parts inspect)"
backed=$(total inspect 341 COUNSELLING_POINTS $M)
in_backup=$(total inspect 34102 COUNSELLING_POINTS $M)
final=$(total c12 34102 COUNSELLING_POINTS $M)
[ "$in_backup" -gt 500 ] || fail "the backup holds none of the changes ($in_backup)"
[ "$in_backup" -lt "$final" ] || fail "the backup ($in_backup) was not taken while values changed (last $final)"
[ "$(total inspect 341 TARGET_REACHED $Y modality=methadone)" = 50 ] || fail "backup lost the district's own value"
pass "backup consistent (341 holds $backed = sum of its communes)"

step "after the backup: new values at the communes and at the district"
$TS value set --dir "$WORK/c11" COUNSELLING_POINTS $M 1000 >/dev/null
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS $M 2000 >/dev/null
$TS value set --dir "$WORK/c12" STAFF_TRAINED $Y 8 >/dev/null
$TS value set --dir "$WORK/d1" TARGET_REACHED $Y 60 modality=methadone >/dev/null
expect_total 20 3000 prov 34 COUNSELLING_POINTS $M
expect_total 20 13 prov 34 STAFF_TRAINED $Y
expect_total 20 60 prov 34 TARGET_REACHED $Y modality=methadone

step "restore is refused while the district runs, and for another node's backup"
set +e
err=$($TS restore --dir "$WORK/d1" "$B1" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "restore while running exited $rc, expected 2"
echo "$err" | grep -q "is running" || fail "refusal does not say why: $err"
[ "$(total d1 341 COUNSELLING_POINTS $M)" = 3000 ] || fail "a refused restore changed the store"
$TS backup --dir "$WORK/c11" "$WORK/backups/c11.mdb" >/dev/null
node_stop d1
set +e
err=$($TS restore --dir "$WORK/d1" "$WORK/backups/c11.mdb" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "restoring a commune's backup at the district exited $rc, expected 2"
echo "$err" | grep -q "not a backup of node 341" || fail "refusal does not say why: $err"
[ "$(total d1 341 COUNSELLING_POINTS $M)" = 3000 ] || fail "a refused restore changed the store"
[ ! -e "$WORK/d1/db/data.mdb.before-restore" ] || fail "a refused restore left files"
pass "refused: running node, foreign backup"

step "restore the older backup at the stopped district, start it"
out=$($TS restore --dir "$WORK/d1" "$B1") || fail "restore failed: $out"
[ "$(total d1 341 COUNSELLING_POINTS $M)" = "$backed" ] || fail "the restored store is not the backup"
[ -f "$WORK/d1/db/data.mdb.before-restore" ] || fail "the replaced store was not kept"
[ "$(stat -c %a "$WORK/d1/db/data.mdb")" = 600 ] || fail "restored store mode $(stat -c %a "$WORK/d1/db/data.mdb")"
node_start d1
expect_total 30 3000 d1 341 COUNSELLING_POINTS $M
expect_total 30 3000 prov 34 COUNSELLING_POINTS $M
expect_total 30 2000 prov 34102 COUNSELLING_POINTS $M
expect_total 30 13 prov 34 STAFF_TRAINED $Y
# the district's own value is the backup's: entered after it, lost with it
expect_total 30 50 prov 34 TARGET_REACHED $Y modality=methadone
[ "$(sum_parts d1)" = 0 ] || fail "restored district inconsistent"
pass "restored district and province exact again"

step "the province holds exactly what the district holds for its subtree"
sub() { totals_lines "$1" | awk '$1 == "341" || $1 == "34101" || $1 == "34102"'; }
same_subtree() { [ "$(sub prov)" = "$(sub d1)" ]; }
wait_until 30 same_subtree || fail "province and district differ: $(diff <(sub prov) <(sub d1) | head)"
[ "$(sub d1 | wc -l)" -ge 4 ] || fail "the district holds too few totals to compare"
state=$(status_field prov '[c["state"] for c in s["children"] if c["code"]=="341"][0]')
[ "$state" = current ] || fail "province shows the district as $state"
pass "province = district over 341's subtree; district current"

step "tiersync verify holds at the restored district and at the province"
for n in d1 prov; do
  out=$($TS verify --dir "$WORK/$n" --quiet 2>&1) || fail "verify at $n after the restore: $out"
done
pass "verify: the restored numbers are the ones the children signed"
