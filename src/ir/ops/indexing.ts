/** Indexing ops: Slice, Gather family, Scatter family, Compress, NonZero, Pad. */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, dimAdd, isKnownDim, normAxis } from './dims.js';
import { normAxes, range, same } from './rules.js';
import type { InferContext, OpDef, ValueType } from './types.js';

/** Slice ends at least this large mean "to the end" (exporters write INT64_MAX, older tools INT32_MAX). */
const HUGE = 2147483647;

interface SliceArgs {
  starts: number[];
  ends: number[];
  axes: number[] | undefined;
  steps: number[] | undefined;
}

/** Slice operands; null when some operand is not constant. */
function sliceArgs(ctx: InferContext): SliceArgs | null {
  if (ctx.opset < 10 && !ctx.has(1)) {
    const starts = ctx.ints('starts');
    const ends = ctx.ints('ends');
    if (!starts || !ends) return ctx.fail('attributes starts and ends are required');
    return { starts, ends, axes: ctx.ints('axes'), steps: undefined };
  }
  const starts = ctx.constNumbers(1);
  const ends = ctx.constNumbers(2);
  const axes = ctx.has(3) ? ctx.constNumbers(3) : undefined;
  const steps = ctx.has(4) ? ctx.constNumbers(4) : undefined;
  if (!starts || !ends || (ctx.has(3) && !axes) || (ctx.has(4) && !steps)) return null;
  return { starts, ends, axes, steps };
}

/** Elements a slice keeps along one axis of size d (ONNX clamping rules). */
export function sliceLength(d: number, start: number, end: number, step: number): [number, number, number] {
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), d);
    e = Math.min(Math.max(e, 0), d);
  } else {
    s = Math.min(Math.max(s, 0), d - 1);
    e = Math.min(Math.max(e, -1), d - 1);
  }
  const n = Math.max(0, Math.ceil((e - s) / step));
  return [n, s, e];
}

function sliceRule(ctx: InferContext): ValueType[] {
  const data = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!data) return [{ dtype }];
  const args = sliceArgs(ctx);
  if (!args) {
    const axes = ctx.has(3) ? ctx.constNumbers(3) : undefined;
    if (!axes) return [{ dtype, shape: data.map(() => UNKNOWN_DIM) }];
    const norm = normAxes(axes, data.length, ctx);
    return [{ dtype, shape: data.map((d, i) => (norm.includes(i) ? UNKNOWN_DIM : d)) }];
  }
  const { starts, ends } = args;
  const axes = args.axes ?? range(0, starts.length);
  const steps = args.steps ?? Array<number>(starts.length).fill(1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    ctx.fail('starts, ends, axes and steps differ in length');
  }
  const out: Dim[] = [...data];
  normAxes(axes, data.length, ctx);
  axes.forEach((a, j) => {
    const axis = normAxis(a, data.length, (m) => ctx.fail(m));
    const step = steps[j] as number;
    if (step === 0) ctx.fail('slice step is 0');
    const d = data[axis] as Dim;
    const start = starts[j] as number;
    const end = ends[j] as number;
    if (isKnownDim(d)) out[axis] = sliceLength(d, start, end, step)[0];
    else out[axis] = step === 1 && start === 0 && end >= HUGE ? d : UNKNOWN_DIM;
  });
  return [{ dtype, shape: out }];
}

function sliceValue(ctx: InferContext): Dim[] | undefined {
  const v = ctx.dims(0);
  const r = ctx.rank(0);
  const args = r === 1 && v ? sliceArgs(ctx) : null;
  if (!v || !args || args.starts.length !== 1) return undefined;
  if (args.axes && normAxis(args.axes[0] as number, 1, (m) => ctx.fail(m)) !== 0) return undefined;
  const step = args.steps?.[0] ?? 1;
  const [n, s] = sliceLength(v.length, args.starts[0] as number, args.ends[0] as number, step);
  return range(0, n).map((i) => v[s + i * step] as Dim);
}

function gatherRule(ctx: InferContext): ValueType[] {
  const data = ctx.shape(0);
  const idx = ctx.shape(1);
  const dtype = ctx.dtype(0);
  if (!data || !idx) return [{ dtype }];
  const axis = normAxis(ctx.int('axis', 0), data.length, (m) => ctx.fail(m));
  return [{ dtype, shape: [...data.slice(0, axis), ...idx, ...data.slice(axis + 1)] }];
}

function gatherValue(ctx: InferContext): Dim[] | undefined {
  const v = ctx.dims(0);
  const idx = ctx.dims(1);
  if (!v || !idx || ctx.rank(0) !== 1 || normAxis(ctx.int('axis', 0), 1, (m) => ctx.fail(m)) !== 0) return undefined;
  const out: Dim[] = [];
  for (const i of idx) {
    if (typeof i !== 'number') return undefined;
    const j = i < 0 ? i + v.length : i;
    if (j < 0 || j >= v.length) ctx.fail(`index ${i} is out of range for ${v.length} values`);
    out.push(v[j] as Dim);
  }
  return out;
}

