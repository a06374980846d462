/**
 * Calibration for post-training int8 quantization: range observers that watch the values
 * of one tensor over calibration batches and pick the real range [lo, hi] to quantize
 * (min/max, percentile or KL-divergence "entropy" as in TensorRT), plus the helpers that
 * turn ranges into affine parameters and quantize weights symmetrically.
 */
import { MloptError } from '../../util/errors.js';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** percentile of the values kept, in (0, 100]; default 99.99 */
  percentile?: number;
  /** histogram bins for the histogram methods; default 2048 */
  bins?: number;
}

const DEFAULT_PERCENTILE = 99.99;
const DEFAULT_BINS = 2048;
/** smallest normal float32 */
const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * Observes the values of one tensor over calibration batches. Two passes for histogram
 * methods: pass 1 (`observe`) collects min/max (all methods), pass 2 (`observeHistogram`,
 * only when `needsSecondPass`) fills a histogram over the range found in pass 1.
 * Non-finite values are counted in `nonFinite` and otherwise ignored.
 */
export class RangeObserver {
  readonly method: CalibrationMethod;
  readonly percentile: number;
  readonly bins: number;
  readonly needsSecondPass: boolean;
  /** non-finite values (NaN, ±Infinity) skipped in pass 1 */
  nonFinite = 0;
  /** finite values seen in pass 1 */
  count = 0;
  min = Infinity;
  max = -Infinity;

  // Pass-2 histogram, allocated on the first observeHistogram call; its edges are frozen
  // then (bin b covers [histLo + b*histWidth, histLo + (b+1)*histWidth)).
  private hist: Float64Array | null = null;
  private histLo = 0;
  private histWidth = 0;
  private histTotal = 0;

  constructor(opts: CalibrationOptions) {
    const method = opts.method;
    if (method !== 'minmax' && method !== 'percentile' && method !== 'entropy') {
      throw new MloptError('USAGE', `unknown calibration method '${String(method)}'`, 'use minmax, percentile or entropy');
    }
    const p = opts.percentile ?? DEFAULT_PERCENTILE;
    if (!(p > 0 && p <= 100)) throw new MloptError('USAGE', `--percentile must be in (0, 100] (got ${p})`);
    const bins = opts.bins ?? DEFAULT_BINS;
    if (!Number.isInteger(bins) || bins < 1) {
      throw new MloptError('USAGE', `--bins must be a positive integer (got ${bins})`);
    }
    this.method = method;
    this.percentile = p;
    this.bins = bins;
    this.needsSecondPass = method !== 'minmax';
  }

  /** Pass 1: track min/max of the finite values. */
  observe(data: Float32Array | Float64Array): void {
    let lo = this.min;
    let hi = this.max;
    let bad = 0;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const x = data[i]!;
      if (x - x !== 0) {
        bad++; // NaN or ±Infinity
        continue;
      }
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    this.min = lo;
    this.max = hi;
    this.nonFinite += bad;
    this.count += n - bad;
  }

