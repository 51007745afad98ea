#!/usr/bin/env bash
# A merge of two communes into a new one (docs/OPERATIONS.md, Merging units),
# in the 2025 shape: communes A and B under a district, the new commune N
# straight under the province. A and B hold generated case files from 2024
# on, with records before and after the merge date D, and entered values.
# `tiersync merge --dir N --from A --from B --on D` runs with N's daemon up
# and A's and B's down; once both chains have arrived the province's own
# totals are the same as before, byte for byte (counts and cell keys), every
# unit's periods before D are unchanged, A and B hold nothing from D on and
# N holds what the three held. Refusals change nothing; a change to a moved
# record counts under N; A and B are retired (refused while changes wait),
# their daemons refuse to start, the district and province list them as
# merged, and `verify` passes at both parents.
source "$(dirname "$0")/lib.sh"

export TIERSYNC_TODAY=2025-09-20
D=2025-07-01

step "a province, a district with communes A and B, and commune N under the province"
HTTP[prov]=$(free_port)
node_init prov 34 province "" --http "127.0.0.1:${HTTP[prov]}"
TOKEN=province-reader-token-0123456789
sed -i "/^\[read\]/a token = $TOKEN" "$WORK/prov/tiersync.conf"
node_init dist 343 district prov
node_init a 34301 commune dist
node_init b 34302 commune dist
node_init n 34005 commune prov
for x in prov dist a b n; do node_start $x; done

seed=20
for x in a b n; do
  seed=$((seed + 1))
  import_generated $x 150 $seed
done
$TS value set --dir "$WORK/a" COUNSELLING_POINTS 202508 2 >/dev/null
$TS value set --dir "$WORK/a" COUNSELLING_POINTS 202503 1 >/dev/null
$TS value set --dir "$WORK/a" TARGET_REACHED 2025 40 modality=methadone >/dev/null
$TS value set --dir "$WORK/n" TARGET_REACHED 2025 10 modality=methadone >/dev/null

settled() {
  status_test "$1" "s['parent']['acked_seq'] == s['parent']['head_seq'] and s['parent']['pending_cells'] == 0 and s['parent']['head_seq'] > 0"
}
all_settled() { settled a && settled b && settled n && settled dist; }
wait_until 60 all_settled || fail "the tree did not settle before the merge"

# prov_own: the province's totals of its own unit as stored: counts and cell keys.
prov_own() {
  mdb_dump -p -s totals "$WORK/prov/db" | python3 -c '
import sys
lines = sys.stdin.read().split("HEADER=END\n", 1)[1].splitlines()
pairs = [l[1:] for l in lines if l.startswith(" ")]
for k, v in zip(pairs[0::2], pairs[1::2]):
    if k.startswith("34|"):
        print(k, v)'
}
prov_own >"$WORK/prov-own-before.txt"
totals_lines prov >"$WORK/prov-before.txt"
[ "$(wc -l <"$WORK/prov-own-before.txt")" -gt 200 ] || fail "too few province cells: the comparison would be void"
grep -q "^34301 IN_TREATMENT 202508" "$WORK/prov-before.txt" || fail "A holds no cell after D: the test would be void"
pass "the tree holds $(wc -l <"$WORK/prov-before.txt") cells at the province"

step "refusals change nothing"
node_stop a; node_stop b
# a and b are stopped: byte for byte; n runs: its totals
digest() { for x in a b; do mdb_dump -a "$WORK/$x/db" | sha256sum; done; totals_lines n; }
digest >"$WORK/digest-before"
refused() { # refused PATTERN CMD...: exit status 2 and PATTERN in the message
  local pat=$1; shift
  if "$@" >"$WORK/out" 2>&1; then fail "accepted: $*"; fi
  grep -q -- "$pat" "$WORK/out" || fail "'$*' said: $(cat "$WORK/out")"
}
refused "first day of a month" $TS merge --dir "$WORK/n" --from "$WORK/a" --on 2025-07-15
refused "after today" $TS merge --dir "$WORK/n" --from "$WORK/a" --on 2025-10-01
refused "twice" $TS merge --dir "$WORK/n" --from "$WORK/a" --from "$WORK/a" --on $D
refused "itself" $TS merge --dir "$WORK/n" --from "$WORK/n" --on $D
refused "children enrolled" $TS merge --dir "$WORK/n" --from "$WORK/dist" --on $D
refused "retire" $TS retire --dir "$WORK/a" # not merged
first_a=$(sed -n 2p "$WORK/data-a/person.csv" | cut -d, -f1)
$TS record add --dir "$WORK/n" person "id=$first_a" full_name=Test sex=F registered_on=2025-01-02 >/dev/null
refused "$first_a (at 34301 and 34005)" $TS merge --dir "$WORK/n" --from "$WORK/a" --from "$WORK/b" --on $D
$TS record delete --dir "$WORK/n" person "id=$first_a" >/dev/null
wait_until 30 settled n || fail "n did not settle"
[ "$(digest)" = "$(cat "$WORK/digest-before")" ] || fail "a refused merge changed a store"
pass "bad dates, repeated or wrong units and colliding ids are refused; nothing changed"

