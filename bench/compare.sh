#!/usr/bin/env bash
# The performance case of BENCH.md in one interleaved session on this machine.
#
#   bash bench/compare.sh                 # W1 + references + W1d + latency, then S1-S4
#   bash bench/compare.sh --parts w1      # only the ingest comparison
#   bash bench/compare.sh --parts s --s-messages 1000000 --s-conversations 100000
#
# Part "w1", for each round (A B A B ... so drift hits every contender alike):
#   W1       parley-bench ingest -> parleyd --durability sync (new tenant per run)
#   nginx    the same client against nginx `return 200` (the HTTP ceiling)
#   redis    redis-benchmark XADD of 1 KiB, appendonly + appendfsync always, no pipelining
#   js       parley-jetstream-pub: JetStream file stream, unique Nats-Msg-Id, publish-with-ack
#   W1d      W1 with 20% redeliveries
#   W2       parley-bench send -> parleyd -> the provider simulator (pacing unlimited):
#            accepted sends/s and delivered/s
# then W1 at a fixed rate of half the median W1 throughput (ack latency at 50% load), and
# W3 (parley-bench mixed) for --w3-duration (default 5m): sends with their three status
# webhooks each plus inbound, together 0.3 x the median W1 in webhooks/s.
# Every contender runs with the same number of connections/clients (--connections).
#
# Part "s" (the store-size scenarios), on a store pre-loaded with --s-messages messages
# over --s-conversations conversations (loaded with --durability async, then restarted
# with sync):
#   S4  start to ready line on that store (3 restarts)
#   S1  W1 on that store against W1 on an empty store, interleaved; right after the
#       pre-load, and again once RocksDB has no flush or compaction left (at most 10 min)
#   S3  RSS after the S1 rounds, and after --s-active stored conversations then received
#       one message each
#   S2  GET /v1/conversations/{id}/messages?limit=50 under wrk, random conversations:
#       16 connections closed loop, then 1 connection; once right after S1 and S3's
#       writes, and again once RocksDB has no flush or compaction left (at most 10 min)
#
# Part "p" (S5, erasure under load; not in the default --parts): one parleyd (sync) with a
# tenant pre-loaded with --p-messages messages (then restarted and left until RocksDB has
# no compaction pending: the data as a tenant's would be in service) and a live tenant.
# Each round runs
# --p-duration of ingest to the live tenant at --p-rate webhooks/s twice: once quiet, and
# once while the big tenant is deleted two seconds in (its purge: range deletes and
# compactions of every family), recording the live tenant's p50/p99/p99.9 and errors and
# how long the purge took. `--p-rate max` runs the live tenant closed-loop instead (64
# connections, as fast as it is answered): its throughput while the purge's compactions
# run, against the quiet run's.
#
# Installs nginx, wrk, redis-server, redis-tools and nats-server from Debian when missing.
# Results: a table on stdout, raw figures in $OUT/results.jsonl (one JSON object per run).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
duration=10s
connections=50
contacts=10000
parts=w1,s
out=/tmp/parley-compare
s_messages=10000000
s_conversations=1000000
s_active=100000
port_base=18000
w3_duration=5m
p_messages=1000000
p_rate=2000
p_duration=20s

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --contacts) contacts=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --s-messages) s_messages=$2; shift 2 ;;
    --s-conversations) s_conversations=$2; shift 2 ;;
    --s-active) s_active=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --w3-duration) w3_duration=$2; shift 2 ;;
    --p-messages) p_messages=$2; shift 2 ;;
    --p-rate) p_rate=$2; shift 2 ;;
    --p-duration) p_duration=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

bash ops/install-deps.sh nginx wrk redis-server redis-tools nats-server
bash ops/build.sh parleyd parley-bench parley-jetstream-pub >/dev/null
sim_port=$((port_base + 90))

bench=build/bench/parley-bench
parleyd=build/engine/parleyd
rm -rf "$out"
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"

