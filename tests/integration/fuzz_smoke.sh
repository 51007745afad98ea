#!/usr/bin/env bash
# The fuzz smoke run of CI: tools/fuzz.sh replays every input in
# fuzz/regressions/ and fuzz/corpus/, then fuzzes each target for
# FUZZ_SECONDS (default 20) with clang's libFuzzer, ASan and UBSan. The
# targets are built in their own directory next to this build (clang, not
# this build's compiler). Without clang and libFuzzer the regression inputs
# still replay and the fuzzing prints SKIP (exit 77, FUZZ_SKIP_CODE).
set -euo pipefail
: "${TIERSYNC_BIN:?set TIERSYNC_BIN to the tiersync binary}"
SRC=${TIERSYNC_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN_DIR=$(cd "$(dirname "$TIERSYNC_BIN")" && pwd)
if [ -x "$BIN_DIR/fuzz/fuzz_apply" ]; then
  echo "SKIP: this build has the fuzz targets (-DTIERSYNC_FUZZ=ON): ctest -L fuzz runs them"
  exit 77
fi
export FUZZ_BUILD_DIR=$BIN_DIR/fuzz-build
# a fixed seed and count: the suite gives the same answer every time; longer,
# exploring runs are tools/fuzz.sh with FUZZ_SECONDS (docs/FUZZING.md)
export FUZZ_RUNS=${FUZZ_RUNS:-20000}
export FUZZ_SKIP_CODE=77
exec bash "$SRC/tools/fuzz.sh"
