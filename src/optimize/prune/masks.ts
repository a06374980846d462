/**
 * Magnitude masks (1 keep, 0 prune), as tfmot's `pruning_impl.Pruning` computes them:
 *
 * - unstructured: k = max(round(size · (1 − sparsity)), 1) in float32 with round-half-to-even
 *   (tf.math.round); the threshold is the k-th largest |w| and every |w| ≥ threshold is kept
 *   (ties at the threshold are all kept, so a few more than k may survive).
 * - block:RxC: the same on the R×C-pooled |w| (avg — tfmot's default — or max) of the layer's
 *   2-D view, the block mask expanded back. Partial blocks at the edges: tfmot pools with
 *   'SAME' padding (windows shifted by ⌊pad/2⌋, the average over the real elements only) but
 *   expands the pooled mask from index 0; both quirks are kept so that masks match tfmot's.
 *   2-D view: [rows, out] with the input-channel axis fastest in the rows — Keras' [in, out]
 *   for Dense and HWIO reshaped to [H·W·I, O] for Conv (tfmot itself does block only for 2-D
 *   kernels); ConvTranspose [H·W·I, O]; depthwise [H·W·C·mult, 1].
 * - n:m (e.g. 2:4): in every run of m consecutive weights along the input-channel axis, the n
 *   largest |w| are kept (ties: the lowest index, as tf.math.top_k). `sparsity` does not apply:
 *   the pattern fixes it at 1 − n/m. A layer whose input-channel count is not a multiple of m
 *   cannot hold the pattern that sparse kernels need: computeMasks refuses it (call
 *   `incompatibleLayers` first to leave such layers dense and report them).
 * - global (unstructured / block): one threshold over the magnitudes (or pooled block
 *   magnitudes) of all the selected weights ranked together.
 *
 * The k-th largest magnitude is found by a two-pass radix select on the float bits (non-negative
 * floats order like their bit patterns): O(n), no sort, duplicates (e.g. already-pruned zeros)
 * cost nothing.
 */
import { transposeData } from '../../data/npy.js';
import { type Tensor, elementCount, toFloat32 } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import type { PrunableWeight } from './select.js';

export type Granularity =
  | { kind: 'unstructured' }
  | { kind: 'block'; rows: number; cols: number; pooling: 'avg' | 'max' }
  | { kind: 'nm'; n: number; m: number };

const GRANULARITY_HELP = 'unstructured, block:RxC[:avg|max] (e.g. block:4x1), or N:M (keep N of every M, e.g. 2:4)';

/** 'unstructured' | 'block:4x1' | 'block:4x4:max' | '2:4' */
export function parseGranularity(s: string): Granularity {
  const t = s.trim();
  if (t === 'unstructured') return { kind: 'unstructured' };
  const block = /^block:(\d+)x(\d+)(?::(avg|max))?$/.exec(t);
  if (block) {
    const rows = Number(block[1]);
    const cols = Number(block[2]);
    if (rows < 1 || cols < 1) throw new MloptError('USAGE', `--granularity "${s}": block sides must be ≥ 1`);
    return { kind: 'block', rows, cols, pooling: (block[3] as 'avg' | 'max' | undefined) ?? 'avg' };
  }
  const nm = /^(\d+):(\d+)$/.exec(t);
  if (nm) {
    const n = Number(nm[1]);
    const m = Number(nm[2]);
    if (n < 1 || n >= m) throw new MloptError('USAGE', `--granularity "${s}": N:M keeps N of every M weights and needs 1 ≤ N < M`);
    return { kind: 'nm', n, m };
  }
  throw new MloptError('USAGE', `--granularity "${s}" is not one of: ${GRANULARITY_HELP}`);
}

// ---- k-th largest -------------------------------------------------------------------------

/** tfmot's k: max(round(count · (1 − sparsity)), 1), in float32, round half to even. */
export function keepCount(count: number, sparsity: number): number {
  const x = Math.fround(Math.fround(count) * Math.fround(1 - Math.fround(sparsity)));
  const f = Math.floor(x);
  const r = x - f > 0.5 ? f + 1 : x - f < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return Math.max(Math.min(r, count), 1);
}

