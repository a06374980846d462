/** A small channels-first graph with the ops whose TFLite mappings are otherwise untested by the
 *  fixtures: ConvTranspose, Resize (linear, half-pixel), Slice, Gelu, Transpose and a MatMul of
 *  two activations (BATCH_MATMUL). Seeded weights; a dynamic batch. */
import type { Attr, Graph, Node } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';

export function opsGraph(): Graph {
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const f32 = (shape: number[]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd) });
  const i64 = (v: number[]): Tensor => ({ dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
  const ints = (value: number[]): Attr => ({ type: 'ints', value });
  const str = (value: string): Attr => ({ type: 'string', value });
  const node = (name: string, op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node => ({ name, op, domain: '', inputs, outputs, attrs });
  return {
    name: 'ops', inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 8, 8] }], outputs: [{ name: 'y', dtype: 'float32' }], valueInfo: [],
    initializers: new Map<string, Tensor>([
      ['wt', f32([3, 4, 2, 2])], ['bt', f32([4])], ['scales', { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 2, 2) }],
      ['st', i64([1, 2])], ['en', i64([31, 30])], ['ax', i64([2, 3])],
    ]),
    nodes: [
      node('up', 'ConvTranspose', ['x', 'wt', 'bt'], ['a'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('rs', 'Resize', ['a', '', 'scales'], ['b'], { mode: str('linear'), coordinate_transformation_mode: str('half_pixel') }),
      node('sl', 'Slice', ['b', 'st', 'en', 'ax'], ['c']),
      node('ge', 'Gelu', ['c'], ['d']),
      node('tr', 'Transpose', ['d'], ['dt'], { perm: ints([0, 1, 3, 2]) }),
      node('mm', 'MatMul', ['d', 'dt'], ['y']),
    ],
    metadata: { opsets: [{ domain: '', version: 20 }], props: {} },
  };
}
