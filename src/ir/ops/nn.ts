/**
 * Convolution, pooling and normalization ops. Layout: with `node.layout === 'NHWC'` the data
 * tensors (X, Y) are channels-last ([N, D1..Dn, C]); weights keep the ONNX layout
 * (Conv: [M, C/group, k1..kn], ConvTranspose: [C, M/group, k1..kn]) whatever the layout.
 */
import type { Dim } from '../tensor.js';
import { dtypeFromOnnx } from './dtype-codes.js';
import { UNKNOWN_DIM, dimScale, isKnownDim, normAxis } from './dims.js';
import { CONSUMED, X, Y, layoutAxes, placeLayout, same, withDType } from './rules.js';
import type { AttrSpec, InferContext, OpDef, ValueType } from './types.js';

const CONV_ATTRS: Record<string, AttrSpec> = {
  auto_pad: { type: 'string', default: 'NOTSET' },
  dilations: { type: 'ints' },
  group: { type: 'int', default: 1 },
  kernel_shape: { type: 'ints' },
  pads: { type: 'ints' },
  strides: { type: 'ints' },
};

const POOL_ATTRS: Record<string, AttrSpec> = {
  auto_pad: { type: 'string', default: 'NOTSET' },
  kernel_shape: { type: 'ints', required: true },
  pads: { type: 'ints' },
  strides: { type: 'ints' },
};

function perAxis(ctx: InferContext, name: string, n: number, dflt: number): number[] {
  const v = ctx.ints(name);
  if (!v) return Array<number>(n).fill(dflt);
  if (v.length !== n) ctx.fail(`attribute ${name} has ${v.length} values, expected ${n}`);
  return v;
}

/**
 * Output spatial sizes of a convolution or pooling window (ONNX conv/pool shape inference,
 * including SAME_* padding computed from the input size and ceil_mode's rule that a window
 * starting in the right padding is dropped).
 */
export function windowOutput(ctx: InferContext, spatial: readonly Dim[], kernel: readonly number[] | undefined, useDilations: boolean): Dim[] {
  const n = spatial.length;
  if (!kernel) return spatial.map(() => UNKNOWN_DIM);
  if (kernel.length !== n) ctx.fail(`kernel has ${kernel.length} spatial dims, input has ${n}`);
  const strides = perAxis(ctx, 'strides', n, 1);
  const dil = useDilations ? perAxis(ctx, 'dilations', n, 1) : Array<number>(n).fill(1);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const pads = autoPad === 'NOTSET' ? ctx.ints('pads') ?? Array<number>(2 * n).fill(0) : undefined;
  if (pads && pads.length !== 2 * n) ctx.fail(`attribute pads has ${pads.length} values, expected ${2 * n}`);
  const ceil = ctx.int('ceil_mode', 0) === 1;
  return spatial.map((d, i) => {
    const k = kernel[i] as number;
    const s = strides[i] as number;
    const ek = (k - 1) * (dil[i] as number) + 1;
    if (!isKnownDim(d)) {
      // stride 1 with "same" padding keeps a symbolic size
      const sameSize = autoPad.startsWith('SAME') || (pads !== undefined && (pads[i] as number) + (pads[i + n] as number) === ek - 1);
      return s === 1 && sameSize ? d : UNKNOWN_DIM;
    }
    let begin = 0;
    let end = 0;
    if (pads) {
      begin = pads[i] as number;
      end = pads[i + n] as number;
    } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const residual = s > 1 ? d % s : 0;
      const total = Math.max(residual === 0 ? ek - s : ek - residual, 0);
      const small = Math.floor(total / 2);
      begin = autoPad === 'SAME_UPPER' ? small : total - small;
      end = total - begin;
    } else if (autoPad !== 'VALID') {
      ctx.fail(`unknown auto_pad ${autoPad}`);
    }
    let num = d + begin + end - ek;
    if (num < 0) ctx.fail(`window ${ek} is larger than the padded input ${d + begin + end}`);
    if (ceil) num += s - 1;
    let out = Math.floor(num / s) + 1;
    if (ceil && (out - 1) * s >= d + begin) out -= 1;
    return out;
  });
}

