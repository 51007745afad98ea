#!/usr/bin/env bash
# fuzz.sh: builds the fuzz targets of fuzz/ (clang + libFuzzer, ASan, UBSan),
# replays the regression inputs and the seed corpora, then fuzzes each target
# for a bounded time. docs/FUZZING.md describes the targets and a long run.
#
# usage: tools/fuzz.sh [--replay] [TARGET ...]
#   --replay        only replay fuzz/regressions/ and fuzz/corpus/ (no fuzzing)
#   TARGET          some of: fuzz_apply fuzz_apply_signed fuzz_csv fuzz_catalog
#                   fuzz_config fuzz_http fuzz_join (default: all)
# environment:
#   FUZZ_SECONDS    seconds of fuzzing per target (default 20)
#   FUZZ_RUNS       instead: exactly this many executions per target, from a fixed
#                   seed (FUZZ_SEED, default 1): the same run every time (CI)
#   FUZZ_BIN_DIR    directory holding built targets (skips the build)
#   FUZZ_BUILD_DIR  where to build them (default: build-fuzz)
#   FUZZ_SKIP_CODE  exit status when the fuzzing is skipped (default 0; the suite: 77)
#   FUZZ_WORK       where new corpus entries and crash inputs go (default: a
#                   temporary directory, removed unless something crashed)
#
# Without clang and libFuzzer the regression inputs are still replayed (the
# targets are then built with the system compiler as file replayers) and
# the fuzzing is skipped with a SKIP line. Exit 0 when nothing crashed
# (FUZZ_SKIP_CODE when the fuzzing was skipped).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ALL_TARGETS=(fuzz_apply fuzz_apply_signed fuzz_csv fuzz_catalog fuzz_config fuzz_http fuzz_join)
SECONDS_EACH=${FUZZ_SECONDS:-20}
export TIERSYNC_CATALOG=${TIERSYNC_CATALOG:-$ROOT/catalog/drug-treatment.json}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

replay_only=0
targets=()
for a in "$@"; do
  case $a in
    --replay) replay_only=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    fuzz_*) targets+=("$a") ;;
    *) echo "fuzz.sh: unknown argument '$a' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] || { echo "fuzz.sh: FUZZ_SECONDS must be a whole number" >&2; exit 2; }

have_libfuzzer() {
  command -v clang >/dev/null || return 1
  local t
  t=$(mktemp -d)
  printf '#include <stddef.h>\nint LLVMFuzzerTestOneInput(const unsigned char *d, size_t n) { return d && n; }\n' >"$t/p.c"
  clang -fsanitize=fuzzer,address,undefined "$t/p.c" -o "$t/p" >/dev/null 2>&1
  local rc=$?
  rm -rf "$t"
  return $rc
}

# The targets: prebuilt, or built here (with clang when it has libFuzzer).
engine=replay
if [ -n "${FUZZ_BIN_DIR:-}" ]; then
  BIN=$FUZZ_BIN_DIR
  # a target built with libFuzzer understands -help=1; a replayer ignores flags
  help=$("$BIN/fuzz_config" -help=1 2>&1 || true)
  case $help in *Usage:*) engine=libfuzzer ;; esac
else
  build=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
  args=(-DTIERSYNC_FUZZ=ON -DBUILD_TESTING=OFF -DTIERSYNC_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  if have_libfuzzer; then
    args+=(-DCMAKE_C_COMPILER=clang -DTIERSYNC_SANITIZE=ON)
    engine=libfuzzer
  else
    args+=(-DTIERSYNC_SANITIZE=ON)
  fi
  echo "fuzz.sh: building the targets in $build ($engine)"
  cmake -S "$ROOT" -B "$build" "${args[@]}" >"$build.log" 2>&1 ||
    { cat "$build.log" >&2; echo "fuzz.sh: configuring failed" >&2; exit 1; }
  cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" >>"$build.log" 2>&1 ||
    { tail -n 40 "$build.log" >&2; echo "fuzz.sh: the build failed" >&2; exit 1; }
  rm -f "$build.log"
  BIN=$build/fuzz
fi

WORK_GIVEN=${FUZZ_WORK:-}
WORK=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/tiersync-fuzz-work.XXXXXX")}
mkdir -p "$WORK"
export TMPDIR=$WORK # the targets' temporary nodes live (and are removed) here
crashed=0

# Every regression input and seed must run clean.
for t in "${targets[@]}"; do
  inputs=()
  for d in "$ROOT/fuzz/regressions/$t" "$ROOT/fuzz/corpus/$t"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && inputs+=("$d")
  done
  [ ${#inputs[@]} -gt 0 ] || continue
  n=$(find "${inputs[@]}" -type f | wc -l)
  # -runs=0: libFuzzer runs each input once; replay_main ignores flags
  "$BIN/$t" -runs=0 "${inputs[@]}" >"$WORK/$t.replay.log" 2>&1 && rc=0 || rc=$?
  if [ $rc -ne 0 ]; then
    crashed=1
    grep -E "^fuzz|ERROR|SUMMARY|Running:|replay:" "$WORK/$t.replay.log" | tail -n 15 >&2
    echo "FAIL: $t: a regression or seed input crashes (log: $WORK/$t.replay.log)" >&2
  else
    echo "$t: $n regression and seed inputs replayed clean"
  fi
done

if [ $replay_only = 1 ] || [ $crashed = 1 ]; then
  [ $crashed = 0 ] && [ -z "$WORK_GIVEN" ] && rm -rf "$WORK"
  exit $crashed
fi
if [ $engine != libfuzzer ]; then
  echo "SKIP: fuzzing needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev);" \
       "the regression inputs were replayed"
  [ -z "$WORK_GIVEN" ] && rm -rf "$WORK"
  exit "${FUZZ_SKIP_CODE:-0}"
fi

total=0
for t in "${targets[@]}"; do
  mkdir -p "$WORK/corpus/$t" "$WORK/crashes/$t"
  seeds=()
  for d in "$ROOT/fuzz/corpus/$t" "$ROOT/fuzz/regressions/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  dict=()
  [ -f "$ROOT/fuzz/dict/$t.dict" ] && dict=(-dict="$ROOT/fuzz/dict/$t.dict")
  # new inputs go to the first (scratch) directory; the committed seeds stay as they are
  budget=(-max_total_time="$SECONDS_EACH")
  [ -n "${FUZZ_RUNS:-}" ] && budget=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
  "$BIN/$t" "${budget[@]}" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$WORK/crashes/$t/" "${dict[@]}" \
    "$WORK/corpus/$t" "${seeds[@]}" >"$WORK/$t.log" 2>&1 && rc=0 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log" | tail -n 1)
  execs=${execs:-0}
  total=$(( total + execs ))
  if [ $rc -ne 0 ]; then
    crashed=1
    grep -E "^fuzz|ERROR|SUMMARY|#[0-9]+ 0x|Test unit written" "$WORK/$t.log" | head -n 25 >&2
    echo "FAIL: $t crashed after $execs executions; the input is in $WORK/crashes/$t/:" \
         "fix the bug, then add the input to fuzz/regressions/$t/ (docs/FUZZING.md)" >&2
  else
    echo "$t: $execs executions, no crash ($(ls "$WORK/corpus/$t" | wc -l) new corpus inputs)"
  fi
done
echo "fuzz.sh: $total executions in all, $([ $crashed = 0 ] && echo "no crash" || echo "CRASHES FOUND")"
[ $crashed = 0 ] && [ -z "$WORK_GIVEN" ] && rm -rf "$WORK"
exit $crashed
