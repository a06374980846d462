/**
 * Resize (opset 10+) and Upsample, nearest and linear, on any axes. Sampling positions are
 * computed in JS by ONNX's formulas; when they coincide with one of tfjs' resize kernels'
 * conventions (the usual cases: integer upsampling, align_corners, half_pixel linear) that
 * kernel runs, otherwise one gather (and for linear one lerp) per resized axis, so every
 * coordinate transformation mode and nearest mode is exact.
 */
import { float, str } from '../kutil.js';
import type { CompileCtx, Kernel, OpTable, RunCtx, TfTensor, Val } from '../types.js';

type Transform = (x: number, scale: number, inSize: number, outSize: number) => number;

const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  half_pixel_symmetric: (x, s, i, o) => {
    const adj = o / (s * i);
    const center = i / 2;
    const offset = center * (1 - adj);
    return offset + (x + 0.5) / s - 0.5;
  },
  pytorch_half_pixel: (x, s, _i, o) => (o > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, i, o) => (o === 1 ? 0 : (x * (i - 1)) / (o - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nn: (x, s) => (x + 0.5) / s,
};

const NEAREST: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil,
};

function resize(c: CompileCtx): Kernel {
  const n = c.node;
  const upsample = n.op === 'Upsample';
  const legacy = upsample || c.opset < 11;
  const mode = str(n, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') c.fail(`Resize mode "${mode}" is not supported (nearest and linear only)`);
  if (n.attrs.antialias && n.attrs.antialias.type === 'int' && n.attrs.antialias.value) c.fail('antialiased Resize is not supported');
  if (n.attrs.axes) c.fail('Resize with an axes attribute is not supported');
  const ctm = legacy ? 'asymmetric' : str(n, 'coordinate_transformation_mode', 'half_pixel');
  const transform = TRANSFORMS[ctm];
  if (!transform) c.fail(`coordinate_transformation_mode "${ctm}" is not supported`);
  const nm = legacy ? 'floor' : str(n, 'nearest_mode', 'round_prefer_floor');
  const near = NEAREST[nm];
  if (!near) c.fail(`nearest_mode "${nm}" is not supported`);
  const linear = mode !== 'nearest';
  const attrScales = upsample && n.attrs.scales?.type === 'floats' ? n.attrs.scales.value : undefined;
  const extrapolation = float(n, 'extrapolation_value', 0);
  void extrapolation;
  const scalesIdx = upsample ? 1 : c.opset < 11 ? 1 : 2;
  const sizesIdx = upsample || c.opset < 11 ? -1 : 3;

  const read = (v: Val | undefined, rt: RunCtx): number[] | undefined => {
    if (!v) return undefined;
    const h = rt.h(v);
    return h.data.length ? h.data : undefined;
  };
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      let x = rt.t(ins[0]!);
      const r = x.rank;
      const inShape = x.shape;
      const sizes = sizesIdx >= 0 ? read(ins[sizesIdx], rt) : undefined;
      const scales0 = attrScales ?? read(ins[scalesIdx], rt);
      const scales = sizes ? sizes.map((o, i) => o / inShape[i]!) : scales0;
      if (!scales || scales.length !== r) throw new Error(`Resize node ${n.name}: scales or sizes must have one value per input dim`);
      const outShape = sizes ?? inShape.map((d, i) => Math.floor(d * scales[i]!));
      const native = nativeResize(rt, x, n.layout === 'NHWC', inShape, outShape, scales, linear, transform, near);
      if (native) return [native];
      for (let a = 0; a < r; a++) {
        const inSize = inShape[a]!;
        const outSize = outShape[a]!;
        if (inSize === outSize && scales[a] === 1) continue;
        const clamp = (i: number): number => Math.min(Math.max(i, 0), inSize - 1);
        if (!linear) {
          const idx = Array.from({ length: outSize }, (_, o) => clamp(near(transform(o, scales[a]!, inSize, outSize))));
          x = tf.gather(x, tf.tensor1d(idx, 'int32'), a);
          continue;
        }
        const i0: number[] = [];
        const i1: number[] = [];
        const w: number[] = [];
        for (let o = 0; o < outSize; o++) {
          const src = Math.min(Math.max(transform(o, scales[a]!, inSize, outSize), 0), inSize - 1);
          const f = Math.floor(src);
          i0.push(f);
          i1.push(Math.min(f + 1, inSize - 1));
          w.push(src - f);
        }
        const wShape = new Array<number>(r).fill(1);
        wShape[a] = outSize;
        const wt = tf.tensor(w, wShape, 'float32');
        const lo = tf.gather(x, tf.tensor1d(i0, 'int32'), a);
        const hi = tf.gather(x, tf.tensor1d(i1, 'int32'), a);
        x = tf.add(lo, tf.mul(tf.sub(hi, lo), wt));
      }
      return [x as TfTensor];
    },
  };
}

/** Source position of output index `o` in tfjs' resize kernels (TensorFlow's conventions). */
function tfSource(o: number, inSize: number, outSize: number, align: boolean, half: boolean, linear: boolean): number {
  const scale = align && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  if (linear) return Math.min(inSize - 1, half ? Math.max(0, (o + 0.5) * scale - 0.5) : o * scale);
  const src = half ? (o + 0.5) * scale : o * scale;
  const i = Math.min(inSize - 1, align ? Math.round(src) : Math.floor(src));
  return half ? Math.max(0, i) : i;
}

/**
 * A 4-D resize of the spatial axes whose ONNX sampling positions are exactly those of one of
 * tfjs' resizeNearestNeighbor / resizeBilinear flag combinations runs on that kernel (fast, and
 * differentiable on every backend: the gather path's gradient needs UnsortedSegmentSum, which
 * the wasm backend lacks). Undefined when no combination matches.
 */
function nativeResize(
  rt: RunCtx, x: TfTensor, nhwc: boolean, inShape: number[], outShape: number[], scales: number[], linear: boolean,
  transform: Transform, near: (x: number) => number,
): TfTensor | undefined {
  if (inShape.length !== 4) return undefined;
  // tfjs 4.22's cpu ResizeNearestNeighborGrad is wrong for batches > 1: train on the gather path there
  if (!linear && rt.training && rt.tf.getBackend() === 'cpu') return undefined;
  const [ha, wa] = nhwc ? [1, 2] : [2, 3];
  const other = nhwc ? [0, 3] : [0, 1];
  if (other.some((a) => inShape[a] !== outShape[a])) return undefined;
  const onnx = (a: number, o: number): number => {
    const v = transform(o, scales[a]!, inShape[a]!, outShape[a]!);
    return Math.min(Math.max(linear ? v : near(v), 0), inShape[a]! - 1);
  };
  for (const [align, half] of [[false, true], [false, false], [true, false]] as const) {
    const same = [ha, wa].every((a) => {
      for (let o = 0; o < outShape[a]!; o++) if (Math.abs(onnx(a, o) - tfSource(o, inShape[a]!, outShape[a]!, align, half, linear)) > 1e-5) return false;
      return true;
    });
    if (!same) continue;
    const tf = rt.tf;
    const size: [number, number] = [outShape[ha]!, outShape[wa]!];
    const x4 = nhwc ? x : tf.transpose(x, [0, 2, 3, 1]);
    const y = linear ? tf.image.resizeBilinear(x4 as never, size, align, half) : tf.image.resizeNearestNeighbor(x4 as never, size, align, half);
    return nhwc ? y : tf.transpose(y, [0, 3, 1, 2]);
  }
  return undefined;
}

export const RESIZE_KERNELS: OpTable = {
  Resize: resize,
  Upsample: resize,
};
