import type { DType, NumericArray, TensorData } from './dtype.js';

/** A dimension: a size, or a symbol (e.g. "batch") for a size known only at run time. */
export type Dim = number | string;

/** A constant tensor. `data` may be a view over the bytes of the file it came from. */
export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function isNumericData(data: TensorData): data is NumericArray {
  return !Array.isArray(data);
}

/** Bytes the tensor occupies in memory / on disk (strings: sum of their lengths). */
export function tensorByteSize(t: Tensor): number {
  if (isNumericData(t.data)) return t.data.byteLength;
  let n = 0;
  for (const s of t.data) n += s.byteLength;
  return n;
}

/** Values as JS numbers (int64 converted; float16/bfloat16 decoded). For small tensors
 *  (shapes, axes, scalars) and tests; do not use on large weights in hot paths. */
export function toNumbers(t: Tensor): number[] {
  if (!isNumericData(t.data)) throw new TypeError(`tensor of ${t.dtype} has no numeric values`);
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, float16ToNumber);
  if (t.dtype === 'bfloat16') return Array.from(t.data as Uint16Array, bfloat16ToNumber);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, (v) => Number(v));
  return Array.from(t.data as ArrayLike<number>);
}

/** Decode IEEE 754 half-precision bits. */
export function float16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function bfloat16ToNumber(b: number): number {
  const buf = new Float32Array(1);
  new Uint32Array(buf.buffer)[0] = b << 16;
  return buf[0] as number;
}

/** Float data as Float32Array (float16 / bfloat16 / float64 converted; float32 returned as is). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array && t.dtype === 'float32') return t.data;
  return Float32Array.from(toNumbers(t));
}
