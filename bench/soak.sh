#!/usr/bin/env bash
# soak.sh: does a node stay flat over a long run of ordinary traffic?
#
# usage: bench/soak.sh BUILD_DIR [DURATION_S]     (default 600; bounded)
#
# A province ← district tree on 127.0.0.1. CHILDREN (1000) generated communes
# are enrolled at the district and played by the load generator at RATE
# deltas/s in all (200: a change per commune every 5 s), in segments of
# SEGMENT_S (60): each segment is a new generator process, so every commune
# disconnects and reconnects once a segment, continuing its chain. Beside
# them REAL (3) real commune nodes add and edit case records, and one of them,
# picked at random, is killed with kill -9 and restarted every 30 s.
#
# The trail is bounded as an operator would bound it: the district and the
# province keep each child's newest RETAIN (200) deltas ([audit]
# retain_deltas), and the real communes send a checkpoint every CHECKPOINT_S
# (300) s ([audit] checkpoint_s, a test setting; checkpoint_days in service).
#
# Every 10 s it samples, for the district and the province: resident memory
# split into anonymous (heap: RssAnon, kB) and file-backed (the store's
# mapped pages: RssFile, kB), open file descriptors, the store's used pages
# (kB: LMDB's high-water mark) and the free pages among them (kB: used minus
# free is the live data), and the deltas in the audit trail, into OUT (default
# soak.tsv). At the end it prints, per series, the first and last sample and
# the growth per hour fitted by least squares over the second half of the run
# (the first half warms up: the map fills, the audit trail reaches its
# bound), and how far the used pages sit above the live data's peak. A series
# that grows steadily through the second half is what to look for.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: soak.sh BUILD_DIR [DURATION_S]}" && pwd)
DURATION=${2:-600}
CHILDREN=${CHILDREN:-1000} RATE=${RATE:-200} SEGMENT_S=${SEGMENT_S:-60} REAL=${REAL:-3}
RETAIN=${RETAIN:-200} CHECKPOINT_S=${CHECKPOINT_S:-300}
OUT=${OUT:-soak.tsv}
[ "$DURATION" -ge 20 ] && [ "$DURATION" -le 604800 ] || { echo "soak: DURATION_S must be 20..604800" >&2; exit 2; }
export TIERSYNC_BIN=$BUILD/tiersync TIERSYNC_CATALOG=${TIERSYNC_CATALOG:-$SRC/catalog/drug-treatment.json}
source "$SRC/tests/integration/lib.sh" # real nodes on 127.0.0.1, all killed at exit
source "$SRC/bench/lib.sh"
LG=$BUILD/bench/loadgen
say() { echo "soak: $*" >&2; }
command -v mdb_stat >/dev/null || fail "mdb_stat (Debian lmdb-utils) is needed to sample the stores"

say "province 37 <- district 373: $CHILDREN generated communes and $REAL real ones, $DURATION s"
node_init sprov 37 province
node_init sdist 373 district sprov
gen_children sdist "$CHILDREN" 250 9
for r in $(seq 1 "$REAL"); do
  node_init "r$r" "3738$r" commune sdist
  node_set "r$r" audit checkpoint_s "$CHECKPOINT_S"
done
for n in sprov sdist; do node_set "$n" audit retain_deltas "$RETAIN"; done
export TIERSYNC_TODAY=2025-12-31 # the load generator counts periods of 2025 and before
for n in sprov sdist $(seq -f 'r%g' 1 "$REAL"); do node_start "$n"; done

# records NAME: adds a person and an episode, then edits the person, until
# $WORK/stop appears (bounded by the run's length: one change a second).
records() {
  local i=0
  while [ ! -e "$WORK/stop" ] && [ $i -lt "$DURATION" ]; do
    i=$((i + 1))
    $TS record add --dir "$WORK/$1" person id="S$i" full_name="Người $i" sex=F \
      birth_date=1985-03-0$((1 + i % 9)) registered_on=2024-0$((1 + i % 9))-01 >/dev/null 2>&1 || true
    $TS record add --dir "$WORK/$1" episode id="E$i" person_id="S$i" modality=methadone \
      start_on=2024-0$((1 + i % 9))-02 >/dev/null 2>&1 || true
    $TS record update --dir "$WORK/$1" person id="S$i" confirmed_on=2024-0$((1 + i % 9))-03 \
      >/dev/null 2>&1 || true
    sleep 1
  done
}
STREAMS=()
for r in $(seq 1 "$REAL"); do records "r$r" & STREAMS+=($!); done

