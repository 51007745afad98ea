#!/usr/bin/env bash
# One-time invitations. A district invites 30 communes from one CSV list;
# they join in parallel with one command each and replicate exactly (the
# district holds, for every commune, what its node holds, and its own totals
# are their sum). A replayed Join changes nothing and cannot undo a removal.
# A reused, expired, revoked, wrong-code, forged or
# mistyped invitation is refused with its reason and enrols nothing; a
# server that does not hold the pinned key is not taken for the parent; an
# unknown key still gets no handshake on the replication port while the
# join socket is open; failures slow their address down; the secret never
# appears in the log.
source "$(dirname "$0")/lib.sh"
ROGUE=${ROGUE_CHILD:?set ROGUE_CHILD}
REPLAY=${JOIN_REPLAY:?set JOIN_REPLAY}
GEN="${TIERSYNC_SOURCE:?set TIERSYNC_SOURCE to the source tree}/tools/gen_records.py"
N=30
export TIERSYNC_TODAY=2026-11-20

node_init d 341 district
JOIN_PORT=$(free_port)
node_set d join listen "tcp://127.0.0.1:$JOIN_PORT"
node_set d join slow_down_ms 100

step "invite $N communes from one CSV list"
{ echo "code,name"; for i in $(seq 1 $N); do echo "34$(printf %03d "$i"),Xã số $i"; done; } >"$WORK/units.csv"
$TS child invite --dir "$WORK/d" --csv "$WORK/units.csv" --out "$WORK/inv.csv" --expires 1h >"$WORK/invite.out"
[ "$(stat -c %a "$WORK/inv.csv")" = 600 ] || fail "invitations.csv is not mode 0600"
[ "$(tail -n +2 "$WORK/inv.csv" | wc -l)" = $N ] || fail "expected $N invitations: $(cat "$WORK/inv.csv")"
[ "$($TS child invites --dir "$WORK/d" | tail -n +2 | wc -l)" = $N ] || fail "child invites does not list $N"
! $TS child invites --dir "$WORK/d" | grep -q tsinv1_ || fail "child invites shows an invitation"
inv() { # inv CODE: the invitation for CODE from the CSV
  python3 -c 'import csv,sys; print(next(r["invitation"] for r in csv.DictReader(open(sys.argv[1])) if r["code"]==sys.argv[2]))' "$WORK/inv.csv" "$1"
}
FP=$($TS key --dir "$WORK/d" --fingerprint)
grep -q "$FP" "$WORK/inv.csv" || fail "the CSV does not carry the parent's fingerprint"
pass "$N invitations in a mode 0600 CSV, listed without their secrets"

step "$N communes join in parallel while the district runs"
node_start d
pids=()
for i in $(seq 1 $N); do
  code=34$(printf %03d "$i")
  $TS init --dir "$WORK/c$i" --join "$(inv "$code")" --http "" >"$WORK/join$i.out" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 $N); do
  wait "${pids[$((i - 1))]}" || fail "commune $i did not join: $(cat "$WORK/join$i.out")"
  node_set "c$i" sync release_s 0 # record changes travel at once here
done
grep -q "parent fingerprint: $FP" "$WORK/join1.out" || fail "the child does not print the parent's fingerprint"
grep -q "^code = 34001$" "$WORK/c1/tiersync.conf" && grep -q "^name = Xã số 1$" "$WORK/c1/tiersync.conf" ||
  fail "the joined node's code or name is not the invitation's"
CFP=$($TS key --dir "$WORK/c7" --fingerprint)
grep -q "child 34007 joined from 127.0.0.1 with key fingerprint $CFP" "$WORK/d.log" ||
  fail "the district does not log the child's fingerprint"
[ "$($TS child list --dir "$WORK/d" | tail -n +2 | wc -l)" = $N ] || fail "not $N children enrolled"
[ "$($TS child invites --dir "$WORK/d" | tail -n +2 | wc -l)" = 0 ] || fail "used invitations still listed"
pass "$N communes joined; both sides print the other's fingerprint"

step "they replicate exactly"
for i in $(seq 1 $N); do
  python3 "$GEN" --out "$WORK/data$i" --unit "34$(printf %03d "$i")" --persons 6 --seed "$i" --today $TIERSYNC_TODAY --no-expected >/dev/null
  for t in person episode support; do
    $TS import --dir "$WORK/c$i" $t "$WORK/data$i/$t.csv" >/dev/null || fail "import at c$i refused"
  done
  $TS value set --dir "$WORK/c$i" COUNSELLING_POINTS 202611 "$i" >/dev/null
  node_start "c$i"
