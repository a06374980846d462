/**
 * Convolution and pooling kernels. tfjs convolves NHWC with filters [kh, kw, in, out]
 * (depthwise: [kh, kw, in, multiplier]); the IR keeps ONNX weights [out, in/group, kh, kw]
 * whatever the data layout, so the filter is a derived value (computed once per weight version).
 * 1-D convolutions and pools run as 2-D ones with a height of 1.
 *
 * `FusedConv` (domain mlopt.exec, made by the executor's fusion pass) is Conv + optional
 * BatchNormalization (inference: folded into filter and bias) + optional activation.
 */
import type { Layout } from '../../../ir/graph.js';
import { type Act, applyAct, float, int, ints, str } from '../kutil.js';
import type { CompileCtx, Kernel, OpTable, RunCtx, Tf, TfTensor, Val } from '../types.js';

type Pad2 = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

interface Spatial {
  kernel?: number[];
  strides: [number, number];
  dilations: [number, number];
  /** ONNX pads [h_begin, w_begin, h_end, w_end] (2-D form) */
  pads: [number, number, number, number];
  autoPad: string;
  ceil: boolean;
  oneD: boolean;
}

function spatialAttrs(c: CompileCtx, rank: number | undefined): Spatial {
  const n = c.node;
  const k = ints(n, 'kernel_shape');
  const dims = k?.length ?? (rank !== undefined ? rank - 2 : 2);
  if (dims !== 1 && dims !== 2) c.fail(`${dims}-D ${n.op} is not supported (1-D and 2-D only)`);
  const oneD = dims === 1;
  const two = (v: number[] | undefined, d: number): [number, number] => (oneD ? [1, v?.[0] ?? d] : [v?.[0] ?? d, v?.[1] ?? d]);
  const p = ints(n, 'pads');
  const pads: [number, number, number, number] = oneD ? [0, p?.[0] ?? 0, 0, p?.[1] ?? 0] : [p?.[0] ?? 0, p?.[1] ?? 0, p?.[2] ?? 0, p?.[3] ?? 0];
  return {
    ...(k ? { kernel: oneD ? [1, k[0]!] : k } : {}),
    strides: two(ints(n, 'strides'), 1),
    dilations: two(ints(n, 'dilations'), 1),
    pads,
    autoPad: str(n, 'auto_pad', 'NOTSET'),
    ceil: int(n, 'ceil_mode', 0) === 1,
    oneD,
  };
}

