#!/usr/bin/env bash
# A full filesystem (ENOSPC) under the store: a small tmpfs (or, failing
# that, a loop-mounted ext4 image) filled to the last block by a filler file.
#  A. at a commune on it, `tiersync import` and `tiersync value set` fail
#     with a clear message (exit 1) and change nothing; once the filler is
#     deleted they work, with exact totals;
#  B. at a province on it receiving deltas: the apply fails whole, the
#     daemon keeps running and says why, and once space returns the child's
#     retransmission makes it exact, without a restart.
# Needs root (mount); otherwise it prints SKIP and exits 77.
source "$(dirname "$0")/lib.sh"
export TIERSYNC_TODAY=2024-06-15
GEN=${TIERSYNC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/gen_records.py
FS=$WORK/fs
mkdir -p "$FS"

# The message a full disk gives. On ext4 the write that fills the disk
# comes back short, which LMDB reports as EIO ("Input/output error").
FULL="no space left on the disk: free space, then retry"
mounted=""
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=16m tmpfs "$FS" 2>/dev/null; then
  mounted="tmpfs of 16 MiB"
elif [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null && truncate -s 24M "$WORK/fs.img" &&
     mkfs.ext4 -q -F -m 0 "$WORK/fs.img" && mount -o loop "$WORK/fs.img" "$FS" 2>/dev/null; then
  mounted="loop-mounted ext4 image of 24 MiB"
  FULL="$FULL|Input/output error"
else
  echo "SKIP: cannot mount a small filesystem (needs root and tmpfs or loop devices)"
  exit 77
fi
unmount_fs() {
  for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  umount "$FS" 2>/dev/null || umount -l "$FS" 2>/dev/null || true
}
trap 'rc=$?; unmount_fs; (exit $rc); cleanup' EXIT
echo "store on a $mounted"

# on_fs NAME: NAME's data directory lives on the small filesystem.
on_fs() { mkdir -p "$FS/$1" && ln -s "$FS/$1" "$WORK/$1"; }
fill_fs() { dd if=/dev/zero of="$FS/filler" bs=64k 2>/dev/null || true; sync; }
free_fs() { rm -f "$FS/filler"; sync; }

step "A. a commune on a full disk: import and value set"
on_fs k
node_init k 34301 commune
python3 "$GEN" --out "$WORK/gk" --unit 34301 --persons 200 --episodes 300 --supports 100 \
  --first-year 2018 >/dev/null
$TS value set --dir "$WORK/k" STAFF_TRAINED 2024 2 >/dev/null
fill_fs
before=$(totals_lines k)
set +e
$TS import --dir "$WORK/k" person "$WORK/gk/person.csv" >/dev/null 2>"$WORK/imp.err"; rc=$?
set -e
cat "$WORK/imp.err"
[ $rc = 1 ] || fail "an import onto a full disk exits $rc, not 1"
grep -Eq "$FULL" "$WORK/imp.err" ||
  fail "the import does not say the disk is full and what to do"
[ "$(totals_lines k)" = "$before" ] || fail "a failed import changed the totals"
# value set until a write needs a page the disk cannot give (LMDB reuses freed pages first)
failed=""
for m in $(seq 1 400); do
  period=$((2000 + m / 12))$(printf '%02d' $((m % 12 + 1)))
  before=$(totals_lines k)
  if ! $TS value set --dir "$WORK/k" COUNSELLING_POINTS "$period" "$m" >/dev/null 2>"$WORK/val.err"; then
    failed=$period
    break
  fi
done
[ -n "$failed" ] || fail "400 values were set on a full disk"
cat "$WORK/val.err"
grep -Eq "$FULL" "$WORK/val.err" || fail "value set does not say the disk is full"
[ "$(totals_lines k)" = "$before" ] || fail "the failed value set changed the totals"
pass "import and value set fail with exit 1 and 'no space left on the disk'; nothing changed"
free_fs
$TS value set --dir "$WORK/k" COUNSELLING_POINTS "$failed" 9 >/dev/null || fail "value set after freeing space"
[ "$(total k 34301 COUNSELLING_POINTS "$failed")" = 9 ] || fail "the value set after freeing space is not there"
for t in person episode support; do
  $TS import --dir "$WORK/k" $t "$WORK/gk/$t.csv" >/dev/null || fail "import $t after freeing space"
done
expect_exact k 34301 "$WORK/gk" || fail "the records' totals are not exact after freeing space"
pass "with space back, value set and import work; totals exact"

step "B. a province on a full disk receives a commune's deltas"
on_fs prov
node_init prov 34 province
node_init c 34101 commune prov
node_start prov
node_start c
$TS value set --dir "$WORK/c" COUNSELLING_POINTS 202406 5 >/dev/null
expect_total 20 5 prov 34 COUNSELLING_POINTS 202406
python3 "$GEN" --out "$WORK/gc" --unit 34101 --persons 200 --episodes 300 --supports 100 \
  --first-year 2018 >/dev/null
fill_fs
for t in person episode support; do $TS import --dir "$WORK/c" $t "$WORK/gc/$t.csv" >/dev/null; done
wait_until 30 grep -Eq "$FULL" "$WORK/prov.log" ||
  fail "the province does not log that its disk is full"
grep -m 1 -E "$FULL" "$WORK/prov.log"
node_alive prov || fail "the province died"
$TS verify --dir "$WORK/prov" --quiet >"$WORK/verify1.out" ||
  { cat "$WORK/verify1.out"; fail "a delta was half-applied at the province on a full disk"; }
[ "$(total prov 34 COUNSELLING_POINTS 202406)" = 5 ] || fail "the province's earlier total changed"
[ "$(totals_lines prov | grep '^34101 ')" != "$(totals_lines c)" ] ||
  fail "the province took everything: its disk was not full"
pass "the province on a full disk refuses whole deltas, keeps running, and verifies"

step "free the disk: the commune's retransmission makes the province exact"
free_fs
converged() { [ "$(totals_lines prov | grep '^34101 ')" = "$(totals_lines c)" ]; }
wait_until 60 converged || fail "the province does not catch up once the disk has space"
node_alive prov || fail "the province died"
expect_exact prov 34101 "$WORK/gc" || fail "the province's totals of 34101 are not exact"
$TS verify --dir "$WORK/prov" --quiet >/dev/null || fail "the province does not verify after the recovery"
pass "the province is exact and verifies once space returned, without a restart"
