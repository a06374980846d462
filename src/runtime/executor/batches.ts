/**
 * Training data in batches: seeded shuffling and row gathering from sample-major IR tensors.
 */
import { type NumericArray, dtypeInfo, storageLength } from '../../ir/dtype.js';
import { type Tensor, elementCount, isNumericData } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';

export { seededRandom } from '../../util/random.js';

/** Fisher–Yates permutation of 0..n-1 from `rand`. */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Rows `idx` (or the contiguous range [start, end)) of a sample-major tensor; a view when contiguous. */
export function takeRows(t: Tensor, rows: Int32Array | { start: number; end: number }, what: string): Tensor {
  if (!isNumericData(t.data) || dtypeInfo(t.dtype).bits < 8) throw new MloptError('DATA', `${what}: ${t.dtype} data cannot be batched`);
  const per = elementCount(t.shape.slice(1));
  const lanes = storageLength(t.dtype, 1);
  const data = t.data as NumericArray;
  if (!(rows instanceof Int32Array)) {
    const n = rows.end - rows.start;
    return { dtype: t.dtype, shape: [n, ...t.shape.slice(1)], data: data.subarray(rows.start * per * lanes, rows.end * per * lanes) as NumericArray };
  }
  const n = rows.length;
  const Ctor = data.constructor as { new (n: number): NumericArray };
  const out = new Ctor(n * per * lanes);
  const w = per * lanes;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    (out as Float32Array).set((data as Float32Array).subarray(r * w, (r + 1) * w), i * w);
  }
  return { dtype: t.dtype, shape: [n, ...t.shape.slice(1)], data: out };
}
