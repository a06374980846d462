/**
 * TF.js graph-model handlers for the layout-sensitive and matrix ops: Conv (→ Conv2D /
 * DepthwiseConv2dNative, fused with bias and activation as tensorflowjs_converter writes them),
 * ConvTranspose (Conv2DBackpropInput), pools, global pools, BatchNormalization (Mul + AddV2),
 * Gemm / MatMul (MatMul / _FusedMatMul / BatchMatMulV2), Resize, DepthToSpace / SpaceToDepth,
 * LRN. Inputs are channels-last here (the layout pass ran first); weights are still in ONNX
 * order and move to TF order (OIHW → HWIO, [M,1,kh,kw] → [kh,kw,C,M/C], [K,N] for MatMul).
 */
import type { NumericArray } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/graph.js';
import { attrFloat, attrInt, attrInts, attrString } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { toFloat32 } from '../../../ir/tensor.js';
import { transposeData } from '../../../data/npy.js';
import type { EmitContext, Handler } from './context.js';
import { A, type TfAttr } from './graphdef.js';

const T = A.type('float32');

export function permuted(t: Tensor, perm: number[], reshape?: number[]): Tensor {
  const data = transposeData(t.data as NumericArray, t.shape, perm);
  return { dtype: t.dtype, shape: reshape ?? perm.map((p) => t.shape[p]!), data };
}

interface Padding {
  padding: 'SAME' | 'VALID' | 'EXPLICIT';
  /** [top, bottom, left, right] (undefined for SAME on dynamic spatial dimensions) */
  pads?: number[];
}

/** SAME / VALID when the node's padding is one of TF's, else the explicit pads (ONNX
 *  [x1_begin, x2_begin, x1_end, x2_end]) as [top, bottom, left, right]; `extraEnd` adds padding
 *  at the end of each axis (MaxPool ceil_mode). */
function padding(n: Node, c: EmitContext, kernel: number[], strides: number[], dil: number[]): Padding {
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  const xs = c.shape(n.inputs[0]!);
  const r = kernel.length;
  const sameTotals = kernel.map((k, i) => {
    const inDim = xs?.[i + 1];
    const eff = (k - 1) * dil[i]! + 1;
    return typeof inDim === 'number' ? Math.max((Math.ceil(inDim / strides[i]!) - 1) * strides[i]! + eff - inDim, 0) : undefined;
  });
  if (auto === 'VALID') return { padding: 'VALID', pads: new Array<number>(2 * r).fill(0) };
  if (auto === 'SAME_UPPER') {
    const known = sameTotals.every((t) => t !== undefined);
    return { padding: 'SAME', ...(known ? { pads: sameTotals.flatMap((t) => [Math.floor(t! / 2), t! - Math.floor(t! / 2)]) } : {}) };
  }
  let pads = attrInts(n, 'pads') ?? new Array<number>(2 * r).fill(0);
  if (auto === 'SAME_LOWER') {
    if (sameTotals.some((t) => t === undefined)) c.fail(n, 'auto_pad SAME_LOWER needs static spatial dimensions');
    pads = [...sameTotals.map((t) => Math.ceil(t! / 2)), ...sameTotals.map((t) => Math.floor(t! / 2))];
  }
  if (attrInt(n, 'ceil_mode', 0)) {
    // pad the end so that the floor division of the padded size gives the ceil-mode output
    const out = c.shape(n.outputs[0]!);
    pads = [...pads];
    for (let i = 0; i < r; i++) {
      const inDim = xs?.[i + 1];
      const o = out?.[i + 1];
      if (typeof inDim !== 'number' || typeof o !== 'number') c.fail(n, 'ceil_mode needs static spatial dimensions');
      const need = (o - 1) * strides[i]! + (kernel[i]! - 1) * dil[i]! + 1;
      pads[i + r] = pads[i + r]! + Math.max(0, need - (inDim + pads[i]! + pads[i + r]!));
    }
  }
  const tblr = kernel.flatMap((_, i) => [pads[i]!, pads[i + r]!]);
  if (pads.every((p) => p === 0)) return { padding: 'VALID', pads: tblr };
  const same = kernel.every((k, i) => {
    const t = sameTotals[i];
    if (t === undefined) {
      const eff = (k - 1) * dil[i]! + 1;
      return strides[i] === 1 && eff % 2 === 1 && pads[i] === (eff - 1) / 2 && pads[i + r] === (eff - 1) / 2;
    }
    return pads[i] === Math.floor(t / 2) && pads[i + r] === t - Math.floor(t / 2);
  });
  return { padding: same ? 'SAME' : 'EXPLICIT', pads: tblr };
}

