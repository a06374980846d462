/**
 * Normalizations TF.js has no single op for, written as their moments:
 * y = (x − mean) · rsqrt(var + ε) · scale + bias, mean and var over
 * - LayerNormalization: the axes from `axis` to the last;
 * - InstanceNormalization (channels-last after the layout pass): the spatial axes.
 */
import { attrFloat, attrInt } from '../../../ir/graph.js';
import type { Node } from '../../../ir/graph.js';
import type { EmitContext, Handler } from './context.js';
import { A } from './graphdef.js';

const T = A.type('float32');

function normalize(c: EmitContext, n: Node, axes: number[], hint: string): string {
  const x = c.ref(n.inputs[0]!);
  const ax = c.i32(`${hint}/axes`, axes);
  const mean = c.op('Mean', `${hint}/mean`, [x, ax], { T, Tidx: A.type('int32'), keep_dims: A.b(true) });
  const centered = c.op('Sub', `${hint}/centered`, [x, mean], { T });
  const variance = c.op('Mean', `${hint}/variance`, [c.op('Mul', `${hint}/sq`, [centered, centered], { T }), ax], { T, Tidx: A.type('int32'), keep_dims: A.b(true) });
  const inv = c.op('Rsqrt', `${hint}/rsqrt`, [c.op('AddV2', `${hint}/var_eps`, [variance, c.f32(`${hint}/epsilon`, attrFloat(n, 'epsilon', 1e-5))], { T })], { T });
  return c.op('Mul', `${hint}/normalized`, [centered, inv], { T });
}

function affine(c: EmitContext, n: Node, y: string, out: string): string {
  const scaled = n.inputs[1] ? c.op('Mul', n.inputs[2] ? `${out}/scaled` : out, [y, c.ref(n.inputs[1])], { T }) : y;
  return n.inputs[2] ? c.op('AddV2', out, [scaled, c.ref(n.inputs[2])], { T }) : scaled;
}

const LayerNormalization: Handler = (n, c) => {
  const rank = c.rank(n.inputs[0]!) ?? c.fail(n, 'the input rank is unknown');
  if (n.outputs.slice(1).some(Boolean)) c.fail(n, 'the Mean / InvStdDev outputs');
  let axis = attrInt(n, 'axis', -1);
  if (axis < 0) axis += rank;
  const out = n.outputs[0]!;
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  c.bind(out, affine(c, n, normalize(c, n, axes, out), out));
};

const InstanceNormalization: Handler = (n, c) => {
  const rank = c.rank(n.inputs[0]!) ?? c.fail(n, 'the input rank is unknown');
  if (n.layout !== 'NHWC') c.fail(n, 'a channels-first op the layout pass did not convert');
  const out = n.outputs[0]!;
  const axes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
  c.bind(out, affine(c, n, normalize(c, n, axes, out), out));
};

export const NORM_HANDLERS: Record<string, Handler> = { LayerNormalization, InstanceNormalization };
