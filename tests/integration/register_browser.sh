#!/usr/bin/env bash
# register_browser.sh: a commune officer's month in the case register, in
# a real browser. A three-level tree (http_lib.bash) runs; commune 34301
# serves its register on loopback. Headless Chromium, driven by
# puppeteer-core (tests/package.json; Debian's /usr/bin/chromium, no browser
# downloaded) through register_browser.js: a failed login, the officer logs
# in, adds a person and an episode, has a wrong date refused beside its
# field, corrects a field, finds the person without diacritics, uploads a
# CSV with one bad line (refused whole), is refused a write without the
# CSRF token, logs out; a viewer cannot open records; the admin reads the
# access log. Then: the province's totals moved by exactly those changes;
# the old cookie no longer works; `tiersync access-log` lists every step;
# upper levels serve no register; beyond loopback without TLS the register
# is off, and over TLS it works. Screenshots go to $TIERSYNC_ARTIFACTS.
# Skips (77) when Chromium, node or npm is missing or npm cannot install.
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in "$CHROMIUM" npm node curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (tools/install-deps.sh)"; exit 77; }
done
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/http_lib.bash"
ART=${TIERSYNC_ARTIFACTS:-$PWD/artifacts}
mkdir -p "$ART"
npm_tests_install

export REG_PW_OFFICER=officer-pass-1 REG_PW_VIEWER=viewer-pass-1 REG_PW_ADMIN=admin-pass-01
C=c34301

step "a tree whose commune 34301 serves its register on loopback"
tree_init
HTTP[$C]=$(free_port)
CBASE="http://127.0.0.1:${HTTP[$C]}"
node_set $C http address "127.0.0.1:${HTTP[$C]}"
grep -q '^release_s' "$WORK/$C/tiersync.conf" && node_set $C sync release_s 0
echo "$REG_PW_OFFICER" | $TS user add --dir "$WORK/$C" binh --role officer >/dev/null
echo "$REG_PW_VIEWER" | $TS user add --dir "$WORK/$C" chi --role viewer >/dev/null
echo "$REG_PW_ADMIN" | $TS user add --dir "$WORK/$C" an --role admin >/dev/null
[ "$($TS user list --dir "$WORK/$C" | awk '{print $1 ":" $2}' | tr '\n' ' ')" = "an:admin binh:officer chi:viewer " ] ||
  fail "user list does not show the three accounts"
tree_start
wait_until 10 curl -sf "$CBASE/api/info" || fail "the commune's HTTP server does not answer"
pass "three accounts, the commune serves HTTP"

step "upper levels serve no register"
for p in /register /api/session /api/records/person; do
  [ "$(status "$p")" = 404 ] || fail "the province answers $p with $(status "$p"), not 404"
done
pass "the province answers 404 for the register's paths"

step "the register's pages: offline, with a Content-Security-Policy"
curl -s -D "$WORK/page.hdr" -o "$WORK/page.html" "$CBASE/register"
grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" "$WORK/page.hdr" ||
  fail "/register has no Content-Security-Policy"
grep -Eqi 'https?://' "$WORK/page.html" && fail "/register refers to another site"
for a in register.js register.css; do
  curl -s "$CBASE/$a" | grep -Eq "(src|href)=['\"]?https?://|@import|fetch\(['\"]https?:" && fail "$a loads from another site"
done
pass "CSP set; no reference to another site"

# part NAME UNIT INDICATOR PERIOD [CAT=OPTION]: sum of NAME's totals whose
# options include CAT=OPTION (tiersync totals --options wants them all).
part() {
  $TS totals --dir "$WORK/$1" --unit "$2" --indicator "$3" --period "$4" --json |
    python3 -c 'import json,sys; k,_,v=(sys.argv[1]+"=").partition("=")
print(sum(r["value"] for r in json.load(sys.stdin) if not k or r["options"].get(k)==v.rstrip("=")))' "${5:-}"
}
eq_part() { local want=$1; shift; [ "$(part "$@")" = "$want" ]; }
expect_part() {
  local want=$1; shift
  wait_until 30 eq_part "$want" "$@" || fail "$1 holds $(part "$@") for ${*:2}, expected $want"
}

M=202603
before_pm=$(part prov 34301 PERSONS_MANAGED $M)
before_m=$(part prov 34301 PERSONS_MANAGED $M sex=M)
before_f=$(part prov 34301 PERSONS_MANAGED $M sex=F)
before_it=$(part prov 34301 IN_TREATMENT $M modality=methadone)

step "the officer's month in Chromium"
NODE_PATH="$NPM_DIR/node_modules" timeout 240 node "$HERE/register_browser.js" "$CBASE" "$ART" "$WORK/state.json" ||
  fail "the browser scenario failed (see above)"
pass "login, add, refuse, correct, search, CSV refused whole, CSRF, viewer, admin"

step "the province's totals moved by exactly the officer's changes"
expect_part $((before_pm + 1)) prov 34301 PERSONS_MANAGED $M
expect_part $((before_m + 1)) prov 34301 PERSONS_MANAGED $M sex=M
expect_part "$before_f" prov 34301 PERSONS_MANAGED $M sex=F
expect_part $((before_it + 1)) prov 34301 IN_TREATMENT $M modality=methadone
pass "persons managed +1 (sex M after the correction), methadone +1, the refused CSV nothing"

