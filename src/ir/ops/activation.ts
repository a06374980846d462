/** Activations and other one-input elementwise functions (output type = input type). */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, normAxis } from './dims.js';
import { CONSUMED, same, withDType } from './rules.js';
import type { AttrSpec, InferContext, IOSpec, OpCategory, OpDef, ValueType } from './types.js';

interface UnaryOpts {
  since?: number;
  /** input/output names (default X / Y). */
  io?: [string, string];
  /** takes the legacy `consumed_inputs` attribute in opset 1. */
  consumed?: boolean;
  attrs?: Record<string, AttrSpec>;
  category?: OpCategory;
  infer?: (ctx: InferContext) => ValueType[];
  value?: (ctx: InferContext) => Dim[] | undefined;
}

export function unary(name: string, opts: UnaryOpts = {}): OpDef {
  const [i, o] = opts.io ?? ['X', 'Y'];
  const attrs: Record<string, AttrSpec> = { ...(opts.attrs ?? {}) };
  if (opts.consumed) attrs['consumed_inputs'] = CONSUMED;
  const def: OpDef = {
    name,
    category: opts.category ?? 'activation',
    inputs: [{ name: i }] as IOSpec[],
    outputs: [{ name: o }] as IOSpec[],
    attrs,
    infer: opts.infer ?? same,
  };
  if (opts.since !== undefined) def.since = opts.since;
  if (opts.value) def.value = opts.value;
  return def;
}

const IO: [string, string] = ['input', 'output'];
const f = (dflt: number): AttrSpec => ({ type: 'float', default: dflt });

/** Softmax-like ops: the axis default is 1 before opset 13 and -1 from 13. */
function softmaxLike(name: string): OpDef {
  return {
    name, category: 'activation', inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { axis: [{ type: 'int', default: 1, before: 13 }, { type: 'int', default: -1, since: 13 }] },
    infer: (ctx) => {
      const r = ctx.rank(0);
      if (r !== undefined && r > 0) normAxis(ctx.int('axis') ?? (ctx.opset < 13 ? 1 : -1), r, (m) => ctx.fail(m));
      return same(ctx);
    },
  };
}

const boolOut = (ctx: InferContext): ValueType[] => [withDType(ctx, 'bool')];

export const ACTIVATION_OPS: OpDef[] = [
  unary('Relu', { consumed: true }),
  unary('LeakyRelu', { consumed: true, attrs: { alpha: f(0.01) } }),
  unary('Sigmoid', { consumed: true }),
  unary('Tanh', { consumed: true, io: IO }),
  unary('HardSigmoid', { consumed: true, attrs: { alpha: f(0.2), beta: f(0.5) } }),
  unary('HardSwish', { since: 14 }),
  unary('Gelu', { since: 20, attrs: { approximate: { type: 'string', default: 'none' } } }),
  unary('Elu', { consumed: true, attrs: { alpha: f(1) } }),
  unary('Selu', { consumed: true, attrs: { alpha: f(1.67326319217681884765625), gamma: f(1.05070102214813232421875) } }),
  unary('Celu', { since: 12, attrs: { alpha: f(1) } }),
  unary('ThresholdedRelu', { since: 10, attrs: { alpha: f(1) } }),
  unary('Softplus'),
  unary('Softsign', { io: IO }),
  unary('Mish', { since: 18 }),
  unary('Swish', { since: 24, attrs: { alpha: f(1) } }),
  unary('Shrink', { since: 9, io: IO, attrs: { bias: f(0), lambd: f(0.5) } }),
  softmaxLike('Softmax'),
  softmaxLike('LogSoftmax'),
  softmaxLike('Hardmax'),
  // math functions
  unary('Exp', { consumed: true, io: IO, category: 'elementwise' }),
  unary('Log', { consumed: true, io: IO, category: 'elementwise' }),
  unary('Sqrt', { consumed: true, category: 'elementwise' }),
  unary('Neg', {
    consumed: true, category: 'elementwise',
    value: (ctx) => ctx.dims(0)?.map((d) => (typeof d === 'number' ? -d : UNKNOWN_DIM)),
  }),
  unary('Abs', { consumed: true, category: 'elementwise' }),
  unary('Floor', { consumed: true, category: 'elementwise' }),
  unary('Ceil', { consumed: true, category: 'elementwise' }),
  unary('Reciprocal', { consumed: true, category: 'elementwise' }),
  unary('Round', { since: 11, category: 'elementwise' }),
  unary('Sign', { since: 9, io: IO, category: 'elementwise' }),
  unary('Erf', { since: 9, io: IO, category: 'elementwise' }),
  ...['Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan'].map((n) => unary(n, { since: 7, io: IO, category: 'elementwise' })),
  ...['Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh'].map((n) => unary(n, { since: 9, io: IO, category: 'elementwise' })),
  unary('Not', { category: 'elementwise', infer: boolOut }),
  unary('BitwiseNot', { since: 18, category: 'elementwise' }),
  unary('IsNaN', { since: 9, category: 'elementwise', infer: boolOut }),
  unary('IsInf', {
    since: 10, category: 'elementwise', infer: boolOut,
    attrs: { detect_negative: { type: 'int', default: 1 }, detect_positive: { type: 'int', default: 1 } },
  }),
];
