#!/usr/bin/env bash
# While the parent is stopped a commune makes 10,000 changes; when the parent
# returns its totals are exact, and far fewer deltas than changes were sent:
# pending coalesces while the window is full.
source "$(dirname "$0")/lib.sh"
BURST=${CHANGE_BURST:?set CHANGE_BURST}

tree_nodes prov d1 c11
for n in prov d1 c11; do node_start $n; done
expect_total 20 0 prov 34 COUNSELLING_POINTS 202611
wait_until 20 status_test c11 's["parent"]["acked_seq"] >= 1' || fail "commune never acked"

step "district stopped; 10,000 changes at the commune"
node_stop d1
"$BURST" "$WORK/c11" 10000 >/dev/null
sleep 0.5
made=$(status_field c11 's["parent"]["head_seq"]')
echo "deltas made while the parent was away: $made"
[ "$made" -le 12 ] || fail "commune made $made deltas for 10,000 changes while its parent was away"

step "district back: exact totals at district and province"
node_start d1
expect_total 30 10000 prov 34 COUNSELLING_POINTS 202611
expect_total 30 20000 prov 34 STAFF_TRAINED 2026
expect_total 5 10000 d1 34101 COUNSELLING_POINTS 202611
sent=$(status_field c11 's["parent"]["head_seq"]')
echo "deltas sent by the commune in all: $sent (for 10,000 changes)"
[ "$sent" -le 20 ] || fail "commune sent $sent deltas for 10,000 changes"
applied=$(status_field d1 '[c["applied"] for c in s["children"] if c["code"]=="34101"][0]')
[ "$applied" -le 20 ] || fail "district applied $applied deltas"
pass "10,000 changes arrived exactly as $sent deltas"
