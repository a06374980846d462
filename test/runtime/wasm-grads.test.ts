/**
 * The wasm gradient kernels (src/runtime/tfjs-wasm-grads.ts) against the cpu backend's, which
 * tfjs implements directly: each case computes on wasm, reads the values, switches to cpu and
 * computes again from the same numbers (backends are process-global).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, test } from 'node:test';
import { loadTfjs } from '../../src/runtime/tfjs-backend.js';
import { registerWasmGradKernels } from '../../src/runtime/tfjs-wasm-grads.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

const REL_TOL = 1e-4;
let tf: Tf;

before(async () => {
  tf = (await loadTfjs('cpu')).tf;
  tf = (await loadTfjs('wasm')).tf;
  // tfjs-core's gradient functions are registered by tfjs-layers' bundle
  createRequire(import.meta.url)('@tensorflow/tfjs-layers');
  registerWasmGradKernels(tf);
});

/** Deterministic numbers in [-1, 1) (or integers in [-k, k] with `ints`, for ties). */
function numbers(n: number, seed: number, ints?: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = ints === undefined ? u * 2 - 1 : Math.round((u * 2 - 1) * ints);
  }
  return out;
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Run `f` on one backend, returning every output's values. */
async function on(backend: 'wasm' | 'cpu', f: () => Tensor[]): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend));
  return tf.tidy(f).map((t) => {
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return Float32Array.from(v);
  });
}

function relDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'same number of values');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Same computation on wasm and on cpu; every output within REL_TOL relative (to its largest |value|). */
async function agree(what: string, f: () => Tensor[]): Promise<void> {
  const w = await on('wasm', f);
  const c = await on('cpu', f);
  await tf.setBackend('wasm');
  assert.equal(w.length, c.length);
  for (let i = 0; i < w.length; i++) {
    assert.ok(c[i]!.some((v) => v !== 0), `${what}: output ${i} is not all zeros on cpu (a test that can fail)`);
    const d = relDiff(w[i]!, c[i]!);
    assert.ok(d <= REL_TOL, `${what}: output ${i} differs from the cpu backend by ${d.toExponential(2)} (relative)`);
  }
}

interface ConvCase { n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number; s: number | [number, number]; pad: Pad }
const CONV: ConvCase[] = [
  { n: 1, h: 7, w: 7, ci: 1, co: 4, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 5, h: 9, w: 8, ci: 3, co: 5, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 5, h: 9, w: 8, ci: 3, co: 5, kh: 3, kw: 3, s: 2, pad: 'valid' },
  { n: 2, h: 11, w: 10, ci: 16, co: 8, kh: 3, kw: 3, s: 1, pad: 'valid' },
  { n: 2, h: 10, w: 9, ci: 16, co: 6, kh: 5, kw: 3, s: 2, pad: 'same' },
  { n: 1, h: 6, w: 6, ci: 16, co: 4, kh: 1, kw: 1, s: 1, pad: 'valid' },
  { n: 3, h: 8, w: 7, ci: 4, co: 3, kh: 3, kw: 2, s: [1, 2], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { n: 5, h: 13, w: 13, ci: 16, co: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
  // batches large enough for the filter gradient to sum in batch groups (both paths; a prime batch)
  { n: 6, h: 20, w: 20, ci: 16, co: 8, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 6, h: 20, w: 21, ci: 1, co: 4, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 8, h: 41, w: 41, ci: 3, co: 4, kh: 3, kw: 3, s: 2, pad: 'valid' },
  { n: 7, h: 20, w: 20, ci: 4, co: 6, kh: 3, kw: 3, s: 1, pad: 'same' },
  // VALID with rows / columns the strided windows never reach (the input is cropped)
  { n: 3, h: 10, w: 11, ci: 16, co: 4, kh: 3, kw: 3, s: 2, pad: 'valid' },
];
const label = (c: object) => JSON.stringify(c).replace(/"/g, '');

for (const c of CONV) {
  test(`conv2d gradients (x and filter) equal the cpu backend's: ${label(c)}`, async () => {
    const xs = [c.n, c.h, c.w, c.ci];
    const ws = [c.kh, c.kw, c.ci, c.co];
    const xv = numbers(size(xs), 1);
    const wv = numbers(size(ws), 2);
    await agree(label(c), () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const w = tf.tensor4d(wv, ws as [number, number, number, number]);
      const y0 = tf.conv2d(x, w, c.s, c.pad);
      const r = tf.tensor(numbers(y0.size, 3), y0.shape); // a random dy
      const g = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, c.s, c.pad), r)));
      return g([x, w]);
    });
  });
}

