// Shape rules of the op catalogue, one describe block per op family. Over ~400 lines on purpose:
// a single file mirrors the single catalogue, and every case is a one-line table entry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DType } from '../../src/ir/dtype.js';
import type { Attr, Layout, Node } from '../../src/ir/graph.js';
import type { Dim, Tensor } from '../../src/ir/tensor.js';
import {
  attrsAt, getOp, graphOpset, inferNode, inputsAt, isCatalogued, listOps, outputsAt, type ValueType,
} from '../../src/ir/ops/index.js';
import { MloptError } from '../../src/util/errors.js';

// ---- builders ----------------------------------------------------------------
type In = ValueType | Tensor | undefined;
const T = (shape: Dim[] | undefined, dtype: DType = 'float32'): ValueType => ({ dtype, shape });
const MAX = 9223372036854775807n; // INT64_MAX as exporters write it
const i64 = (...v: (number | bigint)[]): Tensor => ({ dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v, (x) => BigInt(x)) });
const f32 = (...v: number[]): Tensor => ({ dtype: 'float32', shape: [v.length], data: Float32Array.from(v) });
const A = {
  int: (value: number): Attr => ({ type: 'int', value }),
  ints: (...value: number[]): Attr => ({ type: 'ints', value }),
  float: (value: number): Attr => ({ type: 'float', value }),
  floats: (...value: number[]): Attr => ({ type: 'floats', value }),
  str: (value: string): Attr => ({ type: 'string', value }),
};
const isTensor = (x: In): x is Tensor => x !== undefined && 'data' in x;

interface Opts { opset?: number; outputs?: number; layout?: Layout }

function run(op: string, inputs: In[], attrs: Record<string, Attr> = {}, opts: Opts = {}): ValueType[] {
  const node: Node = {
    name: `${op}_0`, op, domain: '', attrs,
    inputs: inputs.map((x, i) => (x === undefined ? '' : `in${i}`)),
    outputs: Array.from({ length: opts.outputs ?? 1 }, (_, i) => `out${i}`),
  };
  if (opts.layout) node.layout = opts.layout;
  const r = inferNode(node, {
    opset: opts.opset ?? 17,
    types: inputs.map((x) => (isTensor(x) ? { dtype: x.dtype, shape: x.shape } : x)),
    constants: inputs.map((x) => (isTensor(x) ? x : undefined)),
  });
  return r.outputs;
}
const shape = (op: string, inputs: In[], attrs: Record<string, Attr> = {}, opts: Opts = {}): Dim[] | undefined =>
  run(op, inputs, attrs, opts)[0]?.shape;
const fails = (fn: () => unknown, re?: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof MloptError && e.code === 'SHAPE_MISMATCH' && (!re || re.test(e.message)));
};

// ---- catalogue ---------------------------------------------------------------
describe('catalogue', () => {
  it('lists every required op', () => {
    const names = new Set(listOps().map((d) => d.name));
    for (const op of [
      'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization',
      'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sum', 'Max', 'Min', 'Relu', 'LeakyRelu', 'PRelu', 'Clip',
      'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Gelu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Softmax',
      'LogSoftmax', 'Identity', 'Dropout', 'Concat', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Pad',
      'ReduceMean', 'ReduceSum', 'ReduceMax', 'Resize', 'Upsample', 'Slice', 'Gather', 'Cast', 'Shape', 'Constant',
      'ConstantOfShape', 'Split', 'Expand', 'Where', 'Equal', 'QuantizeLinear', 'DequantizeLinear', 'MatMulInteger',
      'QLinearConv', 'QLinearMatMul', 'ConvInteger',
    ]) assert.ok(names.has(op), op);
    const sorted = listOps().map((d) => d.name);
    assert.deepEqual(sorted, [...sorted].sort((a, b) => a.localeCompare(b)));
  });

  it('getOp / isCatalogued honour the domain', () => {
    assert.equal(getOp('Conv')?.category, 'nn');
    assert.equal(getOp('Conv')?.layoutSensitive, true);
    assert.equal(getOp('NoSuchOp'), undefined);
    assert.equal(isCatalogued({ op: 'Conv', domain: '' }), true);
    assert.equal(isCatalogued({ op: 'Conv', domain: 'ai.onnx' }), true);
    assert.equal(isCatalogued({ op: 'Conv', domain: 'com.microsoft' }), false);
    assert.equal(isCatalogued({ op: 'FusedConv', domain: '' }), false);
  });

  it('resolves inputs and attributes per opset', () => {
    const sq = getOp('Squeeze')!;
    assert.deepEqual(inputsAt(sq, 11).map((s) => s.name), ['data']);
    assert.deepEqual(inputsAt(sq, 13).map((s) => s.name), ['data', 'axes']);
    assert.ok('axes' in attrsAt(sq, 11) && !('axes' in attrsAt(sq, 13)));
    assert.equal(attrsAt(getOp('Softmax')!, 11)['axis']?.default, 1);
    assert.equal(attrsAt(getOp('Softmax')!, 13)['axis']?.default, -1);
    const gemm = getOp('Gemm')!;
    assert.equal(inputsAt(gemm, 9)[2]?.optional, false);
    assert.equal(inputsAt(gemm, 13)[2]?.optional, true);
    const resize = getOp('Resize')!;
    assert.deepEqual(inputsAt(resize, 10).map((s) => s.name), ['X', 'scales']);
    assert.deepEqual(inputsAt(resize, 13).map((s) => s.name), ['X', 'roi', 'scales', 'sizes']);
  });
});

