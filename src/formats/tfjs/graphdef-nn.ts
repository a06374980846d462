/**
 * TF ops whose mapping needs more than the table: convolutions and pools (channels-last data →
 * IR nodes with `layout: 'NHWC'`, kernels moved to ONNX order: HWIO → OIHW, depthwise HWCM →
 * (C·M)1HW with group = C), grappler's fused ops (_FusedConv2D, FusedDepthwiseConv2dNative,
 * _FusedMatMul: BiasAdd / FusedBatchNorm then an activation), matmuls, batch norm and resizes.
 */
import type { Attr, Layout } from '../../ir/graph.js';
import type { NumericArray } from '../../ir/dtype.js';
import { transposeData } from '../../data/npy.js';
import { clip } from './graphdef-context.js';
import type { TfContext, TfOpSpec } from './graphdef-context.js';

const i = (value: number): Attr => ({ type: 'int', value });
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const f = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });

interface Spatial {
  layout: Layout;
  /** positions of H and W in TF's 4-element lists */
  hw: [number, number];
}
function spatial(ctx: TfContext): Spatial {
  const nchw = ctx.attrs.string('data_format', 'NHWC') === 'NCHW';
  return { layout: nchw ? 'NCHW' : 'NHWC', hw: nchw ? [2, 3] : [1, 2] };
}
const pick = (list: number[], s: Spatial, dflt: number): number[] => s.hw.map((k) => list[k] ?? dflt);

/** strides / dilations / padding of a conv or pool as IR attributes. */
function windowAttrs(ctx: TfContext, s: Spatial, withDilations: boolean): Record<string, Attr> {
  const attrs: Record<string, Attr> = { strides: ints(pick(ctx.attrs.ints('strides'), s, 1)) };
  if (withDilations) attrs.dilations = ints(pick(ctx.attrs.ints('dilations'), s, 1));
  const padding = ctx.attrs.string('padding', 'VALID');
  if (padding === 'SAME') attrs.auto_pad = str('SAME_UPPER');
  else if (padding === 'VALID') attrs.auto_pad = str('VALID');
  else if (padding === 'EXPLICIT') {
    const p = ctx.attrs.ints('explicit_paddings'); // [begin, end] per axis of the data
    const [h, w] = s.hw;
    attrs.pads = ints([p[2 * h]!, p[2 * w]!, p[2 * h + 1]!, p[2 * w + 1]!]);
  } else ctx.unsupported(`padding "${padding}" is not supported`);
  return attrs;
}

/**
 * TF's SAME with dilations (allowed only at stride 1) pads (k−1)·d in total, the extra at the end.
 * Written as explicit pads: onnxruntime refuses auto_pad together with dilations.
 */
function sameWithDilations(attrs: Record<string, Attr>, kernel: number[]): void {
  const pad = attrs.auto_pad;
  const dil = attrs.dilations;
  const strides = attrs.strides;
  if (pad?.type !== 'string' || pad.value !== 'SAME_UPPER' || dil?.type !== 'ints' || !dil.value.some((d) => d > 1)) return;
  if (strides?.type === 'ints' && strides.value.some((v) => v > 1)) return;
  const total = kernel.map((k, j) => (k - 1) * dil.value[j]!);
  delete attrs.auto_pad;
  attrs.pads = ints([...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))]);
}

/** The filter in ONNX order, a constant when TF's is one. */
function convWeight(ctx: TfContext, at: number, depthwise: boolean): { name: string; kh: number; kw: number; inPerGroup: number } {
  const c = ctx.constant(at);
  if (!c) {
    if (depthwise) return ctx.unsupported('a depthwise filter that is not a constant is not supported');
    const t = ctx.tmp('filter_oihw');
    ctx.emit('Transpose', [ctx.input(at)], [t], { perm: ints([3, 2, 0, 1]) });
    const shape = ctx.typeOf(ctx.input(at))?.shape;
    if (!shape || typeof shape[0] !== 'number' || typeof shape[1] !== 'number') return ctx.unsupported('the filter shape is unknown');
    return { name: t, kh: shape[0] as number, kw: shape[1] as number, inPerGroup: shape[2] as number };
  }
  const [kh, kw, ci, co] = c.shape as [number, number, number, number];
  if (c.shape.length !== 4) return ctx.unsupported(`the filter has rank ${c.shape.length}, expected 4`);
  const data = transposeData(c.data as NumericArray, c.shape, depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]);
  const shape = depthwise ? [ci * co, 1, kh, kw] : [co, ci, kh, kw];
  return { name: ctx.init('filter_oihw', { dtype: c.dtype, shape, data }), kh, kw, inPerGroup: ci };
}

