import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  RangeObserver,
  affineParams,
  quantizeWeightsSymmetric,
  roundHalfEven,
  type CalibrationOptions,
} from '../../src/optimize/quantize/calibrate.js';
import { MloptError } from '../../src/util/errors.js';
import { seededRandom } from '../../src/util/random.js';

// ---- helpers -----------------------------------------------------------------
/** Runs both passes over the given batches and returns the observer. */
function calibrate(opts: CalibrationOptions, ...batches: (Float32Array | Float64Array)[]): RangeObserver {
  const obs = new RangeObserver(opts);
  for (const b of batches) obs.observe(b);
  if (obs.needsSecondPass) for (const b of batches) obs.observeHistogram(b);
  return obs;
}

const rng = seededRandom;

function gaussian(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

const seq = (from: number, to: number): Float64Array => {
  const out = new Float64Array(to - from + 1);
  for (let i = 0; i < out.length; i++) out[i] = from + i;
  return out;
};

// ---- tests -------------------------------------------------------------------
describe('RangeObserver: construction', () => {
  it('rejects a percentile outside (0, 100]', () => {
    for (const p of [150, 0, -1, Number.NaN]) {
      assert.throws(
        () => new RangeObserver({ method: 'percentile', percentile: p }),
        (e: unknown) => e instanceof MloptError && e.code === 'USAGE' && e.message.includes('--percentile must be in (0, 100]'),
      );
    }
    assert.throws(() => new RangeObserver({ method: 'percentile', percentile: 150 }), /\(got 150\)/);
  });

  it('needsSecondPass only for histogram methods', () => {
    assert.equal(new RangeObserver({ method: 'minmax' }).needsSecondPass, false);
    assert.equal(new RangeObserver({ method: 'percentile' }).needsSecondPass, true);
    assert.equal(new RangeObserver({ method: 'entropy' }).needsSecondPass, true);
  });

  it('returns [0, 0] before any value and for all-zero tensors', () => {
    for (const method of ['minmax', 'percentile', 'entropy'] as const) {
      const fresh = new RangeObserver({ method });
      assert.equal(fresh.min, Infinity);
      assert.equal(fresh.max, -Infinity);
      assert.deepEqual(fresh.range(), { lo: 0, hi: 0 });
      assert.deepEqual(calibrate({ method }, new Float32Array(10)).range(), { lo: 0, hi: 0 });
    }
  });
});

describe('RangeObserver: minmax', () => {
  it('tracks min/max over batches and includes 0', () => {
    const obs = calibrate({ method: 'minmax' }, Float32Array.from([-1.5, 2, 0.25]), Float64Array.from([3, -0.5]));
    assert.equal(obs.count, 5);
    assert.equal(obs.min, -1.5);
    assert.equal(obs.max, 3);
    assert.deepEqual(obs.range(), { lo: -1.5, hi: 3 });
  });

  it('all-positive and all-negative tensors', () => {
    assert.deepEqual(calibrate({ method: 'minmax' }, Float32Array.from([1, 2, 6])).range(), { lo: 0, hi: 6 });
    assert.deepEqual(calibrate({ method: 'minmax' }, Float32Array.from([-4, -2, -1])).range(), { lo: -4, hi: 0 });
  });

  it('counts NaN and ±Infinity as nonFinite and skips them', () => {
    const obs = calibrate({ method: 'minmax' }, Float32Array.from([NaN, 1, -Infinity, -2, Infinity, NaN]));
    assert.equal(obs.nonFinite, 4);
    assert.equal(obs.count, 2);
    assert.deepEqual(obs.range(), { lo: -2, hi: 1 });
  });
});

describe('RangeObserver: percentile', () => {
  it('one-sided 1..10000, p=99 → ≈9900 within one bin width', () => {
    const obs = calibrate({ method: 'percentile', percentile: 99 }, seq(1, 10000));
    const width = (10000 - 1) / 2048;
    const r = obs.range();
    assert.equal(r.lo, 0);
    assert.ok(Math.abs(r.hi - 9900) <= width, `hi = ${r.hi}`);
  });

  it('p=100 equals the minmax range', () => {
    const data = Float32Array.from(gaussian(5000, 1), (x) => x * 3 + 0.5);
    const mm = calibrate({ method: 'minmax' }, data).range();
    assert.deepEqual(calibrate({ method: 'percentile', percentile: 100 }, data).range(), mm);
    const pos = seq(3, 500);
    assert.deepEqual(calibrate({ method: 'percentile', percentile: 100 }, pos).range(), { lo: 0, hi: 500 });
  });

  it('two-sided: cuts (100-p)/2 % from each tail', () => {
    // -5000..5000 (10001 values), p=98 → 1% per side ≈ [-4900, 4900]
    const obs = calibrate({ method: 'percentile', percentile: 98, bins: 1000 }, seq(-5000, 5000));
    const width = 10000 / 1000;
    const r = obs.range();
    assert.ok(Math.abs(r.lo + 4900) <= width, `lo = ${r.lo}`);
    assert.ok(Math.abs(r.hi - 4900) <= width, `hi = ${r.hi}`);
  });

  it('two-sided with an offset range still includes 0', () => {
    const r = calibrate({ method: 'percentile', percentile: 99.9 }, seq(-10, 1000)).range();
    assert.ok(r.lo <= 0 && r.lo >= -10);
    assert.ok(r.hi > 990 && r.hi <= 1000);
  });

  it('clamps pass-2 values outside the pass-1 range into the end bins', () => {
    const obs = new RangeObserver({ method: 'percentile', percentile: 100, bins: 10 });
    obs.observe(seq(0, 9));
    obs.observeHistogram(seq(0, 9));
    obs.observeHistogram(Float64Array.from([-100, 100, NaN]));
    assert.deepEqual(obs.range(), { lo: 0, hi: 9 });
    const p = new RangeObserver({ method: 'percentile', percentile: 50, bins: 10 });
    p.observe(seq(0, 9));
    p.observeHistogram(Float64Array.from([1000, 1000, 1000, 5]));
    assert.equal(p.range().hi, 9); // the clamped mass sits in the last bin
  });
});

describe('RangeObserver: entropy', () => {
  it('clips a few large outliers of a Gaussian', () => {
    const data = gaussian(100_000, 7);
    data[10] = 40;
    data[20] = -32;
    data[30] = 38;
    const obs = calibrate({ method: 'entropy' }, data);
    const r = obs.range();
    assert.equal(obs.max, 40);
    // the threshold lands a few sigma out, far below the outliers
    assert.ok(r.hi > 2.5 && r.hi < 0.2 * obs.max, `hi = ${r.hi}`);
    assert.equal(r.lo, -r.hi); // symmetric threshold, inside [min, max]
  });

  it('clips huge outliers down to the smallest candidate threshold', () => {
    const data = gaussian(100_000, 9);
    data[5] = 1000;
    data[6] = -900;
    const r = calibrate({ method: 'entropy' }, data).range();
    // the search starts at i = levels = 128 bins of width 1000/2048
    assert.ok(r.hi >= (128 * 1000) / 2048 && r.hi < 0.1 * 1000, `hi = ${r.hi}`);
    assert.equal(r.lo, -r.hi);
  });

  it('keeps (nearly) the whole range of a uniform distribution', () => {
    const r0 = rng(3);
    const data = Float32Array.from({ length: 200_000 }, () => r0() * 2 - 1);
    const obs = calibrate({ method: 'entropy' }, data);
    const maxAbs = Math.max(-obs.min, obs.max);
    const r = obs.range();
    assert.ok(r.hi >= 0.9 * maxAbs, `hi = ${r.hi}, max = ${maxAbs}`);
    assert.ok(r.lo <= -0.9 * maxAbs, `lo = ${r.lo}`);
  });

  it('one-sided tensors get lo = 0', () => {
    const r0 = rng(5);
    const data = Float32Array.from({ length: 50_000 }, () => r0() * 6);
    const r = calibrate({ method: 'entropy' }, data).range();
    assert.equal(r.lo, 0);
    assert.ok(r.hi >= 0.9 * 6 && r.hi <= 6, `hi = ${r.hi}`);
  });

  it('threshold never exceeds the observed range', () => {
    const data = Float32Array.from(gaussian(20_000, 11), (x) => Math.abs(x) * 0.1 - 0.05);
    const obs = calibrate({ method: 'entropy', bins: 512 }, data);
    const r = obs.range();
    assert.ok(r.lo >= obs.min && r.lo <= 0);
    assert.ok(r.hi <= obs.max && r.hi >= 0);
  });

  it('handles 1e6 values with 2048 bins', () => {
    const data = gaussian(1_000_000, 13);
    const obs = calibrate({ method: 'entropy' }, data);
    const r = obs.range();
    assert.ok(Number.isFinite(r.lo) && Number.isFinite(r.hi) && r.lo < 0 && r.hi > 0);
  });
});

describe('affineParams', () => {
  it('uint8 [0, 6]', () => {
    const { scale, zeroPoint } = affineParams(0, 6, 0, 255);
    assert.equal(scale, Math.fround(6 / 255));
    assert.equal(zeroPoint, 0);
  });

  it('int8 [-1, 1] → zero point 0 (not -0)', () => {
    const { scale, zeroPoint } = affineParams(-1, 1, -128, 127);
    assert.equal(scale, Math.fround(2 / 255));
    assert.ok(Object.is(zeroPoint, 0));
  });

  it('uint8 [-2, 6] → zero point 64', () => {
    const { scale, zeroPoint } = affineParams(-2, 6, 0, 255);
    assert.equal(scale, Math.fround(8 / 255));
    assert.equal(zeroPoint, 64);
  });

  it('widens the range to include 0 and handles a zero range', () => {
    assert.deepEqual(affineParams(2, 6, 0, 255), affineParams(0, 6, 0, 255));
    assert.deepEqual(affineParams(0, 0, 0, 255), { scale: 1, zeroPoint: 0 });
    assert.deepEqual(affineParams(0, 0, -128, 127), { scale: 1, zeroPoint: 0 });
    assert.equal(affineParams(-3, 0, 0, 255).zeroPoint, 255);
  });

  it('scale is exactly representable as float32', () => {
    const { scale } = affineParams(-0.37, 1.91, 0, 255);
    assert.equal(Math.fround(scale), scale);
  });
});

describe('quantizeWeightsSymmetric', () => {
  // shape [2, 3]
  const w = Float32Array.from([1, -2, 0.5, 0, 0, 0]);

  it('per-tensor', () => {
    const { scales, q } = quantizeWeightsSymmetric(w, [2, 3], undefined);
    assert.deepEqual(Array.from(scales), [Math.fround(2 / 127)]);
    assert.deepEqual(Array.from(q), [64, -127, 32, 0, 0, 0]); // 63.5 → 64, 31.75 → 32
  });

  it('per-channel along axis 0 (all-zero channel gets scale 1)', () => {
    const { scales, q } = quantizeWeightsSymmetric(w, [2, 3], 0);
    assert.deepEqual(Array.from(scales), [Math.fround(2 / 127), 1]);
    assert.deepEqual(Array.from(q), [64, -127, 32, 0, 0, 0]);
  });

  it('per-channel along axis 1', () => {
    const x = Float32Array.from([1, -2, 0.5, -4, 1, 0]);
    const { scales, q } = quantizeWeightsSymmetric(x, [2, 3], 1);
    assert.deepEqual(Array.from(scales), [Math.fround(4 / 127), Math.fround(2 / 127), Math.fround(0.5 / 127)]);
    // column 0: 1/(4/127) = 31.75 → 32, -4 → -127; column 1: -2 → -127, 1 → 63.5 → 64; column 2: 0.5 → 127, 0 → 0
    assert.deepEqual(Array.from(q), [32, -127, 127, -127, 64, 0]);
    // negative axis = same as axis 1
    assert.deepEqual(quantizeWeightsSymmetric(x, [2, 3], -1), { scales, q });
  });

  it('per-channel on a rank-3 tensor along the middle axis', () => {
    // shape [2, 2, 2]: channel c holds elements (o, c, k)
    const x = Float32Array.from([1, 2, 10, -5, -4, 0, 20, 3]);
    const { scales, q } = quantizeWeightsSymmetric(x, [2, 2, 2], 1);
    assert.deepEqual(Array.from(scales), [Math.fround(4 / 127), Math.fround(20 / 127)]);
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / 2) % 2;
      assert.equal(q[i], roundHalfEven(Math.fround(x[i]! / scales[c]!)));
    }
    assert.equal(q[4], -127);
    assert.equal(q[6], 127);
  });

  it('rejects bad shapes, axes and non-finite weights', () => {
    assert.throws(() => quantizeWeightsSymmetric(w, [4, 3], 0), (e: unknown) => e instanceof MloptError && e.code === 'SHAPE_MISMATCH');
    assert.throws(() => quantizeWeightsSymmetric(w, [2, 3], 2), (e: unknown) => e instanceof MloptError && e.code === 'USAGE');
    assert.throws(() => quantizeWeightsSymmetric(Float32Array.from([1, NaN]), [2], undefined), (e: unknown) => e instanceof MloptError && e.code === 'DATA');
  });
});