/** tfjs padding for an NHWC input of spatial size [h, w] (kernel already dilated). */
function padding(s: Spatial, h: number, w: number, kh: number, kw: number): Pad2 {
  const eh = (kh - 1) * s.dilations[0] + 1;
  const ew = (kw - 1) * s.dilations[1] + 1;
  if (s.autoPad === 'VALID') return 'valid';
  if (s.autoPad === 'SAME_UPPER' || s.autoPad === 'SAME_LOWER') {
    const ph = Math.max(0, (Math.ceil(h / s.strides[0]) - 1) * s.strides[0] + eh - h);
    const pw = Math.max(0, (Math.ceil(w / s.strides[1]) - 1) * s.strides[1] + ew - w);
    const lo = s.autoPad === 'SAME_LOWER';
    const split = (p: number): [number, number] => (lo ? [Math.ceil(p / 2), Math.floor(p / 2)] : [Math.floor(p / 2), Math.ceil(p / 2)]);
    return [[0, 0], split(ph), split(pw), [0, 0]];
  }
  let [t, l, b, r] = s.pads;
  if (s.ceil) {
    // ceil_mode: extend the end padding so that the floor formula yields the ceil size
    const extra = (size: number, lo: number, hi: number, k: number, st: number): number => {
      const span = size + lo + hi - k;
      let out = Math.ceil(span / st) + 1;
      if ((out - 1) * st >= size + lo) out--; // the last window must start inside the input or the begin padding
      return Math.max(0, (out - 1) * st + k - (size + lo + hi));
    };
    b += extra(h, t, b, eh, s.strides[0]);
    r += extra(w, l, r, ew, s.strides[1]);
  }
  if (t === 0 && l === 0 && b === 0 && r === 0) return 'valid';
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

/** x to NHWC 4-D (transposed for NCHW, unsqueezed for 1-D); `back` undoes it. */
function toNhwc4(tf: Tf, x: TfTensor, layout: Layout | undefined, oneD: boolean): { x4: TfTensor; back: (y: TfTensor) => TfTensor } {
  const nchw = layout !== 'NHWC';
  if (oneD) {
    // NCW → NWC → N1WC ; NWC → N1WC
    const nwc = nchw ? tf.transpose(x, [0, 2, 1]) : x;
    const x4 = tf.expandDims(nwc, 1);
    return { x4, back: (y) => (nchw ? tf.transpose(tf.squeeze(y, [1]), [0, 2, 1]) : tf.squeeze(y, [1])) };
  }
  if (!nchw) return { x4: x, back: (y) => y };
  return { x4: tf.transpose(x, [0, 2, 3, 1]), back: (y) => tf.transpose(y, [0, 3, 1, 2]) };
}


/** A [kh, kw, a, b] filter with d − 1 zeros between taps: [(kh − 1)·dh + 1, (kw − 1)·dw + 1, a, b]. */
function dilate(tf: Tf, f: TfTensor, [dh, dw]: [number, number]): TfTensor {
  const [kh, kw, a, b] = f.shape as [number, number, number, number];
  let t = f;
  if (dh > 1) {
    t = tf.pad(tf.reshape(t, [kh, 1, kw * a * b]), [[0, 0], [0, dh - 1], [0, 0]]);
    t = tf.slice(tf.reshape(t, [kh * dh, kw, a, b]), [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, a, b]);
  }
  const h = t.shape[0]!;
  if (dw > 1) {
    t = tf.pad(tf.reshape(t, [h * kw, 1, a * b]), [[0, 0], [0, dw - 1], [0, 0]]);
    t = tf.slice(tf.reshape(t, [h, kw * dw, a, b]), [0, 0, 0, 0], [h, (kw - 1) * dw + 1, a, b]);
  }
  return t;
}

/** Conv and FusedConv (Conv + inference BatchNormalization folded in + activation). */
function conv(c: CompileCtx): Kernel {
  const n = c.node;
  const fused = n.op === 'FusedConv';
  const wShape = c.inputs[1]?.shape;
  const rank = c.inputs[0]?.shape?.length ?? (wShape ? wShape.length : undefined);
  if (rank !== undefined && rank !== 3 && rank !== 4) c.fail(`${rank - 2}-D convolution is not supported (1-D and 2-D only)`);
  const s = spatialAttrs(c, rank);
  const group = int(n, 'group', 1);
  const act = (fused ? str(n, 'activation', 'linear') : 'linear') as Act;
  const alpha = fused ? float(n, 'alpha', 0.2) : 0;
  const bn = fused && int(n, 'has_bn', 0) === 1;
  if (bn && c.mode === 'train') c.fail('a BatchNormalization folded into a convolution cannot train');
  const eps = bn ? float(n, 'epsilon', 1e-5) : 0;
  const hasBias = !!n.inputs[2];
  const isDepthwise = (w: TfTensor): boolean => group > 1 && w.shape[1] === 1;
  // tfjs has no gradient for dilated convolutions: training convolves with the filter dilated
  // explicitly (zeros between taps), which is exact and differentiable
  const dilateFilter = c.mode === 'train' && (s.dilations[0] > 1 || s.dilations[1] > 1);
  const sr: Spatial = dilateFilter ? { ...s, dilations: [1, 1] } : s;

  /** filter in tfjs layout: [kh, kw, I/g, O], or [kh, kw, C, multiplier] for depthwise */
  const filterOf = (tf: Tf, w: TfTensor): TfTensor => {
    const w4 = s.oneD ? tf.expandDims(w, 2) : w; // [O, I/g, kh, kw]
    if (isDepthwise(w)) {
      const t = tf.transpose(w4, [2, 3, 0, 1]); // [kh, kw, O, 1]
      return tf.reshape(t, [t.shape[0]!, t.shape[1]!, group, w.shape[0]! / group]);
    }
    return tf.transpose(w4, [2, 3, 1, 0]);
  };
  /** BN per output channel: scale = gamma / sqrt(var + eps), shift = beta - mean * scale */
  const bnFold = (tf: Tf, v: Array<Val | undefined>, rt: RunCtx): [TfTensor, TfTensor] => {
    const sc = tf.div(rt.t(v[3]!), tf.sqrt(tf.add(rt.t(v[6]!), eps)));
    return [sc, tf.sub(rt.t(v[4]!), tf.mul(rt.t(v[5]!), sc))];
  };
  const derive: NonNullable<Kernel['derive']> = [
    {
      from: bn ? [1, 3, 4, 5, 6] : [1],
      fn: (v, rt) => {
        const tf = rt.tf;
        const f0 = filterOf(tf, rt.t(v[1]!));
        const f = dilateFilter ? dilate(tf, f0, s.dilations) : f0;
        if (!bn) return f;
        const [sc] = bnFold(tf, v, rt);
        return tf.mul(f, isDepthwise(rt.t(v[1]!)) ? tf.reshape(sc, [f.shape[2]!, f.shape[3]!]) : sc);
      },
    },
  ];
  if (bn) {
    derive.push({
      from: [...(hasBias ? [2] : []), 3, 4, 5, 6],
      fn: (v, rt) => {
        const [sc, shift] = bnFold(rt.tf, v, rt);
        return hasBias ? rt.tf.add(rt.tf.mul(rt.t(v[2]!), sc), shift) : shift;
      },
    });
  }
  return {
    derive,
    run: (ins, rt, d) => {
      const tf = rt.tf;
      const { x4, back } = toNhwc4(tf, rt.t(ins[0]!), n.layout, s.oneD);
      const f = d[0] as TfTensor;
      const bias = bn ? (d[1] as TfTensor) : hasBias ? rt.t(ins[2]!) : undefined;
      const pad = padding(sr, x4.shape[1]!, x4.shape[2]!, f.shape[0]!, f.shape[1]!);
      let y: TfTensor;
      if (group === 1 || isDepthwise(rt.t(ins[1]!))) {
        const args = { x: x4 as never, filter: f as never, strides: s.strides, pad: padExplicit(pad), dilations: sr.dilations, bias, activation: act, leakyreluAlpha: alpha };
        y = group === 1 ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args);
      } else {
        const xs = tf.split(x4, group, 3);
        const fs = tf.split(f, group, 3);
        y = tf.concat(xs.map((xg, g) => tf.conv2d(xg as never, fs[g] as never, s.strides, padExplicit(pad), 'NHWC', sr.dilations)), 3);
        if (bias) y = tf.add(y, bias);
        y = applyAct(tf, y, act, alpha);
      }
      return [back(y)];
    },
  };
}