done
compare() { # the district holds each commune's totals, and their sum as its own
  python3 - "$TS" "$WORK" "$N" <<'PY'
import collections, json, subprocess, sys
ts, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rows(d, unit):
    out = subprocess.run([ts, "totals", "--dir", d, "--unit", unit, "--json"], check=True,
                         capture_output=True, text=True).stdout
    got = collections.Counter()
    for r in json.loads(out):
        if r["unit"] == unit:
            got[(r["indicator"], r["period"], json.dumps(r["options"], sort_keys=True))] += r["value"]
    return +got
total = collections.Counter()
for i in range(1, n + 1):
    code = "34%03d" % i
    mine = rows(f"{work}/c{i}", code)
    if len(mine) < 5 or mine != rows(f"{work}/d", code):
        sys.exit(f"{code} differs")
    total.update(mine)
if rows(f"{work}/d", "341") != +total:
    sys.exit("341 is not the sum of its communes")
print(len(total))
PY
}
wait_until 120 compare || fail "the district does not match its communes: $(compare 2>&1 || true)"
pass "the district holds every commune's totals exactly and their sum ($(compare) cells)"

step "a replayed Join: answered as before while enrolled, refused once the child is removed"
inv_of() { $TS child invite --dir "$WORK/d" "$@" | head -1; }
KEEP=$(inv_of 34990 --name "Giữ mở")   # keeps the join socket open throughout
out=$("$REPLAY" "$WORK/c2" "$(inv 34002)")
[ "$out" = ENROLLED ] || fail "the same Join again (a lost reply) was not answered enrolled: $out"
$TS child remove --dir "$WORK/d" 34002 >/dev/null
out=$("$REPLAY" "$WORK/c2" "$(inv 34002)")
echo "$out" | grep -q "JOIN_USED" || fail "a removed child's replayed Join got: $out"
$TS child list --dir "$WORK/d" | grep -q "^34002 " && fail "the replay re-enrolled a removed child"
$TS child add --dir "$WORK/d" 34002 "$($TS key --dir "$WORK/c2")" >/dev/null
pass "replay changes nothing and cannot undo a removal"

step "invite refuses what it cannot honour, and changes nothing"
cli_refused() { # cli_refused TEXT ARGS...: exit 2 with TEXT on stderr
  local text=$1 rc=0; shift
  "$TS" child "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
  [ $rc = 2 ] && grep -q -- "$text" "$WORK/cli.err" || fail "child $*: exit $rc, $(cat "$WORK/cli.err")"
}
before=$($TS child invites --dir "$WORK/d")
cli_refused "own code" invite --dir "$WORK/d" 341
cli_refused "already enrolled as a child" invite --dir "$WORK/d" 34001
cli_refused "already enrolled as a child" invite --dir "$WORK/d" --csv "$WORK/units.csv"
cli_refused "expires" invite --dir "$WORK/d" 34980 --expires 7x
cli_refused "not a valid org-unit code" invite --dir "$WORK/d" "bad code"
printf 'code,name\n34981,A\n34981,B\n' >"$WORK/dup.csv"
cli_refused "34981 is listed twice" invite --dir "$WORK/d" --csv "$WORK/dup.csv"
cli_refused "no open invitation for 34001" revoke-invite --dir "$WORK/d" 34001
[ "$($TS child invites --dir "$WORK/d")" = "$before" ] || fail "a refused invite changed the open invitations"
node_init wild 342 district
node_set wild listen endpoint "tcp://0.0.0.0:$(free_port)"
cli_refused "join.advertise" invite --dir "$WORK/wild" 34201
pass "own code, enrolled child, bad expiry, bad code, duplicate line, wildcard address: refused"

# refused JOINDIR INVITATION TEXT: init --join exits 2 saying TEXT, writes
# nothing, and the district's children stay as they were.
refused() {
  local dir=$WORK/$1 out rc=0
  out=$($TS init --dir "$dir" --join "$2" --http "" 2>&1) || rc=$?
  [ $rc = 2 ] || fail "$1: exit $rc, expected 2: $out"
  echo "$out" | grep -q -- "$3" || fail "$1: expected '$3', got: $out"
  [ ! -e "$dir" ] || fail "$1: init left $dir behind"
  [ "$($TS child list --dir "$WORK/d" | tail -n +2 | wc -l)" = $N ] || fail "$1: children changed"
}
# craft INVITATION FIELD VALUE: the invitation with one field replaced and
# its check made right again (what a forger can do; only the secret is hard).
craft() {
  python3 - "$@" <<'PY'
import base64, hashlib, os, sys
text, field, value = sys.argv[1:]
raw = text[len("tsinv1_"):].upper()
p = base64.b32decode(raw + "=" * (-len(raw) % 8))[:-4]
pk, secret, port = p[:32], p[32:48], p[48:50]
lc = p[50]; code = p[51:51 + lc]; endpoint = p[52 + lc:]
if field == "code": code = value.encode()
if field == "secret": secret = os.urandom(16)
if field == "endpoint": endpoint, port = value.split("|")[0].encode(), int(value.split("|")[1]).to_bytes(2, "big")
p = pk + secret + port + bytes([len(code)]) + code + bytes([len(endpoint)]) + endpoint
p += hashlib.blake2b(p, digest_size=32).digest()[:4]
print("tsinv1_" + base64.b32encode(p).decode().rstrip("=").lower())
PY
}