describe('catalogue robustness', () => {
  it('every rule copes with unknown inputs (result or SHAPE_MISMATCH, never a crash)', () => {
    const dummy: Record<string, Attr> = {
      int: A.int(1), float: A.float(1), string: A.str('forward'), ints: A.ints(1), floats: A.floats(1), strings: { type: 'strings', value: ['a'] },
    };
    for (const opset of [7, 11, 13, 18, 21, 25]) {
      for (const def of listOps()) {
        const ins = inputsAt(def, opset);
        const attrs: Record<string, Attr> = {};
        for (const [name, spec] of Object.entries(attrsAt(def, opset))) {
          if (spec.required && dummy[spec.type]) attrs[name] = dummy[spec.type] as Attr;
        }
        const inputs = ins.filter((x) => !x.optional).map(() => T(undefined));
        const outs = Math.max(outputsAt(def, opset).length, 1);
        try {
          const r = run(def.name, inputs, attrs, { opset, outputs: outs });
          assert.ok(Array.isArray(r), def.name);
        } catch (e) {
          assert.ok(e instanceof MloptError && e.code === 'SHAPE_MISMATCH', `${def.name}@${opset}: ${String(e)}`);
        }
      }
    }
  });

  it('graphOpset: declared, ONNX without opset_import (1), other formats (default)', () => {
    const g = (sourceFormat: string | undefined, opsets: { domain: string; version: number }[]) =>
      ({ name: 'g', inputs: [], outputs: [], valueInfo: [], nodes: [], initializers: new Map(), metadata: { opsets, props: {}, sourceFormat } });
    assert.equal(graphOpset(g('onnx', [{ domain: 'ai.onnx', version: 13 }])), 13);
    assert.equal(graphOpset(g('onnx', [])), 1);
    assert.equal(graphOpset(g('tflite', [])), 21);
  });
});

// ---- nn ----------------------------------------------------------------------
describe('Conv', () => {
  const W = (...s: number[]): ValueType => T(s);
  it('padding and strides', () => {
    assert.deepEqual(shape('Conv', [T([1, 3, 224, 224]), W(64, 3, 7, 7)], { strides: A.ints(2, 2), pads: A.ints(3, 3, 3, 3) }), [1, 64, 112, 112]);
    assert.deepEqual(shape('Conv', [T([1, 3, 32, 32]), W(8, 3, 3, 3)]), [1, 8, 30, 30]);
    assert.deepEqual(shape('Conv', [T([1, 3, 32, 30]), W(8, 3, 3, 3)], { pads: A.ints(1, 0, 1, 0) }), [1, 8, 32, 28]);
  });
  it('dilation', () => {
    assert.deepEqual(shape('Conv', [T([1, 4, 32, 32]), W(4, 4, 3, 3)], { dilations: A.ints(2, 2), pads: A.ints(2, 2, 2, 2) }), [1, 4, 32, 32]);
    assert.deepEqual(shape('Conv', [T([1, 4, 32, 32]), W(4, 4, 3, 3)], { dilations: A.ints(3, 3) }), [1, 4, 26, 26]);
  });
  it('groups and depthwise', () => {
    assert.deepEqual(shape('Conv', [T([1, 32, 56, 56]), W(32, 1, 3, 3)], { group: A.int(32), pads: A.ints(1, 1, 1, 1) }), [1, 32, 56, 56]);
    assert.deepEqual(shape('Conv', [T([2, 16, 8, 8]), W(32, 4, 1, 1)], { group: A.int(4) }), [2, 32, 8, 8]);
    fails(() => shape('Conv', [T([1, 16, 8, 8]), W(32, 4, 1, 1)]), /channels/);
  });
  it('auto_pad SAME_UPPER / SAME_LOWER / VALID', () => {
    assert.deepEqual(shape('Conv', [T([1, 3, 7, 7]), W(8, 3, 3, 3)], { auto_pad: A.str('SAME_UPPER'), strides: A.ints(2, 2) }), [1, 8, 4, 4]);
    assert.deepEqual(shape('Conv', [T([1, 3, 8, 8]), W(8, 3, 3, 3)], { auto_pad: A.str('SAME_LOWER'), strides: A.ints(2, 2) }), [1, 8, 4, 4]);
    assert.deepEqual(shape('Conv', [T([1, 3, 7, 7]), W(8, 3, 3, 3)], { auto_pad: A.str('SAME_UPPER') }), [1, 8, 7, 7]);
    assert.deepEqual(shape('Conv', [T([1, 3, 7, 7]), W(8, 3, 3, 3)], { auto_pad: A.str('VALID'), strides: A.ints(2, 2) }), [1, 8, 3, 3]);
    assert.deepEqual(shape('Conv', [T([1, 3, 7, 7]), W(8, 3, 3, 3)], { auto_pad: A.str('NOTSET') }), [1, 8, 5, 5]);
  });
  it('kernel_shape attribute, 1-D and 3-D', () => {
    assert.deepEqual(shape('Conv', [T([1, 3, 100]), W(8, 3, 5)], { kernel_shape: A.ints(5), strides: A.ints(5) }), [1, 8, 20]);
    assert.deepEqual(shape('Conv', [T([1, 3, 8, 16, 16]), W(8, 3, 3, 3, 3)], { pads: A.ints(1, 1, 1, 1, 1, 1) }), [1, 8, 8, 16, 16]);
  });
  it('symbols: batch kept, symbolic spatial dims unknown', () => {
    assert.deepEqual(shape('Conv', [T(['N', 3, 32, 32]), W(8, 3, 3, 3)]), ['N', 8, 30, 30]);
    assert.deepEqual(shape('Conv', [T(['N', 3, 'H', 32]), W(8, 3, 3, 3)]), ['N', 8, '?', 30]);
    assert.deepEqual(shape('Conv', [T(['N', 3, 'H', 'W']), W(8, 3, 3, 3)], { pads: A.ints(1, 1, 1, 1) }), ['N', 8, 'H', 'W']);
    assert.deepEqual(shape('Conv', [T(['N', 3, 'H', 'W']), W(8, 3, 1, 1)]), ['N', 8, 'H', 'W']);
    assert.deepEqual(shape('Conv', [T(['N', 3, 'H', 'W']), W(8, 3, 3, 3)], { auto_pad: A.str('SAME_UPPER') }), ['N', 8, 'H', 'W']);
    assert.deepEqual(shape('Conv', [T(['N', 3, 'H', 'W']), W(8, 3, 3, 3)], { pads: A.ints(1, 1, 1, 1), strides: A.ints(2, 2) }), ['N', 8, '?', '?']);
    assert.deepEqual(shape('Conv', [T(undefined), W(8, 3, 3, 3)]), ['?', 8, '?', '?']);
  });
  it('NHWC layout', () => {
    assert.deepEqual(shape('Conv', [T([1, 224, 224, 3]), W(64, 3, 7, 7)], { strides: A.ints(2, 2), pads: A.ints(3, 3, 3, 3) }, { layout: 'NHWC' }), [1, 112, 112, 64]);
    assert.deepEqual(shape('MaxPool', [T(['b', 8, 8, 16])], { kernel_shape: A.ints(2, 2), strides: A.ints(2, 2) }, { layout: 'NHWC' }), ['b', 4, 4, 16]);
    assert.deepEqual(shape('GlobalAveragePool', [T(['b', 7, 7, 16])], {}, { layout: 'NHWC' }), ['b', 1, 1, 16]);
  });
});

