import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeNpz } from '../../src/data/index.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import { CNN_ONNX, FIXTURES, TEST_NPZ, runCli, tempDir } from '../helpers.js';

const TRAIN_NPZ = join(FIXTURES, 'data', 'fmnist_train_2000.npz');
const TORCH_ONNX = join(FIXTURES, 'models', 'fmnist_torch_cnn.onnx');
const FAST = ['--runs', '3', '--warmup', '1'];

interface QJson {
  output: string;
  sizeRatio: number;
  accuracyDrop?: number;
  top1Agreement: number;
  float: { accuracy?: number; bytes: number };
  quantized: { accuracy?: number; bytes: number };
  quantizedNodes: Array<{ node: string; op: string }>;
  keptFloat: Array<{ node: string; op: string; reason: string }>;
  sqnrDb: Record<string, number>;
  layers?: Array<{ node: string; op: string; sqnrDb: number }>;
  fallback?: { met: boolean; keptFloat: string[]; steps: unknown[] };
  timings: { quantizeMs: number };
}

function quantizeJson(args: string[]): QJson {
  const r = runCli(['quantize', ...args, ...FAST, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as QJson;
}

function graphOf(path: string) {
  return importOnnxBytes(readFileSync(path), path);
}

describe('mlopt quantize --int8 (static)', () => {
  it('meets the size and accuracy targets on the CNN fixture and writes a QDQ model', () => {
    const out = join(tempDir(), 'q.onnx');
    const r = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--eval-data', TEST_NPZ, '-o', out]);
    assert.ok(existsSync(out));
    assert.ok(r.sizeRatio <= 0.27, `size ratio ${r.sizeRatio}`);
    assert.ok(r.accuracyDrop! <= 0.5, `drop ${r.accuracyDrop}`);
    assert.ok(r.float.accuracy! > 0.9);
    assert.deepEqual(r.quantizedNodes.map((n) => n.op).filter((op) => op === 'Conv' || op === 'Gemm').sort(), ['Conv', 'Conv', 'Gemm', 'Gemm']);
    const g = graphOf(out);
    const ops = g.nodes.map((n) => n.op);
    assert.ok(ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear'));
    // every Conv/Gemm weight is an int8 initializer behind a DequantizeLinear; biases int32
    const producers = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    for (const n of g.nodes.filter((x) => x.op === 'Conv' || x.op === 'Gemm')) {
      const dqw = producers.get(n.inputs[1]!)!;
      assert.equal(dqw.op, 'DequantizeLinear');
      assert.equal(g.initializers.get(dqw.inputs[0]!)!.dtype, 'int8');
      const dqb = producers.get(n.inputs[2]!)!;
      assert.equal(g.initializers.get(dqb.inputs[0]!)!.dtype, 'int32');
    }
    // no float32 weight matrix is left
    const floatParams = [...g.initializers.values()].filter((t) => t.dtype === 'float32').reduce((s, t) => s + t.data.length, 0);
    assert.ok(floatParams < 500, `float params left: ${floatParams}`);
  });

  it('prints the comparison table', () => {
    const out = join(tempDir(), 'q.onnx');
    const r = runCli(['quantize', CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '64', '--eval-data', TEST_NPZ, '-o', out, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['file size', 'latency p50 (batch 32)', 'top-1 accuracy', 'top-1 agreement with float', 'SQNR of output probs', `wrote ${out}`]) assert.match(r.stdout, new RegExp(s.replace(/[()]/g, '\\$&')));
  });

  it('per-tensor, int8 activations and every calibration method run and keep accuracy', () => {
    for (const extra of [['--per-tensor'], ['--activation-type', 'int8'], ['--calibration-method', 'percentile', '--percentile', '99.9'], ['--calibration-method', 'entropy']]) {
      const r = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '100', '--eval-data', TEST_NPZ, '-o', join(tempDir(), 'q.onnx'), ...extra]);
      assert.ok(r.accuracyDrop! <= 1.0, `${extra.join(' ')}: drop ${r.accuracyDrop}`);
    }
  });

  it('--report-layers lists every quantized Conv/Gemm with its SQNR, worst first', () => {
    const r = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '64', '-o', join(tempDir(), 'q.onnx'), '--report-layers']);
    assert.ok(r.layers && r.layers.length === 4, JSON.stringify(r.layers));
    for (let i = 1; i < r.layers.length; i++) assert.ok(r.layers[i - 1]!.sqnrDb <= r.layers[i]!.sqnrDb);
    for (const l of r.layers) assert.ok(l.sqnrDb > 20 && l.sqnrDb < 80, `${l.node}: ${l.sqnrDb}`);
  });

  it('--exclude keeps the chosen op type in float', () => {
    const out = join(tempDir(), 'q.onnx');
    const r = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '64', '-o', out, '--exclude', 'Gemm']);
    assert.ok(!r.quantizedNodes.some((n) => n.op === 'Gemm'));
    assert.equal(r.keptFloat.filter((k) => k.reason === 'excluded').length, 2);
    const g = graphOf(out);
    for (const n of g.nodes.filter((x) => x.op === 'Gemm')) {
      assert.equal(g.initializers.get(n.inputs[1]!)?.dtype, 'float32', 'Gemm weights stay float32');
    }
    for (const n of g.nodes.filter((x) => x.op === 'Conv')) assert.ok(!g.initializers.has(n.inputs[1]!), 'Conv weights are dequantized');
  });

  it('--exclude with a node-name glob, and a pattern that matches nothing is an error', () => {
    const r = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '32', '-o', join(tempDir(), 'q.onnx'), '--exclude', '*conv1*']);
    assert.ok(r.keptFloat.some((k) => /conv1/.test(k.node) && k.reason === 'excluded'));
    const bad = runCli(['quantize', CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '-o', join(tempDir(), 'q.onnx'), '--exclude', 'NoSuchOp']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--exclude "NoSuchOp" matches no node/);
  });

  it('--max-accuracy-drop puts damaged nodes back in float until the budget holds', () => {
    // a deliberately bad calibration (median-percentile clipping) breaks accuracy
    const bad = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '16', '--calibration-method', 'percentile', '--percentile', '60', '--eval-data', TEST_NPZ, '-o', join(tempDir(), 'q.onnx')]);
    assert.ok(bad.accuracyDrop! > 2, `the bad calibration should hurt (drop ${bad.accuracyDrop})`);
    const out = join(tempDir(), 'q.onnx');
    const r = quantizeJson([CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '16', '--calibration-method', 'percentile', '--percentile', '60', '--eval-data', TEST_NPZ, '-o', out, '--max-accuracy-drop', '1']);
    assert.ok(r.fallback?.met);
    assert.ok(r.fallback!.keptFloat.length >= 1);
    assert.ok(r.accuracyDrop! <= 1, `drop ${r.accuracyDrop}`);
    const g = graphOf(out);
    for (const name of r.fallback!.keptFloat) {
      const n = g.nodes.find((x) => x.name === name)!;
      assert.equal(g.initializers.get(n.inputs[1]!)?.dtype, 'float32', `${name} is float again`);
    }
  });

  it('quantizes a PyTorch export (NCHW, Gemm, logits output)', () => {
    const r = quantizeJson([TORCH_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-samples', '64', '--eval-data', TEST_NPZ, '-o', join(tempDir(), 'q.onnx')]);
    assert.ok(r.accuracyDrop! <= 1, `drop ${r.accuracyDrop}`);
    assert.ok(r.sizeRatio < 0.3);
  });
});

