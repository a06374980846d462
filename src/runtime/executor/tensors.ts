/**
 * Data conversions at the executor's boundary: tfjs results → IR tensors of the graph's declared
 * dtypes, trained float weights → their initializers' dtypes (float16, bfloat16, float64, or
 * integers again for quantization-aware-trained weights).
 */
import type { DType } from '../../ir/dtype.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat16Bits } from '../../data/npy.js';
import type { QatWeight } from './prepare.js';

/** tfjs data → IR tensor of `dtype` (the graph's declared output type). */
export function fromTf(data: ArrayLike<number>, shape: number[], dtype: DType | undefined): Tensor {
  const dt: DType = dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Uint8Array ? 'bool' : 'float32');
  switch (dt) {
    case 'float32': return { dtype: dt, shape, data: data instanceof Float32Array ? data : Float32Array.from(data) };
    case 'float64': return { dtype: dt, shape, data: Float64Array.from(data) };
    case 'float16': return { dtype: dt, shape, data: Uint16Array.from(Array.from(data), toFloat16Bits) };
    case 'int64': return { dtype: dt, shape, data: BigInt64Array.from(Array.from(data, (v) => BigInt(Math.round(v)))) };
    case 'uint64': return { dtype: dt, shape, data: BigUint64Array.from(Array.from(data, (v) => BigInt(Math.round(v)))) };
    case 'int32': return { dtype: dt, shape, data: Int32Array.from(data) };
    case 'uint32': return { dtype: dt, shape, data: Uint32Array.from(data) };
    case 'int16': return { dtype: dt, shape, data: Int16Array.from(data) };
    case 'uint16': return { dtype: dt, shape, data: Uint16Array.from(data) };
    case 'int8': return { dtype: dt, shape, data: Int8Array.from(data) };
    case 'uint8':
    case 'bool': return { dtype: dt, shape, data: Uint8Array.from(data) };
    default: return { dtype: 'float32', shape, data: Float32Array.from(data) };
  }
}

/** A trained float weight in its initializer's original dtype. */
export function toDType(f: Float32Array, like: Tensor): Tensor {
  switch (like.dtype) {
    case 'float16': return { dtype: 'float16', shape: [...like.shape], data: Uint16Array.from(f, toFloat16Bits) };
    case 'float64': return { dtype: 'float64', shape: [...like.shape], data: Float64Array.from(f) };
    case 'bfloat16': {
      const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
      return { dtype: 'bfloat16', shape: [...like.shape], data: Uint16Array.from(bits, (b) => (b + 0x7fff + ((b >> 16) & 1)) >>> 16) };
    }
    default: return { dtype: 'float32', shape: [...like.shape], data: f };
  }
}

/** Quantize a trained weight back to its integer initializer (round half to even, saturate). */
export function requantize(f: Float32Array, q: QatWeight): Tensor {
  const lo = q.dtype === 'uint8' ? 0 : q.dtype === 'int8' ? -128 : q.dtype === 'int16' ? -32768 : q.dtype === 'uint16' ? 0 : -2147483648;
  const hi = q.dtype === 'uint8' ? 255 : q.dtype === 'int8' ? 127 : q.dtype === 'int16' ? 32767 : q.dtype === 'uint16' ? 65535 : 2147483647;
  const inner = q.shape.slice(q.axis + 1).reduce((a, b) => a * b, 1);
  const dim = q.shape[q.axis] ?? 1;
  const out = new Float64Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const c = q.scale.length > 1 ? Math.floor(i / inner) % dim : 0;
    const x = f[i]! / q.scale[c]!;
    let r = Math.round(x);
    if (Math.abs(x - Math.trunc(x)) === 0.5) r = 2 * Math.round(x / 2);
    out[i] = Math.min(hi, Math.max(lo, r + q.zeroPoint[c]!));
  }
  const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array }[q.dtype as 'int8'] ?? Int32Array;
  return { dtype: q.dtype, shape: [...q.shape], data: Ctor.from(out) };
}
