#!/usr/bin/env bash
# The local demo: installs dependencies, builds tiersync, and runs a small
# tree on 127.0.0.1 — a province, two districts, communes (one of them
# directly under the province) — each child enrolled with a one-time
# invitation, with sample case records, a yearly plan and percentage targets
# (counsellors certified, post-rehab persons supported, adults aware) against
# the communes' reports. Nodes use ports TIERSYNC_DEMO_PORT (7600) to +15.
# Prints the dashboard address and runs until Ctrl-C, which stops every
# node. Run it again and it starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -n "${TIERSYNC_BIN:-}" ]; then # an already built binary (the tests): no install, no build
  TS=$TIERSYNC_BIN
else
  tools/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
  TS="$ROOT/build/tiersync"
fi
export TIERSYNC_CATALOG="$ROOT/catalog/drug-treatment.json"

DEMO=${TIERSYNC_DEMO_DIR:-$ROOT/build/demo}
BASE_PORT=${TIERSYNC_DEMO_PORT:-7600}
HTTP_PORT=${TIERSYNC_DEMO_HTTP:-8600}
rm -rf "$DEMO"
mkdir -p "$DEMO"
PIDS=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping ${#PIDS[@]} nodes"
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# mk name code level display-name parent-name port [http]: the node; a child
# joins its parent (which runs) with a one-time invitation, as in
# docs/OPERATIONS.md: no key is copied by hand. Each node listens on an even
# port and opens its join socket, while it has invitations out, on the next.
mk() {
  local name=$1 code=$2 level=$3 display=$4 parent=$5 port=$6 http=${7:-}
  local args=(--dir "$DEMO/$name" --name "$display" --level "$level"
              --listen "tcp://127.0.0.1:$port" --http "$http")
  if [ -z "$parent" ]; then
    $TS init "${args[@]}" --code "$code" >/dev/null
  else
    local inv
    inv=$($TS child invite --dir "$DEMO/$parent" "$code" --name "$display" --expires 1h | head -1)
    $TS init "${args[@]}" --join "$inv" >/dev/null
  fi
  # a demo shows record changes at once; a real commune releases them every 15 minutes
  sed -i 's/^release_s = .*/release_s = 0/' "$DEMO/$name/tiersync.conf"
  echo "  $level $code $display"
}
start() {
  for n in "$@"; do
    $TS run --dir "$DEMO/$n" >"$DEMO/$n.log" 2>&1 &
    PIDS+=($!)
  done
}
# together: runs each "mk ..." line of stdin at once, then waits for all.
together() {
  local line pids=()
  while IFS= read -r line; do eval "mk $line" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
}

echo "creating the tree in $DEMO (children join with invitations)"
mk prov 34 province "Tỉnh Thái Bình" "" $BASE_PORT "127.0.0.1:$HTTP_PORT"
start prov
together <<EOF
d1 336 district "Thành phố Thái Bình" prov $((BASE_PORT + 2)) "127.0.0.1:$((HTTP_PORT + 1))"
d2 341 district "Huyện Quỳnh Phụ" prov $((BASE_PORT + 4)) "127.0.0.1:$((HTTP_PORT + 2))"
c0 12550 commune "Xã Đông Hòa" prov $((BASE_PORT + 14))
EOF
start d1 d2 c0
together <<EOF
c11 12445 commune "Phường Lê Hồng Phong" d1 $((BASE_PORT + 6))
c12 12448 commune "Phường Bồ Xuyên" d1 $((BASE_PORT + 8))
c21 12706 commune "Xã Quỳnh Hoa" d2 $((BASE_PORT + 10))
c22 12709 commune "Xã Quỳnh Giao" d2 $((BASE_PORT + 12))
EOF
start c11 c12 c21 c22

echo "entering the yearly plan and commune reports"
year=$(date +%Y); month=$(date +%Y%m)
for m in "compulsory 80" "methadone 110" "voluntary_facility 30" "voluntary_community 25"; do
  set -- $m; $TS value set --dir "$DEMO/d1" TARGET_REACHED "$year" "$2" modality="$1" >/dev/null
done
for m in "compulsory 70" "methadone 90" "voluntary_facility 20" "voluntary_community 20"; do
  set -- $m; $TS value set --dir "$DEMO/d2" TARGET_REACHED "$year" "$2" modality="$1" >/dev/null
done
# percentage targets: each level sets its own (a percentage does not add up)
for n in "prov 100 100 80" "d1 100 100 85" "d2 90 100 75"; do
  set -- $n
  $TS value set --dir "$DEMO/$1" TARGET_COUNSELLORS_CERTIFIED_PCT "$year" "$2" >/dev/null
  $TS value set --dir "$DEMO/$1" TARGET_POST_REHAB_SUPPORTED_PCT "$year" "$3" >/dev/null
  $TS value set --dir "$DEMO/$1" TARGET_ADULTS_AWARE_PCT "$year" "$4" >/dev/null
done
i=0
for c in c11 c12 c21 c22 c0; do
  i=$((i + 1))
  $TS value set --dir "$DEMO/$c" COUNSELLING_POINTS "$month" $(( 1 + i % 2 )) >/dev/null
  $TS value set --dir "$DEMO/$c" STAFF_TRAINED "$year" $(( 2 + i )) >/dev/null
  # counsellors and how many are certified; an awareness survey of adults
  $TS value set --dir "$DEMO/$c" COUNSELLORS "$year" $(( 3 + i )) >/dev/null
  $TS value set --dir "$DEMO/$c" COUNSELLORS_CERTIFIED "$year" $(( 1 + i * 2 / 3 )) >/dev/null
  $TS value set --dir "$DEMO/$c" ADULTS_SURVEYED "$year" $(( 100 + 20 * i )) >/dev/null
  $TS value set --dir "$DEMO/$c" ADULTS_AWARE "$year" $(( 60 + 17 * i )) >/dev/null
done
echo "importing generated case records (Vietnamese names; they never leave the commune)"
seed=1
for c in c11 c12 c21 c22 c0; do
  code=$(sed -n 's/^code = //p' "$DEMO/$c/tiersync.conf")
  python3 tools/gen_records.py --out "$DEMO/data-$c" --unit "$code" --persons 90 --seed $seed \
      --today "$(date +%Y-%m-%d)" \
      --no-expected >/dev/null
  seed=$((seed + 1))
  for t in person episode support; do
    $TS import --dir "$DEMO/$c" $t "$DEMO/data-$c/$t.csv" >/dev/null
  done
done

echo "the nodes run (logs in $DEMO/*.log)"
sleep 1
echo
$TS status --dir "$DEMO/prov"
echo
echo "Dashboard (province): http://127.0.0.1:$HTTP_PORT/"
echo "Totals from the command line: $TS totals --dir $DEMO/prov --unit 34"
echo "The monthly report: $TS report --dir $DEMO/prov --period $(date +%Y%m) --out report.html"
echo "Excel:              $TS export --dir $DEMO/prov --format xlsx --output tiersync.xlsx"
echo "FHIR (mADX):        $TS export --dir $DEMO/prov --format fhir --output tiersync.fhir.json"
echo "Press Ctrl-C to stop every node."
wait
