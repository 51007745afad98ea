# bench/lib.sh: helpers the bench scripts share, on top of tests/integration/lib.sh
# (sourced after it: uses $TS and $WORK).

# rss_watch PID OUT: samples PID every 0.2 s until it exits or OUT.stop
# appears; OUT holds the peak private (RssAnon) and file-backed (RssFile:
# LMDB's map) resident kB so far.
rss_watch() {
  local pid=$1 out=$2 ma=0 mf=0 a f
  while [ -d "/proc/$pid" ] && [ ! -e "$out.stop" ]; do
    read -r a f < <(awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {print a + 0, f + 0}' \
      "/proc/$pid/status" 2>/dev/null || echo "0 0")
    [ "$a" -gt "$ma" ] && ma=$a
    [ "$f" -gt "$mf" ] && mf=$f
    echo "$ma $mf" >"$out"
    sleep 0.2
  done
}

link_drained() { # NAME: connected, nothing pending or unacknowledged
  $TS status --dir "$WORK/$1" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)["parent"]
sys.exit(0 if p["connected"] and not p["pending_cells"] and not p["unacked"] else 1)'
}
