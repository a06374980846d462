import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { CORPUS_SKIP, FIXTURES, TEST_NPZ, corpusOnnx } from '../helpers.js';
import { convertToFloat16, tensorToFloat16, type Float16Result } from '../../src/optimize/quantize/float16.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { tensorFromOnnx } from '../../src/formats/onnx/tensor.js';
import { decodeTensor } from '../../src/formats/onnx/proto/index.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import type { Runner } from '../../src/runtime/runner.js';
import { loadDataset, prepareFeeds, randomFeeds, toFloat16Bits } from '../../src/data/index.js';
import { type Attr, type Graph, type Node, createGraph, feedInputs } from '../../src/ir/graph.js';
import { type Tensor, isNumericData, toFloat32, toNumbers } from '../../src/ir/tensor.js';
import { bytesOf } from '../../src/ir/dtype.js';
import { graphToJson } from '../../src/ir/dump.js';
import { validateGraph } from '../../src/ir/validate.js';
import { maxAbsDiff } from '../../src/bench/agreement.js';

// ---------------------------------------------------------------------------------------------
// helpers

/** A dump of the whole graph, initializer bytes included (graphToJson shows only a preview). */
function snapshot(g: Graph): string {
  const h = createHash('sha256');
  for (const [name, t] of g.initializers) {
    h.update(name);
    if (isNumericData(t.data)) h.update(bytesOf(t.data));
  }
  return JSON.stringify(graphToJson(g)) + h.digest('hex');
}

function assertValidGraph(g: Graph, what: string): void {
  const errors = validateGraph(g).filter((i) => i.severity === 'error');
  assert.deepEqual(errors.map((e) => e.message), [], `${what}: converted graph is invalid`);
  const nodeNames = g.nodes.map((n) => n.name);
  assert.equal(new Set(nodeNames).size, nodeNames.length, `${what}: duplicate node names`);
  const produced = g.nodes.flatMap((n) => n.outputs.filter((o) => o !== ''));
  assert.equal(new Set(produced).size, produced.length, `${what}: a value is produced twice`);
}

async function withRunner<T>(bytes: Uint8Array, g: Graph, fn: (r: Runner) => Promise<T>): Promise<T> {
  const r = await createOnnxRunner(bytes, feedInputs(g), g.outputs, { threads: 1 });
  try {
    return await fn(r);
  } finally {
    await r.dispose();
  }
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function argmaxAgreement(a: Float32Array, b: Float32Array, cols: number): number {
  let same = 0;
  const rows = a.length / cols;
  for (let r = 0; r < rows; r++) {
    let ia = 0;
    let ib = 0;
    for (let c = 1; c < cols; c++) {
      if ((a[r * cols + c] as number) > (a[r * cols + ia] as number)) ia = c;
      if ((b[r * cols + c] as number) > (b[r * cols + ib] as number)) ib = c;
    }
    if (ia === ib) same++;
  }
  return same / rows;
}

function f16Feeds(feeds: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of feeds) {
    const src = toFloat32(t);
    out.set(k, { dtype: 'float16', shape: t.shape, data: Uint16Array.from(src, (x) => toFloat16Bits(x)) });
  }
  return out;
}

const model = (name: string): string => join(FIXTURES, 'models', name);

// ---------------------------------------------------------------------------------------------
// the fixture models

const FIXTURE_CASES = [
  { file: 'fmnist_cnn.onnx', output: 'probs', kind: 'probs' },
  { file: 'fmnist_mlp.onnx', output: 'probs', kind: 'probs' },
  { file: 'fmnist_torch_cnn.onnx', output: 'logits', kind: 'logits' },
] as const;

/** Run both graphs on the 1000 test images; returns [float32 outputs, float16-model outputs]. */
async function runBoth(a: Graph, b: Graph, bFeeds: (f: Map<string, Tensor>) => Map<string, Tensor> = (f) => f): Promise<[Float32Array, Float32Array, Map<string, Tensor>]> {
  const ds = await loadDataset(TEST_NPZ);
  const prepared = prepareFeeds(ds, feedInputs(a), { batch: 250 });
  const ya: number[] = [];
  const yb: number[] = [];
  let lastB = new Map<string, Tensor>();
  await withRunner(exportOnnxBytes(a), a, (ra) => withRunner(exportOnnxBytes(b), b, async (rb) => {
    for (const batch of prepared.batches()) {
      const oa = await ra.run(batch.feeds);
      const ob = await rb.run(bFeeds(batch.feeds));
      ya.push(...toFloat32([...oa.values()][0]!));
      yb.push(...toFloat32([...ob.values()][0]!));
      lastB = ob;
    }
  }));
  return [Float32Array.from(ya), Float32Array.from(yb), lastB];
}