step "merge A and B into N from $D (N running, A and B stopped)"
$TS merge --dir "$WORK/n" --from "$WORK/a" --from "$WORK/b" --on $D >"$WORK/merge.out" ||
  fail "merge refused: $(cat "$WORK/merge.out")"
grep -q "34301: .* records (150 case files) moved into 34005" "$WORK/merge.out" ||
  fail "merge said: $(cat "$WORK/merge.out")"
$TS merge --dir "$WORK/n" --from "$WORK/a" --from "$WORK/b" --on $D >"$WORK/merge2.out" ||
  fail "the same merge again was refused: $(cat "$WORK/merge2.out")"
grep -q "34301: its records were in 34005 already" "$WORK/merge2.out" || fail "re-run said: $(cat "$WORK/merge2.out")"
refused "already merged into 34005" $TS merge --dir "$WORK/n" --from "$WORK/a" --on 2025-08-01
refused "merged into 34005" $TS record add --dir "$WORK/a" person id=ZZ1 full_name=Test sex=F registered_on=2025-01-02
refused "merged into 34005" $TS value set --dir "$WORK/a" COUNSELLING_POINTS 202509 3
refused "not acknowledged" $TS retire --dir "$WORK/a"
pass "merged; the same merge again is a no-op; the old units refuse writes and retirement while changes wait"

step "the old units' last changes leave; then they retire"
node_start a; node_start b
wait_until 60 all_settled || fail "the chains did not settle after the merge"
node_stop a; node_stop b
$TS retire --dir "$WORK/a" >/dev/null || fail "retire a refused"
$TS retire --dir "$WORK/b" >/dev/null || fail "retire b refused"
refused "retired" $TS run --dir "$WORK/a"
$TS totals --dir "$WORK/a" --json >/dev/null || fail "a's totals no longer read"
pass "A and B retired; the daemon refuses to start on A; its totals still read"

step "the province's own totals are what they were, counts and cell keys"
prov_own >"$WORK/prov-own-after.txt"
diff "$WORK/prov-own-before.txt" "$WORK/prov-own-after.txt" >"$WORK/prov-own.diff" ||
  fail "the province's own totals changed: $(head -n 6 "$WORK/prov-own.diff")"
totals_lines prov >"$WORK/prov-after.txt"
python3 - "$WORK/prov-before.txt" "$WORK/prov-after.txt" <<'PY' || fail "the units' split is wrong"
import sys
def load(p):
    d = {}
    for l in open(p):
        u, ind, per, opts, v = l.rstrip("\n").split(" ")
        d[(u, ind, per, opts)] = int(v)
    return d
before, after = load(sys.argv[1]), load(sys.argv[2])
moves = lambda per: per >= ("202507" if len(per) == 6 else "2025")
old, new = {"34301", "34302", "343"}, "34005"
bad = []
want = {}
for (u, ind, per, o), v in before.items():
    if not moves(per):
        want[(u, ind, per, o)] = v
    elif u in old:
        if u != "343":  # the district's own numbers are A's and B's
            want[(new, ind, per, o)] = want.get((new, ind, per, o), 0) + v
    else:
        want[(u, ind, per, o)] = want.get((u, ind, per, o), 0) + v
