#!/usr/bin/env bash
# mem_district.sh: peak memory of a fresh district with 1,000 children (issue 8).
#
# usage: bench/mem_district.sh BUILD_DIR     (tiersync and bench/loadgen built there)
#
# A fresh province ← district tree on 127.0.0.1; 1,000 generated children are
# enrolled at the district and played by one load generator. Each child sends
# DELTAS (50) signed deltas of CELLS (20) cells, rotating over DISTINCT (200)
# cells of its own unit, with the protocol's window of 8 in flight: about a
# month of one commune's changes (two editing sessions a day, each changing a
# person's or an episode's counts by month and year, modality, sex and age
# band), sent by all 1,000 communes at once, as after a district restart. The
# province runs and receives everything the district forwards.
#
# Prints "name value" lines (kB): the district's VmHWM at the end, its peak
# RssAnon and RssFile (sampled every 0.2 s while the load runs and drains),
# and its RssAnon/RssFile once the district has drained to the province.
# CHILDREN, DELTAS, CELLS and DISTINCT change the load. LIMIT_MB runs the
# district inside a memory cgroup of that size (root only; page cache and
# kernel memory count too) and adds its peak charge, cgroup_peak_kb.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: mem_district.sh BUILD_DIR}" && pwd)
CHILDREN=${CHILDREN:-1000} DELTAS=${DELTAS:-50} CELLS=${CELLS:-20} DISTINCT=${DISTINCT:-200}
export TIERSYNC_BIN=$BUILD/tiersync TIERSYNC_CATALOG=${TIERSYNC_CATALOG:-$SRC/catalog/drug-treatment.json}
source "$SRC/tests/integration/lib.sh" # real nodes on 127.0.0.1, all killed at exit
source "$SRC/bench/lib.sh"
LG=$BUILD/bench/loadgen
say() { echo "mem_district: $*" >&2; }

field_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

say "province 36 <- district 363, $CHILDREN children enrolled at 363"
node_init mprov 36 province
node_init mdist 363 district mprov
gen_children mdist "$CHILDREN" 100 8
node_start mprov
node_start mdist
[ -n "${LIMIT_MB:-}" ] && { mem_limit "${PID[mdist]}" "$LIMIT_MB" "$WORK/cg" ||
  fail "cannot put the district in a $LIMIT_MB MB memory cgroup (needs root and a memory controller)"; }
wait_until 30 link_drained mdist || fail "the district's link did not come up"
rss_watch "${PID[mdist]}" "$WORK/rss" &
WATCH=$!
echo "start_anon_kb $(field_kb "${PID[mdist]}" RssAnon)"
echo "start_file_kb $(field_kb "${PID[mdist]}" RssFile)"

say "$CHILDREN children x $DELTAS deltas x $CELLS cells (over $DISTINCT distinct each)"
"$LG" run "${LG_KEYS[@]}" --cells "$CELLS" --distinct "$DISTINCT" \
  --count $(( CHILDREN * DELTAS )) --window 8 --duration 120 --drain 60 \
  --connect-timeout 120 >"$WORK/lg.txt"
grep -E '^(connect_ms|acked|elapsed_s|deltas_per_s|cells_per_s) ' "$WORK/lg.txt"
wait_until 120 link_drained mdist || fail "the district did not drain to the province"
sleep 1
touch "$WORK/rss.stop"
wait "$WATCH" || true
read -r anon file <"$WORK/rss"
echo "peak_anon_kb $anon"
echo "peak_file_kb $file"
echo "vmhwm_kb $(field_kb "${PID[mdist]}" VmHWM)"
echo "after_anon_kb $(field_kb "${PID[mdist]}" RssAnon)"
echo "after_file_kb $(field_kb "${PID[mdist]}" RssFile)"
echo "store_kb $(du -sk "$WORK/mdist/db" | cut -f1)"
[ -n "${LIMIT_MB:-}" ] && echo "cgroup_peak_kb $(mem_limit_peak_kb "$WORK/cg")"
node_stop mdist
node_stop mprov
if [ -L "$WORK/cg" ]; then rmdir "$(readlink "$WORK/cg")"; fi
