/**
 * Normalization kernels: BatchNormalization (inference: moving statistics folded into one
 * scale and shift; training: batch statistics and moving-average updates), LayerNormalization,
 * InstanceNormalization, LRN.
 */
import { axisOf, float, int } from '../kutil.js';
import type { CompileCtx, Kernel, OpTable, RunCtx, TfTensor, Val } from '../types.js';

/** Per-channel vector reshaped to broadcast against x (channel axis 1, or last for NHWC / rank ≤ 2). */
function perChannel(rt: RunCtx, v: TfTensor, rank: number, channelsLast: boolean): TfTensor {
  if (channelsLast || rank <= 2) return v;
  return rt.tf.reshape(v, [v.shape[0]!, ...new Array<number>(rank - 2).fill(1)]);
}

/**
 * BatchNormalization on batch statistics (channel = last axis): normalises with the biased batch
 * variance and records the new moving mean / variance (momentum as Keras and ONNX define it:
 * moving = moving × momentum + batch × (1 − momentum)). The variance recorded is the unbiased
 * one for inputs of rank > 2, as TensorFlow's fused kernel (used by Keras for conv features)
 * and PyTorch do, and the biased one for rank 2, as Keras' plain kernel does.
 */
function batchNormTrain(rt: RunCtx, x: TfTensor, ins: Array<Val | undefined>, names: string[], eps: number, momentum: number): TfTensor {
  const tf = rt.tf;
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), rt.t(ins[1]!)), rt.t(ins[2]!));
  const count = x.size / (x.shape[x.rank - 1] ?? 1);
  const recorded = x.rank > 2 && count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
  rt.setState(names[3]!, tf.add(tf.mul(rt.t(ins[3]!), momentum), tf.mul(mean, 1 - momentum)));
  rt.setState(names[4]!, tf.add(tf.mul(rt.t(ins[4]!), momentum), tf.mul(recorded, 1 - momentum)));
  return y;
}

function batchNorm(c: CompileCtx): Kernel {
  const n = c.node;
  const eps = float(n, 'epsilon', 1e-5);
  const momentum = n.attrs.momentum ? float(n, 'momentum', 0.99) : 0.99;
  const nhwc = n.layout === 'NHWC';
  if (c.mode === 'train') {
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        const x = rt.t(ins[0]!);
        if (nhwc || x.rank <= 2) return [batchNormTrain(rt, x, ins, n.inputs, eps, momentum)];
        const r = x.rank;
        const toLast = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
        const toFirst = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
        return [tf.transpose(batchNormTrain(rt, tf.transpose(x, toLast), ins, n.inputs, eps, momentum), toFirst)];
      },
    };
  }
  return {
    derive: [
      { from: [1, 4], fn: (v, rt) => rt.tf.div(rt.t(v[1]!), rt.tf.sqrt(rt.tf.add(rt.t(v[4]!), eps))) },
      {
        from: [1, 2, 3, 4],
        fn: (v, rt) => {
          const tf = rt.tf;
          const s = tf.div(rt.t(v[1]!), tf.sqrt(tf.add(rt.t(v[4]!), eps)));
          return tf.sub(rt.t(v[2]!), tf.mul(rt.t(v[3]!), s));
        },
      },
    ],
    run: (ins, rt, d) => {
      const x = rt.t(ins[0]!);
      const s = perChannel(rt, d[0] as TfTensor, x.rank, nhwc);
      const b = perChannel(rt, d[1] as TfTensor, x.rank, nhwc);
      return [rt.tf.add(rt.tf.mul(x, s), b)];
    },
  };
}

function layerNorm(c: CompileCtx): Kernel {
  const n = c.node;
  const eps = float(n, 'epsilon', 1e-5);
  const axis0 = int(n, 'axis', -1);
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      const x = rt.t(ins[0]!);
      const a = axisOf(axis0, x.rank);
      const axes = Array.from({ length: x.rank - a }, (_, i) => a + i);
      const { mean, variance } = tf.moments(x, axes, true);
      const inv = tf.rsqrt(tf.add(variance, eps));
      let y = tf.mul(tf.sub(x, mean), inv);
      if (ins[1]) y = tf.mul(y, rt.t(ins[1]));
      if (ins[2]) y = tf.add(y, rt.t(ins[2]));
      return [y, n.outputs[1] ? mean : undefined, n.outputs[2] ? inv : undefined];
    },
  };
}

function instanceNorm(c: CompileCtx): Kernel {
  const n = c.node;
  const eps = float(n, 'epsilon', 1e-5);
  const nhwc = n.layout === 'NHWC';
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      const x = rt.t(ins[0]!);
      const axes = nhwc ? Array.from({ length: x.rank - 2 }, (_, i) => i + 1) : Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
      const { mean, variance } = tf.moments(x, axes, true);
      const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
      return [tf.add(tf.mul(y, perChannel(rt, rt.t(ins[1]!), x.rank, nhwc)), perChannel(rt, rt.t(ins[2]!), x.rank, nhwc))];
    },
  };
}

function lrn(c: CompileCtx): Kernel {
  const n = c.node;
  const size = int(n, 'size', 0);
  if (size % 2 === 0) c.fail(`LRN with an even size (${size}) is not supported`);
  const alpha = float(n, 'alpha', 1e-4);
  const beta = float(n, 'beta', 0.75);
  const bias = float(n, 'bias', 1);
  const nhwc = n.layout === 'NHWC';
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      const x = rt.t(ins[0]!);
      if (x.rank !== 4) throw new Error(`LRN needs a 4-D input, got rank ${x.rank}`);
      const f = (t: TfTensor): TfTensor => tf.localResponseNormalization(t as never, (size - 1) / 2, bias, alpha / size, beta);
      return [nhwc ? f(x) : tf.transpose(f(tf.transpose(x, [0, 2, 3, 1])), [0, 3, 1, 2])];
    },
  };
}

export const NORM_KERNELS: OpTable = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  InstanceNormalization: instanceNorm,
  LRN: lrn,
};
