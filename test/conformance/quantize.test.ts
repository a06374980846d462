/**
 * Conformance for `mlopt quantize`: every mode's output passes onnx.checker.check_model
 * (full_check) and gives, in Python onnxruntime, the accuracy mlopt reported from Node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CNN_ONNX, FIXTURES, ROOT, TEST_NPZ, runCli, tempDir } from '../helpers.js';

const PY = process.env.MLOPT_PYTHON ?? 'python3';
const SCRIPT = join(ROOT, 'test', 'conformance', 'quantize_ref.py');
const probe = spawnSync(PY, ['-c', 'import onnx, onnxruntime'], { encoding: 'utf8' });
const PY_SKIP = probe.status === 0 ? false : `${PY} lacks onnx/onnxruntime (pip install -r test/conformance/requirements.txt)`;
const TRAIN_NPZ = join(FIXTURES, 'data', 'fmnist_train_2000.npz');
const TORCH_ONNX = join(FIXTURES, 'models', 'fmnist_torch_cnn.onnx');

const cases: Array<[string, string, string[]]> = [
  ['int8 static', CNN_ONNX, ['--int8', '--calibration-data', TRAIN_NPZ]],
  ['int8 static, int8 activations, entropy', CNN_ONNX, ['--int8', '--calibration-data', TRAIN_NPZ, '--activation-type', 'int8', '--calibration-method', 'entropy']],
  ['int8 static (PyTorch export)', TORCH_ONNX, ['--int8', '--calibration-data', TRAIN_NPZ]],
  ['dynamic', CNN_ONNX, ['--dynamic']],
  ['dynamic, ConvInteger', CNN_ONNX, ['--dynamic', '--dynamic-conv', 'integer']],
  ['float16', CNN_ONNX, ['--float16']],
  ['float16 (PyTorch export)', TORCH_ONNX, ['--float16']],
];

for (const [what, model, args] of cases) {
  test(`quantize ${what}: onnx.checker full_check passes; Python onnxruntime agrees with mlopt's accuracy`, { skip: PY_SKIP }, () => {
    const out = join(tempDir(), 'q.onnx');
    const r = runCli(['quantize', model, ...args, '--eval-data', TEST_NPZ, '-o', out, '--runs', '2', '--warmup', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const mine = JSON.parse(r.stdout) as { quantized: { accuracy: number } };
    const p = spawnSync(PY, [SCRIPT, out, TEST_NPZ], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const ref = JSON.parse(p.stdout) as { checked: boolean; accuracy: number };
    assert.ok(ref.checked);
    assert.ok(Math.abs(ref.accuracy - mine.quantized.accuracy) <= 0.002, `python ${ref.accuracy} vs node ${mine.quantized.accuracy}`);
  });
}
