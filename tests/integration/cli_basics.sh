#!/usr/bin/env bash
# cli_basics.sh: the tiersync command line as an operator uses it: init (and
# its refusal to replace an identity), key, --help everywhere, child
# enrolment, value set with every refusal (exit 2, totals unchanged), totals
# as table and JSON, status, and all of it while `tiersync run` serves the
# same directory.
source "$(dirname "$0")/lib.sh"

OUT=$WORK/out
ERR=$WORK/err

# run_rc WANT CMD...: runs CMD (stdout to $OUT, stderr to $ERR), fails unless
# it exits with WANT.
run_rc() {
  local want=$1 rc=0; shift
  "$@" >"$OUT" 2>"$ERR" || rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want; stdout: $(cat "$OUT"); stderr: $(cat "$ERR")"
}

# refused MESSAGE_PART CMD...: exit 2 and MESSAGE_PART on stderr.
refused() {
  local msg=$1; shift
  run_rc 2 "$@"
  grep -qF -- "$msg" "$ERR" || fail "'$*': stderr lacks '$msg': $(cat "$ERR")"
}

D=$WORK/a
step "init: output, files, permissions (even under umask 000)"
P=$(free_port)
(umask 000; run_rc 0 "$TS" init --dir "$D" --code 343 --name "Huyện Một" --level district \
  --listen "tcp://127.0.0.1:$P" --http "")
grep -q "^initialised node 343" "$OUT" || fail "init output: $(cat "$OUT")"
PK=$(sed -n 's/^public key: *\([0-9a-f]*\)$/\1/p' "$OUT")
FP=$(sed -n 's/^fingerprint: *\(.*\)$/\1/p' "$OUT")
[[ $PK =~ ^[0-9a-f]{64}$ ]] || fail "init printed public key '$PK'"
[[ $FP =~ ^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$ ]] || fail "init printed fingerprint '$FP'"
for f in node.key node.pub tiersync.conf db; do [ -e "$D/$f" ] || fail "init did not create $f"; done
[ "$(stat -c %a "$D/node.key")" = 600 ] || fail "node.key has mode $(stat -c %a "$D/node.key")"
[ "$(cat "$D/node.pub")" = "$PK" ] || fail "node.pub differs from the printed key"
[ $(( 0$(stat -c %a "$D/tiersync.conf") & 07 )) = 0 ] || fail "tiersync.conf is world-accessible"
grep -q "^code = 343$" "$D/tiersync.conf" || fail "config lacks the code"
grep -q "^# " "$D/tiersync.conf" || fail "config has no comments"
pass "init"

step "init twice is refused and changes nothing; --force replaces the identity"
cp "$D/node.key" "$WORK/key.before"; cp "$D/node.pub" "$WORK/pub.before"
cp "$D/tiersync.conf" "$WORK/conf.before"
refused "--force" "$TS" init --dir "$D" --code 999 --name "Other" --level commune
cmp -s "$D/node.key" "$WORK/key.before" || fail "refused init changed node.key"
cmp -s "$D/node.pub" "$WORK/pub.before" || fail "refused init changed node.pub"
cmp -s "$D/tiersync.conf" "$WORK/conf.before" || fail "refused init changed tiersync.conf"
run_rc 0 "$TS" key --dir "$D"
[ "$(cat "$OUT")" = "$PK" ] || fail "refused init changed the identity"
run_rc 0 "$TS" init --dir "$D" --code 343 --name "Huyện Một" --level district \
  --listen "tcp://127.0.0.1:$P" --http "" --force
cmp -s "$D/node.key" "$WORK/key.before" && fail "--force kept the old key"
[ "$(stat -c %a "$D/node.key")" = 600 ] || fail "node.key after --force has mode $(stat -c %a "$D/node.key")"
PK=$(cat "$D/node.pub")
pass "init refusal and --force"

step "key prints the public key, one line of 64 hex digits"
run_rc 0 "$TS" key --dir "$D"
[ "$(wc -l <"$OUT")" = 1 ] || fail "key printed $(wc -l <"$OUT") lines"
grep -qxE '[0-9a-f]{64}' "$OUT" || fail "key printed '$(cat "$OUT")'"
[ "$(cat "$OUT")" = "$PK" ] || fail "key differs from node.pub"
run_rc 0 "$TS" key --dir "$D" --fingerprint
grep -qxE '[0-9a-f]{4}(-[0-9a-f]{4}){3}' "$OUT" || fail "fingerprint '$(cat "$OUT")'"
run_rc 1 "$TS" key --dir "$WORK/nowhere"
grep -q "tiersync init" "$ERR" || fail "key on an empty dir: $(cat "$ERR")"
pass "key"

