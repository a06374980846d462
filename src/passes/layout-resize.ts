/**
 * The layout pass's part for Resize / Upsample: their roi / scales / sizes inputs (and the
 * Upsample-7 `scales` attribute) are per data axis, in the data's axis order, so a layout change
 * reorders them; an `axes` attribute (opset 18) is remapped instead.
 */
import type { Graph, Node } from '../ir/graph.js';
import { attrInts, opsetVersion } from '../ir/graph.js';
import type { NameAllocator } from '../ir/edit.js';
import type { Tensor } from '../ir/tensor.js';

const ints = (value: number[]) => ({ type: 'ints' as const, value });

function inverse(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** A constant input: an initializer or the output of a Constant node. */
function constValue(g: Graph, name: string): Tensor | undefined {
  const t = g.initializers.get(name);
  if (t) return t;
  const p = g.nodes.find((m) => m.op === 'Constant' && m.domain === '' && m.outputs[0] === name);
  const v = p?.attrs.value;
  return v?.type === 'tensor' ? v.value : undefined;
}

/**
 * Resize's roi / scales / sizes are per data axis, in the data's axis order: reorder them for the
 * new layout (`perm`: new axis i reads old axis perm[i]). Constants are permuted in place of the
 * node's input; a computed input (e.g. sizes from Shape → Slice → Concat) gets a
 * `Gather(input, perm)` — returned, to be written before the node. An `axes` attribute (opset 18)
 * is remapped instead: the inputs then follow `axes`, not the data.
 */
export function permuteResizeInputs(g: Graph, n: Node, perm: number[], names: NameAllocator): Node[] {
  const r = perm.length;
  const axes = attrInts(n, 'axes');
  if (axes) {
    const back = inverse(perm);
    n.attrs.axes = ints(axes.map((a) => back[(a + r) % r]!));
    return [];
  }
  const scalesAttr = n.attrs.scales;
  if (n.op === 'Upsample' && scalesAttr?.type === 'floats' && scalesAttr.value.length === r) {
    n.attrs.scales = { type: 'floats', value: perm.map((p) => scalesAttr.value[p]!) }; // Upsample-7
  }
  const opset = opsetVersion(g) ?? 17;
  const before: Node[] = [];
  n.inputs.forEach((name, i) => {
    if (i === 0 || !name) return;
    // roi holds [starts..., ends...] (2 × rank values); scales and sizes one value per axis
    const isRoi = n.op === 'Resize' && opset >= 11 && i === 1;
    const idx = isRoi ? [...perm, ...perm.map((p) => p + r)] : perm;
    const t = constValue(g, name);
    if (t) {
      if (t.shape.length !== 1 || t.shape[0] !== idx.length) return; // empty (not given), or not per axis
      const data = t.data as unknown as { constructor: { from(a: unknown[]): unknown }; [k: number]: unknown };
      const copy = data.constructor.from(idx.map((p) => data[p]));
      const c = names.next('c');
      g.initializers.set(c, { ...t, data: copy } as Tensor);
      n.inputs[i] = c;
      return;
    }
    const permName = names.next('perm');
    g.initializers.set(permName, { dtype: 'int64', shape: [idx.length], data: BigInt64Array.from(idx.map(BigInt)) });
    const y = names.next('t');
    before.push({ name: names.next('Gather'), op: 'Gather', domain: '', inputs: [name, permName], outputs: [y], attrs: { axis: { type: 'int', value: 0 } } });
    n.inputs[i] = y;
  });
  return before;
}
