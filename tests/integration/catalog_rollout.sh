#!/usr/bin/env bash
# A catalog roll-out down a real tree (province -> district -> two
# communes, one of them offline throughout): the root publishes version 2
# with a new counted indicator, a new value indicator and a new category
# option; the district and the online commune adopt it, the commune counts
# the new indicator from the records it already holds, records a value and a
# record with the new option, and the province holds them. The offline
# commune, started later with version 1 and records of its own while its
# district rotates its key, catches up and replicates exactly. An incompatible version is refused at publish; a
# version whose root signature does not hold is refused by the commune,
# which keeps version 2.
source "$(dirname "$0")/lib.sh"

GEN="${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}/tools/gen_records.py"
export TIERSYNC_TODAY=2025-12-20

node_init prov 34 province
node_init dist 343 district prov
node_init c1 34301 commune dist
node_init c2 34302 commune dist
python3 "$GEN" --out "$WORK/g1" --unit 34301 --persons 150 --seed 3 --prefix XA --no-expected
python3 "$GEN" --out "$WORK/g2" --unit 34302 --persons 120 --seed 4 --prefix XB --no-expected
for c in 1 2; do
  for t in person episode support; do
    $TS import --dir "$WORK/c$c" $t "$WORK/g$c/$t.csv" >>"$WORK/import.log" 2>&1 || fail "import c$c $t"
  done
done
node_start prov; node_start dist; node_start c1        # c2 stays offline
wait_until 30 status_test c1 "s['parent']['acked_seq'] >= 1 and s['parent']['acked_seq'] == s['parent']['head_seq']" ||
  fail "c1 did not replicate before the roll-out"

step "publish version 2 at the root"
python3 - "$TIERSYNC_CATALOG" "$WORK/v2.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["version"] = 2
for r in c["records"]:
    if r["name"] == "support":
        next(f for f in r["fields"] if f["name"] == "kind")["values"].append("peer_support")
c["indicators"].append({"code": "PERSONS_REGISTERED", "kind": "flow", "over": "person",
                        "date": "registered_on", "by": ["sex"]})
