#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, ASan + UBSan, RelWithDebInfo) in
# build-fuzz/ and runs each one for a while on a temporary copy of its seed corpus
# (tests/fuzz/corpus/<target>/ is never modified).
#   ops/fuzz.sh [SECONDS]             run every target SECONDS seconds (default 20)
#   ops/fuzz.sh --strict [SECONDS]    also enforce invariants with open bugs
#                                     (PARLEY_FUZZ_STRICT=1, see tests/fuzz/README.md)
#   ops/fuzz.sh --repro               replay tests/fuzz/crashes/<target>-<n> (strict);
#                                     non-zero while any of them still crashes
# Exits non-zero if a target crashes, leaks, hits UB or breaks an invariant; the input
# is kept as build-fuzz/crashes/<target>-crash-<sha1> and the log beside it.
# JOBS=<n> limits build parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=run
seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --strict) export PARLEY_FUZZ_STRICT=1 ;;
    --repro) mode=repro; export PARLEY_FUZZ_STRICT=1 ;;
    ''|*[!0-9]*) echo "usage: ops/fuzz.sh [--strict] [SECONDS] | --repro" >&2; exit 2 ;;
    *) seconds=$1 ;;
  esac
  shift
done

build_dir=build-fuzz
targets=(fuzz_whatsapp fuzz_messenger fuzz_telegram fuzz_postmark_inbound fuzz_postmark_event
         fuzz_signature fuzz_http_request)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

start=$(date +%s)
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARLEY_FUZZ=ON -DPARLEY_BUILD_TESTS=OFF -DPARLEY_BUILD_BENCH=OFF >/dev/null
fi
ninja -C "$build_dir" -j "$jobs" parley_fuzz
echo "fuzz build: $(( $(date +%s) - start )) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ "$mode" = repro ]; then
  shopt -s nullglob
  still=0
  for input in tests/fuzz/crashes/fuzz_*-*; do
    target=$(basename "$input")
    target=${target%-*}
    if "$build_dir/tests/fuzz/$target" "$input" >"$build_dir/repro.log" 2>&1; then
      echo "fixed:   $input"
    else
      echo "crashes: $input ($target)"; grep -m1 -E "ERROR|runtime error|deadly signal" "$build_dir/repro.log" || true
      still=1
    fi
  done
  exit "$still"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build_dir/crashes"
failed=()
printf '%-22s %10s %8s %6s %6s %6s  %s\n' target execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/"
  dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  log="$build_dir/crashes/$t.log"
  result=ok
  if ! "$build_dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "${dict[@]}" -artifact_prefix="$build_dir/crashes/$t-" "$work/$t" >"$log" 2>&1; then
    result="CRASH (log: $log)"
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  printf '%-22s %10s %8s %6s %6s %6s  %s\n' "$t" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$result"
done
echo "fuzz stage: $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build_dir/crashes/)" >&2
  for t in "${failed[@]}"; do
    grep -m3 -E "ERROR: |runtime error|deadly signal|#[0-9]+ 0x.* in parley" "$build_dir/crashes/$t.log" >&2 || true
  done
  exit 1
fi