children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$out/nginx/nginx.pid" ] && kill "$(cat "$out/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$1" "$2"; }
record() { echo "$1" >>"$results"; }
now() { date +%s.%N; }
seconds() { awk -v v="$1" 'BEGIN { if (v ~ /ms$/) print v/1000; else if (v ~ /m$/) print v*60; else print v+0 }'; }

# start_parleyd NAME DATA_DIR DURABILITY: starts parleyd, waits for its ready line and sets
# PARLEY_PID, PARLEY_PUB, PARLEY_ADMIN, PARLEY_TOKEN and READY_SECONDS.
start_parleyd() {
  local name=$1 dir=$2 durability=$3 t0
  mkdir -p "$dir"
  t0=$(now)
  "$parleyd" --data-dir "$dir" --public-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --durability "$durability" \
    --log-level warn >"$out/$name.stdout" 2>>"$out/$name.log" &
  PARLEY_PID=$!
  children+=("$PARLEY_PID")
  for _ in $(seq 1 6000); do
    if grep -q '^parleyd ready' "$out/$name.stdout" 2>/dev/null; then break; fi
    if ! kill -0 "$PARLEY_PID" 2>/dev/null; then echo "parleyd ($name) exited; see $out/$name.log" >&2; exit 1; fi
    sleep 0.01
  done
  READY_SECONDS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
  local line
  line=$(grep '^parleyd ready' "$out/$name.stdout")
  PARLEY_PUB=$(sed 's/.*public=\([^ ]*\).*/\1/' <<<"$line")
  PARLEY_ADMIN=$(sed 's/.*admin=\([^ ]*\).*/\1/' <<<"$line")
  PARLEY_TOKEN=$(cat "$dir/admin.token")
}

stop_parleyd() {
  kill -TERM "$1"
  wait "$1" 2>/dev/null || true
}

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# Waits (at most 10 minutes) until the parleyd on admin address $1 has no flush or
# compaction running or pending; prints the seconds it waited.
# Settled: no flush or compaction running, none wanted (RocksDB's byte estimate, and the
# families with files it marked, which that estimate leaves out), for a whole second.
wait_settled() {  # wait_settled ADMIN: prints the seconds waited, then true, or false at the 10 min limit
  local t0 backlog settled=false quiet=0
  t0=$(now)
  for _ in $(seq 1 6000); do
    backlog=$(curl -sf "http://$1/metrics" |
      awk '$1 ~ /^parley_storage_(pending_compaction_bytes|compaction_pending_families|running_compactions|running_flushes)$/ { s += $2 } END { print s + 0 }')
    if [ "$backlog" = "0" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    if [ "$quiet" -ge 10 ]; then settled=true; break; fi
    sleep 0.1
  done
  awk -v a="$t0" -v b="$(now)" -v s="$settled" 'BEGIN { printf "%.1f %s", b - a, s }'
}

record_settle() {  # record_settle WHAT ADMIN: waits as wait_settled and records how long it took
  local waited
  read -r -a waited <<<"$(wait_settled "$2")"
  record "{\"what\":\"$1\",\"round\":1,\"seconds\":${waited[0]},\"settled\":${waited[1]}}"
}

ingest_parley() {  # ingest_parley PUB ADMIN TOKEN JSON [extra flags...]
  local pub=$1 admin=$2 token=$3 file=$4
  shift 4
  "$bench" ingest --target "http://$pub" --admin "http://$admin" --admin-token "$token" --duration "$duration" \
    --connections "$connections" --contacts "$contacts" --quiet --json "$file" "$@" >/dev/null || true
}

ingest_channel() {  # ingest_channel PUB PATH SECRET JSON [extra flags...]; connections: $load_connections
  local pub=$1 path=$2 secret=$3 file=$4
  shift 4
  "$bench" ingest --target "http://$pub" --channel-path "$path" --secret "$secret" \
    --connections "${load_connections:-$connections}" --quiet --json "$file" "$@" >/dev/null || true
}

record_ingest() {  # record_ingest WHAT ROUND JSON
  record "{\"what\":\"$1\",\"round\":$2,\"throughput\":$(json "$3" '["throughput"]'),\"errors\":$(json "$3" '["errors"]'),\"p50_us\":$(json "$3" '["latency_us"]["p50"]'),\"p99_us\":$(json "$3" '["latency_us"]["p99"]'),\"p999_us\":$(json "$3" '["latency_us"]["p999"]')}"
}

median_of() {  # median_of WHAT FIELD
  python3 - "$results" "$1" "$2" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = [r[sys.argv[3]] for r in rows if r["what"] == sys.argv[2]]
print(statistics.median(v) if v else 0)
EOF
}

create_channel() {  # create_channel ADMIN TOKEN TENANT SECRET -> sets CH_PATH, CH_KEY
  local admin=$1 token=$2 tenant=$3 secret=$4 t c
  t=$(curl -sf -X POST "http://$admin/v1/admin/tenants" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"id\":\"$tenant\"}")
  CH_KEY=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["api_key"])' "$t")
  c=$(curl -sf -X POST "http://$admin/v1/admin/tenants/$tenant/channels" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"type\":\"whatsapp\",\"phone_number_ids\":[\"100200300\"],\"app_secret\":\"$secret\",\"access_token\":\"bench\",\"verify_token\":\"bench\"}")
  CH_PATH=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["webhook_path"])' "$c")
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -r); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "every contender: $connections connections/clients; $rounds rounds of $duration each; raw figures in $results"