step "--help on every subcommand"
run_rc 0 "$TS" --help
for cmd in init key child value totals status run; do
  run_rc 0 "$TS" "$cmd" --help
  grep -q "usage: tiersync $cmd" "$OUT" || fail "$cmd --help: $(cat "$OUT")"
  [ ! -s "$ERR" ] || fail "$cmd --help wrote to stderr: $(cat "$ERR")"
done
refused "unknown command" "$TS" frobnicate
pass "--help"

step "child add / list / remove"
node_init c 12345 commune
CK=$($TS key --dir "$WORK/c")
CFP=$($TS key --dir "$WORK/c" --fingerprint)
node_init other 777 commune
OTHER=$($TS key --dir "$WORK/other")
refused "64 hex digits" "$TS" child add --dir "$D" 12345 zzzz
refused "64 hex digits" "$TS" child add --dir "$D" 12345 "${CK:1}"
refused "own code" "$TS" child add --dir "$D" 343 "$CK"
refused "not a valid org-unit code" "$TS" child add --dir "$D" "12 345" "$CK"
run_rc 0 "$TS" child list --dir "$D"
grep -q "^12345 " "$OUT" && fail "a refused child was enrolled"
run_rc 0 "$TS" child add --dir "$D" 12345 "$CK"
grep -q "enrolled child 12345, fingerprint $CFP" "$OUT" || fail "child add: $(cat "$OUT")"
run_rc 0 "$TS" child add --dir "$D" 12345 "$CK"
grep -q "already enrolled" "$OUT" || fail "re-adding the same key: $(cat "$OUT")"
refused "already enrolled with another key" "$TS" child add --dir "$D" 12345 "$OTHER"
run_rc 0 "$TS" child list --dir "$D"
grep -qE "^12345 +$CFP " "$OUT" || fail "child list: $(cat "$OUT")"
[ "$(grep -c '^12345 ' "$OUT")" = 1 ] || fail "child 12345 listed twice"
refused "no child 99999" "$TS" child remove --dir "$D" 99999
refused "add, remove, list, invite, invites or revoke-invite" "$TS" child
refused "unknown action" "$TS" child enrol --dir "$D" 12345 "$CK"
run_rc 0 "$TS" child remove --dir "$D" 12345
run_rc 0 "$TS" child list --dir "$D"
grep -q "^12345 " "$OUT" && fail "removed child still listed"
run_rc 0 "$TS" child add --dir "$D" 12345 "$CK"
pass "child"

step "value set: every refusal exits 2 and changes nothing"
run_rc 0 "$TS" value set --dir "$D" STAFF_TRAINED 2026 4
run_rc 0 "$TS" totals --dir "$D" --json
cp "$OUT" "$WORK/totals.before"
refused "unknown indicator 'NOPE'" "$TS" value set --dir "$D" NOPE 2026 1
for bad in 2026-13 20261 202613 2026 abcdef; do
  refused "period '$bad'" "$TS" value set --dir "$D" COUNSELLING_POINTS "$bad" 1
done
refused "period '202601'" "$TS" value set --dir "$D" STAFF_TRAINED 202601 1
refused "kind 'value'" "$TS" value set --dir "$D" PERSONS_MANAGED 202601 1 sex=F age_band=18-29
refused "unknown option 'prison'" "$TS" value set --dir "$D" TARGET_REACHED 2026 1 modality=prison
refused "unknown category 'sex'" "$TS" value set --dir "$D" TARGET_REACHED 2026 1 modality=methadone sex=F
refused "missing category modality" "$TS" value set --dir "$D" TARGET_REACHED 2026 1
refused "not a whole number" "$TS" value set --dir "$D" STAFF_TRAINED 2026 -3
refused "not a whole number" "$TS" value set --dir "$D" STAFF_TRAINED 2026 1.5
refused "not a whole number" "$TS" value set --dir "$D" STAFF_TRAINED 2026 12abc
refused "not a whole number" "$TS" value set --dir "$D" STAFF_TRAINED 2026 99999999999999999999
refused "the only action is 'set'" "$TS" value get --dir "$D" STAFF_TRAINED 2026 1
refused "INDICATOR PERIOD VALUE" "$TS" value set --dir "$D" STAFF_TRAINED 2026
run_rc 0 "$TS" totals --dir "$D" --json
cmp -s "$OUT" "$WORK/totals.before" || fail "a refused value set changed the totals: $(cat "$OUT")"
pass "value set refusals"

