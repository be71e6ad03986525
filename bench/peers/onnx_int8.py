#!/usr/bin/python3
"""Dynamic int8 quantisation of an fp32 ONNX BERT by a small graph rewrite (python3-onnx only).

ONNX Runtime's Python quantiser (onnxruntime.quantization.quantize_dynamic) cannot be installed here (no PyPI), so this
does the same rewrite by hand. Every MatMul whose B input is a 2-D float initializer (the nn.Linear weights, exported
as MatMul(x, W^T) followed by Add(bias)) becomes

    A_q, A_scale, A_zp = DynamicQuantizeLinear(A)                    # uint8, per-tensor, computed at run time
    Y_i32 = MatMulInteger(A_q, W_q, A_zp, W_zp)                      # W_q int8 [K, N], W_zp int8 zeros [N]
    Y     = Cast(Y_i32, float) * (A_scale * W_scale)                 # W_scale float [N]: per output column

with symmetric per-output-column weights: W_scale[n] = max_k |W[k, n]| / 127, W_q = round(W / W_scale) in [-127, 127].
The following Add(bias) is untouched. MatMuls between activations (attention scores, context) stay fp32, as in
ORT's own dynamic quantiser. ORT (graph optimisation level 'all') fuses this pattern into DynamicQuantizeMatMul /
MatMulIntegerToFloat kernels — the same graph shape its quantize_dynamic produces (u8 activations, s8 weights).

Usage: onnx_int8.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_weight(w):
    """w float [K, N] -> (int8 [K, N], float32 scale [N]) symmetric per column."""
    w = w.astype(np.float32)
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def rewrite(model):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1

    new_nodes, new_inits, dropped = [], [], set()
    count = 0
    quantized_weights = {}
    for node in g.node:
        w_name = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
        w = inits.get(w_name) if w_name else None
        if w is None or len(w.dims) != 2 or w.data_type != TensorProto.FLOAT:
            new_nodes.append(node)
            continue
        count += 1
        base = (node.name or f"MatMul_{count}").strip("/").replace("/", "_")
        a = node.input[0]
        y = node.output[0]
        if w_name not in quantized_weights:
            q, scale = quantize_weight(numpy_helper.to_array(w))
            qn, sn, zn = w_name + "_quantized", w_name + "_scale", w_name + "_zero_point"
            new_inits += [numpy_helper.from_array(q, qn), numpy_helper.from_array(scale, sn),
                          numpy_helper.from_array(np.zeros(q.shape[1], dtype=np.int8), zn)]
            quantized_weights[w_name] = (qn, sn, zn)
            if consumers.get(w_name, 0) == 1:
                dropped.add(w_name)
        qn, sn, zn = quantized_weights[w_name]
        a_q, a_s, a_z = f"{base}_A_quantized", f"{base}_A_scale", f"{base}_A_zero_point"
        y_i, y_f, s = f"{base}_int32", f"{base}_int32_float", f"{base}_scale"
        new_nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [a_q, a_s, a_z], name=f"{base}_DynamicQuantizeLinear"),
            helper.make_node("MatMulInteger", [a_q, qn, a_z, zn], [y_i], name=f"{base}_MatMulInteger"),
            helper.make_node("Cast", [y_i], [y_f], to=TensorProto.FLOAT, name=f"{base}_Cast"),
            helper.make_node("Mul", [a_s, sn], [s], name=f"{base}_ScaleMul"),
            helper.make_node("Mul", [y_f, s], [y], name=f"{base}_OutputMul"),
        ]
    del g.node[:]
    g.node.extend(new_nodes)
    keep = [i for i in g.initializer if i.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    # drop stale value_info for rewritten tensors' dtypes (none changed names, so nothing to do) and check
    return count


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model = onnx.load(argv[1])
    n = rewrite(model)
    onnx.checker.check_model(model)
    onnx.save(model, argv[2])
    print(f"onnx_int8: rewrote {n} weight MatMuls -> DynamicQuantizeLinear/MatMulInteger (per-column symmetric int8): {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
