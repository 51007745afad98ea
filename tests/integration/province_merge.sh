#!/usr/bin/env bash
# A merge of two provinces into a new one (docs/OPERATIONS.md, Merging
# units): P1 (37) and P2 (38), each with a commune holding generated case
# files, merge into P (40) with `tiersync merge --dir P --from P1 --from P2
# --on D` while every daemon runs. P1 and P2 tell their communes to move
# (ParentMove); each commune pins P's key, dials P and sends its whole
# contribution there, so P ends with, cell by cell, each commune's totals
# under its unit and their sum under its own; P lists P1 and P2 as merged
# into it; P1's entered value after D moves to P. Refusals change nothing;
# a later change at a commune reaches P; P1 and P2 retire (refused while a
# child was not told), their daemons refuse to start; verify passes at P.
source "$(dirname "$0")/lib.sh"

export TIERSYNC_TODAY=2025-09-20
D=2025-07-01

step "provinces P1 (37) and P2 (38) with a commune each; the new province P (40)"
node_init p1 37 province
node_init p2 38 province
HTTP[p]=$(free_port)
node_init p 40 province "" --http "127.0.0.1:${HTTP[p]}"
node_init c1 37001 commune p1
node_init c2 38001 commune p2
seed=40
for x in c1 c2; do
  seed=$((seed + 1))
  import_generated $x 120 $seed
done
$TS value set --dir "$WORK/p1" COUNSELLING_POINTS 202508 4 >/dev/null
$TS value set --dir "$WORK/p1" COUNSELLING_POINTS 202503 1 >/dev/null
for x in p1 p2 p c1 c2; do node_start $x; done
settled() {
  status_test "$1" "s['parent']['acked_seq'] == s['parent']['head_seq'] and s['parent']['pending_cells'] == 0 and s['parent']['head_seq'] > 0"
}
wait_until 60 settled c1 || fail "c1 did not settle"
wait_until 60 settled c2 || fail "c2 did not settle"
totals_lines c1 | grep "^37001 " >"$WORK/c1.txt"
totals_lines c2 | grep "^38001 " >"$WORK/c2.txt"
[ "$(wc -l <"$WORK/c1.txt")" -gt 100 ] || fail "too few cells at c1: the comparison would be void"
totals_lines p1 | grep "^37001 " | diff - "$WORK/c1.txt" >/dev/null || fail "P1 does not hold c1's totals before the merge"
pass "P1 and P2 hold their communes' totals ($(wc -l <"$WORK/c1.txt") and $(wc -l <"$WORK/c2.txt") cells)"

step "refusals change nothing"
refused() { # refused PATTERN CMD...: a failure with PATTERN in the message
  local pat=$1; shift
  if "$@" >"$WORK/out" 2>&1; then fail "accepted: $*"; fi
  grep -q -- "$pat" "$WORK/out" || fail "'$*' said: $(cat "$WORK/out")"
}
$TS child add --dir "$WORK/p" 37001 "$($TS key --dir "$WORK/c2")" >/dev/null
refused "child 37001 of 37 is already enrolled at 40 with another key" \
  $TS merge --dir "$WORK/p" --from "$WORK/p1" --from "$WORK/p2" --on $D
$TS child remove --dir "$WORK/p" 37001 >/dev/null
refused "not both" $TS merge --dir "$WORK/p" --from "$WORK/p1" --from "$WORK/c2" --on $D
refused "holds records" $TS merge --dir "$WORK/c2" --from "$WORK/p1" --on $D
refused "names no address" $TS merge --dir "$WORK/p" --from "$WORK/p1" --on $D --new-endpoint "tcp://*:1"
[ "$(status_field p "len(s['children'])")" = 0 ] || fail "a refused merge enrolled children at P"
pass "a child enrolled elsewhere, mixed kinds, a records node as new unit and a wildcard endpoint are refused"

# a child of P2 that never connects: P2 cannot retire before it was told
$TS child add --dir "$WORK/p2" 38999 "$($TS key --dir "$WORK/p1")" >/dev/null

step "merge P1 and P2 into P from $D (every daemon running)"
$TS merge --dir "$WORK/p" --from "$WORK/p1" --from "$WORK/p2" --on $D >"$WORK/merge.out" ||
  fail "merge refused: $(cat "$WORK/merge.out")"
grep -q "37: 1 children enrolled at 40" "$WORK/merge.out" || fail "merge said: $(cat "$WORK/merge.out")"
$TS merge --dir "$WORK/p" --from "$WORK/p1" --from "$WORK/p2" --on $D >"$WORK/merge2.out" ||
  fail "the same merge again was refused: $(cat "$WORK/merge2.out")"
