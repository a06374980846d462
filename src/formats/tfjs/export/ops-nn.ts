/**
 * TF.js graph-model handlers for the other layout-sensitive and matrix ops: pools, global pools,
 * BatchNormalization (Mul + AddV2), Gemm / MatMul (MatMul / _FusedMatMul / BatchMatMulV2),
 * Resize, DepthToSpace / SpaceToDepth, LRN; convolutions are in ops-conv.ts. Inputs are
 * channels-last here (the layout pass ran first); weights are still in ONNX order ([K,N] for MatMul).
 */
import { attrFloat, attrInt, attrInts, attrString } from '../../../ir/graph.js';
import { toFloat32 } from '../../../ir/tensor.js';
import type { Handler } from './context.js';
import { A } from './graphdef.js';
import { T, biasOf, drop1d, fusedAttrs, lift1d, pad2d, padInput, padding, permuted } from './nn-common.js';
import { CONV_HANDLERS } from './ops-conv.js';

export { permuted } from './nn-common.js';

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
  ...CONV_HANDLERS, MaxPool: pool('MaxPool'), AveragePool: pool('AvgPool'),
  GlobalAveragePool: globalPool('Mean'), GlobalMaxPool: globalPool('Max'), BatchNormalization,
  Gemm: MatMul, MatMul, Resize, Upsample: Resize, DepthToSpace: spaceDepth('DepthToSpace'), SpaceToDepth: spaceDepth('SpaceToDepth'), LRN,
};
