#!/usr/bin/env bash
# Ratio indicators and post-rehab management in a live tree:
#
#   34 province (HTTP) ── 341 district ── 34101 commune A, 34102 commune B
#
# A reports 3 of 4 counsellors certified, B 1 of 6: the district and the
# province show 40.0 % (4 of 10), not 45.8 % (the mean of 75.0 and 16.7), in
# tiersync totals, every API endpoint and the CSV export; DHIS2 and ADX
# carry the parts only. A counts aware adults but surveyed none: that ratio
# is null everywhere, never a division error. The province enters a 100 %
# target, the district 90 %: each plan shows its own target, not their sum.
# A's records put two persons in post-rehab management, one supported, and
# one relapsed: POST_REHAB_SUPPORTED_PCT is 50.0 % at the province.
source "$(dirname "$0")/lib.sh"
export TIERSYNC_TODAY=2026-03-15
TOKEN=ratio-reader-token-0123456789abcdef
AUTH=(-H "Authorization: Bearer $TOKEN")

HTTP=$(free_port)
BASE="http://127.0.0.1:$HTTP"
node_init prov 34 province "" --http "127.0.0.1:$HTTP"
node_init dist 341 district prov
node_init ca 34101 commune dist
node_init cb 34102 commune dist
sed -i "/^\[read\]/a token = $TOKEN" "$WORK/prov/tiersync.conf"

step "values and records at the communes, targets at the province and the district"
val() { $TS value set --dir "$WORK/$1" "${@:2}" >/dev/null || fail "value set ${*:2} at $1"; }
val ca COUNSELLORS 2026 4; val ca COUNSELLORS_CERTIFIED 2026 3
val cb COUNSELLORS 2026 6; val cb COUNSELLORS_CERTIFIED 2026 1
val ca ADULTS_AWARE 2026 7
val prov TARGET_COUNSELLORS_CERTIFIED_PCT 2026 100
val dist TARGET_COUNSELLORS_CERTIFIED_PCT 2026 90
out=$($TS value set --dir "$WORK/ca" COUNSELLORS_CERTIFIED_PCT 2026 75 2>&1) && fail "a ratio was set: $out"
grep -q "COUNSELLORS_CERTIFIED_PCT is a ratio, computed from COUNSELLORS_CERTIFIED and COUNSELLORS" <<<"$out" ||
  fail "the refusal does not name the parts: $out"
# P1 (M) completed an episode in June 2025 and got a job in September: in post-rehab,
# supported. P2 (F) completed one in October 2025 and started again in February 2026:
# relapsed. P3 (F) completed one in January 2026, no support yet.
cat >"$WORK/person.csv" <<'CSV'
id,full_name,sex,birth_date,registered_on
P1,Nguyễn Văn An,M,1990-04-02,2023-01-05
P2,Trần Thị Bình,F,1985-11-20,2023-02-10
P3,Lê Thị Cúc,F,1999-07-07,2024-03-01
CSV
cat >"$WORK/episode.csv" <<'CSV'
id,person_id,modality,start_on,end_on,outcome
E1,P1,compulsory,2024-01-10,2025-06-30,completed
E2,P2,methadone,2024-05-01,2025-10-31,completed
E3,P2,voluntary_community,2026-02-10,,
E4,P3,voluntary_facility,2025-12-01,2026-01-20,completed
CSV
cat >"$WORK/support.csv" <<'CSV'
id,person_id,kind,given_on
S1,P1,job_placement,2025-09-01
S2,P2,health_care,2024-06-01
CSV
for t in person episode support; do
  $TS import --dir "$WORK/ca" $t "$WORK/$t.csv" >/dev/null || fail "import $t"
done

for n in prov dist ca cb; do node_start $n; done
expect_total 60 10 prov 34 COUNSELLORS 2026
expect_total 60 4 prov 34 COUNSELLORS_CERTIFIED 2026
expect_total 60 7 prov 34 ADULTS_AWARE 2026
expect_total 60 2 prov 34 POST_REHAB 202603
expect_total 60 1 prov 34 POST_REHAB_SUPPORTED 202603
expect_total 60 1 prov 34 RELAPSED 202602
expect_total 60 3 prov 34 POST_REHAB 202601
wait_until 10 curl -sf "$BASE/api/info" || fail "the province's HTTP API does not answer"
jq_py() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($2)" "$1"; }
api() { local p=$1; shift; curl -sf "$@" "$BASE$p" || fail "GET $p failed"; }

