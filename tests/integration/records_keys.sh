#!/usr/bin/env bash
# Cell keys at every level: two communes import generated records (each
# cluster gets its random record key) and the district's and province's cells
# must carry, beside each count, exactly the cell key the communes hold (their
# own keys are the sums of their records' hashes: test_agg), a unit above
# them the sum modulo 2^32 of its communes'. Read from the LMDB tables with
# mdb_dump. Checked after the first sync, after a commune is killed -9 while
# importing, and after the district, restored from an older backup, is
# brought back by its communes' snapshots.
source "$(dirname "$0")/lib.sh"

export TIERSYNC_TODAY=2026-03-15
node_init prov 34 province
node_init dist 343 district prov
node_init c1 34301 commune dist
node_init c2 34302 commune dist
seed=41
for c in 1 2; do
  for part in a b; do
    python3 "$TIERSYNC_SOURCE/tools/gen_records.py" --out "$WORK/rec$c$part" --unit 3430$c \
        --persons 40 --seed $seed --prefix "K$c$part" --today "$TIERSYNC_TODAY" --no-expected >/dev/null
    seed=$((seed + 1))
  done
  for t in person episode support; do
    $TS import --dir "$WORK/c$c" $t "$WORK/rec${c}a/$t.csv" >/dev/null
  done
done
for n in prov dist c1 c2; do node_start $n; done

# figures NODE UNIT: "cell count key" lines of UNIT's totals as NODE holds them
# (table totals, a leaf's from contrib, a commune's own from local).
figures() {
  local table
  for table in local totals contrib; do
    mdb_dump -s $table "$WORK/$1/db" 2>/dev/null | sed -n '/HEADER=END/,$p' | tail -n +2 |
      sed "s/^/$table /" || true
  done | python3 -c '
import sys, struct
unit, rows, lines = sys.argv[1], {}, sys.stdin.read().splitlines()
pairs = [l.split() for l in lines if len(l.split()) == 2 and l.split()[1] != "DATA=END"]
for (t, k), (_, v) in zip(pairs[0::2], pairs[1::2]):
    key, val = bytes.fromhex(k).decode(), bytes.fromhex(v)
    if t == "contrib":
        key = key.split("|", 1)[1]
    if not key.startswith(unit + "|"):
        continue
    count, = struct.unpack("<q", val[:8])
    ckey = struct.unpack("<I", val[8:12])[0] if len(val) == 12 else 0
    rows.setdefault(key, (count, ckey))  # a unit keeps its totals in one table
for k in sorted(rows):
    print(k.split("|", 1)[1], *rows[k])
' "$2"
}

# sum_of NODE:UNIT...: the figures summed per cell, keys modulo 2^32.
sum_of() {
  local spec
  for spec in "$@"; do figures "${spec%%:*}" "${spec#*:}"; done | python3 -c '
import sys
s = {}
for l in sys.stdin:
    cell, count, key = l.split()
    c, k = s.get(cell, (0, 0))
    s[cell] = (c + int(count), (k + int(key)) % 2**32)
for cell in sorted(s):
    if s[cell] != (0, 0):
        print(cell, *s[cell])
'
}

same_figures() { [ "$(sum_of "$1")" = "$(sum_of "$2")" ] && [ -n "$(sum_of "$1")" ]; }

# every level holds its communes' counts and cell keys
keys_agree() {
  same_figures prov:34301 c1:34301 && same_figures prov:34302 c2:34302 &&
    same_figures dist:34301 c1:34301 &&
    [ "$(sum_of dist:343)" = "$(sum_of c1:34301 c2:34302)" ] &&
    [ "$(sum_of prov:343)" = "$(sum_of c1:34301 c2:34302)" ] &&
    [ "$(sum_of prov:34)" = "$(sum_of c1:34301 c2:34302)" ]
}

check() {
  wait_until 60 keys_agree || {
    diff <(sum_of prov:343) <(sum_of c1:34301 c2:34302) | head -n 5 >&2
    fail "$1: cell keys differ between levels"
  }
  [ "$(sum_of c1:34301 | awk '$3 != 0' | wc -l)" -gt 50 ] || fail "$1: too few keyed cells to tell"
  pass "$1: counts and cell keys agree at commune, district and province"
}

check "first sync"

step "a commune killed -9 while it imports"
for t in person episode support; do
  $TS import --dir "$WORK/c1" $t "$WORK/rec1b/$t.csv" >/dev/null &
  imp=$!
  sleep 0.05
  node_kill9 c1
  wait $imp || fail "import of $t at c1 refused"
  node_start c1
done
check "after kill -9"

step "the district restored from an older backup: communes resync by snapshot"
node_stop dist
cp -a "$WORK/dist/db" "$WORK/dist-backup"
node_start dist
for t in person episode support; do
  $TS import --dir "$WORK/c2" $t "$WORK/rec2b/$t.csv" >/dev/null
done
wait_until 60 same_figures dist:34302 c2:34302 || fail "the district did not receive c2's import"
node_stop dist
rm -rf "$WORK/dist/db" && cp -a "$WORK/dist-backup" "$WORK/dist/db"
node_start dist
check "after resync"
grep -q "snapshot" "$WORK/c2.log" || fail "c2 did not resync by snapshot"
