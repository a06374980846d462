/**
 * Convolution layers: Conv1D/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1D/2D/3DTranspose.
 * Keras data is channels-last: nodes get `layout: 'NHWC'` (any rank), kernels move to ONNX order.
 *
 *   Keras Conv       [k1..kn, in/g, out]   → ONNX [out, in/g, k1..kn]
 *   Keras Depthwise  [k1..kn, in, mult]    → ONNX [in*mult, 1, k1..kn] (group = in)
 *   Keras Transpose  [k1..kn, out, in]     → ONNX [in, out, k1..kn]
 */
import { transposeData } from '../../../data/npy.js';
import type { Tensor } from '../../../ir/tensor.js';
import { type LayerCall, type LayerHandler, type WeightMapping, int, ints, str, tuple } from '../context.js';

/** perm taking a Keras kernel [k1..kn, a, b] to [b, a, k1..kn] */
function kernelPerm(n: number): number[] {
  return [n + 1, n, ...Array.from({ length: n }, (_, i) => i)];
}

function inversePerm(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}

function permute(t: Tensor, perm: number[], shape?: number[]): Tensor {
  const data = transposeData(t.data as Float32Array, t.shape, perm);
  return { dtype: t.dtype, shape: shape ?? perm.map((p) => t.shape[p]!), data };
}

/** Keras [k.., a, b] ⇄ ONNX [b, a, k..] */
const kernelMapping = (n: number): WeightMapping => ({
  to: (t) => permute(t, kernelPerm(n)),
  back: (t) => permute(t, inversePerm(kernelPerm(n))),
});

/** Keras depthwise [k.., in, mult] ⇄ ONNX [in*mult, 1, k..] (`keras` is the Keras kernel shape) */
const depthwiseMapping = (keras: readonly number[]): WeightMapping => {
  const n = keras.length - 2;
  const [cin, mult] = [keras[n]!, keras[n + 1]!];
  // [k.., in, mult] → [in, mult, k..], viewed as [in*mult, 1, k..]
  const p = [n, n + 1, ...Array.from({ length: n }, (_, i) => i)];
  return {
    to: (t) => permute(t, p, [cin * mult, 1, ...keras.slice(0, n)]),
    back: (t) => permute({ ...t, shape: [cin, mult, ...t.shape.slice(2)] }, inversePerm(p)),
  };
};

interface ConvOptions {
  n: number;
  kernel: string;
  bias?: string;
  group: number;
  kernelShape: number[];
  transpose?: boolean;
  /** padding override ('valid' after an explicit causal Pad) */
  padding?: string;
}

function spatialOf(c: LayerCall): number {
  const k = c.weights[0];
  if (!k) return c.fail('has no kernel in the weights file', undefined, 'CORRUPT_MODEL');
  return k.shape.length - 2;
}

/** Conv / ConvTranspose node (channels-last), with the layer's strides, dilation and padding. */
function emitConv(c: LayerCall, x: string, y: string, o: ConvOptions): void {
  const { n } = o;
  const strides = tuple(c.config.strides, n, 1);
  const dil = tuple(c.config.dilation_rate, n, 1);
  const padding = o.padding ?? c.get('padding', 'valid');
  const attrs = { strides: ints(strides), dilations: ints(dil), kernel_shape: ints(o.kernelShape), group: int(o.group) };
  const ins = [x, o.kernel, ...(o.bias ? [o.bias] : [])];
  if (!o.transpose) {
    if (padding !== 'valid' && padding !== 'same') c.fail(`padding "${padding}" is not supported`);
    if (padding === 'same' && dil.some((d) => d > 1)) {
      // TF allows dilation only with stride 1, where 'same' pads (k-1)·d in total, the extra at
      // the end (onnxruntime rejects auto_pad with dilations)
      if (strides.some((s) => s > 1)) c.fail('dilation with strides > 1 is not supported');
      const total = o.kernelShape.map((k, i) => (k - 1) * dil[i]!);
      c.b.node('Conv', ins, [y], { ...attrs, pads: ints([...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))]) }, 'NHWC');
      return;
    }
    c.b.node('Conv', ins, [y], { ...attrs, auto_pad: str(padding === 'same' ? 'SAME_UPPER' : 'VALID') }, 'NHWC');
    return;
  }
  // Keras deconv output length: valid → (in-1)s + ek, at least in*s; same → in*s. Both are
  // explicit pads / output_padding, independent of the input size.
  const pads = Array<number>(2 * n).fill(0);
  const outPad: number[] = [];
  for (let i = 0; i < n; i++) {
    const ek = (o.kernelShape[i]! - 1) * dil[i]! + 1;
    const s = strides[i]!;
    const total = padding === 'same' ? ek - s : 0;
    const extra = padding === 'same' ? Math.max(-total, 0) : Math.max(s - ek, 0);
    const t = Math.max(total, 0);
    pads[i] = Math.floor(t / 2);
    pads[n + i] = t - Math.floor(t / 2);
    outPad.push(extra);
  }
  const op = c.config.output_padding as number[] | number | null | undefined;
  if (op !== undefined && op !== null) c.fail('output_padding is not supported');
  if (padding !== 'valid' && padding !== 'same') c.fail(`padding "${padding}" is not supported`);
  c.b.node('ConvTranspose', ins, [y], { ...attrs, pads: ints(pads), output_padding: ints(outPad) }, 'NHWC');
}

