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
    loads = [float(x) for x in (meta["load_before"].split()[:1] + meta["load_after"].split()[:1])]
    if max(loads) > 1.0:
        w(f"> **Measured on a busy machine** (1-min load average up to {max(loads):.1f} on {m['cores']} cores: other "
          "processes were running). Absolute numbers are inflated and the 2-thread rows in particular are not "
          "meaningful (threads wait for CPU time; OpenMP spin-waiting makes PyTorch's 2-thread runs pathologically "
          "slow). Use this version to check the pipeline, not to quote numbers; re-run on an idle machine.\n")
    w(f"> Load average on the machine: {meta['load_before']} before, {meta['load_after']} after (1/5/15 min). "
      f"On {m['cores']} cores anything above ~0.1 means other processes were competing for the CPU and the numbers "
      "are noisy (latencies inflated, most for the 2-thread runs); compare engines only within one run.\n")
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
    w(f"- Models: `weights-tools make-random --shape S --seed {meta['seed']}` (bare BertModel, HF key names, F32, "
      "random normal(0, 0.02)); every engine reads these same weights (PyTorch directly, ONNX Runtime via "
      "torch.onnx.export of that PyTorch model, ours via `ntr bench --model`).")
    w(f"- Shapes: {meta['shapes']}; batch {meta['batches']}; sequence length {meta['seq']}; threads {meta['threads']}. "
      "Random token ids with a fixed seed, full attention mask (no padding), token type 0. Output: last hidden state.")
    w(f"- Timing per configuration: {meta['warmup']} warm-up run(s) (1 for batch ≥ 16 on bert-base), then up to "
      f"{meta['iters']} timed runs, stopping after {meta['max_seconds']} s once {meta['min_iters']} "
      f"({meta['min_iters_big']} for the big configurations) are done. p50/p90 over those per-call wall times; "
      "seq/s = batch / mean latency. Our engine's iteration counts are chosen by `ntr bench` itself.")
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


# Start of the `ntr serve` load-test section in bench/RESULTS.md (written from bench/load, kept by this script).
LOAD_TEST_MARKER = "<!-- ntr serve load test"


if __name__ == "__main__":
    main()
