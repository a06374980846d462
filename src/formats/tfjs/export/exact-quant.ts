/**
 * Exact TF.js storage of the integer weights of a quantized (QDQ) graph.
 *
 * TF.js decodes a uint8 / uint16 weight as `code · scale + min`, computed in double precision and
 * rounded to float32 (tfjs-core io.decodeWeights). A weight the IR dequantizes as
 * `(q − zp_c) · s_c` (ONNX DequantizeLinear, float32) is therefore stored exactly when every
 * channel scale s_c is an integer multiple k_c of one scale S: the values are n · S with the
 * integer n = (q − zp_c) · k_c, stored as codes n − lo with min = lo · S and scale = S. Both
 * products are exact in double, so the decoded float32 is the float32 rounding of the exact
 * (q − zp_c) · s_c, which is what DequantizeLinear computes.
 *
 * A per-tensor int8 weight gets codes q + 128, min = −(128 + zp) · s, scale = s (uint8); a
 * per-channel one gets a single per-tensor (min, scale) only when the scales are multiples of the
 * smallest and the codes fit 8 (else 16) bits. Every candidate is decoded and compared value by
 * value before it is used: a weight that would not come back bit for bit stays float32.
 */
import type { Tensor } from '../../../ir/tensor.js';
import type { TfjsPreQuantized } from '../weights.js';
import type { WeightQuant } from './context.js';

const RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
};

/** The weight (float32 values as the graph writer stores them) as exact uint8 / uint16 codes, or
 *  undefined when no single (min, scale) reproduces every value bit for bit. */
export function exactCodes(t: Tensor, q: WeightQuant): { tensor: Tensor; quantized: TfjsPreQuantized } | undefined {
  if (t.dtype !== 'float32' || !q.scale.length || q.scale.length !== q.zeroPoint.length) return undefined;
  const values = t.data as Float32Array;
  if (!values.length) return undefined;
  if (q.scale.some((s) => !(s > 0) || !Number.isFinite(s))) return undefined;
  const S = Math.min(...q.scale);
  const k = q.scale.map((s) => s / S);
  if (k.some((m, i) => !Number.isInteger(m) || m * S !== q.scale[i])) return undefined;

  // the integer n of every value (round: a float32 product may be off the exact n·S by an ulp)
  const n = new Float64Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]! / S);
    n[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // the full range the quantized type can hold (int8: codes q + 128), when it fits 8 bits
  const [qmin, qmax] = RANGE[q.qDtype] ?? [NaN, NaN];
  const fullLo = Math.min(...q.zeroPoint.map((zp, c) => (qmin - zp) * k[c]!));
  const fullHi = Math.max(...q.zeroPoint.map((zp, c) => (qmax - zp) * k[c]!));
  if (fullHi - fullLo <= 255 && fullLo <= lo && hi <= fullHi) [lo, hi] = [fullLo, fullHi];
  const dtype = hi - lo <= 255 ? 'uint8' : hi - lo <= 65535 ? 'uint16' : undefined;
  if (!dtype) return undefined;

  const min = lo * S;
  const codes = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const code = n[i]! - lo;
    codes[i] = code;
    // decode as TF.js does; any difference (a rounding, -0, NaN) keeps the weight float32
    if (!Object.is(Math.fround(code * S + min), values[i]!)) return undefined;
  }
  return { tensor: { dtype, shape: t.shape.slice(), data: codes }, quantized: { dtype, min, scale: S } };
}
