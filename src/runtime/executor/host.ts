/**
 * Host values: small tensors computed in JS (shape arithmetic), with numpy broadcasting.
 */
import { type DType, isFloatDType } from '../../ir/dtype.js';
import { type Tensor, elementCount, isNumericData, toNumbers } from '../../ir/tensor.js';
import { HostTensor, type TfDType } from './types.js';

export function hostFromTensor(t: Tensor): HostTensor {
  return new HostTensor(t.dtype, [...t.shape], toNumbers(t));
}

export function hostScalar(dtype: DType, v: number): HostTensor {
  return new HostTensor(dtype, [], [v]);
}

export function host1d(dtype: DType, v: number[]): HostTensor {
  return new HostTensor(dtype, [v.length], v);
}

/** The tfjs dtype that carries an IR dtype. */
export function tfDType(dtype: DType | undefined): TfDType {
  if (dtype === undefined || isFloatDType(dtype)) return 'float32';
  if (dtype === 'bool') return 'bool';
  return 'int32';
}

/** Small host tensor worth keeping in JS: integer shape-like data, or a float scalar. */
export function isHostCandidate(t: Tensor): boolean {
  if (!isNumericData(t.data) || t.dtype === 'string') return false;
  const n = elementCount(t.shape);
  if (t.dtype === 'int64' || t.dtype === 'int32' || t.dtype === 'bool') return n <= 4096;
  return n <= 1;
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new RangeError(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Element-wise op over broadcast host tensors. */
export function hostMap(ins: HostTensor[], dtype: DType, f: (...xs: number[]) => number): HostTensor {
  const shape = ins.reduce<number[]>((s, t) => broadcastShapes(s, t.shape), []);
  const n = elementCount(shape);
  const r = shape.length;
  const strides = ins.map((t) => {
    const s = new Array<number>(r).fill(0);
    let acc = 1;
    for (let i = t.shape.length - 1; i >= 0; i--) {
      const dim = t.shape[i]!;
      s[r - t.shape.length + i] = dim === 1 ? 0 : acc;
      acc *= dim;
    }
    return s;
  });
  const out = new Array<number>(n);
  const idx = new Array<number>(r).fill(0);
  const args = new Array<number>(ins.length);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < ins.length; j++) {
      let off = 0;
      const st = strides[j]!;
      for (let a = 0; a < r; a++) off += idx[a]! * st[a]!;
      args[j] = ins[j]!.data[off]!;
    }
    out[k] = f(...args);
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return new HostTensor(dtype, shape, out);
}

/** Integer semantics after arithmetic on ints (C-style truncation for division). */
export function fixInt(dtype: DType, v: number): number {
  if (isFloatDType(dtype)) return v;
  if (dtype === 'bool') return v ? 1 : 0;
  return Math.trunc(v);
}

/** Gather along `axis` on the host. */
export function hostGather(x: HostTensor, idx: HostTensor, axis: number): HostTensor {
  const dim = x.shape[axis]!;
  const outer = elementCount(x.shape.slice(0, axis));
  const inner = elementCount(x.shape.slice(axis + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i0 of idx.data) {
      const i = i0 < 0 ? i0 + dim : i0;
      if (i < 0 || i >= dim) throw new RangeError(`index ${i0} out of range for a dim of ${dim}`);
      const base = (o * dim + i) * inner;
      for (let k = 0; k < inner; k++) out.push(x.data[base + k]!);
    }
  }
  return new HostTensor(x.dtype, [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], out);
}

export function hostTranspose(x: HostTensor, perm: number[]): HostTensor {
  const shape = perm.map((p) => x.shape[p]!);
  const n = x.data.length;
  const r = shape.length;
  const inStrides = new Array<number>(x.shape.length);
  let acc = 1;
  for (let i = x.shape.length - 1; i >= 0; i--) {
    inStrides[i] = acc;
    acc *= x.shape[i]!;
  }
  const out = new Array<number>(n);
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let a = 0; a < r; a++) off += idx[a]! * inStrides[perm[a]!]!;
    out[k] = x.data[off]!;
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return new HostTensor(x.dtype, shape, out);
}

/** ONNX Slice on the host (starts/ends/axes/steps already read). */
export function hostSlice(x: HostTensor, starts: number[], ends: number[], axes: number[], steps: number[]): HostTensor {
  const r = x.shape.length;
  const begin = new Array<number>(r).fill(0);
  const stride = new Array<number>(r).fill(1);
  const count = [...x.shape];
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + r : a0;
    const { start, step, size } = sliceAxis(x.shape[a]!, starts[i]!, ends[i]!, steps[i] ?? 1);
    begin[a] = start;
    stride[a] = step;
    count[a] = size;
  });
  const inStrides = new Array<number>(r);
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = acc;
    acc *= x.shape[i]!;
  }
  const n = elementCount(count);
  const out = new Array<number>(n);
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let a = 0; a < r; a++) off += (begin[a]! + idx[a]! * stride[a]!) * inStrides[a]!;
    out[k] = x.data[off]!;
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a]! < count[a]!) break;
      idx[a] = 0;
    }
  }
  return new HostTensor(x.dtype, count, out);
}

/** One axis of an ONNX Slice: clamped start, step and element count. */
export function sliceAxis(dim: number, start0: number, end0: number, step: number): { start: number; step: number; size: number } {
  if (step === 0) throw new RangeError('Slice step cannot be 0');
  let start = start0 < 0 ? start0 + dim : start0;
  let end = end0 < 0 ? end0 + dim : end0;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), dim);
    end = Math.min(Math.max(end, 0), dim);
    return { start, step, size: Math.max(0, Math.ceil((end - start) / step)) };
  }
  start = Math.min(Math.max(start, -1), dim - 1);
  end = Math.min(Math.max(end, -1), dim - 1);
  return { start, step, size: Math.max(0, Math.ceil((end - start) / step)) };
}
