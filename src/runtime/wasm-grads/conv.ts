/**
 * Conv2DBackpropFilter and Conv2DBackpropInput for the wasm backend.
 *
 * Filter gradient dW[i,j,ci,co] = Σ_{n,oh,ow} x[n, oh·s+i·d−pt, ow·s+j·d−pl, ci] · dy[n,oh,ow,co], per
 * batch group (see ACCUM_CHUNK), the groups' results added:
 *  · many output rows (KH·KW·Ci ≥ 32): ONE XNNPACK convolution with the roles swapped — input
 *    channels as the batch, the batch as the channels, dy as the filter:
 *    conv2d(xᵀ[Ci,Hr,Wr,n], dyᵀ[OH,OW,n,Co], strides = d, dilations = s) → [Ci,KH,KW,Co];
 *  · few rows (a first layer with 1–3 input channels): im2col rows [KH·KW·Ci, n·OH·OW] built in JS
 *    times dy as an [n·OH·OW, Co] matrix (one XNNPACK matmul).
 * Input gradient: a stride-1 convolution of dy — zero-upsampled by the stride and padded so that
 * input row h sees dy rows (h + pt − i·d)/s — with the filter rotated by 180° and its in/out
 * channels swapped (the native kernel is a scalar loop, ~6× slower).
 */
import {
  type ConvGeometry, type KernelFunc, type PadAttr, type Pair, type Rounding, type Tensor, type Tensor4D, type Tf,
  addAll, asTensor, batchGroups, claimWeightView, geometry, im2colRows, nchwShapeToNhwc, rowBlocks, spread, toNchw, toNhwc, wasmHeap, type WasmHeap,
} from './common.js';

/** Output rows (taps × input channels) from which the filter gradient uses the swapped-roles convolution. */
const SWAPPED_CONV_MIN_ROWS = 32;

interface ConvAttrs {
  strides: number | Pair; pad: PadAttr; dataFormat?: 'NHWC' | 'NCHW'; dimRoundingMode?: Rounding; dilations?: number | Pair;
}

export function conv2DBackpropFilter(tf: Tf): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
    const heap = wasmHeap(backend);
    return tf.tidy(() => {
      let x = asTensor(tf, inputs.x!) as Tensor4D;
      let dy = asTensor(tf, inputs.dy!) as Tensor4D;
      if (a.dataFormat === 'NCHW') {
        x = toNhwc(tf, x);
        dy = toNhwc(tf, dy);
      }
      const g = geometry(tf, x.shape, a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, false);
      return filterGrad(tf, heap, x, dy, g, a.filterShape[3]);
    });
  };
}

/** The input rows/cols the convolution reads, exactly: [N, (OH−1)·sh+(KH−1)·dh+1, (OW−1)·sw+(KW−1)·dw+1, C]. */
export function receptiveRegion(tf: Tf, heap: WasmHeap, x: Tensor4D, g: ConvGeometry): Tensor4D {
  const hr = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const wr = (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
  const bottom = hr - g.top - g.h;
  const right = wr - g.left - g.w;
  if (g.top === 0 && g.left === 0 && bottom === 0 && right === 0) return x;
  if (g.top >= 0 && g.left >= 0 && bottom >= 0 && right >= 0) return tf.pad(x, [[0, 0], [g.top, bottom], [g.left, right], [0, 0]]);
  return spread(tf, heap, x, 1, 1, g.top, g.left, hr, wr);
}

function filterGrad(tf: Tf, heap: WasmHeap, x: Tensor4D, dy: Tensor4D, g: ConvGeometry, cOut: number): Tensor4D {
  const rows = g.kh * g.kw * g.cIn;
  const groups = batchGroups(g.n, g.oh * g.ow);
  const ng = g.n / groups;
  // tfjs convolutions take strides > 1 or dilations > 1, not both
  const swappedOk = (g.sh === 1 && g.sw === 1) || (g.dh === 1 && g.dw === 1);
  if (rows >= SWAPPED_CONV_MIN_ROWS && swappedOk) {
    const xr = receptiveRegion(tf, heap, x, g);
    const [, hr, wr] = xr.shape;
    const xt = tf.transpose(tf.reshape(xr, [groups, ng, hr, wr, g.cIn]), [0, 4, 2, 3, 1]); // [G, Ci, Hr, Wr, ng]
    const dyt = tf.transpose(tf.reshape(dy, [groups, ng, g.oh, g.ow, cOut]), [0, 2, 3, 1, 4]); // [G, OH, OW, ng, Co]
    const xs = groups === 1 ? [tf.reshape(xt, [g.cIn, hr, wr, ng])] : rowBlocks(tf, heap, xt, groups, [g.cIn, hr, wr, ng]);
    const fs = groups === 1 ? [tf.reshape(dyt, [g.oh, g.ow, ng, cOut])] : rowBlocks(tf, heap, dyt, groups, [g.oh, g.ow, ng, cOut]);
    const parts = xs.map((xk, k) => tf.conv2d(xk as Tensor4D, fs[k] as Tensor4D, [g.dh, g.dw], 'valid', 'NHWC', [g.sh, g.sw]));
    return tf.transpose(addAll(tf, parts) as Tensor4D, [1, 2, 0, 3]);
  }
  const mg = ng * g.oh * g.ow;
  const ps = im2colRows(tf, heap, x, g, groups);
  let dys: Tensor[];
  if (groups > 1) dys = rowBlocks(tf, heap, dy, groups, [mg, cOut]);
  else dys = [tf.reshape(claimWeightView(dy, mg, cOut) ? dy : tf.clone(dy), [mg, cOut])];
  return tf.reshape(addAll(tf, ps.map((p, k) => tf.matMul(p, dys[k]!))), [g.kh, g.kw, g.cIn, cOut]);
}

/**
 * dy made ready for the stride-1 convolution that gives the input gradient: upsampled by the
 * stride and padded (or cropped) to [N, H + (KH−1)·dh, W + (KW−1)·dw, C].
 */
export function inputGradOperand(tf: Tf, heap: WasmHeap, dy: Tensor4D, g: ConvGeometry): Tensor4D {
  const top = (g.kh - 1) * g.dh - g.top;
  const left = (g.kw - 1) * g.dw - g.left;
  const height = g.h + (g.kh - 1) * g.dh;
  const width = g.w + (g.kw - 1) * g.dw;
  const bottom = height - top - ((g.oh - 1) * g.sh + 1);
  const right = width - left - ((g.ow - 1) * g.sw + 1);
  if (g.sh === 1 && g.sw === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0) {
    return top + bottom + left + right === 0 ? dy : tf.pad(dy, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  }
  return spread(tf, heap, dy, g.sh, g.sw, top, left, height, width);
}

export function conv2DBackpropInput(tf: Tf): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    const heap = wasmHeap(backend);
    return tf.tidy(() => {
      let dy = asTensor(tf, inputs.dy!) as Tensor4D;
      const w = asTensor(tf, inputs.filter!) as Tensor4D; // [KH, KW, Ci, Co]
      const nchw = a.dataFormat === 'NCHW';
      if (nchw) dy = toNhwc(tf, dy);
      const g = geometry(tf, nchw ? nchwShapeToNhwc(a.inputShape) : a.inputShape, w.shape, a.strides, a.dilations, a.pad, a.dimRoundingMode, false);
      const wr = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as Tensor4D; // [KH, KW, Co, Ci]
      const dx = tf.conv2d(inputGradOperand(tf, heap, dy, g), wr, 1, 'valid', 'NHWC', [g.dh, g.dw]);
      return nchw ? toNchw(tf, dx) : dx;
    });
  };
}
