import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset, parseNpz, prepareFeeds } from '../../../src/data/index.js';
import { randomFeeds } from '../../../src/data/dataset.js';
import { loadModel } from '../../../src/formats/load.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { importTfjs } from '../../../src/formats/tfjs/import.js';
import { TF_OPS } from '../../../src/formats/tfjs/graphdef-ops.js';
import { tfjsKerasWeightSource } from '../../../src/formats/tfjs/layers-model.js';
import type { TfjsWeightsManifestGroup } from '../../../src/formats/tfjs/weights.js';
import type { Graph, Value } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { createTfjsRunner } from '../../../src/runtime/tfjs.js';
import { MloptError } from '../../../src/util/errors.js';
import { CORPUS, FIXTURES, ROOT, TEST_NPZ, runCli, tempDir } from '../../helpers.js';
import { B, F, GraphBuilder, I, IL, S, SL, T } from './tf-graph.js';

const KERAS_BUILDER = existsSync(join(ROOT, 'src', 'formats', 'keras', 'index.ts'));
const CORPUS_DIR = join(CORPUS, 'tfjs');

/** TF.js takes int64 feeds as int32. */
const forTfjs = (t: Tensor): Tensor => (t.dtype === 'int64' ? { dtype: 'int32', shape: t.shape, data: Int32Array.from(t.data as BigInt64Array, Number) } : t);
const tfjsInputs = (vs: Value[]): Value[] => vs.map((v) => (v.dtype === 'int64' ? { ...v, dtype: 'int32' } : v));

function maxDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const x = toFloat32(a);
  const y = toFloat32(b);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Run the IR (through ONNX Runtime) and tfjs on the same feeds; the largest |diff| over all outputs. */
async function compareWithTfjs(file: string, g: Graph, feeds: Map<string, Tensor>): Promise<number> {
  const ins = feedInputs(g);
  const ort = await createOnnxRunner(exportOnnxBytes(g), ins, g.outputs);
  const tf = await createTfjsRunner(file, tfjsInputs(ins), g.outputs, { backend: 'cpu' });
  try {
    const a = await ort.run(feeds);
    const b = await tf.run(new Map([...feeds].map(([k, t]) => [k, forTfjs(t)])));
    let m = 0;
    for (const o of g.outputs) m = Math.max(m, maxDiff(a.get(o.name)!, b.get(o.name)!));
    return m;
  } finally {
    await ort.dispose();
    await tf.dispose();
  }
}

function symbolicDims(vs: Value[]): Record<string, number> {
  return Object.fromEntries(vs.flatMap((v) => (v.shape ?? []).slice(1).filter((d): d is string => typeof d === 'string').map((d) => [d, 7])));
}

function tfjsModels(): Array<{ name: string; file: string; layers: boolean }> {
  const dirs = [
    ...(existsSync(CORPUS_DIR) ? readdirSync(CORPUS_DIR).sort().map((d) => join(CORPUS_DIR, d)) : []),
    ...readdirSync(join(FIXTURES, 'models')).filter((d) => d.includes('_tfjs_')).sort().map((d) => join(FIXTURES, 'models', d)),
  ];
  return dirs.filter((d) => existsSync(join(d, 'model.json'))).map((d) => {
    const json = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as { format?: string; modelTopology: { node?: unknown } };
    return { name: d.split('/').pop()!, file: join(d, 'model.json'), layers: json.format !== 'graph-model' && !Array.isArray(json.modelTopology.node) };
  });
}

