#!/usr/bin/env bash
# run_import.sh: the import benchmark of issue 4 (not a test).
#
# usage: bench/run_import.sh BUILD_DIR [PERSONS [EPISODES [SUPPORTS]]]
#        (default 100000 persons, 150000 episodes, 50000 supports)
#
# A three-level tree on 127.0.0.1 (province 34 <- district 343 <- commune
# 34301), all daemons running. The commune imports the generated lists with
# bench_import (records/s, beside the raw LMDB put rate of the same data in
# one transaction); then the time from the end of the import until the
# province holds the commune's complete totals (both links drained, and the
# province's totals of 34301 equal to the commune's own).
set -euo pipefail
BUILD=$(cd "${1:?usage: run_import.sh BUILD_DIR [PERSONS [EPISODES [SUPPORTS]]]}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
PERSONS=${2:-100000}; EPISODES=${3:-$((PERSONS * 3 / 2))}; SUPPORTS=${4:-$((PERSONS / 2))}
export TIERSYNC_BIN=$BUILD/tiersync TIERSYNC_CATALOG=$SRC/catalog/drug-treatment.json
export TIERSYNC_TODAY=2025-12-20
source "$SRC/tests/integration/lib.sh"
ms() { echo $(( $(date +%s%N) / 1000000 )); }

step "generate $PERSONS persons, $EPISODES episodes, $SUPPORTS supports"
python3 "$SRC/tools/gen_records.py" --out "$WORK/data" --unit 34301 --persons "$PERSONS" \
  --episodes "$EPISODES" --supports "$SUPPORTS" --seed 7 --no-expected
node_init prov 34 province
node_init dist 343 district prov
node_init c 34301 commune dist
for n in prov dist c; do node_start $n; done
sleep 1

step "import at the commune"
"$BUILD/bench/bench_import" "$WORK/c" "$WORK/data/person.csv" person "$WORK/data/episode.csv" episode \
  "$WORK/data/support.csv" support
end=$(ms)

drained() { # the commune's and the district's links have nothing left to send
  python3 - "$($TS status --dir "$WORK/c" --json)" "$($TS status --dir "$WORK/dist" --json)" <<'PY'
import json, sys
for s in sys.argv[1:]:
    p = json.loads(s)["parent"]
    if p["pending_cells"] or p["unacked"]:
        sys.exit(1)
PY
}
same() { # the province's totals of the commune equal the commune's own
  cmp -s <($TS totals --dir "$WORK/prov" --unit 34301 --json) <($TS totals --dir "$WORK/c" --unit 34301 --json)
}
step "until the province is complete"
until drained && same; do
  [ $(( $(ms) - end )) -lt 120000 ] || fail "the province is not complete after 120 s"
  sleep 0.02
done
done_ms=$(( $(ms) - end ))
cells=$($TS status --dir "$WORK/prov" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_cells"])')
echo "province complete ${done_ms} ms after the import ended ($cells total cells held at the province)"
