#!/usr/bin/env bash
# Silent disk rot: bytes flipped in a running province's data file — in a
# rolled-up total, in a child's contribution, and in a signed delta of the
# audit trail — are each found by the daemon's own scrub (audit.scrub_every_h),
# logged, and shown in `status` and /metrics; the documented repair — restore
# the last good backup and let the children resync — makes it exact again.
source "$(dirname "$0")/lib.sh"
export TIERSYNC_TODAY=2026-11-15

node_init prov 34 province
node_init d1 341 district prov
node_init c1 34101 commune d1
node_init c2 34102 commune d1
HTTP_PORT=$(free_port)
node_set prov http address "127.0.0.1:$HTTP_PORT"
node_set prov audit scrub_every_h 0.001 # every 3.6 s
for n in prov d1 c1 c2; do node_start "$n"; done

$TS value set --dir "$WORK/c1" COUNSELLING_POINTS 202611 7 >/dev/null
$TS value set --dir "$WORK/c2" COUNSELLING_POINTS 202611 5 >/dev/null
$TS value set --dir "$WORK/c1" STAFF_TRAINED 2026 3 >/dev/null
expect_total 20 12 prov 34 COUNSELLING_POINTS 202611
expect_total 20 3 prov 34 STAFF_TRAINED 2026

scrub_runs() { status_field prov 's["scrub"]["runs"]'; }
step "a clean store: the scrub runs and finds nothing"
wait_until 30 status_test prov 's["scrub"]["runs"] >= 1' || fail "no scrub pass in 30 s"
[ "$(status_field prov 's["scrub"]["problems"]')" = 0 ] || fail "the scrub found problems in a clean store"
$TS status --dir "$WORK/prov" | grep -q '^scrub .*0 problems' || fail "status does not show the scrub"
pass "clean pass recorded"
$TS backup --dir "$WORK/prov" "$WORK/prov-good.mdb" >/dev/null || fail "backup refused"

# flip PATTERN_HEX OFFSET: adds 1 to the byte at OFFSET after every
# occurrence of the byte string in the province's data file (old copies of a
# page may hold it too; the live one is among them).
flip() {
  python3 - "$WORK/prov/db/data.mdb" "$1" "$2" <<'PY'
import sys
path, pat, off = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
data = bytearray(open(path, "rb").read())
hits, i = 0, data.find(pat)
while i >= 0:
    data[i + len(pat) + off] = (data[i + len(pat) + off] + 1) % 256
    hits, i = hits + 1, data.find(pat, i + 1)
if not hits:
    sys.exit(f"pattern {pat!r} not found in {path}")
with open(path, "r+b") as f:
    f.write(data)
print(hits)
PY
}
# an LMDB leaf node holds the key's length (2 bytes, little-endian) right
# before the key, and the value right after it: the first byte after the
# key is the low byte of the stored count
node_key() { python3 -c 'import sys,struct; k=sys.argv[1].encode(); print((struct.pack("<H",len(k))+k).hex())' "$1"; }

step "flip a byte of three stored things while the province runs"
runs=$(scrub_runs)
flip "$(node_key '341|STAFF_TRAINED|2026|')" 0 >/dev/null   # a rolled-up total
flip "$(node_key '341|34102|COUNSELLING_POINTS|202611|')" 0 >/dev/null # 34102's part of 341's contribution
flip "$(python3 -c 'print((b"\x0d" + b"STAFF_TRAINED").hex())')" -1 >/dev/null # in a signed delta
wait_until 30 status_test prov "s['scrub']['runs'] >= $runs + 2" || fail "the scrub stopped running"
[ "$(status_field prov 's["scrub"]["problems"]')" -ge 3 ] ||
  fail "the scrub found $(status_field prov 's["scrub"]["problems"]') problems, expected at least 3"
grep -q 'scrub: total 341|STAFF_TRAINED|2026|: expected 3' "$WORK/prov.log" ||
  fail "the flipped total was not reported"
grep -q 'scrub: child 341 contribution 34102|COUNSELLING_POINTS|202611|: expected 5' "$WORK/prov.log" ||
  fail "the flipped contribution was not reported"
grep -q 'scrub: child 341 seq [0-9]*.*signature' "$WORK/prov.log" ||
  fail "the flipped signed delta was not reported"
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | grep -Eq '^tiersync_scrub_problems [1-9]' ||
  fail "/metrics does not show the scrub's problems"
pass "each flipped byte reported in the log, status and /metrics"

step "the documented repair: restore the last good backup, the children resync"
node_stop prov
$TS restore --dir "$WORK/prov" "$WORK/prov-good.mdb" >/dev/null || fail "restore refused"
$TS value set --dir "$WORK/c2" COUNSELLING_POINTS 202611 6 >/dev/null
node_start prov
expect_total 30 13 prov 34 COUNSELLING_POINTS 202611
expect_total 30 3 prov 341 STAFF_TRAINED 2026
$TS verify --dir "$WORK/prov" >/dev/null || fail "verify fails after the repair"
wait_until 30 status_test prov "s['scrub']['runs'] >= 1 and s['scrub']['problems'] == 0 and s['scrub']['last'] > '$(date -u +%FT%TZ)'" ||
  fail "no clean scrub pass after the repair"
pass "exact again after restore and resync; the next scrub pass is clean"
