"""Reference runs of .tflite files with the official TFLite interpreter, for mlopt's conformance tests.

The interpreter is ai_edge_litert's (the standalone LiteRT wheel, see requirements.txt); where that
is not installed, TensorFlow's tf.lite.Interpreter. Runs use the builtin kernels without default
delegates, on one thread, so that results are deterministic.

usage: tflite_ref.py run FILE [INPUT.npy ...] [--seed N] [--batch N]
           -> JSON {backend, inputs: [details], outputs: [details + values, sha256]}
              inputs come from the .npy files in input order, else seeded random data
       tflite_ref.py compare A B [--seed N] [--batch N]
           -> JSON {backend, outputs: [{name, equal, maxAbsDiff, shape}]}: same random input, bitwise compare
       tflite_ref.py backend -> JSON {backend}
--batch N resizes the inputs whose shape_signature has -1 in dim 0 to batch N before running
(for `compare`, only in A: B is expected to have that batch already).
A model the interpreter cannot load, allocate or run prints {"error": "..."} and exits 3.
"""
import hashlib
import json
import sys

import numpy as np

try:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    BACKEND = "ai_edge_litert"
except ImportError:  # pragma: no cover - depends on the environment
    import tensorflow as tf

    Interpreter = tf.lite.Interpreter
    OpResolverType = tf.lite.experimental.OpResolverType
    BACKEND = "tensorflow " + tf.__version__


class CannotRun(Exception):
    pass


def short(e):
    """One line, at most 200 characters, for an interpreter error."""
    lines = [x for x in str(e).strip().splitlines() if x.strip()]
    text = f"{type(e).__name__}: {lines[-1] if lines else ''}"
    return text if len(text) <= 200 else text[:197] + "..."


def load(path, batch=None):
    try:
        it = Interpreter(
            model_path=path,
            num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        if batch is not None:
            for d in it.get_input_details():
                sig = d["shape_signature"]
                if len(sig) and sig[0] == -1:
                    it.resize_tensor_input(d["index"], [batch, *d["shape"][1:]])
        it.allocate_tensors()
    except Exception as e:  # noqa: BLE001 - any failure means "the interpreter cannot run this"
        raise CannotRun(short(e)) from e
    return it


def details(d):
    q = d.get("quantization_parameters", {})
    return {
        "name": d["name"],
        "index": int(d["index"]),
        "shape": [int(x) for x in d["shape"]],
        "shapeSignature": [int(x) for x in d["shape_signature"]],
        "dtype": np.dtype(d["dtype"]).name,
        "scale": [float(x) for x in q.get("scales", [])],
        "zeroPoint": [int(x) for x in q.get("zero_points", [])],
        "quantizedDimension": int(q.get("quantized_dimension", 0)),
    }


def random_input(d, rng):
    shape, dtype = [int(x) for x in d["shape"]], np.dtype(d["dtype"])
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        lo, hi = max(int(info.min), -128), min(int(info.max), 127)
        return rng.integers(lo, hi + 1, size=shape).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(size=shape).astype(dtype)
    if dtype.kind in ("S", "O", "U"):
        return np.array([b""] * int(np.prod(shape)), dtype=object).reshape(shape)
    raise CannotRun(f"no random data for input dtype {dtype}")


def invoke(it, inputs):
    try:
        for d, x in zip(it.get_input_details(), inputs):
            it.set_tensor(d["index"], x)
        it.invoke()
    except CannotRun:
        raise
    except Exception as e:  # noqa: BLE001
        raise CannotRun(short(e)) from e
    return [(d, np.array(it.get_tensor(d["index"]))) for d in it.get_output_details()]


def to_json_values(a):
    if a.dtype.kind == "f":
        return [None if not np.isfinite(v) else float(v) for v in a.astype(np.float64).ravel()]
    if a.dtype.kind in ("i", "u", "b"):
        return [int(v) for v in a.ravel()]
    return [str(v) for v in a.ravel()]


def parse_opts(args):
    opts, rest = {"seed": 0, "batch": None}, []
    i = 0
    while i < len(args):
        if args[i] in ("--seed", "--batch"):
            opts[args[i][2:]] = int(args[i + 1])
            i += 2
        else:
            rest.append(args[i])
            i += 1
    return opts, rest


def cmd_run(args):
    opts, rest = parse_opts(args)
    path, npys = rest[0], rest[1:]
    it = load(path, opts["batch"])
    rng = np.random.default_rng(opts["seed"])
    ins = it.get_input_details()
    inputs = [np.load(npys[i]) if i < len(npys) else random_input(d, rng) for i, d in enumerate(ins)]
    outs = invoke(it, inputs)
    return {
        "backend": BACKEND,
        "inputs": [details(d) for d in ins],
        "outputs": [
            {**details(d), "values": to_json_values(a), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
            for d, a in outs
        ],
    }


def cmd_compare(args):
    opts, rest = parse_opts(args)
    a_path, b_path = rest
    a, b = load(a_path, opts["batch"]), load(b_path)
    rng = np.random.default_rng(opts["seed"])
    inputs = [random_input(d, rng) for d in a.get_input_details()]
    outs_a, outs_b = invoke(a, inputs), invoke(b, inputs)
    result = []
    for (da, xa), (db, xb) in zip(outs_a, outs_b):
        equal = xa.shape == xb.shape and xa.dtype == xb.dtype and xa.tobytes() == xb.tobytes()
        diff = 0.0
        if xa.shape == xb.shape and xa.dtype.kind in "fiub" and xa.size:
            diff = float(np.nanmax(np.abs(xa.astype(np.float64) - xb.astype(np.float64))))
        result.append({"name": da["name"], "otherName": db["name"], "equal": bool(equal), "maxAbsDiff": diff,
                       "shape": [int(x) for x in xa.shape]})
    if len(outs_a) != len(outs_b):
        result.append({"name": "<output count>", "equal": False, "maxAbsDiff": float("inf"), "shape": []})
    return {"backend": BACKEND, "outputs": result}


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "run":
            out = cmd_run(args)
        elif cmd == "compare":
            out = cmd_compare(args)
        elif cmd == "backend":
            out = {"backend": BACKEND}
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except CannotRun as e:
        print(json.dumps({"error": str(e)}))
        return 3
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
