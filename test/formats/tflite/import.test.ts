import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { argmaxRows, loadDataset, parseNpz, prepareFeeds } from '../../../src/data/index.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { importTfliteBytes } from '../../../src/formats/tflite/import.js';
import { feedInputs } from '../../../src/ir/graph.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { CORPUS, FIXTURES, TEST_NPZ, runCli, tempDir } from '../../helpers.js';

const models = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tflite')).map((f) => join(dir, f)).sort() : []);
const ALL = [...models(join(FIXTURES, 'models')), ...models(join(CORPUS, 'tflite'))];

/** Run a TFLite fixture through IR → ONNX → onnxruntime on the 1000-image test subset. */
async function viaOnnx(file: string): Promise<{ y: Float32Array; labels: Int32Array; cols: number }> {
  const g = importTfliteBytes(readFileSync(file), file);
  const runner = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 100 });
  const parts: Float32Array[] = [];
  for (const b of data.batches()) parts.push(toFloat32((await runner.run(b.feeds)).get(g.outputs[0]!.name)!).slice());
  await runner.dispose();
  const y = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    y.set(p, o);
    o += p.length;
  }
  return { y, labels: data.labels!, cols: y.length / data.count };
}

function reference(name: string): Float32Array {
  return toFloat32(parseNpz(readFileSync(join(FIXTURES, 'reference', `${name}.npz`))).get('y')!);
}

describe('TFLite import', () => {
  for (const file of ALL) {
    it(`${file.split('/').slice(-2).join('/')} imports into a valid IR graph`, () => {
      const g = importTfliteBytes(readFileSync(file), file);
      const issues = validateGraph(g).filter((i) => i.severity === 'error');
      assert.deepEqual(issues, []);
      assert.equal(g.metadata.sourceFormat, 'tflite');
    });
  }

  it('float32 fixtures through ONNX match the official interpreter outputs (≤ 1e-5)', async () => {
    for (const m of ['fmnist_cnn_float32', 'fmnist_mlp_float32']) {
      const { y } = await viaOnnx(join(FIXTURES, 'models', `${m}.tflite`));
      const ref = reference(`${m}_tflite`);
      let max = 0;
      for (let i = 0; i < y.length; i++) max = Math.max(max, Math.abs(y[i]! - ref[i]!));
      assert.ok(max <= 1e-5, `${m}: max |diff| ${max}`);
    }
  });

  it('an int8 fixture imports as QDQ and keeps its accuracy and predictions', async () => {
    const file = join(FIXTURES, 'models', 'fmnist_cnn_int8.tflite');
    const g = importTfliteBytes(readFileSync(file), file);
    const conv = g.nodes.find((n) => n.op === 'Conv')!;
    const dq = g.nodes.find((n) => n.outputs.includes(conv.inputs[1]!))!;
    assert.equal(dq.op, 'DequantizeLinear');
    assert.equal(g.initializers.get(dq.inputs[0]!)!.dtype, 'int8');
    assert.equal(g.initializers.get(dq.inputs[1]!)!.shape[0], 16, 'per-channel scales');
    const { y, labels, cols } = await viaOnnx(file);
    const pred = argmaxRows(y, labels.length, cols);
    const refPred = argmaxRows(reference('fmnist_cnn_int8_tflite'), labels.length, cols);
    let agree = 0;
    let correct = 0;
    for (let i = 0; i < pred.length; i++) {
      if (pred[i] === refPred[i]) agree++;
      if (pred[i] === labels[i]) correct++;
    }
    assert.ok(agree / pred.length >= 0.99, `agreement ${agree / pred.length}`);
    assert.ok(correct / pred.length >= 0.905, `accuracy ${correct / pred.length}`);
  });

  it('mlopt inspect shows TFLite ops, tensors and quantization', () => {
    const r = runCli(['inspect', join(FIXTURES, 'models', 'fmnist_cnn_int8.tflite'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.quantized, true);
    assert.equal(j.inputs[0].name, 'serving_default_input:0');
    assert.deepEqual(j.inputs[0].shape, ['batch', 28, 28, 1]);
    assert.ok(j.ops.Conv === 2 && j.ops.MaxPool === 2);
    assert.deepEqual(j.storedOps, { QUANTIZE: 1, CONV_2D: 2, MAX_POOL_2D: 2, RESHAPE: 1, FULLY_CONNECTED: 2, SOFTMAX: 1, DEQUANTIZE: 1 });
    assert.ok(j.quantization.tensors.int8 > 5 && j.quantization.perChannel === 2, JSON.stringify(j.quantization));
    const hello = join(CORPUS, 'tflite', 'tflm_hello_world_int8.tflite');
    if (existsSync(hello)) {
      const h = JSON.parse(runCli(['inspect', hello, '--json']).stdout);
      assert.equal(h.inputs[0].dtype, 'int8');
      assert.equal(h.inputs[0].quant.zeroPoint[0], -128);
      assert.ok(Math.abs(h.inputs[0].quant.scale[0] - 0.0244801) < 1e-6);
    }
  });

  it('convert --to onnx refuses a TFLite op with no ONNX mapping, naming it', () => {
    const f = join(CORPUS, 'tflite', 'tflm_mnist_lstm_float.tflite');
    if (!existsSync(f)) return;
    const out = join(tempDir(), 'x.onnx');
    const r = runCli(['convert', f, '--to', 'onnx', '-o', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /UNIDIRECTIONAL_SEQUENCE_LSTM .* has no ONNX mapping/);
    assert.ok(!existsSync(out));
  });
});

describe('bad TFLite input from the CLI', () => {
  const good = readFileSync(join(FIXTURES, 'models', 'fmnist_cnn_float32.tflite'));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['a truncated .tflite', good.subarray(0, Math.floor(good.length / 3)), /truncated|out of range|corrupt|bad/i],
    ['a file with the wrong identifier', (() => {
      const b = Uint8Array.from(good);
      b.set([0x58, 0x58, 0x58, 0x58], 4); // "XXXX" instead of "TFL3"
      return b;
    })(), /not a model|identifier|unrecognised|unknown/i],
  ];
  for (const [what, bytes, re] of cases) {
    it(`${what}: one-line error, non-zero exit, nothing written`, () => {
      const dir = tempDir();
      const f = join(dir, 'bad.tflite');
      writeFileSync(f, bytes);
      const out = join(dir, 'out.onnx');
      for (const args of [['inspect', f], ['convert', f, '--to', 'onnx', '-o', out]]) {
        const r = runCli(args);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, re);
        assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('mlopt:')).length, 1);
        assert.ok(!r.stderr.includes('    at '));
      }
      assert.ok(!existsSync(out));
    });
  }
});