c["indicators"].append({"code": "PEER_GROUPS", "kind": "value", "period": "month", "by": ["kind"]})
next(i for i in c["indicators"] if i["code"] == "COUNSELLING_POINTS")["retired_from"] = "202511"
json.dump(c, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
PY
$TS catalog show --dir "$WORK/prov" | grep -q "^catalog drug-treatment version 1$" || fail "prov does not start at version 1"
$TS catalog publish --dir "$WORK/prov" "$WORK/v2.json" >"$WORK/publish.out" || fail "publish refused: $(cat "$WORK/publish.out")"
shows_v2() { $TS catalog show --dir "$WORK/$1" | grep -q "^catalog drug-treatment version 2$"; }
wait_until 30 shows_v2 c1 || fail "c1 did not adopt version 2"
shows_v2 dist || fail "the district did not adopt version 2"
root_fp=$($TS catalog show --dir "$WORK/prov" | sed -n 's/^signed by root \([0-9a-f-]*\) .*/\1/p')
[ -n "$root_fp" ] || fail "prov's catalog show names no root key"
$TS catalog show --dir "$WORK/c1" >"$WORK/show-c1.out"
grep -q "^signed by root $root_fp (signature holds)" "$WORK/show-c1.out" || fail "c1: $(cat "$WORK/show-c1.out")"
grep -q "^endorsed by .*, the parent (endorsement holds)" "$WORK/show-c1.out" || fail "c1: $(cat "$WORK/show-c1.out")"
pass "version 2 adopted down the tree"

step "c1 counts the new indicator from its records; the province holds them"
want=$(python3 - "$WORK/g1/person.csv" <<'PY'
import csv, sys
n = sum(1 for r in csv.DictReader(open(sys.argv[1])) if r["registered_on"][:7] <= "2025-12")
print(n)
PY
)
[ "$want" -gt 0 ] || fail "no person registered: the check would be void"
reg_total() { $TS totals --dir "$WORK/$1" --unit 34301 --indicator PERSONS_REGISTERED --json |
  python3 -c 'import json,sys; print(sum(r["value"] for r in json.load(sys.stdin)))'; }
eq_reg() { [ "$(reg_total "$1")" = "$want" ]; }
wait_until 30 eq_reg c1 || fail "c1 counts $(reg_total c1) registrations, the records hold $want"
wait_until 30 eq_reg prov || fail "prov holds $(reg_total prov) registrations of c1, expected $want"
$TS value set --dir "$WORK/c1" PEER_GROUPS 202512 4 kind=peer_support >/dev/null || fail "c1 cannot enter PEER_GROUPS"
$TS record add --dir "$WORK/c1" support id=SNEW person_id="$(sed -n 2p "$WORK/g1/person.csv" | cut -d, -f1)" \
  kind=peer_support given_on=2025-12-05 >/dev/null || fail "c1 cannot record a peer_support"
expect_total 30 4 prov 34301 PEER_GROUPS 202512 kind=peer_support
peer_support() {
  $TS totals --dir "$WORK/prov" --unit 34301 --indicator SUPPORT_GIVEN --period 202512 --json |
    python3 -c 'import json,sys; print(sum(r["value"] for r in json.load(sys.stdin) if r["options"]["kind"] == "peer_support"))'
}
eq_peer() { [ "$(peer_support)" = 1 ]; }
wait_until 30 eq_peer || fail "prov holds $(peer_support) peer_support supports of c1, expected 1"
$TS value set --dir "$WORK/c1" COUNSELLING_POINTS 202510 2 >/dev/null || fail "c1 cannot enter a month before retirement"
rc=0; $TS value set --dir "$WORK/c1" COUNSELLING_POINTS 202511 2 2>"$WORK/retired.err" || rc=$?
[ $rc -eq 2 ] && grep -q "retired from 202511" "$WORK/retired.err" || fail "a retired month was entered (exit $rc)"
pass "new codes recorded at c1 and held at the province; a retired indicator refuses new months"

step "the offline commune catches up, during its district's key rotation, and replicates exactly"
$TS catalog show --dir "$WORK/c2" | grep -q "version 1$" || fail "c2 is not at version 1"
# the district serves c2 with its old key until c2 pins the new one: the
# version it hands down must be endorsed by the key c2 connects to
$TS key rotate --dir "$WORK/dist" >/dev/null || fail "key rotate at dist failed"
wait_until 30 status_test dist 's["key_rotation"] and s["key_rotation"]["children_waiting"] == ["34302"] and s["key_rotation"]["parent_acknowledged"]' ||
  fail "dist's rotation does not wait for c2 alone: $(status_field dist 's["key_rotation"]')"
node_start c2
wait_until 30 shows_v2 c2 || fail "c2 did not catch up to version 2: $(grep -i catalog "$WORK/c2.log" | tail -n 3)"
wait_until 30 status_test dist 's["key_rotation"] is None' || fail "dist's rotation did not end"
$TS catalog show --dir "$WORK/c2" | grep -q "^endorsed by .*, the parent (endorsement holds)" ||
  fail "c2: $($TS catalog show --dir "$WORK/c2")"
# grep reads to the end (no -q): quitting early would break totals_lines' pipe (pipefail)
c2_counted() { totals_lines c2 | grep '^34302 PERSONS_REGISTERED ' >/dev/null; }
wait_until 30 c2_counted || fail "c2 did not count the new indicator from its records"
same_c2() { [ "$(totals_lines c2 | grep '^34302 ')" = "$(totals_lines prov | grep '^34302 ')" ]; }
wait_until 30 status_test c2 "s['parent']['head_seq'] >= 1 and s['parent']['acked_seq'] == s['parent']['head_seq']" ||
  fail "c2 does not replicate"
wait_until 30 same_c2 || fail "prov's totals of c2 differ from c2's: $(diff <(totals_lines c2 | grep '^34302 ') \
  <(totals_lines prov | grep '^34302 ') | head -n 5)"
$TS verify --dir "$WORK/prov" --quiet >"$WORK/verify.out" || fail "verify at prov: $(tail -n 5 "$WORK/verify.out")"
pass "c2 caught up during dist's key rotation; the province holds its totals exactly"

step "an incompatible version is refused at publish"
python3 - "$WORK/v2.json" "$WORK/bad.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["version"] = 3
next(i for i in c["indicators"] if i["code"] == "STAFF_TRAINED")["period"] = "month"
json.dump(c, open(sys.argv[2], "w"))
PY
rc=0; $TS catalog publish --dir "$WORK/prov" "$WORK/bad.json" 2>"$WORK/bad.err" || rc=$?
[ $rc -eq 2 ] || fail "an incompatible publish exits $rc"
grep -q "STAFF_TRAINED.*period type changed" "$WORK/bad.err" || fail "the refusal does not say why: $(cat "$WORK/bad.err")"
shows_v2 prov || fail "the refused publish changed prov's catalog"
rc=0; $TS catalog publish --dir "$WORK/dist" "$WORK/v2.json" 2>"$WORK/notroot.err" || rc=$?
[ $rc -eq 2 ] && grep -q "only the root of the tree publishes" "$WORK/notroot.err" ||
  fail "a district could publish (exit $rc): $(cat "$WORK/notroot.err")"

step "a version whose root signature does not hold is refused by the commune"
node_stop dist
python3 - "$WORK/v2.json" "$WORK/dist/catalog/catalog.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["version"] = 3
c["indicators"].append({"code": "FORGED", "kind": "value", "period": "year"})
json.dump(c, open(sys.argv[2], "w"))
PY
node_start dist   # it offers version 3 with version 2's root signature
wait_until 30 grep -q "catalog drug-treatment version 3 refused: .*root's signature" "$WORK/c1.log" ||
  fail "c1 did not refuse the forged version"
shows_v2 c1 || fail "c1 did not keep version 2"
$TS value set --dir "$WORK/c1" FORGED 2025 1 >/dev/null 2>&1 && fail "c1 accepts a code of the forged version"
pass "forged version refused; c1 keeps version 2"

step "every node stops cleanly"
for n in c1 c2 dist prov; do node_stop $n; done
if grep -l "Sanitizer" "$WORK"/*.log; then fail "a sanitizer report in the logs above"; fi
pass "clean stop"
