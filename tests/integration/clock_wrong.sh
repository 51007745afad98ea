#!/usr/bin/env bash
# Wrong clocks (libfaketime sets a process's clock): a commune PC whose clock
# starts in 2000 (a dead CMOS battery) refuses a real date with a message that
# names the clock as the cause, and says so when the daemon starts; a clock
# set back before the store's last write is named too. A commune whose clock
# runs 90 days ahead: its district measures and warns of the offset, and the
# months not begun at the district stay pending at the commune (a child that
# sends one anyway is refused FUTURE_PERIOD).
source "$(dirname "$0")/lib.sh"
ROGUE=${ROGUE_CHILD:?set ROGUE_CHILD}
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$FAKETIME_LIB" ] || { echo "SKIP: libfaketime (Debian faketime) is not installed"; exit 77; }
# clock TIME: sets CLOCK to a command prefix that runs a program with its clock
# at TIME ("@2000-01-01 09:00:00" or "+90d"); env execs it, so a daemon
# started as "${CLOCK[@]}" $TS run ... & has its own pid in $!
clock() {
  CLOCK=(env FAKETIME="$1" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$FAKETIME_LIB"
         ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0")
}
unset TIERSYNC_TODAY

node_init c1 34101 commune
step "a clock in 2000 refuses a real date and names the clock"
clock "@2000-01-01 09:00:00"
out=$("${CLOCK[@]}" $TS record add --dir "$WORK/c1" person id=P1 \
  full_name="Nguyễn Văn An" sex=M birth_date=1980-05-01 registered_on=2026-11-02 2>&1) &&
  fail "a date after the (wrong) today was accepted"
echo "$out" | grep -q "registered_on.*after today (2000-01-01); this computer's clock says 2000-01-01, before this program was built" ||
  fail "the refusal does not name the clock: $out"
echo "$out" | grep -q "warning: this computer's clock says 2000-01-01" ||
  fail "the command did not warn about the clock at start: $out"
pass "refused, naming the clock: $(echo "$out" | grep registered_on | head -1)"

step "the daemon says so at start"
"${CLOCK[@]}" $TS run --dir "$WORK/c1" >"$WORK/c1.log" 2>&1 &
PID[c1]=$!
wait_until 10 grep -q "this computer's clock says 2000-01-01" "$WORK/c1.log" ||
  fail "the daemon did not warn about its clock"
node_stop c1
pass "the daemon warned"

step "a clock set back before the store's last write is named too"
$TS record add --dir "$WORK/c1" person id=P1 full_name="Nguyễn Văn An" sex=M \
  birth_date=1980-05-01 registered_on=2026-11-02 >/dev/null
# the store was last written 40 days from now: this clock is 40 days behind it
touch -d "+40 days" "$WORK/c1/db/data.mdb"
out=$($TS record add --dir "$WORK/c1" person id=P2 full_name="Trần Thị Bình" \
  sex=F birth_date=1982-01-01 registered_on=2026-11-03 2>&1) || fail "the add was refused: $out"
echo "$out" | grep -q "warning: this computer's clock says .*, before this node's store was last written" ||
  fail "a clock 40 days behind the store's last write was not named: $out"
pass "named: $(echo "$out" | grep warning | head -1)"

step "a commune whose clock runs 90 days ahead, under a district with a right clock"
node_init d1 341 district
node_init c2 34102 commune d1
node_init c3 34103 commune d1
node_start d1
clock "+90d"
"${CLOCK[@]}" $TS run --dir "$WORK/c2" >>"$WORK/c2.log" 2>&1 &
PID[c2]=$!
month=$(date +%Y%m)
ahead=$(date -d '+90 days' +%Y%m)
"${CLOCK[@]}" $TS record add --dir "$WORK/c2" person id=P1 full_name="Lê Văn Cường" sex=M \
  birth_date=1990-05-01 registered_on="$(date +%F)" >/dev/null
expect_total 30 1 d1 34102 PERSONS_MANAGED "$month"
wait_until 20 status_test c2 's["parent"]["waiting_future_cells"] >= 1' ||
  fail "the commune does not say its cells wait for their months: $(status_field c2 's["parent"]')"
[ "$(total d1 34102 PERSONS_MANAGED "$ahead")" = 0 ] || fail "the district holds a month it has not begun"
off=$(status_field d1 '[c["clock_offset_s"] for c in s["children"] if c["code"] == "34102"][0]')
[ "$off" -gt 7700000 ] && [ "$off" -lt 7800000 ] || fail "the district measured a clock offset of $off s"
grep -q "child 34102: its clock is +77[0-9]* s (90.0 days) ahead of this node's" "$WORK/d1.log" ||
  fail "the district did not warn of the child's clock"
$TS status --dir "$WORK/c2" | grep -q "cells wait for their months to begin at the parent" ||
  fail "the commune's status does not say why cells wait"
pass "the district holds this month only, measured +$off s and warned; the commune holds the rest back"

step "the commune's clock set right: the months it ran ahead are withdrawn, never sent"
node_stop c2
node_start c2
wait_until 30 status_test c2 's["parent"]["waiting_future_cells"] == 0' ||
  fail "cells still wait after the clock was set right"
expect_total 10 1 d1 34102 PERSONS_MANAGED "$month"
[ "$(total d1 34102 PERSONS_MANAGED "$ahead")" = 0 ] || fail "a month not begun reached the district"
pass "exact, and no month ahead ever reached the district"

step "a cell for a period not begun is refused FUTURE_PERIOD; a plan for next year is not"
out=$("$ROGUE" "$WORK/c3" "tcp://127.0.0.1:${PORT[d1]}" "$($TS key --dir "$WORK/d1")" valid future valid)
[ "$(echo "$out" | sed -n 3p | cut -d" " -f1-2)" = "NACK REASON_FUTURE_PERIOD" ] ||
  fail "a cell for next year was not refused FUTURE_PERIOD: $out"
echo "$out" | sed -n 4p | grep -q '^ACK' || fail "the child's chain did not continue: $out"
next=$(( $(date +%Y) + 1 ))
$TS value set --dir "$WORK/c2" TARGET_REACHED "$next" 40 modality=methadone >/dev/null
expect_total 20 40 d1 34102 TARGET_REACHED "$next" modality=methadone
pass "refused with the reason, the chain goes on; next year's plan travels"