/** A dilated filter as an undilated one with zeros between its taps. */
function inflate(w: Float32Array, [kh, kw, ci, co]: number[], d: number): { values: Float32Array; shape: [number, number, number, number] } {
  const eh = (kh! - 1) * d + 1;
  const ew = (kw! - 1) * d + 1;
  const out = new Float32Array(eh * ew * ci! * co!);
  for (let i = 0; i < kh!; i++) for (let j = 0; j < kw!; j++) {
    for (let k = 0; k < ci! * co!; k++) out[((i * d) * ew + j * d) * ci! * co! + k] = w[(i * kw! + j) * ci! * co! + k]!;
  }
  return { values: out, shape: [eh, ew, ci!, co!] };
}

/** The taps of an inflated filter's gradient that belong to the dilated filter. */
function deflate(big: Float32Array, [kh, kw, ci, co]: number[], d: number): Float32Array {
  const ew = (kw! - 1) * d + 1;
  const out = new Float32Array(kh! * kw! * ci! * co!);
  for (let i = 0; i < kh!; i++) for (let j = 0; j < kw!; j++) {
    for (let k = 0; k < ci! * co!; k++) out[(i * kw! + j) * ci! * co! + k] = big[((i * d) * ew + j * d) * ci! * co! + k]!;
  }
  return out;
}

for (const [pad, d] of [['same', 2], ['valid', 2], ['same', 3]] as const) {
  test(`Conv2DBackpropFilter / Conv2DBackpropInput with dilation ${d}, ${pad}, equal the cpu gradient of the inflated filter`, async () => {
    const xs = [2, 11, 9, 5];
    const ws = [3, 3, 5, 4];
    const xv = numbers(size(xs), 4);
    const wv = numbers(size(ws), 5);
    const big = inflate(wv, ws, d);
    await tf.setBackend('wasm');
    const [dyv, dyShape] = tf.tidy(() => {
      const y = tf.conv2d(tf.tensor4d(xv, xs as [number, number, number, number]), tf.tensor4d(wv, ws as [number, number, number, number]), 1, pad, 'NHWC', d);
      return [numbers(y.size, 6), y.shape] as const;
    });
    const [dwW, dxW] = await on('wasm', () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const dy = tf.tensor(dyv, dyShape);
      const attrs = { strides: 1, pad, dataFormat: 'NHWC', dilations: d };
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: ws }) as Tensor;
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.tensor4d(wv, ws as [number, number, number, number]) }, { ...attrs, inputShape: xs }) as Tensor;
      return [dw, dx];
    });
    const [dxC, dwBig] = await on('cpu', () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const dy = tf.tensor(dyv, dyShape);
      const g = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, 1, pad), dy)));
      return g([x, tf.tensor4d(big.values, big.shape)]);
    });
    await tf.setBackend('wasm');
    const picked = deflate(dwBig!, ws, d);
    assert.ok(relDiff(dwW!, picked) <= REL_TOL, `filter gradient differs by ${relDiff(dwW!, picked)}`);
    assert.ok(relDiff(dxW!, dxC!) <= REL_TOL, `input gradient differs by ${relDiff(dxW!, dxC!)}`);
  });
}

test('Conv2DBackpropFilter / Conv2DBackpropInput in NCHW equal the cpu kernels', async () => {
  for (const [s, pad] of [[1, 'same'], [2, 'valid'], [2, 'same']] as const) {
    const xs = [3, 6, 9, 7]; // N, C, H, W
    const ws = [3, 3, 6, 5];
    const oh = pad === 'same' ? Math.ceil(9 / s) : Math.ceil((9 - 2) / s);
    const ow = pad === 'same' ? Math.ceil(7 / s) : Math.ceil((7 - 2) / s);
    const dys = [3, 5, oh, ow];
    const xv = numbers(size(xs), 7);
    const wv = numbers(size(ws), 8);
    const dyv = numbers(size(dys), 9);
    await agree(`NCHW stride ${s} ${pad}`, () => {
      const x = tf.tensor(xv, xs);
      const dy = tf.tensor(dyv, dys);
      const attrs = { strides: s, pad, dataFormat: 'NCHW' };
      return [
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: ws }) as Tensor,
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.tensor(wv, ws) }, { ...attrs, inputShape: xs }) as Tensor,
      ];
    });
  }
});

