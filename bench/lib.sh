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

# cg_top: this shell's own memory cgroup directory and its limit file (cgroup
# v2, else v1's memory controller).
cg_top() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup) memory.max"
  else
    echo "/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup) memory.limit_in_bytes"
  fi
}

mem_limit_possible() { # root, and a memory controller this shell may divide
  local top file; read -r top file < <(cg_top)
  [ "$(id -u)" -eq 0 ] && [ -w "$top" ] &&
    { [ "$file" = memory.limit_in_bytes ] || grep -qw memory "$top/cgroup.subtree_control"; }
}

# mem_limit PID MB LINK: puts PID (and its threads) in a new memory cgroup of
# MB under this shell's own; LINK becomes a symlink to it. Page cache counts
# against the limit, so the kernel takes back LMDB's clean map pages once the
# district nears it.
mem_limit() {
  local pid=$1 mb=$2 link=$3 top file; read -r top file < <(cg_top)
  rmdir "$top"/tiersync-bench-* 2>/dev/null || true # empty ones left by earlier runs
  local dir=$top/tiersync-bench-$$
  mkdir "$dir" && echo $(( mb << 20 )) >"$dir/$file" || return 1
  ln -s "$dir" "$link"
  echo "$pid" >"$dir/cgroup.procs"
}

mem_limit_peak_kb() { # LINK: the cgroup's peak charge, or "-" where the kernel keeps none
  local f=$1/memory.max_usage_in_bytes
  [ -f "$1/memory.peak" ] && f=$1/memory.peak
  [ -f "$f" ] && echo $(( $(cat "$f") >> 10 )) || echo -
}

# gen_children NODE COUNT PER PREFIX: COUNT generated children (bench/loadgen
# keys, PER to a file, codes PREFIX<file number>...) enrolled at NODE; sets
# LG_KEYS to the generator's --keys/--parent/--parent-key arguments for them.
gen_children() {
  local node=$1 count=$2 per=$3 prefix=$4 i n
  LG_KEYS=()
  for (( i = 0; i * per < count; i++ )); do
    n=$(( count - i * per < per ? count - i * per : per ))
    "$LG" keys --count "$n" --prefix "$prefix$i" --out "$WORK/$node.gen$i.keys" >"$WORK/$node.gen$i.pub"
    LG_KEYS+=(--keys "$WORK/$node.gen$i.keys" --parent "tcp://127.0.0.1:${PORT[$node]}"
              --parent-key "$($TS key --dir "$WORK/$node")")
  done
  cat "$WORK/$node".gen*.pub | while read -r code key; do
    $TS child add --dir "$WORK/$node" "$code" "$key" >/dev/null
  done
}
