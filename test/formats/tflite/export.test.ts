import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset, prepareFeeds } from '../../../src/data/index.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { importOnnxBytes } from '../../../src/formats/onnx/import.js';
import { decodeTflite, operatorName } from '../../../src/formats/tflite/codec.js';
import { exportTflite } from '../../../src/formats/tflite/export.js';
import { importTfliteBytes } from '../../../src/formats/tflite/import.js';
import type { Graph } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { CORPUS, FIXTURES, TEST_NPZ, runCli, tempDir } from '../../helpers.js';
import { opsGraph } from './ops-graph.js';

const model = (m: string) => join(FIXTURES, 'models', m);

async function outputs(g: Graph): Promise<Float32Array> {
  const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 250 });
  const parts: number[] = [];
  for (const b of data.batches()) parts.push(...toFloat32((await r.run(b.feeds)).get(g.outputs[0]!.name)!));
  await r.dispose();
  return Float32Array.from(parts);
}

describe('TFLite export (float32)', () => {
  for (const [m, ops] of [
    ['fmnist_torch_cnn.onnx', ['CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'RESHAPE']],
    ['fmnist_cnn.onnx', ['CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX']],
    ['fmnist_mlp.onnx', ['FULLY_CONNECTED', 'SOFTMAX']],
  ] as const) {
    it(`${m} → .tflite → IR computes what the ONNX model computes`, async () => {
      const g = importOnnxBytes(readFileSync(model(m)));
      const r = exportTflite(g);
      const tfl = decodeTflite(r.bytes);
      const names = new Set(tfl.subgraphs[0]!.operators.map((o) => operatorName(tfl.operatorCodes[o.opcodeIndex]!)));
      for (const op of ops) assert.ok(names.has(op), `${op} missing: ${[...names].join(', ')}`);
      assert.ok(!names.has('RELU'), 'ReLUs are fused into the preceding op');
      const back = importTfliteBytes(r.bytes);
      const [a, b] = [await outputs(g), await outputs(back)];
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
      assert.ok(max <= 1e-4, `max |diff| ${max}`);
    });
  }

  it('a PyTorch (NCHW) CNN keeps no Transpose (the input one is a reshape, the pre-Flatten one is folded into the weights)', () => {
    const r = exportTflite(importOnnxBytes(readFileSync(model('fmnist_torch_cnn.onnx'))));
    assert.equal(r.transposes, 0, `${r.transposes} TRANSPOSE ops`);
  });

  it('the Keras CNN is within 2% of the official converter\'s file size, batch stays dynamic', () => {
    const r = exportTflite(importOnnxBytes(readFileSync(model('fmnist_cnn.onnx'))));
    const official = readFileSync(model('fmnist_cnn_float32.tflite')).byteLength;
    assert.ok(r.bytes.byteLength <= official * 1.02, `${r.bytes.byteLength} vs ${official}`);
    const t = decodeTflite(r.bytes);
    const input = t.subgraphs[0]!.tensors[t.subgraphs[0]!.inputs[0]!]!;
    assert.deepEqual(input.shapeSignature, [-1, 28, 28, 1]);
    assert.equal(t.signatureDefs?.[0]?.signatureKey, 'serving_default');
  });

  it('mlopt convert --to tflite writes the file; an op with no mapping is named', () => {
    const dir = tempDir();
    const out = join(dir, 'm.tflite');
    const r = runCli(['convert', model('fmnist_torch_cnn.onnx'), '--to', 'tflite', '-o', out, '--no-check']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(out));
    const lstm = join(CORPUS, 'onnx', 'lstm_1layer_pytorch1.9.onnx');
    if (existsSync(lstm)) {
      const bad = runCli(['convert', lstm, '--to', 'tflite', '-o', join(dir, 'x.tflite'), '--no-check']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /op \w+ \(node "[^"]+"\) has no TFLite mapping/);
      assert.ok(!existsSync(join(dir, 'x.tflite')));
    }
  });
});

describe('mlopt quantize --to tflite (float16, dynamic range)', () => {
  for (const [mode, maxRatio, maxDrop] of [['float16', 0.52, 0.1], ['dynamic', 0.27, 1.0]] as const) {
    it(`--${mode}: size × ≤ ${maxRatio}, accuracy drop ≤ ${maxDrop} points, measured in LiteRT`, () => {
      const out = join(tempDir(), `q.${mode}.tflite`);
      const r = runCli(['quantize', model('fmnist_cnn.onnx'), `--${mode}`, '--to', 'tflite', '--eval-data', TEST_NPZ, '-o', out, '--runs', '3', '--warmup', '1', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { sizeRatio: number; accuracyDrop: number; engine: string; format: string };
      assert.equal(j.format, 'tflite');
      assert.match(j.engine, /^litert/);
      assert.ok(j.sizeRatio <= maxRatio, `size ratio ${j.sizeRatio}`);
      assert.ok(j.accuracyDrop <= maxDrop, `drop ${j.accuracyDrop}`);
      const t = decodeTflite(readFileSync(out));
      const types = new Set(t.subgraphs[0]!.tensors.filter((x) => t.buffers[x.buffer]?.data.byteLength).map((x) => x.type));
      assert.ok(types.has(mode === 'float16' ? 1 : 9), `weights stored as ${mode}`);
    });
  }

  it('--int8 --to tflite: full-integer kernels, float I/O, accuracy within 0.3 points of the official int8 model, size ≤ 1.05 ×', () => {
    const out = join(tempDir(), 'q.int8.tflite');
    const r = runCli(['quantize', model('fmnist_cnn.onnx'), '--int8', '--to', 'tflite', '--calibration-data', join(FIXTURES, 'data', 'fmnist_train_2000.npz'), '--eval-data', TEST_NPZ, '-o', out, '--runs', '3', '--warmup', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { quantized: { accuracy: number; bytes: number }; top1Agreement: number };
    assert.ok(j.quantized.accuracy >= 0.913 - 0.003, `accuracy ${j.quantized.accuracy} (official int8: 0.913)`);
    assert.ok(j.quantized.bytes <= readFileSync(model('fmnist_cnn_int8.tflite')).byteLength * 1.05);
    const t = decodeTflite(readFileSync(out));
    const sg = t.subgraphs[0]!;
    const ops = sg.operators.map((o) => operatorName(t.operatorCodes[o.opcodeIndex]!));
    assert.equal(ops[0], 'QUANTIZE');
    assert.equal(ops.at(-1), 'DEQUANTIZE');
    assert.equal(ops.filter((o) => o === 'DEQUANTIZE' || o === 'QUANTIZE').length, 2, ops.join(' '));
    for (const o of sg.operators) {
      const name = operatorName(t.operatorCodes[o.opcodeIndex]!);
      if (name !== 'CONV_2D' && name !== 'FULLY_CONNECTED') continue;
      const [x, w, b] = o.inputs.map((i) => sg.tensors[i]!);
      assert.equal(x!.type, 9, `${name} reads int8`);
      assert.equal(w!.type, 9, `${name} weights int8`);
      assert.equal(b!.type, 2, `${name} bias int32`);
      assert.ok((w!.quantization?.zeroPoint ?? []).every((z) => z === 0n), 'symmetric weights');
      if (name === 'CONV_2D') assert.equal(w!.quantization?.scale?.length, w!.shape[0], 'per-channel conv weights');
      else assert.equal(w!.quantization?.scale?.length, 1, 'per-tensor FULLY_CONNECTED weights');
    }
    const softmax = sg.operators.find((o) => operatorName(t.operatorCodes[o.opcodeIndex]!) === 'SOFTMAX')!;
    const sq = sg.tensors[softmax.outputs[0]!]!.quantization!;
    assert.deepEqual([sq.scale, sq.zeroPoint], [[1 / 256], [-128n]], 'the fixed softmax output scale');
  });

  it('--int8 --to tflite with uint8 activations is refused, writes nothing', () => {
    const out = join(tempDir(), 'q.tflite');
    const r = runCli(['quantize', model('fmnist_cnn.onnx'), '--int8', '--activation-type', 'uint8', '--calibration-data', TEST_NPZ, '--to', 'tflite', '-o', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /uint8 cannot be written to TFLite/);
    assert.ok(!existsSync(out));
  });
});

describe('--io-type', () => {
  it('int8 I/O: the model takes and returns int8 tensors (no QUANTIZE/DEQUANTIZE at the edges)', () => {
    const out = join(tempDir(), 'q.tflite');
    const r = runCli(['quantize', model('fmnist_cnn.onnx'), '--int8', '--to', 'tflite', '--io-type', 'int8', '--calibration-data', join(FIXTURES, 'data', 'fmnist_train_2000.npz'), '--calibration-samples', '64', '-o', out, '--runs', '2', '--warmup', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const t = decodeTflite(readFileSync(out));
    const sg = t.subgraphs[0]!;
    assert.equal(sg.tensors[sg.inputs[0]!]!.type, 9);
    assert.equal(sg.tensors[sg.outputs[0]!]!.type, 9);
    const ops = sg.operators.map((o) => operatorName(t.operatorCodes[o.opcodeIndex]!));
    assert.ok(!ops.includes('QUANTIZE') && !ops.includes('DEQUANTIZE'), ops.join(' '));
    assert.match(JSON.parse(r.stdout).notes.join(' '), /float-I\/O twin/);
  });

  it('--io-type int8 without --int8: usage error, nothing written', () => {
    const out = join(tempDir(), 'q.tflite');
    const r = runCli(['quantize', model('fmnist_cnn.onnx'), '--dynamic', '--to', 'tflite', '--io-type', 'int8', '-o', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--io-type int8 needs --int8 --to tflite/);
    assert.ok(!existsSync(out));
  });
});

describe('TFLite export: TRANSPOSE_CONV, RESIZE, STRIDED_SLICE, GELU, BATCH_MATMUL', () => {
  it('a graph with those ops round-trips TFLite → IR and computes what the ONNX graph computes', async () => {
    const g = opsGraph();
    const r = exportTflite(g);
    const t = decodeTflite(r.bytes);
    const ops = t.subgraphs[0]!.operators.map((o) => operatorName(t.operatorCodes[o.opcodeIndex]!));
    for (const op of ['TRANSPOSE_CONV', 'RESIZE_BILINEAR', 'STRIDED_SLICE', 'GELU', 'BATCH_MATMUL']) assert.ok(ops.includes(op), `${op} missing: ${ops.join(' ')}`);
    const back = importTfliteBytes(r.bytes);
    const { randomFeeds } = await import('../../../src/data/index.js');
    const feeds = randomFeeds(feedInputs(g), 2);
    const run = async (gg: Graph) => {
      const rr = await createOnnxRunner(exportOnnxBytes(gg), feedInputs(gg), gg.outputs);
      const out = toFloat32((await rr.run(feeds)).get(gg.outputs[0]!.name)!);
      await rr.dispose();
      return out;
    };
    const [a, b] = [await run(g), await run(back)];
    assert.equal(a.length, b.length);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(a[i]!)));
    assert.ok(max <= 1e-4, `max relative diff ${max}`);
  });
});

describe('mlopt convert --to tflite with a quantization mode', () => {
  it('--dynamic runs the quantize pipeline (measured table, TFLite output)', () => {
    const out = join(tempDir(), 'c.tflite');
    const r = runCli(['convert', model('fmnist_cnn.onnx'), '--to', 'tflite', '--dynamic', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { format: string; mode: string; sizeRatio: number };
    assert.equal(j.format, 'tflite');
    assert.equal(j.mode, 'dynamic');
    assert.ok(j.sizeRatio < 0.3 && existsSync(out));
  });
  it('--calibration-data without --int8 is a usage error', () => {
    const r = runCli(['convert', model('fmnist_cnn.onnx'), '--to', 'tflite', '--calibration-data', TEST_NPZ, '-o', join(tempDir(), 'x.tflite')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /go with --int8/);
  });
});