interface DwCase { n: number; h: number; w: number; c: number; m: number; kh: number; kw: number; s: number; pad: 'same' | 'valid' }
const DEPTHWISE: DwCase[] = [
  { n: 1, h: 7, w: 7, c: 1, m: 1, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 5, h: 9, w: 8, c: 3, m: 2, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 9, c: 16, m: 1, kh: 3, kw: 3, s: 2, pad: 'valid' },
  { n: 2, h: 6, w: 7, c: 3, m: 2, kh: 5, kw: 5, s: 1, pad: 'valid' },
  { n: 5, h: 11, w: 11, c: 16, m: 2, kh: 3, kw: 3, s: 1, pad: 'same' },
];

for (const c of DEPTHWISE) {
  test(`depthwiseConv2d gradients (x and filter) equal the cpu backend's: ${label(c)}`, async () => {
    const xs = [c.n, c.h, c.w, c.c];
    const ws = [c.kh, c.kw, c.c, c.m];
    const xv = numbers(size(xs), 11);
    const wv = numbers(size(ws), 12);
    await agree(label(c), () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const w = tf.tensor4d(wv, ws as [number, number, number, number]);
      const y0 = tf.depthwiseConv2d(x, w, c.s, c.pad);
      const r = tf.tensor(numbers(y0.size, 13), y0.shape);
      const g = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as Tensor4D, b as Tensor4D, c.s, c.pad), r)));
      return g([x, w]);
    });
  });
}

// tfjs's own depthwise gradient refuses dilations and the cpu backprop kernels ignore them: the
// reference is the cpu gradient of the undilated depthwise conv with the inflated filter
for (const [pad, m] of [['same', 1], ['valid', 2]] as const) {
  test(`depthwise backprop kernels with dilation 2 (${pad}, multiplier ${m}) equal the cpu gradient of the inflated filter`, async () => {
    const d = 2;
    const xs = [2, 10, 9, 3];
    const ws = [3, 3, 3, m];
    const xv = numbers(size(xs), 14);
    const wv = numbers(size(ws), 15);
    const big = inflate(wv, ws, d);
    await tf.setBackend('wasm');
    const [dyv, dyShape] = tf.tidy(() => {
      const y = tf.depthwiseConv2d(tf.tensor4d(xv, xs as [number, number, number, number]), tf.tensor4d(wv, ws as [number, number, number, number]), 1, pad, 'NHWC', d);
      return [numbers(y.size, 16), y.shape] as const;
    });
    const [dwW, dxW] = await on('wasm', () => {
      const x = tf.tensor(xv, xs);
      const dy = tf.tensor(dyv, dyShape);
      const attrs = { strides: 1, pad, dilations: d };
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: ws }) as Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: tf.tensor(wv, ws) }, { ...attrs, inputShape: xs }) as Tensor,
      ];
    });
    const [dxC, dwBig] = await on('cpu', () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const dy = tf.tensor(dyv, dyShape);
      const g = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as Tensor4D, b as Tensor4D, 1, pad), dy)));
      return g([x, tf.tensor4d(big.values, big.shape)]);
    });
    await tf.setBackend('wasm');
    const picked = deflate(dwBig!, ws, d);
    assert.ok(relDiff(dwW!, picked) <= REL_TOL, `filter gradient differs by ${relDiff(dwW!, picked)}`);
    assert.ok(relDiff(dxW!, dxC!) <= REL_TOL, `input gradient differs by ${relDiff(dxW!, dxC!)}`);
  });
}

