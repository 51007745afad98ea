#!/usr/bin/env bash
# The store cannot grow (store.map_max_mb reached, LMDB's MDB_MAP_FULL):
#  A. at a commune, `tiersync import` and `tiersync value set` fail with a
#     clear message (exit 1), change nothing, and work once the limit is
#     raised, with exact totals;
#  B. at a province receiving deltas: the apply fails whole (verify: no
#     half-applied delta), the daemon keeps running and says why, and once
#     the limit is raised the child's retransmission makes it exact.
source "$(dirname "$0")/lib.sh"
command -v mdb_load >/dev/null || fail "mdb_load is needed (Debian package lmdb-utils)"
export TIERSYNC_TODAY=2024-06-15
GEN=${TIERSYNC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/gen_records.py

# fill_map DIR MIB: fills DIR's store up to a map of MIB MiB with filler
# entries in the meta table (ignored by tiersync), the way years of data
# would: big ones first, then small ones until not even one fits. (The
# dump header's mapsize makes mdb_load keep to the limit.)
fill_map() {
  local i size=1500 n=20
  for i in $(seq 1 800); do
    python3 -c '
import sys
i, size, n, mib = map(int, sys.argv[1:])
print(f"VERSION=3\nformat=print\ntype=btree\nmapsize={mib << 20}\nHEADER=END")
for k in range(n):
    print(f" zz-filler-{i}-{k}\n " + "f" * size)
print("DATA=END")' "$i" "$size" "$n" "$2" >"$WORK/filler.txt"
    if ! mdb_load -s meta -f "$WORK/filler.txt" "$1/db" 2>/dev/null; then
      [ $n = 1 ] && return 0
      size=100 n=1
    fi
  done
  fail "the store in $1 did not fill up"
}

python3 "$GEN" --out "$WORK/g" --unit 34101 --persons 400 --episodes 600 --supports 200 \
  --first-year 2016 >/dev/null

step "A. a commune whose store cannot grow: import and value set"
node_init c 34101 commune
node_set c store map_initial_mb 1
node_set c store map_max_mb 1
$TS import --dir "$WORK/c" person "$WORK/g/person.csv" >/dev/null || fail "the first import should fit in 1 MiB"
before=$(totals_lines c)
set +e
$TS import --dir "$WORK/c" episode "$WORK/g/episode.csv" >"$WORK/imp.out" 2>"$WORK/imp.err"; rc=$?
set -e
cat "$WORK/imp.err"
[ $rc = 1 ] || fail "an import into a full store exits $rc, not 1"
grep -q "the store is full at 1 MiB (store.map_max_mb); nothing was changed: raise the limit" "$WORK/imp.err" ||
  fail "the import does not say the store is full and what to do"
[ "$(totals_lines c)" = "$before" ] || fail "a failed import changed the totals"
fill_map "$WORK/c" 1
before=$(totals_lines c)
set +e
$TS value set --dir "$WORK/c" COUNSELLING_POINTS 202406 7 >"$WORK/val.out" 2>"$WORK/val.err"; rc=$?
set -e
cat "$WORK/val.err"
[ $rc = 1 ] || fail "value set into a full store exits $rc, not 1"
grep -q "the store is full at 1 MiB (store.map_max_mb); nothing was changed" "$WORK/val.err" ||
  fail "value set does not say the store is full"
[ "$(totals_lines c)" = "$before" ] || fail "a failed value set changed the totals"
pass "import and value set fail with exit 1 and 'the store is full ... raise the limit'; nothing changed"

node_set c store map_max_mb 64
$TS value set --dir "$WORK/c" COUNSELLING_POINTS 202406 7 >/dev/null || fail "value set after raising the limit"
for t in episode support; do
  $TS import --dir "$WORK/c" $t "$WORK/g/$t.csv" >/dev/null || fail "import $t after raising the limit"
done
[ "$(total c 34101 COUNSELLING_POINTS 202406)" = 7 ] || fail "the value is not 7"
expect_exact c 34101 "$WORK/g" || fail "the records' totals are not exact after the recovery"
pass "with store.map_max_mb raised, value set and import work; totals exact"

step "B. a province whose store cannot grow receives a commune's deltas"
node_init prov 34 province
node_set prov store map_initial_mb 1
node_set prov store map_max_mb 1
node_init k 34201 commune prov
node_start prov
node_start k
$TS value set --dir "$WORK/k" COUNSELLING_POINTS 202406 5 >/dev/null
expect_total 20 5 prov 34 COUNSELLING_POINTS 202406
python3 "$GEN" --out "$WORK/g2" --unit 34201 --persons 400 --episodes 600 --supports 200 \
  --first-year 2016 >/dev/null
for t in person episode support; do $TS import --dir "$WORK/k" $t "$WORK/g2/$t.csv" >/dev/null; done
wait_until 30 grep -q "the store is full at 1 MiB" "$WORK/prov.log" ||
  fail "the province does not log that its store is full"
grep "the store is full" "$WORK/prov.log" | head -n 1
node_alive prov || fail "the province died"
$TS verify --dir "$WORK/prov" --quiet >"$WORK/verify1.out" ||
  { cat "$WORK/verify1.out"; fail "a delta was half-applied at the full province"; }
[ "$(total prov 34 COUNSELLING_POINTS 202406)" = 5 ] || fail "the province's earlier total changed"
[ "$(totals_lines prov | grep '^34201 ')" != "$(totals_lines k)" ] ||
  fail "the province took everything: its store was not full"
pass "the full province refuses whole deltas, keeps running, and verifies"

step "raise the limit: the commune's retransmission makes the province exact"
node_stop prov
node_set prov store map_max_mb 64
node_start prov
converged() { [ "$(totals_lines prov | grep '^34201 ')" = "$(totals_lines k)" ]; }
wait_until 60 converged || fail "the province does not catch up with the commune"
expect_exact prov 34201 "$WORK/g2" || fail "the province's totals of 34201 are not exact"
$TS verify --dir "$WORK/prov" --quiet >/dev/null || fail "the province does not verify after the recovery"
pass "the province is exact and verifies after the limit was raised"