/** The activation named in `fused_ops` (after BiasAdd / FusedBatchNorm), from x to y. */
function fusedActivation(ctx: TfContext, act: string, x: string, y: string, argBase: number): void {
  switch (act) {
    case 'Relu':
      return ctx.emit('Relu', [x], [y]);
    case 'Relu6':
      return clip(ctx, x, y, 0, 6);
    case 'Elu':
      return ctx.emit('Elu', [x], [y]);
    case 'Selu':
      return ctx.emit('Selu', [x], [y]);
    case 'LeakyRelu':
      return ctx.emit('LeakyRelu', [x], [y], { alpha: f(ctx.attrs.has('leakyrelu_alpha') ? ctx.attrs.float('leakyrelu_alpha') : 0.2) });
    case 'Sigmoid':
      return ctx.emit('Sigmoid', [x], [y]);
    case 'Tanh':
      return ctx.emit('Tanh', [x], [y]);
    case 'Prelu':
      return ctx.emit('PRelu', [x, ctx.input(argBase + 1)], [y]);
    default:
      ctx.unsupported(`the fused activation "${act}" is not supported`);
  }
}

/**
 * Run `core(out)` and then what `fused_ops` asks for: ['BiasAdd' | 'NoOp', act?] (the bias goes to
 * `withBias` when the core op takes one), ['FusedBatchNorm', act?]; args start at input `argBase`.
 */
function withFusedOps(ctx: TfContext, argBase: number, core: (y: string, bias?: string) => void, layout?: Layout): void {
  const ops = ctx.attrs.strings('fused_ops');
  if (!ops.length) return core(ctx.output());
  const [first, act, ...rest] = ops;
  if (rest.length) return ctx.unsupported(`fused_ops ${ops.join(', ')} are not supported`);
  const y = ctx.output();
  const pre = act ? ctx.tmp('preact') : y;
  // ('NoOp': tensorflowjs_converter's fused depthwise convolution without a bias)
  if (first === 'NoOp') core(pre);
  else if (first === 'BiasAdd') core(pre, ctx.input(argBase));
  else if (first === 'FusedBatchNorm') {
    const conv = ctx.tmp('conv');
    core(conv);
    const eps = ctx.attrs.float('epsilon', 1e-4);
    ctx.emit('BatchNormalization', [conv, ...[0, 1, 2, 3].map((k) => ctx.input(argBase + k))], [pre], { epsilon: f(eps) }, layout);
  } else ctx.unsupported(`fused_ops ${ops.join(', ')} are not supported`);
  if (act) fusedActivation(ctx, act, pre, y, argBase);
}

function conv(depthwise: boolean, fused: boolean): TfOpSpec {
  return {
    convert: (ctx) => {
      const s = spatial(ctx);
      const ff = ctx.attrs.string('filter_format', 'HWIO');
      if (ff !== 'HWIO') return ctx.unsupported(`filter_format ${ff} is not supported (HWIO is)`);
      const w = convWeight(ctx, 1, depthwise);
      let group = 1;
      const xs = ctx.typeOf(ctx.input(0))?.shape;
      const cin = xs?.[s.layout === 'NHWC' ? 3 : 1];
      if (depthwise) group = typeof cin === 'number' ? cin : (ctx.constant(1)?.shape[2] ?? 1);
      else if (typeof cin === 'number' && w.inPerGroup && cin !== w.inPerGroup) group = cin / w.inPerGroup;
      const attrs = { ...windowAttrs(ctx, s, true), kernel_shape: ints([w.kh, w.kw]), group: i(group) };
      sameWithDilations(attrs, [w.kh, w.kw]);
      const emit = (y: string, bias?: string): void => ctx.emit('Conv', [ctx.input(0), w.name, ...(bias ? [bias] : [])], [y], attrs, s.layout);
      if (fused) withFusedOps(ctx, 2, emit, s.layout);
      else emit(ctx.output());
    },
  };
}

