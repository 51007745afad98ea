#!/usr/bin/env bash
# The attacker of issue 16, without a token: a province <- district <- three
# communes with small counts (a few persons each), every no-token endpoint of
# the province and of the district swept over periods, options, by= and
# children, then differencing tried every way the answers allow (a parent
# minus its other children, a total minus its other options, repeated until
# nothing new follows), each guess checked against the token answers.
# disclosure_attack.py asserts: no small count (1..k-1) shown exactly, no
# more than chance level of hidden ones recovered, the same answer twice and
# from both nodes, every figure within k-1 of the truth, mean error near 0;
# it prints the figures.
source "$(dirname "$0")/lib.sh"

export TIERSYNC_TODAY=2026-03-15
TOKEN=attack-test-exact-reader-0123456789
HTTP[prov]=$(free_port)
HTTP[dist]=$(free_port)

node_init prov 34 province "" --http "127.0.0.1:${HTTP[prov]}"
node_init dist 343 district prov --http "127.0.0.1:${HTTP[dist]}"
seed=31
for c in 34301:9 34302:5 34303:14; do
  n=${c#*:}; c=${c%:*}
  node_init "c$c" "$c" commune dist
  python3 "$TIERSYNC_SOURCE/tools/gen_records.py" --out "$WORK/rec$c" --unit "$c" --persons "$n" \
      --seed $seed --prefix "A$c" --today "$TIERSYNC_TODAY" --no-expected >/dev/null
  for t in person episode support; do
    $TS import --dir "$WORK/c$c" $t "$WORK/rec$c/$t.csv" >/dev/null
  done
  $TS value set --dir "$WORK/c$c" STAFF_TRAINED 2026 $(( seed % 7 + 1 )) >/dev/null
  seed=$((seed + 1))
done
for n in prov dist; do sed -i "/^\[read\]/a token = $TOKEN" "$WORK/$n/tiersync.conf"; done
for n in prov dist c34301 c34302 c34303; do node_start $n; done

same() { [ "$($TS totals --dir "$WORK/$1" --unit "$3" --json | md5sum)" = \
           "$($TS totals --dir "$WORK/$2" --unit "$3" --json | md5sum)" ]; }
converged() { same c34301 prov 34301 && same c34302 prov 34302 && same c34303 prov 34303 &&
              same dist prov 343; }
wait_until 60 converged || fail "the province did not receive every commune's numbers"
wait_until 10 curl -sf "http://127.0.0.1:${HTTP[prov]}/api/info" || fail "province API silent"
wait_until 10 curl -sf "http://127.0.0.1:${HTTP[dist]}/api/info" || fail "district API silent"

step "sweep and difference"
python3 "$(dirname "$0")/disclosure_attack.py" "http://127.0.0.1:${HTTP[prov]}" \
    "http://127.0.0.1:${HTTP[dist]}" "$TOKEN" || fail "the attacker learnt small counts"
pass "no small count learnt without a token"
