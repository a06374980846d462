/**
 * TF.js graph-model op mappings, one small channels-first graph per group of ops: the exported
 * model runs in tfjs (every TF op it writes must exist in tfjs-converter's executor) and
 * computes what onnxruntime computes on the IR graph.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { exportTfjs } from '../../../src/formats/tfjs/export.js';
import type { Attr, Graph, Node, Value } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { createTfjsRunner } from '../../../src/runtime/tfjs.js';
import { MloptError } from '../../../src/util/errors.js';
import { existsSync } from 'node:fs';
import { loadModel } from '../../../src/formats/load.js';
import { CORPUS, tempDir } from '../../helpers.js';
import { opsGraph } from '../tflite/ops-graph.js';

let seed = 11;
const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const f32 = (shape: number[], scale = 1): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd() * scale) });
const i64 = (v: number[]): Tensor => ({ dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });
const node = (op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node => ({ name: `${op}_${outputs[0]}`, op, domain: '', inputs, outputs, attrs });

function graph(inputs: Value[], outputs: string[], nodes: Node[], inits: Record<string, Tensor> = {}, opset = 17): Graph {
  return {
    name: 'ops', inputs, outputs: outputs.map((name) => ({ name, dtype: 'float32' })), valueInfo: [], initializers: new Map(Object.entries(inits)),
    nodes, metadata: { opsets: [{ domain: '', version: opset }], props: {} },
  };
}

/** run the IR graph in onnxruntime and its TF.js export in tfjs on the same random batch */
async function compare(g: Graph, batch = 3, format: 'graph' | 'layers' = 'graph'): Promise<number> {
  const dir = tempDir('mlopt-tfjs-ops-');
  for (const f of exportTfjs(g, { format })) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.bytes);
  }
  const feeds = new Map<string, Tensor>();
  for (const v of feedInputs(g)) feeds.set(v.name, f32((v.shape ?? []).map((d) => (typeof d === 'number' ? d : batch)), 2));
  const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  const tfjs = await createTfjsRunner(join(dir, 'model.json'), feedInputs(g), g.outputs);
  const want = await ort.run(feeds);
  const got = await tfjs.run(feeds);
  await ort.dispose();
  await tfjs.dispose();
  let max = 0;
  for (const o of g.outputs) {
    const a = toFloat32(want.get(o.name)!);
    const b = toFloat32(got.get(o.name)!);
    assert.deepEqual(got.get(o.name)!.shape, want.get(o.name)!.shape, `shape of ${o.name}`);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    assert.ok(m <= 1e-4, `output ${o.name}: max |diff| ${m}`);
    max = Math.max(max, m);
  }
  return max;
}

const X = (shape: Array<number | string>): Value => ({ name: 'x', dtype: 'float32', shape });