describe('ConvTranspose', () => {
  it('strides, pads, output_padding, groups', () => {
    assert.deepEqual(shape('ConvTranspose', [T([1, 16, 14, 14]), T([16, 8, 4, 4])], { strides: A.ints(2, 2), pads: A.ints(1, 1, 1, 1) }), [1, 8, 28, 28]);
    assert.deepEqual(shape('ConvTranspose', [T([1, 16, 14, 14]), T([16, 8, 3, 3])], { strides: A.ints(2, 2), pads: A.ints(1, 1, 1, 1), output_padding: A.ints(1, 1) }), [1, 8, 28, 28]);
    assert.deepEqual(shape('ConvTranspose', [T([1, 16, 5, 5]), T([16, 4, 3, 3])], { group: A.int(4) }), [1, 16, 7, 7]);
  });
  it('output_shape and SAME', () => {
    assert.deepEqual(shape('ConvTranspose', [T(['N', 16, 14, 14]), T([16, 8, 3, 3])], { strides: A.ints(2, 2), output_shape: A.ints(28, 28) }), ['N', 8, 28, 28]);
    assert.deepEqual(shape('ConvTranspose', [T([1, 16, 14, 14]), T([16, 8, 3, 3])], { strides: A.ints(2, 2), auto_pad: A.str('SAME_UPPER') }), [1, 8, 28, 28]);
  });
});

describe('pools and norms', () => {
  const k2s2 = { kernel_shape: A.ints(2, 2), strides: A.ints(2, 2) };
  it('MaxPool floor and ceil_mode', () => {
    assert.deepEqual(shape('MaxPool', [T([1, 1, 5, 5])], k2s2), [1, 1, 2, 2]);
    assert.deepEqual(shape('MaxPool', [T([1, 1, 5, 5])], { ...k2s2, ceil_mode: A.int(1) }), [1, 1, 3, 3]);
    // a last window that would start in the right padding is dropped
    assert.deepEqual(shape('MaxPool', [T([1, 1, 5, 5])], { ...k2s2, pads: A.ints(1, 1, 1, 1), ceil_mode: A.int(1) }), [1, 1, 3, 3]);
    assert.deepEqual(shape('MaxPool', [T([1, 1, 112, 112])], { kernel_shape: A.ints(3, 3), strides: A.ints(2, 2), pads: A.ints(1, 1, 1, 1) }), [1, 1, 56, 56]);
  });
  it('MaxPool Indices output is int64', () => {
    const [y, idx] = run('MaxPool', [T(['N', 4, 8, 8])], k2s2, { outputs: 2 });
    assert.deepEqual(y, T(['N', 4, 4, 4]));
    assert.deepEqual(idx, T(['N', 4, 4, 4], 'int64'));
  });
  it('AveragePool with pads, count_include_pad and SAME', () => {
    const a = { kernel_shape: A.ints(3, 3), pads: A.ints(1, 1, 1, 1), count_include_pad: A.int(1) };
    assert.deepEqual(shape('AveragePool', [T([1, 2, 10, 10])], a), [1, 2, 10, 10]);
    assert.deepEqual(shape('AveragePool', [T([1, 2, 11, 11])], { kernel_shape: A.ints(3, 3), strides: A.ints(2, 2), auto_pad: A.str('SAME_UPPER') }), [1, 2, 6, 6]);
    assert.deepEqual(shape('AveragePool', [T([1, 2, 6, 6])], { kernel_shape: A.ints(3, 3), strides: A.ints(2, 2), ceil_mode: A.int(1) }), [1, 2, 3, 3]);
  });
  it('global pools, batch norm, dropout, depth-to-space', () => {
    assert.deepEqual(shape('GlobalAveragePool', [T(['N', 512, 7, 7])]), ['N', 512, 1, 1]);
    assert.deepEqual(shape('GlobalMaxPool', [T(['N', 512, 7])]), ['N', 512, 1]);
    assert.deepEqual(shape('BatchNormalization', [T(['N', 8, 4, 4]), T([8]), T([8]), T([8]), T([8])]), ['N', 8, 4, 4]);
    const [, mask] = run('Dropout', [T(['N', 10])], {}, { outputs: 2 });
    assert.deepEqual(mask, T(['N', 10], 'bool'));
    assert.deepEqual(shape('DepthToSpace', [T([1, 16, 4, 4])], { blocksize: A.int(2) }), [1, 4, 8, 8]);
    assert.deepEqual(shape('SpaceToDepth', [T([1, 4, 8, 8])], { blocksize: A.int(2) }), [1, 16, 4, 4]);
    assert.deepEqual(run('LayerNormalization', [T(['N', 5, 8]), T([8])], {}, { outputs: 2 })[1], T(['N', 5, 1]));
  });
});

