#!/usr/bin/env bash
# A child whose contribution exceeds max_cells sends its snapshot in parts,
# the first naming the last; the parent applies them in one transaction
# when the last arrives. A reader polling the parent during the snapshot
# sees none of the child's cells or all of them, never some, and the
# grandparent ends with all of them; the audit trail verifies throughout.
source "$(dirname "$0")/lib.sh"

CELLS=120   # ten years of months, one cell a part: 120 parts, one in flight at a time
node_init prov 34 province
node_init d1 341 district prov
node_init c11 34101 commune d1
node_set c11 sync max_cells 1
node_set c11 sync window 1
for y in $(seq 2016 2025); do
  for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    $TS value set --dir "$WORK/c11" COUNSELLING_POINTS "$y$m" 1 >/dev/null
  done
done
node_start prov
node_start d1

cells_at() {
  $TS totals --dir "$WORK/$1" --unit 34101 --indicator COUNSELLING_POINTS --json |
    { grep -o '"value"' || true; } | wc -l
}

step "a reader polls the district while the commune's first snapshot arrives in $CELLS parts"
: >"$WORK/seen"
(
  for _ in $(seq 3000); do
    n=$(cells_at d1)
    echo "$n" >>"$WORK/seen"
    [ "$n" = "$CELLS" ] && break
  done
) &
poller=$!
node_start c11
wait "$poller" || fail "the reader failed"
sort -n -u "$WORK/seen" | tr '\n' ' '; echo
bad=$(grep -v -x -e 0 -e "$CELLS" "$WORK/seen" | head -1 || true)
[ -z "$bad" ] || fail "the reader saw $bad of the $CELLS cells: a half-applied snapshot"
[ "$(tail -1 "$WORK/seen")" = "$CELLS" ] || fail "the snapshot never completed at the district"
pass "only 0 or $CELLS cells were ever visible"

step "the grandparent gets all of them; the trail verifies"
cells_at_prov_all() { [ "$(cells_at prov)" = "$CELLS" ]; }
wait_until 20 cells_at_prov_all || fail "the province holds $(cells_at prov) of the $CELLS cells"
$TS verify --dir "$WORK/d1" >/dev/null || fail "verify at the district"
pass "province holds $CELLS; verify passes"