describe('roundHalfEven', () => {
  it('rounds ties to even', () => {
    assert.equal(roundHalfEven(2.5), 2);
    assert.equal(roundHalfEven(3.5), 4);
    assert.equal(roundHalfEven(-2.5), -2);
    assert.equal(roundHalfEven(-3.5), -4);
    assert.equal(roundHalfEven(0.5), 0);
    assert.equal(roundHalfEven(1.5), 2);
  });

  it('rounds non-ties to nearest', () => {
    assert.equal(roundHalfEven(2.4), 2);
    assert.equal(roundHalfEven(2.6), 3);
    assert.equal(roundHalfEven(-2.6), -3);
    assert.equal(roundHalfEven(-2.4), -2);
    assert.equal(roundHalfEven(7), 7);
  });
});

describe('entropy calibration on ReLU-like tensors', () => {
  // ReLU / ReLU6 outputs: a spike of exact zeros and a tail; the KL search must not be dragged
  // down by the spike, nor snap to just below a multiple of the level count.
  const g = gaussian(200000, 7);
  const relu6Sparse = g.map((v, i) => (i % 5 === 0 ? Math.min(6, Math.max(0, 2 * Math.abs(v))) : 0));
  const relu = g.map((v) => Math.max(0, v));
  it('keeps most of the range of a sparse ReLU6 output', () => {
    const r = calibrate({ method: 'entropy' }, relu6Sparse).range();
    assert.equal(r.lo, 0);
    assert.ok(r.hi > 4, `threshold ${r.hi} of max 6`);
  });
  it('clips only the far tail of a ReLU(N(0,1)) output', () => {
    const o = calibrate({ method: 'entropy' }, relu);
    const r = o.range();
    assert.ok(r.hi > 3 && r.hi <= o.max, `threshold ${r.hi} of max ${o.max}`);
  });
});