function gatherNDRule(ctx: InferContext): ValueType[] {
  const data = ctx.shape(0);
  const idx = ctx.shape(1);
  const dtype = ctx.dtype(0);
  const last = idx?.[idx.length - 1];
  if (!data || !idx || !isKnownDim(last)) return [{ dtype }];
  const b = ctx.int('batch_dims', 0);
  if (b + last > data.length) ctx.fail(`indices address ${b + last} dims of a rank-${data.length} tensor`);
  return [{ dtype, shape: [...idx.slice(0, -1), ...data.slice(b + last)] }];
}

function padRule(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!s) return [{ dtype }];
  const pads = ctx.has(1) ? ctx.constNumbers(1) ?? null : ctx.ints('pads') ?? ctx.ints('paddings');
  const axesIn = ctx.has(3) ? ctx.constNumbers(3) ?? null : undefined;
  if (pads === null || pads === undefined || axesIn === null) {
    return [{ dtype, shape: s.map(() => UNKNOWN_DIM) }];
  }
  const axes = axesIn ? axesIn.map((a) => normAxis(a, s.length, (m) => ctx.fail(m))) : range(0, s.length);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} values for ${axes.length} axes`);
  const out: Dim[] = [...s];
  axes.forEach((a, i) => {
    const p = (pads[i] as number) + (pads[i + axes.length] as number);
    out[a] = dimAdd(out[a] as Dim, p);
    if (isKnownDim(s[a]) && (out[a] as number) < 0) ctx.fail(`padding makes axis ${a} negative`);
  });
  return [{ dtype, shape: out }];
}

export const INDEXING_OPS: OpDef[] = [
  {
    name: 'Slice', category: 'shape',
    inputs: [
      { name: 'data' },
      { name: 'starts', since: 10 }, { name: 'ends', since: 10 },
      { name: 'axes', optional: true, since: 10 }, { name: 'steps', optional: true, since: 10 },
    ],
    outputs: [{ name: 'output' }],
    attrs: {
      starts: { type: 'ints', required: true, before: 10 },
      ends: { type: 'ints', required: true, before: 10 },
      axes: { type: 'ints', before: 10 },
    },
    infer: sliceRule, value: sliceValue,
  },
  {
    name: 'Gather', category: 'shape',
    inputs: [{ name: 'data' }, { name: 'indices' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 } },
    infer: gatherRule, value: gatherValue,
  },
  {
    name: 'GatherElements', category: 'shape', since: 11,
    inputs: [{ name: 'data' }, { name: 'indices' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 } },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: ctx.shape(1) }],
  },
  {
    name: 'GatherND', category: 'shape', since: 11,
    inputs: [{ name: 'data' }, { name: 'indices' }], outputs: [{ name: 'output' }],
    attrs: { batch_dims: { type: 'int', default: 0, since: 12 } },
    infer: gatherNDRule,
  },
  {
    name: 'ScatterElements', category: 'shape', since: 11,
    inputs: [{ name: 'data' }, { name: 'indices' }, { name: 'updates' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: 0 }, reduction: { type: 'string', default: 'none', since: 16 } },
    infer: same,
  },
  {
    name: 'ScatterND', category: 'shape', since: 11,
    inputs: [{ name: 'data' }, { name: 'indices' }, { name: 'updates' }], outputs: [{ name: 'output' }],
    attrs: { reduction: { type: 'string', default: 'none', since: 16 } },
    infer: same,
  },
  {
    name: 'Compress', category: 'shape', since: 9,
    inputs: [{ name: 'input' }, { name: 'condition' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int' } },
    infer: (ctx) => {
      const s = ctx.shape(0);
      const axis = ctx.int('axis');
      if (!s || axis === undefined) return [{ dtype: ctx.dtype(0), shape: [UNKNOWN_DIM] }];
      const a = normAxis(axis, s.length, (m) => ctx.fail(m));
      return [{ dtype: ctx.dtype(0), shape: s.map((d, i) => (i === a ? UNKNOWN_DIM : d)) }];
    },
  },
  {
    name: 'NonZero', category: 'shape', since: 9, inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }], attrs: {},
    infer: (ctx) => {
      const r = ctx.rank(0);
      return [{ dtype: 'int64', shape: [r ?? UNKNOWN_DIM, UNKNOWN_DIM] }];
    },
  },
  {
    name: 'Pad', category: 'shape',
    inputs: [
      { name: 'data' },
      { name: 'pads', since: 11 }, { name: 'constant_value', optional: true, since: 11 }, { name: 'axes', optional: true, since: 18 },
    ],
    outputs: [{ name: 'output' }],
    attrs: {
      mode: { type: 'string', default: 'constant' },
      paddings: { type: 'ints', required: true, before: 2 },
      pads: { type: 'ints', required: true, since: 2, before: 11 },
      value: { type: 'float', default: 0, before: 11 },
    },
    infer: padRule,
  },
  {
    name: 'Trilu', category: 'shape', since: 14,
    inputs: [{ name: 'input' }, { name: 'k', optional: true }], outputs: [{ name: 'output' }],
    attrs: { upper: { type: 'int', default: 1 } }, infer: same,
  },
];
