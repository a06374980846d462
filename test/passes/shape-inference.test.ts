import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DType } from '../../src/ir/dtype.js';
import type { Attr, Graph, Node, Value } from '../../src/ir/graph.js';
import type { Dim, Tensor } from '../../src/ir/tensor.js';
import { inferShapes } from '../../src/passes/shape-inference.js';
import { MloptError } from '../../src/util/errors.js';

// ---- builders ----------------------------------------------------------------
let counter = 0;
function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, extra: Partial<Node> = {}): Node {
  return { name: `${op}_${counter++}`, op, domain: '', inputs, outputs, attrs, ...extra };
}
const v = (name: string, shape?: Dim[], dtype: DType | null = 'float32'): Value => {
  const out: Value = { name };
  if (dtype) out.dtype = dtype;
  if (shape) out.shape = shape;
  return out;
};
const zerosF = (...shape: number[]): Tensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const i64 = (...x: number[]): Tensor => ({ dtype: 'int64', shape: [x.length], data: BigInt64Array.from(x, (y) => BigInt(y)) });
const ints = (...value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });

function graph(p: { inputs: Value[]; outputs: Value[]; nodes: Node[]; init?: Record<string, Tensor>; valueInfo?: Value[]; opset?: number }): Graph {
  return {
    name: 'g', inputs: p.inputs, outputs: p.outputs, nodes: p.nodes,
    valueInfo: p.valueInfo ?? [],
    initializers: new Map(Object.entries(p.init ?? {})),
    metadata: { opsets: [{ domain: '', version: p.opset ?? 17 }], props: {} },
  };
}
const info = (g: Graph, name: string): Value | undefined => g.valueInfo.find((x) => x.name === name);

/** A small CNN with a symbolic batch: conv-relu-pool ×2, GAP, flatten, gemm, softmax. */
function cnn(): Graph {
  return graph({
    inputs: [v('x', ['batch', 1, 28, 28])],
    outputs: [v('probs')],
    init: {
      w1: zerosF(8, 1, 3, 3), b1: zerosF(8), w2: zerosF(16, 8, 3, 3), b2: zerosF(16), fc: zerosF(10, 16), fcb: zerosF(10),
    },
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints(1, 1, 1, 1) }),
      node('Relu', ['c1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], { kernel_shape: ints(2, 2), strides: ints(2, 2) }),
      node('Conv', ['p1', 'w2', 'b2'], ['c2'], { strides: ints(2, 2) }),
      node('Relu', ['c2'], ['r2']),
      node('GlobalAveragePool', ['r2'], ['gap']),
      node('Flatten', ['gap'], ['flat']),
      node('Gemm', ['flat', 'fc', 'fcb'], ['logits'], { transB: int(1) }),
      node('Softmax', ['logits'], ['probs'], { axis: int(1) }),
    ],
  });
}