for (const [k, s, pad] of [[2, 2, 'valid'], [3, 1, 'same'], [3, 2, 'same'], [2, 1, 'valid']] as const) {
  test(`maxPool gradient equals the cpu backend's (ties and negative windows; pool ${k}, stride ${s}, ${pad})`, async () => {
    const xs = [3, 7, 9, 5];
    const xv = numbers(size(xs), 17, 2); // small integers: many ties, many all-negative windows
    xv.forEach((v, i) => { if (i % 3 === 0) xv[i] = -Math.abs(v) - 1; });
    await agree(`maxPool ${k} ${s} ${pad}`, () => {
      const x = tf.tensor4d(xv, xs as [number, number, number, number]);
      const y0 = tf.maxPool(x, k, s, pad);
      const r = tf.tensor(numbers(y0.size, 18), y0.shape);
      return [tf.grad((a: Tensor) => tf.sum(tf.mul(tf.maxPool(a as Tensor4D, k, s, pad), r)))(x)];
    });
  });
}

test('matMul with transposed operands (the matmul gradients) equals the cpu backend', async () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[5, 7], [7, 3], false, false], [[7, 5], [7, 3], true, false], [[5, 7], [3, 7], false, true], [[7, 5], [3, 7], true, true],
    [[1, 7, 5], [1, 3, 7], true, true], [[2, 7, 5], [2, 7, 3], true, false], [[64, 100], [100, 48], false, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    const av = numbers(size(as), 19);
    const bv = numbers(size(bs), 20);
    await agree(`matMul ${as} ${bs} ${ta} ${tb}`, () => [tf.matMul(tf.tensor(av, as), tf.tensor(bv, bs), ta, tb)]);
  }
  // the same tensor as right operand under two different views
  const v = numbers(24, 21);
  await agree('one tensor, two matmul views', () => {
    const t = tf.tensor(v, [2, 3, 4]);
    const a = tf.matMul(tf.ones([1, 6]), tf.reshape(t, [6, 4]));
    const b = tf.matMul(tf.ones([1, 2]), tf.reshape(t, [2, 12]));
    return [a, b];
  });
});

test('sum and mean over leading axes (and others) equal the cpu backend', async () => {
  const xs = [4, 5, 6, 3];
  const xv = numbers(size(xs), 22);
  await agree('reductions', () => {
    const x = tf.tensor(xv, xs);
    return [
      tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2]), tf.sum(x, [0]), tf.mean(x, [0, 1], true), tf.sum(x, [1, 2]),
      tf.mean(x, -1), tf.sum(x), tf.sum(tf.reshape(x, [120, 3]), 0), tf.sum(x, [2, 0, 1], true),
    ];
  });
  await tf.setBackend('wasm');
  const ints = tf.tidy(() => tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), 0));
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [4, 6]);
  ints.dispose();
});

test('batch statistics over 64×28×28 rows are float64-accurate (chunked float32 sums), odd sizes reduce right', async () => {
  const n = 64 * 28 * 28 * 4;
  const v = numbers(n, 23).map((u) => 10 + u); // a mean far from 0: a long float32 sum drifts (~1e-5 here)
  const exact = new Float64Array(4);
  for (let i = 0; i < n; i++) exact[i % 4] += v[i]!;
  await tf.setBackend('wasm');
  const [mean, sum] = tf.tidy(() => {
    const x = tf.tensor(v, [64, 28, 28, 4]);
    return [tf.mean(x, [0, 1, 2]).dataSync(), tf.sum(x, [0, 1, 2]).dataSync()];
  });
  for (let c = 0; c < 4; c++) {
    assert.ok(Math.abs(mean![c]! - exact[c]! / (n / 4)) <= 1e-6 * Math.abs(exact[c]! / (n / 4)), `mean of channel ${c}: ${mean![c]} vs ${exact[c]! / (n / 4)}`);
    assert.ok(Math.abs(sum![c]! - exact[c]!) <= 1e-6 * Math.abs(exact[c]!), `sum of channel ${c}: ${sum![c]} vs ${exact[c]}`);
  }
  const a = numbers(3 * 37 * 41 * 2, 24);
  const b = numbers(1031 * 2, 25); // a prime row count above the chunk size
  await agree('odd reductions', () => [tf.sum(tf.tensor(a, [3, 37, 41, 2]), [0, 1, 2]), tf.mean(tf.tensor(a, [3, 37, 41, 2]), [0, 1], true), tf.mean(tf.tensor(b, [1031, 2]), 0)]);
});