describe('TF.js import: real models compute what tfjs computes', () => {
  for (const m of tfjsModels()) {
    const skip = m.layers && !KERAS_BUILDER ? 'needs the Keras graph builder (src/formats/keras/index.ts)' : false;
    it(`${m.name}: imports, validates, and matches tfjs on seeded random inputs (≤ 1e-4)`, { skip }, async () => {
      const g = await importTfjs(m.file);
      assert.equal(g.metadata.sourceFormat, 'tfjs');
      assert.deepEqual(validateGraph(g).filter((i) => i.severity === 'error'), []);
      const ins = feedInputs(g);
      assert.ok(ins.length > 0 && g.outputs.length > 0);
      const feeds = randomFeeds(ins, 3, 42, symbolicDims(ins));
      const d = await compareWithTfjs(m.file, g, feeds);
      assert.ok(d <= 1e-4, `max |diff| ${d}`);
    });
  }

  for (const m of ['fmnist_cnn_tfjs_graph', 'fmnist_mlp_tfjs_graph', 'fmnist_cnn_tfjs_layers', 'fmnist_mlp_tfjs_layers']) {
    const skip = m.endsWith('layers') && !KERAS_BUILDER ? 'needs the Keras graph builder (src/formats/keras/index.ts)' : false;
    it(`${m}: on the Fashion-MNIST test set, equal to tfjs and to the converter's reference outputs (≤ 1e-4)`, { skip }, async () => {
      const file = join(FIXTURES, 'models', m, 'model.json');
      const { graph: g, format, fileSize } = await loadModel(join(FIXTURES, 'models', m));
      assert.equal(format, 'tfjs');
      assert.ok(fileSize > readFileSync(file).byteLength);
      const ins = feedInputs(g);
      const data = prepareFeeds(await loadDataset(TEST_NPZ), ins, { batch: 500 });
      const ort = await createOnnxRunner(exportOnnxBytes(g), ins, g.outputs);
      const tf = await createTfjsRunner(file, ins, g.outputs, { backend: 'cpu' });
      const ys: number[] = [];
      let d = 0;
      for (const b of data.batches()) {
        const y = (await ort.run(b.feeds)).get(g.outputs[0]!.name)!;
        d = Math.max(d, maxDiff(y, (await tf.run(b.feeds)).get(g.outputs[0]!.name)!));
        ys.push(...toFloat32(y));
      }
      await ort.dispose();
      await tf.dispose();
      assert.ok(d <= 1e-4, `max |diff| vs tfjs ${d}`);
      const ref = toFloat32(parseNpz(readFileSync(join(FIXTURES, 'reference', `${m}.npz`))).get('y')!);
      assert.equal(ys.length, ref.length);
      let r = 0;
      for (let i = 0; i < ref.length; i++) r = Math.max(r, Math.abs(ref[i]! - ys[i]!));
      assert.ok(r <= 1e-4, `max |diff| vs reference ${r}`);
    });
  }

  it('graph models: NHWC convolutions keep their layout and get OIHW kernels; int64 inputs and a dynamic batch survive', async () => {
    const g = await importTfjs(join(FIXTURES, 'models', 'fmnist_cnn_tfjs_graph', 'model.json'));
    const convs = g.nodes.filter((n) => n.op === 'Conv');
    assert.equal(convs.length, 2);
    for (const c of convs) assert.equal(c.layout, 'NHWC');
    // conv1 reads the 1-channel image: its HWIO kernel [k, k, 1, O] becomes OIHW [O, 1, k, k]
    const w = g.initializers.get(convs[0]!.inputs[1]!)!;
    assert.equal(w.shape[1], 1);
    assert.deepEqual(w.shape.slice(2), (convs[0]!.attrs.kernel_shape as { value: number[] }).value);
    assert.deepEqual(g.inputs[0]!.shape, ['batch', 28, 28, 1]);
    const p = join(CORPUS_DIR, 'tfjs_examples_prefetch_graph_int64', 'model.json');
    if (existsSync(p)) {
      const gp = await importTfjs(p);
      assert.deepEqual(gp.inputs.map((v) => [v.name, v.dtype, v.shape]), [['cur_page', 'int64', ['batch']], ['session_index', 'int64', ['batch']]]);
      assert.deepEqual(gp.outputs.map((v) => [v.name, v.dtype, v.shape]), [['Identity', 'float32', ['batch', 101]]]);
    }
  });
});

