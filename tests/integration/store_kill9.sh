#!/usr/bin/env bash
# store_kill9.sh: the store survives kill -9 in the middle of a burst of
# writes. Each round starts a writer (a bounded loop of `tiersync value set`
# with increasing values, in its own process group) and kills the whole group
# with SIGKILL mid-burst, sometimes the daemon too. After every kill the store
# must reopen (totals, status, child list work, LMDB's own tools read it) and
# hold exactly a committed value: the last one a completed `value set`
# printed, or the one in flight when the kill came (committed, not yet
# printed). Then writing goes on from there.
source "$(dirname "$0")/lib.sh"

ROUNDS=8
SETS_PER_ROUND=300
# three writers at once, one cell each, contending for LMDB's write lock: a
# kill lands inside a transaction, or while holding the lock, more often
CELLS=("STAFF_TRAINED 2026" "VOLUNTARY_REQUESTS 2026" "COUNSELLING_POINTS 202601")

node_init a 12345 commune
D=$WORK/a
node_start a
wait_until 20 grep -q "running" "$WORK/a.log" || fail "the daemon did not start"

# check_total CELL VALUE...: prints the store's total of CELL, which must be
# one of the given values.
check_total() {
  local cell=($1) got; shift
  got=$(total a 12345 "${cell[0]}" "${cell[1]}") || fail "totals failed after the kill"
  for v in "$@"; do [ "$got" = "$v" ] && { echo "$got"; return 0; }; done
  fail "${cell[*]} is $got after the kill; only $* were possible"
}

# check_lmdb: LMDB's own tools read the environment, and every table is there.
check_lmdb() {
  mdb_stat -e "$D/db" >"$WORK/stat.out" 2>&1 || fail "mdb_stat: $(cat "$WORK/stat.out")"
  mdb_stat -a "$D/db" >"$WORK/stat.out" 2>&1 || fail "mdb_stat -a: $(cat "$WORK/stat.out")"
  for t in meta units totals local; do
    grep -q "Status of $t" "$WORK/stat.out" || fail "mdb_stat does not show table $t"
  done
  mdb_dump -a "$D/db" >/dev/null 2>"$WORK/dump.err" || fail "mdb_dump -a: $(cat "$WORK/dump.err")"
  mdb_dump -p -s totals "$D/db" >"$WORK/dump.out" 2>"$WORK/dump.err" || fail "mdb_dump totals: $(cat "$WORK/dump.err")"
}

