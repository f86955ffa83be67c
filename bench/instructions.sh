#!/usr/bin/env bash
# Instructions per webhook: parleyd under callgrind while parley-bench sends a fixed
# number of signed WhatsApp webhooks. On these shared VMs wall-clock figures drift by
# ±10% between runs; an instruction count repeats to within a fraction of a percent, so
# two builds can be told apart by a change of 1–2% (it does not see cache misses, the
# kernel, or waiting: confirm a gain with W1 pairs before quoting webhooks/s).
#
#   bash bench/instructions.sh                       # build/engine/parleyd, 6000 webhooks
#   bash bench/instructions.sh --parleyd A --parleyd B --runs 2
#                                                    # A B A B: a before/after pair
#
# Options: --parleyd PATH (repeatable), --count N (6000), --contacts K (1000: each
# contact sends count/K messages, about W1's share of first contacts), --connections C
# (16), --runs R (1), --top T (inclusive top-T parleyd/RocksDB functions of the last
# run, 0 = none; default 25), --out DIR (/tmp/parley-instructions).
# Valgrind slows parleyd about 50x, so the run is at ~150–200 webhooks/s; the clients'
# own instructions are not counted. Installs valgrind when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

binaries=()
count=6000
contacts=1000
connections=16
runs=1
top=25
out=/tmp/parley-instructions
while [ $# -gt 0 ]; do
  case "$1" in
    --parleyd) binaries+=("$2"); shift 2 ;;
    --count) count=$2; shift 2 ;;
    --contacts) contacts=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "instructions.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

bash ops/install-deps.sh valgrind
if [ ${#binaries[@]} -eq 0 ]; then
  bash ops/build.sh parleyd parley-bench >/dev/null
  binaries=(build/engine/parleyd)
else
  bash ops/build.sh parley-bench >/dev/null
fi
bench=build/bench/parley-bench
mkdir -p "$out"

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

# measure BINARY DIR: writes the instructions counted while the webhooks ran to
# DIR/instructions (run in this shell, not a subshell, so the trap can stop parleyd).
measure() {
  local bin=$1 dir=$2
  rm -rf "$dir"
  mkdir -p "$dir"
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out" \
    "$bin" --data-dir "$dir/data" --public-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
    --durability sync --log-level warn >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  local line=
  for _ in $(seq 1 1200); do
    line=$(grep -m1 '^parleyd ready' "$dir/stdout" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "parleyd exited; see $dir/stderr" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$line" ] || { echo "parleyd not ready under valgrind after 120 s" >&2; exit 1; }
  local pub adm
  pub=$(sed 's/.*public=\([^ ]*\).*/\1/' <<<"$line")
  adm=$(sed 's/.*admin=\([^ ]*\).*/\1/' <<<"$line")
  callgrind_control -i on "$pid" >/dev/null 2>&1
  "$bench" ingest --target "http://$pub" --admin "http://$adm" --admin-token "$(cat "$dir/data/admin.token")" \
    --connections "$connections" --count "$count" --contacts "$contacts" --quiet --json "$dir/ingest.json" \
    >"$dir/ingest.out" 2>&1
  callgrind_control -i off "$pid" >/dev/null 2>&1
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  local ok
  ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$dir/ingest.json")
  [ "$ok" = "$count" ] || { echo "only $ok of $count webhooks answered 200; see $dir" >&2; exit 1; }
  callgrind_annotate "$dir/callgrind.out" 2>/dev/null |
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' >"$dir/instructions"
}

for i in "${!binaries[@]}"; do : >"$out/totals-$i"; done
for r in $(seq 1 "$runs"); do
  for i in "${!binaries[@]}"; do
    dir=$out/run$r-$i
    measure "${binaries[$i]}" "$dir"
    n=$(cat "$dir/instructions")
    echo "$n" >>"$out/totals-$i"
    printf '%s (run %d): %s instructions, %.0f per webhook\n' "${binaries[$i]}" "$r" "$n" \
      "$(python3 -c "print($n / $count)")"
  done
done

if [ ${#binaries[@]} -gt 1 ]; then
  python3 - "$out" "$count" "${binaries[@]}" <<'EOF'
import statistics, sys
out, count, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
medians = [statistics.median(float(x) for x in open(f"{out}/totals-{i}").read().split()) / count
           for i in range(len(names))]
for name, m in zip(names, medians):
    print(f"{name}: median {m:,.0f} instructions per webhook ({m / medians[0]:.3f} of the first)")
EOF
fi

if [ "$top" -gt 0 ]; then
  echo "inclusive, last run of ${binaries[-1]} (instructions per webhook):"
  callgrind_annotate --inclusive=yes "$dir/callgrind.out" 2>/dev/null |
    grep -E 'parley::|rocksdb::(DBImpl::Write|MemTable::Add|DBImpl::Get|DBImpl::MultiGet|crc32c)|beast::http::detail::(read|write)_op' |
    grep -v '0x0000' | head -n "$top" |
    awk -v c="$count" '{n=$1; gsub(",", "", n); $1=""; $2=""; printf "%9.0f %s\n", n / c, substr($0, 1, 150)}'
fi