step "tiersync totals: the ratio of the rolled-up parts"
ratio_cli() {
  $TS totals --dir "$WORK/prov" --unit "$1" --indicator "$2" --period "$3" --json |
    python3 -c 'import json,sys; r=json.load(sys.stdin); assert len(r)==1, r; r=r[0]; print(r["value"], r["numerator"], r["denominator"])'
}
[ "$(ratio_cli 34 COUNSELLORS_CERTIFIED_PCT 2026)" = "40.0 4 10" ] || fail "province: $(ratio_cli 34 COUNSELLORS_CERTIFIED_PCT 2026)"
[ "$(ratio_cli 341 COUNSELLORS_CERTIFIED_PCT 2026)" = "40.0 4 10" ] || fail "district"
[ "$(ratio_cli 34101 COUNSELLORS_CERTIFIED_PCT 2026)" = "75.0 3 4" ] || fail "commune A"
[ "$(ratio_cli 34102 COUNSELLORS_CERTIFIED_PCT 2026)" = "16.7 1 6" ] || fail "commune B"
[ "$(ratio_cli 34 ADULTS_AWARE_PCT 2026)" = "None 7 0" ] || fail "a denominator of 0: $(ratio_cli 34 ADULTS_AWARE_PCT 2026)"
$TS totals --dir "$WORK/prov" --unit 34 --indicator ADULTS_AWARE_PCT --period 2026 | grep -q ' null$' ||
  fail "the table does not show null for a denominator of 0"
[ "$($TS totals --dir "$WORK/prov" --unit 34 --indicator POST_REHAB_SUPPORTED_PCT --period 202603 --json |
     python3 -c 'import json,sys; print(sorted((r["options"]["sex"], r["value"]) for r in json.load(sys.stdin)))')" = \
  "[('F', 0.0), ('M', 100.0)]" ] || fail "POST_REHAB_SUPPORTED_PCT by person"
pass "40.0 at the district and the province, 75.0 and 16.7 at the communes, null without a denominator"

step "the API: totals, by=, children, series, plan"
j=$(api "/api/totals?unit=34&indicator=COUNSELLORS_CERTIFIED_PCT&period=2026" "${AUTH[@]}")
[ "$(jq_py "$j" 'j["total"], j["numerator"]["value"], j["denominator"]["value"], j["cells"][0]["value"]')" = \
  "40.0 4 10 40.0" ] || fail "/api/totals: $j"
j=$(api "/api/totals?unit=34&indicator=POST_REHAB_SUPPORTED_PCT&period=202603&by=sex" "${AUTH[@]}")
[ "$(jq_py "$j" 'j["total"], [(r["option"], r["value"]) for r in j["breakdown"]["sex"]]')" = \
  "50.0 [('M', 100.0), ('F', 0.0)]" ] || fail "/api/totals by=sex: $j"
j=$(api "/api/totals?unit=34&indicator=POST_REHAB_SUPPORTED_PCT&period=202601" "${AUTH[@]}")
[ "$(jq_py "$j" 'j["total"]')" = 33.3 ] || fail "January: P1 of P1, P2, P3 supported: $j"
j=$(api "/api/children?unit=341&indicator=COUNSELLORS_CERTIFIED_PCT&period=2026" "${AUTH[@]}")
[ "$(jq_py "$j" 'j["unit"]["value"], sorted((c["code"], c["value"]) for c in j["children"]), j["unit"]["own"]')" = \
  "40.0 [('34101', 75.0), ('34102', 16.7)] None" ] || fail "/api/children: $j"
j=$(api "/api/series?unit=34&indicator=COUNSELLORS_CERTIFIED_PCT&from=2025&to=2026" "${AUTH[@]}")
[ "$(jq_py "$j" '[p["value"] for p in j["points"]]')" = "[None, 40.0]" ] || fail "/api/series: $j"
for q in "totals?unit=34&indicator=ADULTS_AWARE_PCT&period=2026" "children?unit=341&indicator=ADULTS_AWARE_PCT&period=2026" \
         "series?unit=34&indicator=ADULTS_AWARE_PCT&from=2025&to=2026"; do
  j=$(api "/api/$q" "${AUTH[@]}")
  vals=$(jq_py "$j" '[j.get("total")] + [c["value"] for c in j.get("children", [])] + [p["value"] for p in j.get("points", [])]')
  python3 -c "import sys; assert set(eval(sys.argv[1])) == {None}, sys.argv[1]" "$vals" || fail "/api/$q: $vals"