if [[ ",$parts," == *",w1,"* ]]; then
  # --- the references ------------------------------------------------------------------
  nginx_port=$((port_base + 80))
  redis_port=$((port_base + 79))
  nats_port=$((port_base + 22))
  mkdir -p "$out/nginx/body" "$out/redis" "$out/nats"
  cat >"$out/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $out/nginx/body;
  server {
    listen 127.0.0.1:$nginx_port;
    client_max_body_size 2m;
    location / { return 200 '{"status":"ok"}'; }
  }
}
EOF
  nginx -c "$out/nginx/nginx.conf"
  redis-server --port "$redis_port" --dir "$out/redis" --appendonly yes --appendfsync always --save '' \
    --logfile "$out/redis/log" &
  children+=("$!")
  nats-server -js -sd "$out/nats" -p "$nats_port" -l "$out/nats/log" &
  children+=("$!")
  for _ in $(seq 1 500); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break
    sleep 0.02
  done
  value=$(head -c 1024 /dev/zero | tr '\0' x)
  secs=$(seconds "$duration")

  "$bench" simulate --listen "127.0.0.1:$sim_port" --quiet >"$out/simulator.out" 2>"$out/simulator.log" &
  children+=("$!")
  start_parleyd w1 "$out/w1-data" sync
  w1_pid=$PARLEY_PID w1_pub=$PARLEY_PUB w1_admin=$PARLEY_ADMIN w1_token=$PARLEY_TOKEN

  for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds"
    ingest_parley "$w1_pub" "$w1_admin" "$w1_token" "$out/w1-$r.json"
    record_ingest w1 "$r" "$out/w1-$r.json"
    ingest_channel "127.0.0.1:$nginx_port" /webhooks/whatsapp/x s "$out/nginx-$r.json" --duration "$duration" --contacts "$contacts"
    record_ingest nginx "$r" "$out/nginx-$r.json"
    # redis-benchmark has no duration flag: size the request count from the previous round.
    n=$(python3 -c "print(max(20000, int(float('$(median_of redis throughput)' or 0) * $secs)))")
    redis-benchmark -p "$redis_port" -c "$connections" -n "$n" -P 1 --csv XADD parleybench '*' body "$value" \
      >"$out/redis-$r.csv" 2>/dev/null
    rps=$(tail -1 "$out/redis-$r.csv" | awk -F'","' '{ print $2 }')
    p50=$(tail -1 "$out/redis-$r.csv" | awk -F'","' '{ print $5 * 1000 }')
    p99=$(tail -1 "$out/redis-$r.csv" | awk -F'","' '{ print $7 * 1000 }')
    record "{\"what\":\"redis\",\"round\":$r,\"throughput\":$rps,\"errors\":0,\"p50_us\":$p50,\"p99_us\":$p99,\"p999_us\":0}"
    build/bench/parley-jetstream-pub --port "$nats_port" --connections "$connections" --duration "$secs" \
      --json "$out/js-$r.json" >/dev/null || true
    record "{\"what\":\"jetstream\",\"round\":$r,\"throughput\":$(json "$out/js-$r.json" '["throughput"]'),\"errors\":$(json "$out/js-$r.json" '["errors"]'),\"p50_us\":$(json "$out/js-$r.json" '["latency_us"]["p50"]'),\"p99_us\":$(json "$out/js-$r.json" '["latency_us"]["p99"]'),\"p999_us\":0}"
    ingest_parley "$w1_pub" "$w1_admin" "$w1_token" "$out/w1d-$r.json" --duplicates 0.2
    record_ingest w1d "$r" "$out/w1d-$r.json"
    "$bench" send --target "http://$w1_pub" --admin "http://$w1_admin" --admin-token "$w1_token" \
      --simulator "http://127.0.0.1:$sim_port" --connections "$connections" --duration "$duration" --quiet \
      --json "$out/w2-$r.json" >/dev/null || true
    record "{\"what\":\"w2\",\"round\":$r,\"throughput\":$(json "$out/w2-$r.json" '["accepted_per_s"]'),\"delivered\":$(json "$out/w2-$r.json" '["delivered_per_s"]'),\"errors\":$(json "$out/w2-$r.json" '["errors"]'),\"p50_us\":$(json "$out/w2-$r.json" '["latency_us"]["p50"]'),\"p99_us\":$(json "$out/w2-$r.json" '["latency_us"]["p99"]'),\"p999_us\":0}"
  done
  half=$(python3 -c "print(int(float('$(median_of w1 throughput)') / 2))")
  echo "latency at 50% load: $half webhooks/s"
  for r in $(seq 1 "$rounds"); do
    ingest_parley "$w1_pub" "$w1_admin" "$w1_token" "$out/w1-half-$r.json" --rate "$half"
    record_ingest w1_half "$r" "$out/w1-half-$r.json"
  done
  # W3: 0.3 x W1 in webhooks the engine receives: per send three statuses, plus inbound.
  w3_sends=$(python3 -c "print(max(1, int(float('$(median_of w1 throughput)') * 0.3 / 6)))")
  w3_inbound=$((w3_sends * 3))
  echo "W3: $w3_sends sends/s (+$((w3_sends * 3)) status webhooks/s) and $w3_inbound inbound/s for $w3_duration"
  "$bench" mixed --target "http://$w1_pub" --admin "http://$w1_admin" --admin-token "$w1_token" \
    --simulator "http://127.0.0.1:$sim_port" --connections 16 --rate "$w3_sends" --duration "$w3_duration" \
    --inbound-rate "$w3_inbound" --inbound-connections 16 --quiet --json "$out/w3.json" >"$out/w3.txt" || true
  record "{\"what\":\"w3\",\"round\":1,\"throughput\":$(json "$out/w3.json" '["accepted_per_s"]'),\"errors\":$(json "$out/w3.json" '["errors"]'),\"webhooks_per_s\":$((w3_sends * 3 + w3_inbound)),\"p50_us\":$(json "$out/w3.json" '["latency_us"]["p50"]'),\"p99_us\":$(json "$out/w3.json" '["latency_us"]["p99"]'),\"p999_us\":0}"
  stop_parleyd "$w1_pid"
