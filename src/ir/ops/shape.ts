/** Shape manipulation: Reshape, Flatten, Transpose, (Un)Squeeze, Concat, Split, Expand, Tile, Shape, Size. */
import type { Dim } from '../tensor.js';
import {
  UNKNOWN_DIM, broadcastShapes, dimAdd, dimProduct, dimScale, isKnownDim, isSymbol, normAxis, sameDim,
} from './dims.js';
import { CONSUMED, intsOperand, normAxes, range } from './rules.js';
import type { InferContext, OpDef, ValueType } from './types.js';

const passValue = (ctx: InferContext): Dim[] | undefined => ctx.dims(0);

/** The -1 entry of a reshape: input elements / the other output dims, cancelling equal symbols. */
function inferMinusOne(input: readonly Dim[], others: readonly Dim[], ctx: InferContext): Dim {
  const ins = [...input];
  let pIn = 1;
  let pOut = 1;
  const outSyms: Dim[] = [];
  for (const d of others) {
    if (isKnownDim(d)) pOut *= d;
    else {
      const j = ins.findIndex((x) => sameDim(x, d));
      if (j >= 0) ins.splice(j, 1);
      else outSyms.push(d);
    }
  }
  const inSyms: Dim[] = [];
  for (const d of ins) {
    if (isKnownDim(d)) pIn *= d;
    else inSyms.push(d);
  }
  if (outSyms.length > 0 || pOut === 0) return UNKNOWN_DIM;
  if (inSyms.length === 0) {
    if (pIn % pOut !== 0) ctx.fail(`cannot reshape [${input.join(',')}]: ${pIn} elements are not a multiple of ${pOut}`);
    return pIn / pOut;
  }
  if (inSyms.length === 1 && pIn === pOut && isSymbol(inSyms[0])) return inSyms[0] as Dim;
  return UNKNOWN_DIM;
}

function reshapeShape(ctx: InferContext): Dim[] | undefined {
  const input = ctx.shape(0);
  let target: Dim[] | undefined = ctx.has(1) ? ctx.dims(1) : ctx.ints('shape');
  if (!target) {
    const s = ctx.shape(1);
    return s && s.length === 1 && isKnownDim(s[0]) ? Array<Dim>(s[0]).fill(UNKNOWN_DIM) : undefined;
  }
  const allowZero = ctx.int('allowzero', 0) === 1;
  target = target.map((t, i) => {
    if (t !== 0 || allowZero) return t;
    if (!input) return UNKNOWN_DIM;
    if (i >= input.length) ctx.fail(`shape[${i}] = 0 copies a dimension the ${input.length}-D input does not have`);
    return input[i] as Dim;
  });
  const minus = target.flatMap((t, i) => (t === -1 ? [i] : []));
  if (minus.length > 1) ctx.fail('shape has more than one -1');
  if (target.some((t) => typeof t === 'number' && t < -1)) ctx.fail(`invalid shape [${target.join(',')}]`);
  const k = minus[0];
  if (k !== undefined) {
    const others = target.filter((_, i) => i !== k);
    target[k] = input ? inferMinusOne(input, others, ctx) : UNKNOWN_DIM;
  } else if (input && input.every(isKnownDim) && target.every(isKnownDim)) {
    const a = dimProduct(input);
    const b = dimProduct(target);
    if (a !== b) ctx.fail(`cannot reshape [${input.join(',')}] (${a} elements) to [${target.join(',')}] (${b})`);
  }
  return target;
}

function flattenShape(ctx: InferContext): Dim[] {
  const s = ctx.shape(0);
  if (!s) return [UNKNOWN_DIM, UNKNOWN_DIM];
  const axis = normAxis(ctx.int('axis', 1), s.length, (m) => ctx.fail(m), true);
  return [dimProduct(s.slice(0, axis)), dimProduct(s.slice(axis))];
}

function transposeShape(ctx: InferContext): Dim[] | undefined {
  const s = ctx.shape(0);
  if (!s) return undefined;
  const perm = ctx.ints('perm') ?? range(0, s.length).reverse();
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== s.length || sorted.some((p, i) => p !== i)) ctx.fail(`perm [${perm.join(',')}] is not a permutation of rank ${s.length}`);
  return perm.map((p) => s[p] as Dim);
}