function pool(ir: 'MaxPool' | 'AveragePool'): TfOpSpec {
  return {
    convert: (ctx) => {
      const s = spatial(ctx);
      const attrs: Record<string, Attr> = { ...windowAttrs(ctx, s, false), kernel_shape: ints(pick(ctx.attrs.ints('ksize'), s, 1)) };
      // TF's average pool counts only the real (unpadded) elements
      if (ir === 'AveragePool') attrs.count_include_pad = i(0);
      ctx.emit(ir, [ctx.input(0)], [ctx.output()], attrs, s.layout);
    },
  };
}

/** A constant input transposed on its last two axes at import, or a Transpose node. */
function transposedLast2(ctx: TfContext, at: number): string {
  const c = ctx.constant(at);
  const r = c?.shape.length ?? ctx.typeOf(ctx.input(at))?.shape?.length;
  if (r === undefined) return ctx.unsupported('an adjoint operand of unknown rank is not supported');
  const perm = [...Array.from({ length: r - 2 }, (_, k) => k), r - 1, r - 2];
  if (c) return ctx.init('transposed', { dtype: c.dtype, shape: perm.map((p) => c.shape[p]!), data: transposeData(c.data as NumericArray, c.shape, perm) });
  const t = ctx.tmp('transposed');
  ctx.emit('Transpose', [ctx.input(at)], [t], { perm: ints(perm) });
  return t;
}

const matmul: TfOpSpec = {
  convert: (ctx) => {
    const attrs = { transA: i(ctx.attrs.bool('transpose_a') ? 1 : 0), transB: i(ctx.attrs.bool('transpose_b') ? 1 : 0) };
    const emit = (y: string, bias?: string): void => ctx.emit('Gemm', [ctx.input(0), ctx.input(1), ...(bias ? [bias] : [])], [y], attrs);
    withFusedOps(ctx, 2, emit);
  },
};

const batchMatmul: TfOpSpec = {
  convert: (ctx) => {
    const a = ctx.attrs.bool('adj_x') ? transposedLast2(ctx, 0) : ctx.input(0);
    const b = ctx.attrs.bool('adj_y') ? transposedLast2(ctx, 1) : ctx.input(1);
    ctx.emit('MatMul', [a, b], [ctx.output()]);
  },
};

const batchNorm: TfOpSpec = {
  convert: (ctx) => {
    const s = spatial(ctx);
    ctx.emit('BatchNormalization', [0, 1, 2, 3, 4].map((k) => ctx.input(k)), [ctx.output()], { epsilon: f(ctx.attrs.float('epsilon', 1e-4)) }, s.layout);
  },
};

const biasAdd: TfOpSpec = {
  convert: (ctx) => {
    if (spatial(ctx).layout === 'NHWC') return ctx.emit('Add', [ctx.input(0), ctx.input(1)], [ctx.output()]);
    const r = ctx.typeOf(ctx.input(0))?.shape?.length;
    if (r === undefined) return ctx.unsupported('a channels-first bias add on data of unknown rank is not supported');
    const b = ctx.tmp('bias');
    ctx.emit('Unsqueeze', [ctx.input(1), ctx.i64('axes', Array.from({ length: r - 2 }, (_, k) => k + 1))], [b]);
    ctx.emit('Add', [ctx.input(0), b], [ctx.output()]);
  },
};