step "reused, expired, revoked, wrong-code, forged and mistyped invitations are refused"
refused reused "$(inv 34001)" "JOIN_USED"
EXP=$(inv_of 34991 --expires 2s)
sleep 3
refused expired "$EXP" "JOIN_EXPIRED"
REV=$(inv_of 34992)
$TS child revoke-invite --dir "$WORK/d" 34992 >/dev/null
refused revoked "$REV" "JOIN_REVOKED"
refused nocode "$(craft "$KEEP" code 34999)" "JOIN_NO_INVITATION"
OTHER=$(inv_of 34993)
refused wrongcode "$(craft "$KEEP" code 34993)" "JOIN_BAD_PROOF"
refused forged "$(craft "$OTHER" secret x)" "JOIN_BAD_PROOF"
refused mistyped "$(echo "$OTHER" | sed 's/\(tsinv1_.\{20\}\)a/\1b/;t;s/\(tsinv1_.\{20\}\)./\1a/')" "mistyped"
for r in USED EXPIRED REVOKED NO_INVITATION BAD_PROOF; do
  grep -q "join from 127.0.0.1 for .* refused (JOIN_$r)" "$WORK/d.log" || fail "JOIN_$r not logged"
done
pass "each refused with its reason, logged, nothing enrolled, nothing left at the child"

step "failed joins slow their address down; a good invitation still joins after the wait"
$TS init --dir "$WORK/late" --join "$OTHER" --http "" >"$WORK/late.out" 2>&1 ||
  fail "a good invitation after failures did not join: $(cat "$WORK/late.out")"
grep -q "join from 127.0.0.1 for 34993: not looked at, its address must wait" "$WORK/d.log" ||
  fail "the join right after six failures was not slowed down"
pass "slowed down, then joined"

step "a server without the pinned key is not taken for the parent"
node_init imp 349 district
IMP_JOIN=$(free_port)
node_set imp join listen "tcp://127.0.0.1:$IMP_JOIN"
$TS child invite --dir "$WORK/imp" 34995 >/dev/null   # opens the impostor's join socket
node_start imp
wait_until 10 grep -q "join socket open" "$WORK/imp.log" || fail "the impostor's join socket did not open"
out=$($TS init --dir "$WORK/fooled" --join "$(craft "$KEEP" endpoint "tcp://127.0.0.1:${PORT[imp]}|$IMP_JOIN")" --http "" 2>&1) &&
  fail "joined an impostor: $out"
echo "$out" | grep -q "did not prove it holds the parent's key" || fail "impostor: $out"
[ ! -e "$WORK/fooled" ] || fail "the impostor's join left a node behind"
pass "the impostor failed the handshake: $(echo "$out" | head -c 60)..."

step "an unknown key gets no handshake on the replication port while the join socket is open"
node_init stranger 34998 commune
out=$("$ROGUE" "$WORK/stranger" "tcp://127.0.0.1:${PORT[d]}" "$($TS key --dir "$WORK/d")" valid || true)
[ "$out" = "NO-WELCOME" ] || fail "an unenrolled key got: $out"
[ "$(grep -o 'join socket [a-z]*' "$WORK/d.log" | tail -1)" = "join socket open" ] ||
  fail "the join socket was not open meanwhile"
pass "no handshake for an unknown key"

step "the secret never appears in the log"
python3 - "$WORK/d.log" "$WORK/inv.csv" "$KEEP" "$OTHER" <<'PY'
import base64, csv, sys
log = open(sys.argv[1], encoding="utf-8").read().lower()
invs = [r["invitation"] for r in csv.DictReader(open(sys.argv[2]))] + sys.argv[3:]
for text in invs:
    raw = text[len("tsinv1_"):].upper()
    secret = base64.b32decode(raw + "=" * (-len(raw) % 8))[32:48]
    for needle in (text.lower(), secret.hex(), raw.lower()[60:90]):
        if needle in log:
            sys.exit(f"the log holds part of an invitation: {needle}")
PY
pass "no invitation or secret in the district's log"
! grep -E "AddressSanitizer|runtime error| error " "$WORK/d.log" || fail "the district logged errors"
