/**
 * Recurrent layers (LSTM, GRU, RNN). Their `layout` attribute (0: sequence-major
 * [seq, batch, ...], 1: batch-major) is ONNX's own and independent of `node.layout`.
 */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM } from './dims.js';
import type { AttrSpec, InferContext, IOSpec, OpDef, ValueType } from './types.js';

function rnnRule(ctx: InferContext): ValueType[] {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const batchMajor = ctx.int('layout', 0) === 1;
  const dirs = ctx.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const hidden: Dim = ctx.int('hidden_size') ?? ctx.shape(2)?.[2] ?? UNKNOWN_DIM;
  if (x && x.length !== 3) ctx.fail(`X must be 3-D, got rank ${x.length}`);
  const seq: Dim = x ? (x[batchMajor ? 1 : 0] as Dim) : UNKNOWN_DIM;
  const batch: Dim = x ? (x[batchMajor ? 0 : 1] as Dim) : UNKNOWN_DIM;
  const y = batchMajor ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
  const state = batchMajor ? [batch, dirs, hidden] : [dirs, batch, hidden];
  const out: ValueType[] = [{ dtype, shape: y }, { dtype, shape: state }, { dtype, shape: [...state] }];
  return out.slice(0, ctx.def.outputs.length);
}

const COMMON: Record<string, AttrSpec> = {
  activation_alpha: { type: 'floats' },
  activation_beta: { type: 'floats' },
  activations: { type: 'strings' },
  clip: { type: 'float' },
  direction: { type: 'string', default: 'forward' },
  hidden_size: { type: 'int' },
  layout: { type: 'int', default: 0, since: 14 },
  output_sequence: { type: 'int', default: 0, before: 7 },
};

const INPUTS: IOSpec[] = [
  { name: 'X' }, { name: 'W' }, { name: 'R' }, { name: 'B', optional: true },
  { name: 'sequence_lens', optional: true }, { name: 'initial_h', optional: true },
];

export const RNN_OPS: OpDef[] = [
  {
    name: 'LSTM', category: 'nn',
    inputs: [...INPUTS, { name: 'initial_c', optional: true }, { name: 'P', optional: true }],
    outputs: [{ name: 'Y', optional: true }, { name: 'Y_h', optional: true }, { name: 'Y_c', optional: true }],
    attrs: { ...COMMON, input_forget: { type: 'int', default: 0 } },
    infer: rnnRule,
  },
  {
    name: 'GRU', category: 'nn', since: 3,
    inputs: INPUTS,
    outputs: [{ name: 'Y', optional: true }, { name: 'Y_h', optional: true }],
    attrs: { ...COMMON, linear_before_reset: { type: 'int', default: 0, since: 3 } },
    infer: rnnRule,
  },
  {
    name: 'RNN', category: 'nn',
    inputs: INPUTS,
    outputs: [{ name: 'Y', optional: true }, { name: 'Y_h', optional: true }],
    attrs: COMMON,
    infer: rnnRule,
  },
];