// ---- math / broadcasting -----------------------------------------------------
describe('Gemm and MatMul', () => {
  it('Gemm with transA / transB', () => {
    assert.deepEqual(shape('Gemm', [T(['N', 128]), T([10, 128]), T([10])], { transB: A.int(1) }), ['N', 10]);
    assert.deepEqual(shape('Gemm', [T([128, 4]), T([128, 10])], { transA: A.int(1) }), [4, 10]);
    fails(() => shape('Gemm', [T([4, 128]), T([64, 10])]), /inner/);
    fails(() => shape('Gemm', [T([4, 8]), T([8, 10]), T([3])]), /broadcast/);
  });
  it('MatMul: 2-D, batched broadcast, 1-D operands', () => {
    assert.deepEqual(shape('MatMul', [T([2, 3]), T([3, 4])]), [2, 4]);
    assert.deepEqual(shape('MatMul', [T([5, 1, 2, 3]), T([4, 3, 6])]), [5, 4, 2, 6]);
    assert.deepEqual(shape('MatMul', [T(['B', 'S', 64]), T([64, 256])]), ['B', 'S', 256]);
    assert.deepEqual(shape('MatMul', [T([3]), T([3, 4])]), [4]);
    assert.deepEqual(shape('MatMul', [T([2, 3]), T([3])]), [2]);
    assert.deepEqual(shape('MatMul', [T([7, 2, 3]), T([3])]), [7, 2]);
    assert.deepEqual(shape('MatMul', [T([3]), T([3])]), []);
    fails(() => shape('MatMul', [T([2, 3]), T([4, 5])]), /inner/);
    fails(() => shape('MatMul', [T([2, 2, 3]), T([3, 3, 5])]), /broadcast/);
  });
  it('Einsum', () => {
    assert.deepEqual(shape('Einsum', [T([2, 3, 4]), T([2, 4, 5])], { equation: A.str('bij,bjk->bik') }), [2, 3, 5]);
    assert.deepEqual(shape('Einsum', [T([3, 4])], { equation: A.str('ij->ji') }), [4, 3]);
    assert.deepEqual(shape('Einsum', [T([6, 2, 3]), T([3, 4])], { equation: A.str('...ij,jk') }), [6, 2, 4]);
  });
});

describe('elementwise', () => {
  it('multidirectional broadcast', () => {
    assert.deepEqual(shape('Add', [T(['N', 3, 1, 5]), T([4, 1])]), ['N', 3, 4, 5]);
    assert.deepEqual(shape('Mul', [T([2, 3]), T([])]), [2, 3]);
    assert.deepEqual(shape('Sub', [T(['N', 3]), T(['N', 3])]), ['N', 3]);
    assert.deepEqual(shape('Div', [T(['N']), T(['M'])]), ['?']);
    assert.deepEqual(shape('Pow', [T(['N', 1]), T([1, 7])]), ['N', 7]);
    assert.deepEqual(shape('Add', [T(['N', 1]), T([5, 'K'])]), [5, 'K']);
    assert.equal(shape('Add', [T(undefined), T([3])]), undefined);
  });
  it('broadcasting errors', () => {
    fails(() => shape('Add', [T([2, 3]), T([4, 3])]), /broadcast/);
    fails(() => shape('Sum', [T([3]), T([3]), T([4])]), /broadcast/);
    fails(() => shape('Where', [T([2, 1], 'bool'), T([3]), T([2, 4])]), /broadcast/);
  });
  it('variadic, comparison, Where, legacy broadcast', () => {
    assert.deepEqual(shape('Sum', [T([3, 1]), T([1, 4]), T([4])]), [3, 4]);
    assert.deepEqual(shape('Max', [T([2, 3]), T([3])]), [2, 3]);
    assert.deepEqual(shape('Min', [T([5])]), [5]);
    assert.deepEqual(run('Equal', [T([2, 3], 'int64'), T([3], 'int64')])[0], T([2, 3], 'bool'));
    assert.deepEqual(run('Where', [T([2, 1], 'bool'), T([3], 'int32'), T([2, 3], 'int32')])[0], T([2, 3], 'int32'));
    assert.deepEqual(shape('Add', [T([2, 3, 4]), T([3])], { broadcast: A.int(1), axis: A.int(1) }, { opset: 6 }), [2, 3, 4]);
  });
  it('activations keep the input type', () => {
    for (const op of ['Relu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Gelu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Identity']) {
      assert.deepEqual(run(op, [T(['N', 10], 'float16')], {}, { opset: 20 })[0], T(['N', 10], 'float16'), op);
    }
    assert.deepEqual(shape('LeakyRelu', [T([2, 3])], { alpha: A.float(0.1) }), [2, 3]);
    assert.deepEqual(shape('PRelu', [T(['N', 8, 4, 4]), T([8, 1, 1])]), ['N', 8, 4, 4]);
    assert.deepEqual(shape('Clip', [T([2, 3]), undefined, f32(6)], {}, { opset: 13 }), [2, 3]);
    assert.deepEqual(shape('Clip', [T([2, 3])], { min: A.float(0), max: A.float(6) }, { opset: 6 }), [2, 3]);
  });
  it('Softmax axis default depends on the opset', () => {
    assert.deepEqual(shape('Softmax', [T(['N', 10])], {}, { opset: 11 }), ['N', 10]);
    assert.deepEqual(shape('LogSoftmax', [T(['N', 10])], {}, { opset: 13 }), ['N', 10]);
    // axis 1 (the opset-11 default) does not exist in a 1-D tensor; -1 (opset 13) does
    fails(() => shape('Softmax', [T([10])], {}, { opset: 11 }), /axis/);
    assert.deepEqual(shape('Softmax', [T([10])], {}, { opset: 13 }), [10]);
  });
  it('Cast', () => {
    assert.deepEqual(run('Cast', [T(['N', 3])], { to: A.int(7) })[0], T(['N', 3], 'int64'));
    assert.deepEqual(run('Cast', [T([3], 'int64')], { to: A.int(10) })[0], T([3], 'float16'));
    assert.deepEqual(run('Cast', [T([3])], { to: A.str('INT32') }, { opset: 1 })[0], T([3], 'int32'));
    assert.deepEqual(run('CastLike', [T([3]), T([], 'int8')], {}, { opset: 15 })[0], T([3], 'int8'));
  });
});

