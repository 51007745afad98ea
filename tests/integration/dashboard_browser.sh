#!/usr/bin/env bash
# dashboard_browser.sh: the provincial dashboard in a real browser. A
# three-level tree (http_lib.bash) runs; headless Chromium loads the
# province's dashboard, and every number it shows (headline cards, trend,
# breakdowns, child units, plan bars) must equal what the API says. The
# drill-down into a district shows its communes with small counts protected
# (<5) and the never-reporting district highlighted as late. Screenshots go
# to $TIERSYNC_ARTIFACTS (default: ./artifacts in the test's working dir).
# Skips (exit 77) only when chromium is not installed.
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "SKIP: $CHROMIUM is not installed (tools/install-deps.sh installs it)"
  exit 77
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.bash"
ART=${TIERSYNC_ARTIFACTS:-$PWD/artifacts}
mkdir -p "$ART"

# browse OUT_ARGS... URL: headless Chromium, fresh profile, no network but
# the node; the virtual time budget lets the page's fetches and scripts run.
browse() {
  local profile
  profile=$(mktemp -d "$WORK/chromium.XXXXXX")
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-extensions \
    --hide-scrollbars --force-device-scale-factor=1 --lang=vi \
    --user-data-dir="$profile" --virtual-time-budget=20000 "$@" 2>>"$WORK/chromium.log"
}

step "start the tree and wait until the province holds every number"
tree_init
tree_start

step "the province's dashboard (Vietnamese) shows the API's numbers"
browse --dump-dom "$BASE/#lang=vi" >"$WORK/dom-vi.html"
grep -q 'lang="vi"' "$WORK/dom-vi.html" || fail "the page is not in Vietnamese"
grep -q 'Tiến độ kế hoạch' "$WORK/dom-vi.html" || fail "Vietnamese section titles missing"
python3 "$HERE/dashboard_check.py" "$BASE" "$WORK/dom-vi.html" total=30 plan-target=5 \
  plan-actual=5 late:345 row:343 row:344 rounded:5 || fail "dashboard (vi) and API disagree"
grep -q 'href="/report?unit=34&amp;period=202603&amp;lang=vi"' "$WORK/dom-vi.html" ||
  fail "no Báo cáo link to the monthly report of the month in view"
grep -q 'href="/api/export?format=xlsx&amp;unit=34&amp;period=2026"' "$WORK/dom-vi.html" ||
  fail "no Excel link for the year in view"
pass "province dashboard, Vietnamese"

step "English, drilled down into district 343: communes, counts rounded"
browse --dump-dom "$BASE/#unit=343&lang=en&ind=IN_TREATMENT" >"$WORK/dom-en.html"
grep -q 'Plan progress' "$WORK/dom-en.html" || fail "English section titles missing"
python3 "$HERE/dashboard_check.py" "$BASE" "$WORK/dom-en.html" total=20 plan-target=5 \
  row:34301 row:34302 rounded:5 || fail "dashboard (en, 343) and API disagree"
grep -q 'href="/report?unit=343&amp;period=202603&amp;lang=en"' "$WORK/dom-en.html" ||
  fail "no Report link for district 343 in English"
pass "district drill-down, English"

step "a percentage: counsellors certified, each level from its own rolled-up parts, against the target"
browse --dump-dom "$BASE/#lang=en&ind=COUNSELLORS_CERTIFIED_PCT" >"$WORK/dom-pct.html"
python3 "$HERE/dashboard_check.py" "$BASE" "$WORK/dom-pct.html" ratio=8 plan-target=7 row:343 ||
  fail "dashboard (percentages) and API disagree"
grep -q '60.0 %' "$WORK/dom-pct.html" || fail "the province's 9 of 15 certified is not shown as 60.0 %"
grep -q '40.0 %' "$WORK/dom-pct.html" || fail "district 343's 4 of 10 certified is not shown as 40.0 %"
pass "percentages and their targets"

step "screenshots"
browse --window-size=1440,1800 --screenshot="$ART/dashboard-vi.png" \
  "$BASE/#lang=vi&ind=IN_TREATMENT" >/dev/null
browse --window-size=1440,1800 --screenshot="$ART/dashboard-en-343.png" \
  "$BASE/#unit=343&lang=en&ind=IN_TREATMENT" >/dev/null
browse --window-size=1440,1800 --screenshot="$ART/dashboard-en-pct.png" \
  "$BASE/#lang=en&ind=COUNSELLORS_CERTIFIED_PCT" >/dev/null
for f in dashboard-vi.png dashboard-en-343.png dashboard-en-pct.png; do
  [ -s "$ART/$f" ] && [ "$(head -c 8 "$ART/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "no PNG screenshot $ART/$f"
done
pass "screenshots in $ART"