describe('inferShapes', () => {
  it('keeps a symbolic batch through a CNN', () => {
    const g = cnn();
    const r = inferShapes(g);
    assert.equal(r.modified, true);
    assert.deepEqual(r.unknownOps, []);
    assert.deepEqual(r.issues, []);
    const shapes = Object.fromEntries(r.graph.valueInfo.map((x) => [x.name, x.shape]));
    assert.deepEqual(shapes, {
      c1: ['batch', 8, 28, 28], r1: ['batch', 8, 28, 28], p1: ['batch', 8, 14, 14],
      c2: ['batch', 16, 6, 6], r2: ['batch', 16, 6, 6], gap: ['batch', 16, 1, 1],
      flat: ['batch', 16], logits: ['batch', 10],
    });
    assert.ok(r.graph.valueInfo.every((x) => x.dtype === 'float32'));
    // the declared output had a dtype but no shape: the shape is filled in
    assert.deepEqual(r.graph.outputs[0], v('probs', ['batch', 10]));
    // the input graph is untouched; a second run changes nothing
    assert.deepEqual(g.valueInfo, []);
    assert.deepEqual(g.outputs[0], v('probs'));
    const again = inferShapes(r.graph);
    assert.equal(again.modified, false);
    assert.equal(again.graph, r.graph);
  });

  it('follows Shape → Gather → Unsqueeze → Concat → Reshape (PyTorch flatten)', () => {
    const g = graph({
      inputs: [v('x', ['N', 64, 7, 7])],
      outputs: [v('y')],
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Constant', [], ['zero'], { value: { type: 'tensor', value: { dtype: 'int64', shape: [], data: BigInt64Array.of(0n) } } }),
        node('Gather', ['s', 'zero'], ['n'], { axis: int(0) }),
        node('Unsqueeze', ['n', 'ax'], ['n1']),
        node('Constant', [], ['minus1'], { value_ints: ints(-1) }),
        node('Concat', ['n1', 'minus1'], ['shape'], { axis: int(0) }),
        node('Reshape', ['x', 'shape'], ['y']),
      ],
      init: { ax: i64(0) },
      opset: 13,
    });
    const r = inferShapes(g);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(info(r.graph, 's'), v('s', [4], 'int64'));
    assert.deepEqual(info(r.graph, 'n'), v('n', [], 'int64'));
    assert.deepEqual(info(r.graph, 'shape'), v('shape', [2], 'int64'));
    assert.deepEqual(r.graph.outputs[0]?.shape, ['N', 3136]);
  });

  it('propagates shape arithmetic (Shape → Gather → Mul → Concat → Reshape)', () => {
    const scalar = (x: number): Tensor => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(x)) });
    const g = graph({
      inputs: [v('x', ['N', 4, 8])], outputs: [v('y')],
      init: { i0: i64(0), i1: scalar(1), i2: scalar(2), ax: i64(0) },
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'i0'], ['n']),
        node('Gather', ['s', 'i1'], ['a']),
        node('Gather', ['s', 'i2'], ['b']),
        node('Mul', ['a', 'b'], ['ab']),
        node('Unsqueeze', ['ab', 'ax'], ['ab1']),
        node('Concat', ['n', 'ab1'], ['target'], { axis: int(0) }),
        node('Reshape', ['x', 'target'], ['y']),
      ],
      opset: 13,
    });
    const r = inferShapes(g);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(info(r.graph, 'ab'), v('ab', [], 'int64'));
    assert.deepEqual(r.graph.outputs[0]?.shape, ['N', 32]);
  });

  it('reads an ONNX graph without opset_import as opset 1 (legacy forms)', () => {
    const g = graph({
      inputs: [v('x', [1, 8, 4, 4])], outputs: [v('y')], init: { b: zerosF(8) },
      nodes: [
        node('Add', ['x', 'b'], ['a'], { broadcast: int(1), axis: int(1) }),
        node('Reshape', ['a'], ['y'], { shape: ints(1, -1) }),
      ],
    });
    g.metadata = { opsets: [], props: {}, sourceFormat: 'onnx' };
    const r = inferShapes(g);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(info(r.graph, 'a')?.shape, [1, 8, 4, 4]);
    assert.deepEqual(r.graph.outputs[0]?.shape, [1, 128]);
  });

  it('reads constants from Constant nodes and follows the opset form', () => {
    const g13 = graph({
      inputs: [v('x', ['N', 1, 5])], outputs: [v('y')],
      nodes: [node('Constant', [], ['axes'], { value_ints: ints(1) }), node('Squeeze', ['x', 'axes'], ['y'])],
      opset: 13,
    });
    assert.deepEqual(inferShapes(g13).graph.outputs[0]?.shape, ['N', 5]);
    const g11 = graph({ inputs: [v('x', ['N', 1, 5])], outputs: [v('y')], nodes: [node('Squeeze', ['x'], ['y'], { axes: ints(1) })], opset: 11 });
    assert.deepEqual(inferShapes(g11).graph.outputs[0]?.shape, ['N', 5]);
  });

  it('leaves outputs of unknown and opaque ops unknown and lists them', () => {
    const g = graph({
      inputs: [v('x', [1, 4])], outputs: [v('z')],
      nodes: [
        node('Relu', ['x'], ['a']),
        node('FusedThing', ['a'], ['b'], {}, { domain: 'com.example' }),
        node('NoSuchOp', ['b'], ['c']),
        node('Relu', ['c'], ['z']),
      ],
    });
    const r = inferShapes(g);
    assert.deepEqual(r.unknownOps, ['NoSuchOp', 'com.example:FusedThing']);
    assert.deepEqual(info(r.graph, 'a'), v('a', [1, 4]));
    assert.equal(info(r.graph, 'b'), undefined);
    assert.equal(info(r.graph, 'c'), undefined);
    assert.deepEqual(r.graph.outputs[0], v('z'));
  });

  it('never drops value_info; declared info wins when more specific, inferred refines the rest', () => {
    const g = graph({
      inputs: [v('x', ['batch', 16])], outputs: [v('y', ['B', 16])],
      valueInfo: [v('a', [8, 16]), v('b', ['?', '?'], null), v('unrelated', [3])],
      nodes: [node('Relu', ['x'], ['a']), node('Relu', ['a'], ['b']), node('Relu', ['b'], ['y'])],
    });
    const r = inferShapes(g);
    assert.deepEqual(info(r.graph, 'a'), v('a', [8, 16]));
    assert.deepEqual(info(r.graph, 'b'), v('b', [8, 16]));
    assert.deepEqual(info(r.graph, 'unrelated'), v('unrelated', [3]));
    // a declared output shape is not overwritten; the input is never touched
    assert.deepEqual(r.graph.outputs[0], v('y', ['B', 16]));
    assert.deepEqual(r.graph.inputs[0], v('x', ['batch', 16]));
    assert.deepEqual(r.graph.valueInfo.map((x) => x.name), ['a', 'b', 'unrelated']);
  });

  it('fills an output without dtype', () => {
    const g = graph({ inputs: [v('x', [2, 3], 'int32')], outputs: [v('y', undefined, null)], nodes: [node('Neg', ['x'], ['y'])] });
    assert.deepEqual(inferShapes(g).graph.outputs[0], v('y', [2, 3], 'int32'));
  });

  it('reports inconsistent nodes, or throws with strict', () => {
    const g = graph({
      inputs: [v('a', [2, 3]), v('b', [4, 3])], outputs: [v('y')],
      nodes: [node('Add', ['a', 'b'], ['s']), node('Relu', ['s'], ['y'])],
    });
    const r = inferShapes(g);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]?.op, 'Add');
    assert.match(r.issues[0]?.message ?? '', /broadcast/);
    assert.equal(info(r.graph, 's'), undefined);
    assert.throws(() => inferShapes(g, { strict: true }), (e: unknown) => e instanceof MloptError && e.code === 'SHAPE_MISMATCH');
  });

  it('handles NHWC layout nodes', () => {
    const g = graph({
      inputs: [v('x', ['N', 32, 32, 3])], outputs: [v('y')],
      init: { w: zerosF(16, 3, 3, 3) },
      nodes: [
        node('Conv', ['x', 'w'], ['c'], { strides: ints(2, 2), auto_pad: { type: 'string', value: 'SAME_UPPER' } }, { layout: 'NHWC' }),
        node('MaxPool', ['c'], ['y'], { kernel_shape: ints(2, 2), strides: ints(2, 2) }, { layout: 'NHWC' }),
      ],
    });
    const r = inferShapes(g);
    assert.deepEqual(info(r.graph, 'c')?.shape, ['N', 16, 16, 16]);
    assert.deepEqual(r.graph.outputs[0]?.shape, ['N', 8, 8, 16]);
  });

  it('does not descend into subgraphs but types If outputs from the branches', () => {
    const branch = (name: string, shape: Dim[]): Graph => ({
      name, inputs: [], outputs: [v(`${name}_out`, shape)], valueInfo: [], initializers: new Map(),
      nodes: [node('Relu', ['x'], [`${name}_out`])], metadata: { opsets: [], props: {} },
    });
    const g = graph({
      inputs: [v('x', ['N', 4]), v('cond', [], 'bool')], outputs: [v('y')],
      nodes: [node('If', ['cond'], ['y'], { then_branch: { type: 'graph', value: branch('t', ['N', 4]) }, else_branch: { type: 'graph', value: branch('e', ['N', 4]) } })],
    });
    const r = inferShapes(g);
    assert.deepEqual(r.graph.outputs[0], v('y', ['N', 4]));
    const body = (g.nodes[0]?.attrs['then_branch'] as { value: Graph }).value;
    assert.deepEqual(body.valueInfo, []);
  });
});
