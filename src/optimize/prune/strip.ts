/**
 * Stripping: the pruned model as a plain model. Masks are multiplied into the weights, which
 * then hold real zeros (+0, never −0, so that every format and compressor sees the same bytes
 * for every pruned weight), and nothing of the pruning machinery is left in the graph: the
 * result is the user's graph with new initializer values, in any format mlopt writes.
 */
import type { Graph } from '../../ir/graph.js';
import { copyGraph } from '../../ir/edit.js';
import type { Tensor } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';

/** `t` with every element whose mask is 0 set to +0 (float32, float64 or float16 bits). */
export function applyMask(t: Tensor, mask: Uint8Array, name = 'weight'): Tensor {
  const d = t.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array || (d instanceof Uint16Array && (t.dtype === 'float16' || t.dtype === 'bfloat16')))) {
    throw new MloptError('UNSUPPORTED', `cannot prune "${name}": its dtype is ${t.dtype} (pruning works on float weights)`);
  }
  if (mask.length !== d.length) throw new MloptError('SHAPE_MISMATCH', `mask for "${name}" has ${mask.length} values, the weight has ${d.length}`);
  const out = d.slice();
  for (let i = 0; i < out.length; i++) if (!mask[i] || out[i] === 0) out[i] = 0;
  return { ...t, data: out };
}

/** A copy of `graph` with the masks multiplied into their initializers (the rest shared). */
export function stripMasks(graph: Graph, masks: Map<string, Uint8Array>): Graph {
  const g = copyGraph(graph);
  for (const [name, mask] of masks) {
    const t = g.initializers.get(name);
    if (!t) throw new MloptError('INVALID_GRAPH', `pruned weight "${name}" is not an initializer of the graph`);
    g.initializers.set(name, applyMask(t, mask, name));
  }
  return g;
}

/** Element count and exact non-zeros (+0 and −0 count as zero) of a float tensor. */
export function countNonZeros(t: Tensor): { params: number; nonZeros: number } {
  const d = t.data;
  let nz = 0;
  if (d instanceof Uint16Array && (t.dtype === 'float16' || t.dtype === 'bfloat16')) {
    for (let i = 0; i < d.length; i++) if ((d[i]! & 0x7fff) !== 0) nz++;
  } else if (d instanceof Float32Array || d instanceof Float64Array) {
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) nz++;
  } else {
    const a = d as ArrayLike<number | bigint>;
    for (let i = 0; i < a.length; i++) if (Number(a[i]) !== 0) nz++;
  }
  return { params: (d as ArrayLike<unknown>).length, nonZeros: nz };
}
