/** Small building blocks shared by the op entries (shape rules used by many ops). */
import type { DType } from '../dtype.js';
import type { Dim } from '../tensor.js';
import type { Layout } from '../graph.js';
import { broadcastShapes, normAxis } from './dims.js';
import type { AttrSpec, InferContext, IOSpec, ValueType } from './types.js';

/** `consumed_inputs`: a legacy attribute of many opset-1 ops. */
export const CONSUMED: AttrSpec = { type: 'ints', before: 6 };
/** legacy limited broadcasting of binary ops before opset 7. */
export const LEGACY_BROADCAST: Record<string, AttrSpec> = {
  broadcast: { type: 'int', default: 0, before: 7 },
  axis: { type: 'int', before: 7 },
};

export const X: IOSpec[] = [{ name: 'X' }];
export const Y: IOSpec[] = [{ name: 'Y' }];

/** Output 0 has the type of input `i`. */
export function same(ctx: InferContext, i = 0): ValueType[] {
  const t = ctx.type(i);
  return [{ dtype: t.dtype, shape: t.shape ? [...t.shape] : undefined }];
}

/** Output 0: input 0's shape with another dtype. */
export function withDType(ctx: InferContext, dtype: DType | undefined, i = 0): ValueType {
  const s = ctx.shape(i);
  return { dtype, shape: s ? [...s] : undefined };
}

/** Numpy broadcast of the given inputs (all given inputs by default), dtype of the first. */
export function broadcastInputs(ctx: InferContext, inputs?: number[], dtype?: DType): ValueType {
  const idx = inputs ?? [...Array(ctx.inputCount).keys()].filter((i) => ctx.has(i));
  const legacy = ctx.opset < 7 && ctx.int('broadcast', 0) === 1;
  // before opset 7 broadcasting was unidirectional (B onto A): the output is A's shape.
  const shape = legacy
    ? ctx.shape(idx[0] ?? 0)
    : broadcastShapes(idx.map((i) => ctx.shape(i)), (m) => ctx.fail(m));
  let dt = dtype;
  if (dt === undefined) for (const i of idx) dt ??= ctx.dtype(i);
  return { dtype: dt, shape: shape ? [...shape] : undefined };
}

/** Axes of a layout-sensitive tensor of rank r: channel axis and spatial axes. */
export function layoutAxes(rank: number, layout: Layout): { channel: number; spatial: number[] } {
  if (layout === 'NHWC') return { channel: rank - 1, spatial: range(1, rank - 1) };
  return { channel: 1, spatial: range(2, rank) };
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** Sorted, normalised, de-duplicated axes. */
export function normAxes(axes: readonly number[], rank: number, ctx: InferContext): number[] {
  const out = axes.map((a) => normAxis(a, rank, (m) => ctx.fail(m)));
  if (new Set(out).size !== out.length) ctx.fail(`repeated axis in [${axes.join(',')}]`);
  return out.sort((a, b) => a - b);
}

/** Build an N-D shape from a channel dim and spatial dims placed per layout. */
export function placeLayout(batch: Dim, channel: Dim, spatial: Dim[], layout: Layout): Dim[] {
  return layout === 'NHWC' ? [batch, ...spatial, channel] : [batch, channel, ...spatial];
}

/**
 * An operand that ONNX moved from an attribute (older opsets) to an input (newer): the input
 * when the node has it, else the attribute. Either form is read at any opset (validation
 * reports the form that does not belong to the opset). Returns undefined when neither is
 * given and null when the input is given but not constant.
 */
export function intsOperand(ctx: InferContext, inputIndex: number, attr: string): number[] | undefined | null {
  if (ctx.has(inputIndex)) return ctx.constNumbers(inputIndex) ?? null;
  return ctx.ints(attr);
}