  /** Pass 2: histogram of the values (percentile) or of |x| (entropy) over the pass-1 range.
   *  Out-of-range values are clamped into the end bins; non-finite values are skipped. */
  observeHistogram(data: Float32Array | Float64Array): void {
    if (!this.needsSecondPass || this.count === 0) return;
    if (!this.hist) {
      this.hist = new Float64Array(this.bins);
      if (this.method === 'entropy') {
        this.histLo = 0;
        this.histWidth = Math.max(Math.abs(this.min), Math.abs(this.max)) / this.bins;
      } else {
        this.histLo = this.min;
        this.histWidth = (this.max - this.min) / this.bins;
      }
    }
    const hist = this.hist;
    const last = this.bins - 1;
    const lo = this.histLo;
    // A zero-width range puts everything into bin 0.
    const inv = this.histWidth > 0 ? 1 / this.histWidth : 0;
    const abs = this.method === 'entropy';
    let added = 0;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      let x = data[i]!;
      if (x - x !== 0) continue;
      if (abs && x < 0) x = -x;
      let b = Math.floor((x - lo) * inv);
      if (b < 0) b = 0;
      else if (b > last) b = last;
      hist[b]!++;
      added++;
    }
    this.histTotal += added;
  }

  /**
   * The chosen real range [lo, hi] to quantize; always lo <= 0 <= hi. For an all-zero or
   * never-observed tensor returns [0, 0]. `levels` (entropy only): quantization levels of
   * the candidate distribution, default 128 for signed tensors and 256 for one-sided ones.
   * A histogram method whose second pass saw no values falls back to the min/max range.
   */
  range(levels?: number): { lo: number; hi: number } {
    if (this.count === 0) return { lo: 0, hi: 0 };
    const lo0 = Math.min(0, this.min);
    const hi0 = Math.max(0, this.max);
    if (this.method === 'minmax' || !this.hist || this.histTotal === 0 || this.histWidth === 0) {
      return { lo: lo0, hi: hi0 };
    }
    if (this.method === 'percentile') return this.percentileRange();
    const oneSided = this.min >= 0;
    const t = klThreshold(this.hist, this.histWidth, this.histTotal, levels ?? (oneSided ? 256 : 128));
    return {
      lo: oneSided ? 0 : Math.min(0, Math.max(this.min, -t)),
      hi: Math.max(0, Math.min(this.max, t)),
    };
  }

  private percentileRange(): { lo: number; hi: number } {
    const { bins, histLo: start, histWidth: width, histTotal: total } = this;
    const hist = this.hist!;
    const lo0 = Math.min(0, this.min);
    const hi0 = Math.max(0, this.max);
    if (this.percentile === 100) return { lo: lo0, hi: hi0 };
    // Upper edge of the first bin whose cumulative count reaches `target` (the last bin ends at max).
    const upperEdgeAt = (target: number): number => {
      let cum = 0;
      for (let b = 0; b < bins; b++) {
        cum += hist[b]!;
        if (cum >= target) return b === bins - 1 ? this.max : start + (b + 1) * width;
      }
      return this.max;
    };
    if (this.min >= 0) {
      return { lo: 0, hi: Math.max(0, upperEdgeAt((this.percentile / 100) * total)) };
    }
    // Two-sided: cut (100 - p)/2 % from each tail.
    const tail = ((100 - this.percentile) / 200) * total;
    let lo = this.min;
    let cum = 0;
    for (let b = 0; b < bins; b++) {
      cum += hist[b]!;
      if (cum > tail) {
        lo = b === 0 ? this.min : start + b * width;
        break;
      }
    }
    const hi = upperEdgeAt(total - tail);
    return { lo: Math.min(0, lo), hi: Math.max(0, hi) };
  }
}

/**
 * TensorRT-style KL threshold search over a histogram of |x| (bin width `width`, `total`
 * values). For each candidate i in [levels, bins]: P = hist[0..i) with the mass of bins >= i
 * added into bin i-1; Q = the raw hist[0..i) merged into `levels` groups of ⌊i/levels⌋ or
 * ⌈i/levels⌉ bins (evenly spread, so no group takes a large remainder), each group's mass spread uniformly over the
 * bins where P is non-zero. Returns i*width for the i with the least KL(P||Q).
 *
 * KL is computed per group from prefix sums, so each candidate costs O(levels): within a group
 * q is constant over the non-zero bins of P, hence sum p*log(q) = (group mass of P) * log(q),
 * and sum p*log(p) comes from a prefix sum of h*log(h). Bins where P is 0 contribute nothing;
 * where P > 0 but Q = 0 (possible only in the last group, which holds the clipped mass) Q is
 * smoothed to a tiny epsilon.
 */
function klThreshold(hist: Float64Array, width: number, total: number, levels: number): number {
  const bins = hist.length;
  if (!Number.isInteger(levels) || levels < 2) {
    throw new MloptError('USAGE', `calibration levels must be an integer >= 2 (got ${levels})`);
  }
  if (bins <= levels) return bins * width; // too few bins to clip anything
  // The exact zeros of ReLU outputs pile up in bin 0; such a spike dominates KL (merging it
  // with its neighbours costs more than clipping any tail) and drags the threshold far down.
  // As NVIDIA's pytorch-quantization does, give bin 0 the count of bin 1 for the search.
  if (hist[0]! > hist[1]!) {
    const h = hist.slice();
    total += h[1]! - h[0]!;
    h[0] = h[1]!;
    hist = h;
  }
  // Prefix sums over the raw histogram: mass, number of non-empty bins, sum of h*log(h).
  const cMass = new Float64Array(bins + 1);
  const cNz = new Float64Array(bins + 1);
  const cHlogH = new Float64Array(bins + 1);
  for (let b = 0; b < bins; b++) {
    const h = hist[b]!;
    cMass[b + 1] = cMass[b]! + h;
    cNz[b + 1] = cNz[b]! + (h > 0 ? 1 : 0);
    cHlogH[b + 1] = cHlogH[b]! + (h > 0 ? h * Math.log(h) : 0);
  }
  const EPS = 1e-12;
  const logTotal = Math.log(total);
  let bestI = bins;
  let bestKL = Infinity;
  for (let i = levels; i <= bins; i++) {
    const qTotal = cMass[i]!; // Q is normalized by the mass it covers
    if (qTotal === 0) continue; // everything lies beyond i: Q is empty
    const outliers = total - qTotal;
    const pLast = hist[i - 1]! + outliers; // P's last bin, clipped mass included
    // sum p log p with p = h/total:  (sum h log h)/total - log(total)
    let hLogH = cHlogH[i - 1]! + (pLast > 0 ? pLast * Math.log(pLast) : 0);
    let cross = 0; // sum over P-non-zero bins of h_P * log(q)
    for (let g = 0; g < levels; g++) {
      // groups of floor or ceil(i/levels) bins: a remainder lumped into the last group would
      // make Q nearly equal to P just below every multiple of `levels` and bias the search
      const s = Math.floor((g * i) / levels);
      const e = g === levels - 1 ? i : Math.floor(((g + 1) * i) / levels);
      let pMass = cMass[e]! - cMass[s]!; // raw mass = Q's group mass
      let nz = cNz[e]! - cNz[s]!;
      const qMass = pMass;
      if (g === levels - 1) {
        // bin i-1 of P holds the clipped mass as well, and may become non-empty because of it
        pMass += outliers;
        if (hist[i - 1]! === 0 && pLast > 0) nz++;
      }
      if (pMass === 0) continue;
      const q = qMass > 0 ? qMass / nz / qTotal : EPS;
      cross += pMass * Math.log(q);
    }
    hLogH /= total;
    const kl = hLogH - logTotal - cross / total;
    if (kl < bestKL) {
      bestKL = kl;
      bestI = i;
    }
  }
  return bestI * width;
}