done
plan() {
  api "/api/plan?unit=$1&year=2026" "${AUTH[@]}" | python3 -c '
import json,sys
p=[p for p in json.load(sys.stdin)["plans"] if p["actual_indicator"]=="COUNSELLORS_CERTIFIED_PCT"][0]["total"]
print(p["target"], p["actual"], p["percent"])'
}
[ "$(plan 34)" = "100 40.0 40.0" ] || fail "the province's plan: $(plan 34)"
[ "$(plan 341)" = "90 40.0 44.4" ] || fail "the district's plan: $(plan 341)"
pass "every endpoint divides the unit's own rolled-up parts; each level's target is its own"

step "without a token: a ratio is computed from the parts as published"
for q in "34 COUNSELLORS_CERTIFIED_PCT 2026 COUNSELLORS_CERTIFIED COUNSELLORS" \
         "34101 COUNSELLORS_CERTIFIED_PCT 2026 COUNSELLORS_CERTIFIED COUNSELLORS" \
         "34 POST_REHAB_SUPPORTED_PCT 202603 POST_REHAB_SUPPORTED POST_REHAB" \
         "34101 POST_REHAB_SUPPORTED_PCT 202601 POST_REHAB_SUPPORTED POST_REHAB"; do
  set -- $q
  r=$(jq_py "$(api "/api/totals?unit=$1&indicator=$2&period=$3")" 'j["total"]')
  n=$(jq_py "$(api "/api/totals?unit=$1&indicator=$4&period=$3")" 'j["total"]')
  d=$(jq_py "$(api "/api/totals?unit=$1&indicator=$5&period=$3")" 'j["total"]')
  want=$(python3 -c "import sys; n, d = sys.argv[1:]; print(round(int(n) * 1000 / int(d)) / 10 if n.lstrip('-').isdigit() and d.lstrip('-').isdigit() and int(d) else None)" "$n" "$d")
  [ "$r" = "$want" ] || fail "$2 at $1 without a token is $r; its published parts $n / $d give $want"
done
[ "$(jq_py "$(api "/api/totals?unit=34&indicator=COUNSELLORS_CERTIFIED_PCT&period=2026")" 'j["total"]')" = 40.0 ] ||
  fail "the province's ratio is hidden without a token"
pass "tokenless ratios follow the published parts"

step "exports: CSV shows the ratio, DHIS2 and ADX carry the parts"
csv=$(api "/api/export?format=csv&values=total&period=2026" "${AUTH[@]}")
grep -q '^34,.*,COUNSELLORS_CERTIFIED_PCT,2026,,40.0$' <<<"$csv" || fail "CSV: no 40.0 for the province"
grep -q '^34102,.*,COUNSELLORS_CERTIFIED_PCT,2026,,16.7$' <<<"$csv" || fail "CSV: no 16.7 for commune B"
grep -q '^34,.*,ADULTS_AWARE_PCT,2026,,$' <<<"$csv" || fail "CSV: the ratio without denominator is not empty"
for f in dhis2 adx; do
  x=$(api "/api/export?format=$f&period=2026" "${AUTH[@]}")
  grep -q 'COUNSELLORS_CERTIFIED"' <<<"$x" || fail "$f export lacks the numerator"
  ! grep -qE '"(COUNSELLORS_CERTIFIED|ADULTS_AWARE|POST_REHAB_SUPPORTED)_PCT"' <<<"$x" || fail "$f export carries a ratio"
done
x=$(api "/api/export?format=dhis2&indicator=COUNSELLORS_CERTIFIED_PCT" "${AUTH[@]}")
[ "$(jq_py "$x" 'sorted(set(v["dataElement"] for v in j["dataValues"]))')" = "['COUNSELLORS', 'COUNSELLORS_CERTIFIED']" ] ||
  fail "a DHIS2 export of the ratio is not its parts: $x"
pass "exports"

step "no node stores or received a ratio"
for n in prov dist ca cb; do
  ! $TS totals --dir "$WORK/$n" --json | grep -qE '"indicator":"(COUNSELLORS_CERTIFIED|ADULTS_AWARE|POST_REHAB_SUPPORTED)_PCT"' ||
    fail "$n holds a ratio cell"
  ! grep -qi "refus" "$WORK/$n.log" || fail "$n refused something: $(grep -i refus "$WORK/$n.log" | head -3)"
done
pass "ratios are computed when read, nowhere stored"
