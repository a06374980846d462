import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importTfliteBytes } from '../../src/formats/tflite/import.js';
import type { Graph } from '../../src/ir/graph.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { foldConstants } from '../../src/passes/fold-constants.js';
import { FIXTURES } from '../helpers.js';

describe('constant folding', () => {
  it('evaluates constant subgraphs and static shape arithmetic, leaving the rest', async () => {
    const f = (v: number[]) => ({ dtype: 'float32' as const, shape: [v.length], data: Float32Array.from(v) });
    const g: Graph = {
      name: 'g', inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }], outputs: [{ name: 'y', dtype: 'float32' }], valueInfo: [],
      initializers: new Map([['a', f([1, 2, 3])], ['b', f([10, 20, 30])]]),
      nodes: [
        { name: 'c', op: 'Add', domain: '', inputs: ['a', 'b'], outputs: ['ab'], attrs: {} },
        { name: 'sh', op: 'Shape', domain: '', inputs: ['x'], outputs: ['s'], attrs: {} },
        { name: 'r', op: 'Reshape', domain: '', inputs: ['x', 's'], outputs: ['xr'], attrs: {} },
        { name: 'm', op: 'Mul', domain: '', inputs: ['xr', 'ab'], outputs: ['y'], attrs: {} },
      ],
      metadata: { opsets: [{ domain: '', version: 17 }], props: {} },
    };
    const r = await foldConstants(g);
    assert.deepEqual(r.graph.nodes.map((n) => n.op), ['Reshape', 'Mul']);
    assert.deepEqual(Array.from(toFloat32(r.graph.initializers.get('ab')!)), [11, 22, 33]);
    assert.deepEqual(Array.from(r.graph.initializers.get('s')!.data as BigInt64Array, Number), [2, 3]);
    assert.equal(g.nodes.length, 4, 'input graph untouched');
  });

  it('keeps the DequantizeLinear nodes of int8 weights (they are the quantized model)', async () => {
    const g = importTfliteBytes(readFileSync(join(FIXTURES, 'models', 'fmnist_cnn_int8.tflite')));
    const dq = g.nodes.filter((n) => n.op === 'DequantizeLinear').length;
    const r = await foldConstants(g);
    assert.equal(r.graph.nodes.filter((n) => n.op === 'DequantizeLinear').length, dq);
  });
});