/** Conv-like rule: X is input 0, W is input `w` ([M, C/group, k...]). */
export function convShape(ctx: InferContext, x: number, w: number): Dim[] | undefined {
  const xs = ctx.shape(x);
  const ws = ctx.shape(w);
  const group = ctx.int('group', 1);
  const m: Dim = ws ? (ws[0] as Dim) : UNKNOWN_DIM;
  if (!xs) {
    if (!ws || ws.length < 3) return undefined;
    return placeLayout(UNKNOWN_DIM, m, ws.slice(2).map(() => UNKNOWN_DIM), ctx.layout);
  }
  if (xs.length < 3) ctx.fail(`input must have rank ≥ 3, got ${xs.length}`);
  const { channel, spatial } = layoutAxes(xs.length, ctx.layout);
  if (ws) {
    if (ws.length !== xs.length) ctx.fail(`weight rank ${ws.length} differs from input rank ${xs.length}`);
    const c = xs[channel];
    const wc = ws[1];
    if (isKnownDim(c) && isKnownDim(wc) && c !== wc * group) {
      ctx.fail(`input has ${c} channels but weight expects ${wc} × group ${group}`);
    }
  }
  let kernel = ctx.ints('kernel_shape');
  if (!kernel && ws) {
    const k = ws.slice(2);
    kernel = k.every(isKnownDim) ? (k as number[]) : undefined;
  }
  const out = windowOutput(ctx, spatial.map((a) => xs[a] as Dim), kernel, true);
  return placeLayout(xs[0] as Dim, m, out, ctx.layout);
}

function convTransposeShape(ctx: InferContext): Dim[] | undefined {
  const xs = ctx.shape(0);
  const ws = ctx.shape(1);
  const group = ctx.int('group', 1);
  const m: Dim = ws ? dimScale(ws[1] as Dim, group) : UNKNOWN_DIM;
  if (!xs) return ws && ws.length >= 3 ? placeLayout(UNKNOWN_DIM, m, ws.slice(2).map(() => UNKNOWN_DIM), ctx.layout) : undefined;
  if (xs.length < 3) ctx.fail(`input must have rank ≥ 3, got ${xs.length}`);
  const { spatial } = layoutAxes(xs.length, ctx.layout);
  const n = spatial.length;
  const outShape = ctx.ints('output_shape');
  if (outShape) {
    if (outShape.length < n) ctx.fail(`output_shape has ${outShape.length} values, expected ${n}`);
    return placeLayout(xs[0] as Dim, m, outShape.slice(outShape.length - n), ctx.layout);
  }
  let kernel = ctx.ints('kernel_shape');
  if (!kernel && ws) {
    const k = ws.slice(2);
    kernel = k.every(isKnownDim) ? (k as number[]) : undefined;
  }
  const strides = perAxis(ctx, 'strides', n, 1);
  const dil = perAxis(ctx, 'dilations', n, 1);
  const outPad = perAxis(ctx, 'output_padding', n, 0);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const pads = ctx.ints('pads') ?? Array<number>(2 * n).fill(0);
  const dims = spatial.map((a, i) => {
    const d = xs[a];
    if (!kernel || !isKnownDim(d)) return UNKNOWN_DIM;
    const s = strides[i] as number;
    const ek = ((kernel[i] as number) - 1) * (dil[i] as number) + 1;
    let total = (pads[i] ?? 0) + (pads[i + n] ?? 0);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') total = Math.max(ek - s, 0);
    else if (autoPad === 'VALID') total = 0;
    return s * (d - 1) + (outPad[i] as number) + ek - total;
  });
  return placeLayout(xs[0] as Dim, m, dims, ctx.layout);
}

function poolRule(useDilations: boolean, withIndices: boolean) {
  return (ctx: InferContext): ValueType[] => {
    const xs = ctx.shape(0);
    const dtype = ctx.dtype(0);
    let shape: Dim[] | undefined;
    if (xs) {
      if (xs.length < 3) ctx.fail(`input must have rank ≥ 3, got ${xs.length}`);
      const { channel, spatial } = layoutAxes(xs.length, ctx.layout);
      const out = windowOutput(ctx, spatial.map((a) => xs[a] as Dim), ctx.ints('kernel_shape'), useDilations);
      shape = placeLayout(xs[0] as Dim, xs[channel] as Dim, out, ctx.layout);
    }
    const res: ValueType[] = [{ dtype, shape }];
    if (withIndices) res.push({ dtype: 'int64', shape: shape ? [...shape] : undefined });
    return res;
  };
}

function globalPool(ctx: InferContext): ValueType[] {
  const xs = ctx.shape(0);
  if (!xs) return [{ dtype: ctx.dtype(0) }];
  if (xs.length < 3) ctx.fail(`input must have rank ≥ 3, got ${xs.length}`);
  const { spatial } = layoutAxes(xs.length, ctx.layout);
  return [{ dtype: ctx.dtype(0), shape: xs.map((d, i) => (spatial.includes(i) ? 1 : d)) }];
}

function channelDim(ctx: InferContext): Dim {
  const s = ctx.shape(1);
  if (s && s.length === 1) return s[0] as Dim;
  const xs = ctx.shape(0);
  return xs && xs.length >= 2 ? (xs[layoutAxes(xs.length, ctx.layout).channel] as Dim) : UNKNOWN_DIM;
}

