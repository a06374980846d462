/**
 * IR executor, inference: every fixture model agrees with onnxruntime (the IR exported to ONNX)
 * on the 1000-sample test subset, and a zoo of small one-op graphs (attributes and layouts that
 * the fixtures do not exercise) with onnxruntime too. Keras / TF.js models against their
 * reference outputs: ir-executor-models.test.ts; recurrent ops: ir-executor-rnn.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FIXTURES, TEST_NPZ } from '../helpers.js';
import { loadModel } from '../../src/formats/load.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import { IrExecutor, createIrRunner } from '../../src/runtime/ir-executor.js';
import { loadDataset, prepareFeeds } from '../../src/data/index.js';
import { parseNpz } from '../../src/data/npz.js';
import { type Attr, type Graph, type Layout, createGraph, feedInputs } from '../../src/ir/graph.js';
import type { DType } from '../../src/ir/dtype.js';
import { type Tensor, elementCount, toFloat32, toNumbers } from '../../src/ir/tensor.js';
import { MloptError } from '../../src/util/errors.js';
import { seededRandom } from '../../src/util/random.js';

const BACKEND = 'wasm' as const;
const tf = createRequire(import.meta.url)('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (!(d <= m)) m = d;
  }
  return m;
}

/** Run `g` in the executor and in onnxruntime on the same feeds; every output must agree. */
async function agreeWithOrt(g: Graph, feeds: Map<string, Tensor>, tol = 1e-4, batchRows?: number, convertLayout = true): Promise<IrExecutor> {
  const ex = await IrExecutor.create(g, { backend: BACKEND, convertLayout });
  const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  try {
    const got = await ex.run(feeds);
    const want = await ort.run(feeds);
    for (const o of g.outputs) {
      const a = got[o.name];
      const b = want.get(o.name);
      assert.ok(a && b, `output ${o.name} missing`);
      assert.deepEqual(a.shape, b.shape, `${o.name}: shape`);
      const d = maxRelDiff(toNumbers(a), toNumbers(b));
      assert.ok(d <= tol, `${o.name}: max difference ${d}${batchRows ? ` over ${batchRows} rows` : ''}`);
    }
  } finally {
    await ort.dispose();
  }
  return ex;
}

describe('fixture models agree with onnxruntime on the test subset', () => {
  const models = [
    'fmnist_cnn.onnx', 'fmnist_mlp.onnx', 'fmnist_torch_cnn.onnx', 'fmnist_cnn.h5', 'fmnist_mlp.h5', 'fmnist_cnn.keras',
    'fmnist_mlp.keras', 'fmnist_cnn_float32.tflite', 'fmnist_mlp_float32.tflite', 'fmnist_cnn_int8.tflite', 'fmnist_mlp_int8.tflite',
  ];
  for (const file of models) {
    test(file, async () => {
      const m = await loadModel(join(FIXTURES, 'models', file));
      const prepared = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(m.graph), { batch: 1000 });
      const feeds = prepared.batches()[Symbol.iterator]().next().value!.feeds;
      const ex = await agreeWithOrt(m.graph, feeds, 1e-4, 1000);
      ex.dispose();
    });
  }
});

const ZOO = join(FIXTURES, 'models', 'keras_zoo_cnn.h5');
const ZOO_REF = join(FIXTURES, 'reference', 'keras_zoo_cnn_h5.npz');
test('keras zoo CNN (dilated, grouped, depthwise, separable, transposed convs, PReLU, LayerNorm, resizes) reproduces Keras', { skip: existsSync(ZOO) && existsSync(ZOO_REF) ? false : 'keras zoo fixture missing' }, async () => {
  const m = await loadModel(ZOO);
  const ref = parseNpz(readFileSync(ZOO_REF));
  for (const backend of ['wasm', 'cpu'] as const) {
    const ex = await IrExecutor.create(m.graph, { backend });
    const y = toFloat32(Object.values(await ex.run({ [feedInputs(m.graph)[0]!.name]: ref.get('x')! }))[0]!);
    ex.dispose();
    const d = maxRelDiff(y, toFloat32(ref.get('y')!));
    assert.ok(d < 1e-4, `${backend}: max difference ${d}`);
  }
});

