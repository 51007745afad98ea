#!/usr/bin/env bash
# http_metrics.sh: /metrics of live nodes in Prometheus text format: per-child
# counters equal 'tiersync status', the apply histogram is cumulative and
# counts every applied delta, the LMDB size is the file's, and a district
# whose parent stops answering shows its unacknowledged deltas, which drain
# to 0 when the parent is back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.bash"

tree_init
HTTP[d343]=$(free_port)
node_set d343 http address "127.0.0.1:${HTTP[d343]}"
tree_start
D343="http://127.0.0.1:${HTTP[d343]}"

# metric URL NAME: the value of one sample line (NAME may carry labels).
metric() {
  curl -s "$1/metrics" | python3 -c '
import sys
name = sys.argv[1]
for line in sys.stdin:
    if line.startswith(name + " "):
        print(line.split()[1]); break' "$2"
}

metric_eq() { [ "$(metric "$1" "$2")" = "$3" ]; }
metric_ge() { local v; v=$(metric "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }

step "the exposition parses, and per-child counters equal tiersync status"
curl -s -D "$WORK/h.txt" "$BASE/metrics" >"$WORK/prov.prom"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/h.txt" || fail "content type"
python3 - "$WORK/prov.prom" <<'PY' || fail "not Prometheus text format"
import re, sys
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (?:[-+0-9.eE]+|\+Inf|NaN)$')
typed = set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        typed.add(line.split()[2])
    elif line.startswith("# HELP "):
        continue
    else:
        assert sample.match(line), line
        base = re.sub(r"(_bucket|_sum|_count)$", "", line.split("{")[0].split()[0])
        assert base in typed or line.split("{")[0].split()[0] in typed, f"no TYPE for {line}"
PY
for c in 343 344; do
  want=$(status_field prov "[x['applied'] for x in s['children'] if x['code']=='$c'][0]")
  got=$(metric "$BASE" "tiersync_child_deltas_applied_total{child=\"$c\"}")
  [ "$got" = "$want" ] && [ "$got" -ge 1 ] || fail "applied from $c: metrics $got, status $want"
  [ "$(metric "$BASE" "tiersync_child_late{child=\"$c\"}")" = 0 ] || fail "$c shown late"
done
[ "$(metric "$BASE" 'tiersync_child_late{child="345"}')" = 1 ] || fail "345 (never started) not late"
pass "per-child counters"

step "apply histogram: cumulative, +Inf = count >= deltas applied"
python3 - "$WORK/prov.prom" <<'PY' || fail "histogram"
import sys
b, count, applied = [], None, 0
for line in open(sys.argv[1]):
    if line.startswith("tiersync_apply_duration_seconds_bucket"):
        b.append(int(line.split()[1]))
    elif line.startswith("tiersync_apply_duration_seconds_count"):
        count = int(line.split()[1])
    elif line.startswith("tiersync_child_deltas_applied_total{"):
        applied += int(line.split()[1])
assert b == sorted(b) and len(b) >= 2, b
assert b[-1] == count and count >= applied >= 2, (b, count, applied)
PY
pass "histogram"

step "LMDB size is the data file's"
f=$(metric "$BASE" tiersync_lmdb_file_bytes)
[ "$f" = "$(stat -c %s "$WORK/prov/db/data.mdb")" ] || fail "lmdb file bytes $f"
u=$(metric "$BASE" tiersync_lmdb_used_bytes)
[ "$u" -gt 0 ] && [ "$u" -le "$(metric "$BASE" tiersync_lmdb_map_size_bytes)" ] || fail "lmdb used $u"
pass "LMDB size"

step "district 343: unacked deltas while the province is stopped, drained after"
wait_until 20 metric_eq "$D343" tiersync_unacked_deltas 0 || fail "343 not drained at start"
made=$(metric "$D343" tiersync_deltas_made_total)
[ "$made" -ge 1 ] || fail "343 made no delta"
node_pause prov
$TS value set --dir "$WORK/d343" VOLUNTARY_REQUESTS 2026 5 >/dev/null
wait_until 20 metric_ge "$D343" tiersync_unacked_deltas 1 || fail "unacked did not grow"
[ "$(metric "$D343" tiersync_head_seq)" -gt 0 ] || fail "head_seq"
[ "$(metric "$D343" tiersync_last_flush_timestamp_seconds | cut -d. -f1)" -gt 1600000000 ] || fail "last flush"
node_resume prov
wait_until 30 metric_eq "$D343" tiersync_unacked_deltas 0 || fail "unacked did not drain"
[ "$(metric "$D343" tiersync_pending_cells)" = 0 ] || fail "pending cells left"
expect_total 20 5 prov 343 VOLUNTARY_REQUESTS 2026
pass "unacked grows while the parent is stopped and drains after"
