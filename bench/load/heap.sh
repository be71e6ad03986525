#!/usr/bin/env bash
# Leak check for `ntr serve`: load it with wrk (the requests of embed.lua: distinct texts, --cache 0) in ROUNDS rounds of
# ROUND seconds; after each round POST /debug/gc (enabled by NTR_DEBUG_GC_ENDPOINT=1) forces full compacting GCs and
# reports the live managed heap. Live bytes rising with the request count = a leak; flat = RSS growth is GC budget.
#
#   bash bench/load/heap.sh                   # 8 rounds of 30 s at concurrency 8
#   ROUNDS=4 ROUND=10 bash bench/load/heap.sh # quick
# Knobs: MODEL_DIR, NTR (default artifacts/ntr), PORT, ROUNDS, ROUND, CONC, SERVE_ARGS, and any DOTNET_GC* variable.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL_DIR=${MODEL_DIR:-../shared/models/bert-mini-sst2}
PORT=${PORT:-18081}
ROUNDS=${ROUNDS:-8}
ROUND=${ROUND:-30}
CONC=${CONC:-8}
NTR=${NTR:-artifacts/ntr}
LOG=$(mktemp)
# shellcheck disable=SC2086
NTR_DEBUG_GC_ENDPOINT=1 $NTR serve --model m="$MODEL_DIR" --host 127.0.0.1 --port "$PORT" --cache 0 --max-queue 1024 ${SERVE_ARGS:-} >"$LOG" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
curl -sf -X POST "http://127.0.0.1:$PORT/v1/models/m/load" >/dev/null || { echo "server did not start:"; cat "$LOG"; exit 1; }

rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
gc() { curl -sf -X POST "http://127.0.0.1:$PORT/debug/gc"; }
row() { # JSON from /debug/gc, round, requests/s, RSS before the forced GC -> table row
  python3 -c '
import json, sys
r = json.loads(sys.argv[1]); mb = lambda k: "%.2f" % (r[k] / 1048576)
print("| %s | %d | %s | %s | %s | %s | %s | %s | %d | %d |" % (sys.argv[2], r["requests_served"], sys.argv[3], mb("live_bytes"),
      mb("heap_size_bytes"), mb("committed_bytes"), sys.argv[4], mb("resident_bytes"), r["gen0_collections"], r["gen2_collections"]))' "$1" "$2" "$3" "$4"
}
gc | python3 -c 'import json, sys; c = json.load(sys.stdin)["gc_config"]; print("GC: " + ", ".join(k + "=" + c[k] for k in ("ServerGC", "ConcurrentGC", "GCConserveMem", "GCHeapHardLimit") if k in c))' 2>/dev/null || true
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg); ${DOTNET_GCgen0size:+DOTNET_GCgen0size=$DOTNET_GCgen0size }${DOTNET_GCConserveMemory:+DOTNET_GCConserveMemory=$DOTNET_GCConserveMemory }${DOTNET_gcConcurrent:+DOTNET_gcConcurrent=$DOTNET_gcConcurrent }${SERVE_ARGS:-}"
echo
echo "| round | requests served | requests/s | live MB after forced GC | heap MB | GC committed MB | RSS MB before GC | RSS MB after | gen-0 GCs | gen-2 GCs |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
before=$(rss); row "$(gc)" 0 - "$before"
for r in $(seq 1 "$ROUNDS"); do
  rps=$(MODEL=m wrk -t2 -c"$CONC" -d"${ROUND}s" --timeout 10s -s bench/load/embed.lua "http://127.0.0.1:$PORT" | awk '/Requests\/sec/ {print $2}')
  before=$(rss); row "$(gc)" "$r" "$rps" "$before"
done
