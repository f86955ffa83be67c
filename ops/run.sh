#!/usr/bin/env bash
# Builds and starts parleyd on its embedded defaults: data in ./parley-data, generated
# admin token and master key there, public listener 127.0.0.1:8080, admin 127.0.0.1:8081.
# Extra arguments go to parleyd (see `parleyd --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/install-deps.sh
bash ops/build.sh parleyd
exec build/engine/parleyd "$@"