// ---- shape ops -----------------------------------------------------------------
describe('Reshape and Flatten', () => {
  it('0 copies, -1 is inferred', () => {
    assert.deepEqual(shape('Reshape', [T([2, 3, 4]), i64(0, -1)]), [2, 12]);
    assert.deepEqual(shape('Reshape', [T([2, 3, 4]), i64(-1)]), [24]);
    assert.deepEqual(shape('Reshape', [T([2, 3, 4]), i64(4, 0, 2)]), [4, 3, 2]);
    assert.deepEqual(shape('Reshape', [T(['N', 64, 7, 7]), i64(0, -1)]), ['N', 3136]);
    assert.deepEqual(shape('Reshape', [T(['N', 64, 7, 7]), i64(-1, 3136)]), ['N', 3136]);
    assert.deepEqual(shape('Reshape', [T(['N', 64, 7, 7]), i64(-1, 64)]), ['?', 64]);
    assert.deepEqual(shape('Reshape', [T([6]), T([3], 'int64')]), ['?', '?', '?']);
  });
  it('allowzero and legacy attribute form', () => {
    assert.deepEqual(shape('Reshape', [T([0, 3]), i64(3, 0)], { allowzero: A.int(1) }, { opset: 14 }), [3, 0]);
    assert.deepEqual(shape('Reshape', [T([2, 3])], { shape: A.ints(3, 2) }, { opset: 1 }), [3, 2]);
  });
  it('errors', () => {
    fails(() => shape('Reshape', [T([2, 3]), i64(-1, -1)]), /-1/);
    fails(() => shape('Reshape', [T([2, 3]), i64(4, -1)]), /multiple/);
    fails(() => shape('Reshape', [T([2, 3]), i64(5)]), /cannot reshape/);
  });
  it('Flatten', () => {
    assert.deepEqual(shape('Flatten', [T(['N', 64, 7, 7])]), ['N', 3136]);
    assert.deepEqual(shape('Flatten', [T([2, 3, 4])], { axis: A.int(0) }), [1, 24]);
    assert.deepEqual(shape('Flatten', [T([2, 3, 4])], { axis: A.int(-1) }), [6, 4]);
    assert.deepEqual(shape('Flatten', [T([2, 3, 4])], { axis: A.int(3) }), [24, 1]);
  });
});

