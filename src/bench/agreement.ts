import type { Tensor } from '../ir/tensor.js';
import { toFloat32 } from '../ir/tensor.js';

/** Output rows of a classifier: a [N, K] (or [N, ..., K]) float output viewed as N rows of K. */
export function rowsOf(t: Tensor): { data: Float32Array; rows: number; cols: number } {
  const data = toFloat32(t);
  const rows = t.shape.length > 0 ? (t.shape[0] as number) : 1;
  const cols = rows > 0 ? data.length / rows : 0;
  return { data, rows, cols };
}

export function top1Accuracy(pred: Int32Array, labels: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) ok++;
  return pred.length ? ok / pred.length : NaN;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}
