/**
 * Quantization ops: QuantizeLinear / DequantizeLinear (per-tensor, per-axis, blocked),
 * DynamicQuantizeLinear, and the integer kernels (MatMulInteger, ConvInteger, QLinearMatMul,
 * QLinearConv) whose shape rules are those of MatMul / Conv.
 */
import type { DType } from '../dtype.js';
import { dtypeFromOnnx } from './dtype-codes.js';
import { isKnownDim, normAxis } from './dims.js';
import { matmulShape } from './math.js';
import { convShape } from './nn.js';
import { withDType } from './rules.js';
import type { AttrSpec, InferContext, IOSpec, OpDef, ValueType } from './types.js';

/** Checks that a per-axis scale matches the quantized axis (scalar / [1] = per-tensor). */
function checkScale(ctx: InferContext): void {
  const x = ctx.shape(0);
  const s = ctx.shape(1);
  if (!x || !s || s.length !== 1 || ctx.int('block_size', 0) > 0) return;
  const n = s[0];
  if (n === 1 || !isKnownDim(n)) return;
  const axis = normAxis(ctx.int('axis', 1), x.length, (m) => ctx.fail(m));
  const d = x[axis];
  if (isKnownDim(d) && d !== n) ctx.fail(`per-axis scale has ${n} values but axis ${axis} has ${d}`);
}

function outputDType(ctx: InferContext, fallback: DType | undefined): DType | undefined {
  const code = ctx.int('output_dtype', 0);
  if (code === 0) return fallback;
  const dt = dtypeFromOnnx(code);
  if (!dt) ctx.fail(`unknown output_dtype ${code}`);
  return dt;
}

const QDQ_ATTRS = (outputDTypeSince: number): Record<string, AttrSpec> => ({
  axis: { type: 'int', default: 1, since: 13 },
  block_size: { type: 'int', default: 0, since: 21 },
  output_dtype: { type: 'int', default: 0, since: outputDTypeSince },
});

const CONV_ATTRS: Record<string, AttrSpec> = {
  auto_pad: { type: 'string', default: 'NOTSET' },
  dilations: { type: 'ints' },
  group: { type: 'int', default: 1 },
  kernel_shape: { type: 'ints' },
  pads: { type: 'ints' },
  strides: { type: 'ints' },
};

const io = (...names: string[]): IOSpec[] =>
  names.map((n) => (n.endsWith('?') ? { name: n.slice(0, -1), optional: true } : { name: n }));

export const QUANT_OPS: OpDef[] = [
  {
    name: 'QuantizeLinear', category: 'quant', since: 10,
    inputs: io('x', 'y_scale', 'y_zero_point?'), outputs: io('y'),
    attrs: {
      ...QDQ_ATTRS(21),
      saturate: { type: 'int', default: 1, since: 19 },
      precision: { type: 'int', default: 0, since: 23 },
    },
    infer: (ctx) => {
      checkScale(ctx);
      return [withDType(ctx, outputDType(ctx, ctx.dtype(2) ?? 'uint8'))];
    },
  },
  {
    name: 'DequantizeLinear', category: 'quant', since: 10,
    inputs: io('x', 'x_scale', 'x_zero_point?'), outputs: io('y'),
    attrs: QDQ_ATTRS(23),
    infer: (ctx) => {
      checkScale(ctx);
      return [withDType(ctx, outputDType(ctx, ctx.dtype(1) ?? 'float32'))];
    },
  },
  {
    name: 'DynamicQuantizeLinear', category: 'quant', since: 11,
    inputs: io('x'), outputs: io('y', 'y_scale', 'y_zero_point'), attrs: {},
    infer: (ctx): ValueType[] => [withDType(ctx, 'uint8'), { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }],
  },
  {
    name: 'MatMulInteger', category: 'quant', since: 10,
    inputs: io('A', 'B', 'a_zero_point?', 'b_zero_point?'), outputs: io('Y'), attrs: {},
    infer: (ctx) => [{ dtype: 'int32', shape: matmulShape(ctx, ctx.shape(0), ctx.shape(1)) }],
  },
  {
    name: 'QLinearMatMul', category: 'quant', since: 10,
    inputs: io('a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'),
    outputs: io('y'), attrs: {},
    infer: (ctx) => [{ dtype: ctx.dtype(7) ?? ctx.dtype(0), shape: matmulShape(ctx, ctx.shape(0), ctx.shape(3)) }],
  },
  {
    name: 'ConvInteger', category: 'quant', since: 10, layoutSensitive: true,
    inputs: io('x', 'w', 'x_zero_point?', 'w_zero_point?'), outputs: io('y'), attrs: CONV_ATTRS,
    infer: (ctx) => [{ dtype: 'int32', shape: convShape(ctx, 0, 1) }],
  },
  {
    name: 'QLinearConv', category: 'quant', since: 10, layoutSensitive: true,
    inputs: io('x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B?'),
    outputs: io('y'), attrs: CONV_ATTRS,
    infer: (ctx) => [{ dtype: ctx.dtype(7) ?? ctx.dtype(0), shape: convShape(ctx, 0, 3) }],
  },
];
