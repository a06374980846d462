/**
 * Reshaping layers: Reshape, Flatten, Permute, RepeatVector, ZeroPadding1D/2D/3D,
 * Cropping1D/2D/3D, UpSampling1D/2D/3D (all channels-last).
 */
import { type LayerCall, type LayerHandler, int, ints, str } from '../context.js';

const INT64_MAX = 2n ** 63n - 1n;

const reshape: LayerHandler = {
  apply(c) {
    const y = c.out();
    // 0 keeps the batch dimension (the target shape itself may hold a -1)
    c.b.node('Reshape', [c.x, c.b.i64('shape', [0, ...(c.config.target_shape as number[])])], [y]);
    return y;
  },
};

const flatten: LayerHandler = {
  apply(c) {
    const y = c.out();
    c.b.node('Flatten', [c.x], [y], { axis: int(1) });
    return y;
  },
};

const permute: LayerHandler = {
  apply(c) {
    const y = c.out();
    c.b.node('Transpose', [c.x], [y], { perm: ints([0, ...(c.config.dims as number[])]) });
    return y;
  },
};

const repeatVector: LayerHandler = {
  apply(c) {
    // [N, F] → [N, n, F]
    const e = c.out('/expanded');
    c.b.node('Unsqueeze', [c.x, c.b.i64('axes', [1])], [e]);
    const y = c.out();
    c.b.node('Tile', [e, c.b.i64('repeats', [1, c.config.n as number, 1])], [y]);
    return y;
  },
};

/** Keras padding / cropping spec → [[before, after] per spatial axis]. */
function pairs(v: unknown, n: number): number[][] {
  if (typeof v === 'number') return Array.from({ length: n }, () => [v, v]);
  const a = v as Array<number | number[]>;
  if (n === 1 && typeof a[0] === 'number') return [a.length === 2 ? [a[0], a[1] as number] : [a[0], a[0]]];
  return a.map((p) => (Array.isArray(p) ? [p[0]!, p[1]!] : [p, p]));
}

const zeroPadding = (n: number): LayerHandler => ({
  apply(c: LayerCall) {
    const p = pairs(c.get('padding', 1), n);
    const y = c.out();
    c.b.node('Pad', [c.x, c.b.i64('pads', [0, ...p.map((q) => q[0]!), 0, 0, ...p.map((q) => q[1]!), 0])], [y]);
    return y;
  },
});

const cropping = (n: number): LayerHandler => ({
  apply(c: LayerCall) {
    const p = pairs(c.get('cropping', 0), n);
    const y = c.out();
    const starts = c.b.i64('starts', p.map((q) => q[0]!));
    const ends = c.b.i64('ends', p.map((q) => (q[1]! > 0 ? BigInt(-q[1]!) : INT64_MAX)));
    c.b.node('Slice', [c.x, starts, ends, c.b.i64('axes', p.map((_, i) => i + 1))], [y]);
    return y;
  },
});

/** UpSampling: nearest repeats each element (floor(i / s)); bilinear is TF's half-pixel resize. */
const upSampling = (n: number): LayerHandler => ({
  apply(c: LayerCall) {
    const size = n === 1 ? [c.get('size', 2)] : ((s: unknown) => (typeof s === 'number' ? Array<number>(n).fill(s) : (s as number[])))(c.get<unknown>('size', 2));
    const mode = c.get('interpolation', 'nearest');
    if (mode !== 'nearest' && mode !== 'bilinear') c.fail(`interpolation "${mode}" is not supported (nearest and bilinear are)`);
    const y = c.out();
    const scales = c.b.floats('scales', [1, ...size, 1]);
    c.b.node('Resize', [c.x, '', scales], [y], mode === 'nearest'
      ? { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }
      : { mode: str('linear'), coordinate_transformation_mode: str('half_pixel') }, 'NHWC');
    return y;
  },
});

export const RESHAPING_LAYERS: Record<string, LayerHandler> = {
  Reshape: reshape, Flatten: flatten, Permute: permute, RepeatVector: repeatVector,
  ZeroPadding1D: zeroPadding(1), ZeroPadding2D: zeroPadding(2), ZeroPadding3D: zeroPadding(3),
  Cropping1D: cropping(1), Cropping2D: cropping(2), Cropping3D: cropping(3),
  UpSampling1D: upSampling(1), UpSampling2D: upSampling(2), UpSampling3D: upSampling(3),
};