refused "already merged into 40" $TS merge --dir "$WORK/p" --from "$WORK/p1" --on 2025-08-01
wait_until 60 status_test c1 "s['parent']['code'] == '40' and s['parent']['connected']" ||
  fail "c1 did not move to P: $(tail -n 5 "$WORK/c1.log")"
wait_until 60 status_test c2 "s['parent']['code'] == '40' and s['parent']['connected']" ||
  fail "c2 did not move to P: $(tail -n 5 "$WORK/c2.log")"
grep -q "parent moved: 37 -> 40 at tcp://127.0.0.1:${PORT[p]}; key" "$WORK/c1.log" || fail "c1 did not log its move"
grep -q "^endpoint = tcp://127.0.0.1:${PORT[p]}$" "$WORK/c1/tiersync.conf" || fail "c1's config does not name P"
pass "both communes moved to P, logged it and keep P in their config"

step "P holds each commune's totals, every period, and their sum under 40"
same_at_p() { totals_lines p | grep "^$1 " | diff - "$2" >/dev/null; }
wait_until 60 same_at_p 37001 "$WORK/c1.txt" || fail "P does not hold c1's totals: $(totals_lines p | grep -c '^37001 ') cells"
wait_until 60 same_at_p 38001 "$WORK/c2.txt" || fail "P does not hold c2's totals"
totals_lines p | grep "^40 " >"$WORK/p40.txt"
python3 - "$WORK/c1.txt" "$WORK/c2.txt" "$WORK/p40.txt" <<'PY' || fail "P's own totals are not the communes' sum"
import sys
def load(p):
    d = {}
    for l in open(p):
        u, ind, per, opts, v = l.rstrip("\n").split(" ")
        d[(ind, per, opts)] = d.get((ind, per, opts), 0) + int(v)
    return d
a, b, got = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
want = {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}
want[("COUNSELLING_POINTS", "202508", "")] = want.get(("COUNSELLING_POINTS", "202508", ""), 0) + 4
bad = [(k, want.get(k, 0), got.get(k, 0)) for k in set(want) | set(got) if want.get(k, 0) != got.get(k, 0)]
for k, w, g in sorted(bad)[:8]:
    print("%s: expected %d, found %d" % (" ".join(k), w, g), file=sys.stderr)
print("cells checked: %d" % len(set(want) | set(got)))
sys.exit(1 if bad else 0)
PY
grep -q "^37001 IN_TREATMENT 2024" "$WORK/c1.txt" || fail "c1 has no history before D: the test would be void"
eq_total 0 p1 37 COUNSELLING_POINTS 202508 || fail "P1 still holds its value after D"
eq_total 1 p1 37 COUNSELLING_POINTS 202503 || fail "P1 lost its value before D"
pass "P holds both communes cell by cell (history before D too), their sum and P1's value from D on"

step "P lists P1 and P2 as merged into it"
units=$(curl -s "http://127.0.0.1:${HTTP[p]}/api/units")
python3 -c '
import json, sys
u = {x["code"]: x for x in json.loads(sys.argv[1])["units"]}
for c in ("37", "38"):
    assert u[c]["merged_into"] == "40" and u[c]["merged_on"] == "2025-07-01", u[c]
assert u["37001"]["parent"] == "40", u["37001"]
' "$units" || fail "/api/units at P does not mark P1 and P2 merged: $units"
pass "/api/units at P: 37 and 38 merged into 40 from $D"

step "a change at a commune reaches P"
$TS value set --dir "$WORK/c1" COUNSELLING_POINTS 202509 3 >/dev/null
expect_total 30 3 p 37001 COUNSELLING_POINTS 202509
eq_total 0 p1 37001 COUNSELLING_POINTS 202509 || fail "P1 applied a change after the move"
pass "c1's new value is at P, not at P1"

step "P1 and P2 retire; their daemons refuse to start; verify passes at P"
refused "already serves" $TS retire --dir "$WORK/p1"
node_stop p1; node_stop p2
$TS retire --dir "$WORK/p1" >/dev/null || fail "retire p1 refused: $($TS retire --dir "$WORK/p1" 2>&1)"
refused "38999) has not yet been told to move to 40" $TS retire --dir "$WORK/p2"
$TS child remove --dir "$WORK/p2" 38999 >/dev/null
$TS retire --dir "$WORK/p2" >/dev/null || fail "retire p2 refused: $($TS retire --dir "$WORK/p2" 2>&1)"
refused "retired" $TS run --dir "$WORK/p1"
$TS verify --dir "$WORK/p" >"$WORK/verify.out" 2>&1 || fail "verify at P: $(cat "$WORK/verify.out")"
pass "P1 and P2 retired; verify passes at P"