function convTranspose(c: CompileCtx): Kernel {
  const n = c.node;
  const rank = c.inputs[0]?.shape?.length;
  const s = spatialAttrs(c, rank);
  const group = int(n, 'group', 1);
  if (s.dilations.some((d) => d !== 1)) c.fail('dilated ConvTranspose is not supported');
  const outPad = ints(n, 'output_padding') ?? [];
  const outShape = ints(n, 'output_shape');
  const opad: [number, number] = s.oneD ? [0, outPad[0] ?? 0] : [outPad[0] ?? 0, outPad[1] ?? 0];
  return {
    derive: [
      {
        from: [1],
        fn: (v, rt) => {
          const tf = rt.tf;
          const w = rt.t(v[1]!);
          const w4 = s.oneD ? tf.expandDims(w, 2) : w; // [Cin, Cout/g, kh, kw]
          return tf.transpose(w4, [2, 3, 1, 0]); // [kh, kw, Cout/g, Cin]
        },
      },
    ],
    run: (ins, rt, d) => {
      const tf = rt.tf;
      const { x4, back } = toNhwc4(tf, rt.t(ins[0]!), n.layout, s.oneD);
      const f = d[0] as TfTensor;
      const [kh, kw, cog] = f.shape as [number, number, number, number];
      const [N, H, W] = x4.shape as number[];
      const total = (i: 0 | 1, size: number, k: number): number => s.strides[i] * (size - 1) + opad[i] + k;
      let pads = s.pads;
      let oh: number;
      let ow: number;
      // an output shape (given, or SAME's input × stride) fixes the total padding; ONNX puts the
      // odd pixel at the end for SAME_UPPER, at the start for NOTSET and SAME_LOWER
      const same = s.autoPad === 'SAME_UPPER' || s.autoPad === 'SAME_LOWER';
      if (outShape || same) {
        [oh, ow] = outShape ? (s.oneD ? [1, outShape[0]!] : [outShape[0]!, outShape[1]!]) : [H! * s.strides[0], W! * s.strides[1]];
        const th = total(0, H!, kh) - oh;
        const tw = total(1, W!, kw) - ow;
        const up = s.autoPad === 'SAME_UPPER';
        pads = [up ? Math.floor(th / 2) : Math.ceil(th / 2), up ? Math.floor(tw / 2) : Math.ceil(tw / 2), 0, 0];
        pads[2] = th - pads[0];
        pads[3] = tw - pads[1];
      } else {
        if (s.autoPad === 'VALID') pads = [0, 0, 0, 0];
        oh = total(0, H!, kh) - pads[0] - pads[2];
        ow = total(1, W!, kw) - pads[1] - pads[3];
      }
      // tfjs computes the transposed conv as the input gradient of a conv whose input is the
      // output; only the begin padding enters the values, the end padding just has to make that
      // conv's output size come out as x's: any value in [end − output_padding, … + stride − 1]
      const pad: Pad2 = [[0, 0], [pads[0], pads[2] - opad[0] + s.strides[0] - 1], [pads[1], pads[3] - opad[1] + s.strides[1] - 1], [0, 0]];
      const xs = group === 1 ? [x4] : tf.split(x4, group, 3);
      const fs = group === 1 ? [f] : tf.split(f, group, 3);
      const parts = xs.map((xg, g) => tf.conv2dTranspose(xg as never, fs[g] as never, [N!, oh, ow, cog], s.strides, padExplicit(pad)));
      let y = group === 1 ? parts[0]! : tf.concat(parts, 3);
      if (n.inputs[2]) y = tf.add(y, rt.t(ins[2]!));
      return [back(y)];
    },
  };
}

