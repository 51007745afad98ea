#!/usr/bin/env bash
# http_hardening.sh: the HTTP server against what an attacker tried, on a
# live node: 64 slow-loris connections (a header line every 2 s) from one
# loopback address neither take the server away from another client nor
# live past the header deadline; a query of 1,000 parameters and a path
# with %00 get 400 at once; a Host naming another site gets 421 (DNS
# rebinding); wrong tokens are slowed down (429); with trust_loopback = no
# a loopback reader needs a token.
source "$(dirname "$0")/lib.sh"
TOKEN=hardening-reader-token-0123456789

HP=$(free_port)
BASE="http://127.0.0.1:$HP"
node_init p 34 province "" --http "127.0.0.1:$HP"
sed -i "/^\[read\]/a token = $TOKEN" "$WORK/p/tiersync.conf"
node_start p
wait_until 10 curl -sf "$BASE/api/info" || fail "the HTTP API does not answer"
code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }

step "slow loris: 64 connections sending a header line every 2 s"
# slow.py opens the connections from 127.0.0.1, then keeps each one sending;
# it prints "open N" once they are set up and, for every connection the
# server closes, "closed SECONDS"; it gives up after 40 s.
cat >"$WORK/slow.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for i in range(n):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port)
        conns.append([s, time.monotonic()])
    except OSError:
        s.close()
print("open", len(conns), flush=True)
end = time.monotonic() + 40
while conns and time.monotonic() < end:
    time.sleep(2)
    for c in list(conns):
        try:
            c[0].sendall(b"X-Slow: %d\r\n" % int(time.monotonic()))
            c[0].setblocking(False)
            try:
                if c[0].recv(4096) == b"":
                    raise OSError("closed")
            except BlockingIOError:
                pass
            c[0].setblocking(True)
        except OSError:
            print("closed %.0f" % (time.monotonic() - c[1]), flush=True)
            c[0].close()
            conns.remove(c)
print("left", len(conns), flush=True)
PY
python3 "$WORK/slow.py" "$HP" 64 >"$WORK/slow.out" 2>&1 &
SLOW=$!
wait_until 20 grep -q '^open' "$WORK/slow.out" || fail "slow.py did not set up its connections"
# another client (another loopback address) is answered while they hang on
for i in 1 2 3; do
  [ "$(code --interface 127.0.0.2 "$BASE/api/info")" = 200 ] ||
    fail "a client from 127.0.0.2 is not answered while 64 slow connections are open"
done
wait "$SLOW" || true
cat "$WORK/slow.out"
grep -q '^left 0$' "$WORK/slow.out" ||
  fail "slow connections still open after 40 s: the server did not bound the time for headers"
# each was cut by the header deadline, not served to the end
[ "$(grep -c '^closed' "$WORK/slow.out")" -ge 1 ] || fail "no slow connection was closed"
[ "$(code "$BASE/api/info")" = 200 ] || fail "the node does not answer after the slow connections"
pass "other clients answered throughout; every slow connection closed"

step "1,000 query parameters: 400 at once"
q=$(python3 -c "print('&'.join('a%d=1' % i for i in range(1000)))")
[ "$(code -m 5 "$BASE/api/info?$q")" = 400 ] || fail "1,000 parameters are not refused at once"
pass "400"

step "control bytes in the path or query: 400"
for p in '/api/info%00' '/api/info%0a' '/api/totals?indicator=IN_TREATMENT%00X'; do
  [ "$(code "$BASE$p")" = 400 ] || fail "$p is not refused"
done
[ "$(code "$BASE/api/info")" = 200 ] || fail "/api/info is refused"
pass "%00 and %0a refused"

step "Host: evil.example (DNS rebinding) gets 421; the node's own names are answered"
[ "$(code -H 'Host: evil.example' "$BASE/api/info")" = 421 ] || fail "Host: evil.example answered"
[ "$(code -H "Host: evil.example:$HP" "$BASE/")" = 421 ] || fail "the dashboard answered evil.example"
[ "$(code -H "Host: localhost:$HP" "$BASE/api/info")" = 200 ] || fail "Host: localhost refused"
node_stop p
node_set p http hosts stats.example.org
node_start p
wait_until 10 curl -sf "$BASE/api/info" || fail "the HTTP API does not answer after the restart"
[ "$(code -H 'Host: stats.example.org' "$BASE/api/info")" = 200 ] ||
  fail "a name of [http] hosts is refused"
pass "421 for other sites"

step "wrong tokens are slowed down per address"
seen=""
for i in $(seq 1 8); do
  seen="$seen $(code -H 'Authorization: Bearer wrong-token-0123456789' "$BASE/api/info")"
done
case $seen in *429*) ;; *) fail "8 wrong tokens in a row were all checked:$seen" ;; esac
h=$(curl -s -D - -o /dev/null -H 'Authorization: Bearer wrong-token-0123456789' "$BASE/api/info")
echo "$h" | grep -qi '^Retry-After: [0-9]' || fail "a 429 without Retry-After: $h"
[ "$(code --interface 127.0.0.2 -H "Authorization: Bearer $TOKEN" "$BASE/api/info")" = 200 ] ||
  fail "another address is slowed down too"
pass "statuses:$seen"

step "trust_loopback = no: a loopback reader needs a token"
node_stop p
node_set p http trust_loopback no
node_start p
wait_until 10 curl -s -o /dev/null "$BASE/api/info" || fail "the HTTP API does not answer"
[ "$(code "$BASE/api/info")" = 401 ] || fail "a loopback reader without a token was answered"
[ "$(code -H "Authorization: Bearer $TOKEN" "$BASE/api/info")" = 200 ] || fail "the token is refused"
[ "$(code "$BASE/")" = 200 ] || fail "the dashboard (no numbers) needs a token"
pass "401 without a token, 200 with it"
