#!/usr/bin/env bash
# pg_peer.sh: the PostgreSQL peer of the bench: the same cells stored the
# way DHIS2 stores data values, at PostgreSQL's default durability.
#
# usage: bench/pg_peer.sh [ROWS]     (default 200000 rows per batch size)
#
# Starts a throw-away cluster (initdb + pg_ctl, unix socket only, in a
# temporary directory; as user nobody when run as root, since postgres will
# not run as root), creates a `datavalue` table keyed like DHIS2's
# (dataelementid, periodid, sourceid, categoryoptioncomboid,
# attributeoptioncomboid), and sends ROWS increments as batched
#   INSERT ... VALUES (...), ... ON CONFLICT (key) DO UPDATE
#     SET value = datavalue.value + EXCLUDED.value
# statements of 100 and then of 1,000 rows, one autocommitted statement at a
# time over one connection (fsync and synchronous_commit on: the defaults).
# The keys follow the load generator's: 100 org units, each cycling through
# 1,000 cells. Prints "pg_rows_per_s_100 N" and "pg_rows_per_s_1000 N", then
# stops the cluster and removes every file.
set -euo pipefail
ROWS=${1:-200000}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "${PGBIN:-}/initdb" ] || {
  echo "pg_peer: PostgreSQL is not installed: run tools/install-deps.sh --bench" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tiersync-pg.XXXXXX")
AS=()
if [ "$(id -u)" -eq 0 ]; then
  AS=(runuser -u nobody --)
  chown nobody "$TMP"
  chmod 755 "$TMP"
fi
cleanup() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"${AS[@]}" "$PGBIN/initdb" -D "$TMP/data" -U bench --auth=trust -E UTF8 --no-sync >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w \
  -o "-k $TMP -c listen_addresses=''" start >/dev/null
PSQL=(psql -h "$TMP" -U bench -d postgres -v ON_ERROR_STOP=1 -q -X)

"${PSQL[@]}" <<'SQL'
CREATE TABLE datavalue (
  dataelementid bigint NOT NULL,
  periodid bigint NOT NULL,
  sourceid bigint NOT NULL,
  categoryoptioncomboid bigint NOT NULL,
  attributeoptioncomboid bigint NOT NULL,
  value bigint NOT NULL,
  lastupdated timestamp NOT NULL DEFAULT now(),
  PRIMARY KEY (dataelementid, periodid, sourceid, categoryoptioncomboid, attributeoptioncomboid));
SQL

statements() { # ROWS_PER_STATEMENT: the SQL of ROWS increments
  python3 - "$ROWS" "$1" <<'PY'
import sys
rows, k = int(sys.argv[1]), int(sys.argv[2])
head = ("INSERT INTO datavalue (dataelementid, periodid, sourceid, categoryoptioncomboid, "
        "attributeoptioncomboid, value) VALUES ")
tail = (" ON CONFLICT (dataelementid, periodid, sourceid, categoryoptioncomboid, "
        "attributeoptioncomboid) DO UPDATE SET value = datavalue.value + EXCLUDED.value, "
        "lastupdated = now();\n")
out = sys.stdout
for i in range(rows // k):
    unit = 1 + i % 100
    first = (i // 100) * k
    cells = ((first + j) % 1000 for j in range(k))
    out.write(head + ",".join(f"({1 + c // 48},1,{unit},{1 + c % 48},1,1)" for c in cells) + tail)
PY
}

for k in 100 1000; do
  statements "$k" >"$TMP/inc.sql"
  "${PSQL[@]}" -c "TRUNCATE datavalue; CHECKPOINT;"
  t0=$(date +%s%N)
  "${PSQL[@]}" -f "$TMP/inc.sql"
  t1=$(date +%s%N)
  sum=$("${PSQL[@]}" -At -c "SELECT sum(value) FROM datavalue")
  [ "$sum" -eq $(( ROWS / k * k )) ] || { echo "pg_peer: the table sums to $sum" >&2; exit 1; }
  echo "pg_rows_per_s_$k $(( ROWS / k * k * 1000000000 / (t1 - t0) ))"
done