function checkAgreement(kind: 'probs' | 'logits', ya: Float32Array, yb: Float32Array, what: string): void {
  assert.equal(yb.length, ya.length);
  const diff = maxAbsDiff(ya, yb);
  if (kind === 'probs') assert.ok(diff <= 2e-3, `${what}: max |diff| of probabilities ${diff}`);
  else assert.ok(diff / Math.max(1, maxAbs(ya)) <= 2e-3, `${what}: max |diff| of logits ${diff} (max |logit| ${maxAbs(ya)})`);
  assert.ok(argmaxAgreement(ya, yb, 10) >= 0.99, `${what}: top-1 agreement ${argmaxAgreement(ya, yb, 10)}`);
}

for (const c of FIXTURE_CASES) {
  test(`${c.file}: float16 model matches the float32 one and is about half the size`, async () => {
    const g = importOnnxBytes(readFileSync(model(c.file)), c.file);
    const before = snapshot(g);
    const r = convertToFloat16(g);
    assert.equal(snapshot(g), before, 'the input graph was modified');
    assertValidGraph(r.graph, c.file);

    // every float32 weight of these models feeds converted nodes: all stored as float16
    for (const [name, t] of g.initializers) {
      if (t.dtype === 'float32') assert.equal(r.graph.initializers.get(name)?.dtype, 'float16', `initializer ${name}`);
    }
    assert.ok(r.convertedNodes >= 5, `converted ${r.convertedNodes}`);
    // keepIoTypes: exactly one Cast after the input and one before the output
    assert.equal(r.castsInserted, 2);
    assert.equal(r.keptFloat.filter((k) => k.reason !== 'exact op: stays in the type of its float32 input').length, 0, JSON.stringify(r.keptFloat));

    const fp32 = exportOnnxBytes(g);
    const fp16 = exportOnnxBytes(r.graph);
    const ratio = fp16.length / fp32.length;
    assert.ok(ratio <= 0.52, `size ratio ${ratio.toFixed(3)} (${fp16.length} / ${fp32.length} bytes)`);

    // the exported model declares float32 I/O, under the original names
    const back = importOnnxBytes(fp16, 'fp16');
    assert.deepEqual(back.inputs.map((v) => [v.name, v.dtype]), g.inputs.map((v) => [v.name, 'float32']));
    assert.deepEqual(back.outputs.map((v) => [v.name, v.dtype]), [[c.output, 'float32']]);

    const [ya, yb, last] = await runBoth(g, r.graph);
    assert.equal(last.get(c.output)?.dtype, 'float32', 'onnxruntime returns float32');
    checkAgreement(c.kind, ya, yb, c.file);
    console.log(`# ${c.file}: ${fp32.length} → ${fp16.length} bytes (ratio ${ratio.toFixed(3)}), max |diff| ${maxAbsDiff(ya, yb).toExponential(2)}, converted ${r.convertedNodes}, casts ${r.castsInserted}`);
  });
}

test('exclude: excluded Conv nodes keep float32 weights and the model still matches', async () => {
  for (const file of ['fmnist_cnn.onnx', 'fmnist_torch_cnn.onnx']) {
    const g = importOnnxBytes(readFileSync(model(file)), file);
    const before = snapshot(g);
    const seen: Node[] = [];
    const r = convertToFloat16(g, { exclude: (n) => { seen.push(n); return n.op === 'Conv'; } });
    assert.equal(snapshot(g), before);
    assertValidGraph(r.graph, file);
    // the callback sees the input graph's nodes
    assert.ok(seen.every((n) => g.nodes.includes(n)));
    const convs = g.nodes.filter((n) => n.op === 'Conv');
    assert.equal(convs.length, 2);
    for (const conv of convs) {
      assert.ok(r.keptFloat.some((k) => k.node === conv.name && k.op === 'Conv' && k.reason === 'excluded by user'));
      const out = r.graph.nodes.find((n) => n.name === conv.name)!;
      for (const w of out.inputs.slice(1)) {
        assert.equal(r.graph.initializers.get(w)?.dtype, 'float32', `${file}: Conv weight ${w}`);
        assert.equal(r.graph.initializers.get(w), g.initializers.get(w), 'unchanged weights are shared, not copied');
      }
    }
    // the dense layers are still converted
    const dense = g.nodes.filter((n) => n.op === 'MatMul' || n.op === 'Gemm');
    for (const d of dense) assert.equal(r.graph.initializers.get(d.inputs[1]!)?.dtype, 'float16');
    const [ya, yb] = await runBoth(g, r.graph);
    checkAgreement(file === 'fmnist_cnn.onnx' ? 'probs' : 'logits', ya, yb, `${file} without Conv`);
  }
});

