#!/usr/bin/env bash
# 'cmake --install' into a DESTDIR with prefix /usr puts every part where
# the system and the docs expect it: the binary (runs, and works with the
# installed catalog), the catalog, the man page (covering every command the
# binary lists), the docs, the systemd unit (whose ExecStart is the installed
# binary), the sysusers and tmpfiles files.
source "$(dirname "$0")/lib.sh"

BUILD=$(cd "$(dirname "$TS")" && pwd)
[ -f "$BUILD/cmake_install.cmake" ] || fail "$BUILD is not the CMake build directory of $TS"
SRC=${TIERSYNC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
R="$WORK/root"

step "cmake --install --prefix /usr into DESTDIR"
DESTDIR="$R" cmake --install "$BUILD" --prefix /usr >"$WORK/install.log" 2>&1 ||
  fail "cmake --install failed: $(tail -5 "$WORK/install.log")"
! grep -q "CMake Warning" "$WORK/install.log" || fail "install warned: $(cat "$WORK/install.log")"
for f in usr/bin/tiersync usr/share/tiersync/drug-treatment.json usr/share/man/man1/tiersync.1 \
         usr/share/doc/tiersync/OPERATIONS.md usr/lib/systemd/system/tiersync.service \
         usr/lib/systemd/system/tiersync-backup.service usr/lib/systemd/system/tiersync-backup.timer \
         usr/lib/sysusers.d/tiersync.conf usr/lib/tmpfiles.d/tiersync.conf; do
  [ -f "$R/$f" ] || fail "missing /$f; installed: $(cd "$R" && find . -type f | sort)"
done
[ -x "$R/usr/bin/tiersync" ] || fail "/usr/bin/tiersync is not executable"
stray=$(cd "$R" && find . -type f | grep -v -E '^\./usr/(bin/tiersync|share/tiersync/[^/]+\.json|share/man/man1/tiersync\.1|share/doc/tiersync/[^/]+\.md|lib/systemd/system/tiersync(-backup)?\.service|lib/systemd/system/tiersync-backup\.timer|lib/(sysusers|tmpfiles)\.d/tiersync\.conf)$' || true)
[ -z "$stray" ] || fail "files outside the documented layout: $stray"
cmp -s "$R/usr/share/tiersync/drug-treatment.json" "$SRC/catalog/drug-treatment.json" ||
  fail "installed catalog differs from catalog/drug-treatment.json"
pass "layout: bin, share/tiersync, man1, doc, systemd units, sysusers.d, tmpfiles.d"

step "the installed binary runs, with the installed catalog"
BIN="$R/usr/bin/tiersync"
"$BIN" --help >"$WORK/help.txt" || fail "tiersync --help failed"
grep -q "^commands:" "$WORK/help.txt" || fail "unexpected --help: $(cat "$WORK/help.txt")"
"$BIN" --version | grep -q "^tiersync [0-9]" || fail "tiersync --version"
TIERSYNC_CATALOG="$R/usr/share/tiersync/drug-treatment.json" \
  "$BIN" init --dir "$WORK/n" --code 343 --name "Huyện Kim Bảng" --level district --http "" >/dev/null ||
  fail "init with the installed catalog failed"
TIERSYNC_CATALOG="$R/usr/share/tiersync/drug-treatment.json" \
  "$BIN" value set --dir "$WORK/n" STAFF_TRAINED 2025 4 >/dev/null
[ "$(TIERSYNC_CATALOG="$R/usr/share/tiersync/drug-treatment.json" "$BIN" totals --dir "$WORK/n" \
      --unit 343 --indicator STAFF_TRAINED --period 2025 --json |
    python3 -c 'import json,sys; print(sum(r["value"] for r in json.load(sys.stdin)))')" = 4 ] ||
  fail "installed binary did not keep a value"
pass "installed binary runs --help, init, value set, totals"

step "the man page renders and covers every command"
MAN="$R/usr/share/man/man1/tiersync.1"
if command -v groff >/dev/null; then
  warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$MAN" 2>&1) || fail "groff failed: $warn"
  [ -z "$warn" ] || fail "man page warnings: $warn"
fi
cmds=$(awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}' "$WORK/help.txt")
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || fail "could not read the command list: $cmds"
for c in $cmds; do
  grep -q "^\.SS \"tiersync $c " "$MAN" || fail "man page has no section for 'tiersync $c'"
  "$BIN" "$c" --help >/dev/null || fail "tiersync $c --help failed"
done
pass "man page covers: $(echo $cmds)"

step "the units run the installed binary as its own user"
UNIT="$R/usr/lib/systemd/system/tiersync.service"
exec_bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$UNIT")
[ "$exec_bin" = /usr/bin/tiersync ] || fail "ExecStart runs '$exec_bin'"
[ -x "$R$exec_bin" ] || fail "ExecStart's $exec_bin is not the installed binary"
BACKUP_UNIT="$R/usr/lib/systemd/system/tiersync-backup.service"
grep -q "^ExecStart=.*exec /usr/bin/tiersync backup --dir /var/lib/tiersync " "$BACKUP_UNIT" ||
  fail "tiersync-backup.service does not run /usr/bin/tiersync backup"
grep -qx "User=tiersync" "$BACKUP_UNIT" || fail "tiersync-backup.service does not run as tiersync"
grep -q "^d /var/backups/tiersync 0700 tiersync tiersync" "$R/usr/lib/tmpfiles.d/tiersync.conf" ||
  fail "tmpfiles does not create /var/backups/tiersync"
grep -qx "ExecStart=/usr/bin/tiersync run --dir /var/lib/tiersync" "$UNIT" || fail "ExecStart line"
grep -qx "User=tiersync" "$UNIT" || fail "unit does not run as user tiersync"
grep -q "^u tiersync " "$R/usr/lib/sysusers.d/tiersync.conf" || fail "sysusers does not create tiersync"
grep -q "^d /var/lib/tiersync 0750 tiersync tiersync" "$R/usr/lib/tmpfiles.d/tiersync.conf" ||
  fail "tmpfiles does not create /var/lib/tiersync"
pass "unit, sysusers and tmpfiles agree on user tiersync and /var/lib/tiersync"
