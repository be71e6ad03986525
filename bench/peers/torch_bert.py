#!/usr/bin/python3
"""A small, self-contained PyTorch BERT (post-LN, exact erf GELU) for the NativeTransformer comparison benchmark.

Loads a Hugging Face BERT folder (config.json + model.safetensors) — BertModel keys (embeddings.*, encoder.layer.{i}.*,
pooler.dense.*) or BertForSequenceClassification keys (bert.-prefixed, plus classifier.*) — with numpy + json only
(Debian 12 has no python3-safetensors). No transformers dependency.

Commands (run with /usr/bin/python3, Debian's python3-torch):
  verify  --model DIR --reference FILE [--tol 1e-4]
      Runs the reference inputs (input_ids/attention_mask/token_type_ids in FILE) and compares every hidden_states.i,
      pooler_output and logits found in FILE, on attention-mask-1 positions. Exit 1 when max |diff| > tol.
  bench   --model DIR --batch B --seq S --threads T [--int8] [--warmup W] [--iters N] [--seed 0] [--json]
      fp32, or int8 via torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8).
      Random ids (fixed seed), full attention mask, torch.inference_mode(); warm-up then N timed iterations.
  export  --model DIR --output FILE.onnx [--opset 14] [--check-batch 2 --check-seq 16]
      torch.onnx.export with dynamic batch/seq axes (inputs input_ids, attention_mask, token_type_ids: int64;
      output last_hidden_state). Also writes FILE.onnx.check.bin/.json: a fixed input and this model's fp32 output,
      which ort_bench.mjs --check compares against ONNX Runtime.
  int8-cosine --model DIR [--batch 2 --seq 64]
      Cosine / max diff between the fp32 and quantize_dynamic int8 last hidden state.
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    """name -> numpy array (copied out of a read-only memory map); metadata dict."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", {}) or {}
    mm = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, info in header.items():
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{name}: dtype {info['dtype']} not supported by this reader")
        a, b = info["data_offsets"]
        arr = np.frombuffer(mm[a:b], dtype=np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")).reshape(info["shape"])
        out[name] = np.array(arr)  # own the memory
    del mm
    return out, meta


class Config:
    def __init__(self, d):
        self.hidden = d["hidden_size"]
        self.layers = d["num_hidden_layers"]
        self.heads = d["num_attention_heads"]
        self.intermediate = d["intermediate_size"]
        self.vocab = d["vocab_size"]
        self.max_positions = d.get("max_position_embeddings", 512)
        self.type_vocab = d.get("type_vocab_size", 2)
        self.eps = d.get("layer_norm_eps", 1e-12)
        act = d.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"hidden_act {act!r}: this peer implements exact (erf) gelu only")
        if d.get("model_type", "bert") != "bert":
            raise ValueError(f"model_type {d.get('model_type')!r}: this peer implements BERT only")


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab, c.hidden)
        self.position_embeddings = nn.Embedding(c.max_positions, c.hidden)
        self.token_type_embeddings = nn.Embedding(c.type_vocab, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) + self.token_type_embeddings(token_type_ids)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.head_dim = c.hidden // c.heads
        self.query = nn.Linear(c.hidden, c.hidden)
        self.key = nn.Linear(c.hidden, c.hidden)
        self.value = nn.Linear(c.hidden, c.hidden)

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)  # [B, heads, S, d]

    def forward(self, x, mask_add):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_add
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).contiguous()
        b, s = ctx.shape[0], ctx.shape[1]
        return ctx.view(b, s, self.heads * self.head_dim)