describe('Transpose, Squeeze, Unsqueeze, Concat, Split, Expand, Tile', () => {
  it('Transpose', () => {
    assert.deepEqual(shape('Transpose', [T(['N', 3, 224, 224])], { perm: A.ints(0, 2, 3, 1) }), ['N', 224, 224, 3]);
    assert.deepEqual(shape('Transpose', [T([2, 3, 4])]), [4, 3, 2]);
    fails(() => shape('Transpose', [T([2, 3])], { perm: A.ints(0, 0) }), /perm/);
  });
  it('Squeeze: attribute (opset 11) and input (opset 13) forms', () => {
    assert.deepEqual(shape('Squeeze', [T(['N', 1, 5, 1])], { axes: A.ints(1, -1) }, { opset: 11 }), ['N', 5]);
    assert.deepEqual(shape('Squeeze', [T(['N', 1, 5, 1]), i64(1, 3)], {}, { opset: 13 }), ['N', 5]);
    assert.deepEqual(shape('Squeeze', [T([1, 5, 1])], {}, { opset: 13 }), [5]);
    assert.deepEqual(shape('Squeeze', [T(['N', 1, 5]), T([1], 'int64')], {}, { opset: 13 }), ['?', '?']);
    fails(() => shape('Squeeze', [T([2, 5]), i64(0)], {}, { opset: 13 }), /squeeze/);
  });
  it('Unsqueeze: attribute (opset 11) and input (opset 13) forms', () => {
    assert.deepEqual(shape('Unsqueeze', [T(['N', 5])], { axes: A.ints(1) }, { opset: 11 }), ['N', 1, 5]);
    assert.deepEqual(shape('Unsqueeze', [T(['N', 5]), i64(0, -1)], {}, { opset: 13 }), [1, 'N', 5, 1]);
    assert.deepEqual(shape('Unsqueeze', [T([]), i64(0)], {}, { opset: 13 }), [1]);
    assert.deepEqual(shape('Unsqueeze', [T([3]), T([2], 'int64')], {}, { opset: 13 }), ['?', '?', '?']);
  });
  it('Concat', () => {
    assert.deepEqual(shape('Concat', [T(['N', 3, 8]), T(['N', 5, 8])], { axis: A.int(1) }), ['N', 8, 8]);
    assert.deepEqual(shape('Concat', [T([2, 3]), T([2, 4]), T([2, 1])], { axis: A.int(-1) }), [2, 8]);
    assert.deepEqual(shape('Concat', [T(['N', 3]), T(['M', 3])], { axis: A.int(0) }), ['?', 3]);
    assert.deepEqual(shape('Concat', [T(['?', 3]), T([2, 4])], { axis: A.int(1) }), [2, 7]);
    fails(() => shape('Concat', [T([2, 3]), T([3, 3])], { axis: A.int(1) }), /differ/);
  });
  it('Split: equal parts, sizes as attribute / input, num_outputs', () => {
    const s = (r: ValueType[]): (Dim[] | undefined)[] => r.map((t) => t.shape);
    assert.deepEqual(s(run('Split', [T(['N', 6])], { axis: A.int(1) }, { outputs: 3 })), [['N', 2], ['N', 2], ['N', 2]]);
    assert.deepEqual(s(run('Split', [T([6, 4])], { split: A.ints(2, 4) }, { outputs: 2, opset: 11 })), [[2, 4], [4, 4]]);
    assert.deepEqual(s(run('Split', [T([6, 4]), i64(1, 5)], {}, { outputs: 2, opset: 13 })), [[1, 4], [5, 4]]);
    assert.deepEqual(s(run('Split', [T([7])], { num_outputs: A.int(3) }, { outputs: 3, opset: 18 })), [[3], [3], [1]]);
    fails(() => run('Split', [T([6, 4]), i64(1, 4)], {}, { outputs: 2, opset: 13 }), /sum/);
  });
  it('Expand and Tile', () => {
    assert.deepEqual(shape('Expand', [T([3, 1]), i64(2, 1, 6)]), [2, 3, 6]);
    assert.deepEqual(shape('Expand', [T(['N', 1]), i64(1, 4)]), ['N', 4]);
    fails(() => shape('Expand', [T([3, 2]), i64(4, 4)]), /broadcast/);
    assert.deepEqual(shape('Tile', [T(['N', 3]), i64(1, 2)]), ['N', 6]);
    assert.deepEqual(shape('Tile', [T(['N', 3]), i64(2, 2)]), ['?', 6]);
  });
});

describe('Slice and Gather', () => {
  it('opset 9 attributes', () => {
    assert.deepEqual(shape('Slice', [T([10, 20])], { starts: A.ints(2), ends: A.ints(5), axes: A.ints(1) }, { opset: 9 }), [10, 3]);
  });
  it('negative starts, INT64_MAX ends, steps', () => {
    assert.deepEqual(shape('Slice', [T([10, 20]), i64(-3), i64(MAX), i64(1)]), [10, 3]);
    assert.deepEqual(shape('Slice', [T([10, 20]), i64(1, 0), i64(1000, -1), i64(0, 1), i64(2, 3)]), [5, 7]);
    assert.deepEqual(shape('Slice', [T([10]), i64(-1), i64(-MAX), i64(0), i64(-1)]), [10]);
    assert.deepEqual(shape('Slice', [T([10]), i64(-1), i64(-MAX), i64(0), i64(-2)]), [5]);
    assert.deepEqual(shape('Slice', [T([10]), i64(8), i64(2), i64(0), i64(-3)]), [2]);
    assert.deepEqual(shape('Slice', [T([10]), i64(5), i64(2)]), [0]);
    fails(() => shape('Slice', [T([10]), i64(0), i64(5), i64(0), i64(0)]), /step/);
  });
  it('symbolic and non-constant operands', () => {
    assert.deepEqual(shape('Slice', [T(['N', 20]), i64(0, 5), i64(MAX, 10)]), ['N', 5]);
    assert.deepEqual(shape('Slice', [T(['N', 20]), i64(1), i64(MAX), i64(0)]), ['?', 20]);
    assert.deepEqual(shape('Slice', [T(['N', 20]), T([1], 'int64'), T([1], 'int64'), i64(1)]), ['N', '?']);
    assert.deepEqual(shape('Slice', [T(['N', 20]), T([1], 'int64'), T([1], 'int64')]), ['?', '?']);
  });
  it('Gather', () => {
    assert.deepEqual(shape('Gather', [T([5, 4, 3]), T([2, 6], 'int64')], { axis: A.int(1) }), [5, 2, 6, 3]);
    assert.deepEqual(shape('Gather', [T(['N', 4, 3]), T([], 'int64')], { axis: A.int(-1) }), ['N', 4]);
    assert.deepEqual(shape('Gather', [T([100, 16]), T(['B', 'S'], 'int64')]), ['B', 'S', 16]);
    assert.deepEqual(shape('GatherND', [T([2, 3, 4]), T([5, 2], 'int64')]), [5, 4]);
  });
});

