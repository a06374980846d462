"""Reference facts about ONNX files from the onnx Python package, for mlopt's conformance tests.

usage: onnx_ref.py summary FILE            -> JSON {inputs, outputs, ops, nodeCount}
       onnx_ref.py check FILE              -> JSON {ok, error}
       onnx_ref.py run A B                 -> JSON {outputs: [{name, equal, maxAbsDiff}]}  (same random input)
"""
import json
import sys

import numpy as np
import onnx
from onnx import helper


def dims(vi):
    t = vi.type
    if not t.HasField("tensor_type"):
        return None, None
    tt = t.tensor_type
    elem = helper.tensor_dtype_to_np_dtype(tt.elem_type).name if tt.elem_type else None
    if not tt.HasField("shape"):
        return elem, None
    out = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append("")
    return elem, out


def count_ops(graph, ops):
    n = 0
    for node in graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}:{node.op_type}"
        ops[key] = ops.get(key, 0) + 1
        n += 1
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH or a.HasField("g"):
                n += count_ops(a.g, ops)
            for g in a.graphs:
                n += count_ops(g, ops)
    return n


def summary(path):
    m = onnx.load(path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    io = lambda v: dict(zip(("name", "dtype", "shape"), (v.name, *dims(v))))
    ops = {}
    n = count_ops(m.graph, ops)
    return {
        "inputs": [io(v) for v in m.graph.input if v.name not in inits],
        "outputs": [io(v) for v in m.graph.output],
        "ops": ops,
        "nodeCount": n,
        "irVersion": m.ir_version,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in m.opset_import},
    }


def check(path):
    try:
        onnx.checker.check_model(onnx.load(path))
        return {"ok": True}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": str(e).splitlines()[0] if str(e) else type(e).__name__}


def run(a, b):
    import onnxruntime as ort

    sa = ort.InferenceSession(a, providers=["CPUExecutionProvider"])
    sb = ort.InferenceSession(b, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in sa.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        if "float" in i.type:
            dt = np.float16 if "float16" in i.type else np.float64 if "double" in i.type else np.float32
            feeds[i.name] = rng.random(shape).astype(dt)
        elif "int64" in i.type:
            feeds[i.name] = rng.integers(0, 3, shape).astype(np.int64)
        elif "int32" in i.type:
            feeds[i.name] = rng.integers(0, 3, shape).astype(np.int32)
        elif "uint8" in i.type:
            feeds[i.name] = rng.integers(0, 255, shape).astype(np.uint8)
        elif "bool" in i.type:
            feeds[i.name] = rng.integers(0, 2, shape).astype(bool)
        else:
            raise SystemExit(f"unsupported input type {i.type}")
    oa = sa.run(None, feeds)
    ob = sb.run(None, feeds)
    out = []
    for o, x, y in zip(sa.get_outputs(), oa, ob):
        if not isinstance(x, np.ndarray):  # sequences / maps (ai.onnx.ml classifiers)
            out.append({"name": o.name, "equal": bool(x == y), "maxAbsDiff": 0.0})
            continue
        x = np.asarray(x)
        y = np.asarray(y)
        equal = x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
        diff = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size and x.shape == y.shape and x.dtype.kind in "fiu" else 0.0
        out.append({"name": o.name, "equal": bool(equal), "maxAbsDiff": diff})
    return {"outputs": out}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "summary":
        res = summary(sys.argv[2])
    elif cmd == "check":
        res = check(sys.argv[2])
    elif cmd == "run":
        res = run(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(res))
