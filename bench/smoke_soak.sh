#!/usr/bin/env bash
# smoke_soak.sh: a 30-second soak.sh (ctest bench_smoke_soak; no timing or
# growth is asserted): 50 generated communes reconnecting every 10 s and two
# real ones, one killed and restarted; every node survives, the province ends
# equal to the district, the district took every generated change, and every
# sample was taken.
set -euo pipefail
SRC=${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}
BUILD=${TIERSYNC_BUILD:?set TIERSYNC_BUILD to the build directory}
out=$(mktemp "${TMPDIR:-/tmp}/soak.XXXXXX.tsv")
trap 'rm -f "$out"' EXIT
CHILDREN=50 RATE=20 SEGMENT_S=10 REAL=2 OUT=$out bash "$SRC/bench/soak.sh" "$BUILD" 30
for n in sdist sprov; do
  rows=$(awk -v n=$n '$2 == n && $3 > 0 && $4 > 0 && $5 > 0' "$out" | wc -l)
  [ "$rows" -ge 3 ] || { echo "FAIL: only $rows valid samples of $n in $out" >&2; cat "$out" >&2; exit 1; }
done
echo "PASS: soak smoke: nodes alive, province equal to district, samples taken"
