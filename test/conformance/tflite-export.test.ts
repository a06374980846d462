/**
 * Conformance: .tflite files that mlopt writes from ONNX models load in the official TFLite
 * interpreter (tflite_ref.py) and compute what onnxruntime computes on the source model.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset, prepareFeeds, writeNpy } from '../../src/data/index.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import { decodeTflite } from '../../src/formats/tflite/codec.js';
import { feedInputs } from '../../src/ir/graph.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import { CORPUS, FIXTURES, ROOT, TEST_NPZ, runCli, tempDir } from '../helpers.js';

const PY = process.env.MLOPT_PYTHON ?? 'python3';
const SCRIPT = join(ROOT, 'test', 'conformance', 'tflite_ref.py');
const probe = spawnSync(PY, [SCRIPT, 'backend'], { encoding: 'utf8' });
const PY_SKIP = probe.status === 0 ? false : `${PY} has no TFLite interpreter (pip install -r test/conformance/requirements.txt)`;

for (const [m, tol] of [['fmnist_cnn.onnx', 1e-5], ['fmnist_mlp.onnx', 1e-5], ['fmnist_torch_cnn.onnx', 1e-4]] as const) {
  test(`mlopt convert ${m} --to tflite runs in the official interpreter like onnxruntime runs the source`, { skip: PY_SKIP }, async () => {
    const src = join(FIXTURES, 'models', m);
    const dir = tempDir();
    const out = join(dir, 'm.tflite');
    const r = runCli(['convert', src, '--to', 'tflite', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const g = importOnnxBytes(readFileSync(src));
    const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 200 });
    const b = data.batches()[Symbol.iterator]().next().value!;
    const x = b.feeds.values().next().value!;
    const ort = await createOnnxRunner(readFileSync(src), feedInputs(g), g.outputs);
    const ref = toFloat32((await ort.run(b.feeds)).get(g.outputs[0]!.name)!);
    await ort.dispose();
    const npy = join(dir, 'x.npy');
    writeFileSync(npy, writeNpy(x));
    const p = spawnSync(PY, [SCRIPT, 'run', out, npy, '--batch', String(b.size)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(p.status, 0, p.stderr + p.stdout);
    const got = (JSON.parse(p.stdout) as { outputs: Array<{ values: number[] }> }).outputs[0]!.values;
    assert.equal(got.length, ref.length);
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]! - got[i]!));
    assert.ok(max <= tol, `max |diff| ${max} > ${tol}`);
  });
}

for (const mode of ['float16', 'dynamic', 'int8'] as const) {
  test(`mlopt quantize --${mode} --to tflite: the official interpreter gives the accuracy mlopt measured in LiteRT.js`, { skip: PY_SKIP }, async () => {
    const src = join(FIXTURES, 'models', 'fmnist_cnn.onnx');
    const dir = tempDir();
    const out = join(dir, 'q.tflite');
    const calib = mode === 'int8' ? ['--calibration-data', join(FIXTURES, 'data', 'fmnist_train_2000.npz')] : [];
    const r = runCli(['quantize', src, `--${mode}`, ...calib, '--to', 'tflite', '--eval-data', TEST_NPZ, '-o', out, '--runs', '2', '--warmup', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const mine = (JSON.parse(r.stdout) as { quantized: { accuracy: number } }).quantized.accuracy;
    const g = importOnnxBytes(readFileSync(src));
    const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 1000 });
    const b = data.batches()[Symbol.iterator]().next().value!;
    const npy = join(dir, 'x.npy');
    writeFileSync(npy, writeNpy(b.feeds.values().next().value!));
    const p = spawnSync(PY, [SCRIPT, 'run', out, npy, '--batch', String(b.size)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    assert.equal(p.status, 0, p.stderr + p.stdout);
    const y = (JSON.parse(p.stdout) as { outputs: Array<{ values: number[] }> }).outputs[0]!.values;
    const labels = b.labels!;
    let correct = 0;
    for (let i = 0; i < labels.length; i++) {
      const row = y.slice(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    assert.ok(Math.abs(correct / labels.length - mine) <= 0.002, `interpreter ${correct / labels.length} vs mlopt ${mine}`);
  });
}

for (const io of ['int8', 'uint8'] as const) {
  test(`mlopt quantize --int8 --to tflite --io-type ${io}: integer I/O runs in the official interpreter with the float-I/O model's accuracy`, { skip: PY_SKIP }, async () => {
    const src = join(FIXTURES, 'models', 'fmnist_cnn.onnx');
    const dir = tempDir();
    const out = join(dir, 'q.tflite');
    const calib = ['--calibration-data', join(FIXTURES, 'data', 'fmnist_train_2000.npz')];
    const r = runCli(['quantize', src, '--int8', ...calib, '--to', 'tflite', '--io-type', io, '--eval-data', TEST_NPZ, '-o', out, '--runs', '2', '--warmup', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const mine = (JSON.parse(r.stdout) as { quantized: { accuracy: number } }).quantized.accuracy;
    const m = decodeTflite(readFileSync(out));
    const sg = m.subgraphs[0]!;
    const tin = sg.tensors[sg.inputs[0]!]!;
    const tout = sg.tensors[sg.outputs[0]!]!;
    assert.equal(tin.type, io === 'int8' ? 9 : 3);
    assert.equal(tout.type, io === 'int8' ? 9 : 3);
    const g = importOnnxBytes(readFileSync(src));
    const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 1000 });
    const b = data.batches()[Symbol.iterator]().next().value!;
    const x = toFloat32(b.feeds.values().next().value!);
    const [s, z] = [tin.quantization!.scale![0]!, Number(tin.quantization!.zeroPoint![0]!)];
    const [lo, hi] = io === 'int8' ? [-128, 127] : [0, 255];
    const qv = Array.from(x, (v) => Math.max(lo, Math.min(hi, Math.round(v / s) + z)));
    const q = io === 'int8' ? Int8Array.from(qv) : Uint8Array.from(qv);
    const npy = join(dir, 'x.npy');
    writeFileSync(npy, writeNpy({ dtype: io, shape: [b.size, 28, 28, 1], data: q }));
    const p = spawnSync(PY, [SCRIPT, 'run', out, npy, '--batch', String(b.size)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    assert.equal(p.status, 0, p.stderr + p.stdout);
    const y = (JSON.parse(p.stdout) as { outputs: Array<{ values: number[] }> }).outputs[0]!.values;
    let correct = 0;
    for (let i = 0; i < b.size; i++) {
      const row = y.slice(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === b.labels![i]) correct++;
    }
    assert.ok(Math.abs(correct / b.size - mine) <= 0.003, `interpreter ${correct / b.size} vs float-I/O twin ${mine}`);
  });
}

test('every corpus .tflite whose ops mlopt maps re-exports through the IR with bit-identical interpreter outputs', { skip: PY_SKIP || !existsSync(join(CORPUS, 'tflite')) }, async (t) => {
  const files = readdirSync(join(CORPUS, 'tflite')).filter((f) => f.endsWith('.tflite')).sort();
  for (const f of files) {
    await t.test(f, (t2) => {
      const src = join(CORPUS, 'tflite', f);
      const out = join(tempDir(), 're.tflite');
      const r = runCli(['convert', src, '--to', 'tflite', '-o', out, '--no-check']);
      if (r.code !== 0) {
        // an op kept opaque at import: named, nothing written
        assert.match(r.stderr, /has no TFLite mapping: an op mlopt kept opaque at import/);
        t2.skip(`not mapped: ${r.stderr.split('\n')[0]}`);
        return;
      }
      const p = spawnSync(PY, [SCRIPT, 'compare', src, out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (p.status === 3) {
        t2.skip(`the interpreter cannot run the original: ${(JSON.parse(p.stdout) as { error: string }).error.slice(0, 120)}`);
        return;
      }
      assert.equal(p.status, 0, p.stderr);
      const cmp = JSON.parse(p.stdout) as { outputs: Array<{ name: string; equal: boolean; maxAbsDiff: number }> };
      for (const o of cmp.outputs) assert.ok(o.equal, `${o.name}: max |diff| ${o.maxAbsDiff}`);
    });
  }
});

test('TRANSPOSE_CONV (dynamic batch), RESIZE_BILINEAR, STRIDED_SLICE, GELU, BATCH_MATMUL written by mlopt run in the official interpreter at batch 2 like onnxruntime', { skip: PY_SKIP }, async () => {
  const { opsGraph } = await import('../formats/tflite/ops-graph.js');
  const { exportOnnxBytes } = await import('../../src/formats/onnx/export.js');
  const { exportTflite } = await import('../../src/formats/tflite/export.js');
  const { randomFeeds } = await import('../../src/data/index.js');
  const g = opsGraph();
  const dir = tempDir();
  const out = join(dir, 'ops.tflite');
  writeFileSync(out, exportTflite(g).bytes);
  const feeds = randomFeeds(feedInputs(g), 2);
  const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  const ref = toFloat32((await ort.run(feeds)).get('y')!);
  await ort.dispose();
  const npy = join(dir, 'x.npy');
  writeFileSync(npy, writeNpy(feeds.get('x')!));
  const p = spawnSync(PY, [SCRIPT, 'run', out, npy, '--batch', '2'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(p.status, 0, p.stderr + p.stdout);
  const got = (JSON.parse(p.stdout) as { outputs: Array<{ values: number[] }> }).outputs[0]!.values;
  assert.equal(got.length, ref.length);
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]! - got[i]!) / (1 + Math.abs(ref[i]!)));
  assert.ok(max <= 1e-4, `max relative diff ${max}`);
});