step "after logout the old cookie no longer works"
cookie=$(jq_py "$(cat "$WORK/state.json")" 'j["cookie"]')
csrf=$(jq_py "$(cat "$WORK/state.json")" 'j["csrf"]')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ts_session=$cookie" "$CBASE/api/records/person")" = 401 ] ||
  fail "the logged-out cookie still reads records"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ts_session=$cookie" -H "X-CSRF-Token: $csrf" \
     -H 'Content-Type: application/json' -d '{"id":"P902","full_name":"X","sex":"M","registered_on":"2026-03-01"}' \
     "$CBASE/api/records/person")" = 401 ] || fail "the logged-out cookie still writes"
pass "401 for the old cookie, reading and writing"

step "tiersync access-log lists every step, and no record's values"
$TS access-log --dir "$WORK/$C" --json >"$WORK/log.jsonl"
python3 - "$WORK/log.jsonl" <<'PY' || fail "the access log misses a step"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
have = {(r["user"], r["action"], r["id"]) for r in rows}
want = [("binh", "login-failed", ""), ("binh", "login", ""),
        ("binh", "add", "P900"), ("binh", "add", "E900"), ("binh", "read", "P900"),
        ("binh", "update", "P900"), ("binh", "search", ""), ("binh", "logout", ""),
        ("chi", "login", ""), ("chi", "logout", ""), ("an", "login", ""), ("an", "log-read", "")]
missing = [w for w in want if w not in have]
assert not missing, missing
text = open(sys.argv[1]).read()
for pii in ["Đặng", "035190000900", "Thôn Đông", "1990-05-01"]:
    assert pii not in text, "the access log holds a record's value: " + pii
assert all(r["address"] == "127.0.0.1" for r in rows), "an entry without the client's address"
PY
[ "$($TS access-log --dir "$WORK/$C" --user binh --record P900 | grep -c P900)" -ge 3 ] ||
  fail "access-log --user binh --record P900 does not list binh's work on P900"
grep -q "failed login" "$WORK/$C.log" || fail "the daemon's log does not record the failed login"
grep -q "$REG_PW_OFFICER\|not-the-password" "$WORK/$C.log" && fail "a password is in the daemon's log"
pass "every step logged; no value, no password in any log"

step "a commune beyond loopback without TLS turns the register off; with TLS it works"
node_stop $C
node_set $C http address "0.0.0.0:${HTTP[$C]}"
node_start $C
wait_until 10 curl -sf "$CBASE/api/info" || fail "the commune does not answer on 0.0.0.0"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$CBASE/register")" = 404 ] || fail "the register is served over plain HTTP beyond loopback"
grep -q "the case register is off" "$WORK/$C.log" || fail "no log line says why the register is off"
node_stop $C
$TS tls --dir "$WORK/$C" >"$WORK/tls.out" || fail "tiersync tls failed"
fp=$(sed -n 's/^SHA-256 fingerprint: //p' "$WORK/tls.out")
[ "$(stat -c %a "$WORK/$C/tls/key.pem")" = 600 ] || fail "the TLS key is not 0600"
[ "$($TS tls --dir "$WORK/$C" --fingerprint)" = "$fp" ] || fail "tls --fingerprint differs from what tls printed"
node_start $C
SBASE="https://127.0.0.1:${HTTP[$C]}"
wait_until 10 curl -skf "$SBASE/api/info" || fail "the commune does not answer HTTPS"
got=$(python3 -c 'import hashlib, ssl, sys
der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", int(sys.argv[1]))))
print(":".join("%02X" % b for b in hashlib.sha256(der).digest()))' "${HTTP[$C]}")
[ "$got" = "$fp" ] || fail "the served certificate's fingerprint $got is not the printed $fp"
hdr=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"user\":\"binh\",\"password\":\"$REG_PW_OFFICER\"}" "$SBASE/api/session")
echo "$hdr" | grep -qi '^set-cookie: ts_session=.*HttpOnly; SameSite=Strict; Secure' ||
  fail "over TLS the session cookie is not Secure: $hdr"
pass "off on 0.0.0.0 over HTTP (logged); over HTTPS the fingerprint matches and the cookie is Secure"

step "from another address, a logged-in register account reads the dashboard's API"
LAN=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -n 1 || true)
if [ -z "$LAN" ]; then
  echo "note: no non-loopback IPv4 address on this machine; step left out"
else
  LBASE="https://$LAN:${HTTP[$C]}"
  [ "$(curl -sk -o /dev/null -w '%{http_code}' "$LBASE/api/info")" = 401 ] ||
    fail "$LAN reads the API without a token or a session"
  curl -sk -c "$WORK/jar" -o /dev/null -H 'Content-Type: application/json' \
       -d "{\"user\":\"an\",\"password\":\"$REG_PW_ADMIN\"}" "$LBASE/api/session"
  [ "$(curl -sk -b "$WORK/jar" -o /dev/null -w '%{http_code}' "$LBASE/api/info")" = 200 ] ||
    fail "a logged-in account from $LAN cannot read the dashboard's API"
  [ "$(curl -sk -b "$WORK/jar" -D - -o /dev/null "$LBASE/api/info" | tr -d '\r' | sed -n 's/^X-Tiersync-Access: //Ip')" = rounded ] ||
    fail "a register session reads exact values"
  $TS access-log --dir "$WORK/$C" --user an | grep -q "$LAN .*login" || fail "the access log lacks the login from $LAN"
  pass "401 without a session from $LAN; with one, the rounded view; the login logged with $LAN"
fi