describe('mlopt quantize --dynamic / --float16', () => {
  it('--dynamic meets the size and accuracy targets with no data', () => {
    const out = join(tempDir(), 'd.onnx');
    const r = quantizeJson([CNN_ONNX, '--dynamic', '--eval-data', TEST_NPZ, '-o', out]);
    assert.ok(r.sizeRatio <= 0.27, `size ratio ${r.sizeRatio}`);
    assert.ok(r.accuracyDrop! <= 1.0);
    const ops = graphOf(out).nodes.map((n) => n.op);
    assert.ok(ops.includes('DynamicQuantizeLinear') && ops.includes('MatMulInteger'));
    const integer = quantizeJson([CNN_ONNX, '--dynamic', '--dynamic-conv', 'integer', '-o', join(tempDir(), 'd.onnx')]);
    assert.ok(integer.top1Agreement >= 0.9);
  });

  it('--float16 meets the size and accuracy targets and keeps float32 I/O', () => {
    const out = join(tempDir(), 'h.onnx');
    const r = quantizeJson([CNN_ONNX, '--float16', '--eval-data', TEST_NPZ, '-o', out]);
    assert.ok(r.sizeRatio <= 0.52, `size ratio ${r.sizeRatio}`);
    assert.ok(r.accuracyDrop! <= 0.1, `drop ${r.accuracyDrop}`);
    const g = graphOf(out);
    assert.equal(g.inputs[0]!.dtype, 'float32');
    assert.equal(g.outputs[0]!.dtype, 'float32');
    assert.ok([...g.initializers.values()].some((t) => t.dtype === 'float16'));
  });
});