# The generated communes, a segment at a time until the end of the run.
generator() {
  local seg=0
  while [ ! -e "$WORK/stop" ]; do
    seg=$((seg + 1))
    "$LG" run "${LG_KEYS[@]}" --cells 4 --distinct 200 --window 8 --rate "$RATE" \
      --count $(( RATE * SEGMENT_S + 1 )) --duration "$SEGMENT_S" --drain 30 \
      --connect-timeout 120 >"$WORK/lg.$seg.txt" 2>&1 ||
      { say "segment $seg: $(head -1 "$WORK/lg.$seg.txt")"; touch "$WORK/lg.failed"; }
  done
}
generator &
GEN=$!

# sample NAME: "anon_kb file_kb fds used_kb audit_entries free_kb" of node NAME.
sample() {
  local pid=${PID[$1]} rss fds used audit
  rss=$(awk '/^RssAnon/ {a = $2} /^RssFile/ {f = $2} END {print a + 0, f + 0}' "/proc/$pid/status" 2>/dev/null || echo 0 0)
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
  read -r used free < <(mdb_stat -ef "$WORK/$1/db" |
    awk '/Number of pages used/ {p = $5} /Page size/ {s = $3} /Free pages/ {f = $3} END {print p * s / 1024, f * s / 1024}')
  audit=$(mdb_stat -s audit_index "$WORK/$1/db" 2>/dev/null | awk '/Entries/ {print $2}')
  echo "$rss $fds $used ${audit:-0} ${free:-0}"
}

printf 't_s\tnode\tanon_kb\tfile_kb\tfds\tstore_used_kb\taudit_entries\tstore_free_kb\n' >"$OUT"
start=$(date +%s)
next_kill=30
while :; do
  sleep 10
  t=$(( $(date +%s) - start ))
  for n in sdist sprov; do
    read -r anon file fds used audit free < <(sample "$n")
    printf '%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n' "$t" "$n" "$anon" "$file" "$fds" "$used" "$audit" "$free" >>"$OUT"
  done
  say "$t s: district $(sample sdist | awk '{print $1 " kB anon, " $2 " kB file, " $3 " fds, " $4 " kB used, " $5 " audit"}')"
  if [ "$t" -ge "$next_kill" ] && [ "$REAL" -gt 0 ]; then
    victim=r$(( 1 + RANDOM % REAL ))
    node_kill9 "$victim"
    node_start "$victim"
    next_kill=$(( next_kill + 30 ))
  fi
  [ "$t" -lt "$DURATION" ] || break
done
touch "$WORK/stop"
wait "$GEN" "${STREAMS[@]}" 2>/dev/null || true
node_alive sdist && node_alive sprov || fail "a node died during the soak (see its log)"
[ ! -e "$WORK/lg.failed" ] || fail "the district refused the load generator's changes (see the segments above)"
say "drained: the province holds exactly what the district holds"
for n in $(seq -f 'r%g' 1 "$REAL") sdist; do
  wait_until 120 link_drained "$n" || fail "$n did not drain to its parent"
done
diff <(totals_lines sprov | grep -v '^37 ') <(totals_lines sdist) >/dev/null ||
  fail "the province's totals differ from the district's after the soak"

say "growth per hour over the second half of the run (least squares), from $OUT"
python3 - "$OUT" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
end = max(int(r["t_s"]) for r in rows)
print(f"{'node':6} {'series':14} {'first':>10} {'last':>10} {'per_hour':>10}")
for node in ("sdist", "sprov"):
    pts = [r for r in rows if r["node"] == node]
    half = [r for r in pts if int(r["t_s"]) >= end / 2] or pts
    for r in pts:
        r["live_kb"] = int(r["store_used_kb"]) - int(r["store_free_kb"])
    for s in ("anon_kb", "file_kb", "fds", "store_used_kb", "live_kb", "audit_entries"):
        xs = [int(r["t_s"]) / 3600 for r in half]
        ys = [int(r[s]) for r in half]
        n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0
        print(f"{node:6} {s:14} {pts[0][s]:>10} {pts[-1][s]:>10} {slope:>10.0f}")
    # LMDB reuses a freed page, never returns it: the used pages can only follow the
    # live data's highest point, plus the pages the newest transactions freed.
    peak = max(r["live_kb"] for r in pts)
    print(f"{node:6} used {int(pts[-1]['store_used_kb']) / 1024:.0f} MB = live data's peak "
          f"{peak / 1024:.0f} MB + {(int(pts[-1]['store_used_kb']) - peak) / 1024:.0f} MB")
PY
