#!/usr/bin/env bash
# Link faults through a TCP proxy (fault_proxy.py) that holds or drops
# traffic: a province, a district and two communes, the district's uplink and
# one commune's uplink each through a proxy. Under a stream of value and
# record changes the proxies, in turn, freeze every connection (TCP up,
# nothing moves), hold the old connections for ever while new ones pass (a
# half-open peer the heartbeat must detect), and cut everything (resets, new
# connections refused for a while). After each fault the totals are exact.
source "$(dirname "$0")/lib.sh"
BURST=${CHANGE_BURST:?set CHANGE_BURST}
PROXY="python3 $(dirname "$0")/fault_proxy.py"
export TIERSYNC_TODAY=2026-11-15

declare -A CTL
# proxy NAME TARGET_NODE: a proxy in front of TARGET_NODE's listen port;
# its port is PORT[NAME], its control port CTL[NAME].
proxy() {
  PORT[$1]=$(free_port)
  CTL[$1]=$(free_port)
  $PROXY "${PORT[$1]}" "${PORT[$2]}" "${CTL[$1]}" 2>>"$WORK/$1.log" &
  PID[$1]=$!
  wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/${CTL[$1]}" || fail "proxy $1 did not start"
}
# ctl NAME COMMAND: sends COMMAND to proxy NAME, prints its answer.
ctl() {
  exec 4<>"/dev/tcp/127.0.0.1/${CTL[$1]}"
  echo "$2" >&4
  local answer
  read -r answer <&4
  exec 4<&-
  [ "$2" = stats ] && echo "$answer" || [ "$answer" = ok ] || fail "proxy $1: $2: $answer"
}
# node_init_via NAME CODE LEVEL PARENT PROXY: NAME's parent endpoint is PROXY.
node_init_via() {
  PORT[$1]=$(free_port)
  $TS init --dir "$WORK/$1" --code "$2" --name "Unit $2" --level "$3" \
    --listen "tcp://127.0.0.1:${PORT[$1]}" --http "" \
    --parent "tcp://127.0.0.1:${PORT[$5]}" --parent-key "$($TS key --dir "$WORK/$4")" >/dev/null
  $TS child add --dir "$WORK/$4" "$2" "$($TS key --dir "$WORK/$1")" >/dev/null
}

node_init prov 34 province
proxy px_prov prov
node_init_via d1 341 district prov px_prov
proxy px_d1 d1
node_init_via c1 34101 commune d1 px_d1
node_init c2 34102 commune d1
for n in prov d1 c1 c2; do
  node_set "$n" sync heartbeat_ms 300 # a peer silent for about a second is dropped
  node_start "$n"
done

# One round of changes at both communes: value bursts, and record adds.
ROUND=0
changes() {
  ROUND=$((ROUND + 1))
  "$BURST" "$WORK/c1" 400 202611 2000 >"$WORK/burst.c1.$ROUND" &
  local b=$!
  for i in 1 2 3 4 5; do
    $TS record add --dir "$WORK/c2" person id="R$ROUND-$i" full_name="Người $ROUND $i" \
      sex=F birth_date=1990-01-01 registered_on=2026-11-0$i >/dev/null
  done
  wait $b
}
# exact: the province holds what the communes hold, cell for cell.
province_matches() {
  diff <(totals_lines prov | grep -v '^34 \|^341 ') <( (totals_lines c1; totals_lines c2) | sort)
}
exact() {
  wait_until 60 province_matches || { province_matches; fail "province differs after $1"; }
  expect_total 10 400 prov 34101 COUNSELLING_POINTS 202611
  expect_total 10 $((ROUND * 5)) prov 34 PERSONS_MANAGED 202611
  pass "exact after $1"
}

changes
exact "a clean start"

step "freeze every connection for 4 s while changes are made"
ctl px_prov freeze
ctl px_d1 freeze
changes
sleep 4
ctl px_prov pass
ctl px_d1 pass
exact "a frozen link"

step "hold the old connections for ever; new ones pass"
ctl px_prov holdold
ctl px_d1 holdold
changes
exact "half-open connections (heartbeat redialled)"
[ "$(ctl px_prov stats | sed 's/.*held=\([0-9]*\).*/\1/')" -ge 1 ] ||
  fail "the proxy held no connection: the fault was not exercised"

step "cut everything and refuse new connections for 3 s"
ctl px_prov cut
ctl px_d1 cut
changes
sleep 3
ctl px_prov pass
ctl px_d1 pass
exact "a cut link"

step "every parent's audit trail verifies"
$TS verify --dir "$WORK/prov" >/dev/null || fail "province audit failed"
$TS verify --dir "$WORK/d1" >/dev/null || fail "district audit failed"
pass "audits verify after the faults"
