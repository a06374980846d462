/**
 * Resize (opset 10+) and the older Upsample. Scales and sizes are per axis of the data tensor
 * in its own axis order, so the shape rule does not depend on the layout; the ops are still
 * layout-sensitive (a layout change must permute scales / sizes / axes).
 */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, isKnownDim, normAxis } from './dims.js';
import { range } from './rules.js';
import type { InferContext, OpDef, ValueType } from './types.js';

function scaled(d: Dim, s: number): Dim {
  if (isKnownDim(d)) return Math.floor(d * s);
  return s === 1 ? d : UNKNOWN_DIM;
}

function resizeRule(ctx: InferContext): ValueType[] {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return [{ dtype }];
  const rank = x.length;
  const scalesIdx = ctx.opset < 11 ? 1 : 2;
  const axesAttr = ctx.ints('axes');
  const axes = axesAttr ? axesAttr.map((a) => normAxis(a, rank, (m) => ctx.fail(m))) : range(0, rank);
  const sizesGiven = ctx.opset >= 11 && ctx.has(3) && ctx.shape(3)?.[0] !== 0 && ctx.dims(3)?.length !== 0;
  if (sizesGiven) {
    const sizes = ctx.dims(3);
    if (!sizes) return [{ dtype, shape: x.map((d, i) => (axes.includes(i) ? UNKNOWN_DIM : d)) }];
    if (sizes.length !== axes.length) ctx.fail(`sizes has ${sizes.length} values for ${axes.length} axes`);
    const out: Dim[] = [...x];
    const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((a, i) => { out[a] = sizes[i] as Dim; });
      return [{ dtype, shape: out }];
    }
    const ratios = axes.map((a, i) => {
      const d = x[a];
      const s = sizes[i];
      return isKnownDim(d) && isKnownDim(s) ? s / d : undefined;
    });
    if (ratios.some((r) => r === undefined)) return [{ dtype, shape: x.map((d, i) => (axes.includes(i) ? UNKNOWN_DIM : d)) }];
    const r = policy === 'not_larger' ? Math.min(...(ratios as number[])) : Math.max(...(ratios as number[]));
    axes.forEach((a) => { out[a] = Math.floor((x[a] as number) * r + 0.5); });
    return [{ dtype, shape: out }];
  }
  if (!ctx.has(scalesIdx)) return [{ dtype, shape: x.map(() => UNKNOWN_DIM) }];
  const scales = ctx.constNumbers(scalesIdx);
  if (!scales) return [{ dtype, shape: x.map((d, i) => (axes.includes(i) ? UNKNOWN_DIM : d)) }];
  if (scales.length !== axes.length) ctx.fail(`scales has ${scales.length} values for ${axes.length} axes`);
  const out: Dim[] = [...x];
  axes.forEach((a, i) => { out[a] = scaled(x[a] as Dim, scales[i] as number); });
  return [{ dtype, shape: out }];
}

function upsampleRule(ctx: InferContext): ValueType[] {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return [{ dtype }];
  let scales: number[] | undefined;
  if (ctx.has(1)) scales = ctx.constNumbers(1);
  else if (ctx.hasAttr('scales')) scales = ctx.floats('scales');
  else if (ctx.hasAttr('height_scale')) {
    scales = x.map((_, i) => (i === x.length - 2 ? ctx.float('height_scale', 1) : i === x.length - 1 ? ctx.float('width_scale', 1) : 1));
  }
  if (!scales) return [{ dtype, shape: x.map(() => UNKNOWN_DIM) }];
  if (scales.length !== x.length) ctx.fail(`scales has ${scales.length} values for rank ${x.length}`);
  return [{ dtype, shape: x.map((d, i) => scaled(d, scales[i] as number)) }];
}

export const RESIZE_OPS: OpDef[] = [
  {
    name: 'Resize', category: 'shape', since: 10, layoutSensitive: true,
    inputs: [
      { name: 'X' },
      { name: 'scales', before: 11 },
      { name: 'roi', since: 11, optionalSince: 13 },
      { name: 'scales', since: 11, optionalSince: 13 },
      { name: 'sizes', optional: true, since: 11 },
    ],
    outputs: [{ name: 'Y' }],
    attrs: {
      mode: { type: 'string', default: 'nearest' },
      coordinate_transformation_mode: { type: 'string', default: 'half_pixel', since: 11 },
      cubic_coeff_a: { type: 'float', default: -0.75, since: 11 },
      exclude_outside: { type: 'int', default: 0, since: 11 },
      extrapolation_value: { type: 'float', default: 0, since: 11 },
      nearest_mode: { type: 'string', default: 'round_prefer_floor', since: 11 },
      antialias: { type: 'int', default: 0, since: 18 },
      axes: { type: 'ints', since: 18 },
      keep_aspect_ratio_policy: { type: 'string', default: 'stretch', since: 18 },
    },
    infer: resizeRule,
  },
  {
    name: 'Upsample', category: 'shape', layoutSensitive: true,
    inputs: [{ name: 'X' }, { name: 'scales', since: 9 }], outputs: [{ name: 'Y' }],
    attrs: {
      mode: { type: 'string', default: 'nearest' },
      height_scale: { type: 'float', required: true, before: 7 },
      width_scale: { type: 'float', required: true, before: 7 },
      scales: { type: 'floats', required: true, since: 7, before: 9 },
    },
    infer: upsampleRule,
  },
];
