/** Binary and variadic elementwise ops (numpy broadcasting), comparisons, logic, Clip, Where, Cast. */
import type { DType } from '../dtype.js';
import { isIntDType } from '../dtype.js';
import type { Dim } from '../tensor.js';
import { dtypeFromOnnx, dtypeFromOnnxName } from './dtype-codes.js';
import { UNKNOWN_DIM } from './dims.js';
import { CONSUMED, LEGACY_BROADCAST, broadcastInputs, same, withDType } from './rules.js';
import type { AttrSpec, InferContext, OpDef } from './types.js';

type Arith = 'add' | 'sub' | 'mul' | 'div';

function arith(op: Arith, a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') {
    const x = a as number;
    const y = b as number;
    if (op === 'add') return x + y;
    if (op === 'sub') return x - y;
    if (op === 'mul') return x * y;
    return y === 0 ? UNKNOWN_DIM : Math.trunc(x / y);
  }
  if ((op === 'add' || op === 'sub') && b === 0) return a;
  if (op === 'add' && a === 0) return b;
  if ((op === 'mul' || op === 'div') && b === 1) return a;
  if (op === 'mul' && a === 1) return b;
  return UNKNOWN_DIM;
}

/** Value rule of integer arithmetic on small shape tensors (one side may be a single value). */
function arithValue(op: Arith) {
  return (ctx: InferContext): Dim[] | undefined => {
    const dt = ctx.dtype(0) ?? ctx.dtype(1);
    if (dt !== undefined && !isIntDType(dt)) return undefined;
    const a = ctx.dims(0);
    const b = ctx.dims(1);
    if (!a || !b) return undefined;
    const n = Math.max(a.length, b.length);
    if (a.length !== n && a.length !== 1) return undefined;
    if (b.length !== n && b.length !== 1) return undefined;
    const out: Dim[] = [];
    for (let i = 0; i < n; i++) out.push(arith(op, a[a.length === 1 ? 0 : i] as Dim, b[b.length === 1 ? 0 : i] as Dim));
    return out;
  };
}

interface BinaryOpts {
  since?: number;
  legacy?: boolean;
  consumed?: boolean;
  io?: [string, string, string];
  attrs?: Record<string, AttrSpec>;
  out?: DType;
  value?: (ctx: InferContext) => Dim[] | undefined;
}

function binary(name: string, opts: BinaryOpts = {}): OpDef {
  const [a, b, c] = opts.io ?? ['A', 'B', 'C'];
  const attrs: Record<string, AttrSpec> = { ...(opts.legacy ? LEGACY_BROADCAST : {}), ...(opts.attrs ?? {}) };
  if (opts.consumed) attrs['consumed_inputs'] = CONSUMED;
  const def: OpDef = {
    name, category: 'elementwise',
    inputs: [{ name: a }, { name: b }], outputs: [{ name: c }], attrs,
    infer: (ctx) => [broadcastInputs(ctx, [0, 1], opts.out)],
  };
  if (opts.since !== undefined) def.since = opts.since;
  if (opts.value) def.value = opts.value;
  return def;
}

function variadic(name: string, out: string): OpDef {
  return {
    name, category: 'elementwise',
    inputs: [{ name: 'data_0', variadic: true }], outputs: [{ name: out }],
    attrs: { consumed_inputs: CONSUMED },
    infer: (ctx) => [broadcastInputs(ctx)],
  };
}

function castTo(ctx: InferContext): DType | undefined {
  const a = ctx.node.attrs['to'];
  if (a?.type === 'string') return dtypeFromOnnxName(a.value);
  const code = ctx.int('to');
  if (code === undefined) return ctx.fail('attribute to is missing');
  const dt = dtypeFromOnnx(code);
  if (!dt) ctx.fail(`unknown data type code ${code}`);
  return dt;
}

const passValue = (ctx: InferContext): Dim[] | undefined => ctx.dims(0);

export const ELEMENTWISE_OPS: OpDef[] = [
  binary('Add', { legacy: true, consumed: true, value: arithValue('add') }),
  binary('Sub', { legacy: true, consumed: true, value: arithValue('sub') }),
  binary('Mul', { legacy: true, consumed: true, value: arithValue('mul') }),
  binary('Div', { legacy: true, consumed: true, value: arithValue('div') }),
  binary('Pow', { legacy: true, io: ['X', 'Y', 'Z'] }),
  binary('Mod', { since: 10, attrs: { fmod: { type: 'int', default: 0 } } }),
  binary('BitShift', { since: 11, io: ['X', 'Y', 'Z'], attrs: { direction: { type: 'string', required: true } } }),
  binary('BitwiseAnd', { since: 18 }),
  binary('BitwiseOr', { since: 18 }),
  binary('BitwiseXor', { since: 18 }),
  binary('Equal', { legacy: true, out: 'bool' }),
  binary('Greater', { legacy: true, out: 'bool' }),
  binary('Less', { legacy: true, out: 'bool' }),
  binary('GreaterOrEqual', { since: 12, out: 'bool' }),
  binary('LessOrEqual', { since: 12, out: 'bool' }),
  binary('And', { legacy: true, out: 'bool' }),
  binary('Or', { legacy: true, out: 'bool' }),
  binary('Xor', { legacy: true, out: 'bool' }),
  variadic('Sum', 'sum'),
  variadic('Max', 'max'),
  variadic('Min', 'min'),
  variadic('Mean', 'mean'),
  {
    name: 'PRelu', category: 'activation',
    inputs: [{ name: 'X' }, { name: 'slope' }], outputs: [{ name: 'Y' }],
    attrs: { consumed_inputs: CONSUMED },
    // the slope broadcasts onto X (unidirectionally from opset 7): Y has X's shape.
    infer: same,
  },
  {
    name: 'Clip', category: 'activation',
    inputs: [{ name: 'input' }, { name: 'min', optional: true, since: 11 }, { name: 'max', optional: true, since: 11 }],
    outputs: [{ name: 'output' }],
    attrs: { min: { type: 'float', before: 11 }, max: { type: 'float', before: 11 }, consumed_inputs: CONSUMED },
    infer: same,
  },
  {
    name: 'Where', category: 'elementwise', since: 9,
    inputs: [{ name: 'condition' }, { name: 'X' }, { name: 'Y' }], outputs: [{ name: 'output' }], attrs: {},
    infer: (ctx) => {
      const t = broadcastInputs(ctx, [0, 1, 2]);
      return [{ dtype: ctx.dtype(1) ?? ctx.dtype(2), shape: t.shape }];
    },
  },
  {
    name: 'Cast', category: 'elementwise',
    inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: {
      to: [{ type: 'string', required: true, before: 6 }, { type: 'int', required: true, since: 6 }],
      saturate: { type: 'int', default: 1, since: 19 },
      round_mode: { type: 'string', default: 'up', since: 24 },
    },
    infer: (ctx) => [withDType(ctx, castTo(ctx))],
    value: (ctx) => {
      const to = castTo(ctx);
      return to && isIntDType(to) ? ctx.dims(0) : undefined;
    },
  },
  {
    name: 'CastLike', category: 'elementwise', since: 15,
    inputs: [{ name: 'input' }, { name: 'target_type' }], outputs: [{ name: 'output' }],
    attrs: { saturate: { type: 'int', default: 1, since: 19 }, round_mode: { type: 'string', default: 'up', since: 24 } },
    infer: (ctx) => [withDType(ctx, ctx.dtype(1))],
  },
  {
    name: 'Identity', category: 'elementwise',
    inputs: [{ name: 'input' }], outputs: [{ name: 'output' }], attrs: {},
    infer: same, value: passValue,
  },
];