/** Round to nearest, ties to even (as ONNX QuantizeLinear does). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Affine parameters for an activation range, as onnxruntime computes them.
 * qmin/qmax: 0/255 for uint8, -128/127 for int8. The range is widened to include 0;
 * scale is rounded to float32; a zero (or denormal) range gives scale 1 and zero point 0 (clamped).
 */
export function affineParams(lo: number, hi: number, qmin: number, qmax: number): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new MloptError('DATA', `cannot quantize a non-finite range [${lo}, ${hi}]`);
  }
  if (!(qmin < qmax)) throw new MloptError('USAGE', `invalid quantized range [${qmin}, ${qmax}]`);
  const clampQ = (v: number): number => Math.min(qmax, Math.max(qmin, v)) + 0; // +0 turns -0 into 0
  const rlo = Math.min(lo, 0);
  const rhi = Math.max(hi, 0);
  // Like onnxruntime: the zero point comes from the float64 scale, which is then cast to
  // float32 (so int8 [-1, 1] gets zero point round(-0.5) = 0, not -1 from the rounded scale).
  const scale = (rhi - rlo) / (qmax - qmin);
  if (scale < FLOAT32_TINY) return { scale: 1, zeroPoint: clampQ(0) };
  return { scale: Math.fround(scale), zeroPoint: clampQ(roundHalfEven(qmin - rlo / scale)) };
}

/**
 * Symmetric int8 weight quantization: scale_c = max|w_c| / 127 (float32-rounded; 1 for an
 * all-zero channel) along `axis` of a tensor with `shape` (undefined = one scale for the whole
 * tensor; negative axes count from the end). q = clamp(roundHalfEven(w / scale), -127, 127).
 */
export function quantizeWeightsSymmetric(
  data: Float32Array,
  shape: number[],
  axis: number | undefined,
): { scales: Float32Array; q: Int8Array } {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new MloptError('SHAPE_MISMATCH', `weight shape [${shape.join(', ')}] holds ${size} values but the data has ${data.length}`);
  }
  let outer = 1;
  let channels = 1;
  let inner = data.length;
  if (axis !== undefined) {
    const rank = shape.length;
    const ax = axis < 0 ? axis + rank : axis;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank) {
      throw new MloptError('USAGE', `quantization axis ${axis} is out of range for a rank-${rank} tensor`);
    }
    outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
    channels = shape[ax]!;
    inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  }
  // Element (o, c, k) lies at (o * channels + c) * inner + k.
  const maxAbs = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = maxAbs[c]!;
      for (let k = 0; k < inner; k++) {
        const a = Math.abs(data[base + k]!);
        if (!(a <= m)) {
          if (!Number.isFinite(a)) throw new MloptError('DATA', `weights contain a non-finite value (${data[base + k]})`);
          m = a;
        }
      }
      maxAbs[c] = m;
    }
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = maxAbs[c]! > 0 ? Math.fround(maxAbs[c]! / 127) : 1;
  const q = new Int8Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const s = scales[c]!;
      for (let k = 0; k < inner; k++) {
        // float32 division (fround of the exact quotient), then ties-to-even, then saturate
        const v = roundHalfEven(Math.fround(data[base + k]! / s));
        q[base + k] = v > 127 ? 127 : v < -127 ? -127 : v;
      }
    }
  }
  return { scales, q };
}
