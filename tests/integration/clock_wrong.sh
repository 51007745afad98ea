#!/usr/bin/env bash
# Wrong clocks (libfaketime sets a process's clock): a commune PC whose clock
# starts in 2000 (a dead CMOS battery) refuses a real date with a message that
# names the clock as the cause, and says so when the daemon starts; a clock
# set back before the store's last write is named too.
source "$(dirname "$0")/lib.sh"
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$FAKETIME_LIB" ] || { echo "SKIP: libfaketime (Debian faketime) is not installed"; exit 77; }
# with_clock TIME CMD...: runs CMD with its clock at TIME ("@2000-01-01 09:00:00" or "-30d")
with_clock() {
  local t=$1; shift
  FAKETIME="$t" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$FAKETIME_LIB" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$@"
}
unset TIERSYNC_TODAY

node_init c1 34101 commune
step "a clock in 2000 refuses a real date and names the clock"
out=$(with_clock "@2000-01-01 09:00:00" $TS record add --dir "$WORK/c1" person id=P1 \
  full_name="Nguyễn Văn An" sex=M birth_date=1980-05-01 registered_on=2026-11-02 2>&1) &&
  fail "a date after the (wrong) today was accepted"
echo "$out" | grep -q "registered_on.*after today (2000-01-01); this computer's clock says 2000-01-01, before this program was built" ||
  fail "the refusal does not name the clock: $out"
echo "$out" | grep -q "warning: this computer's clock says 2000-01-01" ||
  fail "the command did not warn about the clock at start: $out"
pass "refused, naming the clock: $(echo "$out" | grep registered_on | head -1)"

step "the daemon says so at start"
with_clock "@2000-01-01 09:00:00" $TS run --dir "$WORK/c1" >"$WORK/c1.log" 2>&1 &
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
