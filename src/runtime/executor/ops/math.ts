/**
 * Matrix products and the softmax family: MatMul (numpy semantics), Gemm, FusedMatMul (an
 * executor-internal MatMul/Gemm + bias + activation), Softmax, LogSoftmax, Hardmax, Einsum.
 */
import { type Act, applyAct, axisOf, float, int, str } from '../kutil.js';
import type { CompileCtx, Kernel, OpTable, RunCtx, Tf, TfTensor } from '../types.js';


function matmul(tf: Tf, a: TfTensor, b: TfTensor): TfTensor {
  let squeeze: number[] = [];
  if (a.rank === 1) {
    a = tf.expandDims(a, 0);
    squeeze = [-2];
  }
  if (b.rank === 1) {
    b = tf.expandDims(b, 1);
    squeeze = [...squeeze, -1];
  }
  let y: TfTensor;
  if (b.rank === 2 && a.rank > 2) {
    // [..., K] x [K, N]: one 2-D product
    const lead = a.shape.slice(0, -1);
    y = tf.reshape(tf.matMul(tf.reshape(a, [-1, a.shape[a.rank - 1]!]), b), [...lead, b.shape[1]!]);
  } else {
    y = tf.matMul(a, b);
  }
  if (squeeze.length) y = tf.squeeze(y, squeeze.map((s) => y.rank + s));
  return y;
}

function gemm(c: CompileCtx): Kernel {
  const n = c.node;
  const fused = n.op === 'FusedMatMul';
  const alpha = fused ? 1 : float(n, 'alpha', 1);
  const beta = fused ? 1 : float(n, 'beta', 1);
  const ta = int(n, 'transA', 0) === 1;
  const tb = int(n, 'transB', 0) === 1;
  const act = (fused ? str(n, 'activation', 'linear') : 'linear') as Act;
  const leak = fused ? float(n, 'leak', 0.2) : 0;
  // B is the weight: transposed once as a derived value (cached per weight version), which is
  // also what the wasm backend needs: its fused matMul gets transposeB wrong (tfjs 4.22)
  return {
    derive: [
      { from: [1], fn: (v, rt) => (tb ? rt.tf.transpose(rt.t(v[1]!)) : rt.t(v[1]!)) },
      {
        // a [1, N] bias as a real 1-D tensor: the wasm fused kernel checks the rank of the data
        // itself, which a reshape shares
        from: [2],
        fn: (v, rt) => {
          const c = v[2] ? rt.t(v[2]) : undefined;
          if (!c) return rt.tf.scalar(0);
          return c.rank > 1 && c.size === c.shape[c.rank - 1] ? rt.tf.add(rt.tf.reshape(c, [-1]), 0) : c;
        },
      },
    ],
    run: (ins, rt, d) => {
      const tf = rt.tf;
      const a0 = rt.t(ins[0]!);
      const a = ta ? tf.transpose(a0) : a0;
      const b = d[0] as TfTensor;
      const cc = ins[2] ? (d[1] as TfTensor) : undefined;
      if (alpha === 1 && (beta === 1 || !cc) && a.rank === 2 && b.rank === 2 && (!cc || cc.rank <= 1)) {
        return [tf.fused.matMul({ a: a as never, b: b as never, bias: cc, activation: act, leakyreluAlpha: leak })];
      }
      let y = tf.matMul(a, b);
      if (alpha !== 1) y = tf.mul(y, alpha);
      if (cc) y = tf.add(y, beta === 1 ? cc : tf.mul(cc, beta));
      return [act === 'linear' ? y : applyAct(tf, y, act, leak)];
    },
  };
}


function softmaxLike(kind: 'softmax' | 'log' | 'hard'): (c: CompileCtx) => Kernel {
  return (c) => {
    const legacy = c.opset < 13;
    const axis0 = int(c.node, 'axis', legacy ? 1 : -1);
    const f = (rt: RunCtx, x: TfTensor): TfTensor => {
      const tf = rt.tf;
      if (kind === 'softmax') return tf.softmax(x);
      if (kind === 'log') return tf.logSoftmax(x);
      return tf.cast(tf.oneHot(tf.argMax(x, -1), x.shape[x.rank - 1]!), 'float32');
    };
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        const x = rt.t(ins[0]!);
        const a = axisOf(axis0, x.rank);
        if (legacy && a !== x.rank - 1) {
          // opset < 13: the input is coerced to 2-D at `axis`
          const rows = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
          return [tf.reshape(f(rt, tf.reshape(x, [rows, -1])), x.shape)];
        }
        if (a === x.rank - 1) return [f(rt, x)];
        const perm = Array.from({ length: x.rank }, (_, i) => i);
        perm[a] = x.rank - 1;
        perm[x.rank - 1] = a;
        return [tf.transpose(f(rt, tf.transpose(x, perm)), perm)];
      },
    };
  };
}

export const MATH_KERNELS: OpTable = {
  MatMul: () => ({ run: (ins, rt) => [matmul(rt.tf, rt.t(ins[0]!), rt.t(ins[1]!))] }),
  Gemm: gemm,
  'mlopt.exec:FusedMatMul': gemm,
  Softmax: softmaxLike('softmax'),
  LogSoftmax: softmaxLike('log'),
  Hardmax: softmaxLike('hard'),
  Einsum: (c) => {
    const eq = str(c.node, 'equation', '');
    return { run: (ins, rt) => [rt.tf.einsum(eq, ...ins.map((v) => rt.t(v!)))] };
  },
  MatMulInteger: () => ({
    run: (ins, rt) => {
      // exact in float32 for the products of int8/uint8 values met in practice
      const tf = rt.tf;
      const a = ins[2] ? tf.sub(tf.cast(rt.t(ins[0]!), 'float32'), tf.cast(rt.t(ins[2]), 'float32')) : tf.cast(rt.t(ins[0]!), 'float32');
      const b0 = tf.cast(rt.t(ins[1]!), 'float32');
      let b = b0;
      if (ins[3]) {
        const zb = tf.cast(rt.t(ins[3]), 'float32');
        b = tf.sub(b0, zb.rank === 1 && zb.shape[0]! > 1 ? tf.reshape(zb, [1, -1]) : zb);
      }
      return [tf.cast(tf.round(matmul(tf, a, b)), 'int32')];
    },
  }),
};
