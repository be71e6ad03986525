#!/usr/bin/env bash
# Load test of `ntr serve` on 127.0.0.1: requests/s and p50/p99 latency at concurrency 1, 8 and 64 (wrk), zero errors
# required, then a soak at concurrency 8 sampling the server's RSS. Bounded: DURATION seconds per level, SOAK seconds.
# Results: a Markdown table on stdout and in $RESULTS (default bench/load/RESULTS.md).
#
#   bash bench/load/run.sh                         # defaults: model bert-mini-sst2, 20 s per level, 300 s soak
#   DURATION=5 SOAK=30 bash bench/load/run.sh      # quick
# The soak also samples the GC's committed memory (/metrics), and reads the live managed heap after forced full GCs
# (POST /debug/gc, enabled here with NTR_DEBUG_GC_ENDPOINT=1) before and after it: flat live bytes over the soak's
# requests mean nothing leaks.
# Knobs: MODEL_DIR, NTR (server command; default artifacts/ntr if built, else `dotnet run` of the Cli), PORT, LEVELS="1 8 64",
#        DURATION, SOAK, CACHE (serve --cache, default 0 so every request computes), SERVE_ARGS (extra serve options), RESULTS
#        (use RESULTS=/dev/null to keep RESULTS.md as it is). DOTNET_gcConcurrent / DOTNET_GCConserveMemory override the GC
#        settings baked into ntr (to compare them).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash bench/load/setup.sh
MODEL_DIR=${MODEL_DIR:-../shared/models/bert-mini-sst2}
PORT=${PORT:-18080}
LEVELS=${LEVELS:-"1 8 64"}
DURATION=${DURATION:-20}
SOAK=${SOAK:-300}
CACHE=${CACHE:-0}
RESULTS=${RESULTS:-bench/load/RESULTS.md}
if [ -z "${NTR:-}" ]; then
  if [ -x artifacts/ntr ]; then NTR=artifacts/ntr
  else dotnet build src/NativeTransformer.Cli -f net10.0 -c Release -v q -nologo >/dev/null; NTR="dotnet src/NativeTransformer.Cli/bin/Release/net10.0/ntr.dll"; fi
fi
LOG=$(mktemp)
# shellcheck disable=SC2086
NTR_DEBUG_GC_ENDPOINT=1 $NTR serve --model m="$MODEL_DIR" --host 127.0.0.1 --port "$PORT" --cache "$CACHE" --max-queue 1024 ${SERVE_ARGS:-} >"$LOG" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { echo "server did not start:"; cat "$LOG"; exit 1; }
curl -sf -X POST "http://127.0.0.1:$PORT/v1/models/m/load" >/dev/null || true
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
committed() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk '/^dotnet_gc_committed_bytes / {printf "%.1f", $2/1048576}'; }
live() { # "live_MB requests_served threads" after forced full GCs
  curl -sf -X POST "http://127.0.0.1:$PORT/debug/gc" | python3 -c 'import json, sys; r = json.load(sys.stdin); print("%.2f %d" % (r["live_bytes"] / 1048576, r["requests_served"]))' | tr '\n' ' '
  awk '/^Threads:/ {print $2}' "/proc/$PID/status"
}
gcmode() {
  curl -sf -X POST "http://127.0.0.1:$PORT/debug/gc" | python3 -c 'import json, sys; c = json.load(sys.stdin)["gc_config"]; print(", ".join(k + "=" + c.get(k, "?") for k in ("ConcurrentGC", "GCConserveMem")))'
}

parse() { # wrk --latency output on stdin -> "rps p50_ms p99_ms errors"
  python3 -c '
import re, sys
t = sys.stdin.read()
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups(); return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)); p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
err = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t))
err += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
print(f"{rps:.1f} {p50:.2f} {p99:.2f} {err}")'
}

{
  echo "## ntr serve load test ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
  echo
  echo "Server: \`NTR_DEBUG_GC_ENDPOINT=1 $NTR serve --model m=$MODEL_DIR --cache $CACHE ${SERVE_ARGS:-}\`; client: wrk, POST /v1/embeddings, one short text per request, ${DURATION} s per level; load average at start: $(cut -d' ' -f1-3 /proc/loadavg); GC: $(gcmode)."
  echo
  echo "| concurrency | requests/s | p50 ms | p99 ms | errors | server RSS MB after |"
  echo "|---:|---:|---:|---:|---:|---:|"
} | tee "$RESULTS"
FAILED=0
for c in $LEVELS; do
  t=$(( c < 2 ? 1 : 2 ))
  read -r rps p50 p99 err < <(MODEL=m wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s bench/load/embed.lua "http://127.0.0.1:$PORT" | parse)
  echo "| $c | $rps | $p50 | $p99 | $err | $(rss) |" | tee -a "$RESULTS"
  [ "$err" = "0" ] || FAILED=1
done

if [ "$SOAK" -gt 0 ]; then
  SAMPLES=$(mktemp)
  read -r live0 served0 threads0 < <(live)
  MODEL=m wrk -t2 -c8 -d"${SOAK}s" --timeout 10s --latency -s bench/load/embed.lua "http://127.0.0.1:$PORT" > "$SAMPLES.wrk" &
  WRK=$!
  while kill -0 $WRK 2>/dev/null; do echo "$(rss) $(committed)" >> "$SAMPLES"; sleep 5; done
  read -r live1 served1 threads1 < <(live)
  read -r rps p50 p99 err < <(parse < "$SAMPLES.wrk")
  python3 - "$SAMPLES" "$SOAK" "$rps" "$p50" "$p99" "$err" "$live0" "$served0" "$live1" "$served1" "$threads0" "$threads1" <<'PY' | tee -a "$RESULTS"
import sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 2]
def quarters(xs):
    n = len(xs); q = max(1, n // 4); first, last = sum(xs[:q]) / q, sum(xs[-q:]) / q
    return f"min {min(xs):.1f} / max {max(xs):.1f} MB, first-quarter mean {first:.1f} → last-quarter mean {last:.1f} MB ({(last - first) / first * 100:+.1f} %)"
rss, com = [float(r[0]) for r in rows], [float(r[1]) for r in rows]
a = sys.argv
print(f"\nSoak: concurrency 8 for {a[2]} s: {a[3]} requests/s, p50 {a[4]} ms, p99 {a[5]} ms, errors {a[6]}; over {len(rows)} samples "
      f"server RSS {quarters(rss)}; GC committed {quarters(com)}. Live managed heap after forced full GCs: {a[7]} MB after "
      f"{a[8]} requests → {a[9]} MB after {a[10]} requests (server threads {a[11]} → {a[12]}).")
PY
  [ "$err" = "0" ] || FAILED=1
  rm -f "$SAMPLES" "$SAMPLES.wrk"
fi
exit $FAILED