function batchNorm(ctx: InferContext): ValueType[] {
  const out: ValueType[] = same(ctx);
  const statType = ctx.dtype(3) ?? ctx.dtype(1) ?? ctx.dtype(0);
  for (let i = 1; i < ctx.outputCount; i++) out.push({ dtype: statType, shape: [channelDim(ctx)] });
  return out;
}

function layerNorm(ctx: InferContext): ValueType[] {
  const xs = ctx.shape(0);
  const statType = dtypeFromOnnx(ctx.int('stash_type', 1)) ?? 'float32';
  let stat: Dim[] | undefined;
  if (xs) {
    const axis = normAxis(ctx.int('axis', -1), xs.length, (m) => ctx.fail(m));
    stat = xs.map((d, i) => (i >= axis ? 1 : d));
  }
  return [same(ctx)[0] as ValueType, { dtype: statType, shape: stat }, { dtype: statType, shape: stat ? [...stat] : undefined }];
}

function depthSpace(toSpace: boolean) {
  return (ctx: InferContext): ValueType[] => {
    const xs = ctx.shape(0);
    const b = ctx.int('blocksize', 1);
    if (!xs) return [{ dtype: ctx.dtype(0) }];
    if (xs.length !== 4) ctx.fail(`input must have rank 4, got ${xs.length}`);
    const { channel, spatial } = layoutAxes(4, ctx.layout);
    const c = xs[channel] as Dim;
    let outC: Dim;
    if (toSpace) {
      if (isKnownDim(c) && c % (b * b) !== 0) ctx.fail(`channels ${c} not divisible by blocksize² ${b * b}`);
      outC = isKnownDim(c) ? c / (b * b) : UNKNOWN_DIM;
    } else {
      outC = dimScale(c, b * b);
    }
    const sp = spatial.map((a) => {
      const d = xs[a] as Dim;
      if (toSpace) return dimScale(d, b);
      if (isKnownDim(d) && d % b !== 0) ctx.fail(`spatial size ${d} not divisible by blocksize ${b}`);
      return isKnownDim(d) ? d / b : UNKNOWN_DIM;
    });
    return [{ dtype: ctx.dtype(0), shape: placeLayout(xs[0] as Dim, outC, sp, ctx.layout) }];
  };
}

