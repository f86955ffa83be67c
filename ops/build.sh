#!/usr/bin/env bash
# Configures and builds Parley with CMake + Ninja (ccache when present).
#   ops/build.sh                 Release build in build/
#   ops/build.sh --sanitize      Debug + ASan/UBSan build in build-asan/
#   ops/build.sh [..] TARGET...  only those targets (e.g. parleyd)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_dir=build-asan
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=ON -DPARLEY_BUILD_BENCH=ON)
fi

jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >/dev/null
fi
ninja -C "$build_dir" -j "$jobs" "$@"
