/**
 * BatchMatMul for the wasm backend: the native kernel runs XNNPACK only for untransposed single
 * matrices and a scalar loop otherwise — the case of both matmul gradients (dy·Bᵀ, Aᵀ·dy), ~6×
 * slower. Transpose the operand explicitly (C++) and call the native kernel; give a right operand
 * a fresh copy when XNNPACK's weight cache holds it under another 2-D view (common.ts).
 */
import { type KernelConfig, type KernelFunc, type Pair, type TensorInfo, type Tf, asTensor, claimWeightView } from './common.js';

export function batchMatMul(tf: Tf, native: KernelConfig | undefined): KernelFunc | undefined {
  if (!native) return undefined;
  const run = native.kernelFunc;
  return (args) => {
    const { inputs, attrs, backend } = args;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const a = inputs.a!;
    const b = inputs.b!;
    const single = (t: TensorInfo) => t.shape.slice(0, -2).every((d) => d === 1);
    if (!single(a) || !single(b) || a.dtype !== 'float32' || b.dtype !== 'float32') return run(args);
    const [bk, bn] = transposeB ? [b.shape[b.shape.length - 1]!, b.shape[b.shape.length - 2]!] : (b.shape.slice(-2) as Pair);
    if (!transposeB && !claimWeightView(b, bk, bn)) {
      return tf.tidy(() => tf.matMul(asTensor(tf, a), tf.clone(asTensor(tf, b)), transposeA, false));
    }
    if (!transposeA && !transposeB) return run(args);
    return tf.tidy(() => {
      const flip = (t: TensorInfo, yes: boolean) => {
        const m = tf.reshape(asTensor(tf, t), t.shape.slice(-2));
        return yes ? tf.transpose(m) : m;
      };
      const r = run({ inputs: { a: flip(a, transposeA), b: flip(b, transposeB) }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as TensorInfo;
      const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), ...r.shape.slice(-2)];
      return tf.reshape(tf.engine().makeTensorFromTensorInfo(r), outShape);
    });
  };
}
