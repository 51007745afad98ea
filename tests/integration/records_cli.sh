#!/usr/bin/env bash
# The records commands as an operator uses them: `tiersync import` and
# `tiersync record add|update|delete`, their exit statuses (0 done, 2
# refused), messages naming file, line, field and reason without repeating
# a personal value, progress on stderr for a long list, and totals that
# follow every change.
source "$(dirname "$0")/lib.sh"

export TIERSYNC_TODAY=2024-06-15
node_init c 10101 commune
D="$WORK/c"

step "import, then refusals"
cat >"$WORK/p.csv" <<'EOF'
id,full_name,national_id,birth_date,sex,address,registered_on,confirmed_on,deregistered_on
P1,"Đỗ Văn ""Cu"" Thắng",031204567891,1990-04-01,M,"Số 5, thôn Hạ",2024-01-15,,
P2,Vũ Thị Yến,,1970-12-31,F,,2024-02-01,2024-02-10,
EOF
out=$($TS import --dir "$D" person "$WORK/p.csv") || fail "import refused"
[ "$out" = "$WORK/p.csv: 2 inserted, 0 updated, 0 unchanged; 16 cells of 10101 changed" ] || fail "summary: $out"
[ "$(total c 10101 PERSONS_MANAGED 202406)" = 2 ] || fail "PERSONS_MANAGED 202406 is not 2"

cat >"$WORK/bad.csv" <<'EOF'
id,full_name,birth_date,sex,registered_on
P3,Ngô Thị Mai,1988-02-30,F,2024-03-01
P4,Hồ Văn Long,1979-01-01,X,2024-03-01
P1,Đỗ Văn Thắng,1990-04-01,M,2024-07-01
EOF
before=$(totals_lines c)
set +e
$TS import --dir "$D" person "$WORK/bad.csv" >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
set -e
[ $rc = 2 ] || fail "a refused import exits $rc, not 2"
grep -q "bad.csv line 2: birth_date: not a date YYYY-MM-DD" "$WORK/bad.err" || fail "no line 2 message"
grep -q "bad.csv line 3: sex: unknown value 'X' (allowed: M, F)" "$WORK/bad.err" || fail "no line 3 message"
grep -q "bad.csv line 4: registered_on: after today (2024-06-15)" "$WORK/bad.err" || fail "no line 4 message"
grep -q "3 problems in 3 rows; nothing was changed" "$WORK/bad.err" || fail "no summary"
! grep -q "1988-02-30" "$WORK/bad.err" || fail "a refused birth date was repeated"
[ "$(totals_lines c)" = "$before" ] || fail "a refused import changed the totals"
[ ! -s "$WORK/bad.out" ] || fail "a refused import printed a result"
pass "refusals name line, field and reason; nothing changed"

step "record add, update, delete"
$TS record add --dir "$D" episode id=E1 person_id=P1 modality=methadone start_on=2024-03-03 >/dev/null
[ "$(total c 10101 IN_TREATMENT 202406 age_band=30-39,modality=methadone,sex=M)" = 1 ] || fail "episode not counted"
$TS record update --dir "$D" person id=P1 sex=F >/dev/null
[ "$(total c 10101 IN_TREATMENT 202406 age_band=30-39,modality=methadone,sex=F)" = 1 ] ||
  fail "a person's edit did not move its episode"
set +e
$TS record delete --dir "$D" person id=P1 2>"$WORK/del.err"; rc=$?
$TS record add --dir "$D" episode id=E2 person_id=P9 modality=methadone start_on=2024-03-03 2>"$WORK/add.err"; rc2=$?
$TS record update --dir "$D" person id=P1 nickname=x 2>"$WORK/upd.err"; rc3=$?
set -e
[ $rc = 2 ] && grep -q "still has records (1 episode)" "$WORK/del.err" || fail "delete of a person with an episode"
[ $rc2 = 2 ] && grep -q "person_id: no person with id P9" "$WORK/add.err" || fail "episode of an unknown person"
[ $rc3 = 2 ] && grep -q "unknown field 'nickname'" "$WORK/upd.err" || fail "unknown field"
$TS record delete --dir "$D" episode id=E1 >/dev/null
$TS record delete --dir "$D" person id=P1 >/dev/null
[ "$(total c 10101 PERSONS_MANAGED 202406)" = 1 ] || fail "delete not counted"
pass "record commands"

step "a long list shows progress on stderr"
python3 - "$WORK/many.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,full_name,sex,registered_on\n")
    for i in range(12000):
        f.write(f"M{i},Phan Văn Nam,M,2024-05-01\n")
PY
$TS import --dir "$D" person "$WORK/many.csv" >/dev/null 2>"$WORK/many.err" || fail "long import refused"
grep -q "checked 12000 rows" "$WORK/many.err" || fail "no progress: $(cat "$WORK/many.err")"
[ "$(total c 10101 PERSONS_MANAGED 202406 age_band=unknown,sex=M)" = 12000 ] || fail "long import not counted"
$TS import --help | grep -q "All or nothing" || fail "import --help"
$TS record --help | grep -q "delete" || fail "record --help"
pass "progress and help"