/** Pad the NHWC input explicitly (Pad, or PadV2 with `fill`), for ops without explicit padding. */
function padInput(c: EmitContext, n: Node, x: string, pads: number[], fill?: number): string {
  const pairs = [0, 0, ...pads, 0, 0];
  const p = c.i32(`${n.name}/paddings`, pairs, [pairs.length / 2, 2]);
  if (fill === undefined) return c.op('Pad', `${n.name}/pad`, [x, p], { T, Tpaddings: A.type('int32') });
  return c.op('PadV2', `${n.name}/pad`, [x, p, c.f32(`${n.name}/pad_value`, fill)], { T, Tpaddings: A.type('int32') });
}

function biasOf(c: EmitContext, n: Node, idx: number, size: number): string | undefined {
  const v = n.inputs[idx];
  if (!v) return undefined;
  const t = c.constant(v);
  if (!t) return c.ref(v);
  if (t.shape.reduce((a, b) => a * b, 1) !== size) return undefined;
  return c.weight(v, t.shape.length === 1 ? '' : '1d', (b) => ({ dtype: b.dtype, shape: [size], data: b.data }));
}

function fusedAttrs(c: EmitContext, n: Node, numArgs: number): Record<string, TfAttr> {
  const f = c.fused(n);
  return {
    num_args: A.i(numArgs),
    fused_ops: A.strs(f ? ['BiasAdd', f.act] : ['BiasAdd']),
    epsilon: A.f(0),
    leakyrelu_alpha: A.f(f?.alpha ?? 0.2),
  };
}

/** 1-D ops run as 2-D ones on [N, 1, W, C]: the input gets an axis, the output loses it. */
function lift1d(c: EmitContext, n: Node, x: string): string {
  return c.op('ExpandDims', `${n.name}/2d_input`, [x, c.i32(`${n.name}/axis1`, [1], [])], { T, Tdim: A.type('int32') });
}
function drop1d(c: EmitContext, y: string, hint: string): string {
  return c.op('Squeeze', hint, [y], { T, squeeze_dims: A.ints([1]) });
}
/** 1-D padding as 2-D: nothing along the added height */
function pad2d(p: Padding, oneD: boolean): Padding {
  return oneD ? { padding: p.padding, ...(p.pads ? { pads: [0, 0, ...p.pads] } : {}) } : p;
}