class DenseLayerNorm(nn.Module):
    """HF's BertSelfOutput / BertOutput: LayerNorm(dense(x) + residual)."""

    def __init__(self, c, inp):
        super().__init__()
        self.dense = nn.Linear(inp, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLayerNorm(c, c.hidden)

    def forward(self, x, mask_add):
        return self.output(self.self(x, mask_add), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden, c.intermediate)

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact erf GELU (HF "gelu")


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLayerNorm(c, c.intermediate)

    def forward(self, x, mask_add):
        a = self.attention(x, mask_add)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c.layers)])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden, c.hidden)

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class Bert(nn.Module):
    """BertModel; forward returns the last hidden state (or all hidden states with all_hidden=True)."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = None

    def forward(self, input_ids, attention_mask, token_type_ids, all_hidden: bool = False):
        x = self.embeddings(input_ids, token_type_ids)
        # [B, 1, 1, S] additive mask, as HF: (1 - mask) * finfo(float32).min
        mask_add = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        states = [x]
        for layer in self.encoder.layer:
            x = layer(x, mask_add)
            if all_hidden:
                states.append(x)
        return states if all_hidden else x


class BertWithHeads(nn.Module):
    """The checkpoint's BERT plus whatever heads it has (pooler, classifier)."""

    def __init__(self, c, has_pooler, num_labels):
        super().__init__()
        self.bert = Bert(c)
        self.pooler = Pooler(c) if has_pooler else None
        self.classifier = nn.Linear(c.hidden, num_labels) if num_labels else None

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids, attention_mask, token_type_ids)


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = Config(json.load(f))
    tensors, _ = read_safetensors(os.path.join(folder, "model.safetensors"))
    prefixed = any(k.startswith("bert.") for k in tensors)
    state = {}
    for k, v in tensors.items():
        if k.endswith("position_ids"):
            continue
        name = k[len("bert."):] if prefixed and k.startswith("bert.") else k
        if name.startswith("pooler."):
            state["pooler." + name[len("pooler."):]] = v
        elif name.startswith("classifier."):
            state[name] = v
        elif name.startswith(("embeddings.", "encoder.")):
            state["bert." + name] = v
        # other heads (cls.predictions.* etc.) are ignored
    has_pooler = "pooler.dense.weight" in state
    num_labels = state["classifier.weight"].shape[0] if "classifier.weight" in state else 0
    model = BertWithHeads(cfg, has_pooler, num_labels)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    model.eval()
    return model, cfg