function squeezeShape(ctx: InferContext): Dim[] | undefined {
  const s = ctx.shape(0);
  const axes = intsOperand(ctx, 1, 'axes');
  if (!s) return undefined;
  if (axes === null) {
    const n = ctx.shape(1)?.[0];
    return isKnownDim(n) && n > 0 && n <= s.length ? Array<Dim>(s.length - n).fill(UNKNOWN_DIM) : undefined;
  }
  if (axes === undefined || axes.length === 0) {
    if (!s.every(isKnownDim)) return undefined;
    return s.filter((d) => d !== 1);
  }
  const norm = normAxes(axes, s.length, ctx);
  for (const a of norm) {
    const d = s[a];
    if (isKnownDim(d) && d !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${d}`);
  }
  return s.filter((_, i) => !norm.includes(i));
}

function unsqueezeShape(ctx: InferContext): Dim[] | undefined {
  const s = ctx.shape(0);
  const axes = intsOperand(ctx, 1, 'axes');
  if (!s) return undefined;
  if (axes === null || axes === undefined) {
    const as = ctx.shape(1);
    return as && as.length === 1 && isKnownDim(as[0]) ? Array<Dim>(s.length + as[0]).fill(UNKNOWN_DIM) : undefined;
  }
  const rank = s.length + axes.length;
  const norm = normAxes(axes, rank, ctx);
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : (s[j++] as Dim));
  return out;
}

function concatShape(ctx: InferContext): Dim[] | undefined {
  const shapes = range(0, ctx.inputCount).filter((i) => ctx.has(i)).map((i) => ctx.shape(i));
  const known = shapes.filter((s): s is Dim[] => s !== undefined);
  const first = known[0];
  if (!first) return undefined;
  const rank = first.length;
  const axis = normAxis(ctx.int('axis', 1), rank, (m) => ctx.fail(m));
  const out: Dim[] = [...first];
  let total: Dim = 0;
  for (const s of shapes) {
    if (!s) {
      total = UNKNOWN_DIM;
      continue;
    }
    if (s.length !== rank) ctx.fail(`inputs have ranks ${rank} and ${s.length}`);
    total = dimAdd(total, s[axis] as Dim);
    s.forEach((d, i) => {
      if (i === axis) return;
      const o = out[i] as Dim;
      if (isKnownDim(o) && isKnownDim(d) && o !== d) ctx.fail(`inputs differ in dimension ${i}: ${o} vs ${d}`);
      if (!isKnownDim(o) && (isKnownDim(d) || (!isSymbol(o) && isSymbol(d)))) out[i] = d;
    });
  }
  out[axis] = total;
  return out;
}

function concatValue(ctx: InferContext): Dim[] | undefined {
  const out: Dim[] = [];
  for (let i = 0; i < ctx.inputCount; i++) {
    if (!ctx.has(i)) continue;
    const v = ctx.dims(i);
    if (!v) return undefined;
    out.push(...v);
  }
  return out;
}

function splitRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const n = ctx.outputCount;
  if (!s) return Array.from({ length: n }, () => ({ dtype }));
  const axis = normAxis(ctx.int('axis', 0), s.length, (m) => ctx.fail(m));
  const d = s[axis] as Dim;
  const sizes = intsOperand(ctx, 1, 'split');
  let parts: Dim[];
  if (sizes === null) parts = Array<Dim>(n).fill(UNKNOWN_DIM);
  else if (sizes) {
    if (sizes.length !== n) ctx.fail(`split has ${sizes.length} sizes for ${n} outputs`);
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (isKnownDim(d) && sum !== d) ctx.fail(`split sizes sum to ${sum}, axis ${axis} has ${d}`);
    parts = sizes;
  } else if (n === 1) parts = [d];
  else if (!isKnownDim(d)) parts = Array<Dim>(n).fill(UNKNOWN_DIM);
  else if (ctx.hasAttr('num_outputs')) {
    const chunk = Math.ceil(d / n);
    parts = range(0, n).map((i) => (i < n - 1 ? chunk : d - chunk * (n - 1)));
  } else {
    if (d % n !== 0) ctx.fail(`axis ${axis} of size ${d} does not split evenly into ${n}`);
    parts = Array<Dim>(n).fill(d / n);
  }
  return parts.map((p) => ({ dtype, shape: s.map((x, i) => (i === axis ? p : x)) }));
}

function expandShape(ctx: InferContext): Dim[] | undefined {
  const s = ctx.shape(0);
  const target = ctx.dims(1);
  if (!target) {
    const ts = ctx.shape(1);
    if (!s || !ts || !isKnownDim(ts[0])) return undefined;
    return Array<Dim>(Math.max(s.length, ts[0])).fill(UNKNOWN_DIM);
  }
  if (!s) return target.map((t) => (t === 1 || !isKnownDim(t) ? UNKNOWN_DIM : t));
  return broadcastShapes([s, target], (m) => ctx.fail(m));
}

function shapeBounds(ctx: InferContext, rank: number): [number, number] {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(ctx.int('start', 0)), clamp(ctx.int('end') ?? rank)];
}

export const SHAPE_OPS: OpDef[] = [
  {
    name: 'Reshape', category: 'shape',
    inputs: [{ name: 'data' }, { name: 'shape', since: 5 }], outputs: [{ name: 'reshaped' }],
    attrs: { shape: { type: 'ints', before: 5 }, allowzero: { type: 'int', default: 0, since: 14 }, consumed_inputs: CONSUMED },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: reshapeShape(ctx) }],
    value: passValue,
  },
  {
    name: 'Flatten', category: 'shape', inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 1 } },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: flattenShape(ctx) }],
  },
  {
    name: 'Transpose', category: 'shape', inputs: [{ name: 'data' }], outputs: [{ name: 'transposed' }],
    attrs: { perm: { type: 'ints' } },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: transposeShape(ctx) }],
  },
  {
    name: 'Squeeze', category: 'shape',
    inputs: [{ name: 'data' }, { name: 'axes', optional: true, since: 13 }], outputs: [{ name: 'squeezed' }],
    attrs: { axes: { type: 'ints', before: 13 } },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: squeezeShape(ctx) }],
    value: passValue,
  },
  {
    name: 'Unsqueeze', category: 'shape',
    inputs: [{ name: 'data' }, { name: 'axes', since: 13 }], outputs: [{ name: 'expanded' }],
    attrs: { axes: { type: 'ints', required: true, before: 13 } },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: unsqueezeShape(ctx) }],
    value: passValue,
  },
  {
    name: 'Concat', category: 'shape',
    inputs: [{ name: 'inputs', variadic: true }], outputs: [{ name: 'concat_result' }],
    attrs: { axis: [{ type: 'int', default: 1, before: 4 }, { type: 'int', required: true, since: 4 }] },
    infer: (ctx) => {
      let dtype = undefined;
      for (let i = 0; i < ctx.inputCount && !dtype; i++) dtype = ctx.dtype(i);
      return [{ dtype, shape: concatShape(ctx) }];
    },
    value: concatValue,
  },
  {
    name: 'Split', category: 'shape',
    inputs: [{ name: 'input' }, { name: 'split', optional: true, before: 2 }, { name: 'split', optional: true, since: 13 }],
    outputs: [{ name: 'outputs', variadic: true }],
    attrs: {
      axis: { type: 'int', default: 0 },
      split: { type: 'ints', before: 13 },
      num_outputs: { type: 'int', since: 18 },
    },
    infer: splitRule,
  },
  {
    name: 'Expand', category: 'shape', since: 8,
    inputs: [{ name: 'input' }, { name: 'shape' }], outputs: [{ name: 'output' }], attrs: {},
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: expandShape(ctx) }],
  },
  {
    name: 'Tile', category: 'shape',
    inputs: [{ name: 'input' }, { name: 'tiles', before: 6 }, { name: 'axis', before: 6 }, { name: 'repeats', since: 6 }],
    outputs: [{ name: 'output' }], attrs: {},
    infer: (ctx) => {
      const s = ctx.shape(0);
      if (!s) return [{ dtype: ctx.dtype(0) }];
      if (ctx.opset < 6) return [{ dtype: ctx.dtype(0), shape: s.map(() => UNKNOWN_DIM) }];
      const reps = ctx.dims(1);
      if (reps && reps.length !== s.length) ctx.fail(`repeats has ${reps.length} values for rank ${s.length}`);
      return [{ dtype: ctx.dtype(0), shape: s.map((d, i) => { const r = reps?.[i]; return isKnownDim(r) ? dimScale(d, r) : UNKNOWN_DIM; }) }];
    },
  },
  {
    name: 'Shape', category: 'shape', inputs: [{ name: 'data' }], outputs: [{ name: 'shape' }],
    attrs: { start: { type: 'int', default: 0, since: 15 }, end: { type: 'int', since: 15 } },
    infer: (ctx) => {
      const s = ctx.shape(0);
      if (!s) return [{ dtype: 'int64', shape: [UNKNOWN_DIM] }];
      const [a, b] = shapeBounds(ctx, s.length);
      return [{ dtype: 'int64', shape: [Math.max(b - a, 0)] }];
    },
    value: (ctx) => {
      const s = ctx.shape(0);
      if (!s) return undefined;
      const [a, b] = shapeBounds(ctx, s.length);
      return s.slice(a, Math.max(a, b));
    },
  },
  {
    name: 'Size', category: 'shape', inputs: [{ name: 'data' }], outputs: [{ name: 'size' }], attrs: {},
    infer: () => [{ dtype: 'int64', shape: [] }],
    value: (ctx) => {
      const s = ctx.shape(0);
      return s ? [dimProduct(s)] : undefined;
    },
  },
];