describe('Pad, Resize, Upsample', () => {
  it('Pad: attribute (opset 2) and input (11 / 18 with axes) forms', () => {
    assert.deepEqual(shape('Pad', [T([1, 3, 4, 4])], { pads: A.ints(0, 0, 1, 2, 0, 0, 1, 2) }, { opset: 2 }), [1, 3, 6, 8]);
    assert.deepEqual(shape('Pad', [T(['N', 3, 4, 4]), i64(0, 0, 1, 1, 0, 0, 1, 1)], {}, { opset: 11 }), ['N', 3, 6, 6]);
    assert.deepEqual(shape('Pad', [T(['N', 3, 4, 4]), i64(1, 2, 1, 2), undefined, i64(2, 3)], {}, { opset: 18 }), ['N', 3, 6, 8]);
    assert.deepEqual(shape('Pad', [T([4, 4]), T([4], 'int64')], {}, { opset: 13 }), ['?', '?']);
  });
  it('Resize: scales and sizes', () => {
    assert.deepEqual(shape('Resize', [T(['N', 3, 16, 16]), undefined, f32(1, 1, 2, 2)], {}, { opset: 13 }), ['N', 3, 32, 32]);
    assert.deepEqual(shape('Resize', [T([1, 3, 15, 15]), f32(), f32(1, 1, 0.5, 0.5)], {}, { opset: 11 }), [1, 3, 7, 7]);
    assert.deepEqual(shape('Resize', [T([1, 3, 16, 16]), f32(), f32(), i64(1, 3, 20, 24)], {}, { opset: 11 }), [1, 3, 20, 24]);
    assert.deepEqual(shape('Resize', [T([1, 3, 16, 16]), f32(1, 1, 2, 3)], {}, { opset: 10 }), [1, 3, 32, 48]);
    assert.deepEqual(shape('Resize', [T([1, 3, 16, 16]), undefined, undefined, i64(8, 8)], { axes: A.ints(2, 3) }, { opset: 18 }), [1, 3, 8, 8]);
    assert.deepEqual(shape('Resize', [T([1, 3, 10, 20]), undefined, undefined, i64(10, 10)],
      { axes: A.ints(2, 3), keep_aspect_ratio_policy: A.str('not_larger') }, { opset: 18 }), [1, 3, 5, 10]);
    assert.deepEqual(shape('Resize', [T(['N', 3, 16, 16]), undefined, undefined, T([4], 'int64')], {}, { opset: 13 }), ['?', '?', '?', '?']);
  });
  it('Upsample: attribute (opset 7) and input (opset 9) forms', () => {
    assert.deepEqual(shape('Upsample', [T(['N', 3, 8, 8])], { scales: A.floats(1, 1, 2, 2) }, { opset: 7 }), ['N', 3, 16, 16]);
    assert.deepEqual(shape('Upsample', [T([1, 3, 8, 8]), f32(1, 1, 3, 3)], {}, { opset: 9 }), [1, 3, 24, 24]);
  });
});

describe('reductions and misc', () => {
  it('ReduceMean / ReduceSum / ReduceMax in both forms', () => {
    assert.deepEqual(shape('ReduceMean', [T(['N', 8, 4, 4])], { axes: A.ints(2, 3) }, { opset: 13 }), ['N', 8, 1, 1]);
    assert.deepEqual(shape('ReduceMean', [T(['N', 8, 4, 4]), i64(-2, -1)], { keepdims: A.int(0) }, { opset: 18 }), ['N', 8]);
    assert.deepEqual(shape('ReduceSum', [T([2, 3]), i64(0)], {}, { opset: 13 }), [1, 3]);
    assert.deepEqual(shape('ReduceSum', [T([2, 3])], { keepdims: A.int(0) }, { opset: 13 }), []);
    assert.deepEqual(shape('ReduceSum', [T([2, 3])], { noop_with_empty_axes: A.int(1) }, { opset: 13 }), [2, 3]);
    assert.deepEqual(shape('ReduceMax', [T([2, 3]), T([1], 'int64')], {}, { opset: 18 }), ['?', '?']);
    assert.deepEqual(run('ArgMax', [T([2, 3])], { axis: A.int(1), keepdims: A.int(0) })[0], T([2], 'int64'));
    assert.deepEqual(run('TopK', [T(['N', 100]), i64(5)], {}, { outputs: 2 })[1], T(['N', 5], 'int64'));
  });
  it('Shape, Size, Constant, ConstantOfShape, Range, OneHot', () => {
    assert.deepEqual(run('Shape', [T(['N', 3, 4])])[0], T([3], 'int64'));
    assert.deepEqual(run('Shape', [T(['N', 3, 4])], { start: A.int(1) }, { opset: 15 })[0], T([2], 'int64'));
    assert.deepEqual(run('Size', [T(['N', 3])])[0], T([], 'int64'));
    assert.deepEqual(run('Constant', [], { value_ints: A.ints(1, 2, 3) })[0], T([3], 'int64'));
    assert.deepEqual(run('Constant', [], { value: { type: 'tensor', value: f32(1, 2) } })[0], T([2]));
    assert.deepEqual(run('ConstantOfShape', [i64(2, 5)])[0], T([2, 5]));
    const one: Tensor = { dtype: 'int32', shape: [1], data: Int32Array.of(1) };
    assert.deepEqual(run('ConstantOfShape', [i64(3)], { value: { type: 'tensor', value: one } })[0], T([3], 'int32'));
    const sc = (v: number): Tensor => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(v)) });
    assert.deepEqual(run('Range', [sc(0), sc(10), sc(3)])[0], T([4], 'int64'));
    assert.deepEqual(shape('OneHot', [T(['N'], 'int64'), i64(10), f32(0, 1)]), ['N', 10]);
  });
});

