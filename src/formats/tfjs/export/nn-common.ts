/**
 * Helpers the TF.js graph-model handlers of convolutions and pools share: ONNX padding → TF's
 * SAME / VALID / EXPLICIT, explicit Pad ops, biases, fused-op attributes, 1-D ops run as 2-D ones.
 */
import type { NumericArray } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/graph.js';
import { attrInt, attrInts, attrString } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { transposeData } from '../../../data/npy.js';
import type { EmitContext } from './context.js';
import { A, type TfAttr } from './graphdef.js';

export const T = A.type('float32');

export function permuted(t: Tensor, perm: number[], reshape?: number[]): Tensor {
  const data = transposeData(t.data as NumericArray, t.shape, perm);
  return { dtype: t.dtype, shape: reshape ?? perm.map((p) => t.shape[p]!), data };
}

export interface Padding {
  padding: 'SAME' | 'VALID' | 'EXPLICIT';
  /** [top, bottom, left, right] (undefined for SAME on dynamic spatial dimensions) */
  pads?: number[];
}

/** SAME / VALID when the node's padding is one of TF's, else the explicit pads (ONNX
 *  [x1_begin, x2_begin, x1_end, x2_end]) as [top, bottom, left, right]; `extraEnd` adds padding
 *  at the end of each axis (MaxPool ceil_mode). */
export function padding(n: Node, c: EmitContext, kernel: number[], strides: number[], dil: number[]): Padding {
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  const xs = c.shape(n.inputs[0]!);
  const r = kernel.length;
  const sameTotals = kernel.map((k, i) => {
    const inDim = xs?.[i + 1];
    const eff = (k - 1) * dil[i]! + 1;
    return typeof inDim === 'number' ? Math.max((Math.ceil(inDim / strides[i]!) - 1) * strides[i]! + eff - inDim, 0) : undefined;
  });
  if (auto === 'VALID') return { padding: 'VALID', pads: new Array<number>(2 * r).fill(0) };
  if (auto === 'SAME_UPPER') {
    const known = sameTotals.every((t) => t !== undefined);
    return { padding: 'SAME', ...(known ? { pads: sameTotals.flatMap((t) => [Math.floor(t! / 2), t! - Math.floor(t! / 2)]) } : {}) };
  }
  let pads = attrInts(n, 'pads') ?? new Array<number>(2 * r).fill(0);
  if (auto === 'SAME_LOWER') {
    if (sameTotals.some((t) => t === undefined)) c.fail(n, 'auto_pad SAME_LOWER needs static spatial dimensions');
    pads = [...sameTotals.map((t) => Math.ceil(t! / 2)), ...sameTotals.map((t) => Math.floor(t! / 2))];
  }
  if (attrInt(n, 'ceil_mode', 0)) {
    // pad the end so that the floor division of the padded size gives the ceil-mode output
    const out = c.shape(n.outputs[0]!);
    pads = [...pads];
    for (let i = 0; i < r; i++) {
      const inDim = xs?.[i + 1];
      const o = out?.[i + 1];
      if (typeof inDim !== 'number' || typeof o !== 'number') c.fail(n, 'ceil_mode needs static spatial dimensions');
      const need = (o - 1) * strides[i]! + (kernel[i]! - 1) * dil[i]! + 1;
      pads[i + r] = pads[i + r]! + Math.max(0, need - (inDim + pads[i]! + pads[i + r]!));
    }
  }
  const tblr = kernel.flatMap((_, i) => [pads[i]!, pads[i + r]!]);
  if (pads.every((p) => p === 0)) return { padding: 'VALID', pads: tblr };
  const same = kernel.every((k, i) => {
    const t = sameTotals[i];
    if (t === undefined) {
      const eff = (k - 1) * dil[i]! + 1;
      return strides[i] === 1 && eff % 2 === 1 && pads[i] === (eff - 1) / 2 && pads[i + r] === (eff - 1) / 2;
    }
    return pads[i] === Math.floor(t / 2) && pads[i + r] === t - Math.floor(t / 2);
  });
  return { padding: same ? 'SAME' : 'EXPLICIT', pads: tblr };
}

/** Pad the NHWC input explicitly (Pad, or PadV2 with `fill`), for ops without explicit padding. */
export function padInput(c: EmitContext, n: Node, x: string, pads: number[], fill?: number): string {
  const pairs = [0, 0, ...pads, 0, 0];
  const p = c.i32(`${n.name}/paddings`, pairs, [pairs.length / 2, 2]);
  if (fill === undefined) return c.op('Pad', `${n.name}/pad`, [x, p], { T, Tpaddings: A.type('int32') });
  return c.op('PadV2', `${n.name}/pad`, [x, p, c.f32(`${n.name}/pad_value`, fill)], { T, Tpaddings: A.type('int32') });
}

export function biasOf(c: EmitContext, n: Node, idx: number, size: number): string | undefined {
  const v = n.inputs[idx];
  if (!v) return undefined;
  const t = c.constant(v);
  if (!t) return c.ref(v);
  if (t.shape.reduce((a, b) => a * b, 1) !== size) return undefined;
  return c.weight(v, t.shape.length === 1 ? '' : '1d', (b) => ({ dtype: b.dtype, shape: [size], data: b.data }));
}

export function fusedAttrs(c: EmitContext, n: Node, numArgs: number): Record<string, TfAttr> {
  const f = c.fused(n);
  return {
    num_args: A.i(numArgs),
    fused_ops: A.strs(f ? ['BiasAdd', f.act] : ['BiasAdd']),
    epsilon: A.f(0),
    leakyrelu_alpha: A.f(f?.alpha ?? 0.2),
  };
}

/** 1-D ops run as 2-D ones on [N, 1, W, C]: the input gets an axis, the output loses it. */
export function lift1d(c: EmitContext, n: Node, x: string): string {
  return c.op('ExpandDims', `${n.name}/2d_input`, [x, c.i32(`${n.name}/axis1`, [1], [])], { T, Tdim: A.type('int32') });
}
export function drop1d(c: EmitContext, y: string, hint: string): string {
  return c.op('Squeeze', hint, [y], { T, squeeze_dims: A.ints([1]) });
}
/** 1-D padding as 2-D: nothing along the added height */
export function pad2d(p: Padding, oneD: boolean): Padding {
  return oneD ? { padding: p.padding, ...(p.pads ? { pads: [0, 0, ...p.pads] } : {}) } : p;
}
