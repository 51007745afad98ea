#!/usr/bin/env bash
# Installs what tiersync needs to build and test, from Debian's packages.
# Idempotent: run it as often as you like (as root, or with sudo available).
# usage: tools/install-deps.sh [--bench] [EXTRA_PACKAGE ...]
#   --bench also installs what bench/run needs (PostgreSQL, for its peer).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libzmq3-dev liblmdb-dev lmdb-utils libprotobuf-c-dev protobuf-c-compiler libsodium-dev
  libjansson-dev libinih-dev libmicrohttpd-dev libcmocka-dev libxlsxwriter-dev
  libgnutls28-dev # the register's self-signed certificate (tiersync tls)
  curl python3 chromium faketime
  systemd e2fsprogs mount # systemd_unit.sh (systemd-analyze, -sysusers, -tmpfiles); disk_full.sh
  poppler-utils python3-openpyxl # tests: the report's PDF text, the Excel reader
  clang libclang-rt-14-dev # the fuzz smoke run: libFuzzer, ASan, UBSan (docs/FUZZING.md)
  clang-format # the tree style check (tools/format.sh)
)
# tests: the FHIR schema validator comes from npm (tests/package.json); a
# Node.js installed otherwise (with its own npm) is used as it is.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)
# Optional, for bench/run only (never for the test suite): the PostgreSQL peer.
BENCH_PACKAGES=(postgresql)
if [ "${1:-}" = "--bench" ]; then
  shift
  PACKAGES+=("${BENCH_PACKAGES[@]}")
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi
missing=()
for p in "${PACKAGES[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