def random_inputs(cfg, batch, seq, seed):
    rng = np.random.RandomState(seed)
    ids = rng.randint(1000, cfg.vocab, size=(batch, seq)).astype(np.int64)
    ids[:, 0] = 101  # [CLS]
    ids[:, -1] = 102  # [SEP]
    mask = np.ones((batch, seq), dtype=np.int64)
    types = np.zeros((batch, seq), dtype=np.int64)
    return ids, mask, types


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def loaded_blas():
    """Shared libraries with 'blas' in their name mapped into this process (which BLAS PyTorch really uses)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in os.path.basename(p) and p.startswith("/"):
                    libs.add(p)
    except OSError:
        pass
    return sorted(libs)


def quantized_engine():
    return torch.backends.quantized.engine


def cmd_verify(a):
    model, _ = load_model(a.model)
    ref, _ = read_safetensors(a.reference)
    ids = torch.from_numpy(ref["input_ids"])
    mask = torch.from_numpy(ref["attention_mask"])
    types = torch.from_numpy(ref["token_type_ids"]) if "token_type_ids" in ref else torch.zeros_like(ids)
    m = ref["attention_mask"].astype(bool)
    worst = 0.0
    report = {}
    with torch.inference_mode():
        states = model.bert(ids, mask, types, all_hidden=True)
        for i, s in enumerate(states):
            key = f"hidden_states.{i}"
            if key in ref:
                d = float(np.abs(s.numpy()[m] - ref[key][m]).max())
                report[key] = d
                worst = max(worst, d)
        if model.pooler is not None and "pooler_output" in ref:
            pooled = model.pooler(states[-1])
            report["pooler_output"] = d = float(np.abs(pooled.numpy() - ref["pooler_output"]).max())
            worst = max(worst, d)
            if model.classifier is not None and "logits" in ref:
                logits = model.classifier(pooled)
                report["logits"] = d = float(np.abs(logits.numpy() - ref["logits"]).max())
                worst = max(worst, d)
    for k, v in report.items():
        print(f"verify: {k:18s} max |diff| = {v:.3e}")
    ok = worst <= a.tol and len(report) > 0
    print(f"verify: {'OK' if ok else 'FAIL'}: max |diff| {worst:.3e} (tol {a.tol:g}) over {len(report)} outputs, mask-1 positions")
    return 0 if ok else 1


def prepare(model, int8):
    if int8:
        return torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    return model


def cmd_bench(a):
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    model, cfg = load_model(a.model)
    model = prepare(model, a.int8)
    ids, mask, types = (torch.from_numpy(x) for x in random_inputs(cfg, a.batch, a.seq, a.seed))
    times = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            model(ids, mask, types)
        t_end = time.perf_counter() + a.max_seconds if a.max_seconds > 0 else float("inf")
        for i in range(a.iters):
            t0 = time.perf_counter()
            out = model(ids, mask, types)
            times.append((time.perf_counter() - t0) * 1000.0)
            if time.perf_counter() > t_end and i + 1 >= a.min_iters:
                break
    times_sorted = sorted(times)
    res = {
        "engine": "pytorch",
        "precision": "int8" if a.int8 else "fp32",
        "p50_ms": float(np.percentile(times_sorted, 50)),
        "p90_ms": float(np.percentile(times_sorted, 90)),
        "mean_ms": float(np.mean(times_sorted)),
        "seq_per_s": a.batch * 1000.0 / float(np.mean(times_sorted)),
        "iters": len(times),
        "warmup": a.warmup,
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "seq": a.seq,
        "int8": bool(a.int8),
        "quantized_engine": quantized_engine() if a.int8 else None,
        "torch": torch.__version__,
        "blas": loaded_blas(),
        "out_shape": list(out.shape),
    }
    if a.json:
        print(json.dumps(res))
    else:
        print(f"pytorch {res['precision']} B={a.batch} S={a.seq} T={res['threads']}: p50 {res['p50_ms']:.2f} ms, "
              f"p90 {res['p90_ms']:.2f} ms, {res['seq_per_s']:.1f} seq/s ({len(times)} iters)")
    return 0


class _ExportWrapper(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m.bert(input_ids, attention_mask, token_type_ids)


def cmd_export(a):
    model, cfg = load_model(a.model)
    wrapper = _ExportWrapper(model).eval()
    ids, mask, types = random_inputs(cfg, a.check_batch, a.check_seq, 1234)
    mask[1:, a.check_seq // 2:] = 0  # some padding in the check input: exercises the mask path
    t = [torch.from_numpy(x) for x in (ids, mask, types)]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
           "token_type_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(wrapper, tuple(t), a.output, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], dynamic_axes=dyn, opset_version=a.opset,
                          do_constant_folding=True)
        ref = wrapper(*t).numpy().astype(np.float32)
    ref.tofile(a.output + ".check.bin")
    with open(a.output + ".check.json", "w") as f:
        json.dump({"batch": a.check_batch, "seq": a.check_seq, "hidden": cfg.hidden,
                   "input_ids": ids.ravel().tolist(), "attention_mask": mask.ravel().tolist(),
                   "token_type_ids": types.ravel().tolist(), "last_hidden_state": os.path.basename(a.output) + ".check.bin"}, f)
    print(f"export: wrote {a.output} (opset {a.opset}) and its check input/output")
    return 0


def cmd_int8_cosine(a):
    torch.set_num_threads(a.threads)
    model, cfg = load_model(a.model)
    q = prepare(model, True)
    ids, mask, types = (torch.from_numpy(x) for x in random_inputs(cfg, a.batch, a.seq, 7))
    with torch.inference_mode():
        r = model(ids, mask, types).numpy().ravel().astype(np.float64)
        s = q(ids, mask, types).numpy().ravel().astype(np.float64)
    cos = float(r @ s / (np.linalg.norm(r) * np.linalg.norm(s)))
    print(json.dumps({"engine": "pytorch", "cosine_int8_vs_fp32": cos, "max_abs_diff": float(np.abs(r - s).max()),
                      "quantized_engine": quantized_engine()}))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--model", required=True)
    v.add_argument("--reference", required=True)
    v.add_argument("--tol", type=float, default=1e-4)
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--seq", type=int, default=128)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--int8", action="store_true")
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--iters", type=int, default=20)
    b.add_argument("--min-iters", type=int, default=5, help="with --max-seconds: never stop before this many")
    b.add_argument("--max-seconds", type=float, default=0, help="stop timing after this long (0: run all iters)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", action="store_true")
    e = sub.add_parser("export")
    e.add_argument("--model", required=True)
    e.add_argument("--output", required=True)
    e.add_argument("--opset", type=int, default=14)
    e.add_argument("--check-batch", type=int, default=2)
    e.add_argument("--check-seq", type=int, default=16)
    c = sub.add_parser("int8-cosine")
    c.add_argument("--model", required=True)
    c.add_argument("--batch", type=int, default=2)
    c.add_argument("--seq", type=int, default=64)
    c.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    return {"verify": cmd_verify, "bench": cmd_bench, "export": cmd_export, "int8-cosine": cmd_int8_cosine}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