fi

if [[ ",$parts," == *",s,"* ]]; then
  # --- the store-size scenarios ----------------------------------------------------------
  secret="compare-secret"
  echo "S: pre-loading $s_messages messages over $s_conversations conversations (durability async)"
  start_parleyd s-load "$out/s-data" async
  create_channel "$PARLEY_ADMIN" "$PARLEY_TOKEN" s-bench "$secret"
  echo "$CH_KEY" >"$out/s-api-key"
  t0=$(now)
  load_connections=64 ingest_channel "$PARLEY_PUB" "$CH_PATH" "$secret" "$out/s-preload.json" --count "$s_messages" \
    --contacts "$s_conversations"
  record "{\"what\":\"s_preload\",\"round\":1,\"throughput\":$(json "$out/s-preload.json" '["throughput"]'),\"errors\":$(json "$out/s-preload.json" '["errors"]'),\"seconds\":$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')}"
  stop_parleyd "$PARLEY_PID"
  record "{\"what\":\"s_store_bytes\",\"round\":1,\"bytes\":$(du -sb "$out/s-data" | cut -f1)}"

  for r in $(seq 1 "$rounds"); do
    start_parleyd "s4-$r" "$out/s-data" sync
    record "{\"what\":\"s4_ready_s\",\"round\":$r,\"seconds\":$READY_SECONDS,\"rss_kib\":$(rss_kib "$PARLEY_PID")}"
    if [ "$r" -lt "$rounds" ]; then stop_parleyd "$PARLEY_PID"; fi
  done
  s_pid=$PARLEY_PID s_pub=$PARLEY_PUB s_admin=$PARLEY_ADMIN s_token=$PARLEY_TOKEN
  start_parleyd s1-empty "$out/s1-empty-data" sync
  e_pid=$PARLEY_PID e_pub=$PARLEY_PUB e_admin=$PARLEY_ADMIN e_token=$PARLEY_TOKEN
  # S1 twice, as S2 below: right after the pre-load, while RocksDB still compacts the
  # backlog a bulk import at full speed leaves ("s1_loaded"), and again once it has none
  # ("s1_loaded_settled"): a store that holds that history in service. Each against its
  # own interleaved empty-store rounds.
  s1_rounds() {  # s1_rounds SUFFIX
    for r in $(seq 1 "$rounds"); do
      ingest_parley "$e_pub" "$e_admin" "$e_token" "$out/s1-empty$1-$r.json"
      record_ingest "s1_empty$1" "$r" "$out/s1-empty$1-$r.json"
      ingest_parley "$s_pub" "$s_admin" "$s_token" "$out/s1-loaded$1-$r.json"
      record_ingest "s1_loaded$1" "$r" "$out/s1-loaded$1-$r.json"
    done
  }
  s1_rounds ""
  record_settle s1_settle_seconds "$s_admin"
  wait_settled "$e_admin" >/dev/null
  s1_rounds _settled
  stop_parleyd "$e_pid"

  # S3: bring --s-active of the stored conversations back to life (one message each).
  record "{\"what\":\"s3_rss_before_kib\",\"round\":1,\"rss_kib\":$(rss_kib "$s_pid")}"
  ingest_channel "$s_pub" "$CH_PATH" "$secret" "$out/s3-active.json" --count "$s_active" --contacts "$s_active"
  record "{\"what\":\"s3_rss_active_kib\",\"round\":1,\"rss_kib\":$(rss_kib "$s_pid"),\"errors\":$(json "$out/s3-active.json" '["errors"]')}"

  # S2: history reads of random stored conversations.
  python3 - "$s_pub" "$CH_KEY" "$out/s2-ids.lua" <<'EOF'
