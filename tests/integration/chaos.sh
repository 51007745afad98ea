#!/usr/bin/env bash
# Chaos under load: a province, two districts and four communes; two
# communes stream value changes (change_burst) and two stream record
# changes (tiersync record add/update/delete) while a driver, for a set
# number of cycles, kill -9's and restarts random nodes (sometimes a
# district and the province at once) or stops them with SIGSTOP long enough
# for their links to time out, then SIGCONT. At the end every ancestor's
# totals equal what the communes hold, and every parent's audit verifies.
#
# CHAOS_CYCLES (default 40) and CHAOS_SEED (default 20261122) reproduce a run.
source "$(dirname "$0")/lib.sh"
BURST=${CHANGE_BURST:?set CHANGE_BURST}
CYCLES=${CHAOS_CYCLES:-40}
SEED=${CHAOS_SEED:-20261122}
export TIERSYNC_TODAY=2024-06-15
RANDOM=$SEED

tree_nodes prov d1 d2 c11 c12 c21 c22
NODES=(prov d1 d2 c11 c12 c21 c22)
for n in "${NODES[@]}"; do
  node_set "$n" sync heartbeat_ms 300 # a stop of a second drops the link
  node_start "$n"
done

# records_stream NAME MAX: adds, updates and deletes persons and episodes at
# commune NAME, one command each, until $WORK/stop appears or MAX commands.
records_stream() {
  local d=$WORK/$1 max=$2 i=0 ok=0
  local mods=(compulsory methadone voluntary_facility voluntary_community)
  while [ ! -e "$WORK/stop" ] && [ $i -lt "$max" ]; do
    i=$((i + 1))
    case $((i % 5)) in
      1|2) args=(add person id=P$i full_name="Người $i" sex=$([ $((i % 2)) = 0 ] && echo F || echo M)
                 birth_date=19$((60 + i % 40))-0$((1 + i % 9))-15 registered_on=2024-0$((1 + i % 5))-1$((i % 9))) ;;
      3) args=(update person id=P$((i - 1)) sex=F confirmed_on=2024-05-0$((1 + i % 9))) ;;
      4) args=(add episode id=E$i person_id=P$((i - 2)) modality=${mods[$((i % 4))]}
               start_on=2024-0$((2 + i % 4))-0$((1 + i % 9))) ;;
      0) args=(delete episode id=E$((i - 1))) ;;
    esac
    $TS record "${args[0]}" --dir "$d" "${args[@]:1}" >/dev/null 2>>"$WORK/$1.records.err" && ok=$((ok + 1)) || true
  done
  echo "$ok" >"$WORK/$1.records.out"
}

# values_stream NAME DELAY_US: change_burst runs of 200 changes (values 1..200,
# again and again) at commune NAME until $WORK/stop appears; counts changes.
values_stream() {
  local runs=0
  while [ ! -e "$WORK/stop" ] && [ $runs -lt 10000 ]; do
    "$BURST" "$WORK/$1" 200 202406 "$2" >/dev/null 2>>"$WORK/$1.burst.err" || break
    runs=$((runs + 1))
  done
  echo $((runs * 200)) >"$WORK/$1.burst.out"
}

step "streams of changes at four communes"
values_stream c11 1500 &
B1=$!
values_stream c21 2500 &
B2=$!
records_stream c12 100000 &
R1=$!
records_stream c22 100000 &
R2=$!

step "$CYCLES cycles of kill -9 / restart and SIGSTOP / SIGCONT (seed $SEED)"
kills=0
stops=0
for cycle in $(seq 1 "$CYCLES"); do
  victim=${NODES[$((RANDOM % ${#NODES[@]}))]}
  case $((RANDOM % 5)) in
    0) # a district and the province at once
      d=$([ $((RANDOM % 2)) = 0 ] && echo d1 || echo d2)
      node_kill9 prov; node_kill9 $d
      sleep 0.$((2 + RANDOM % 6))
      node_start $d; node_start prov
      kills=$((kills + 2))
      echo "cycle $cycle: kill -9 prov and $d" ;;
    1|2) # one node
      node_kill9 "$victim"
      sleep 0.$((1 + RANDOM % 5))
      node_start "$victim"
      kills=$((kills + 1))
      echo "cycle $cycle: kill -9 $victim" ;;
    *) # stopped longer than its heartbeat timeout (0.9 s)
      node_pause "$victim"
      sleep 1.$((RANDOM % 5))
      node_resume "$victim"
      stops=$((stops + 1))
      echo "cycle $cycle: SIGSTOP/SIGCONT $victim" ;;
  esac
  sleep 0.$((3 + RANDOM % 5))
done
touch "$WORK/stop"
wait $B1 $B2 $R1 $R2 || true
for n in "${NODES[@]}"; do node_alive "$n" || fail "node $n died by itself"; done
n11=$(cat "$WORK/c11.burst.out"); n21=$(cat "$WORK/c21.burst.out")
r12=$(cat "$WORK/c12.records.out"); r22=$(cat "$WORK/c22.records.out")
[ "${n11:-0}" -gt 0 ] && [ "${n21:-0}" -gt 0 ] && [ "${r12:-0}" -gt 0 ] && [ "${r22:-0}" -gt 0 ] ||
  fail "a stream committed nothing ($n11, $n21, $r12, $r22)"
echo "committed: $n11 and $n21 value changes at 34101 and 34201, $r12 and $r22 record changes at 34102 and 34202"

step "every ancestor converges to what the communes hold"
# the communes' own totals, and each district's whole table, as the province must hold them
own() { (totals_lines c11; totals_lines c12; totals_lines c21; totals_lines c22) | sort; }
communes_at() { totals_lines "$1" | grep -E '^3[0-9]{4} ' | sort; }
subtree_at_prov() { totals_lines prov | grep -E "^($1|$1[0-9][0-9]) " | sort; }
converged() {
  [ "$(communes_at prov)" = "$(own)" ] &&
  [ "$(totals_lines d1 | sort)" = "$(subtree_at_prov 341)" ] &&
  [ "$(totals_lines d2 | sort)" = "$(subtree_at_prov 342)" ] &&
  [ "$(communes_at d1)" = "$( (totals_lines c11; totals_lines c12) | sort)" ] &&
  [ "$(communes_at d2)" = "$( (totals_lines c21; totals_lines c22) | sort)" ]
}
if ! wait_until 120 converged; then
  diff <(communes_at prov) <(own) | head -n 20 >&2 || true
  fail "the province's per-commune totals differ from the communes' own"
fi
# each run of change_burst ends at 200 points and 400 staff
[ "$(total prov 34101 COUNSELLING_POINTS 202406)" = 200 ] || fail "34101's last value is not 200 at the province"
[ "$(total prov 34201 STAFF_TRAINED 2024)" = 400 ] || fail "34201's last staff value is not 400 at the province"
[ -n "$(own)" ] && [ "$(own | grep -c PERSONS_MANAGED)" -gt 0 ] || fail "no record totals at the communes"
pass "province and districts equal the communes ($(own | wc -l) commune totals)"

step "every parent's audit trail verifies"
for n in prov d1 d2; do
  $TS verify --dir "$WORK/$n" --quiet >"$WORK/verify-$n.out" || { cat "$WORK/verify-$n.out" >&2; fail "$n does not verify"; }
done
pass "prov, d1 and d2 verify"
echo "chaos: $CYCLES cycles survived: $kills kill -9 and $stops SIGSTOP/SIGCONT, with $n11 + $n21 value and $r12 + $r22 record changes streaming"
