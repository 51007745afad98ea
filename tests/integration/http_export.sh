#!/usr/bin/env bash
# http_export.sh: exports from a live province of a three-level tree. The
# ADX passes a structural check written from the specification
# (adx_check.py), DHIS2 dataValueSets has its shape, and both carry each
# unit's own values, which must add up to the province's rolled-up totals
# exactly. HTTP and CLI exports are the same; a reader without a token gets
# counts from records rounded; the mapping file turns codes into DHIS2 UIDs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.bash"
TOKEN=export-reader-token-0123456789

tree_init
add_token prov "$TOKEN"
tree_start
AUTH=(-H "Authorization: Bearer $TOKEN")

# The province's rolled-up totals at unit 34 as "indicator|period|options|value".
$TS totals --dir "$WORK/prov" --unit 34 --json | python3 -c '
import json, sys
for r in sorted(json.load(sys.stdin), key=lambda r: (r["indicator"], r["period"], sorted(r["options"].items()))):
    print("|".join([r["indicator"], r["period"], ",".join(k + "=" + v for k, v in sorted(r["options"].items())), str(r["value"])]))' \
  >"$WORK/rollup.txt"
[ "$(wc -l <"$WORK/rollup.txt")" -gt 50 ] || fail "the province holds too few totals to test exports"

step "ADX from the CLI: valid structure, own values add up to the province's totals"
$TS export --dir "$WORK/prov" --format adx >"$WORK/all.adx.xml" || fail "export --format adx failed"
python3 "$HERE/adx_check.py" "$WORK/all.adx.xml" >"$WORK/adx-sums.txt" || fail "ADX structure"
diff -u "$WORK/rollup.txt" "$WORK/adx-sums.txt" || fail "ADX own values do not add up to the province's totals"
grep -q 'orgUnit="34301" period="2026-03-01/P1M"' "$WORK/all.adx.xml" || fail "no monthly group of commune 34301"
grep -q 'orgUnit="343" period="2026-01-01/P1Y"' "$WORK/all.adx.xml" || fail "no yearly group of district 343 (its plan)"
pass "ADX structure and sums ($(grep -c '<dataValue' "$WORK/all.adx.xml") values)"

step "DHIS2 dataValueSets over HTTP (token): shape, and the same sums"
api "/api/export?format=dhis2" "${AUTH[@]}" >"$WORK/all.dhis2.json"
python3 - "$WORK/all.dhis2.json" >"$WORK/dhis2-sums.txt" <<'PY' || fail "DHIS2 shape"
import collections, json, re, sys
doc = json.load(open(sys.argv[1]))
assert set(doc) == {"dataValues"}, f"top-level keys {set(doc)}"
sums = collections.Counter()
for v in doc["dataValues"]:
    assert set(v) == {"dataElement", "period", "orgUnit", "categoryOptionCombo", "value"}, v
    assert all(isinstance(x, str) and x for x in v.values()), v
    assert re.fullmatch(r"\d{4}(0[1-9]|1[0-2])?", v["period"]), v
    assert re.fullmatch(r"-?\d+", v["value"]), v
    coc = "" if v["categoryOptionCombo"] == "default" else v["categoryOptionCombo"]
    sums[(v["dataElement"], v["period"], coc)] += int(v["value"])
for (de, p, coc), n in sorted(sums.items()):
    print(f"{de}|{p}|{coc}|{n}")
PY
diff -u "$WORK/rollup.txt" "$WORK/dhis2-sums.txt" || fail "DHIS2 own values do not add up to the province's totals"
$TS export --dir "$WORK/prov" --format dhis2 >"$WORK/cli.dhis2.json"
cmp -s "$WORK/cli.dhis2.json" "$WORK/all.dhis2.json" || fail "HTTP and CLI DHIS2 exports differ"
pass "DHIS2 shape, sums, HTTP = CLI"

step "CSV of rolled-up totals for district 343 equals 'tiersync totals'"
api "/api/export?format=csv&unit=343&values=total&period=202603" "${AUTH[@]}" >"$WORK/343.csv"
head -1 "$WORK/343.csv" | grep -qx 'unit,unit_name,level,indicator,period,options,value' || fail "CSV header"
python3 - "$WORK/343.csv" >"$WORK/343-csv.txt" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print(r["unit"], r["indicator"], r["period"], r["options"], r["value"])
PY
# the stored totals, and each monthly ratio (listed when named) as the CSV shows it
ratios=$(api /api/catalog | python3 -c 'import json,sys; print(" ".join(i["code"] for i in json.load(sys.stdin)["indicators"] if i["kind"] == "ratio" and i["period"] == "month"))')
for u in 343 34301 34302; do
  for ind in "" $ratios; do
    $TS totals --dir "$WORK/prov" --unit $u --period 202603 ${ind:+--indicator $ind} --json
  done | python3 -c '
import json, sys
for line in sys.stdin:
    for r in json.loads(line):
        v = "" if r["value"] is None else r["value"]
        print(r["unit"], r["indicator"], r["period"], ",".join(k + "=" + v for k, v in sorted(r["options"].items())), v)'