declare -a next held # per cell: the value the next writer starts at, the value the store holds
for i in "${!CELLS[@]}"; do next[$i]=$(( 1 + 1000 * i )); held[$i]=0; done
for round in $(seq 1 $ROUNDS); do
  step "round $round"
  # the writers: one process group, so one kill reaches every bash loop and
  # the tiersync processes they wait for
  for i in "${!CELLS[@]}"; do : >"$WORK/writer.$round.$i"; done
  setsid bash -c '
    ts=$1 dir=$2 n=$3 log=$4; shift 4
    i=0
    while [ $# -gt 0 ]; do
      ( for v in $(seq "$3" "$(( $3 + n - 1 ))"); do
          "$ts" value set --dir "$dir" "$1" "$2" "$v" >>"$log.$i" 2>>"$log.$i.err" || exit 1
        done ) &
      shift 3; i=$((i + 1))
    done
    wait' writers "$TS" "$D" "$SETS_PER_ROUND" "$WORK/writer.$round" \
    ${CELLS[0]} "${next[0]}" ${CELLS[1]} "${next[1]}" ${CELLS[2]} "${next[2]}" &
  wpid=$!
  # setsid takes the new group only once the forked shell has exec'd it
  wait_until 10 bash -c '[ "$(ps -o pgid= -p "$1" | tr -d " ")" = "$1" ]' _ "$wpid" ||
    fail "the writers are not in their own process group"
  # let them commit a varying number of writes first (bounded; not a timing check)
  want=$(( 5 + RANDOM % 40 ))
  for _ in $(seq 1 2000); do
    [ "$(wc -l <"$WORK/writer.$round.0")" -ge "$want" ] && break
    kill -0 "$wpid" 2>/dev/null || break
    sleep 0.01
  done
  kill -9 -- "-$wpid" 2>/dev/null || true
  wait "$wpid" 2>/dev/null || true
  daemon_killed=0
  if (( round % 3 == 0 )); then node_kill9 a; daemon_killed=1; fi

  summary=""
  for i in "${!CELLS[@]}"; do
    cell=(${CELLS[$i]})
    log=$WORK/writer.$round.$i
    n=$(wc -l <"$log")
    [ ! -s "$log.err" ] || fail "round $round: a write failed before the kill: $(cat "$log.err")"
    [ "$n" -lt "$SETS_PER_ROUND" ] || fail "round $round: burst $i ended before the kill"
    printed=${held[$i]} # the value the last completed write left
    if [ "$n" = 0 ]; then # nothing printed: at most the first write is in
      held[$i]=$(check_total "${CELLS[$i]}" "${held[$i]}" "${next[$i]}")
    else
      # printed values are consecutive, and the first says what it replaced
      first=$(head -n 1 "$log" | sed -n "s/^12345 ${cell[0]} ${cell[1]} = \([0-9]*\) (was \([0-9]*\))$/\1 \2/p")
      last=$(tail -n 1 "$log" | sed -n "s/^12345 ${cell[0]} ${cell[1]} = \([0-9]*\) (was [0-9]*)$/\1/p")
      [ -n "$first" ] && [ -n "$last" ] || fail "round $round: writer output '$(head -n 1 "$log")' .. '$(tail -n 1 "$log")'"
      [ "${first%% *}" = "${next[$i]}" ] || fail "round $round: first write was ${first%% *}, expected ${next[$i]}"
      [ "${first##* }" = "${held[$i]}" ] || fail "round $round: first write replaced ${first##* }, the store held ${held[$i]}"
      [ "$last" = $(( next[i] + n - 1 )) ] || fail "round $round: $n writes ended at $last"
      printed=$last
      held[$i]=$(check_total "${CELLS[$i]}" "$last" "$(( last + 1 ))")
    fi
    next[$i]=$(( held[i] + 1 ))
    summary+=" ${cell[0]}=${held[$i]} ($n printed$([ "${held[$i]}" = "$printed" ] || echo ", 1 in flight"))"
  done
  $TS status --dir "$D" --json >"$WORK/status.json" || fail "status failed after the kill"
  cells=0; for i in "${!CELLS[@]}"; do [ "${held[$i]}" = 0 ] || cells=$((cells + 1)); done
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["code"]=="12345" and s["total_cells"]==int(sys.argv[2]), s' \
    "$WORK/status.json" "$cells" || fail "status after the kill: $(cat "$WORK/status.json")"
  $TS child list --dir "$D" >/dev/null || fail "child list failed after the kill"
  check_lmdb
  grep -q "12345|STAFF_TRAINED|2026|" "$WORK/dump.out" || fail "mdb_dump does not show the cell"
  if [ $daemon_killed = 1 ]; then
    : >"$WORK/a.log"
    node_start a
    wait_until 20 grep -q "running" "$WORK/a.log" || fail "the daemon did not restart after kill -9"
  else
    node_alive a || fail "the daemon died during round $round"
  fi
  pass "round $round:$summary"
done

step "after the rounds: the store still takes writes and reads them back"
out=$($TS value set --dir "$D" STAFF_TRAINED 2026 7) || fail "value set after the rounds"
[ "$out" = "12345 STAFF_TRAINED 2026 = 7 (was ${held[0]})" ] || fail "value set printed '$out'"
[ "$(total a 12345 STAFF_TRAINED 2026)" = 7 ] || fail "final total"
[ "$(total a 12345 COUNSELLING_POINTS 202601)" = "${held[2]}" ] || fail "final total of the third cell"
node_stop a
check_lmdb
pass "store survives kill -9"
