#!/usr/bin/env bash
# Builds everything and runs the whole test suite, twice:
#   1. Release build: unit, integration and end-to-end tests (real parleyd), plus one
#      short run of every benchmark binary to prove it still starts;
#   2. Debug build with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests;
#   3. libFuzzer targets (clang), 15 s each (ops/fuzz.sh).
# Installs missing Debian packages first. `ops/test.sh --quick` skips passes 2 and 3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/install-deps.sh

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build"
bash ops/build.sh
echo "== release tests"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600
echo "== OpenAPI description: lint (Redocly) and live validation of a running parleyd"
bash tests/openapi/run.sh build
echo "== benchmarks start (one short run each; figures are in BENCHMARKS.md)"
for b in build/bench/parley_*_bench; do
  "$b" --benchmark_min_time=0.001 >/dev/null
done

if [ "$quick" -eq 0 ]; then
  echo "== sanitizer build (ASan + UBSan)"
  bash ops/build.sh --sanitize
  echo "== sanitizer tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900
  echo "== fuzzing (libFuzzer, 15 s per target)"
  bash ops/fuzz.sh 15
fi
echo "== all tests passed"