done | sort >"$WORK/343-cli.txt"
grep -q ' POST_REHAB_SUPPORTED_PCT ' "$WORK/343-cli.txt" || fail "no post-rehab ratio in the generated records"
sort "$WORK/343-csv.txt" | diff -u "$WORK/343-cli.txt" - || fail "CSV totals differ from tiersync totals"
pass "CSV = totals ($(wc -l <"$WORK/343-cli.txt") rows)"

step "without a token: every count from records is rounded, none left out"
curl -s -o "$WORK/prot.csv" "$BASE/api/export?format=csv&unit=34302"
api "/api/export?format=csv&unit=34302" "${AUTH[@]}" >"$WORK/exact.csv"
curl -s -o "$WORK/catalog.json" "$BASE/api/catalog"
python3 - "$WORK/catalog.json" "$WORK/prot.csv" "$WORK/exact.csv" <<'PY' || fail "the rounded CSV of commune 34302 is wrong"
import csv, json, sys
inds = {i["code"]: i for i in json.load(open(sys.argv[1]))["indicators"]}
value_inds = {c for c, i in inds.items() if i["kind"] == "value"}
def load(p):
    rows = {(r["unit"], r["indicator"], r["period"], r["options"]): r["value"]
            for r in csv.DictReader(open(p, encoding="utf-8"))}
    return ({k: int(v) for k, v in rows.items() if inds[k[1]]["kind"] != "ratio"},
            {k: v for k, v in rows.items() if inds[k[1]]["kind"] == "ratio"})
(shown, shown_ratios), (exact, _) = load(sys.argv[2]), load(sys.argv[3])
small = [k for k, v in exact.items() if k[1] not in value_inds and 1 <= v <= 4]
assert small, "no small count in commune 34302: the check would be void"
for k, v in exact.items():
    s = shown.get(k, 0)
    if k[1] in value_inds:
        assert s == v, (k, s, v)
    else:
        assert s % 5 == 0 and abs(s - v) < 5, (k, s, v)
assert not any(shown.get(k) == exact[k] for k in small), "a small count is shown exactly"
# a ratio is of its parts as shown (ratio.c: one decimal, half away from zero)
assert shown_ratios, "no ratio row in the rounded CSV: the check would be void"
for (u, i, p, o), v in shown_ratios.items():
    num, den = (shown.get((u, inds[i][part], p, o), 0) for part in ("numerator", "denominator"))
    want = "" if den == 0 else "%.1f" % ((2 * 10 * inds[i]["factor"] * num + den) // (2 * den) / 10)
    assert v == want, ((u, i, p, o), v, num, den)
PY
api "/api/export?format=dhis2&unit=34302" >"$WORK/prot.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); vals={i["code"] for i in json.load(open(sys.argv[2]))["indicators"] if i["kind"] == "value"}; assert all(int(v["value"]) % 5 == 0 for v in d["dataValues"] if v["dataElement"] not in vals), "a count is not rounded"' \
  "$WORK/prot.json" "$WORK/catalog.json" || fail "rounded DHIS2 export holds an unrounded count"
pass "rounded exports of 34302"

step "the mapping file in the data directory turns codes into DHIS2 UIDs and ADX codes"
cp "$TIERSYNC_SOURCE/catalog/dhis2-mapping.json" "$WORK/prov/dhis2-mapping.json"
out=$(api "/api/export?format=dhis2&indicator=TARGET_REACHED&unit=343" "${AUTH[@]}")
echo "$out" | grep -q '"dataElement":"tsDeTargetR","period":"2026","orgUnit":"tsOuDist343","categoryOptionCombo":"tsCocCompul","value":"90"' ||
  fail "mapping not applied: $out"
api "/api/export?format=adx&unit=34301&period=202603" "${AUTH[@]}" >"$WORK/mapped.adx.xml"
python3 "$HERE/adx_check.py" "$WORK/mapped.adx.xml" >/dev/null || fail "mapped ADX structure"
grep -q 'orgUnit="VN-34301"' "$WORK/mapped.adx.xml" && grep -q 'SEX="MALE"' "$WORK/mapped.adx.xml" ||
  fail "ADX codes not mapped"
pass "mapping applied"

step "refusals"
echo '{"dataElements": {"NOT_AN_INDICATOR": {"dhis2": "abcdefghijk"}}}' >"$WORK/bad.json"
set +e
msg=$($TS export --dir "$WORK/prov" --format dhis2 --mapping "$WORK/bad.json" 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 2 ] && echo "$msg" | grep -q 'NOT_AN_INDICATOR' || fail "bad mapping: rc $rc, '$msg'"
set +e
$TS export --dir "$WORK/prov" --format adx --period 1999 >"$WORK/empty.xml" 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] && [ ! -s "$WORK/empty.xml" ] || fail "an empty ADX export was not refused cleanly (rc $rc)"
[ "$(status "/api/export?format=adx&period=1999" "${AUTH[@]}")" = 404 ] || fail "empty ADX over HTTP is not 404"
[ "$(status "/api/export?format=xls")" = 400 ] || fail "unknown format is not 400"
cp "$WORK/bad.json" "$WORK/prov/dhis2-mapping.json"
[ "$(status "/api/export?format=dhis2" "${AUTH[@]}")" = 500 ] || fail "a bad mapping file is not a server error"
pass "refusals"