describe('mlopt quantize: bad input', () => {
  const dir = tempDir();
  const npz = (name: string, x: Float32Array, shape: number[]): string => {
    const p = join(dir, name);
    writeFileSync(p, writeNpz({ x: { dtype: 'float32', shape, data: x } }));
    return p;
  };
  const cases: Array<[string, () => string[], RegExp, number]> = [
    ['no calibration data for --int8', () => [CNN_ONNX, '--int8'], /needs calibration data/, 2],
    ['--percentile 150', () => [CNN_ONNX, '--int8', '--calibration-data', TRAIN_NPZ, '--calibration-method', 'percentile', '--percentile', '150'], /--percentile must be in \(0, 100\]/, 2],
    ['no mode', () => [CNN_ONNX], /choose a quantization/, 2],
    ['two modes', () => [CNN_ONNX, '--int8', '--dynamic'], /choose one of/, 2],
    ['calibration data of the wrong shape', () => [CNN_ONNX, '--int8', '--calibration-data', npz('wrong.npz', new Float32Array(50), [10, 5])], /shape|cannot/i, 1],
    ['an empty data file', () => [CNN_ONNX, '--int8', '--calibration-data', npz('empty.npz', new Float32Array(0), [0, 28, 28, 1])], /empty/, 1],
    ['NaN in the data', () => {
      const x = new Float32Array(4 * 784).fill(0.5);
      x[800] = NaN;
      return [CNN_ONNX, '--int8', '--calibration-data', npz('nan.npz', x, [4, 28, 28, 1])];
    }, /NaN value \(sample 1\)/, 1],
    ['a missing model', () => [join(dir, 'nope.onnx'), '--dynamic'], /no such file/i, 1],
    ['--max-accuracy-drop without --eval-data', () => [CNN_ONNX, '--dynamic', '--max-accuracy-drop', '1'], /needs labelled --eval-data/, 2],
  ];
  for (const [what, args, re, code] of cases) {
    it(`${what}: one-line error, exit ${code}, nothing written`, () => {
      const out = join(tempDir(), 'out.onnx');
      const r = runCli(['quantize', ...args(), '-o', out]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, re);
      assert.ok(!r.stderr.includes('    at '), 'no stack trace');
      assert.ok(!existsSync(out), 'nothing written');
    });
  }

  it('an already quantized model is refused', () => {
    const q = join(tempDir(), 'q.onnx');
    assert.equal(runCli(['quantize', CNN_ONNX, '--dynamic', '-o', q, ...FAST]).code, 0);
    const out = join(tempDir(), 'qq.onnx');
    const r = runCli(['quantize', q, '--dynamic', '-o', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already quantized/);
    assert.ok(!existsSync(out));
  });

  it('never overwrites the input model', () => {
    const before = readFileSync(CNN_ONNX);
    const r = runCli(['quantize', CNN_ONNX, '--dynamic', '-o', CNN_ONNX, '--force', ...FAST]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(readFileSync(CNN_ONNX), before);
  });
});
