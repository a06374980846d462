/**
 * Sum and Mean over leading axes for the wasm backend (N,H,W of an NHWC activation: bias and
 * batch-norm gradients, batch statistics): XNNPACK average poolings of x viewed as [1, R, 1, C]
 * (× R for a sum), ~10× faster than the native kernels, which first transpose the reduced axes
 * innermost. The R rows are reduced in passes of at most REDUCE_CHUNK (mean of means): one
 * float32 sum over 64×28×28 values is ~5e-5 off, and a batch-norm gradient amplifies that to
 * ~1e-3; in passes it stays at the cpu backend's (float64-accumulating) level. Other reductions go
 * to the native kernel.
 */
import { type KernelConfig, type KernelFunc, type Tensor4D, type Tf, asTensor, size } from './common.js';

/** Most values one float32 average-pooling pass accumulates. */
const REDUCE_CHUNK = 1024;

/**
 * Factors of the product of `dims`, each ≤ REDUCE_CHUNK where possible, innermost dims first:
 * adjacent dims merged while small enough, a large dim split by a divisor near its square root.
 */
export function reductionLevels(dims: number[]): number[] {
  const levels: number[] = [];
  let acc = 1;
  const flush = () => {
    if (acc > 1) levels.push(acc);
    acc = 1;
  };
  for (const d0 of [...dims].reverse()) {
    let d = d0;
    while (d > REDUCE_CHUNK) {
      let f = Math.floor(Math.sqrt(d));
      while (f > 1 && d % f !== 0) f--;
      if (f <= 1 || f > REDUCE_CHUNK) break; // a large prime (or no usable divisor): one pass
      flush();
      levels.push(f);
      d /= f;
    }
    if (acc * d > REDUCE_CHUNK) flush();
    acc *= d;
  }
  flush();
  return levels;
}

export function leadingReduce(kind: 'sum' | 'mean') {
  return (tf: Tf, native: KernelConfig | undefined): KernelFunc | undefined => {
    if (!native) return undefined;
    const run = native.kernelFunc;
    return (args) => {
      const x = args.inputs.x!;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      if (x.dtype !== 'float32' || x.shape.length < 2) return run(args);
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
      const k = axes.length;
      if (k === 0 || k >= x.shape.length || axes.some((ax, i) => ax !== i)) return run(args);
      const rows = size(x.shape.slice(0, k));
      const cols = size(x.shape.slice(k));
      if (rows <= 1 || cols === 0) return run(args);
      return tf.tidy(() => {
        let r = tf.reshape(asTensor(tf, x), [1, rows, 1, cols]) as Tensor4D;
        for (const f of reductionLevels(x.shape.slice(0, k))) r = tf.avgPool(r, [f, 1], [f, 1], 'valid');
        const out = kind === 'sum' ? tf.mul(r, rows) : r;
        return tf.reshape(out, keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k));
      });
    };
  };
}
