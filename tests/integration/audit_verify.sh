#!/usr/bin/env bash
# `tiersync verify` on a real tree: after a stream of changes every parent
# verifies (exit 0); then a stored total of the province and a stored
# signed delta of the district are altered behind tiersync's back (with
# LMDB's own mdb_dump/mdb_load), and verify finds both, naming the cell
# with the expected and found values and the child and seq of the delta.
source "$(dirname "$0")/lib.sh"
BURST=${CHANGE_BURST:?set CHANGE_BURST}
command -v mdb_load >/dev/null && command -v mdb_dump >/dev/null ||
  fail "mdb_dump and mdb_load are needed (Debian package lmdb-utils)"

tree_nodes prov d1 c11 c12
for n in prov d1 c11 c12; do node_start $n; done

step "changes at both communes and the district, through two levels"
"$BURST" "$WORK/c11" 40 202611 >/dev/null
$TS value set --dir "$WORK/c12" COUNSELLING_POINTS 202611 5 >/dev/null
$TS value set --dir "$WORK/c12" TARGET_REACHED 2026 150 modality=methadone >/dev/null
$TS value set --dir "$WORK/d1" STAFF_TRAINED 2026 3 >/dev/null
expect_total 30 45 prov 34 COUNSELLING_POINTS 202611
expect_total 30 83 prov 34 STAFF_TRAINED 2026
expect_total 30 150 prov 34102 TARGET_REACHED 2026 modality=methadone

step "every parent verifies while running"
for n in prov d1; do
  $TS verify --dir "$WORK/$n" >"$WORK/v-$n.out" || { cat "$WORK/v-$n.out"; fail "$n does not verify"; }
  grep -q "^verify .*: everything holds" "$WORK/v-$n.out" || fail "no summary from $n"
done
grep -q "^ok: child 341: seq 1\.\.[0-9]* checked: [0-9]* signed deltas, chain unbroken" "$WORK/v-prov.out" ||
  fail "the province does not report the district's chain: $(cat "$WORK/v-prov.out")"
grep -q "^ok: child 34101: seq 1\.\.[0-9]* checked" "$WORK/v-d1.out" || fail "no chain for 34101"
grep -q "^ok: child 34102: seq 1\.\.[0-9]* checked" "$WORK/v-d1.out" || fail "no chain for 34102"
$TS verify --dir "$WORK/prov" --unit 34101 >"$WORK/v-unit.out" || fail "verify --unit 34101 failed"
grep -q "^ok: totals: [0-9]* cells of 34101 equal" "$WORK/v-unit.out" || fail "--unit does not scope the totals"
set +e
$TS verify --dir "$WORK/prov" --unit 99999 >/dev/null 2>"$WORK/v-bad.err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "unit 99999 is not known" "$WORK/v-bad.err" || fail "an unknown unit is not refused ($rc)"
pass "the province and the district verify; --unit scopes; an unknown unit is refused"

step "alter a stored total at the province and a stored delta at the district"
for n in prov d1 c11 c12; do node_stop $n; done
want=$(total prov 34 COUNSELLING_POINTS 202611)
# the total: key "34|COUNSELLING_POINTS|202611|", value int64 little-endian 999
printf '34|COUNSELLING_POINTS|202611|\n\\e7\\03\\00\\00\\00\\00\\00\\00\n' >"$WORK/total.txt"
mdb_load -T -s totals -f "$WORK/total.txt" "$WORK/prov/db" || fail "mdb_load of the total"
[ "$(total prov 34 COUNSELLING_POINTS 202611)" = 999 ] || fail "the total was not altered"
# the delta: commune 34101's first one as the district keeps it: one byte of its body flipped
# (audit_index maps "34101|" + be64 seq to an arrival number, audit_log that number to the delta)
mdb_dump -s audit_index "$WORK/d1/db" >"$WORK/index.dump"
mdb_dump -s audit_log "$WORK/d1/db" >"$WORK/log.dump"
seq=$(python3 - "$WORK/index.dump" "$WORK/log.dump" "$WORK/log.altered" <<'PY'
import sys
def pairs(path):  # (key hex, value hex) in dump order, and the header lines
    lines = open(path).read().split("\n")
    head = [l for l in lines[:lines.index("HEADER=END") + 1] if not l.startswith("db_pagesize=")]
    body = [l.strip() for l in lines[lines.index("HEADER=END") + 1:] if l.startswith(" ")]
    return head, list(zip(body[0::2], body[1::2]))
prefix = "34101|".encode().hex()
_, index = pairs(sys.argv[1])
seq, arrival = min((int(k[len(prefix):], 16), v) for k, v in index
                   if k.startswith(prefix) and len(k) == len(prefix) + 16)
head, log = pairs(sys.argv[2])
out = head
for k, v in log:
    if k == arrival:
        b = bytearray.fromhex(v)
        b[len(b) // 3] ^= 0x01  # inside the signed body
        v = b.hex()
    out += [" " + k, " " + v]
open(sys.argv[3], "w").write("\n".join(out + ["DATA=END", ""]))
print(seq)
PY
)
mdb_load -s audit_log -f "$WORK/log.altered" "$WORK/d1/db" || fail "mdb_load of the delta"

step "verify names both"
set +e
$TS verify --dir "$WORK/prov" >"$WORK/t-prov.out"; rc_prov=$?
$TS verify --dir "$WORK/d1" >"$WORK/t-d1.out"; rc_d1=$?
set -e
cat "$WORK/t-prov.out" "$WORK/t-d1.out" | grep PROBLEM
[ $rc_prov = 1 ] || fail "verify of the altered province exits $rc_prov, not 1"
[ $rc_d1 = 1 ] || fail "verify of the altered district exits $rc_d1, not 1"
grep -q "^PROBLEM: total 34|COUNSELLING_POINTS|202611|: expected $want (the roll-up of own values and children's contributions), found 999$" \
  "$WORK/t-prov.out" || fail "the altered total is not named with expected $want and found 999"
[ "$(grep -c PROBLEM "$WORK/t-prov.out")" = 1 ] || fail "the province reports more than the one altered total"
grep -q "^PROBLEM: child 34101 seq $seq: " "$WORK/t-d1.out" || fail "the altered delta (34101 seq $seq) is not named"
[ "$(grep -c "^PROBLEM: child 34101 seq " "$WORK/t-d1.out")" = 1 ] || fail "verify blames more than the altered delta"
! grep -q "^PROBLEM: child 34102" "$WORK/t-d1.out" || fail "verify blames the other commune"
grep -q "problems found" "$WORK/t-d1.out" || fail "no summary of problems"
pass "verify exits 1 and names the altered total (expected $want, found 999) and the altered delta (34101 seq $seq)"