function resize(linear: boolean): TfOpSpec {
  return {
    convert: (ctx) => {
      const size = ctx.constInts(1, 'size');
      const xs = ctx.typeOf(ctx.input(0))?.shape;
      const [h, w] = [xs?.[1], xs?.[2]];
      if (typeof h !== 'number' || typeof w !== 'number') return ctx.unsupported('resizing an input whose height and width are unknown is not supported');
      const align = ctx.attrs.bool('align_corners');
      const half = ctx.attrs.bool('half_pixel_centers');
      const ctm = align ? 'align_corners' : half ? (linear ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
      const attrs: Record<string, Attr> = { mode: str(linear ? 'linear' : 'nearest'), coordinate_transformation_mode: str(ctm) };
      if (!linear) attrs.nearest_mode = str(align ? 'round_prefer_ceil' : 'floor');
      const scales = ctx.f32('scales', [1, size[0]! / h, size[1]! / w, 1]);
      ctx.emit('Resize', [ctx.input(0), '', scales], [ctx.output()], attrs, 'NHWC');
    },
  };
}

/**
 * Conv2DBackpropInput(input_sizes, filter [kh, kw, out, in], dy) → ConvTranspose. TF takes the
 * output size explicitly (input_sizes: a constant, or [batch, h, w, c] computed at run time with
 * h and w known); ONNX derives it from the pads and output_padding, which are chosen to match.
 */
const conv2dBackpropInput: TfOpSpec = {
  convert: (ctx) => {
    const s = spatial(ctx);
    const sizes = ctx.valueOf(0);
    const out = s.hw.map((k) => sizes?.[k]);
    if (out.some((d) => typeof d !== 'number')) return ctx.unsupported('the output height and width (input_sizes) must be known at import');
    const xs = ctx.typeOf(ctx.input(2))?.shape;
    const ins = s.hw.map((k) => xs?.[k]);
    if (ins.some((d) => typeof d !== 'number')) return ctx.unsupported('the input height and width must be known');
    const f = ctx.constant(1);
    let w: string;
    let k: number[];
    if (f) {
      if (f.shape.length !== 4) return ctx.unsupported(`the filter has rank ${f.shape.length}, expected 4`);
      const [kh, kw, co, ci] = f.shape as [number, number, number, number];
      k = [kh, kw];
      w = ctx.init('filter_iohw', { dtype: f.dtype, shape: [ci, co, kh, kw], data: transposeData(f.data as NumericArray, f.shape, [3, 2, 0, 1]) });
    } else {
      const fs = ctx.typeOf(ctx.input(1))?.shape;
      if (!fs || typeof fs[0] !== 'number' || typeof fs[1] !== 'number') return ctx.unsupported('the filter shape is unknown');
      k = [fs[0] as number, fs[1] as number];
      w = ctx.tmp('filter_iohw');
      ctx.emit('Transpose', [ctx.input(1)], [w], { perm: ints([3, 2, 0, 1]) });
    }
    const strides = pick(ctx.attrs.ints('strides'), s, 1);
    const dil = pick(ctx.attrs.ints('dilations'), s, 1);
    const padding = ctx.attrs.string('padding', 'VALID');
    const begin: number[] = [];
    const end: number[] = [];
    const outputPadding: number[] = [];
    for (let a = 0; a < 2; a++) {
      const o = out[a] as number;
      const keff = (k[a]! - 1) * dil[a]! + 1;
      let pb = 0;
      let pe = 0;
      if (padding === 'SAME') {
        const total = Math.max((Math.ceil(o / strides[a]!) - 1) * strides[a]! + keff - o, 0);
        pb = Math.floor(total / 2);
        pe = total - pb;
      } else if (padding === 'EXPLICIT') {
        const p = ctx.attrs.ints('explicit_paddings');
        [pb, pe] = [p[2 * s.hw[a]!]!, p[2 * s.hw[a]! + 1]!];
      } else if (padding !== 'VALID') return ctx.unsupported(`padding "${padding}" is not supported`);
      // ONNX: out = s·(in − 1) + output_padding + keff − pb − pe
      let op = o - (strides[a]! * ((ins[a] as number) - 1) + keff - pb - pe);
      if (op < 0) {
        pe -= op;
        op = 0;
      }
      begin.push(pb);
      end.push(pe);
      outputPadding.push(op);
    }
    ctx.emit('ConvTranspose', [ctx.input(2), w], [ctx.output()], {
      kernel_shape: ints(k), strides: ints(strides), dilations: ints(dil), pads: ints([...begin, ...end]), output_padding: ints(outputPadding),
    }, s.layout);
  },
};

export const NN_OPS: Record<string, TfOpSpec> = {
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2D: conv(false, false),
  _FusedConv2D: conv(false, true),
  DepthwiseConv2dNative: conv(true, false),
  FusedDepthwiseConv2dNative: conv(true, true),
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  MatMul: matmul,
  _FusedMatMul: matmul,
  BatchMatMul: batchMatmul,
  BatchMatMulV2: batchMatmul,
  BatchMatMulV3: batchMatmul,
  FusedBatchNorm: batchNorm,
  FusedBatchNormV2: batchNorm,
  FusedBatchNormV3: batchNorm,
  BiasAdd: biasAdd,
  ResizeBilinear: resize(true),
  ResizeNearestNeighbor: resize(false),
};
