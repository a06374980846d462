import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attr, Graph, Node } from '../../src/ir/graph.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { summarize } from '../../src/ir/summary.js';

let counter = 0;
function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, domain = ''): Node {
  return { name: `${op}_${counter++}`, op, domain, inputs, outputs, attrs };
}
function graph(nodes: Node[], init: Record<string, Tensor> = {}): Graph {
  return {
    name: 'g', inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }], outputs: [{ name: 'y' }], valueInfo: [], nodes,
    initializers: new Map(Object.entries(init)), metadata: { opsets: [{ domain: '', version: 17 }], props: {} },
  };
}
const f32 = (shape: number[], values?: number[]): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: values ? Float32Array.from(values) : new Float32Array(n).fill(1) };
};

describe('summarize', () => {
  it('counts ops (domain-qualified, subgraphs included) and opaque ops', () => {
    const body: Graph = { ...graph([node('Relu', ['x'], ['t']), node('Add', ['t', 't'], ['u'])]), name: 'body' };
    const g = graph([
      node('MatMul', ['x', 'w'], ['a']),
      node('Relu', ['a'], ['b']),
      node('FusedGelu', ['b'], ['c'], {}, 'com.microsoft'),
      node('Mystery', ['c'], ['d']),
      node('If', ['cond'], ['y'], { then_branch: { type: 'graph', value: body }, else_branch: { type: 'graph', value: body } }),
    ]);
    const s = summarize(g);
    assert.deepEqual(s.opHistogram, { MatMul: 1, Relu: 3, 'com.microsoft:FusedGelu': 1, Mystery: 1, If: 1, Add: 2 });
    assert.equal(s.nodeCount, 9);
    assert.equal(s.topLevelNodeCount, 5);
    assert.deepEqual(s.opaqueOps, ['Mystery', 'com.microsoft:FusedGelu']);
    assert.equal(s.quantized, false);
  });

  it('counts parameters from initializers and Constant nodes', () => {
    const g = graph(
      [
        node('Constant', [], ['k'], { value: { type: 'tensor', value: f32([3, 2]) } }),
        node('Constant', [], ['shape'], { value_ints: { type: 'ints', value: [1, -1] } }),
        node('Constant', [], ['eps'], { value_float: { type: 'float', value: 1e-5 } }),
        node('MatMul', ['x', 'w'], ['y']),
      ],
      { w: f32([4, 10]), b: { dtype: 'float16', shape: [10], data: new Uint16Array(10) } },
    );
    const s = summarize(g);
    assert.equal(s.parameterCount, 40 + 10 + 6 + 2 + 1);
    assert.equal(s.weightBytes, 160 + 20 + 24 + 16 + 4);
    assert.deepEqual(s.weightDTypes, { float32: 47, float16: 10, int64: 2 });
  });

  it('sparsity counts exact zeros of float weights with ≥ 2 dims only', () => {
    const g = graph([node('MatMul', ['x', 'w'], ['y'])], {
      w: f32([2, 4], [0, 1, 0, 2, -0, 3, 4, 5]), // 3 zeros of 8
      bias: f32([4], [0, 0, 0, 0]), // 1-D: ignored
      h: { dtype: 'float16', shape: [2, 2], data: Uint16Array.of(0x0000, 0x8000, 0x3c00, 0x3c00) }, // 2 zeros of 4
      idx: { dtype: 'int64', shape: [2, 2], data: new BigInt64Array(4) }, // not float: ignored
    });
    assert.equal(summarize(g).sparsity, 5 / 12);
    assert.equal(summarize(graph([])).sparsity, 0);
  });

  it('detects quantization: QDQ ops, integer kernels, int8 weights into DequantizeLinear', () => {
    const int8: Tensor = { dtype: 'int8', shape: [4, 4], data: new Int8Array(16) };
    const scale: Tensor = { dtype: 'float32', shape: [], data: Float32Array.of(0.1) };
    const dq = graph([node('DequantizeLinear', ['wq', 's'], ['w']), node('MatMul', ['x', 'w'], ['y'])], { wq: int8, s: scale });
    const sq = summarize(dq);
    assert.equal(sq.quantized, true);
    assert.deepEqual(sq.weightDTypes, { int8: 16, float32: 1 });
    assert.equal(summarize(graph([node('MatMulInteger', ['x', 'w'], ['y'])])).quantized, true);
    assert.equal(summarize(graph([node('QLinearConv', ['x'], ['y'])])).quantized, true);
    assert.equal(summarize(graph([node('QGemm', ['x'], ['y'], {}, 'com.microsoft')])).quantized, true);
    const annotated = graph([node('Relu', ['x'], ['y'])]);
    annotated.outputs = [{ name: 'y', dtype: 'int8', quant: { scale: [0.1], zeroPoint: [0] } }];
    assert.equal(summarize(annotated).quantized, true);
    assert.equal(summarize(graph([node('Relu', ['x'], ['y'])], { w: f32([2, 2]) })).quantized, false);
  });
});