function padExplicit(p: Pad2): never {
  return p as never;
}

/** MaxPool / AveragePool / LpPool-free pooling. */
function pool(kind: 'max' | 'avg'): (c: CompileCtx) => Kernel {
  return (c) => {
    const n = c.node;
    const s = spatialAttrs(c, c.inputs[0]?.shape?.length);
    if (!s.kernel) c.fail('kernel_shape is missing');
    if (s.dilations.some((d) => d !== 1)) c.fail('dilated pooling is not supported');
    if (n.outputs[1]) c.fail('the Indices output is not supported');
    const includePad = kind === 'avg' && int(n, 'count_include_pad', 0) === 1;
    const [kh, kw] = s.kernel as [number, number];
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        const { x4, back } = toNhwc4(tf, rt.t(ins[0]!), n.layout, s.oneD);
        let x = x4;
        let pad = padding(s, x.shape[1]!, x.shape[2]!, kh, kw);
        if (includePad && pad !== 'valid') {
          const p = pad === 'same' ? (padding({ ...s, autoPad: 'SAME_UPPER' }, x.shape[1]!, x.shape[2]!, kh, kw) as Exclude<Pad2, string>) : pad;
          if (s.ceil) {
            // the ceil-mode extension is not padding: windows there average real elements only
            const base = padding({ ...s, ceil: false }, x.shape[1]!, x.shape[2]!, kh, kw);
            const b = base === 'valid' || base === 'same' ? [[0, 0], [0, 0], [0, 0], [0, 0]] : base;
            x = tf.pad(x, b as never);
            const extraH = p[1][1] - b[1]![1];
            const extraW = p[2][1] - b[2]![1];
            pad = [[0, 0], [0, extraH], [0, extraW], [0, 0]];
            if (!extraH && !extraW) pad = 'valid';
          } else {
            x = tf.pad(x, p as never);
            pad = 'valid';
          }
        }
        const y = kind === 'max' ? tf.maxPool(x as never, [kh, kw], s.strides, padExplicit(pad)) : tf.avgPool(x as never, [kh, kw], s.strides, padExplicit(pad));
        return [back(y)];
      },
    };
  };
}

function globalPool(kind: 'max' | 'avg'): (c: CompileCtx) => Kernel {
  return (c) => {
    const nhwc = c.node.layout === 'NHWC';
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const axes = nhwc ? Array.from({ length: x.rank - 2 }, (_, i) => i + 1) : Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
        return [kind === 'max' ? rt.tf.max(x, axes, true) : rt.tf.mean(x, axes, true)];
      },
    };
  };
}

export const CONV_KERNELS: OpTable = {
  Conv: conv,
  'mlopt.exec:FusedConv': conv,
  ConvTranspose: convTranspose,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
};