describe('recurrent, attention, detection', () => {
  it('LSTM / GRU / RNN in both layouts', () => {
    const [y, yh, yc] = run('LSTM', [T([7, 'B', 16]), T([1, 80, 16]), T([1, 80, 20])], { hidden_size: A.int(20) }, { outputs: 3 });
    assert.deepEqual([y?.shape, yh?.shape, yc?.shape], [[7, 1, 'B', 20], [1, 'B', 20], [1, 'B', 20]]);
    const bi = run('GRU', [T(['B', 7, 16]), T([2, 60, 16]), T([2, 60, 20])], { direction: A.str('bidirectional'), layout: A.int(1) }, { outputs: 2 });
    assert.deepEqual(bi.map((t) => t.shape), [['B', 7, 2, 20], ['B', 2, 20]]);
    assert.deepEqual(shape('RNN', [T([5, 1, 4]), T([1, 3, 4]), T([1, 3, 3])], { hidden_size: A.int(3) }), [5, 1, 1, 3]);
  });
  it('Attention (4-D and 3-D), RMSNormalization, RotaryEmbedding', () => {
    const four = run('Attention', [T([2, 8, 10, 64]), T([2, 2, 12, 64]), T([2, 2, 12, 32]), undefined, T([2, 2, 5, 64])], {}, { opset: 23, outputs: 4 });
    assert.deepEqual(four.map((t) => t.shape), [[2, 8, 10, 32], [2, 2, 17, 64], [2, 2, 17, 32], [2, 8, 10, 17]]);
    const three = run('Attention', [T(['B', 'S', 512]), T(['B', 'S', 128]), T(['B', 'S', 128])], { q_num_heads: A.int(8), kv_num_heads: A.int(2) }, { opset: 23 });
    assert.deepEqual(three[0]?.shape, ['B', 'S', 512]);
    assert.deepEqual(shape('RMSNormalization', [T(['B', 'S', 512]), T([512])], {}, { opset: 23 }), ['B', 'S', 512]);
    assert.deepEqual(shape('RotaryEmbedding', [T(['B', 'S', 512]), T([64, 32]), T([64, 32])], {}, { opset: 23 }), ['B', 'S', 512]);
  });
  it('NonMaxSuppression, RoiAlign, GridSample, Det', () => {
    assert.deepEqual(run('NonMaxSuppression', [T([1, 100, 4]), T([1, 3, 100])])[0], T(['?', 3], 'int64'));
    assert.deepEqual(shape('RoiAlign', [T([1, 256, 50, 50]), T(['R', 4]), T(['R'], 'int64')], { output_height: A.int(7), output_width: A.int(7) }), ['R', 256, 7, 7]);
    assert.deepEqual(shape('GridSample', [T(['N', 3, 32, 32]), T(['N', 16, 24, 2])]), ['N', 3, 16, 24]);
    assert.deepEqual(shape('Det', [T([5, 3, 3])]), [5]);
  });
});

describe('quantization ops', () => {
  const s = (n: number): ValueType => T(n === 0 ? [] : [n]);
  it('QuantizeLinear output dtype: zero point, default uint8, output_dtype', () => {
    assert.deepEqual(run('QuantizeLinear', [T(['N', 8]), s(0), T([], 'int8')], {}, { opset: 13 })[0], T(['N', 8], 'int8'));
    assert.deepEqual(run('QuantizeLinear', [T(['N', 8]), s(0)], {}, { opset: 13 })[0], T(['N', 8], 'uint8'));
    assert.deepEqual(run('QuantizeLinear', [T([4]), s(0)], { output_dtype: A.int(22) }, { opset: 21 })[0], T([4], 'int4'));
  });
  it('DequantizeLinear: per-axis, dtype from scale or output_dtype', () => {
    assert.deepEqual(run('DequantizeLinear', [T([16, 3, 3, 3], 'int8'), s(16), T([16], 'int8')], { axis: A.int(0) }, { opset: 13 })[0], T([16, 3, 3, 3]));
    assert.deepEqual(run('DequantizeLinear', [T([4], 'uint8'), T([], 'float16')], {}, { opset: 19 })[0], T([4], 'float16'));
    assert.deepEqual(run('DequantizeLinear', [T([4], 'uint8'), s(0)], { output_dtype: A.int(16) }, { opset: 23 })[0], T([4], 'bfloat16'));
    fails(() => run('DequantizeLinear', [T([16, 3], 'int8'), s(3)], { axis: A.int(0) }, { opset: 13 }), /per-axis/);
  });
  it('integer and QLinear kernels', () => {
    assert.deepEqual(run('MatMulInteger', [T(['N', 64], 'uint8'), T([64, 10], 'int8')])[0], T(['N', 10], 'int32'));
    assert.deepEqual(run('ConvInteger', [T([1, 3, 8, 8], 'uint8'), T([4, 3, 3, 3], 'uint8')])[0], T([1, 4, 6, 6], 'int32'));
    const q = (sh: Dim[]): ValueType => T(sh, 'uint8');
    assert.deepEqual(run('QLinearMatMul', [q([2, 3]), s(0), q([]), q([3, 5]), s(0), q([]), s(0), q([])])[0], q([2, 5]));
    assert.deepEqual(run('QLinearConv', [q(['N', 3, 8, 8]), s(0), q([]), T([4, 3, 3, 3], 'int8'), s(4), T([4], 'int8'), s(0), T([], 'int8')], { pads: A.ints(1, 1, 1, 1) })[0], T(['N', 4, 8, 8], 'int8'));
    assert.deepEqual(run('DynamicQuantizeLinear', [T(['N', 4])], {}, { outputs: 3 }).map((t) => t.dtype), ['uint8', 'float32', 'uint8']);
  });
});
