#!/usr/bin/env bash
# http_api.sh: the JSON read API of a live province in a three-level tree:
# its numbers equal 'tiersync totals', drill-down, series, plan vs actual,
# freshness (a never-started district is late), both views (rounded without
# a token, exact with one), tokens, and refusals (400 naming the parameter,
# 404, 405, 401).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.bash"
TOKEN=province-reader-token-0123456789

tree_init
add_token prov "$TOKEN"
tree_start
AUTH=(-H "Authorization: Bearer $TOKEN")

step "totals: the API's numbers are the store's"
for q in "34 IN_TREATMENT 202603" "343 PERSONS_MANAGED 202603" "344 REACHED 2026" \
         "34 TARGET_REACHED 2026" "34 COUNSELLING_POINTS 202603" "34301 TREATMENT_STARTED 202602"; do
  set -- $q
  want=$(total prov "$1" "$2" "$3")
  got=$(jq_py "$(api "/api/totals?unit=$1&indicator=$2&period=$3" "${AUTH[@]}")" 'j["total"]')
  [ "$got" = "$want" ] || fail "/api/totals $q: $got, tiersync totals: $want"
done
[ "$(total prov 34 TARGET_REACHED 2026)" = 445 ] || fail "the province's plan is not 445"
j=$(api "/api/totals?indicator=IN_TREATMENT&period=202603&by=modality,sex,age_band" "${AUTH[@]}")
for cat in modality sex age_band; do
  s=$(jq_py "$j" "sum(r['value'] for r in j['breakdown']['$cat'])")
  [ "$s" = "$(jq_py "$j" "j['total']")" ] || fail "breakdown by $cat sums to $s, not the total"
done
want=$($TS totals --dir "$WORK/prov" --unit 34 --indicator IN_TREATMENT --period 202603 --json |
  python3 -c 'import json,sys; print(sum(r["value"] for r in json.load(sys.stdin) if r["options"]["modality"]=="methadone"))')
got=$(jq_py "$(api "/api/totals?indicator=IN_TREATMENT&period=202603&options=modality%3Dmethadone" "${AUTH[@]}")" 'j["total"]')
[ "$got" = "$want" ] || fail "options filter: $got, expected $want"
pass "totals, breakdowns and option filters equal the store"

step "drill-down: province -> districts -> communes"
j=$(api "/api/children?indicator=IN_TREATMENT&period=202603" "${AUTH[@]}")
[ "$(jq_py "$j" "sorted(c['code'] for c in j['children'])")" = "['343', '344', '345']" ] ||
  fail "children of 34: $j"
for d in 343 344; do
  [ "$(jq_py "$j" "[c['value'] for c in j['children'] if c['code']=='$d'][0]")" = "$(total prov $d IN_TREATMENT 202603)" ] ||
    fail "child $d's value"
done
[ "$(jq_py "$j" "[c['freshness']['state'] for c in j['children'] if c['code']=='345'][0]")" = never ] ||
  fail "district 345 never reported but is not shown so"
j=$(api "/api/children?unit=343&indicator=STAFF_TRAINED&period=2026")
[ "$(jq_py "$j" "j['unit']['own']")" = 4 ] || fail "district 343's own staff trained: $j"
pass "drill-down"

step "rounding: commune 34302 (3 persons) without and with a token"
q="/api/totals?unit=34302&indicator=PERSONS_MANAGED&period=202603"
exact=$(jq_py "$(api "$q" "${AUTH[@]}")" 'j["total"]')
shown=$(jq_py "$(api "$q")" 'j["total"]')
[ "$exact" = "$(total prov 34302 PERSONS_MANAGED 202603)" ] && [ "$exact" -ge 1 ] && [ "$exact" -le 4 ] ||
  fail "exact view of 34302: $exact"
[ "$shown" = 0 ] || [ "$shown" = 5 ] || fail "rounded view of 34302 shows $shown"
[ "$(jq_py "$(api "$q")" 'j["access"]')" = rounded ] || fail "no access: rounded without a token"
[ "$(jq_py "$(api "$q")" 'j["total"]')" = "$shown" ] || fail "the same question got another answer"
d=$(total prov 343 PERSONS_MANAGED 202603)
r=$(jq_py "$(api "/api/totals?unit=343&indicator=PERSONS_MANAGED&period=202603")" 'j["total"]')
[ $(( r % 5 )) = 0 ] && [ $(( r - d )) -lt 5 ] && [ $(( d - r )) -lt 5 ] ||
  fail "district 343: $r shown for $d"
