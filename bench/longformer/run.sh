#!/usr/bin/env bash
# Longformer vs full attention: encoder time per token from 512 to 4,096 tokens, same dimensions and random weights.
#   bench/longformer/run.sh [THREADS] [ITERATIONS]
# Builds two folders with weights-tools make-random --shape longformer-small-4096 (4 layers × 256, 4 heads, window 256,
# 4,098 positions): a LongformerForSequenceClassification ([CLS] global, the classification default) and the bare model
# relabelled model_type roberta (the same block with plain full attention; its global projections unused). Each point is one
# `ntr bench` process (batch 1, random ids, fixed seed), so peak RSS is per sequence length. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
ITERATIONS=${2:-5}
OUT=${TMPDIR:-/tmp}/nt-longformer-bench
SHARED=${NT_SHARED:-../shared}
dotnet build src/NativeTransformer.Cli -c Release -v q -nologo >/dev/null
dotnet build weights-tools -c Release -v q -nologo >/dev/null
NTR="dotnet src/NativeTransformer.Cli/bin/Release/net10.0/ntr.dll"
WT="dotnet weights-tools/bin/Release/net10.0/weights-tools.dll"
rm -rf "$OUT"; mkdir -p "$OUT"
$WT make-random --shape longformer-small-4096 --labels 2 --output "$OUT/longformer" --vocab-from "$SHARED/models/bert-mini-sst2" >/dev/null
$WT make-random --shape longformer-small-4096 --output "$OUT/full" --vocab-from "$SHARED/models/bert-mini-sst2" >/dev/null
sed -i 's/"model_type": "longformer"/"model_type": "roberta"/' "$OUT/full/config.json"

field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(d['$1'])"; }
first=$($NTR bench --model "$OUT/longformer" --seq 512 --threads "$THREADS" --iterations 1 --warmup 0 --no-pack-cache --json)
echo "cpu: $(echo "$first" | field cpu) ($(echo "$first" | field cores) logical cores); kernels: $(echo "$first" | field isa); threads $THREADS; batch 1; $ITERATIONS timed passes after 1 warm-up"
echo
echo "| seq | Longformer p50 / p90 ms | µs/token | peak RSS MB | full attention p50 / p90 ms | µs/token | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for seq in 512 1024 2048 4096; do
  row="| $seq |"
  for model in longformer full; do
    j=$($NTR bench --model "$OUT/$model" --seq "$seq" --threads "$THREADS" --iterations "$ITERATIONS" --warmup 1 --no-pack-cache --json)
    p50=$(echo "$j" | field p50_ms); p90=$(echo "$j" | field p90_ms); rss=$(echo "$j" | field peak_rss_mb)
    per=$(python3 -c "print(f'{$p50 * 1000 / $seq:.1f}')")
    row="$row $p50 / $p90 | $per | $rss |"
  done
  echo "$row"
done
rm -rf "$OUT"