/** A small CNN with every kernel above: conv (1 and 8 input channels), depthwise, batch statistics, max pool, dense. */
function cnnLoss(x: Tensor4D, y: Tensor, v: Record<string, Tensor>): Tensor {
  const bn = (h: Tensor4D, g: Tensor, b: Tensor) => {
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    return tf.add(tf.mul(tf.sub(h, mean), tf.mul(tf.rsqrt(tf.add(variance, 1e-3)), g)), b) as Tensor4D;
  };
  let h = tf.relu(bn(tf.conv2d(x, v.k1 as Tensor4D, 1, 'same'), v.g1!, v.be1!)) as Tensor4D; // (a bias before BN has a zero gradient)
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.relu(tf.depthwiseConv2d(h, v.dw as Tensor4D, 1, 'same'));
  h = tf.maxPool(tf.relu(tf.conv2d(h, v.k2 as Tensor4D, 2, 'same')), 2, 2, 'same');
  const logits = tf.add(tf.matMul(tf.reshape(h, [x.shape[0], -1]), v.w3!), v.b3!);
  return tf.losses.softmaxCrossEntropy(y, logits);
}

function cnnVars(): Record<string, Tensor> {
  const spec: Record<string, number[]> = { k1: [3, 3, 1, 8], g1: [8], be1: [8], dw: [3, 3, 8, 2], k2: [3, 3, 16, 12], w3: [48, 10], b3: [10] };
  return Object.fromEntries(Object.entries(spec).map(([k, s], i) => [k, tf.variable(tf.tensor(numbers(size(s), 30 + i).map((u) => u * 0.5 + (k === 'g1' ? 1 : 0)), s), true, `wg_${k}_${Math.random()}`)]));
}

test('a small CNN: variableGrads on wasm equal the cpu backend', async () => {
  const xv = numbers(5 * 16 * 16, 40).map((u) => (u + 1) / 2);
  const labels = Array.from({ length: 5 }, (_, i) => (i * 3) % 10);
  await agree('cnn grads', () => {
    const vars = cnnVars();
    const x = tf.tensor4d(xv, [5, 16, 16, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
    const { value, grads } = tf.variableGrads(() => cnnLoss(x, y, vars) as import('@tensorflow/tfjs-core').Scalar, Object.values(vars) as import('@tensorflow/tfjs-core').Variable[]);
    const out = [value, ...Object.values(vars).map((v) => grads[(v as import('@tensorflow/tfjs-core').Variable).name]!)];
    Object.values(vars).forEach((v) => v.dispose());
    return out;
  });
});

test('training steps on wasm leak no tensors and no memory', async () => {
  await tf.setBackend('wasm');
  const vars = cnnVars();
  const x = tf.tensor4d(numbers(4 * 16 * 16, 41), [4, 16, 16, 1]);
  const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10);
  const opt = tf.train.momentum(0.01, 0.9);
  const step = () => tf.tidy(() => {
    opt.minimize(() => cnnLoss(x, y, vars) as import('@tensorflow/tfjs-core').Scalar, false, Object.values(vars) as import('@tensorflow/tfjs-core').Variable[]);
  });
  step();
  step();
  const before = tf.memory();
  for (let i = 0; i < 4; i++) step();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors, 'tensor count is stable across steps');
  assert.equal(after.numBytes, before.numBytes, 'bytes held are stable across steps');
  assert.equal((after as { numDataBuffers: number }).numDataBuffers, (before as { numDataBuffers: number }).numDataBuffers);
  opt.dispose();
  tf.dispose([x, y, ...Object.values(vars)]);
});

test('registering twice changes nothing (idempotent) and the kernels are on the wasm backend', () => {
  const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'MaxPoolGrad', 'BatchMatMul', 'Sum', 'Mean'];
  const first = names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
  assert.ok(first.every((f) => typeof f === 'function'), 'all registered for wasm');
  const warn = console.warn;
  const warnings: unknown[] = [];
  console.warn = (...a: unknown[]) => warnings.push(a);
  try {
    registerWasmGradKernels(tf);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc), first);
  assert.deepEqual(warnings, []);
});
