#!/usr/bin/env bash
# What deleting files does to a live tenant's commit latency, without anything else of a
# purge: a fresh parleyd (--durability sync) takes --rate signed webhooks/s for
# --duration; with --delete-rate, 2 s in, a deleter frees --delete-mib MiB of files on the
# same file system the way RocksDB's paced deletion does (one ftruncate of --chunk-mib off
# the end of a file at a time, then the unlink), at --delete-rate MiB/s. Without
# --delete-rate the run is the quiet reference. Prints p50/p99 and p99 per second.
#
#   bash bench/deletion_probe.sh                                  # quiet
#   bash bench/deletion_probe.sh --delete-rate 64 --chunk-mib 1   # Parley's setting
#
# Uses the Release build in build/ (bash ops/build.sh parleyd parley-bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rate=2000 duration=20s delete_rate="" chunk=1 delete_mib=2048 out=""
while [ $# -gt 0 ]; do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --delete-rate) delete_rate=$2; shift 2 ;;
    --chunk-mib) chunk=$2; shift 2 ;;
    --delete-mib) delete_mib=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/parley-delprobe-XXXXXX")}
mkdir -p "$out"
bin=$root/build
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$out/trash" "$out/data"; }
trap cleanup EXIT

if [ -n "$delete_rate" ]; then
  # Real blocks, written and synced before the measurement starts.
  mkdir -p "$out/trash"
  files=$(( (delete_mib + 255) / 256 ))
  for i in $(seq 1 "$files"); do head -c $((256 << 20)) /dev/urandom >"$out/trash/f$i"; done
  sync
fi

"$bin/engine/parleyd" --data-dir "$out/data" --public-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --durability sync \
  --log-level warn >"$out/stdout" 2>"$out/log" &
pid=$!
for _ in $(seq 1 3000); do grep -q '^parleyd ready' "$out/stdout" 2>/dev/null && break; sleep 0.01; done
line=$(grep '^parleyd ready' "$out/stdout")
pub=$(sed 's/.*public=\([^ ]*\).*/\1/' <<<"$line")
admin=$(sed 's/.*admin=\([^ ]*\).*/\1/' <<<"$line")
token=$(cat "$out/data/admin.token")
curl -sf -X POST "http://$admin/v1/admin/tenants" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"id":"live"}' >/dev/null
path=$(curl -sf -X POST "http://$admin/v1/admin/tenants/live/channels" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"type":"whatsapp","phone_number_ids":["100200300"],"app_secret":"probe","access_token":"probe","verify_token":"probe"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["webhook_path"])')
load() { "$bin/bench/parley-bench" ingest --target "http://$pub" --channel-path "$path" --secret probe --connections 16 \
  --rate "$rate" --contacts 5000 --quiet "$@" >/dev/null; }
load --duration 3s  # warm-up

deleter=""
if [ -n "$delete_rate" ]; then
  python3 - "$out/trash" "$delete_rate" "$chunk" >"$out/deleter" <<'EOF' &
import os, sys, time
d, rate, chunk = sys.argv[1], float(sys.argv[2]) * (1 << 20), int(float(sys.argv[3]) * (1 << 20))
time.sleep(2)
t0, done = time.time(), 0
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    size = os.path.getsize(p)
    while size > 0:
        step = min(chunk, size)
        if size > step:
            os.truncate(p, size - step)
        else:
            os.unlink(p)
        size -= step
        done += step
        time.sleep(max(0.0, t0 + done / rate - time.time()))
print(f"deleted {done >> 20} MiB in {time.time() - t0:.1f} s")
EOF
  deleter=$!
fi
load --duration "$duration" --json "$out/live.json"
[ -n "$deleter" ] && wait "$deleter"
python3 - "$out/live.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
l = d["latency_us"]
print(f"throughput {d['throughput']:.0f}/s errors {d['errors']} p50 {l['p50'] / 1000:.1f} ms p99 {l['p99'] / 1000:.1f} ms")
print("p99 per second (ms): " + " ".join(f"{x['p99_ms']:.0f}" for x in d["timeline"]))
EOF
[ -n "$deleter" ] && cat "$out/deleter"
exit 0
