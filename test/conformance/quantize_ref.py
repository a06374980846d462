"""Reference checks for mlopt quantize outputs: onnx.checker (full_check) and Python
onnxruntime accuracy on the labelled test subset. Prints JSON."""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main() -> None:
    model_path, data_path = sys.argv[1], sys.argv[2]
    m = onnx.load(model_path)
    onnx.checker.check_model(m, full_check=True)
    d = np.load(data_path)
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    x = d["x"].astype(np.float32) / 255.0
    shape = [s if isinstance(s, int) else -1 for s in inp.shape]
    if len(shape) == 4 and shape[1] == 1 and x.shape[-1] == 1:
        x = x.transpose(0, 3, 1, 2)
    preds = []
    for i in range(0, len(x), 100):
        preds.append(sess.run(None, {inp.name: x[i : i + 100]})[0].argmax(axis=1))
    acc = float((np.concatenate(preds) == d["y"]).mean())
    print(json.dumps({"checked": True, "accuracy": acc, "ops": sorted({n.op_type for n in m.graph.node})}))


if __name__ == "__main__":
    main()
