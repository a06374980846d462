"""Dev-only reference for bench/quantize.ts: onnxruntime's own post-training static int8
quantization of a model, to compare mlopt's int8 output with.

    python bench/ort_quantize.py MODEL.onnx CALIB.npz N OUT.onnx

Settings: quantize_static, QDQ format, per_channel=True, MinMax calibration, QUInt8
activations, QInt8 weights, every other option left at its default (no quant_pre_process).
The calibration set is the first N samples of array "x" in CALIB.npz, uint8 images scaled
by 1/255 to float32 (the same conversion mlopt applies), fed to the model's only input.
Prints one JSON line: {"ort": version, "samples": N, "input": name, "ms": quantize time}.
"""
import json
import sys
import time

import numpy as np
import onnx
import onnxruntime
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)


class NpzReader(CalibrationDataReader):
    """Feeds the calibration samples one at a time, as ORT's examples do."""

    def __init__(self, input_name, x):
        self._feeds = iter([{input_name: x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self._feeds, None)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    model, calib, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    x = np.load(calib)["x"][:n]
    x = (x.astype(np.float32) / 255.0) if x.dtype == np.uint8 else x.astype(np.float32)
    graph = onnx.load(model, load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    feeds = [i.name for i in graph.input if i.name not in initializers]
    if len(feeds) != 1:
        sys.exit(f"expected one model input, got {feeds}")
    t0 = time.perf_counter()
    quantize_static(
        model, out, NpzReader(feeds[0], x),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ort": onnxruntime.__version__, "samples": int(len(x)), "input": feeds[0], "ms": round(ms, 1)}))


if __name__ == "__main__":
    main()