const Conv: Handler = (n, c) => {
  const [xv, wv] = n.inputs as [string, string];
  const ws = c.staticShape(wv);
  if (!ws || (ws.length !== 4 && ws.length !== 3)) c.fail(n, `only 1-D and 2-D convolutions with a known filter shape are supported (filter shape [${c.shape(wv)?.join(',') ?? '?'}])`);
  const oneD = ws!.length === 3;
  const [m, cg] = ws as [number, number];
  const kernel = ws!.slice(2);
  const [kh, kw] = oneD ? [1, kernel[0]!] : (kernel as [number, number]);
  const group = attrInt(n, 'group', 1);
  const cin = (c.shape(xv)?.[ws!.length - 1] as number | undefined) ?? cg * group;
  const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
  const dil = attrInts(n, 'dilations') ?? kernel.map(() => 1);
  const pad = pad2d(padding(n, c, kernel, strides, dil), oneD);
  const [s2, d2] = oneD ? [[1, strides[0]!], [1, dil[0]!]] : [strides, dil];
  const out = c.outName(n);
  const depthwise = group !== 1 && group === cin && cg === 1;
  if (group !== 1 && !depthwise) c.fail(n, `grouped convolution (group ${group} of ${cin} channels) has no TF.js op`);
  // OIHW → HWIO, [M,1,kh,kw] → [kh,kw,1,M] (→ [kh,kw,C,M/C]); 1-D: OIW → WIO → [1,W,I,O]
  const perm = oneD ? [2, 1, 0] : [2, 3, 1, 0];
  const tfShape = depthwise ? [kh, kw, cin, m / cin] : [kh, kw, cg, m];
  const filter = c.constant(wv)
    ? c.weight(wv, depthwise ? 'hwcm' : 'hwio', (t) => permuted(t, perm, tfShape))
    : c.op('Reshape', `${wv}/${depthwise ? 'hwcm' : 'hwio'}`, [c.op('Transpose', `${wv}/t`, [c.ref(wv), c.i32(`${wv}/perm`, perm)], { T }), c.i32(`${wv}/shape`, tfShape)], { T });
  const f = c.fused(n);
  let bias = biasOf(c, n, 2, m);
  if (!bias && n.inputs[2]) c.fail(n, 'the bias must have one value per output channel');
  if (!bias && f) bias = c.f32(`${n.name}/zero_bias`, new Array<number>(m).fill(0));
  const attrs: Record<string, TfAttr> = {
    T,
    strides: A.ints([1, s2[0]!, s2[1]!, 1]),
    padding: A.s(pad.padding),
    data_format: A.s('NHWC'),
    dilations: A.ints([1, d2[0]!, d2[1]!, 1]),
    explicit_paddings: A.ints(pad.padding === 'EXPLICIT' ? [0, 0, ...pad.pads!, 0, 0] : []),
  };
  if (!depthwise) attrs.use_cudnn_on_gpu = A.b(true);
  const x = oneD ? lift1d(c, n, c.ref(xv)) : c.ref(xv);
  const hint = oneD ? `${out}/2d` : out;
  let y: string;
  if (bias) y = c.op(depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', hint, [x, filter, bias], { ...attrs, ...fusedAttrs(c, n, 1) });
  else y = c.op(depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', hint, [x, filter], attrs);
  c.finish(n, oneD ? drop1d(c, y, out) : y, !!bias);
};

const ConvTranspose: Handler = (n, c) => {
  const [xv, wv] = n.inputs as [string, string];
  const w = c.constant(wv);
  if (!w || w.shape.length !== 4) c.fail(n, 'only 2-D transposed convolutions with a constant filter are supported');
  if (attrInt(n, 'group', 1) !== 1) c.fail(n, 'grouped transposed convolution has no TF.js op');
  if ((attrInts(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) c.fail(n, 'dilated transposed convolution (TF.js ignores dilations)');
  const [, cout, kh, kw] = w!.shape as number[];
  const strides = attrInts(n, 'strides') ?? [1, 1];
  const outShape = c.shape(n.outputs[0]!);
  if (!outShape || outShape.slice(1).some((d) => typeof d !== 'number')) c.fail(n, 'the output shape must be static (but the batch)');
  const inShape = c.shape(xv)!;
  const hw = [outShape![1] as number, outShape![2] as number];
  // ONNX: out = s·(in − 1) + op + k − pb − pe; find the pads (begin, end) the output implies
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const k = [kh!, kw!];
  const total = [0, 1].map((i) => strides[i]! * ((inShape[i + 1] as number) - 1) + k[i]! - hw[i]!);
  const begin = [0, 1].map((i) => (auto === 'SAME_UPPER' ? Math.floor(total[i]! / 2) : auto === 'SAME_LOWER' ? Math.ceil(total[i]! / 2) : auto === 'VALID' ? 0 : pads[i]!));
  const end = [0, 1].map((i) => total[i]! - begin[i]!);
  if (end.some((e) => e < 0)) c.fail(n, 'output_padding larger than the padding is not supported');
  const filter = c.weight(wv, 'hwoi', (t) => permuted(t, [2, 3, 1, 0])); // [I,O,kh,kw] → [kh,kw,O,I]
  const explicit = [0, 0, begin[0]!, end[0]!, begin[1]!, end[1]!, 0, 0];
  const batch = outShape![0];
  let os: string;
  if (typeof batch === 'number') os = c.i32(`${n.name}/output_shape`, [batch, hw[0]!, hw[1]!, cout!]);
  else {
    const shp = c.op('Shape', `${n.name}/input_shape`, [c.ref(xv)], { T, out_type: A.type('int32') });
    const b = c.op('StridedSlice', `${n.name}/batch`, [shp, c.i32(`${n.name}/b0`, [0]), c.i32(`${n.name}/b1`, [1]), c.i32(`${n.name}/b2`, [1])], {
      T: A.type('int32'), Index: A.type('int32'), begin_mask: A.i(0), end_mask: A.i(0), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(0),
    });
    os = c.op('ConcatV2', `${n.name}/output_shape`, [b, c.i32(`${n.name}/hwc`, [hw[0]!, hw[1]!, cout!]), c.i32(`${n.name}/axis`, [0], [])], { N: A.i(2), T: A.type('int32'), Tidx: A.type('int32') });
  }
  const zero = explicit.every((p) => p === 0);
  let y = c.op('Conv2DBackpropInput', zero && !n.inputs[2] ? c.outName(n) : `${n.name}/deconv`, [os, filter, c.ref(xv)], {
    T, strides: A.ints([1, strides[0]!, strides[1]!, 1]), padding: A.s(zero ? 'VALID' : 'EXPLICIT'), data_format: A.s('NHWC'),
    dilations: A.ints([1, 1, 1, 1]), explicit_paddings: A.ints(zero ? [] : explicit), use_cudnn_on_gpu: A.b(true),
  });
  if (n.inputs[2]) y = c.op('BiasAdd', c.outName(n), [y, biasOf(c, n, 2, cout!) ?? c.fail(n, 'the bias must have one value per output channel')], { T, data_format: A.s('NHWC') });
  c.finish(n, y);
};

function pool(kind: 'MaxPool' | 'AvgPool'): Handler {
  return (n, c) => {
    const k = attrInts(n, 'kernel_shape')!;
    if (k.length !== 2 && k.length !== 1) c.fail(n, 'only 1-D and 2-D pooling is supported');
    const oneD = k.length === 1;
    const s = attrInts(n, 'strides') ?? k.map(() => 1);
    const dil = attrInts(n, 'dilations') ?? k.map(() => 1);
    if (dil.some((d) => d !== 1)) c.fail(n, 'dilated pooling has no TF.js op');
    if (n.outputs[1]) c.fail(n, 'the Indices output has no TF.js counterpart');
    const pad = pad2d(padding(n, c, k, s, dil), oneD);
    const [k2, s2] = oneD ? [[1, k[0]!], [1, s[0]!]] : [k, s];
    let x = c.ref(n.inputs[0]!);
    if (oneD) x = lift1d(c, n, x);
    let p: string = pad.padding;
    // TF's SAME average ignores the padding; count_include_pad=1 counts it: pad with zeros first
    const countPad = kind === 'AvgPool' && attrInt(n, 'count_include_pad', 0) === 1 && pad.padding !== 'VALID';
    if (pad.padding === 'EXPLICIT' || countPad) {
      if (kind === 'AvgPool' && !countPad) {
        c.fail(n, `explicit pads [${(attrInts(n, 'pads') ?? []).join(',')}] that are not SAME, without count_include_pad (TF averages over the valid part of SAME windows only)`);
      }
      if (!pad.pads) c.fail(n, 'SAME padding with count_include_pad=1 on dynamic spatial dimensions');
      x = padInput(c, n, x, pad.pads!, kind === 'MaxPool' ? -3.4028234663852886e38 : undefined);
      p = 'VALID';
    }
    const out = c.outName(n);
    const y = c.op(kind, oneD ? `${out}/2d` : out, [x], {
      T, ksize: A.ints([1, k2[0]!, k2[1]!, 1]), strides: A.ints([1, s2[0]!, s2[1]!, 1]), padding: A.s(p), data_format: A.s('NHWC'), explicit_paddings: A.ints([]),
    });
    c.finish(n, oneD ? drop1d(c, y, out) : y);
  };
}

function globalPool(kind: 'Mean' | 'Max'): Handler {
  return (n, c) => {
    const r = c.rank(n.inputs[0]!) ?? 4;
    const axes = Array.from({ length: r - 2 }, (_, i) => i + 1);
    c.finish(n, c.op(kind, c.outName(n), [c.ref(n.inputs[0]!), c.i32(`${n.name}/axes`, axes)], { T, Tidx: A.type('int32'), keep_dims: A.b(true) }));
  };
}

const BatchNormalization: Handler = (n, c) => {
  const [sc, bi, mu, va] = [1, 2, 3, 4].map((i) => c.constant(n.inputs[i] ?? ''));
  if (!sc || !bi || !mu || !va || n.outputs.filter(Boolean).length !== 1 || attrInt(n, 'training_mode', 0)) c.fail(n, 'only the inference form with constant parameters');
  if ((c.rank(n.inputs[0]!) ?? 4) > 2 && n.layout !== 'NHWC') c.fail(n, 'a channels-first BatchNormalization the layout pass did not convert');
  const eps = attrFloat(n, 'epsilon', 1e-5);
  const [s0, b0, m0, v0] = [sc!, bi!, mu!, va!].map((t) => toFloat32(t));
  const k = s0!.map((v, i) => v / Math.sqrt(v0![i]! + eps));
  const add = b0!.map((v, i) => v - m0![i]! * k[i]!);
  const y = c.op('Mul', `${n.name}/scaled`, [c.ref(n.inputs[0]!), c.f32(`${n.name}/scale`, Array.from(k))], { T });
  c.finish(n, c.op('AddV2', c.outName(n), [y, c.f32(`${n.name}/offset`, Array.from(add))], { T }));
};

/** Gemm (alpha·A'·B' + beta·C) and MatMul. */
const MatMul: Handler = (n, c) => {
  const [av, bv] = n.inputs as [string, string];
  const gemm = n.op === 'Gemm';
  const transA = gemm ? attrInt(n, 'transA', 0) : 0;
  const transB = gemm ? attrInt(n, 'transB', 0) : 0;
  const alpha = gemm ? attrFloat(n, 'alpha', 1) : 1;
  const beta = gemm ? attrFloat(n, 'beta', 1) : 1;
  const ra = c.rank(av);
  const rb = c.rank(bv);
  const bConst = c.constant(bv);
  if (!gemm && (ra === 1 || rb === 1)) c.fail(n, 'MatMul of a 1-D operand');
  let b: string;
  let tb = false;
  if (bConst && bConst.shape.length === 2) {
    b = transB ? c.weight(bv, 'kn', (t) => permuted(t, [1, 0])) : c.weight(bv, '', (t) => t);
  } else {
    b = c.ref(bv);
    tb = !!transB;
  }
  const n2d = ra === 2 && (rb === 2 || (bConst?.shape.length === 2));
  const N = (bConst ? bConst.shape[transB ? 0 : 1] : c.shape(bv)?.[(rb ?? 2) - (transB ? 2 : 1)]) as number | undefined;
  let bias: string | undefined;
  if (gemm && n.inputs[2] && typeof N === 'number') {
    const ct = c.constant(n.inputs[2]);
    if (ct && ct.shape.reduce((x, y) => x * y, 1) === N && (ct.shape.length === 1 || ct.shape[0] === 1)) {
      bias = beta === 1 ? biasOf(c, n, 2, N) : c.f32(`${n.inputs[2]}/beta`, Array.from(toFloat32(ct), (v) => v * beta));
    }
  }
  const f = c.fused(n);
  if (!bias && f && n2d && alpha === 1 && !(gemm && n.inputs[2]) && typeof N === 'number') bias = c.f32(`${n.name}/zero_bias`, new Array<number>(N).fill(0));
  const useFused = n2d && !!bias && alpha === 1;
  const a = c.ref(av);
  const out = c.outName(n);
  const tail = alpha !== 1 || (gemm && n.inputs[2] && !useFused);
  let y: string;
  if (useFused) {
    y = c.op('_FusedMatMul', out, [a, b, bias!], { T, transpose_a: A.b(!!transA), transpose_b: A.b(tb), ...fusedAttrs(c, n, 1) });
    c.finish(n, y, true);
    return;
  }
  const hint = tail ? `${n.name}/matmul` : out;
  y = n2d
    ? c.op('MatMul', hint, [a, b], { T, transpose_a: A.b(!!transA), transpose_b: A.b(tb) })
    : c.op('BatchMatMulV2', hint, [a, b], { T, adj_x: A.b(!!transA), adj_y: A.b(tb) });
  if (alpha !== 1) y = c.op('Mul', gemm && n.inputs[2] ? `${n.name}/alpha` : out, [y, c.f32(`${n.name}/alpha_value`, alpha)], { T });
  if (gemm && n.inputs[2]) {
    const cb = bias ?? (beta === 1 ? c.ref(n.inputs[2]) : c.op('Mul', `${n.name}/beta`, [c.ref(n.inputs[2]), c.f32(`${n.name}/beta_value`, beta)], { T }));
    y = c.op('AddV2', out, [y, cb], { T });
  }
  c.finish(n, y);
};

const Resize: Handler = (n, c) => {
  const mode = attrString(n, 'mode', 'nearest');
  const ctm = attrString(n, 'coordinate_transformation_mode', n.op === 'Upsample' ? 'asymmetric' : 'half_pixel');
  const nearestMode = attrString(n, 'nearest_mode', n.op === 'Upsample' ? 'floor' : 'round_prefer_floor');
  const out = c.shape(n.outputs[0]!);
  const inS = c.shape(n.inputs[0]!);
  if (!out || out.length !== 4 || typeof out[1] !== 'number' || typeof out[2] !== 'number') c.fail(n, 'only 4-D resizes with a static output height and width');
  if (n.layout === 'NCHW') c.fail(n, 'a channels-first Resize the layout pass did not convert');
  if (inS && (inS[0] !== out![0] || inS[3] !== out![3])) c.fail(n, 'only the height and width can be resized');
  const size = c.i32(`${n.name}/size`, [out![1] as number, out![2] as number]);
  const up = [1, 2].every((i) => typeof inS?.[i] === 'number' && (out![i] as number) % (inS[i] as number) === 0);
  let align = false;
  let half = false;
  if (mode === 'linear') {
    align = ctm === 'align_corners';
    half = ctm === 'half_pixel' || ctm === 'pytorch_half_pixel';
    if (!align && !half && ctm !== 'asymmetric') c.fail(n, `linear resize with coordinate_transformation_mode ${ctm}`);
  } else if (mode === 'nearest') {
    if (ctm === 'asymmetric' && nearestMode === 'floor') {
      /* TF's legacy nearest */
    } else if (ctm === 'tf_half_pixel_for_nn' && nearestMode === 'floor') half = true;
    else if ((ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') && up && nearestMode !== 'floor' && nearestMode !== 'ceil') half = true;
    else if (ctm === 'align_corners' && nearestMode === 'round_prefer_ceil') align = true;
    else c.fail(n, `nearest resize with coordinate_transformation_mode ${ctm} and nearest_mode ${nearestMode}`);
  } else c.fail(n, `mode ${mode}`);
  if (attrInt(n, 'antialias', 0)) c.fail(n, 'antialias');
  const op = mode === 'linear' ? 'ResizeBilinear' : 'ResizeNearestNeighbor';
  c.finish(n, c.op(op, c.outName(n), [c.ref(n.inputs[0]!), size], { T, align_corners: A.b(align), half_pixel_centers: A.b(half) }));
};

function spaceDepth(op: 'DepthToSpace' | 'SpaceToDepth'): Handler {
  return (n, c) => {
    if (op === 'DepthToSpace' && attrString(n, 'mode', 'DCR') !== 'DCR') c.fail(n, 'mode CRD (TF.js orders depth as DCR)');
    if (n.layout !== 'NHWC') c.fail(n, 'a channels-first op the layout pass did not convert');
    c.finish(n, c.op(op, c.outName(n), [c.ref(n.inputs[0]!)], { T, block_size: A.i(attrInt(n, 'blocksize', 2)), data_format: A.s('NHWC') }));
  };
}

const LRN: Handler = (n, c) => {
  const size = attrInt(n, 'size', 1);
  if (size % 2 !== 1) c.fail(n, `an even size (${size})`);
  if (n.layout !== 'NHWC') c.fail(n, 'a channels-first op the layout pass did not convert');
  c.finish(n, c.op('LRN', c.outName(n), [c.ref(n.inputs[0]!)], {
    T, depth_radius: A.i((size - 1) / 2), bias: A.f(attrFloat(n, 'bias', 1)), alpha: A.f(attrFloat(n, 'alpha', 1e-4) / size), beta: A.f(attrFloat(n, 'beta', 0.75)),
  }));
};

export const NN_HANDLERS: Record<string, Handler> = {
  Conv, ConvTranspose, MaxPool: pool('MaxPool'), AveragePool: pool('AvgPool'),
  GlobalAveragePool: globalPool('Mean'), GlobalMaxPool: globalPool('Max'), BatchNormalization,
  Gemm: MatMul, MatMul, Resize, Upsample: Resize, DepthToSpace: spaceDepth('DepthToSpace'), SpaceToDepth: spaceDepth('SpaceToDepth'), LRN,
};
