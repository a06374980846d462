"""The official TensorFlow.js converter's side of mlopt's tfjs conformance test (tfjs.test.ts).

Needs the packages of requirements-tfjs.txt (tensorflowjs 4.22, TensorFlow 2.15, tf_keras).

usage: tfjs_ref.py probe
           -> JSON {tensorflowjs, tensorflow, tf_keras, converter}; exit 4 when tensorflowjs is missing
       tfjs_ref.py convert INPUT OUTDIR [--input-format keras|keras_keras] [--quantize DTYPE PATTERN]
           runs `tensorflowjs_converter --input_format ... INPUT OUTDIR` (+ --quantize_DTYPE PATTERN)
           -> JSON {ok, command, error?}: error is the converter's last error line. A `.keras` input
              is copied into a fresh folder first (the converter unpacks the archive beside its input).
       tfjs_ref.py weights DIR_A DIR_B
           -> JSON {weights: [{name, a, b, rawEqual, maxAbsDiff}]}: every weight of either model.json by
              name; a/b = {shape, dtype, quantization, byteLength, sha256} of its raw bytes in the shards
              (null where absent), maxAbsDiff between the values tensorflowjs.read_weights decodes
       tfjs_ref.py predict MODEL_JSON NPZ OUT_NPY
           loads a layers model with tensorflowjs.converters.load_keras_model (into tf_keras) and writes
           its float32 outputs on NPZ's x / 255 (reshaped to the model's input) to OUT_NPY
           -> JSON {ok, shape, error?}
"""
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

try:
    import numpy as np
except ImportError:  # reported by `probe`
    np = None

DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "uint8": 1, "uint16": 2, "float16": 2, "complex64": 8}


def out(obj, code=0):
    print(json.dumps(obj))
    sys.exit(code)


def last_error_line(text):
    """The converter's error: the last line that looks like `SomeError: ...`, else the last line."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    for x in reversed(lines):
        head = x.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head:
            return x[:300]
    return (lines[-1] if lines else "")[:300]


def probe():
    import importlib.util

    if importlib.util.find_spec("tensorflowjs") is None:
        out({"error": "No module named 'tensorflowjs'"}, 4)
    try:
        import tensorflowjs
    except ImportError as e:
        out({"error": f"{type(e).__name__}: {e}"}, 4)
    import tensorflow as tf
    import tf_keras
    out({"tensorflowjs": tensorflowjs.__version__, "tensorflow": tf.__version__,
         "tf_keras": tf_keras.__version__, "converter": converter_cmd()[0]})


def converter_cmd():
    exe = Path(sys.executable).parent / "tensorflowjs_converter"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tensorflowjs.converters.converter"]


def convert(args):
    src, dst = args[0], args[1]
    fmt, quant = "keras", None
    rest = args[2:]
    while rest:
        if rest[0] == "--input-format":
            fmt, rest = rest[1], rest[2:]
        elif rest[0] == "--quantize":
            quant, rest = (rest[1], rest[2]), rest[3:]
        else:
            raise SystemExit(f"unknown option {rest[0]}")
    flags = [f"--input_format={fmt}"]
    if fmt == "keras_keras":
        flags.append("--output_format=tfjs_layers_model")
    if quant:
        flags += [f"--quantize_{quant[0]}", quant[1]]
    tmp = None
    if src.endswith(".keras"):
        tmp = tempfile.mkdtemp(prefix="tfjs-ref-")
        src = shutil.copy(src, tmp)
    shown = shlex.join(["tensorflowjs_converter", *flags, os.path.basename(src), "OUT"])
    try:
        r = subprocess.run([*converter_cmd(), *flags, src, dst], capture_output=True, text=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode != 0 or not os.path.exists(os.path.join(dst, "model.json")):
        out({"ok": False, "command": shown, "error": last_error_line(r.stderr + "\n" + r.stdout)})
    out({"ok": True, "command": shown})


def raw_weights(model_dir):
    """name -> (entry, raw bytes) by walking the manifest: each group's shards concatenated, weights in order."""
    mj = json.loads(Path(model_dir, "model.json").read_text())
    res = {}
    for group in mj["weightsManifest"]:
        buf = b"".join(Path(model_dir, p).read_bytes() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            q = w.get("quantization")
            n = int(np.prod(w["shape"], dtype=np.int64))
            size = n * DTYPE_BYTES[q["dtype"] if q else w["dtype"]]
            res[w["name"]] = (w, buf[off:off + size])
            off += size
        if off != len(buf):
            raise SystemExit(f"{model_dir}: manifest covers {off} bytes, shards hold {len(buf)}")
    return mj["weightsManifest"], res


def weights(args):
    from tensorflowjs import read_weights

    decoded = {}
    raws = {}
    for key, d in (("a", args[0]), ("b", args[1])):
        manifest, raws[key] = raw_weights(d)
        decoded[key] = {w["name"]: np.asarray(w["data"]) for w in read_weights.read_weights(manifest, d, flatten=True)}
    rows = []
    for name in sorted(set(raws["a"]) | set(raws["b"])):
        row = {"name": name}
        for key in ("a", "b"):
            if name not in raws[key]:
                row[key] = None
                continue
            w, raw = raws[key][name]
            row[key] = {"shape": w["shape"], "dtype": w["dtype"], "quantization": w.get("quantization"),
                        "byteLength": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
        if row["a"] and row["b"]:
            row["rawEqual"] = raws["a"][name][1] == raws["b"][name][1]
            va, vb = decoded["a"][name], decoded["b"][name]
            row["maxAbsDiff"] = (float(np.max(np.abs(va.astype(np.float64) - vb.astype(np.float64)), initial=0.0))
                                 if va.shape == vb.shape else None)
        rows.append(row)
    out({"weights": rows})


def predict(args):
    model_json, npz, out_npy = args
    import tensorflow as tf
    from tensorflowjs.converters import load_keras_model

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    try:
        model = load_keras_model(model_json)
    except Exception as e:  # noqa: BLE001 - any failure means "cannot load"
        out({"ok": False, "error": last_error_line(f"{type(e).__name__}: {e}")})
    with np.load(npz) as d:
        x = d["x"].astype(np.float32) / np.float32(255.0)
    shape = [int(s) for s in model.inputs[0].shape[1:]]
    y = model.predict(x.reshape([-1, *shape]), batch_size=500, verbose=0)
    np.save(out_npy, np.asarray(y, dtype=np.float32))
    out({"ok": True, "shape": list(y.shape)})


def main():
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "probe":
        probe()
    elif cmd == "convert" and len(args) >= 2:
        convert(args)
    elif cmd == "weights" and len(args) == 2:
        weights(args)
    elif cmd == "predict" and len(args) == 3:
        predict(args)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