test('cpu and wasm backends give the same outputs; inference keeps no tensors', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const feeds = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(m.graph), { batch: 32 }).batches()[Symbol.iterator]().next().value!.feeds;
  const cpu = await IrExecutor.create(m.graph, { backend: 'cpu' });
  const wasm = await IrExecutor.create(m.graph, { backend: 'wasm' });
  assert.equal(cpu.backend, 'cpu');
  assert.equal(wasm.backend, 'wasm');
  const a = toFloat32(Object.values(await cpu.run(feeds))[0]!);
  await wasm.run(feeds); // fills the weight cache
  const before = tf.memory().numTensors;
  const b = toFloat32(Object.values(await wasm.run(feeds))[0]!);
  await wasm.run(feeds);
  assert.equal(tf.memory().numTensors, before, 'a run leaves no tensor behind');
  assert.ok(maxRelDiff(a, b) < 1e-5, `cpu vs wasm ${maxRelDiff(a, b)}`);
  cpu.dispose();
  wasm.dispose();
});

test('an op without a kernel is refused at create time, by name', async () => {
  const g = new ZooGraph();
  g.input('x', [1, 4]);
  g.node('NonMaxSuppression', ['x'], ['y'], {}, undefined, 'nms_1');
  g.output('y', 'int64');
  await assert.rejects(IrExecutor.create(g.g, { backend: BACKEND }), (e: unknown) => {
    assert.ok(e instanceof MloptError);
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /op NonMaxSuppression \(node "nms_1"\) cannot run on the IR executor/);
    return true;
  });
  const h = new ZooGraph();
  h.input('x', [1, 2, 4, 4]);
  h.node('Resize', ['x', '', h.const('s', [4], [1, 1, 2, 2])], ['y'], { mode: { type: 'string', value: 'cubic' } }, undefined, 'up');
  h.output('y');
  await assert.rejects(IrExecutor.create(h.g, { backend: BACKEND }), /op Resize \(node "up"\) cannot run on the IR executor: Resize mode "cubic"/);
});

test('the Runner adapter runs the executor', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_mlp.onnx'));
  const feeds = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(m.graph), { batch: 8 }).batches()[Symbol.iterator]().next().value!.feeds;
  const r = await createIrRunner(m.graph, { backend: BACKEND });
  assert.equal(r.engine, 'tfjs-ir');
  const y = [...(await r.run(feeds)).values()][0]!;
  assert.deepEqual(y.shape, [8, 10]);
  await r.runPrepared(await r.prepare(feeds));
  await r.dispose();
});

// ---------------------------------------------------------------------------------------------
// op zoo

const rng = seededRandom;

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const flt = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });

class ZooGraph {
  readonly g: Graph;
  readonly feeds = new Map<string, Tensor>();
  private readonly rand = rng(7);
  private n = 0;
  constructor(opset = 17) {
    this.g = createGraph('zoo');
    this.g.metadata.opsets = [{ domain: '', version: opset }];
    this.g.metadata.sourceFormat = 'onnx';
    this.g.metadata.formatVersion = opset >= 19 ? 9 : 8;
  }
  random(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => lo + (hi - lo) * this.rand());
  }
  /** a feed with random data (shape undefined: the graph does not declare it) */
  input(name: string, shape: number[], opts: { declare?: boolean; lo?: number; hi?: number } = {}): string {
    this.g.inputs.push({ name, dtype: 'float32', ...(opts.declare === false ? {} : { shape }) });
    this.feeds.set(name, { dtype: 'float32', shape, data: this.random(elementCount(shape), opts.lo, opts.hi) });
    return name;
  }
  const(name: string, shape: number[], values?: number[], dtype: DType = values ? 'int64' : 'float32'): string {
    const n = elementCount(shape);
    const v = values ?? Array.from(this.random(n));
    const data =
      dtype === 'int64' ? BigInt64Array.from(v, (x) => BigInt(x)) : dtype === 'int8' ? Int8Array.from(v) : dtype === 'uint8' ? Uint8Array.from(v) : dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v);
    this.g.initializers.set(name, { dtype, shape, data } as Tensor);
    return name;
  }
  weight(shape: number[], scale = 0.5): string {
    return this.const(`w${this.n++}`, shape, Array.from(this.random(elementCount(shape), -scale, scale)), 'float32');
  }
  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, layout?: Layout, name = `${op}_${this.n++}`): string {
    this.g.nodes.push({ name, op, domain: '', inputs, outputs, attrs, ...(layout ? { layout } : {}) });
    return outputs[0]!;
  }
  output(name: string, dtype: DType = 'float32'): void {
    this.g.outputs.push({ name, dtype });
  }
}

