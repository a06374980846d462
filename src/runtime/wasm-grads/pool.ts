/**
 * MaxPoolGrad for the wasm backend, in JS on the wasm heap: the gradient goes to the FIRST
 * maximum of each window (row-major scan, strict >, padding never selected), as on the cpu
 * backend. The native wasm kernel starts its scan at the smallest positive float and keeps the
 * last maximum: a window with no positive value passes no gradient at all, and ties differ.
 */
import { type KernelFunc, type PadAttr, type Pair, type Rounding, type Tf, jsTensors, wasmHeap } from './common.js';

export function maxPoolGrad(tf: Tf): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as { filterSize: number | Pair; strides: number | Pair; pad: PadAttr; dimRoundingMode?: Rounding };
    const x = inputs.input!;
    const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw,
      filterHeight: fh, filterWidth: fw } = info;
    const { top, left } = info.padInfo;
    const [dx] = jsTensors(tf, wasmHeap(backend), [x.shape], [x, inputs.dy!], ([out], [xv, dyv]) => {
      const d = out!;
      d.fill(0);
      const best = new Float32Array(c);
      const pos = new Int32Array(c);
      let o = 0;
      for (let b = 0; b < n; b++) {
        for (let r = 0; r < oh; r++) {
          const r0 = Math.max(0, r * sh - top);
          const r1 = Math.min(h, r * sh - top + fh);
          for (let q = 0; q < ow; q++, o += c) {
            const c0 = Math.max(0, q * sw - left);
            const c1 = Math.min(w, q * sw - left + fw);
            best.fill(-Infinity);
            pos.fill(-1);
            for (let xr = r0; xr < r1; xr++) {
              for (let xc = c0; xc < c1; xc++) {
                const base = ((b * h + xr) * w + xc) * c;
                for (let k = 0; k < c; k++) {
                  const v = xv![base + k]!;
                  if (v > best[k]!) {
                    best[k] = v;
                    pos[k] = base + k;
                  }
                }
              }
            }
            for (let k = 0; k < c; k++) {
              const p = pos[k]!;
              if (p >= 0) d[p] = d[p]! + dyv![o + k]!;
            }
          }
        }
      }
    });
    return dx!;
  };
}