function useBias(c: LayerCall, index: number): boolean {
  return c.config.use_bias !== false && c.weights.length > index;
}

/** Keras 'causal' padding (Conv1D): pad the start of the time axis by (k-1)·d, then 'valid'. */
function causal(c: LayerCall, x: string, k: number): string {
  const d = tuple(c.config.dilation_rate, 1, 1)[0]!;
  const padded = c.out('/causal_pad');
  c.b.node('Pad', [x, c.b.i64('pads', [0, (k - 1) * d, 0, 0, 0, 0])], [padded]);
  return padded;
}

const conv: LayerHandler = {
  weighted: true,
  apply(c) {
    const n = spatialOf(c);
    const ks = c.weights[0]!.shape;
    const kernel = c.weight(0, 'kernel', kernelMapping(n));
    const bias = useBias(c, 1) ? c.weight(1, 'bias') : undefined;
    const group = c.get('groups', 1);
    let x = c.x;
    let padding: string | undefined;
    if (c.config.padding === 'causal') {
      if (n !== 1) c.fail('causal padding needs a 1-D convolution');
      x = causal(c, x, ks[0]!);
      padding = 'valid';
    }
    return c.withActivation((y) => emitConv(c, x, y, { n, kernel, ...(bias ? { bias } : {}), group, kernelShape: ks.slice(0, n), ...(padding ? { padding } : {}) }));
  },
};

const depthwise: LayerHandler = {
  weighted: true,
  apply(c) {
    const n = spatialOf(c);
    const ks = c.weights[0]!.shape;
    const kernel = c.weight(0, 'depthwise_kernel', depthwiseMapping(ks));
    const bias = useBias(c, 1) ? c.weight(1, 'bias') : undefined;
    let x = c.x;
    let padding: string | undefined;
    if (c.config.padding === 'causal') {
      x = causal(c, x, ks[0]!);
      padding = 'valid';
    }
    return c.withActivation((y) => emitConv(c, x, y, { n, kernel, ...(bias ? { bias } : {}), group: ks[n]!, kernelShape: ks.slice(0, n), ...(padding ? { padding } : {}) }));
  },
};

const separable: LayerHandler = {
  weighted: true,
  apply(c) {
    const n = spatialOf(c);
    const ks = c.weights[0]!.shape;
    const dk = c.weight(0, 'depthwise_kernel', depthwiseMapping(ks));
    const pk = c.weight(1, 'pointwise_kernel', kernelMapping(n));
    const bias = useBias(c, 2) ? c.weight(2, 'bias') : undefined;
    const mid = c.out('/depthwise');
    emitConv(c, c.x, mid, { n, kernel: dk, group: ks[n]!, kernelShape: ks.slice(0, n) });
    const ones = Array<number>(n).fill(1);
    return c.withActivation((y) =>
      c.b.node('Conv', [mid, pk, ...(bias ? [bias] : [])], [y], { strides: ints(ones), dilations: ints(ones), kernel_shape: ints(ones), group: int(1), auto_pad: str('VALID') }, 'NHWC'));
  },
};

const transpose: LayerHandler = {
  weighted: true,
  apply(c) {
    const n = spatialOf(c);
    const ks = c.weights[0]!.shape;
    if (c.get('groups', 1) !== 1) c.fail('grouped transposed convolution is not supported');
    const kernel = c.weight(0, 'kernel', kernelMapping(n));
    const bias = useBias(c, 1) ? c.weight(1, 'bias') : undefined;
    return c.withActivation((y) => emitConv(c, c.x, y, { n, kernel, ...(bias ? { bias } : {}), group: 1, kernelShape: ks.slice(0, n), transpose: true }));
  },
};

export const CONV_LAYERS: Record<string, LayerHandler> = {
  Conv1D: conv, Conv2D: conv, Conv3D: conv,
  DepthwiseConv1D: depthwise, DepthwiseConv2D: depthwise,
  SeparableConv1D: separable, SeparableConv2D: separable,
  Conv1DTranspose: transpose, Conv2DTranspose: transpose, Conv3DTranspose: transpose,
};