import json, sys, urllib.request
pub, key, path = sys.argv[1:4]
ids, cursor = [], None
while len(ids) < 20000:
    url = f"http://{pub}/v1/conversations?limit=500" + (f"&cursor={cursor}" if cursor else "")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    page = json.load(urllib.request.urlopen(req))
    ids += [c["id"] for c in page["conversations"]]
    cursor = page.get("next_cursor")
    if not cursor:
        break
with open(path, "w") as f:
    f.write("ids = {" + ",".join(f'"{i}"' for i in ids) + "}\n")
    f.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
    f.write('math.randomseed(7)\n')
    f.write('request = function() return wrk.format("GET", "/v1/conversations/" .. ids[math.random(#ids)] .. "/messages?limit=50") end\n')
EOF
  # 16 connections closed loop (saturation: its p99 is mostly queueing), then one
  # connection (each read's own latency, nothing queued behind another). First right
  # after S1 and S3's writes, while RocksDB still compacts what they wrote ("s2",
  # "s2_one"); then again once it has no flush or compaction left ("s2_settled",
  # "s2_one_settled"): a store in service between bursts.
  s2_rounds() {  # s2_rounds SUFFIX
    for r in $(seq 1 "$rounds"); do
      for c in 16 1; do
        what=s2; [ "$c" = 1 ] && what=s2_one
        what=$what$1
        wrk -t 1 -c "$c" -d "$duration" --latency -s "$out/s2-ids.lua" "http://$s_pub" >"$out/$what-$r.txt"
        python3 - "$out/$what-$r.txt" "$r" "$what" >>"$results" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
lat = {p: ms(*re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M).groups()) for p in ("50", "99")}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(json.dumps({"what": sys.argv[3], "round": int(sys.argv[2]), "throughput": rps, "p50_ms": lat["50"], "p99_ms": lat["99"],
                  "errors": int(errors.group(1)) if errors else 0}))