/** The k-th largest (1-based) of non-negative float32 values. Does not modify `abs`. */
export function kthLargest(abs: Float32Array, k: number): number {
  if (abs.length === 0) return Infinity;
  const bits = new Uint32Array(abs.buffer, abs.byteOffset, abs.length);
  // rank from the bottom: the (n − k)-th smallest, 0-based
  let want = abs.length - k;
  const hist = new Uint32Array(65536);
  for (let i = 0; i < bits.length; i++) hist[bits[i]! >>> 16]!++;
  let hi = 0;
  for (; hi < 65536; hi++) {
    if (want < hist[hi]!) break;
    want -= hist[hi]!;
  }
  hist.fill(0);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if (b >>> 16 === hi) hist[b & 0xffff]!++;
  }
  let lo = 0;
  for (; lo < 65536; lo++) {
    if (want < hist[lo]!) break;
    want -= hist[lo]!;
  }
  const out = new Float32Array(new Uint32Array([((hi << 16) | lo) >>> 0]).buffer);
  return out[0]!;
}

function absOf(t: Tensor): Float32Array {
  const src = toFloat32(t);
  const a = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) a[i] = Math.abs(src[i]!);
  return a;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function thresholdMask(abs: Float32Array, thr: number): Uint8Array {
  const m = new Uint8Array(abs.length);
  for (let i = 0; i < abs.length; i++) m[i] = abs[i]! >= thr ? 1 : 0;
  return m;
}

// ---- block view ------------------------------------------------------------------------------

/** Axis of the output channels: 2-D → the other one; ConvTranspose → 1; Conv → 0 (depthwise → 1). */
function outputAxisOf(w: PrunableWeight): number {
  if (w.shape.length === 2) return 1 - w.inputAxis;
  if (w.op === 'ConvTranspose') return 1;
  return w.inputAxis === 1 ? 0 : 1;
}

/** perm putting the tensor in [...other axes, first, second] order. */
function viewPerm(rank: number, first: number, second: number): number[] {
  const rest = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== first && i !== second);
  return [...rest, first, second];
}

function inverse(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}

interface BlockView {
  perm: number[];
  rows: number;
  cols: number;
  pr: number;
  pc: number;
  pooled: Float32Array;
}

/** Pool one dimension of a [outer, n, inner] f32 array in windows of b with TF 'SAME' padding. */
function pool1d(x: Float32Array, outer: number, n: number, inner: number, b: number, max: boolean): Float32Array {
  const out = Math.ceil(n / b);
  const before = Math.floor((out * b - n) / 2);
  const y = new Float32Array(outer * out * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < out; j++) {
      const start = Math.max(j * b - before, 0);
      const end = Math.min(j * b - before + b, n);
      for (let q = 0; q < inner; q++) {
        let acc = max ? -Infinity : 0;
        for (let i = start; i < end; i++) {
          const v = x[(o * n + i) * inner + q]!;
          acc = max ? Math.max(acc, v) : Math.fround(acc + v);
        }
        y[(o * out + j) * inner + q] = max ? acc : Math.fround(acc / (end - start));
      }
    }
  }
  return y;
}

function blockView(abs: Float32Array, w: PrunableWeight, g: Extract<Granularity, { kind: 'block' }>): BlockView {
  const out = outputAxisOf(w);
  const perm = viewPerm(w.shape.length, w.inputAxis, out);
  const cols = w.shape[out]!;
  const rows = abs.length / cols;
  const view = perm.every((p, i) => p === i) ? abs : transposeData(abs, w.shape, perm);
  const max = g.pooling === 'max';
  // tfmot's factorized_pool: over the rows first, then over the columns
  const byRows = pool1d(view, 1, rows, cols, g.rows, max);
  const pr = Math.ceil(rows / g.rows);
  const pooled = pool1d(byRows, pr, cols, 1, g.cols, max);
  return { perm, rows, cols, pr, pc: Math.ceil(cols / g.cols), pooled };
}

function expandBlockMask(v: BlockView, w: PrunableWeight, g: Extract<Granularity, { kind: 'block' }>, blockMask: Uint8Array): Uint8Array {
  const m = new Uint8Array(v.rows * v.cols);
  for (let r = 0; r < v.rows; r++) {
    const br = Math.floor(r / g.rows) * v.pc;
    for (let c = 0; c < v.cols; c++) m[r * v.cols + c] = blockMask[br + Math.floor(c / g.cols)]!;
  }
  if (v.perm.every((p, i) => p === i)) return m;
  return transposeData(m, v.perm.map((p) => w.shape[p]!), inverse(v.perm));
}

// ---- n:m --------------------------------------------------------------------------------------

/** Layers whose input-channel count is not a multiple of m (n:m only), with the reason. */
export function incompatibleLayers(weights: PrunableWeight[], g: Granularity): Array<{ node: string; reason: string }> {
  if (g.kind !== 'nm') return [];
  return weights
    .filter((w) => w.shape[w.inputAxis]! % g.m !== 0)
    .map((w) => ({ node: w.node, reason: `${g.n}:${g.m} needs the input-channel count (${w.shape[w.inputAxis]}) to be a multiple of ${g.m}` }));
}

