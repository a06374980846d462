import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { quantize } from '../../src/api/quantize.js';
import { writeNpz } from '../../src/data/index.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import type { Attr, Graph, Node } from '../../src/ir/graph.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { tempDir } from '../helpers.js';

// a seeded generator, so the test sees the same network every time
let seed = 12345;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const f32 = (shape: number[], scale = 0.3): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale) };
};
const ints = (v: number[]): Attr => ({ type: 'ints', value: v });
let k = 0;
const node = (op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node => ({ name: `${op.toLowerCase()}${k++}`, op, domain: '', inputs, outputs, attrs });

/** A small residual CNN: Conv/Relu, a residual Add, AveragePool, a Concat of two branches,
 *  GlobalAveragePool, Flatten, Gemm, Softmax — the ops whose int8 paths onnxruntime has. */
function residualNet(): Graph {
  const conv3 = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
  const nodes = [
    node('Conv', ['x', 'w1', 'b1'], ['c1'], conv3),
    node('Relu', ['c1'], ['r1']),
    node('Conv', ['r1', 'w2', 'b2'], ['c2'], conv3),
    node('Add', ['c2', 'r1'], ['a1']),
    node('Relu', ['a1'], ['r2']),
    node('AveragePool', ['r2'], ['p1'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
    node('Conv', ['p1', 'w3', 'b3'], ['c3'], { kernel_shape: ints([1, 1]) }),
    node('Concat', ['p1', 'c3'], ['cat'], { axis: { type: 'int', value: 1 } }),
    node('GlobalAveragePool', ['cat'], ['gap']),
    node('Flatten', ['gap'], ['flat']),
    node('Gemm', ['flat', 'wf', 'bf'], ['logits'], { transB: { type: 'int', value: 1 } }),
    node('Softmax', ['logits'], ['y']),
  ];
  const init: Record<string, Tensor> = { w1: f32([16, 3, 3, 3]), b1: f32([16], 0.1), w2: f32([16, 16, 3, 3], 0.1), b2: f32([16], 0.1), w3: f32([8, 16, 1, 1]), b3: f32([8], 0.1), wf: f32([10, 24]), bf: f32([10], 0.1) };
  return {
    name: 'resnet', inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 16, 16] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 10] }],
    valueInfo: [], nodes, initializers: new Map(Object.entries(init)), metadata: { opsets: [{ domain: '', version: 17 }], props: {} },
  };
}

describe('static int8 QDQ placement', () => {
  const dir = tempDir();
  const model = join(dir, 'resnet.onnx');
  writeFileSync(model, exportOnnxBytes(residualNet()));
  const calib = join(dir, 'calib.npz');
  writeFileSync(calib, writeNpz({ x: f32([64, 3, 16, 16], 1) }));

  it('onnxruntime fuses every QDQ group into an integer kernel (no float Conv/Gemm/Add/pool left)', async () => {
    const out = join(dir, 'q.onnx');
    const r = await quantize(model, { mode: 'int8', calibrationData: calib, output: out, runs: 2, warmup: 0 });
    assert.ok(r.sqnrDb.y! > 25, `output SQNR ${r.sqnrDb.y}`);
    assert.ok(r.top1Agreement >= 0.9, `agreement ${r.top1Agreement}`);
    // the Relu after the first conv and after the Add fold into their producers' output quantization
    assert.ok(r.notes.some((n) => /folded 2 Relu/.test(n)), r.notes.join('; '));
    const optimized = join(dir, 'q.optimized.onnx');
    const s = await ort.InferenceSession.create(out, { optimizedModelFilePath: optimized, graphOptimizationLevel: 'all' });
    await s.release();
    const ops = importOnnxBytes(readFileSync(optimized)).nodes.map((n) => n.op);
    for (const op of ['QLinearConv', 'QLinearAdd', 'QLinearAveragePool', 'QLinearConcat', 'QLinearGlobalAveragePool', 'QGemm']) {
      assert.ok(ops.includes(op), `${op} missing from onnxruntime's optimized graph: ${ops.join(', ')}`);
    }
    for (const op of ['Conv', 'Add', 'AveragePool', 'GlobalAveragePool', 'Gemm', 'Relu', 'Concat']) assert.ok(!ops.includes(op), `float ${op} left: ${ops.join(', ')}`);
  });

  it('the input graph is not modified and ranges are reused when nodes are excluded', async () => {
    const g = residualNet();
    const before = JSON.stringify([...g.initializers.keys()]) + JSON.stringify(g.nodes);
    const { prepareForQuantization } = await import('../../src/optimize/quantize/prepare.js');
    const { planStatic, applyStatic, tensorsToCalibrate } = await import('../../src/optimize/quantize/static.js');
    const p = prepareForQuantization(g).graph;
    const full = planStatic(p);
    const ranges = new Map(tensorsToCalibrate(full).map((t) => [t, { lo: -1, hi: 1 }]));
    const partial = planStatic(p, { exclude: (n) => n.op === 'Concat' || n.op === 'Add' });
    for (const t of tensorsToCalibrate(partial)) assert.ok(ranges.has(t), `${t} needs a new range`);
    const q = applyStatic(p, partial, ranges);
    assert.ok(q.graph.nodes.some((n) => n.op === 'Concat'));
    assert.equal(JSON.stringify([...g.initializers.keys()]) + JSON.stringify(g.nodes), before);
  });
});

describe('static int8 around ops mlopt does not know', () => {
  it('leaves an opaque node in float between DequantizeLinear and QuantizeLinear, and says so', async () => {
    const g = residualNet();
    // insert onnxruntime's contrib Gelu (unknown to mlopt's catalogue) after the first ReLU
    const i = g.nodes.findIndex((n) => n.op === 'Relu');
    g.nodes.splice(i + 1, 0, { name: 'gelu', op: 'Gelu', domain: 'com.microsoft', inputs: ['r1'], outputs: ['r1g'], attrs: {} });
    for (const n of g.nodes.slice(i + 2)) n.inputs = n.inputs.map((x) => (x === 'r1' ? 'r1g' : x));
    g.metadata.opsets.push({ domain: 'com.microsoft', version: 1 });
    const dir = tempDir();
    const model = join(dir, 'opaque.onnx');
    writeFileSync(model, exportOnnxBytes(g));
    const calib = join(dir, 'calib.npz');
    writeFileSync(calib, writeNpz({ x: f32([32, 3, 16, 16], 1) }));
    const out = join(dir, 'q.onnx');
    const r = await quantize(model, { mode: 'int8', calibrationData: calib, output: out, runs: 2, warmup: 0 });
    assert.ok(r.notes.some((n) => /com\.microsoft:Gelu/.test(n) && /left in float/.test(n)), r.notes.join('; '));
    assert.ok(r.keptFloat.some((k) => k.node === 'gelu'));
    assert.ok(r.sqnrDb.y! > 20, `SQNR ${r.sqnrDb.y}`);
    const q = importOnnxBytes(readFileSync(out));
    const gelu = q.nodes.find((n) => n.name === 'gelu')!;
    const producer = q.nodes.find((n) => n.outputs.includes(gelu.inputs[0]!))!;
    assert.equal(producer.op, 'DequantizeLinear', 'the opaque op reads dequantized float data');
  });
});