export const NN_OPS: OpDef[] = [
  {
    name: 'Conv', category: 'nn', layoutSensitive: true,
    inputs: [{ name: 'X' }, { name: 'W' }, { name: 'B', optional: true }], outputs: Y,
    attrs: CONV_ATTRS,
    infer: (ctx) => [{ dtype: ctx.dtype(0) ?? ctx.dtype(1), shape: convShape(ctx, 0, 1) }],
  },
  {
    name: 'ConvTranspose', category: 'nn', layoutSensitive: true,
    inputs: [{ name: 'X' }, { name: 'W' }, { name: 'B', optional: true }], outputs: Y,
    attrs: { ...CONV_ATTRS, output_padding: { type: 'ints' }, output_shape: { type: 'ints' } },
    infer: (ctx) => [{ dtype: ctx.dtype(0) ?? ctx.dtype(1), shape: convTransposeShape(ctx) }],
  },
  {
    name: 'MaxPool', category: 'nn', layoutSensitive: true, inputs: X,
    outputs: [{ name: 'Y' }, { name: 'Indices', optional: true, since: 8 }],
    attrs: {
      ...POOL_ATTRS,
      ceil_mode: { type: 'int', default: 0, since: 10 },
      dilations: { type: 'ints', since: 10 },
      storage_order: { type: 'int', default: 0, since: 8 },
    },
    infer: poolRule(true, true),
  },
  {
    name: 'AveragePool', category: 'nn', layoutSensitive: true, inputs: X, outputs: Y,
    attrs: {
      ...POOL_ATTRS,
      ceil_mode: { type: 'int', default: 0, since: 10 },
      count_include_pad: { type: 'int', default: 0, since: 7 },
      dilations: { type: 'ints', since: 19 },
    },
    infer: poolRule(true, false),
  },
  {
    name: 'LpPool', category: 'nn', layoutSensitive: true, inputs: X, outputs: Y,
    attrs: {
      ...POOL_ATTRS,
      kernel_shape: { type: 'ints', required: true, since: 2 },
      p: [{ type: 'float', default: 2, before: 2 }, { type: 'int', default: 2, since: 2 }],
      ceil_mode: { type: 'int', default: 0, since: 18 },
      dilations: { type: 'ints', since: 18 },
    },
    infer: poolRule(true, false),
  },
  { name: 'GlobalAveragePool', category: 'nn', layoutSensitive: true, inputs: X, outputs: Y, attrs: {}, infer: globalPool },
  { name: 'GlobalMaxPool', category: 'nn', layoutSensitive: true, inputs: X, outputs: Y, attrs: {}, infer: globalPool },
  {
    name: 'GlobalLpPool', category: 'nn', layoutSensitive: true, inputs: X, outputs: Y,
    attrs: { p: [{ type: 'float', default: 2, before: 2 }, { type: 'int', default: 2, since: 2 }] }, infer: globalPool,
  },
  {
    name: 'BatchNormalization', category: 'nn', layoutSensitive: true,
    inputs: [{ name: 'X' }, { name: 'scale' }, { name: 'B' }, { name: 'input_mean' }, { name: 'input_var' }],
    outputs: [
      { name: 'Y' },
      { name: 'running_mean', optional: true }, { name: 'running_var', optional: true },
      { name: 'saved_mean', optional: true, before: 14 }, { name: 'saved_var', optional: true, before: 14 },
    ],
    attrs: {
      epsilon: { type: 'float', default: 1e-5 },
      momentum: { type: 'float', default: 0.9 },
      spatial: { type: 'int', default: 1, before: 9 },
      is_test: { type: 'int', default: 0, before: 7 },
      training_mode: { type: 'int', default: 0, since: 14 },
      consumed_inputs: { type: 'ints', before: 6 },
    },
    infer: batchNorm,
  },
  {
    name: 'InstanceNormalization', category: 'nn', layoutSensitive: true,
    inputs: [{ name: 'input' }, { name: 'scale' }, { name: 'B' }], outputs: [{ name: 'output' }],
    attrs: { epsilon: { type: 'float', default: 1e-5 }, consumed_inputs: CONSUMED }, infer: same,
  },
  {
    name: 'GroupNormalization', category: 'nn', layoutSensitive: true, since: 18,
    inputs: [{ name: 'X' }, { name: 'scale' }, { name: 'bias' }], outputs: Y,
    attrs: { epsilon: { type: 'float', default: 1e-5 }, num_groups: { type: 'int', required: true }, stash_type: { type: 'int', default: 1, since: 21 } },
    infer: same,
  },
  {
    name: 'LayerNormalization', category: 'nn', since: 17,
    inputs: [{ name: 'X' }, { name: 'Scale' }, { name: 'B', optional: true }],
    outputs: [{ name: 'Y' }, { name: 'Mean', optional: true }, { name: 'InvStdDev', optional: true }],
    attrs: { axis: { type: 'int', default: -1 }, epsilon: { type: 'float', default: 1e-5 }, stash_type: { type: 'int', default: 1 } },
    infer: layerNorm,
  },
  {
    name: 'LRN', category: 'nn', layoutSensitive: true, inputs: X, outputs: Y,
    attrs: {
      alpha: { type: 'float', default: 1e-4 }, beta: { type: 'float', default: 0.75 },
      bias: { type: 'float', default: 1 }, size: { type: 'int', required: true },
    },
    infer: same,
  },
  {
    name: 'LpNormalization', category: 'nn', inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: -1 }, p: { type: 'int', default: 2 } }, infer: same,
  },
  {
    name: 'MeanVarianceNormalization', category: 'nn', since: 9, inputs: X, outputs: Y,
    attrs: { axes: { type: 'ints', default: [0, 2, 3] } }, infer: same,
  },
  {
    name: 'Dropout', category: 'nn',
    inputs: [{ name: 'data' }, { name: 'ratio', optional: true, since: 12 }, { name: 'training_mode', optional: true, since: 12 }],
    outputs: [{ name: 'output' }, { name: 'mask', optional: true }],
    attrs: {
      ratio: { type: 'float', default: 0.5, before: 12 },
      is_test: { type: 'int', default: 0, before: 7 },
      seed: { type: 'int', since: 12 },
      consumed_inputs: CONSUMED,
    },
    infer: (ctx) => [same(ctx)[0] as ValueType, withDType(ctx, 'bool')],
  },
  {
    name: 'DepthToSpace', category: 'nn', layoutSensitive: true, inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { blocksize: { type: 'int', required: true }, mode: { type: 'string', default: 'DCR', since: 11 } },
    infer: depthSpace(true),
  },
  {
    name: 'SpaceToDepth', category: 'nn', layoutSensitive: true, inputs: [{ name: 'input' }], outputs: [{ name: 'output' }],
    attrs: { blocksize: { type: 'int', required: true } },
    infer: depthSpace(false),
  },
];
