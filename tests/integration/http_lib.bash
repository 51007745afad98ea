# http_lib.bash: a real three-level tree for the HTTP tests (sourced after
# lib.sh; named .bash so ctest does not run it as a test of its own).
#
#   34 province (HTTP on a free loopback port)
#   ├── 343 district ── 34301 commune (60 persons), 34302 commune (3 persons)
#   ├── 344 district ── 34401 commune (45 persons)
#   └── 345 district: enrolled, never started (a late unit)
#
# Communes import made-up records (gen_records.py) and enter counselling
# points, staff trained, counsellors (3 of 4, 1 of 6 and 5 of 5 certified)
# and, at 34401, an awareness survey (150 of 200 adults); districts enter
# their yearly plan (TARGET_REACHED 90/120/30/25 and 60/80/20/20: the
# province's plan is 150/200/50/45) and a few counts of their own; the
# province sets its percentage targets (100 % certified, 80 % aware).
# tree_start waits until the province holds every commune's and district's
# numbers exactly.

export TIERSYNC_TODAY=${TIERSYNC_TODAY:-2026-03-15}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tree_init() {
  HTTP[prov]=$(free_port)
  BASE="http://127.0.0.1:${HTTP[prov]}"
  node_init prov 34 province "" --http "127.0.0.1:${HTTP[prov]}" --name "Tỉnh Hà Nam"
  node_init d343 343 district prov --name "Huyện Kim Bảng"
  node_init d344 344 district prov --name "Huyện Thanh Liêm"
  node_init d345 345 district prov --name "Huyện Lý Nhân"
  node_init c34301 34301 commune d343 --name "Xã Tân Sơn"
  node_init c34302 34302 commune d343 --name "Xã Thụy Lôi"
  node_init c34401 34401 commune d344 --name "Xã Thanh Hà"
  local c n seed=1
  for c in 34301:60 34302:3 34401:45; do
    n=${c#*:}; c=${c%:*}
    python3 "$TIERSYNC_SOURCE/tools/gen_records.py" --out "$WORK/rec$c" --unit "$c" --persons "$n" \
        --seed $seed --prefix "C$c" --today "$TIERSYNC_TODAY" --no-expected >/dev/null
    $TS import --dir "$WORK/c$c" person "$WORK/rec$c/person.csv" >/dev/null
    $TS import --dir "$WORK/c$c" episode "$WORK/rec$c/episode.csv" >/dev/null
    $TS import --dir "$WORK/c$c" support "$WORK/rec$c/support.csv" >/dev/null
    seed=$((seed + 1))
  done
  local m v=(1 1 2 2 2 3) i=0
  for m in 202510 202511 202512 202601 202602 202603; do
    $TS value set --dir "$WORK/c34301" COUNSELLING_POINTS $m $(( v[i] + 1 )) >/dev/null
    $TS value set --dir "$WORK/c34302" COUNSELLING_POINTS $m "${v[i]}" >/dev/null
    $TS value set --dir "$WORK/c34401" COUNSELLING_POINTS $m $(( v[i] + 2 )) >/dev/null
    i=$((i + 1))
  done
  $TS value set --dir "$WORK/c34301" STAFF_TRAINED 2026 6 >/dev/null
  $TS value set --dir "$WORK/c34302" STAFF_TRAINED 2026 2 >/dev/null
  $TS value set --dir "$WORK/c34401" STAFF_TRAINED 2026 8 >/dev/null
  $TS value set --dir "$WORK/d343" STAFF_TRAINED 2026 4 >/dev/null
  $TS value set --dir "$WORK/d343" COUNSELLING_POINTS 202603 1 >/dev/null
  $TS value set --dir "$WORK/d344" VOLUNTARY_REQUESTS 2026 3 >/dev/null
  local cc
  for cc in 34301:4:3 34302:6:1 34401:5:5; do
    IFS=: read -r c n k <<<"$cc"
    $TS value set --dir "$WORK/c$c" COUNSELLORS 2026 "$n" >/dev/null
    $TS value set --dir "$WORK/c$c" COUNSELLORS_CERTIFIED 2026 "$k" >/dev/null
  done
  $TS value set --dir "$WORK/c34401" ADULTS_SURVEYED 2026 200 >/dev/null
  $TS value set --dir "$WORK/c34401" ADULTS_AWARE 2026 150 >/dev/null
  $TS value set --dir "$WORK/prov" TARGET_COUNSELLORS_CERTIFIED_PCT 2026 100 >/dev/null
  $TS value set --dir "$WORK/prov" TARGET_ADULTS_AWARE_PCT 2026 80 >/dev/null
  local mod t343=(90 120 30 25) t344=(60 80 20 20) k=0
  for mod in compulsory methadone voluntary_facility voluntary_community; do
    $TS value set --dir "$WORK/d343" TARGET_REACHED 2026 "${t343[k]}" modality=$mod >/dev/null
    $TS value set --dir "$WORK/d344" TARGET_REACHED 2026 "${t344[k]}" modality=$mod >/dev/null
    k=$((k + 1))
  done
}

# add_token NAME TOKEN: a [read] token line in NAME's config (node_set only
# replaces keys, and "token" may appear any number of times).
add_token() { sed -i "/^\[read\]/a token = $2" "$WORK/$1/tiersync.conf"; }

# same_totals A B UNIT: node A and node B hold the same totals for UNIT.
same_totals() {
  local a b
  a=$($TS totals --dir "$WORK/$1" --unit "$3" --json | python3 -c 'import json,sys; print(sorted(json.dumps(r,sort_keys=True) for r in json.load(sys.stdin)))')
  b=$($TS totals --dir "$WORK/$2" --unit "$3" --json | python3 -c 'import json,sys; print(sorted(json.dumps(r,sort_keys=True) for r in json.load(sys.stdin)))')
  [ "$a" = "$b" ] && [ "$a" != "[]" ]
}

converged() {
  same_totals c34301 prov 34301 && same_totals c34302 prov 34302 &&
    same_totals c34401 prov 34401 && same_totals d343 prov 343 && same_totals d344 prov 344
}

tree_start() {
  local n
  for n in prov d343 d344 c34301 c34302 c34401; do node_start $n; done
  wait_until 60 converged || fail "the province did not receive every number within 60 s"
  wait_until 10 curl -sf "$BASE/api/info" || fail "the province's HTTP API does not answer"
}

# npm_tests_install: the test-only npm packages of tests/package.json,
# installed once per machine into $NPM_DIR (under a lock: tests run in
# parallel); skips the test (77) when npm cannot install them (offline).
NPM_DIR=${TIERSYNC_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tiersync-test-npm}
npm_tests_install() {
  mkdir -p "$NPM_DIR"
  (
    flock 9
    if ! cmp -s "$TIERSYNC_SOURCE/tests/package.json" "$NPM_DIR/package.json" ||
       [ ! -d "$NPM_DIR/node_modules" ]; then
      cp "$TIERSYNC_SOURCE/tests/package.json" "$NPM_DIR/package.json"
      (cd "$NPM_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm install --no-audit --no-fund \
         --no-package-lock) >"$WORK/npm.log" 2>&1 || { rm -f "$NPM_DIR/package.json"; exit 1; }
    fi
  ) 9>"$NPM_DIR.lock" || { cat "$WORK/npm.log"; echo "SKIP: npm could not install tests/package.json (offline?)"; exit 77; }
}

# api PATH [curl args...]: GET from the province, body on stdout.
api() { local p=$1; shift; curl -s "$@" "$BASE$p"; }
# status PATH [curl args...]: the HTTP status code only.
status() { local p=$1; shift; curl -s -o /dev/null -w '%{http_code}' "$@" "$BASE$p"; }
# jq_py JSON PYEXPR: evaluates PYEXPR on the parsed JSON bound to j.
jq_py() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($2)" "$1"; }