[ "$(total prov 34302 PERSONS_MANAGED 202603)" = "$exact" ] || fail "the stored total changed"
pass "rounded view $shown, exact view $exact; district $r for $d"

step "series and plan"
j=$(api "/api/series?unit=34301&indicator=IN_TREATMENT&from=202510&to=202603" "${AUTH[@]}")
[ "$(jq_py "$j" "[p['period'] for p in j['points']]")" = "['202510', '202511', '202512', '202601', '202602', '202603']" ] ||
  fail "series periods: $j"
for p in 202510 202601 202603; do
  [ "$(jq_py "$j" "[x['value'] for x in j['points'] if x['period']=='$p'][0]")" = "$(total prov 34301 IN_TREATMENT $p)" ] ||
    fail "series value for $p"
done
j=$(api "/api/plan?year=2026" "${AUTH[@]}")
[ "$(jq_py "$j" "[(r['options']['modality'], r['target']) for r in j['plans'][0]['rows']]")" = \
  "[('compulsory', 150), ('methadone', 200), ('voluntary_facility', 50), ('voluntary_community', 45)]" ] ||
  fail "plan targets: $j"
for m in compulsory methadone; do
  a=$(jq_py "$j" "[r['actual'] for r in j['plans'][0]['rows'] if r['options']['modality']=='$m'][0]")
  [ "$a" = "$(total prov 34 REACHED 2026 modality=$m)" ] || fail "plan actual for $m: $a"
done
pass "series and plan vs actual"

step "freshness and units"
j=$(api /api/freshness)
[ "$(jq_py "$j" "[u['state'] for u in j['units'] if u['code']=='345'][0]")" = never ] || fail "345: $j"
[ "$(jq_py "$j" "[u['state'] for u in j['units'] if u['code']=='34401'][0]")" = current ] || fail "34401: $j"
[ "$(jq_py "$j" "[u['via'] for u in j['units'] if u['code']=='34401'][0]")" = 344 ] || fail "34401 via"
[ "$(jq_py "$j" "j['summary']")" = "{'current': 5, 'behind': 0, 'late': 0, 'never': 1}" ] || fail "summary: $j"
j=$(api /api/units)
[ "$(jq_py "$j" "sorted(u['code'] for u in j['units'] if u['leaf'])")" = "['34301', '34302', '34401', '345']" ] ||
  fail "leaves: $j"
jq_py "$(api /api/catalog)" "[i['label']['vi'] for i in j['indicators'] if i['code']=='REACHED'][0]" |
  grep -q 'tiếp cận' || fail "Vietnamese labels missing"
pass "freshness and units"

step "refusals and access"
for c in "/api/totals?indicator=NOPE indicator" "/api/totals?period=20261 period" \
         "/api/totals?unit=99 unit" "/api/totals?colour=red colour" \
         "/api/children?indicator=REACHED&period=202603 period" "/api/series?indicator=REACHED&from=2020&to=2026&unit=%7C unit"; do
  set -- $c
  j=$(api "$1")
  [ "$(status "$1")" = 400 ] && [ "$(jq_py "$j" 'j["parameter"]')" = "$2" ] || fail "$1: $j"
done
[ "$(status /api/nothing)" = 404 ] && jq_py "$(api /api/nothing)" 'j["error"]' >/dev/null || fail "404"
[ "$(status /api/totals -X POST)" = 405 ] || fail "POST is not 405"
[ "$(status /api/totals -H 'Authorization: Bearer not-the-token-at-all')" = 401 ] || fail "bad token not 401"
[ "$(curl -s -D - -o /dev/null "$BASE/api/info" "${AUTH[@]}" | tr -d '\r' | grep -i '^X-Tiersync-Access:')" = \
  "X-Tiersync-Access: exact" ] || fail "token reader is not exact"
[ "$(status /)" = 200 ] && api / | grep -q '<script src="/app.js"' || fail "dashboard not served"
curl -s -D - -o /dev/null "$BASE/" | grep -qi "^Content-Security-Policy: default-src 'none'" || fail "no CSP"
pass "400 with parameter, 404, 405, 401, token"
