/** Reductions (axes as attribute or, from opset 13/18, as input), ArgMax/ArgMin, TopK, CumSum. */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, normAxis } from './dims.js';
import { intsOperand, normAxes, same } from './rules.js';
import type { InferContext, OpDef, ValueType } from './types.js';

function reduceShape(ctx: InferContext): Dim[] | undefined {
  const s = ctx.shape(0);
  const axes = intsOperand(ctx, 1, 'axes');
  const keep = ctx.int('keepdims', 1) === 1;
  if (!s) return undefined;
  if (axes === null) return keep ? s.map(() => UNKNOWN_DIM) : undefined;
  if (!axes || axes.length === 0) {
    if (ctx.int('noop_with_empty_axes', 0) === 1) return [...s];
    return keep ? s.map(() => 1) : [];
  }
  const norm = normAxes(axes, s.length, ctx);
  return keep ? s.map((d, i) => (norm.includes(i) ? 1 : d)) : s.filter((_, i) => !norm.includes(i));
}

/** A Reduce* op; `inputSince` is the opset where `axes` became an input. */
function reduce(name: string, inputSince: number): OpDef {
  return {
    name, category: 'reduce',
    inputs: [{ name: 'data' }, { name: 'axes', optional: true, since: inputSince }],
    outputs: [{ name: 'reduced' }],
    attrs: {
      axes: { type: 'ints', before: inputSince },
      keepdims: { type: 'int', default: 1 },
      noop_with_empty_axes: { type: 'int', default: 0, since: inputSince },
    },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: reduceShape(ctx) }],
  };
}

function argReduce(name: string): OpDef {
  return {
    name, category: 'reduce',
    inputs: [{ name: 'data' }], outputs: [{ name: 'reduced' }],
    attrs: {
      axis: { type: 'int', default: 0 },
      keepdims: { type: 'int', default: 1 },
      select_last_index: { type: 'int', default: 0, since: 12 },
    },
    infer: (ctx) => {
      const s = ctx.shape(0);
      if (!s) return [{ dtype: 'int64' }];
      const axis = normAxis(ctx.int('axis', 0), s.length, (m) => ctx.fail(m));
      const keep = ctx.int('keepdims', 1) === 1;
      return [{ dtype: 'int64', shape: keep ? s.map((d, i) => (i === axis ? 1 : d)) : s.filter((_, i) => i !== axis) }];
    },
  };
}

function topK(ctx: InferContext): ValueType[] {
  const s = ctx.shape(0);
  if (!s) return [{ dtype: ctx.dtype(0) }, { dtype: 'int64' }];
  const axis = normAxis(ctx.int('axis', -1), s.length, (m) => ctx.fail(m));
  let k: Dim = UNKNOWN_DIM;
  if (ctx.has(1)) k = ctx.dims(1)?.[0] ?? UNKNOWN_DIM;
  else k = ctx.int('k') ?? UNKNOWN_DIM;
  const shape = s.map((d, i) => (i === axis ? k : d));
  return [{ dtype: ctx.dtype(0), shape }, { dtype: 'int64', shape: [...shape] }];
}

export const REDUCE_OPS: OpDef[] = [
  reduce('ReduceSum', 13),
  reduce('ReduceMean', 18),
  reduce('ReduceMax', 18),
  reduce('ReduceMin', 18),
  reduce('ReduceProd', 18),
  reduce('ReduceL1', 18),
  reduce('ReduceL2', 18),
  reduce('ReduceLogSum', 18),
  reduce('ReduceLogSumExp', 18),
  reduce('ReduceSumSquare', 18),
  argReduce('ArgMax'),
  argReduce('ArgMin'),
  {
    name: 'TopK', category: 'reduce',
    inputs: [{ name: 'X' }, { name: 'K', since: 10 }], outputs: [{ name: 'Values' }, { name: 'Indices' }],
    attrs: {
      axis: { type: 'int', default: -1 },
      k: { type: 'int', required: true, before: 10 },
      largest: { type: 'int', default: 1, since: 11 },
      sorted: { type: 'int', default: 1, since: 11 },
    },
    infer: topK,
  },
  {
    name: 'CumSum', category: 'reduce', since: 11,
    inputs: [{ name: 'x' }, { name: 'axis' }], outputs: [{ name: 'y' }],
    attrs: { exclusive: { type: 'int', default: 0 }, reverse: { type: 'int', default: 0 } },
    infer: same,
  },
];