step "value set overwrites; totals show the new value"
run_rc 0 "$TS" value set --dir "$D" TARGET_REACHED 2026 5 modality=methadone
grep -q "= 5 (was 0)" "$OUT" || fail "value set output: $(cat "$OUT")"
run_rc 0 "$TS" value set --dir "$D" TARGET_REACHED 2026 8 modality=methadone
grep -q "343 TARGET_REACHED 2026 modality=methadone = 8 (was 5)" "$OUT" || fail "overwrite output: $(cat "$OUT")"
[ "$(total a 343 TARGET_REACHED 2026 modality=methadone)" = 8 ] || fail "total after overwrite"
run_rc 0 "$TS" value set --dir "$D" STAFF_TRAINED 2026 0
[ "$(total a 343 STAFF_TRAINED 2026)" = 0 ] || fail "total after setting 0"
run_rc 0 "$TS" value set --dir "$D" COUNSELLING_POINTS 202603 2
pass "overwrite"

step "totals: table and --json"
run_rc 0 "$TS" totals --dir "$D"
head -1 "$OUT" | grep -qE '^UNIT +INDICATOR +PERIOD +OPTIONS +VALUE$' || fail "table header: $(head -1 "$OUT")"
grep -qE '^343 +TARGET_REACHED +2026 +modality=methadone +8$' "$OUT" || fail "table: $(cat "$OUT")"
grep -qE '^343 +COUNSELLING_POINTS +202603 +- +2$' "$OUT" || fail "table: $(cat "$OUT")"
grep -q "STAFF_TRAINED" "$OUT" && fail "a zero total is still listed: $(cat "$OUT")"
run_rc 0 "$TS" totals --dir "$D" --json
python3 - "$OUT" <<'PY' || fail "totals --json shape: $(cat "$OUT")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) == 2, rows
for r in rows:
    assert set(r) == {"unit", "indicator", "period", "options", "value"}, r
    assert isinstance(r["value"], int) and isinstance(r["options"], dict), r
by = {r["indicator"]: r for r in rows}
assert by["TARGET_REACHED"] == {"unit": "343", "indicator": "TARGET_REACHED", "period": "2026",
                                "options": {"modality": "methadone"}, "value": 8}, by
assert by["COUNSELLING_POINTS"]["options"] == {} and by["COUNSELLING_POINTS"]["value"] == 2, by
PY
run_rc 0 "$TS" totals --dir "$D" --json --indicator COUNSELLING_POINTS
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")" = 1 ] || fail "filter: $(cat "$OUT")"
refused "unknown indicator" "$TS" totals --dir "$D" --indicator NOPE
pass "totals"

step "status and status --json"
run_rc 0 "$TS" status --dir "$D"
grep -q "^node *343" "$OUT" || fail "status: $(cat "$OUT")"
grep -q "$PK" "$OUT" || fail "status lacks the public key"
run_rc 0 "$TS" status --dir "$D" --json
python3 - "$OUT" "$PK" <<'PY' || fail "status --json: $(cat "$OUT")"
import json, sys
s = json.load(open(sys.argv[1]))
assert isinstance(s, dict), s
assert s["code"] == "343" and s["level"] == "district" and s["public_key"] == sys.argv[2], s
assert s["parent"] is None, s
assert [c["code"] for c in s["children"]] == ["12345"], s
assert s["total_cells"] == 2, s
PY
pass "status"

step "commands work while 'tiersync run' serves the same directory"
node_start a
wait_until 20 grep -q "running" "$WORK/a.log" || fail "the daemon did not start"
node_alive a || fail "the daemon exited"
run_rc 1 "$TS" run --dir "$D"
grep -q "already serves" "$ERR" || fail "a second daemon: $(cat "$ERR")"
pids=()
for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
  "$TS" value set --dir "$D" COUNSELLING_POINTS "2025$m" "$((10#$m * 3))" >"$WORK/set.$m" 2>&1 &
  pids+=($!)
  "$TS" totals --dir "$D" --json >"$WORK/read.$m" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a command run beside the daemon failed: $(cat "$WORK"/set.* "$WORK"/read.*)"; done
for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/read.$m" || fail "totals beside the daemon: $(cat "$WORK/read.$m")"
  [ "$(total a 343 COUNSELLING_POINTS "2025$m")" = $((10#$m * 3)) ] || fail "2025$m lost"
done
run_rc 0 "$TS" value set --dir "$D" TARGET_REACHED 2026 9 modality=methadone
[ "$(total a 343 TARGET_REACHED 2026 modality=methadone)" = 9 ] || fail "overwrite beside the daemon"
run_rc 0 "$TS" status --dir "$D" --json
run_rc 0 "$TS" child list --dir "$D"
node_alive a || fail "the daemon died"
node_stop a
pass "beside the daemon"

step "key --fingerprint PUBKEY gives the same fingerprint the node shows for itself"
[ "$($TS key --fingerprint "$($TS key --dir "$D")")" = "$($TS key --dir "$D" --fingerprint)" ] ||
  fail "fingerprint of a given key differs from the node's own"
run_rc 2 "$TS" key --fingerprint not-a-key
pass "fingerprint of a given key"
