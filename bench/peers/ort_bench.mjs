#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU) peer for the NativeTransformer comparison benchmark.
//
//   node ort_bench.mjs bench --model M.onnx --batch B --seq S --threads T [--warmup W] [--iters N]
//                            [--max-seconds X --min-iters K] [--seed 0] [--precision fp32|int8] [--json]
//   node ort_bench.mjs check --model M.onnx --check FP32.onnx.check.json [--threads T]
//       Runs the check input exported by torch_bert.py and compares with PyTorch's fp32 output on mask-1 positions:
//       max |diff| and cosine. Prints one JSON object.
//
// Session: intraOpNumThreads = T, interOpNumThreads = 1, graphOptimizationLevel 'all', sequential execution.
// Inputs: random ids (fixed seed, same generator rule as torch_bert.py: [CLS] ... [SEP]), full attention mask,
// token_type_ids 0. Latency per iteration is wall time around session.run().
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const ortVersion = require('onnxruntime-node/package.json').version;

function parseArgs(argv) {
  const cmd = argv[0];
  const opts = {};
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const key = a.slice(2);
    if (key === 'json') { opts.json = true; continue; }
    if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
    opts[key] = argv[++i];
  }
  return { cmd, opts };
}

// Small deterministic PRNG (mulberry32): the ids differ from numpy's, which is irrelevant for timing.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function feeds(batch, seq, seed, vocab = 30522) {
  const r = rng(seed);
  const n = batch * seq;
  const ids = new BigInt64Array(n);
  for (let b = 0; b < batch; b++)
    for (let s = 0; s < seq; s++)
      ids[b * seq + s] = BigInt(s === 0 ? 101 : s === seq - 1 ? 102 : 1000 + Math.floor(r() * (vocab - 1000)));
  const mask = new BigInt64Array(n).fill(1n);
  const types = new BigInt64Array(n).fill(0n);
  const dims = [batch, seq];
  return {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', mask, dims),
    token_type_ids: new ort.Tensor('int64', types, dims),
  };
}

async function session(model, threads) {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  });
}

function percentile(sorted, p) {
  // linear interpolation, as numpy.percentile's default
  if (sorted.length === 1) return sorted[0];
  const x = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(x), hi = Math.ceil(x);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

function peakRssMb() {
  try {
    const m = fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/);
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

async function bench(o) {
  const batch = Number(o.batch ?? 1), seq = Number(o.seq ?? 128), threads = Number(o.threads ?? 1);
  const warmup = Number(o.warmup ?? 3), iters = Number(o.iters ?? 20);
  const maxSeconds = Number(o['max-seconds'] ?? 0), minIters = Number(o['min-iters'] ?? 5);
  const sess = await session(o.model, threads);
  const f = feeds(batch, seq, Number(o.seed ?? 0));
  let out;
  for (let i = 0; i < warmup; i++) out = await sess.run(f);
  const times = [];
  const tEnd = maxSeconds > 0 ? performance.now() + maxSeconds * 1000 : Infinity;
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    out = await sess.run(f);
    times.push(performance.now() - t0);
    if (performance.now() > tEnd && i + 1 >= minIters) break;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const res = {
    engine: 'onnxruntime',
    precision: o.precision ?? (path.basename(o.model).includes('int8') ? 'int8' : 'fp32'),
    p50_ms: percentile(sorted, 50),
    p90_ms: percentile(sorted, 90),
    mean_ms: mean,
    seq_per_s: (batch * 1000) / mean,
    iters: times.length,
    warmup,
    peak_rss_mb: peakRssMb(),
    threads,
    batch,
    seq,
    int8: (o.precision ?? '') === 'int8' || path.basename(o.model).includes('int8'),
    onnxruntime_node: ortVersion,
    out_dims: out.last_hidden_state.dims,
  };
  if (o.json) console.log(JSON.stringify(res));
  else console.log(`onnxruntime ${res.precision} B=${batch} S=${seq} T=${threads}: p50 ${res.p50_ms.toFixed(2)} ms, p90 ${res.p90_ms.toFixed(2)} ms, ${res.seq_per_s.toFixed(1)} seq/s (${times.length} iters)`);
}

async function check(o) {
  const spec = JSON.parse(fs.readFileSync(o.check, 'utf8'));
  const dims = [spec.batch, spec.seq];
  const t = (k) => new ort.Tensor('int64', BigInt64Array.from(spec[k], (v) => BigInt(v)), dims);
  const sess = await session(o.model, Number(o.threads ?? 1));
  const out = await sess.run({ input_ids: t('input_ids'), attention_mask: t('attention_mask'), token_type_ids: t('token_type_ids') });
  const got = out.last_hidden_state.data;
  const buf = fs.readFileSync(path.join(path.dirname(o.check), spec.last_hidden_state));
  const ref = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (ref.length !== got.length) throw new Error(`output has ${got.length} values, reference ${ref.length}`);
  const h = spec.hidden;
  let maxDiff = 0, dot = 0, na = 0, nb = 0, n = 0;
  for (let p = 0; p < spec.batch * spec.seq; p++) {
    if (spec.attention_mask[p] !== 1) continue;
    for (let j = 0; j < h; j++) {
      const a = got[p * h + j], b = ref[p * h + j];
      maxDiff = Math.max(maxDiff, Math.abs(a - b));
      dot += a * b; na += a * a; nb += b * b; n++;
    }
  }
  console.log(JSON.stringify({ engine: 'onnxruntime', model: path.basename(o.model), max_abs_diff_vs_torch_fp32: maxDiff,
    cosine_vs_torch_fp32: dot / Math.sqrt(na * nb), values: n, onnxruntime_node: ortVersion }));
}

const { cmd, opts } = parseArgs(process.argv.slice(2));
try {
  if (!opts.model) throw new Error('--model is required');
  if (cmd === 'bench') await bench(opts);
  else if (cmd === 'check') await check(opts);
  else throw new Error(`unknown command '${cmd}' (bench | check)`);
} catch (e) {
  console.error(`ort_bench: error: ${e.message}`);
  process.exit(1);
}