EOF
      done
    done
  }
  s2_rounds ""
  record_settle s2_settle_seconds "$s_admin"
  s2_rounds _settled
  stop_parleyd "$s_pid"
fi

if [[ ",$parts," == *",p,"* ]]; then
  # --- erasure under load: ingest latency of a live tenant while another is purged -------
  secret="compare-secret"
  start_parleyd p "$out/p-data" sync
  p_pid=$PARLEY_PID
  create_channel "$PARLEY_ADMIN" "$PARLEY_TOKEN" p-live "$secret"
  live_path=$CH_PATH
  purged_total() {
    curl -sf "http://$PARLEY_ADMIN/metrics" | awk '$1 == "parley_retention_tenants_purged_total" { print $2 }'
  }
  live_load() {  # live_load JSON: the live tenant's run, fixed-rate or closed-loop (--p-rate max)
    if [ "$p_rate" = max ]; then
      load_connections=64 ingest_channel "$PARLEY_PUB" "$live_path" "$secret" "$1" --duration "$p_duration" --contacts 5000
    else
      ingest_channel "$PARLEY_PUB" "$live_path" "$secret" "$1" --rate "$p_rate" --duration "$p_duration" \
        --contacts 5000
    fi
  }
  for r in $(seq 1 "$rounds"); do
    create_channel "$PARLEY_ADMIN" "$PARLEY_TOKEN" "p-big-$r" "$secret"
    echo "P round $r: pre-loading $p_messages messages into p-big-$r"
    load_connections=64 ingest_channel "$PARLEY_PUB" "$CH_PATH" "$secret" "$out/p-preload-$r.json" --count "$p_messages" \
      --contacts 20000
    # The big tenant's data as it is in service: written earlier, flushed and compacted.
    # A restart flushes the memtables; then wait until RocksDB has no compaction left.
    stop_parleyd "$p_pid"
    start_parleyd p "$out/p-data" sync
    p_pid=$PARLEY_PID
    wait_settled "$PARLEY_ADMIN" >/dev/null
    live_load "$out/p-quiet-$r.json"
    record_ingest p_quiet "$r" "$out/p-quiet-$r.json"
    before=$(purged_total)
    live_load "$out/p-purge-$r.json" &
    load_pid=$!
    sleep 2
    t0=$(now)
    curl -sf -X DELETE "http://$PARLEY_ADMIN/v1/admin/tenants/p-big-$r" -H "Authorization: Bearer $PARLEY_TOKEN" >/dev/null
    # Nothing polls parleyd while the live tenant is measured (the quiet run has no poller
    # either; a scrape every 50 ms plus its curl and awk took a fifth of the two cores).
    # The purge's end is read afterwards from the time parleyd recorded for it.
    wait "$load_pid" || true
    for _ in $(seq 1 60000); do
      [ "$(purged_total)" != "$before" ] && break
      sleep 0.2
    done
    done_at=$(curl -sf "http://$PARLEY_ADMIN/metrics" |
      awk '$1 == "parley_retention_last_purge_timestamp_seconds" { printf "%.3f", $2 }')
    purge_s=$(awk -v a="$t0" -v b="$done_at" 'BEGIN { printf "%.2f", b - a }')
    record_ingest p_purge "$r" "$out/p-purge-$r.json"
    record "{\"what\":\"p_purge_seconds\",\"round\":$r,\"seconds\":$purge_s,\"messages\":$p_messages}"
  done
  stop_parleyd "$p_pid"
