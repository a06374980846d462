/**
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput for the wasm backend
 * (filter [KH, KW, C, m], output channel c·m + k).
 *
 * Input gradient: a depthwise convolution of dy (prepared as for a plain convolution: upsampled
 * by the stride, padded) with the filter rotated by 180° over the C·m channels, then the m
 * outputs of each input channel summed.
 * Filter gradient, per kernel tap: the tap's input samples (a JS copy, [N·OH·OW, C, 1]) times dy
 * ([N·OH·OW, C, m]), summed over the leading axis (the fast, chunked reduction of reduce.ts).
 */
import {
  type KernelFunc, type PadAttr, type Pair, type Rounding, type Tensor, type Tensor4D, type Tf,
  asTensor, geometry, jsTensors, wasmHeap,
} from './common.js';
import { inputGradOperand } from './conv.js';

interface DepthwiseAttrs {
  strides: number | Pair; pad: PadAttr; dilations?: number | Pair; dimRoundingMode?: Rounding;
}

export function depthwiseBackpropInput(tf: Tf): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] };
    const heap = wasmHeap(backend);
    return tf.tidy(() => {
      const dy = asTensor(tf, inputs.dy!) as Tensor4D; // [N, OH, OW, C·m]
      const w = asTensor(tf, inputs.filter!) as Tensor4D; // [KH, KW, C, m]
      const [kh, kw, c, mult] = w.shape;
      const g = geometry(tf, a.inputShape, w.shape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
      const wr = tf.reshape(tf.reverse(w, [0, 1]), [kh, kw, c * mult, 1]) as Tensor4D;
      const dx = tf.depthwiseConv2d(inputGradOperand(tf, heap, dy, g), wr, 1, 'valid', 'NHWC', [g.dh, g.dw]); // [N, H, W, C·m]
      if (mult === 1) return dx;
      const [n, h, wd] = dx.shape;
      return tf.sum(tf.reshape(dx, [n, h, wd, c, mult]), 4);
    });
  };
}

export function depthwiseBackpropFilter(tf: Tf): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] };
    const heap = wasmHeap(backend);
    return tf.tidy(() => {
      const x = asTensor(tf, inputs.x!) as Tensor4D; // [N, H, W, C]
      const dy = asTensor(tf, inputs.dy!) as Tensor4D; // [N, OH, OW, C·m]
      const [kh, kw, c, mult] = a.filterShape;
      const g = geometry(tf, x.shape, a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
      const m = g.n * g.oh * g.ow;
      const dy3 = tf.reshape(dy, [m, c, mult]);
      const taps: Tensor[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          taps.push(tf.tidy(() => {
            const [tap] = jsTensors(tf, heap, [[m, c, 1]], [x], ([o], [xv]) => {
              const woff = j * g.dw - g.left;
              const q0 = Math.min(g.ow, Math.max(0, Math.ceil(-woff / g.sw)));
              const q1 = Math.max(q0, Math.min(g.ow, Math.floor((g.w - 1 - woff) / g.sw) + 1));
              o!.fill(0);
              for (let b = 0; b < g.n; b++) {
                for (let r = 0; r < g.oh; r++) {
                  const y = r * g.sh + i * g.dh - g.top;
                  if (y < 0 || y >= g.h) continue;
                  const src = ((b * g.h + y) * g.w + woff) * c;
                  const dst = ((b * g.oh + r) * g.ow) * c;
                  if (g.sw === 1) o!.set(xv!.subarray(src + q0 * c, src + q1 * c), dst + q0 * c);
                  else for (let q = q0; q < q1; q++) o!.set(xv!.subarray(src + q * g.sw * c, src + (q * g.sw + 1) * c), dst + q * c);
                }
              }
            });
            return tf.sum(tf.mul(tap!, dy3), 0); // [C, m]
          }));
        }
      }
      return tf.reshape(tf.stack(taps), [kh, kw, c, mult]);
    });
  };
}