for k in set(want) | set(after):
    if want.get(k, 0) != after.get(k, 0):
        bad.append((k, want.get(k, 0), after.get(k, 0)))
for k, w, g in sorted(bad)[:8]:
    print("%s: expected %d, found %d" % (" ".join(k), w, g), file=sys.stderr)
moved = sum(1 for k in after if k[0] == new and moves(k[2]))
print("cells checked: %d; N holds %d from D on" % (len(set(want) | set(after)), moved))
sys.exit(1 if bad or not moved else 0)
PY
pass "periods before D unchanged everywhere; from D on A and B hold nothing and N holds all three"

step "a change to a moved record counts under N"
ep=$(awk -F, 'NR > 1 && $4 < "2025-07-01" && $5 == "" {print $1","$4; exit}' "$WORK/data-a/episode.csv")
[ -n "$ep" ] || fail "no ongoing episode of A started before D"
ind_n=$(total prov 34005 IN_TREATMENT 202508); ind_p=$(total prov 34 IN_TREATMENT 202508)
$TS record update --dir "$WORK/n" episode "id=${ep%%,*}" end_on=2025-08-10 outcome=completed >/dev/null ||
  fail "the moved episode ${ep%%,*} cannot be updated at N"
expect_total 30 $((ind_n - 1)) prov 34005 IN_TREATMENT 202508
expect_total 30 $((ind_p - 1)) prov 34 IN_TREATMENT 202508
eq_total 0 prov 34301 IN_TREATMENT 202508 || fail "A counts again after D"
pass "ending a moved episode after D lowers N's and the province's count"

step "the parents list A and B as merged into N, and their audits pass"
status_test dist "[c['merged_into'] for c in s['children'] if c['code'] in ('34301','34302')] == ['34005','34005']" ||
  fail "the district does not list A and B as merged: $($TS status --dir "$WORK/dist" --json)"
$TS status --dir "$WORK/dist" | grep -q "34301.*merged into 34005 from 2025-07-01" ||
  fail "the district's status text does not show the merge"
$TS status --dir "$WORK/a" | grep -q "merged into 34005 from 2025-07-01 (retired)" ||
  fail "A's status does not show the merge"
units=$(curl -s "http://127.0.0.1:${HTTP[prov]}/api/units")
python3 -c '
import json, sys
u = {x["code"]: x for x in json.loads(sys.argv[1])["units"]}
assert u["34301"]["merged_into"] == "34005" and u["34301"]["merged_on"] == "2025-07-01", u["34301"]
assert u["34302"]["merged_into"] == "34005" and u["34005"]["merged_into"] is None
' "$units" || fail "/api/units at the province does not mark A and B merged: $units"
totals_lines prov >"$WORK/prov-end.txt"
for preds in 0 1; do
  curl -s -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:${HTTP[prov]}/api/series?unit=34005&indicator=PERSONS_MANAGED&from=202501&to=202509&predecessors=$preds" \
    >"$WORK/series$preds.json"
  python3 - "$WORK/series$preds.json" "$WORK/prov-end.txt" $preds <<'PY' || fail "the series of N with predecessors=$preds is wrong: $(cat "$WORK/series$preds.json")"
import json, sys
series, preds = json.load(open(sys.argv[1])), sys.argv[3] == "1"
want = {}
for l in open(sys.argv[2]):
    u, ind, per, opts, v = l.rstrip("\n").split(" ")
    if ind != "PERSONS_MANAGED" or not "202501" <= per <= "202509":
        continue
    if u == "34005" or (preds and u in ("34301", "34302") and per < "202507"):
        want[per] = want.get(per, 0) + int(v)
got = {p["period"]: p["value"] for p in series["points"]}
assert series["access"] == "exact", series["access"]
assert ("predecessors" in series) == preds
assert got == {p: want.get(p, 0) for p in got} and len(got) == 9, (got, want)
PY
done
$TS verify --dir "$WORK/dist" --quiet >"$WORK/verify-dist" || fail "verify at the district: $(head "$WORK/verify-dist")"
$TS verify --dir "$WORK/prov" --quiet >"$WORK/verify-prov" || fail "verify at the province: $(head "$WORK/verify-prov")"
pass "status and /api/units show the merge; N's series adds A's and B's months before D on request; verify passes at both parents"