fi

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def vals(what, field): return [r[field] for r in rows if r["what"] == what and field in r]
def mmm(what, field):
    v = vals(what, field)
    return (min(v), statistics.median(v), max(v)) if v else None
def line(label, what, field, fmt="{:,.0f}"):
    m = mmm(what, field)
    if m: print(f"  {label:<44} " + " / ".join(fmt.format(x) for x in m))
def ratio(label, a, b, target, field="throughput"):
    ma, mb = mmm(a, field), mmm(b, field)
    if ma and mb and mb[1] > 0:
        r = ma[1] / mb[1]
        print(f"  {label:<44} {r:.2f}x   (target {target})")
print("\nthroughput, min / median / max per second")
for label, what in [("W1 parleyd --durability sync", "w1"), ("nginx return 200 (HTTP ceiling)", "nginx"),
                    ("Redis XADD 1 KiB, appendfsync always", "redis"), ("JetStream publish-with-ack 1 KiB", "jetstream"),
                    ("W1d (20% redeliveries)", "w1d"), ("W2 accepted sends", "w2"), ("S1 W1 on the empty store", "s1_empty"),
                    ("S1 W1 on the pre-loaded store", "s1_loaded"), ("S1 settled, empty store", "s1_empty_settled"),
                    ("S1 settled, pre-loaded store", "s1_loaded_settled"), ("S2 history reads, 16 connections", "s2"),
                    ("S2 history reads, 1 connection", "s2_one"),
                    ("S2 settled, 16 connections", "s2_settled"), ("S2 settled, 1 connection", "s2_one_settled")]:
    line(label, what, "throughput")
print("\nratios of medians")
ratio("W1 / nginx", "w1", "nginx", ">= 0.5")
ratio("W1 / Redis XADD", "w1", "redis", ">= 1.0")
ratio("W1 / JetStream", "w1", "jetstream", ">= 2.0")
ratio("W1d / W1", "w1d", "w1", ">= 0.9")
ratio("S1 loaded / empty", "s1_loaded", "s1_empty", ">= 0.9")
ratio("S1 settled: loaded / empty", "s1_loaded_settled", "s1_empty_settled", ">= 0.9")
def settle_line(label, what):
    v = [r for r in rows if r["what"] == what]
    if v: print(f"  {label:<44} {v[0]['seconds']:.1f} s" + ("" if v[0].get("settled", True) else "  (NOT settled: stopped at the 10 min limit)"))
