#!/usr/bin/env bash
# OpenAPI checks: lints docs/openapi.yaml (Redocly CLI) and validates a live parleyd
# against it (validate_live.mjs).
#   bash tests/openapi/run.sh <build-dir>        # e.g. bash tests/openapi/run.sh build
# Needs Node >= 20 and, the first time (or after package-lock.json changed), the npm
# registry for `npm ci`. Nothing else touches the network: the lint runs offline and
# the validator talks to 127.0.0.1 only.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash tests/openapi/run.sh <build-dir>" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
spec="$root/docs/openapi.yaml"
parleyd="$build_dir/engine/parleyd"

command -v node >/dev/null || { echo "run.sh: node is not installed" >&2; exit 2; }
command -v npm >/dev/null || { echo "run.sh: npm is not installed" >&2; exit 2; }
[ -x "$parleyd" ] || { echo "run.sh: $parleyd not found (build parleyd first)" >&2; exit 2; }

cd "$here"

# npm ci when node_modules is missing or was installed from another package-lock.json.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.parley-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "== npm ci (tests/openapi)"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

# No telemetry, no update check: the lint must not depend on the network.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export NO_UPDATE_NOTIFIER=1

echo "== redocly lint docs/openapi.yaml"
node_modules/.bin/redocly lint --config redocly.yaml "$spec"

echo "== live validation against $parleyd"
node validate_live.mjs --parleyd "$parleyd" --spec "$spec"