type Case = [string, (z: ZooGraph) => void, number?];

const CASES: Case[] = [
  ['Conv: groups, asymmetric pads, strides', (z) => {
    z.node('Conv', [z.input('x', [2, 4, 7, 7]), z.weight([6, 2, 3, 3]), z.weight([6])], ['y'], { group: int(2), pads: ints([1, 0, 1, 2]), strides: ints([2, 1]) });
    z.output('y');
  }],
  ['Conv: dilations, no bias', (z) => {
    z.node('Conv', [z.input('x', [1, 3, 9, 9]), z.weight([4, 3, 3, 3])], ['y'], { dilations: ints([2, 2]), pads: ints([2, 1, 2, 2]) });
    z.output('y');
  }],
  ['Conv: depthwise with a channel multiplier, stride 2, SAME_LOWER', (z) => {
    z.node('Conv', [z.input('x', [2, 3, 8, 8]), z.weight([6, 1, 3, 3]), z.weight([6])], ['y'], { group: int(3), strides: ints([2, 2]), auto_pad: str('SAME_LOWER') });
    z.output('y');
  }],
  ['Conv: 1-D', (z) => {
    z.node('Conv', [z.input('x', [2, 3, 10]), z.weight([4, 3, 3]), z.weight([4])], ['y'], { pads: ints([1, 2]) });
    z.output('y');
  }],
  ['Conv NHWC → BatchNormalization NHWC → Relu (fused, BN folded)', (z) => {
    const c = z.node('Conv', [z.input('x', [2, 9, 9, 3]), z.weight([5, 3, 3, 3]), z.weight([5])], ['c'], { pads: ints([1, 1, 1, 1]) }, 'NHWC');
    const b = z.node('BatchNormalization', [c, z.weight([5]), z.weight([5]), z.weight([5]), z.const('v', [5], [0.5, 1, 2, 0.25, 3], 'float32')], ['b'], { epsilon: flt(1e-3) }, 'NHWC');
    z.node('Relu', [b], ['y']);
    z.output('y');
  }],
  ['ConvTranspose: strides, pads, output_padding', (z) => {
    z.node('ConvTranspose', [z.input('x', [1, 4, 5, 5]), z.weight([4, 3, 3, 3]), z.weight([3])], ['y'], { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), output_padding: ints([1, 1]) });
    z.output('y');
  }],
  ['ConvTranspose: groups, output_shape', (z) => {
    z.node('ConvTranspose', [z.input('x', [1, 4, 4, 4]), z.weight([4, 2, 3, 3])], ['y'], { group: int(2), strides: ints([2, 2]), output_shape: ints([8, 8]) });
    z.output('y');
  }],
  ['MaxPool: pads, strides, ceil_mode', (z) => {
    const x = z.input('x', [2, 3, 10, 10]);
    z.node('MaxPool', [x], ['a'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) });
    z.node('MaxPool', [x], ['b'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), ceil_mode: int(1) });
    z.output('a');
    z.output('b');
  }],
  ['AveragePool: count_include_pad 0 / 1, ceil_mode; global pools', (z) => {
    const x = z.input('x', [2, 3, 9, 9]);
    z.node('AveragePool', [x], ['a'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) });
    z.node('AveragePool', [x], ['b'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), count_include_pad: int(1) });
    z.node('AveragePool', [x], ['c'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) });
    z.node('GlobalAveragePool', [x], ['d']);
    z.node('GlobalMaxPool', [x], ['e']);
    for (const o of 'abcde') z.output(o);
  }],
  ['channels-first ops kept channels-first (kernels transpose themselves)', (z) => {
    const x = z.input('x', [2, 3, 8, 8]);
    const c = z.node('Conv', [x, z.weight([4, 3, 3, 3]), z.weight([4])], ['c'], { pads: ints([1, 1, 1, 1]) });
    const b = z.node('BatchNormalization', [c, z.weight([4]), z.weight([4]), z.weight([4]), z.const('v', [4], [1, 2, 0.5, 1.5], 'float32')], ['b']);
    const p = z.node('MaxPool', [b], ['p'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) });
    const a = z.node('AveragePool', [p], ['a'], { kernel_shape: ints([2, 2]), pads: ints([1, 1, 0, 0]) });
    const d = z.node('Conv', [a, z.weight([8, 1, 3, 3])], ['d'], { group: int(4), pads: ints([1, 1, 1, 1]) });
    const t = z.node('ConvTranspose', [d, z.weight([8, 2, 2, 2])], ['t'], { strides: ints([2, 2]) });
    const i = z.node('InstanceNormalization', [t, z.weight([2]), z.weight([2])], ['i']);
    const r = z.node('Resize', [i, '', z.const('rs', [4], [1, 1, 2, 2], 'float32')], ['r'], { mode: str('linear') });
    z.node('GlobalAveragePool', [r], ['y']);
    z.output('r');
    z.output('y');
  }],
  ['BatchNormalization / InstanceNormalization / LayerNormalization / LRN', (z) => {
    const x = z.input('x', [2, 4, 5, 5]);
    z.node('BatchNormalization', [x, z.weight([4]), z.weight([4]), z.weight([4]), z.const('v', [4], [1, 2, 0.5, 1.5], 'float32')], ['a'], { epsilon: flt(1e-5) });
    z.node('InstanceNormalization', [x, z.weight([4]), z.weight([4])], ['b']);
    z.node('LayerNormalization', [x, z.weight([5]), z.weight([5])], ['c'], { axis: int(-1) });
    z.node('LRN', [x], ['d'], { size: int(3), alpha: flt(1e-2), beta: flt(0.75), bias: flt(1) });
    for (const o of 'abcd') z.output(o);
  }],
  ['activations', (z) => {
    const x = z.input('x', [2, 3, 4, 5], { lo: -3, hi: 3 });
    const acts: Array<[string, Record<string, Attr>]> = [
      ['Relu', {}], ['Sigmoid', {}], ['Tanh', {}], ['LeakyRelu', { alpha: flt(0.1) }], ['Elu', { alpha: flt(0.7) }], ['Selu', {}],
      ['HardSigmoid', {}], ['HardSwish', {}], ['Softplus', {}], ['Softsign', {}], ['Erf', {}], ['Exp', {}], ['Abs', {}], ['Neg', {}],
      ['Floor', {}], ['Ceil', {}], ['Round', {}], ['Sign', {}], ['Softmax', { axis: int(1) }], ['LogSoftmax', { axis: int(-1) }],
      ['Celu', {}], ['ThresholdedRelu', { alpha: flt(0.5) }],
    ];
    acts.forEach(([op, attrs], i) => {
      z.node(op, [x], [`y${i}`], attrs);
      z.output(`y${i}`);
    });
    z.node('Clip', [x, z.const('lo', [], [-0.5], 'float32'), z.const('hi', [], [0.7], 'float32')], ['clip']);
    z.node('PRelu', [x, z.weight([3, 1, 1])], ['prelu']);
    z.node('Sqrt', [z.node('Abs', [x], ['ax'])], ['sqrt']);
    for (const o of ['clip', 'prelu', 'sqrt']) z.output(o);
  }],
  ['Gelu, Mish (opset 20)', (z) => {
    const x = z.input('x', [3, 7], { lo: -3, hi: 3 });
    z.node('Gelu', [x], ['a']);
    z.node('Gelu', [x], ['b'], { approximate: str('tanh') });
    z.node('Mish', [x], ['c']);
    for (const o of 'abc') z.output(o);
  }],
  ['broadcasting arithmetic', (z) => {
    const a = z.input('a', [2, 3, 4], { lo: 0.5, hi: 2 });
    const b = z.input('b', [3, 1], { lo: 0.5, hi: 2 });
    ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min'].forEach((op, i) => {
      z.node(op, [a, b], [`y${i}`]);
      z.output(`y${i}`);
    });
    z.node('Sum', [a, b, z.weight([4])], ['sum']);
    z.node('Mean', [a, b], ['mean']);
    z.node('Where', [z.node('Greater', [a, b], ['gt']), a, b], ['where']);
    for (const o of ['sum', 'mean', 'where']) z.output(o);
  }],
  ['shape arithmetic: Shape → Gather → Unsqueeze → Concat → Reshape, Flatten, Squeeze, Expand, Tile', (z) => {
    const x = z.input('x', [3, 2, 4, 1]);
    const s = z.node('Shape', [x], ['s']);
    const n = z.node('Gather', [s, z.const('i0', [], [0])], ['n'], { axis: int(0) });
    const n1 = z.node('Unsqueeze', [n, z.const('ax0', [1], [0])], ['n1']);
    const shp = z.node('Concat', [n1, z.const('m1', [1], [-1])], ['shp'], { axis: int(0) });
    z.node('Reshape', [x, shp], ['r']);
    z.node('Flatten', [x], ['f'], { axis: int(2) });
    z.node('Squeeze', [x, z.const('ax3', [1], [3])], ['sq']);
    z.node('Expand', [z.weight([2, 1, 1]), z.const('es', [3], [2, 3, 4])], ['ex']);
    z.node('Tile', [x, z.const('reps', [4], [1, 2, 1, 3])], ['tile']);
    z.node('Transpose', [x], ['tr'], { perm: ints([0, 3, 1, 2]) });
    z.node('Cast', [z.node('Cast', [x], ['xi'], { to: int(6) })], ['xf'], { to: int(1) });
    for (const o of ['r', 'f', 'sq', 'ex', 'tile', 'tr', 'xf']) z.output(o);
  }],
  ['Slice (negative steps, axes), Split, Concat, Gather with negative indices, Pad modes', (z) => {
    const x = z.input('x', [4, 6, 5]);
    z.node('Slice', [x, z.const('st', [2], [5, 1]), z.const('en', [2], [-7, 4]), z.const('ax', [2], [1, 2]), z.const('sp', [2], [-2, 1])], ['sl']);
    z.node('Split', [x, z.const('sz', [2], [2, 4])], ['s0', 's1'], { axis: int(1) });
    z.node('Concat', ['s1', 's0', x], ['cat'], { axis: int(1) });
    z.node('Gather', [x, z.const('gi', [2, 2], [-1, 0, 2, -3])], ['ga'], { axis: int(1) });
    const pads = z.const('pads', [6], [0, 2, 1, 0, 1, 2]);
    z.node('Pad', [x, pads], ['pc'], { mode: str('constant') });
    z.node('Pad', [x, pads], ['pr'], { mode: str('reflect') });
    z.node('Pad', [x, pads], ['pe'], { mode: str('edge') });
    z.node('Pad', [x, z.const('neg', [6], [0, -1, 1, 0, 2, -2]), z.const('cv', [], [0.5], 'float32')], ['pn']);
    for (const o of ['sl', 's0', 's1', 'cat', 'ga', 'pc', 'pr', 'pe', 'pn']) z.output(o);
  }],
  ['reductions, ArgMax, TopK, CumSum', (z) => {
    const x = z.input('x', [3, 4, 5]);
    z.node('ReduceMean', [x], ['m'], { axes: ints([1]) });
    z.node('ReduceSum', [x, z.const('a2', [2], [0, 2])], ['s'], { keepdims: int(0) });
    z.node('ReduceMax', [x], ['mx'], { axes: ints([-1]), keepdims: int(0) });
    z.node('ReduceL2', [x], ['l2'], { axes: ints([2]) });
    z.node('ReduceLogSumExp', [x], ['lse'], { axes: ints([0]) });
    z.node('ArgMax', [x], ['am'], { axis: int(2), keepdims: int(0) });
    z.node('TopK', [x, z.const('k', [1], [2])], ['tv', 'ti'], { axis: int(1) });
    z.node('CumSum', [x, z.const('cax', [], [1], 'int32')], ['cs']);
    for (const o of ['m', 's', 'mx', 'l2', 'lse', 'tv', 'cs']) z.output(o);
    z.output('am', 'int64');
    z.output('ti', 'int64');
  }],
  ['Resize nearest / linear (half_pixel, align_corners, asymmetric), DepthToSpace, SpaceToDepth', (z) => {
    const x = z.input('x', [1, 8, 4, 6]);
    z.node('Resize', [x, '', z.const('s2', [4], [1, 1, 2, 2], 'float32')], ['n1']);
    z.node('Resize', [x, '', z.const('s3', [4], [1, 1, 1.5, 2.5], 'float32')], ['l1'], { mode: str('linear') });
    z.node('Resize', [x, '', '', z.const('sz', [4], [1, 8, 7, 9])], ['l2'], { mode: str('linear'), coordinate_transformation_mode: str('align_corners') });
    z.node('Resize', [x, '', z.const('s4', [4], [1, 1, 3, 0.5], 'float32')], ['n2'], { coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') });
    z.node('DepthToSpace', [x], ['d1'], { blocksize: int(2) });
    z.node('DepthToSpace', [x], ['d2'], { blocksize: int(2), mode: str('CRD') });
    z.node('SpaceToDepth', [x], ['sd'], { blocksize: int(2) });
    for (const o of ['n1', 'l1', 'l2', 'n2', 'd1', 'd2', 'sd']) z.output(o);
  }],
  ['MatMul (3-D × 2-D, batched, 1-D), Gemm (alpha, beta, transA, transB)', (z) => {
    z.node('MatMul', [z.input('a', [2, 3, 4]), z.weight([4, 5])], ['m1']);
    z.node('MatMul', [z.input('b', [2, 3, 4]), z.input('c', [2, 4, 2])], ['m2']);
    z.node('MatMul', [z.input('v', [4]), z.weight([4, 3])], ['m3']);
    z.node('Gemm', [z.input('g', [4, 3]), z.weight([5, 4]), z.weight([5])], ['g1'], { alpha: flt(0.5), beta: flt(2), transA: int(1), transB: int(1) });
    z.node('Relu', [z.node('Gemm', [z.input('h', [3, 4]), z.weight([4, 5]), z.weight([1, 5])], ['g2pre'])], ['g2']);
    for (const o of ['m1', 'm2', 'm3', 'g1', 'g2']) z.output(o);
  }],
  ['QuantizeLinear / DequantizeLinear: per tensor (uint8) and per axis (int8 weights)', (z) => {
    const x = z.input('x', [2, 3, 6, 6]);
    const q = z.node('QuantizeLinear', [x, z.const('xs', [], [0.01], 'float32'), z.const('xz', [], [128], 'uint8')], ['q']);
    const dx = z.node('DequantizeLinear', [q, 'xs', 'xz'], ['dx']);
    const wq = z.const('wq', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => ((i * 37) % 255) - 127), 'int8');
    const ws = z.const('ws', [4], [0.01, 0.02, 0.005, 0.03], 'float32');
    const dw = z.node('DequantizeLinear', [wq, ws, z.const('wz', [4], [0, 0, 0, 0], 'int8')], ['dw'], { axis: int(0) });
    z.node('Conv', [dx, dw], ['y']);
    z.output('y');
    z.output('q', 'uint8');
  }],
];