test('keepIoTypes: false gives float16 inputs and outputs without boundary Casts', async () => {
  const g = importOnnxBytes(readFileSync(model('fmnist_mlp.onnx')), 'mlp');
  const r = convertToFloat16(g, { keepIoTypes: false });
  assertValidGraph(r.graph, 'mlp');
  assert.equal(r.castsInserted, 0);
  assert.deepEqual(r.graph.inputs.map((v) => v.dtype), ['float16']);
  assert.deepEqual(r.graph.outputs.map((v) => [v.name, v.dtype]), [['probs', 'float16']]);
  const [ya, yb, last] = await runBoth(g, r.graph, f16Feeds);
  assert.equal(last.get('probs')?.dtype, 'float16');
  checkAgreement('probs', ya, yb, 'mlp float16 I/O');
});

// ---------------------------------------------------------------------------------------------
// small hand-built graphs: sharing, constants, subgraphs, names, opset details

const f32 = (shape: number[], f: (i: number) => number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) };
};
const i64 = (values: number[]): Tensor => ({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, BigInt) });
const mk = (name: string, op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node =>
  ({ name, op, domain: '', inputs, outputs, attrs });

function baseGraph(opset = 13): Graph {
  const g = createGraph('t');
  g.metadata.opsets = [{ domain: '', version: opset }];
  return g;
}

/** Convert, check validity and non-mutation, run both in onnxruntime, compare all outputs. */
async function convertAndCompare(g: Graph, opts: Parameters<typeof convertToFloat16>[1] = {}, tol = 5e-3): Promise<Float16Result> {
  assertValidGraph(g, 'source graph');
  const before = snapshot(g);
  const r = convertToFloat16(g, opts);
  assert.equal(snapshot(g), before, 'input graph modified');
  assertValidGraph(r.graph, 'converted');
  const feeds = randomFeeds(feedInputs(g), 2, 11);
  const oa = await withRunner(exportOnnxBytes(g), g, (x) => x.run(feeds));
  const ob = await withRunner(exportOnnxBytes(r.graph), r.graph, (x) => x.run(feeds));
  for (const [name, t] of oa) {
    const u = ob.get(name);
    assert.ok(u, `output ${name} missing`);
    assert.equal(u.dtype, t.dtype, `output ${name} dtype`);
    const a = toFloat32(t);
    const d = maxAbsDiff(a, toFloat32(u));
    assert.ok(d <= tol * Math.max(1, maxAbs(a)), `output ${name}: max |diff| ${d}`);
  }
  return r;
}

test('a weight shared by a float16 and a float32 node stays float32 with one shared Cast; tiny ones get a copy', async () => {
  const g = baseGraph();
  g.inputs = [{ name: 'x', dtype: 'float32', shape: ['n', 8] }];
  g.outputs = [{ name: 'y', dtype: 'float32', shape: ['n', 8] }];
  g.initializers.set('W', f32([8, 8], (i) => Math.sin(i) / 4));
  g.initializers.set('b', f32([8], (i) => i / 10));
  g.nodes = [
    mk('mm1', 'MatMul', ['x', 'W'], ['a']),
    mk('add1', 'Add', ['a', 'b'], ['a2']),
    mk('mm2', 'MatMul', ['a2', 'W'], ['c']), // excluded
    mk('add2', 'Add', ['c', 'b'], ['c2']), // excluded
    mk('mm3', 'MatMul', ['c2', 'W'], ['y']),
  ];
  const r = await convertAndCompare(g, { exclude: (n) => n.name === 'mm2' || n.name === 'add2' });
  const out = r.graph;
  assert.equal(out.initializers.get('W')?.dtype, 'float32');
  assert.equal(out.initializers.get('b')?.dtype, 'float32');
  // W reaches mm1 and mm3 through one Cast
  const castsOfW = out.nodes.filter((n) => n.op === 'Cast' && n.inputs[0] === 'W');
  assert.equal(castsOfW.length, 1);
  const w16 = castsOfW[0]!.outputs[0]!;
  assert.equal(out.nodes.find((n) => n.name === 'mm1')!.inputs[1], w16);
  assert.equal(out.nodes.find((n) => n.name === 'mm3')!.inputs[1], w16);
  assert.equal(out.nodes.find((n) => n.name === 'mm2')!.inputs[1], 'W');
  // b (8 elements) gets a float16 copy instead of a Cast
  const b16 = out.nodes.find((n) => n.name === 'add1')!.inputs[1]!;
  assert.notEqual(b16, 'b');
  assert.equal(out.initializers.get(b16)?.dtype, 'float16');
  assert.deepEqual(r.keptFloat.map((k) => k.node), ['mm2', 'add2']);
  // x → Cast → mm1; a2 → Cast → mm2; c2 → Cast → mm3; mm3 → Cast → y; + the Cast of W
  assert.equal(r.castsInserted, 5);
});

test('Constant nodes: converted when all readers are float16, else kept with a Cast', async () => {
  const g = baseGraph();
  g.inputs = [{ name: 'x', dtype: 'float32', shape: [2, 4] }];
  g.outputs = [{ name: 'y', dtype: 'float32', shape: [2, 4] }, { name: 'z', dtype: 'float32', shape: [2, 4] }];
  g.nodes = [
    mk('k1', 'Constant', [], ['c1'], { value: { type: 'tensor', value: f32([4], (i) => i + 0.5) } }),
    mk('k2', 'Constant', [], ['c2'], { value_floats: { type: 'floats', value: [0.25, -1, 2, 3] } }),
    mk('k3', 'Constant', [], ['c3'], { value_float: { type: 'float', value: 0.5 } }),
    mk('mul', 'Mul', ['x', 'c1'], ['m']),
    mk('add', 'Add', ['m', 'c2'], ['a']),
    mk('exp', 'Exp', ['c2'], ['e']), // c2 also read by a float32 op
    mk('add2', 'Add', ['a', 'e'], ['y']),
    mk('mul2', 'Mul', ['a', 'c3'], ['z']),
  ];
  const r = await convertAndCompare(g);
  const byName = (n: string): Node => r.graph.nodes.find((x) => x.name === n)!;
  const v1 = byName('k1').attrs.value;
  assert.equal(v1?.type === 'tensor' && v1.value.dtype, 'float16');
  const v3 = byName('k3').attrs;
  assert.equal(v3.value?.type === 'tensor' && v3.value.value.dtype, 'float16');
  assert.equal(v3.value_float, undefined);
  assert.ok(byName('k2').attrs.value_floats, 'k2 is read by Exp: stays float32');
  assert.deepEqual(r.keptFloat.map((k) => [k.node, k.op]), [['k2', 'Constant'], ['exp', 'Exp']]);
  // the original Constant attrs are untouched
  assert.equal(g.nodes[0]!.attrs.value?.type === 'tensor' && g.nodes[0]!.attrs.value.value.dtype, 'float32');
});

test('Resize keeps its float32 scales; BatchNormalization, Softmax, Concat, Split, Pad, Where convert', async () => {
  const g = baseGraph(13);
  g.inputs = [{ name: 'x', dtype: 'float32', shape: [1, 2, 3, 3] }, { name: 'cond', dtype: 'bool', shape: [1, 2, 6, 6] }];
  g.outputs = [{ name: 'y', dtype: 'float32', shape: [1, 2, 6, 6] }, { name: 'p', dtype: 'float32', shape: [1, 2, 8, 6] }];
  g.initializers.set('scales', f32([4], (i) => (i < 2 ? 1 : 2)));
  g.initializers.set('gamma', f32([2], (i) => 1 + i));
  g.initializers.set('beta', f32([2], (i) => i / 3));
  g.initializers.set('mean', f32([2], (i) => i / 7));
  g.initializers.set('var', f32([2], (i) => 1 + i / 5));
  g.initializers.set('pads', i64([0, 0, 1, 0, 0, 0, 1, 0]));
  g.initializers.set('padv', f32([], () => 0.5));
  g.initializers.set('split', i64([1, 1]));
  g.nodes = [
    mk('bn', 'BatchNormalization', ['x', 'gamma', 'beta', 'mean', 'var'], ['b']),
    mk('rs', 'Resize', ['b', '', 'scales'], ['r'], { mode: { type: 'string', value: 'linear' } }),
    mk('sm', 'Softmax', ['r'], ['s'], { axis: { type: 'int', value: 1 } }),
    mk('sp', 'Split', ['s', 'split'], ['s0', 's1'], { axis: { type: 'int', value: 1 } }),
    mk('cc', 'Concat', ['s1', 's0'], ['c'], { axis: { type: 'int', value: 1 } }),
    mk('wh', 'Where', ['cond', 'c', 'r'], ['y']),
    mk('pd', 'Pad', ['y', 'pads', 'padv'], ['p']),
  ];
  const r = await convertAndCompare(g);
  assert.equal(r.graph.initializers.get('scales')?.dtype, 'float32');
  for (const k of ['gamma', 'beta', 'mean', 'var', 'padv']) assert.equal(r.graph.initializers.get(k)?.dtype, 'float16', k);
  assert.equal(r.graph.initializers.get('pads')?.dtype, 'int64');
  assert.equal(r.convertedNodes, 7);
  assert.deepEqual(r.keptFloat, []);
  // y is both an output and read by Pad: the Pad reads the float16 value, a Cast writes "y"
  const castY = r.graph.nodes.find((n) => n.op === 'Cast' && n.outputs[0] === 'y')!;
  assert.equal(r.graph.nodes.find((n) => n.name === 'pd')!.inputs[0], castY.inputs[0]);
});

test('values read inside an If body keep their name and float32 type', async () => {
  const g = baseGraph(13);
  g.inputs = [{ name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 'flag', dtype: 'bool', shape: [] }];
  g.outputs = [{ name: 'out', dtype: 'float32', shape: [2, 3] }, { name: 'sum', dtype: 'float32', shape: [2, 3] }];
  g.initializers.set('k', f32([2, 3], (i) => i - 2.5));
  const branch = (name: string, op: string): Graph => {
    const b = createGraph(name);
    b.outputs = [{ name: `${name}_y`, dtype: 'float32', shape: [2, 3] }];
    b.nodes = [mk(`${name}_n`, op, ['m'], [`${name}_y`])];
    return b;
  };
  g.nodes = [
    mk('mul', 'Mul', ['x', 'k'], ['m']),
    mk('if', 'If', ['flag'], ['out'], { then_branch: { type: 'graph', value: branch('then', 'Identity') }, else_branch: { type: 'graph', value: branch('else', 'Neg') } }),
    mk('add', 'Add', ['m', 'x'], ['sum']),
  ];
  const r = await convertAndCompare(g);
  const mul = r.graph.nodes.find((n) => n.name === 'mul')!;
  assert.notEqual(mul.outputs[0], 'm', 'Mul writes an internal float16 value');
  const castM = r.graph.nodes.find((n) => n.outputs[0] === 'm')!;
  assert.equal(castM.op, 'Cast');
  assert.equal(castM.inputs[0], mul.outputs[0]);
  assert.equal(r.graph.nodes.find((n) => n.name === 'add')!.inputs[0], mul.outputs[0], 'Add reads the float16 value directly');
  assert.deepEqual(r.keptFloat.map((k) => [k.node, k.reason]), [['if', 'has a subgraph (its body stays float32)']]);
});

test('new names never clash with existing ones; Shape reads float16 without a Cast', async () => {
  const g = baseGraph(13);
  // values and nodes already using the names the pass would pick first
  g.inputs = [{ name: 'h16:0', dtype: 'float32', shape: [2, 4] }];
  g.outputs = [{ name: 'cast:0', dtype: 'float32', shape: [2, 4] }, { name: 'f32:1', dtype: 'int64', shape: [2] }];
  g.initializers.set('h16:1', f32([4, 4], (i) => (i % 5) / 5));
  g.nodes = [
    mk('h16:2', 'MatMul', ['h16:0', 'h16:1'], ['h16:3']),
    mk('cast:1', 'Relu', ['h16:3'], ['h16:4']),
    mk('f32:0', 'Shape', ['h16:4'], ['f32:1']),
    mk('h16:5', 'Sigmoid', ['h16:4'], ['cast:0']),
  ];
  const r = await convertAndCompare(g);
  const values = [...r.graph.inputs.map((v) => v.name), ...r.graph.initializers.keys(), ...r.graph.nodes.flatMap((n) => n.outputs)];
  assert.equal(new Set(values).size, values.length);
  assert.equal(r.graph.nodes.find((n) => n.op === 'Shape')!.inputs[0], 'h16:4', 'Shape reads the float16 value');
  assert.equal(r.castsInserted, 2);
});

test('opset 5 graphs get Cast with a string `to`', () => {
  const g = baseGraph(5);
  g.inputs = [{ name: 'x', dtype: 'float32', shape: [2] }];
  g.outputs = [{ name: 'y', dtype: 'float32', shape: [2] }];
  g.nodes = [mk('s', 'Sigmoid', ['x'], ['y'])];
  const r = convertToFloat16(g);
  const casts = r.graph.nodes.filter((n) => n.op === 'Cast');
  assert.deepEqual(casts.map((c) => c.attrs.to), [{ type: 'string', value: 'FLOAT16' }, { type: 'string', value: 'FLOAT' }]);
});

test('tensorToFloat16 rounds to nearest and clamps finite values to ±65504', () => {
  const t = tensorToFloat16(f32([7], (i) => [1, 1 / 3, 1e6, -1e9, Infinity, 1e-9, 65519][i]!));
  assert.equal(t.dtype, 'float16');
  const v = toNumbers(t);
  assert.equal(v[0], 1);
  assert.ok(Math.abs(v[1]! - 1 / 3) < 1e-4);
  assert.deepEqual(v.slice(2), [65504, -65504, Infinity, 0, 65504]);
});

// ---------------------------------------------------------------------------------------------
// the corpus

/** The onnx backend-test layout: model.onnx beside test_data_set_0/input_N.pb. */
function referenceFeeds(file: string, g: Graph): Map<string, Tensor> | undefined {
  const dir = join(dirname(file), 'test_data_set_0');
  if (!file.endsWith('model.onnx') || !existsSync(dir)) return undefined;
  const inputs = readdirSync(dir).filter((f) => f.startsWith('input_')).sort()
    .map((f) => tensorFromOnnx(decodeTensor(readFileSync(join(dir, f))), f));
  const names = feedInputs(g).map((v) => v.name);
  return new Map(inputs.map((t, i) => [names[i]!, t]));
}

async function corpusCase(file: string): Promise<string> {
  const bytes = readFileSync(file);
  const g = importOnnxBytes(bytes, file);
  const before = snapshot(g);
  const r = convertToFloat16(g);
  assert.equal(snapshot(g), before, 'input graph modified');
  assertValidGraph(r.graph, file);
  const out = exportOnnxBytes(r.graph);
  const summary = `converted ${r.convertedNodes}, casts ${r.castsInserted}, kept ${r.keptFloat.length}, size ${(out.length / exportOnnxBytes(g).length).toFixed(3)}`;
  let ra: Runner;
  try {
    ra = await createOnnxRunner(bytes, feedInputs(g), g.outputs);
  } catch (err) {
    // onnxruntime-node cannot load the source either (e.g. no opset_import): the converted
    // model must be refused the same way, not some new way.
    const msg = (err as Error).message;
    await assert.rejects(createOnnxRunner(out, feedInputs(r.graph), r.graph.outputs), (e: Error) => e.message === msg);
    return `${summary}; source not loadable by onnxruntime either`;
  }
  const rb = await createOnnxRunner(out, feedInputs(r.graph), r.graph.outputs);
  try {
    let feeds: Map<string, Tensor>;
    let oa: Map<string, Tensor>;
    try {
      feeds = referenceFeeds(file, g) ?? randomFeeds(feedInputs(g), 2, 7);
      oa = await ra.run(feeds);
    } catch {
      return `${summary}; session created (source does not run on these feeds)`;
    }
    const ob = await rb.run(feeds);
    for (const [name, t] of oa) {
      const u = ob.get(name)!;
      assert.equal(u.dtype, t.dtype, `${name} dtype`);
      assert.deepEqual(u.shape, t.shape, `${name} shape`);
      if (t.dtype === 'float32') {
        const a = toFloat32(t);
        const d = maxAbsDiff(a, toFloat32(u));
        assert.ok(d <= 1e-2 * Math.max(1, maxAbs(a)), `${name}: max |diff| ${d}`);
      }
    }
    return `${summary}; runs and matches`;
  } finally {
    await ra.dispose();
    await rb.dispose();
  }
}

test('corpus ONNX models convert, load in onnxruntime and agree with the float32 source', { skip: CORPUS_SKIP }, async (t) => {
  for (const f of corpusOnnx()) {
    await t.test(f.split('/corpus/')[1]!, async () => {
      const note = await corpusCase(f);
      console.log(`# ${f.split('/corpus/')[1]}: ${note}`);
    });
  }
});