describe('TF.js graph-model op mappings agree with onnxruntime', () => {
  it('ConvTranspose, Resize (linear), Slice, Gelu, Transpose, MatMul of two activations', async () => {
    assert.ok((await compare(opsGraph())) <= 1e-4);
  });

  it('Conv with asymmetric pads and strides, depthwise Conv, LeakyRelu, Clip, HardSwish, Sigmoid', async () => {
    const g = graph([X(['N', 4, 9, 9])], ['y'], [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints([0, 1, 2, 1]), strides: ints([2, 2]), kernel_shape: ints([3, 3]) }),
      node('LeakyRelu', ['c1'], ['a1'], { alpha: float(0.1) }),
      node('Conv', ['a1', 'w2'], ['c2'], { group: int(6), pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }),
      node('Clip', ['c2', 'lo', 'hi'], ['a2']),
      node('HardSwish', ['a2'], ['a3']),
      node('Conv', ['a3', 'w3', 'b3'], ['c3'], { pads: ints([2, 2, 2, 2]), dilations: ints([2, 2]), kernel_shape: ints([3, 3]) }),
      node('Sigmoid', ['c3'], ['y']),
    ], { w1: f32([6, 4, 3, 3]), b1: f32([6]), w2: f32([6, 1, 3, 3]), lo: f32([]), hi: { dtype: 'float32', shape: [], data: Float32Array.of(2) }, w3: f32([5, 6, 3, 3]), b3: f32([5]) });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('pools (padded, ceil mode, count_include_pad), global pools, BatchNormalization, Concat, Softmax over channels; outputs keep their order', async () => {
    const g = graph([X(['N', 3, 7, 7])], ['y', '10'], [
      node('MaxPool', ['x'], ['p1'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
      node('AveragePool', ['x'], ['p2'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), count_include_pad: int(1) }),
      node('MaxPool', ['x'], ['p3'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) }),
      node('AveragePool', ['x'], ['p4'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), auto_pad: str('SAME_UPPER') }),
      node('Concat', ['p1', 'p2', 'p3', 'p4'], ['cat'], { axis: int(1) }),
      node('BatchNormalization', ['cat', 'sc', 'bi', 'mu', 'va'], ['bn'], { epsilon: float(1e-3) }),
      node('Softmax', ['bn'], ['y'], { axis: int(1) }),
      node('GlobalAveragePool', ['cat'], ['ga']),
      node('GlobalMaxPool', ['cat'], ['gm']),
      node('Sub', ['ga', 'gm'], ['10']), // an integer-like name must not move to the front
    ], { sc: f32([12]), bi: f32([12]), mu: f32([12]), va: { dtype: 'float32', shape: [12], data: Float32Array.from({ length: 12 }, (_, i) => 0.5 + i / 10) } });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('Gemm variants, Flatten, Reshape, Squeeze / Unsqueeze, reductions, Gather, Pad, Elu, HardSigmoid, Div', async () => {
    const g = graph([X(['N', 2, 3, 4])], ['y', 'r', 'q'], [
      node('Flatten', ['x'], ['f'], { axis: int(1) }),
      node('Gemm', ['f', 'w', 'b'], ['g1'], { transB: int(1), alpha: float(0.5), beta: float(2) }),
      node('Elu', ['g1'], ['e'], { alpha: float(0.7) }),
      node('Unsqueeze', ['e', 'ax1'], ['u']),
      node('Squeeze', ['u', 'ax1'], ['s']),
      node('MatMul', ['s', 'w2'], ['m']),
      node('HardSigmoid', ['m'], ['y']),
      node('ReduceMean', ['x'], ['rm'], { axes: ints([2, 3]), keepdims: int(0) }),
      node('ReduceMax', ['x'], ['rx'], { axes: ints([1]), keepdims: int(1) }),
      node('ReduceSum', ['x', 'ax3'], ['rs'], { keepdims: int(0) }),
      node('Reshape', ['rx', 'shp'], ['rxf']),
      node('Gather', ['rs', 'idx'], ['gs'], { axis: int(1) }),
      node('Flatten', ['gs'], ['gsf'], { axis: int(1) }),
      node('Concat', ['rxf', 'gsf'], ['rc'], { axis: int(1) }),
      node('Div', ['rc', 'den'], ['r']),
      node('Pad', ['x', 'pads'], ['xp'], { mode: str('reflect') }),
      node('Slice', ['xp', 'st', 'en', 'sax', 'stp'], ['q']),
    ], {
      w: f32([5, 24]), b: f32([5]), ax1: i64([1]), w2: f32([5, 3]), ax3: i64([-1]), shp: i64([-1, 12]), idx: i64([-1, 0]),
      den: { dtype: 'float32', shape: [1], data: Float32Array.of(3) }, pads: i64([0, 0, 1, 2, 0, 0, 1, 0]), st: i64([-1, 0]), en: i64([-100, 100]), sax: i64([3, 2]), stp: i64([-1, 2]),
    });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('Resize (nearest), Split, Tile, Expand, Where, ArgMax, Cast, MatMul (rank 4 × 2), PRelu, Pow, variadic Max / Sum / Mean, LogSoftmax', async () => {
    const g = graph([X(['N', 2, 3, 4])], ['y', 'a', 'e'], [
      node('Resize', ['x', '', 'scales'], ['up'], { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }),
      node('Split', ['up', 'sizes'], ['s1', 's2'], { axis: int(3) }),
      node('Max', ['s1', 's2', 'x8'], ['mx']),
      node('Sum', ['s1', 's2', 'mx'], ['sm']),
      node('Mean', ['s1', 'sm'], ['mean']),
      node('Tile', ['x', 'reps'], ['t']),
      node('Expand', ['bias', 'eshape'], ['ex']),
      node('Greater', ['t', 'ex'], ['gt']),
      node('Where', ['gt', 't', 'ex'], ['wh']),
      node('PRelu', ['wh', 'slope'], ['pr']),
      node('Abs', ['pr'], ['ab']),
      node('Pow', ['ab', 'two'], ['pw']),
      node('PRelu', ['mean', 'slope2'], ['pr2']),
      node('Concat', ['pr2', 'pw'], ['y'], { axis: int(2) }),
      node('ArgMax', ['x'], ['am'], { axis: int(1), keepdims: int(0) }),
      node('Cast', ['am'], ['a'], { to: int(1) }),
      node('MatMul', ['x', 'ew'], ['es']),
      node('LogSoftmax', ['es'], ['e'], { axis: int(-1) }),
    ], {
      scales: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 2, 2) }, sizes: i64([4, 4]), x8: f32([1, 1, 1, 1]),
      reps: i64([1, 1, 2, 1]), bias: f32([1, 1, 6, 1]), eshape: i64([1, 2, 1, 4]), slope: f32([2, 1, 1]), slope2: f32([4]), two: { dtype: 'float32', shape: [], data: Float32Array.of(2) }, ew: f32([4, 5]),
    });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('1-D Conv (plain and depthwise), 1-D pools, ConstantOfShape', async () => {
    const g = graph([X(['N', 3, 12])], ['y', 'z'], [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints([2, 1]), strides: ints([2]), kernel_shape: ints([3]) }),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'w2'], ['c2'], { group: int(4), pads: ints([1, 1]), kernel_shape: ints([3]) }),
      node('MaxPool', ['c2'], ['p1'], { kernel_shape: ints([2]), strides: ints([2]), pads: ints([1, 0]) }),
      node('AveragePool', ['c2'], ['p2'], { kernel_shape: ints([3]), strides: ints([3]) }),
      node('Concat', ['p1', 'p2'], ['y'], { axis: int(2) }),
      node('ConstantOfShape', ['cshape'], ['ones'], { value: { type: 'tensor', value: { dtype: 'float32', shape: [1], data: Float32Array.of(1.5) } } }),
      node('Add', ['c2', 'ones'], ['z']),
    ], { w1: f32([4, 3, 3]), b1: f32([4]), w2: f32([4, 1, 3]), cshape: i64([1, 4, 1]) });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('LSTM (bidirectional, initial states, peepholes), GRU (both reset orders, clip), RNN (reverse, Relu)', async () => {
    const [T, N, I, H] = [5, 2, 3, 4];
    const seq: Value = { name: 'x', dtype: 'float32', shape: [T, N, I] };
    const g = graph([seq], ['y1', 'h1', 'c1', 'y2', 'y3', 'h4'], [
      node('LSTM', ['x', 'lw', 'lr', 'lb', '', 'h0', 'c0', 'lp'], ['y1', 'h1', 'c1'], { hidden_size: int(H), direction: str('bidirectional') }),
      node('GRU', ['x', 'gw', 'gr', 'gb'], ['y2'], { hidden_size: int(H), linear_before_reset: int(1) }),
      node('GRU', ['x', 'gw', 'gr', 'gb'], ['y3'], { hidden_size: int(H), clip: float(0.8) }),
      node('RNN', ['x', 'rw', 'rr', 'rb'], ['', 'h4'], { hidden_size: int(H), direction: str('reverse'), activations: { type: 'strings', value: ['Relu'] } }),
    ], {
      lw: f32([2, 4 * H, I]), lr: f32([2, 4 * H, H]), lb: f32([2, 8 * H]), h0: f32([2, N, H]), c0: f32([2, N, H]), lp: f32([2, 3 * H]),
      gw: f32([1, 3 * H, I]), gr: f32([1, 3 * H, H]), gb: f32([1, 6 * H]), rw: f32([1, H, I]), rr: f32([1, H, H]), rb: f32([1, 2 * H]),
    });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('LayerNormalization, InstanceNormalization', async () => {
    const g = graph([X(['N', 3, 4, 5])], ['y', 'z'], [
      node('LayerNormalization', ['x', 'ls', 'lb'], ['y'], { axis: int(-2), epsilon: float(1e-3) }),
      node('InstanceNormalization', ['x', 'is', 'ib'], ['z']),
    ], { ls: f32([4, 5]), lb: f32([4, 5]), is: f32([3]), ib: f32([3]) });
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('shape arithmetic on two dynamic dimensions runs in TF.js (Shape, Slice, Concat, Cast, Reshape to a computed shape)', async () => {
    const g = graph([{ name: 'x', dtype: 'float32', shape: ['N', 'T', 4] }], ['y'], [
      node('Shape', ['x'], ['s']),
      node('Slice', ['s', 'zero', 'two'], ['nt']),
      node('Concat', ['nt', 'tail'], ['target'], { axis: int(0) }),
      node('Reshape', ['x', 'target'], ['r']),
      node('Shape', ['x'], ['s2'], { start: int(-1) }),
      node('Cast', ['s2'], ['s2f'], { to: int(1) }),
      node('Mul', ['r', 's2f'], ['y']),
    ], { zero: i64([0]), two: i64([2]), tail: i64([2, 2]) });
    const files = exportTfjs(g, { format: 'graph' });
    const ops = new Set((JSON.parse(Buffer.from(files[0]!.bytes).toString('utf8')) as { modelTopology: { node: Array<{ op: string }> } }).modelTopology.node.map((x) => x.op));
    assert.ok(ops.has('Shape') && ops.has('ConcatV2'), [...ops].join(','));
    assert.ok((await compare(g, 2)) <= 1e-4); // N = T = 2
  });

  it('grouped Conv (2-D with bias and a fused Relu, 2-D plain, 1-D) → Split + one Conv2D per group + ConcatV2', async () => {
    const g = graph([X(['N', 6, 9, 9])], ['y', 'z'], [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { group: int(3), pads: ints([1, 0, 1, 2]), strides: ints([2, 1]), kernel_shape: ints([3, 3]) }),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'w2'], ['y'], { group: int(2), dilations: ints([2, 2]), kernel_shape: ints([2, 2]) }),
      node('Reshape', ['x', 'flat'], ['x1']),
      node('Conv', ['x1', 'w3', 'b3'], ['z'], { group: int(2), pads: ints([1, 1]), kernel_shape: ints([3]) }),
    ], { w1: f32([6, 2, 3, 3]), b1: f32([6]), w2: f32([4, 3, 2, 2]), flat: i64([0, 6, 81]), w3: f32([4, 3, 3]), b3: f32([4]) });
    const json = JSON.parse(Buffer.from(exportTfjs(g, { format: 'graph' })[0]!.bytes).toString('utf8')) as { modelTopology: { node: Array<{ op: string }> } };
    const ops = json.modelTopology.node.map((x) => x.op);
    assert.equal(ops.filter((o) => o === 'Split').length, 3);
    assert.equal(ops.filter((o) => o === '_FusedConv2D').length, 3 + 2);
    assert.equal(ops.filter((o) => o === 'Conv2D').length, 2);
    assert.ok(!ops.includes('Relu'), 'the Relu is fused into each group');
    assert.ok((await compare(g)) <= 1e-4);
  });

  it('ConvTranspose with output_padding beyond the padding (Keras Conv2DTranspose padding="valid", stride > kernel) writes the larger output shape', async () => {
    const g = graph([X(['N', 3, 5, 4])], ['y', 'z'], [
      node('ConvTranspose', ['x', 'w1', 'b1'], ['y'], { kernel_shape: ints([2, 2]), strides: ints([3, 3]), output_padding: ints([1, 1]) }),
      node('ConvTranspose', ['x', 'w2'], ['z'], { kernel_shape: ints([3, 3]), strides: ints([2, 3]), pads: ints([1, 0, 0, 1]), output_padding: ints([1, 2]) }),
    ], { w1: f32([3, 2, 2, 2]), b1: f32([2]), w2: f32([3, 4, 3, 3]) });
    assert.ok((await compare(g)) <= 1e-4);
    assert.ok((await compare(g, 1)) <= 1e-4);
  });

  it('an op with no mapping is a clear UNSUPPORTED error naming the op and node', () => {
    const g = graph([X(['N', 4])], ['y'], [node('Det', ['x'], ['y'])]);
    assert.throws(() => exportTfjs(g, { format: 'graph' }), (e: unknown) => e instanceof MloptError && e.code === 'UNSUPPORTED' && /op Det \(node "Det_y"\) has no TF\.js graph-model mapping/.test(e.message));
  });
});

const corpus = (p: string): string => join(CORPUS, p);
const CORPUS_SKIP = existsSync(corpus('keras')) ? false : `../shared/corpus not found (${CORPUS})`;

describe('real models from ../shared/corpus', { skip: CORPUS_SKIP }, () => {
  for (const m of ['keras/dl4j_simple_mlp_sequential.h5', 'keras/dl4j_simple_functional_mlp.h5', 'keras/hls4ml_mlp_hdf5_named.keras', 'keras/kotlindl_lstm_weights_only', 'keras/kotlindl_toyresnet_weights_only']) {
    it(`${m} → layers model computes what the IR computes in onnxruntime`, async () => {
      const { graph } = await loadModel(corpus(m));
      assert.ok((await compare(graph, 2, 'layers')) <= 1e-4);
    });
  }

  for (const m of [
    'keras/kotlindl_toyresnet_weights_only', 'onnx/attention_torch2.8_dynamo_opset18.onnx', 'keras/kotlindl_lstm_weights_only',
    'keras/hls4ml_conv1d_gru_hdf5_named.keras', 'onnx/keras2onnx_conv1d_lstm.onnx', 'onnx/lstm_1layer_pytorch1.9.onnx',
  ]) {
    it(`${m} → graph model computes what onnxruntime computes`, async () => {
      const { graph } = await loadModel(corpus(m));
      assert.ok((await compare(graph, 2, 'graph')) <= 1e-4);
    });
  }

  it('a Keras GRU with reset_after is a clear UNSUPPORTED error as a layers model (tfjs-layers cannot run it), not a model that fails to load', async () => {
    const { graph: gru } = await loadModel(corpus('keras/hls4ml_conv1d_gru_hdf5_named.keras'));
    assert.throws(() => exportTfjs(gru, { format: 'layers' }), (e: unknown) => e instanceof MloptError && e.code === 'UNSUPPORTED' && /GRU with reset_after=true/.test(e.message));
  });
});