describe('op zoo agrees with onnxruntime', () => {
  for (const [name, build] of CASES) {
    test(name, async () => {
      const z = new ZooGraph(name.includes('opset 20') ? 20 : 17);
      build(z);
      const keep = name.includes('kept channels-first');
      const ex = await agreeWithOrt(z.g, z.feeds, 1e-4, undefined, !keep);
      if (keep) assert.equal(ex.stats().layoutConverted, false, 'the NCHW kernels were exercised');
      if (name.includes('fused')) assert.ok(ex.stats().dynamic <= 1, `Conv + BN + Relu ran as one step (${JSON.stringify(ex.stats())})`);
      ex.dispose();
    });
  }
});

after(() => {
  // nothing global to release: each test disposes its executor
});

test('a feed of the wrong shape is a SHAPE_MISMATCH error naming the input, not a kernel failure', async () => {
  const { graph } = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const ex = await IrExecutor.create(graph);
  try {
    const bad: Tensor = { dtype: 'float32', shape: [2, 28, 28, 1, 1], data: new Float32Array(2 * 784) };
    await assert.rejects(ex.run({ input: bad }), (e: unknown) => e instanceof MloptError && e.code === 'SHAPE_MISMATCH' && /model input "input" expects shape \[batch,28,28,1\], got \[2,28,28,1,1\]/.test(e.message));
    const wrongSize: Tensor = { dtype: 'float32', shape: [2, 28, 27, 1], data: new Float32Array(2 * 28 * 27) };
    await assert.rejects(ex.trainStep({ inputs: { input: wrongSize }, targets: new Int32Array([0, 1]) }, { loss: 'crossentropy', optimizer: { type: 'sgd', lr: 0.01 } }), /expects shape \[batch,28,28,1\], got \[2,28,27,1\]/);
  } finally {
    ex.dispose();
  }
});
