/** Ops that make tensors: Constant, ConstantOfShape, Range, EyeLike, OneHot, random generators. */
import { isIntDType } from '../dtype.js';
import type { DType } from '../dtype.js';
import type { Node } from '../graph.js';
import { type Dim, type Tensor, toNumbers } from '../tensor.js';
import { dtypeFromOnnx } from './dtype-codes.js';
import { UNKNOWN_DIM, isKnownDim, normAxis } from './dims.js';
import { withDType } from './rules.js';
import type { AttrSpec, InferContext, OpDef, ValueType } from './types.js';

const encoder = new TextEncoder();

/**
 * The tensor a `Constant` node produces, from whichever value attribute it carries
 * (`value`, `value_float(s)`, `value_int(s)`, `value_string(s)`); undefined for
 * `sparse_value` (kept opaque) or a node without a value.
 */
export function constantTensor(node: Node): Tensor | undefined {
  const a = node.attrs;
  const v = a['value'];
  if (v?.type === 'tensor') return v.value;
  const f = a['value_float'];
  if (f?.type === 'float' || f?.type === 'int') return { dtype: 'float32', shape: [], data: Float32Array.of(f.value) };
  const fs = a['value_floats'];
  if (fs?.type === 'floats') return { dtype: 'float32', shape: [fs.value.length], data: Float32Array.from(fs.value) };
  const i = a['value_int'];
  if (i?.type === 'int') return { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(i.value)) };
  const is = a['value_ints'];
  if (is?.type === 'ints') return { dtype: 'int64', shape: [is.value.length], data: BigInt64Array.from(is.value, (x) => BigInt(x)) };
  const s = a['value_string'];
  if (s?.type === 'string') return { dtype: 'string', shape: [], data: [encoder.encode(s.value)] };
  const ss = a['value_strings'];
  if (ss?.type === 'strings') return { dtype: 'string', shape: [ss.value.length], data: ss.value.map((x) => encoder.encode(x)) };
  return undefined;
}

function dtypeAttr(ctx: InferContext, name: string, fallback: DType | undefined): DType | undefined {
  const code = ctx.int(name);
  if (code === undefined) return fallback;
  const dt = dtypeFromOnnx(code);
  if (!dt) ctx.fail(`unknown data type code ${code} in attribute ${name}`);
  return dt;
}

function rangeRule(ctx: InferContext): ValueType[] {
  const dtype = ctx.dtype(0);
  const [s, l, d] = [ctx.constNumbers(0), ctx.constNumbers(1), ctx.constNumbers(2)];
  if (s?.length !== 1 || l?.length !== 1 || d?.length !== 1) return [{ dtype, shape: [UNKNOWN_DIM] }];
  const delta = d[0] as number;
  if (delta === 0) ctx.fail('delta is 0');
  return [{ dtype, shape: [Math.max(Math.ceil(((l[0] as number) - (s[0] as number)) / delta), 0)] }];
}

function oneHot(ctx: InferContext): ValueType[] {
  const idx = ctx.shape(0);
  const dtype = ctx.dtype(2);
  if (!idx) return [{ dtype }];
  const axis = normAxis(ctx.int('axis', -1), idx.length + 1, (m) => ctx.fail(m));
  const depth = ctx.constNumbers(1);
  const d: Dim = depth && depth.length === 1 ? Math.trunc(depth[0] as number) : UNKNOWN_DIM;
  return [{ dtype, shape: [...idx.slice(0, axis), d, ...idx.slice(axis)] }];
}

const SEED: AttrSpec = { type: 'float' };

export const GENERATOR_OPS: OpDef[] = [
  {
    name: 'Constant', category: 'generator', inputs: [], outputs: [{ name: 'output' }],
    attrs: {
      value: [{ type: 'tensor', required: true, before: 11 }, { type: 'tensor', since: 11 }],
      sparse_value: { type: 'opaque', since: 11 },
      value_float: { type: 'float', since: 12 },
      value_floats: { type: 'floats', since: 12 },
      value_int: { type: 'int', since: 12 },
      value_ints: { type: 'ints', since: 12 },
      value_string: { type: 'string', since: 12 },
      value_strings: { type: 'strings', since: 12 },
    },
    infer: (ctx) => {
      const t = constantTensor(ctx.node);
      return [t ? { dtype: t.dtype, shape: [...t.shape] } : {}];
    },
    value: (ctx) => {
      const t = constantTensor(ctx.node);
      return t && isIntDType(t.dtype) && t.shape.length <= 1 ? toNumbers(t) : undefined;
    },
  },
  {
    name: 'ConstantOfShape', category: 'generator', since: 9,
    inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { value: { type: 'tensor' } },
    infer: (ctx) => {
      const dtype = ctx.tensor('value')?.dtype ?? 'float32';
      const v = ctx.dims(0);
      if (v) return [{ dtype, shape: [...v] }];
      const s = ctx.shape(0);
      return [{ dtype, shape: s && isKnownDim(s[0]) ? Array<Dim>(s[0]).fill(UNKNOWN_DIM) : undefined }];
    },
  },
  {
    name: 'Range', category: 'generator', since: 11,
    inputs: [{ name: 'start' }, { name: 'limit' }, { name: 'delta' }], outputs: [{ name: 'output' }],
    attrs: { stash_type: { type: 'int', default: 1, since: 27 } },
    infer: rangeRule,
  },
  {
    name: 'EyeLike', category: 'generator', since: 9,
    inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { dtype: { type: 'int' }, k: { type: 'int', default: 0 } },
    infer: (ctx) => [withDType(ctx, dtypeAttr(ctx, 'dtype', ctx.dtype(0)))],
  },
  {
    name: 'OneHot', category: 'generator', since: 9,
    inputs: [{ name: 'indices' }, { name: 'depth' }, { name: 'values' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: -1 } },
    infer: oneHot,
  },
  ...(['RandomNormal', 'RandomUniform'] as const).map((name): OpDef => ({
    name, category: 'generator', inputs: [], outputs: [{ name: 'output' }],
    attrs: {
      dtype: { type: 'int', default: 1 }, seed: SEED, shape: { type: 'ints', required: true },
      ...(name === 'RandomNormal'
        ? { mean: { type: 'float', default: 0 }, scale: { type: 'float', default: 1 } }
        : { low: { type: 'float', default: 0 }, high: { type: 'float', default: 1 } }),
    },
    infer: (ctx) => [{ dtype: dtypeAttr(ctx, 'dtype', 'float32'), shape: ctx.ints('shape') }],
  })),
  ...(['RandomNormalLike', 'RandomUniformLike'] as const).map((name): OpDef => ({
    name, category: 'generator', inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: {
      dtype: { type: 'int' }, seed: SEED,
      ...(name === 'RandomNormalLike'
        ? { mean: { type: 'float', default: 0 }, scale: { type: 'float', default: 1 } }
        : { low: { type: 'float', default: 0 }, high: { type: 'float', default: 1 } }),
    },
    infer: (ctx) => [withDType(ctx, dtypeAttr(ctx, 'dtype', ctx.dtype(0)))],
  })),
  {
    name: 'Bernoulli', category: 'generator', since: 15,
    inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { dtype: { type: 'int' }, seed: SEED },
    infer: (ctx) => [withDType(ctx, dtypeAttr(ctx, 'dtype', ctx.dtype(0)))],
  },
];
