#!/usr/bin/env bash
# Installs the Debian packages Parley builds and tests with. Safe to run repeatedly:
# it only calls apt-get when something is missing. Needs root (or sudo). Arguments name
# extra packages to install along with them.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  librocksdb-dev libjemalloc-dev
  libflatbuffers-dev flatbuffers-compiler
  libssl-dev ca-certificates openssl
  libsimdjson-dev
  libbenchmark-dev libgtest-dev libgmock-dev
  prometheus-cpp-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  curl
)
# The OpenAPI checks (tests/openapi) run on Node.js with npm; machines of this kind ship
# Node 20, and Debian's packages are the fallback where it is missing.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# Extra packages a caller needs too (bench/compare.sh: nginx, wrk, redis-server, ...).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
