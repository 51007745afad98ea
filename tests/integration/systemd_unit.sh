#!/usr/bin/env bash
# deploy/tiersync.service passes 'systemd-analyze verify' with no message at
# all (verify exits 0 on unknown keys and bad values, printing a warning, so
# any output fails), keeps the hardening the docs promise, and rates "OK" or
# better in 'systemd-analyze security'. The sysusers and tmpfiles files
# create the user and the directories in a scratch root. SKIP (exit 77)
# without systemd-analyze, or for the scratch root without root.
source "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not installed"
  exit 77
fi
SRC=${TIERSYNC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
UNIT_SRC="$SRC/deploy/tiersync.service"

# The unit as installed, except that ExecStart runs the binary under test
# (verify checks that the command exists) and the man page comes from the
# source tree (verify runs 'man tiersync(1)' for Documentation=).
mkdir -p "$WORK/unit" "$WORK/man/man1"
cp "$SRC/docs/tiersync.1" "$WORK/man/man1/"
sed "s#^ExecStart=/usr/bin/tiersync #ExecStart=$TS #" "$UNIT_SRC" >"$WORK/unit/tiersync.service"
[ "$(diff "$UNIT_SRC" "$WORK/unit/tiersync.service" | grep -c '^>')" = 1 ] ||
  fail "expected exactly one ExecStart=/usr/bin/tiersync line in the unit"

cp "$SRC/deploy/tiersync-backup.service" "$SRC/deploy/tiersync-backup.timer" "$WORK/unit/"

verify() { MANPATH="$WORK/man" systemd-analyze verify "$@" 2>&1; }

step "systemd-analyze verify"
out=$(verify "$WORK/unit/tiersync.service") || fail "verify failed: $out"
[ -z "$out" ] || fail "verify reported: $out"
out=$(verify "$WORK/unit/tiersync-backup.service" "$WORK/unit/tiersync-backup.timer") ||
  fail "verify of the backup units failed: $out"
[ -z "$out" ] || fail "verify of the backup units reported: $out"
# the check can fail: a misspelt key is reported
sed 's/^ProtectSystem=/ProtectSytem=/' "$WORK/unit/tiersync.service" >"$WORK/unit/bad.service"
[ -n "$(verify "$WORK/unit/bad.service" || true)" ] || fail "verify did not notice a misspelt key"
pass "tiersync.service, tiersync-backup.service and .timer verify cleanly"

step "the service settings and hardening"
for want in "User=tiersync" "Group=tiersync" "StateDirectory=tiersync" "Restart=on-failure" \
            "RestartPreventExitStatus=2" "UMask=0077" "NoNewPrivileges=yes" \
            "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" \
            "ReadWritePaths=/var/lib/tiersync" "CapabilityBoundingSet=" \
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service" \
            "ExecStart=/usr/bin/tiersync run --dir /var/lib/tiersync"; do
  grep -qxF "$want" "$UNIT_SRC" || fail "the unit lacks '$want'"
done
if sec=$(systemd-analyze security --offline=yes "$WORK/unit/tiersync.service" 2>&1); then
  level=$(echo "$sec" | sed -n 's/.*Overall exposure level for tiersync.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
  [ -n "$level" ] || fail "no exposure level in: $(echo "$sec" | tail -3)"
  case ${level#* } in OK|SAFE|PERFECT) ;; *) fail "exposure $level, expected OK or better" ;; esac
  pass "hardening present; systemd-analyze security exposure $level"
else
  pass "hardening present (this systemd-analyze has no offline security check)"
fi

step "the backup service's commands, unescaped as systemd does, on a scratch node"
$TS init --dir "$WORK/n" --code 343 --name "Unit 343" --level district --http "" >/dev/null
$TS value set --dir "$WORK/n" STAFF_TRAINED 2025 4 >/dev/null
mkdir -p "$WORK/backups"
touch -d "40 days ago" "$WORK/backups/tiersync-20200101-000000.mdb"   # due for removal
touch "$WORK/backups/keep-me.mdb"                                      # not a timer backup
for key in ExecStart ExecStartPost; do
  line=$(sed -n "s/^$key=//p" "$SRC/deploy/tiersync-backup.service")
  [ -n "$line" ] || fail "tiersync-backup.service has no $key"
  line=${line//'$$'/'$'}; line=${line//'%%'/'%'}
  line=${line//\/usr\/bin\/tiersync/$TS}
  line=${line//\/var\/lib\/tiersync/$WORK/n}
  line=${line//\/var\/backups\/tiersync/$WORK/backups}
  eval "$line" >/dev/null || fail "$key failed: $line"
done
made=$(cd "$WORK/backups" && ls | grep -E '^tiersync-[0-9]{8}-[0-9]{6}\.mdb$') ||
  fail "no dated backup written: $(ls "$WORK/backups")"
[ "$(stat -c %a "$WORK/backups/$made")" = 600 ] || fail "backup $made has mode $(stat -c %a "$WORK/backups/$made")"
[ ! -e "$WORK/backups/tiersync-20200101-000000.mdb" ] || fail "the 40-day-old backup was kept"
[ -e "$WORK/backups/keep-me.mdb" ] || fail "the retention removed a file that is not a timer backup"
pass "backup service writes $made (0600) and removes timer backups older than 30 days"

step "sysusers and tmpfiles in a scratch root"
if [ "$(id -u)" -ne 0 ] || ! command -v systemd-sysusers >/dev/null ||
   ! command -v systemd-tmpfiles >/dev/null; then
  echo "SKIP: needs root, systemd-sysusers and systemd-tmpfiles"
  exit 77
fi
R="$WORK/root"
mkdir -p "$R/etc"
systemd-sysusers --root="$R" "$SRC/deploy/tiersync.sysusers" >/dev/null 2>&1 ||
  fail "systemd-sysusers refused deploy/tiersync.sysusers"
line=$(grep '^tiersync:' "$R/etc/passwd") || fail "no user tiersync created"
uid=$(echo "$line" | cut -d: -f3)
[ "$(echo "$line" | cut -d: -f6)" = /var/lib/tiersync ] || fail "home is not /var/lib/tiersync: $line"
case $(echo "$line" | cut -d: -f7) in */nologin|*/false) ;; *) fail "user tiersync can log in: $line" ;; esac
systemd-tmpfiles --root="$R" --create "$SRC/deploy/tiersync.tmpfiles" >/dev/null 2>&1 ||
  fail "systemd-tmpfiles refused deploy/tiersync.tmpfiles"
[ "$(stat -c '%a %u' "$R/var/lib/tiersync")" = "750 $uid" ] ||
  fail "/var/lib/tiersync is $(stat -c '%a %u' "$R/var/lib/tiersync"), expected 750 $uid"
[ "$(readlink "$R/etc/tiersync/tiersync.conf")" = /var/lib/tiersync/tiersync.conf ] ||
  fail "/etc/tiersync/tiersync.conf does not link to the data directory's file"
[ "$(stat -c '%a %u' "$R/var/backups/tiersync")" = "700 $uid" ] ||
  fail "/var/backups/tiersync is $(stat -c '%a %u' "$R/var/backups/tiersync"), expected 700 $uid"
pass "user tiersync (uid $uid), /var/lib/tiersync 0750, /var/backups/tiersync 0700, /etc/tiersync/tiersync.conf link"
