#!/usr/bin/env bash
# Installs the dependencies, builds tiersync twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs the whole test suite
# under both. Exits non-zero if any build or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIERSYNC_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

echo "== build and test (plain)"
run_suite build
echo "== build and test (ASan + UBSan)"
run_suite build-sanitize -DTIERSYNC_SANITIZE=ON
echo "== all tests passed, with and without sanitizers"