settle_line("S1 wait for compactions to finish", "s1_settle_seconds")
ratio("W2 accepted sends / W1", "w2", "w1", ">= 0.5")
m = mmm("w2", "delivered")
if m: print(f"  {'W2 delivered/s (keeps up with accepted/s)':<44} " + " / ".join(f"{x:,.0f}" for x in m))
v = [r for r in rows if r["what"] == "w3"]
if v: print(f"  {'W3 mixed: sends/s, webhooks/s, errors':<44} {v[0]['throughput']:,.0f}, {v[0]['webhooks_per_s']:,}, {v[0]['errors']}  (target: zero errors at >= 0.3 x W1)")
print("\nlatency")
for field, label in [("p50_us", "p50"), ("p99_us", "p99 (target <= 5 ms)"), ("p999_us", "p99.9 (target <= 20 ms)")]:
    m = mmm("w1_half", field)
    if m: print(f"  W1 at 50% load {label:<28} " + " / ".join(f"{x/1000:.2f}" for x in m) + " ms")
m = mmm("s2", "p99_ms")
if m: print(f"  S2 p99, 16 connections (target <= 2 ms)      " + " / ".join(f"{x:.2f}" for x in m) + " ms")
m = mmm("s2_one", "p99_ms")
if m: print(f"  S2 p99, 1 connection (target <= 2 ms)       " + " / ".join(f"{x:.2f}" for x in m) + " ms")
m = mmm("s2_settled", "p99_ms")
if m: print(f"  S2 settled p99, 16 connections               " + " / ".join(f"{x:.2f}" for x in m) + " ms")
m = mmm("s2_one_settled", "p99_ms")
if m: print(f"  S2 settled p99, 1 connection (target <= 2 ms) " + " / ".join(f"{x:.2f}" for x in m) + " ms")
settle_line("S2 wait for compactions to finish", "s2_settle_seconds")
errs = sum(r.get("errors", 0) for r in rows)
print("\nstore")
m = mmm("s4_ready_s", "seconds")
if m: print("  S4 start to ready (target <= 5 s)            " + " / ".join(f"{x:.2f}" for x in m) + " s")
m = mmm("s4_ready_s", "rss_kib")
if m: print("  RSS at the ready line                        " + " / ".join(f"{x/1024:.0f}" for x in m) + " MiB")
for what, label in [("s3_rss_before_kib", "S3 RSS after the S1 rounds"), ("s3_rss_active_kib", "S3 RSS with the active set")]:
    v = vals(what, "rss_kib")
    if v: print(f"  {label:<44} {v[0]/1024:.0f} MiB (target <= 1024)")
v = vals("s_preload", "throughput")
if v: print(f"  pre-load rate (async)                        {v[0]:,.0f}/s")
v = vals("s_store_bytes", "bytes")
if v: print(f"  store size on disk                           {v[0]/2**30:.2f} GiB")
if vals("p_purge_seconds", "seconds"):
    print("\nS5 erasure under load (live tenant ingest at a fixed rate; quiet   vs   while another tenant is purged)")
    for field, label in [("throughput", "throughput /s"), ("p50_us", "p50 ms"), ("p99_us", "p99 ms"), ("p999_us", "p99.9 ms")]:
        q, p = mmm("p_quiet", field), mmm("p_purge", field)
        scale = 1 if field == "throughput" else 1000
        if q and p: print(f"  {label:<20} " + " / ".join(f"{x/scale:,.2f}" for x in q) + "   vs   " + " / ".join(f"{x/scale:,.2f}" for x in p))
    print("  purge took          " + " / ".join(f"{x:.1f}" for x in vals("p_purge_seconds", "seconds")) + " s")
    ratio("S5 p99 during purge / quiet", "p_purge", "p_quiet", "<= 2.0", "p99_us")
    ratio("S5 throughput during purge / quiet", "p_purge", "p_quiet", "ingest keeps its throughput")
print(f"\nerrors across all runs: {errs}")
EOF