/** Visit every run of m consecutive elements along the input axis: `fn(first, stride, count)`. */
function forEachGroup(shape: number[], axis: number, m: number, fn: (first: number, stride: number, count: number) => void): void {
  const len = shape[axis]!;
  let stride = 1;
  for (let i = axis + 1; i < shape.length; i++) stride *= shape[i]!;
  const outer = elementCount(shape) / (len * stride);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < stride; q++) {
      const base = o * len * stride + q;
      for (let g = 0; g < len; g += m) fn(base + g * stride, stride, Math.min(m, len - g));
    }
  }
}

function nmMask(abs: Float32Array, w: PrunableWeight, n: number, m: number): Uint8Array {
  const mask = new Uint8Array(abs.length);
  forEachGroup(w.shape, w.inputAxis, m, (first, stride, count) => {
    const end = first + count * stride;
    // keep the n largest, the lowest index first among equals (tf.math.top_k)
    for (let t = 0; t < Math.min(n, count); t++) {
      let best = -1;
      for (let i = first; i < end; i += stride) if (!mask[i] && (best < 0 || abs[i]! > abs[best]!)) best = i;
      mask[best] = 1;
    }
  });
  return mask;
}

/** true when every group of m consecutive weights along the input axis has at most n non-zeros. */
export function verifyNM(t: Tensor, w: PrunableWeight, n: number, m: number): boolean {
  const data = toFloat32(t);
  let ok = true;
  forEachGroup(t.shape, w.inputAxis, m, (first, stride, count) => {
    let nz = 0;
    for (let i = 0, j = first; i < count; i++, j += stride) if (data[j] !== 0) nz++;
    if (nz > n) ok = false;
  });
  return ok;
}

// ---- entry point ----------------------------------------------------------------------------

/** Masks (1 keep, 0 prune) at `sparsity`; `global` ranks magnitudes across all weights (unstructured/block only). */
export function computeMasks(
  values: Map<string, Tensor>,
  weights: PrunableWeight[],
  sparsity: number,
  opts: { granularity: Granularity; global?: boolean },
): Map<string, Uint8Array> {
  if (!Number.isFinite(sparsity) || sparsity < 0 || sparsity > 1) throw new MloptError('USAGE', `sparsity must be in [0, 1], got ${sparsity}`);
  const g = opts.granularity;
  const abs = weights.map((w) => {
    const t = values.get(w.initializer);
    if (!t) throw new MloptError('RUNTIME', `no values for weight ${w.initializer} of layer ${w.node}`);
    if (elementCount(t.shape) !== elementCount(w.shape)) {
      throw new MloptError('SHAPE_MISMATCH', `weight ${w.initializer} of layer ${w.node} has shape [${t.shape}], expected [${w.shape}]`);
    }
    return absOf(t);
  });
  const masks = new Map<string, Uint8Array>();
  if (g.kind === 'nm') {
    if (opts.global) throw new MloptError('USAGE', `--global does not apply to ${g.n}:${g.m} granularity (every group of ${g.m} keeps ${g.n})`);
    const bad = incompatibleLayers(weights, g)[0];
    if (bad) throw new MloptError('UNSUPPORTED', `layer ${bad.node}: ${bad.reason}`, `leave it dense with --exclude "${bad.node}"`);
    weights.forEach((w, i) => masks.set(w.initializer, nmMask(abs[i]!, w, g.n, g.m)));
    return masks;
  }
  if (g.kind === 'unstructured' || (g.rows === 1 && g.cols === 1)) {
    if (opts.global) {
      const all = concat(abs);
      const thr = kthLargest(all, keepCount(all.length, sparsity));
      weights.forEach((w, i) => masks.set(w.initializer, thresholdMask(abs[i]!, thr)));
    } else {
      weights.forEach((w, i) => masks.set(w.initializer, thresholdMask(abs[i]!, kthLargest(abs[i]!, keepCount(abs[i]!.length, sparsity)))));
    }
    return masks;
  }
  const views = weights.map((w, i) => blockView(abs[i]!, w, g));
  let globalThr: number | undefined;
  if (opts.global) {
    const all = concat(views.map((v) => v.pooled));
    globalThr = kthLargest(all, keepCount(all.length, sparsity));
  }
  weights.forEach((w, i) => {
    const v = views[i]!;
    const thr = globalThr ?? kthLargest(v.pooled, keepCount(v.pooled.length, sparsity));
    masks.set(w.initializer, expandBlockMask(v, w, g, thresholdMask(v.pooled, thr)));
  });
  return masks;
}