/** One hand-written graph per group of ops; tfjs-converter runs the reference. */
const OP_CASES: Array<{ name: string; ops: string[]; build(b: GraphBuilder): string[] }> = [
  {
    name: 'convolutions (SAME / VALID / EXPLICIT, strides, dilations, depthwise, fused bias + activations)',
    ops: ['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'Relu6', 'Elu', 'LeakyRelu', 'Prelu'],
    build(b) {
      const x = b.placeholder('x', [2, 9, 9, 3]);
      const nhwc = { data_format: S('NHWC') };
      const c1 = b.op('c1', 'Conv2D', [x, b.f32('w1', [3, 3, 3, 4])], { ...nhwc, strides: IL(1, 2, 2, 1), padding: S('SAME'), dilations: IL(1, 1, 1, 1) });
      const c2 = b.op('c2', 'Conv2D', [x, b.f32('w2', [2, 2, 3, 5])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('VALID'), dilations: IL(1, 2, 2, 1) });
      const c3 = b.op('c3', 'Conv2D', [x, b.f32('w3', [3, 3, 3, 2])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('EXPLICIT'), explicit_paddings: IL(0, 0, 1, 2, 0, 1, 0, 0), dilations: IL(1, 1, 1, 1) });
      const f1 = b.op('f1', '_FusedConv2D', [x, b.f32('w4', [3, 3, 3, 4]), b.f32('b4', [4])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('SAME'), dilations: IL(1, 1, 1, 1), fused_ops: SL('BiasAdd', 'Relu6'), num_args: I(1) });
      const f2 = b.op('f2', '_FusedConv2D', [x, b.f32('w5', [1, 1, 3, 4]), b.f32('b5', [4])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('VALID'), dilations: IL(1, 1, 1, 1), fused_ops: SL('BiasAdd', 'LeakyRelu'), leakyrelu_alpha: F(0.3), num_args: I(1) });
      const f3 = b.op('f3', '_FusedConv2D', [x, b.f32('w6', [3, 3, 3, 4]), b.f32('b6', [4]), b.f32('a6', [4])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('SAME'), dilations: IL(1, 1, 1, 1), fused_ops: SL('BiasAdd', 'Prelu'), num_args: I(2) });
      const d1 = b.op('d1', 'DepthwiseConv2dNative', [x, b.f32('dw1', [3, 3, 3, 2])], { ...nhwc, strides: IL(1, 2, 2, 1), padding: S('SAME'), dilations: IL(1, 1, 1, 1) });
      const d2 = b.op('d2', 'FusedDepthwiseConv2dNative', [x, b.f32('dw2', [3, 3, 3, 1]), b.f32('db2', [3])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('VALID'), dilations: IL(1, 1, 1, 1), fused_ops: SL('BiasAdd', 'Elu'), num_args: I(1) });
      // tensorflowjs_converter's fused depthwise convolution without a bias: fused_ops ['NoOp', act]
      const d3 = b.op('d3', 'FusedDepthwiseConv2dNative', [x, b.f32('dw3', [3, 3, 3, 1])], { ...nhwc, strides: IL(1, 1, 1, 1), padding: S('SAME'), dilations: IL(1, 1, 1, 1), fused_ops: SL('NoOp', 'Relu6'), num_args: I(0) });
      return [c1, c2, c3, f1, f2, f3, d1, d2, d3];
    },
  },
  {
    name: 'pools, batch norm, bias add, reductions',
    ops: ['MaxPool', 'AvgPool', 'FusedBatchNormV3', 'FusedBatchNorm', 'BiasAdd', 'Mean', 'Sum', 'Max', 'Min', 'Prod'],
    build(b) {
      const x = b.placeholder('x', [2, 7, 7, 3]);
      const nhwc = { data_format: S('NHWC') };
      const p1 = b.op('p1', 'MaxPool', [x], { ...nhwc, ksize: IL(1, 3, 3, 1), strides: IL(1, 2, 2, 1), padding: S('SAME') });
      const p2 = b.op('p2', 'AvgPool', [x], { ...nhwc, ksize: IL(1, 3, 3, 1), strides: IL(1, 2, 2, 1), padding: S('SAME') });
      const p3 = b.op('p3', 'AvgPool', [x], { ...nhwc, ksize: IL(1, 2, 2, 1), strides: IL(1, 1, 1, 1), padding: S('VALID') });
      const bn = b.op('bn', 'FusedBatchNormV3', [x, b.f32('g', [3]), b.f32('be', [3]), b.f32('mu', [3]), b.f32('var', [3], [0.5, 1.5, 2])], { ...nhwc, epsilon: F(0.001), is_training: B(false), U: T() });
      const bn1 = b.op('bn1', 'FusedBatchNorm', [x, b.f32('g1', [3]), b.f32('be1', [3]), b.f32('mu1', [3]), b.f32('var1', [3], [1, 2, 3])], { ...nhwc, epsilon: F(0.01), is_training: B(false) });
      const ba = b.op('ba', 'BiasAdd', [x, b.f32('bias', [3])], nhwc);
      const r1 = b.op('r1', 'Mean', [x, b.i32('ax1', [1, 2])], { keep_dims: B(false), Tidx: T('DT_INT32') });
      const r2 = b.op('r2', 'Sum', [x, b.i32('ax2', [-1])], { keep_dims: B(true), Tidx: T('DT_INT32') });
      const r3 = b.op('r3', 'Max', [x, b.i32('ax3', [1])], { keep_dims: B(false), Tidx: T('DT_INT32') });
      const r4 = b.op('r4', 'Min', [x, b.i32('ax4', [2], [])], { keep_dims: B(true), Tidx: T('DT_INT32') });
      const r5 = b.op('r5', 'Prod', [x, b.i32('ax5', [3])], { keep_dims: B(false), Tidx: T('DT_INT32') });
      return [p1, p2, p3, bn, bn1, ba, r1, r2, r3, r4, r5];
    },
  },
  {
    name: 'matmuls (transposes, fused bias + activations, batch matmul with adjoints, einsum)',
    ops: ['MatMul', '_FusedMatMul', 'BatchMatMulV2', 'BatchMatMul', 'Einsum', 'Sigmoid'],
    build(b) {
      const x = b.placeholder('x', [4, 6]);
      const y = b.placeholder('y', [2, 3, 4]);
      const m1 = b.op('m1', 'MatMul', [x, b.f32('w1', [6, 5])], { transpose_a: B(false), transpose_b: B(false) });
      const m2 = b.op('m2', 'MatMul', [x, b.f32('w2', [5, 6])], { transpose_a: B(false), transpose_b: B(true) });
      const m3 = b.op('m3', 'MatMul', [x, b.f32('w3', [4, 3])], { transpose_a: B(true), transpose_b: B(false) });
      const f1 = b.op('f1', '_FusedMatMul', [x, b.f32('w4', [6, 3]), b.f32('b4', [3])], { transpose_a: B(false), transpose_b: B(false), fused_ops: SL('BiasAdd', 'Sigmoid'), num_args: I(1) });
      const f2 = b.op('f2', '_FusedMatMul', [x, b.f32('w5', [6, 3]), b.f32('b5', [3])], { transpose_a: B(false), transpose_b: B(false), fused_ops: SL('BiasAdd', 'Relu'), num_args: I(1) });
      const bm1 = b.op('bm1', 'BatchMatMulV2', [y, b.f32('w6', [4, 2])], { adj_x: B(false), adj_y: B(false) });
      const bm2 = b.op('bm2', 'BatchMatMulV2', [y, b.f32('w7', [2, 5, 4])], { adj_x: B(false), adj_y: B(true) });
      const bm3 = b.op('bm3', 'BatchMatMul', [y, y], { adj_x: B(true), adj_y: B(false) });
      const e1 = b.op('e1', 'Einsum', [y, b.f32('w8', [4, 5])], { equation: S('bij,jk->bik'), N: I(2) });
      return [m1, m2, m3, f1, f2, bm1, bm2, bm3, e1];
    },
  },
  {
    name: 'elementwise and activations',
    ops: ['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv',
      'Maximum', 'Minimum', 'Rsqrt', 'Sqrt', 'Square', 'Exp', 'Log', 'Neg', 'Abs', 'Prelu', 'SquaredDifference', 'Identity', 'IdentityN', 'NoOp', 'AddN'],
    build(b) {
      const x = b.placeholder('x', [3, 5]);
      const c = b.f32('c', [5]);
      const out: string[] = [];
      for (const op of ['Relu', 'Relu6', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Neg', 'Exp', 'Square', 'Abs']) out.push(b.op(`u_${op}`, op, [x]));
      out.push(b.op('lrelu', 'LeakyRelu', [x], { alpha: F(0.1) }));
      const pos = b.op('pos', 'AddV2', [b.op('abs', 'Abs', [x]), b.f32('one', [], [1])]);
      for (const op of ['Rsqrt', 'Sqrt', 'Log']) out.push(b.op(`p_${op}`, op, [pos]));
      for (const op of ['Add', 'AddV2', 'Sub', 'Mul', 'Maximum', 'Minimum', 'SquaredDifference']) out.push(b.op(`b_${op}`, op, [x, c]));
      out.push(b.op('div', 'RealDiv', [x, pos]));
      out.push(b.op('prelu', 'Prelu', [x, b.f32('alpha', [5])]));
      out.push(b.op('addn', 'AddN', [x, x, pos], { N: I(3) }));
      const idn = b.op('idn', 'IdentityN', [x, pos], { T: { list: { type: ['DT_FLOAT', 'DT_FLOAT'] } } });
      b.nodes.push({ name: 'noop', op: 'NoOp', input: ['^idn'] });
      out.push(b.op('id1', 'Identity', [`${idn}:1`]));
      return out;
    },
  },
  {
    name: 'shape ops (Reshape from a computed shape, Squeeze, ExpandDims, Transpose, ConcatV2, Pack, Pad, PadV2, MirrorPad, Tile, Fill, Cast, Shape)',
    ops: ['Reshape', 'Squeeze', 'ExpandDims', 'Transpose', 'ConcatV2', 'Pack', 'Pad', 'PadV2', 'MirrorPad', 'Tile', 'Fill', 'Cast', 'Shape', 'StridedSlice', 'Unpack'],
    build(b) {
      const x = b.placeholder('x', [2, 3, 4]);
      const shp = b.op('shp', 'Shape', [x], { out_type: T('DT_INT32') });
      const n = b.op('n', 'StridedSlice', [shp, b.i32('sb', [0]), b.i32('se', [1]), b.i32('ss', [1])], { T: T('DT_INT32'), Index: T('DT_INT32'), shrink_axis_mask: I(1), begin_mask: I(0), end_mask: I(0), ellipsis_mask: I(0), new_axis_mask: I(0) });
      const newShape = b.op('newshape', 'Pack', [n, b.i32('m1', [-1], [])], { T: T('DT_INT32'), N: I(2), axis: I(0) });
      const r = b.op('r', 'Reshape', [x, newShape], { Tshape: T('DT_INT32') });
      const e = b.op('e', 'ExpandDims', [x, b.i32('edim', [-1], [])], { Tdim: T('DT_INT32') });
      const s = b.op('s', 'Squeeze', [e], { squeeze_dims: IL(3) });
      const t = b.op('t', 'Transpose', [x, b.i32('perm', [2, 0, 1])], { Tperm: T('DT_INT32') });
      const c = b.op('c', 'ConcatV2', [x, x, b.i32('cax', [1], [])], { N: I(2), Tidx: T('DT_INT32') });
      const p = b.op('p', 'Pack', [x, x, x], { N: I(3), axis: I(1) });
      const pd = b.op('pd', 'Pad', [x, b.i32('pads', [0, 0, 1, 2, 2, 0], [3, 2])], { Tpaddings: T('DT_INT32') });
      const pd2 = b.op('pd2', 'PadV2', [x, b.i32('pads2', [1, 0, 0, 1, 0, 0], [3, 2]), b.f32('cv', [], [0.5])], { Tpaddings: T('DT_INT32') });
      const mp = b.op('mp', 'MirrorPad', [x, b.i32('pads3', [0, 0, 1, 1, 2, 1], [3, 2])], { Tpaddings: T('DT_INT32'), mode: S('REFLECT') });
      const tl = b.op('tl', 'Tile', [x, b.i32('mult', [1, 2, 3])], { Tmultiples: T('DT_INT32') });
      const fl = b.op('fl', 'AddV2', [x, b.op('fill', 'Fill', [shp, b.f32('fv', [], [1.25])], { index_type: T('DT_INT32') })]);
      const ci = b.op('ci', 'Cast', [b.op('xi', 'Cast', [b.op('x10', 'Mul', [x, b.f32('ten', [], [10])])], { SrcT: T(), DstT: T('DT_INT32') })], { SrcT: T('DT_INT32'), DstT: T() });
      const up = b.op('up', 'Unpack', [x], { num: I(3), axis: I(1) });
      return [r, s, t, c, p, pd, pd2, mp, tl, fl, ci, up, b.op('up2', 'Identity', [`${up}:2`])];
    },
  },
  {
    name: 'slicing and gathering (StridedSlice masks, Slice, GatherV2, ArgMax, Split, SplitV)',
    ops: ['StridedSlice', 'Slice', 'GatherV2', 'ArgMax', 'ArgMin', 'Split', 'SplitV'],
    build(b) {
      const x = b.placeholder('x', [3, 6, 5]);
      const ss = (name: string, begin: number[], end: number[], strides: number[], masks: Record<string, number>): string =>
        b.op(name, 'StridedSlice', [x, b.i32(`${name}_b`, begin), b.i32(`${name}_e`, end), b.i32(`${name}_s`, strides)], {
          Index: T('DT_INT32'), begin_mask: I(masks.b ?? 0), end_mask: I(masks.e ?? 0), ellipsis_mask: I(masks.el ?? 0), new_axis_mask: I(masks.n ?? 0), shrink_axis_mask: I(masks.s ?? 0),
        });
      const out = [
        ss('s1', [0, 1, 0], [0, 5, 0], [1, 2, 1], { b: 5, e: 5 }),
        ss('s2', [0, -1], [0, 0], [1, 1], { b: 1, e: 1, s: 2 }),
        ss('s3', [0, 0, 4], [0, 0, 0], [1, 1, -1], { b: 3, e: 7 }),
        ss('s4', [0, 2], [0, 3], [1, 1], { el: 1, s: 2 }),
        ss('s5', [0, 0, 1], [0, 0, 3], [1, 1, 1], { b: 3, e: 3, n: 2 }),
        ss('s6', [1], [2], [1], { s: 1 }),
        b.op('sl', 'Slice', [x, b.i32('slb', [1, 2, 0]), b.i32('sls', [2, -1, 3])], { Index: T('DT_INT32') }),
        b.op('g', 'GatherV2', [x, b.i32('gi', [4, 0, 2, 2]), b.i32('gax', [1], [])], { Tindices: T('DT_INT32'), Tparams: T(), Taxis: T('DT_INT32'), batch_dims: I(0) }),
        b.op('cam', 'Cast', [b.op('am', 'ArgMax', [x, b.i32('amd', [2], [])], { Tidx: T('DT_INT32'), output_type: T('DT_INT32') })], { SrcT: T('DT_INT32'), DstT: T() }),
        b.op('cam2', 'Cast', [b.op('am2', 'ArgMin', [x, b.i32('amd2', [1], [])], { Tidx: T('DT_INT32'), output_type: T('DT_INT32') })], { SrcT: T('DT_INT32'), DstT: T() }),
      ];
      const sp = b.op('sp', 'Split', [b.i32('spax', [1], []), x], { num_split: I(3) });
      const sv = b.op('sv', 'SplitV', [x, b.i32('svs', [1, 4]), b.i32('svax', [2], [])], { num_split: I(2), Tlen: T('DT_INT32') });
      // (tfjs cannot output two tensors of one node: the later ones go through an Identity)
      return [...out, sp, b.op('sp2', 'Identity', [`${sp}:2`]), sv, b.op('sv1', 'Identity', [`${sv}:1`])];
    },
  },
  {
    name: 'resizes (bilinear / nearest; align_corners, half_pixel_centers)',
    ops: ['ResizeBilinear', 'ResizeNearestNeighbor'],
    build(b) {
      const x = b.placeholder('x', [1, 4, 5, 2]);
      const size = b.i32('size', [7, 9]);
      const down = b.i32('down', [3, 2]);
      const out: string[] = [];
      for (const op of ['ResizeBilinear', 'ResizeNearestNeighbor']) {
        out.push(b.op(`${op}_plain`, op, [x, size], { align_corners: B(false), half_pixel_centers: B(false) }));
        out.push(b.op(`${op}_half`, op, [x, size], { align_corners: B(false), half_pixel_centers: B(true) }));
        out.push(b.op(`${op}_align`, op, [x, size], { align_corners: B(true), half_pixel_centers: B(false) }));
        out.push(b.op(`${op}_down`, op, [x, down], { align_corners: B(false), half_pixel_centers: B(true) }));
      }
      return out;
    },
  },
];

describe('TF.js import: each TF op mapping computes what tfjs computes', () => {
  for (const c of OP_CASES) {
    it(c.name, async () => {
      for (const op of c.ops) assert.ok(TF_OPS[op], `${op} has a mapping`);
      const b = new GraphBuilder();
      const outs = c.build(b);
      const file = b.write(outs);
      const g = await importTfjs(file);
      assert.deepEqual(validateGraph(g).filter((i) => i.severity === 'error'), []);
      assert.equal(g.outputs.length, outs.length);
      const ins = feedInputs(g);
      const feeds = randomFeeds(ins, 1, 7);
      // centre the uniform [0, 1) data on 0 so that activations see both signs
      for (const t of feeds.values()) if (t.data instanceof Float32Array) t.data.forEach((v, k, a) => (a[k] = 2 * v - 1));
      const d = await compareWithTfjs(file, g, feeds);
      assert.ok(d <= 1e-4, `max |diff| ${d}`);
    });
  }

  it('an op without a mapping is UNKNOWN_OP naming the op and the node', async () => {
    const b = new GraphBuilder();
    const x = b.placeholder('x', [2]);
    const y = b.op('my/fft', 'FFT', [x]);
    const file = b.write([y]);
    await assert.rejects(importTfjs(file), (e: unknown) => e instanceof MloptError && e.code === 'UNKNOWN_OP' && /^TF op "FFT" \(node "my\/fft"\) has no mlopt mapping; /.test(e.message));
  });
});

describe('TF.js import: layers-model weights reach their Keras layers', () => {
  it('names with a writer prefix, an RNN cell scope or a nested model scope; optimizer weights left out', () => {
    const names = ['dense_Dense1/kernel', 'dense_Dense1/bias', 'lstm_1/lstm_cell/kernel', 'lstm_1/lstm_cell/recurrent_kernel', 'lstm_1/lstm_cell/bias',
      'inner/conv1/kernel', 'conv1/kernel', 'bn/gamma', 'bn/beta', 'bn/moving_mean', 'bn/moving_variance', 'iter'];
    const manifest: TfjsWeightsManifestGroup[] = [{ paths: [], weights: names.map((name) => ({ name, shape: [1], dtype: 'float32', ...(name === 'iter' ? { group: 'optimizer' } : {}) })) }];
    const weights = new Map<string, Tensor>(names.map((n, k) => [n, { dtype: 'float32', shape: [1], data: Float32Array.of(k) }]));
    const config = {
      class_name: 'Functional',
      config: {
        layers: [
          { class_name: 'Dense', config: { name: 'dense_Dense1' } },
          { class_name: 'LSTM', config: { name: 'lstm_1' } },
          { class_name: 'Conv2D', config: { name: 'conv1' } },
          { class_name: 'BatchNormalization', config: { name: 'bn' } },
          { class_name: 'Functional', config: { name: 'inner', layers: [{ class_name: 'Conv2D', config: { name: 'conv1' } }] } },
        ],
      },
    };
    const src = tfjsKerasWeightSource(config, manifest, weights, 'x');
    const values = (ts: Tensor[]): number[] => ts.map((t) => (t.data as Float32Array)[0]!);
    assert.deepEqual(values(src.layer('dense_Dense1', 'Dense')), [0, 1]);
    assert.deepEqual(values(src.layer('lstm_1', 'LSTM')), [2, 3, 4]);
    assert.deepEqual(src.names!('lstm_1', 'LSTM'), ['lstm_1/lstm_cell/kernel', 'lstm_1/lstm_cell/recurrent_kernel', 'lstm_1/lstm_cell/bias']);
    assert.deepEqual(values(src.layer('bn', 'BatchNormalization')), [7, 8, 9, 10]);
    assert.deepEqual(values(src.layer('conv1', 'Conv2D')), [6]);
    assert.deepEqual(values(src.layer('conv1', 'Conv2D', [{ name: 'inner', className: 'Functional' }])), [5]);
    assert.deepEqual(src.layer('nothing', 'Dropout'), []);
    assert.deepEqual(src.unused(), []);
  });
});

describe('TF.js import: broken model folders are one-line errors', () => {
  const build = (): string => {
    const b = new GraphBuilder();
    const x = b.placeholder('x', [2, 3]);
    return b.write([b.op('m', 'MatMul', [x, b.f32('w', [3, 4])], { transpose_a: B(false), transpose_b: B(false) })]);
  };
  const cli = (dir: string): ReturnType<typeof runCli> => runCli(['inspect', dir]);

  it('a missing weight shard', () => {
    const file = build();
    const dir = dirname(file);
    const shard = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    writeFileSync(join(dir, 'model.json'), readFileSync(file, 'utf8').replace(shard, 'missing-shard.bin'));
    const r = cli(dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mlopt: .*model\.json: weight shard "missing-shard\.bin" is missing/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:')).length, 1, r.stderr);
  });

  it('a shard shorter than the manifest says', () => {
    const file = build();
    const dir = dirname(file);
    const shard = join(dir, readdirSync(dir).find((f) => f.endsWith('.bin'))!);
    writeFileSync(shard, readFileSync(shard).subarray(0, 30));
    const r = cli(dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mlopt: .*model\.json: weight "w" needs 48 bytes at offset 0, but the shard "group1-shard1of1\.bin" holds? only 30 bytes/);
  });

  it('corrupt JSON, and JSON that is no model', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'model.json'), '{"format": "graph-model", "modelTopology": {');
    const r = cli(join(dir, 'm'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mlopt: .*model\.json: not valid JSON \(/);
    writeFileSync(join(dir, 'm', 'model.json'), '{"weightsManifest": []}');
    const r2 = cli(join(dir, 'm', 'model.json'));
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /^mlopt: .*model\.json: no modelTopology; not a TF\.js model\.json/);
  });

  it('inspect reads a TF.js graph model', () => {
    const r = runCli(['inspect', join(FIXTURES, 'models', 'fmnist_cnn_tfjs_graph'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.match(JSON.stringify(j), /tfjs/);
  });
});
