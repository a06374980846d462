import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../../helpers.js';
import { parseNpz, transposeData } from '../../../src/data/index.js';
import { loadModel } from '../../../src/formats/load.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import {
  type Granularity,
  computeMasks,
  incompatibleLayers,
  keepCount,
  kthLargest,
  parseGranularity,
  verifyNM,
} from '../../../src/optimize/prune/masks.js';
import { type PrunableWeight, findPrunable } from '../../../src/optimize/prune/select.js';
import { MloptError } from '../../../src/util/errors.js';

const UNSTRUCTURED: Granularity = { kind: 'unstructured' };

function tensor(shape: number[], values: ArrayLike<number>): Tensor {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

function weight(shape: number[], inputAxis: number, op = 'MatMul', name = 'w'): PrunableWeight {
  return { initializer: name, node: `${name}_node`, op, shape, inputAxis };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function mask1(t: Tensor, w: PrunableWeight, sparsity: number, g: Granularity | string): number[] {
  const granularity = typeof g === 'string' ? parseGranularity(g) : g;
  return Array.from(computeMasks(new Map([[w.initializer, t]]), [w], sparsity, { granularity }).get(w.initializer)!);
}

const sum = (m: ArrayLike<number>) => Array.from(m).reduce((a, b) => a + b, 0);

function isUsage(e: unknown): boolean {
  return e instanceof MloptError && e.code === 'USAGE' && !e.message.includes('\n');
}

test('parseGranularity: the accepted forms', () => {
  assert.deepEqual(parseGranularity('unstructured'), { kind: 'unstructured' });
  assert.deepEqual(parseGranularity('block:4x1'), { kind: 'block', rows: 4, cols: 1, pooling: 'avg' });
  assert.deepEqual(parseGranularity('block:4x4:max'), { kind: 'block', rows: 4, cols: 4, pooling: 'max' });
  assert.deepEqual(parseGranularity('block:2x8:avg'), { kind: 'block', rows: 2, cols: 8, pooling: 'avg' });
  assert.deepEqual(parseGranularity('2:4'), { kind: 'nm', n: 2, m: 4 });
  assert.deepEqual(parseGranularity('1:8'), { kind: 'nm', n: 1, m: 8 });
});

test('parseGranularity: bad strings are usage errors', () => {
  for (const bad of ['', 'structured', 'block', 'block:4', 'block:4x', 'block:0x1', 'block:4x1:sum', 'block:4*1', '4:2', '2:2', '0:4', '2:4:1', 'nm:2:4', '2/4']) {
    assert.throws(() => parseGranularity(bad), isUsage, `"${bad}" should be refused`);
  }
});

test('keepCount: tfmot rounding (float32, half to even, at least 1)', () => {
  assert.equal(keepCount(10, 0.5), 5);
  assert.equal(keepCount(5, 0.5), 2); // 2.5 → 2
  assert.equal(keepCount(7, 0.5), 4); // 3.5 → 4
  assert.equal(keepCount(3, 0.99), 1); // round(0.03) = 0 → 1
  assert.equal(keepCount(100, 0), 100);
  assert.equal(keepCount(1000, 0.9), 100);
  assert.equal(keepCount(4608, Math.fround(0.9)), 461);
});

test('kthLargest equals a sort, also with many equal values', () => {
  const r = rng(7);
  for (const [n, zeros] of [[1, 0], [17, 0], [1000, 0], [5000, 0.9], [3000, 1]] as const) {
    const a = Float32Array.from({ length: n }, () => (r() + 0.5 < zeros ? 0 : Math.abs(r())));
    const sorted = Array.from(a).sort((x, y) => y - x);
    for (const k of [1, Math.ceil(n / 3), n]) assert.equal(kthLargest(a, k), sorted[k - 1], `n=${n} k=${k}`);
  }
});

test('unstructured: keeps the k largest magnitudes; ties at the threshold all kept', () => {
  const w = weight([2, 5], 0);
  const t = tensor([2, 5], [1, -9, 3, -4, 2, 8, -7, 0.5, 6, -5]);
  assert.deepEqual(mask1(t, w, 0.5, UNSTRUCTURED), [0, 1, 0, 0, 0, 1, 1, 0, 1, 1]);
  assert.deepEqual(mask1(t, w, 0, UNSTRUCTURED), Array(10).fill(1));
  assert.equal(sum(mask1(t, w, 0.99, UNSTRUCTURED)), 1, 'at least one weight kept');
  const ties = tensor([2, 2], [1, -1, 1, 0.5]);
  assert.deepEqual(mask1(ties, weight([2, 2], 0), 0.5, UNSTRUCTURED), [1, 1, 1, 0]);
});

test('per layer vs global ranking', () => {
  const big = tensor([4, 4], Array.from({ length: 16 }, (_, i) => 10 + i));
  const small = tensor([4, 4], Array.from({ length: 16 }, (_, i) => 0.01 * (i + 1)));
  const ws = [weight([4, 4], 0, 'MatMul', 'big'), weight([4, 4], 0, 'MatMul', 'small')];
  const values = new Map([['big', big], ['small', small]]);
  const local = computeMasks(values, ws, 0.5, { granularity: UNSTRUCTURED });
  assert.equal(sum(local.get('big')!), 8);
  assert.equal(sum(local.get('small')!), 8);
  const global = computeMasks(values, ws, 0.5, { granularity: UNSTRUCTURED, global: true });
  assert.equal(sum(global.get('big')!), 16, 'global: the large layer stays whole');
  assert.equal(sum(global.get('small')!), 0, 'global: the small layer goes');
  const gb = computeMasks(values, ws, 0.25, { granularity: parseGranularity('block:2x2'), global: true });
  assert.equal(sum(gb.get('big')!), 16);
  assert.equal(sum(gb.get('small')!), 8, 'global block: 8 blocks, 6 kept, 2 of them (8 weights) in the small layer');
});

/** mask of a [rows, cols] Dense kernel whose rows hold `rowValues` in every column */
function denseRows(rows: number, cols: number, rowValues: number[], g: string, sparsity: number): number[][] {
  const t = tensor([rows, cols], Array.from({ length: rows * cols }, (_, i) => rowValues[Math.floor(i / cols)]!));
  const m = mask1(t, weight([rows, cols], 0), sparsity, g);
  return Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => m[r * cols + c]!));
}

test('block: tfmot\'s SAME pooling offset and expansion from 0 (values checked with tfmot 0.7.5)', () => {
  // 6 rows, blocks of 4: pooled windows are rows [0..2] and [3..5], the mask blocks rows [0..3] and [4..5]
  assert.deepEqual(denseRows(6, 2, [0, 0, 0, 10, 0, 0], 'block:4x1', 0.5), [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1]]);
  const m = denseRows(10, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'block:4x2', 0.5);
  assert.deepEqual(m, Array(3).fill([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]));
});

test('block: avg and max pooling differ; the block mask is constant inside a block', () => {
  // two 4x1 blocks per column: [9, 0, 0, 0] (avg 2.25, max 9) and [3, 3, 3, 3] (avg 3, max 3)
  assert.deepEqual(denseRows(8, 1, [9, 0, 0, 0, 3, 3, 3, 3], 'block:4x1', 0.5), [[0, 0, 0, 0, 1, 1, 1, 1]]);
  assert.deepEqual(denseRows(8, 1, [9, 0, 0, 0, 3, 3, 3, 3], 'block:4x1:max', 0.5), [[1, 1, 1, 1, 0, 0, 0, 0]]);
  const r = rng(3);
  const t = tensor([16, 8], Array.from({ length: 128 }, r));
  const m = mask1(t, weight([16, 8], 0), 0.5, 'block:4x2');
  assert.equal(sum(m), 64);
  for (let br = 0; br < 4; br++) for (let bc = 0; bc < 4; bc++) {
    const cells = [0, 1, 2, 3].flatMap((i) => [0, 1].map((j) => m[(br * 4 + i) * 8 + bc * 2 + j]));
    assert.equal(new Set(cells).size, 1, `block ${br},${bc}`);
  }
});

test('block: the 2-D view of Conv (OIHW) is Keras\' [H·W·I, O]; Gemm transB [out, in] is viewed as [in, out]', () => {
  // Conv [O=2, I=4, 1, 2]: a 4x1 block = the 4 input channels at one tap for one output channel
  const O = 2, I = 4, W = 2;
  const vals = Array.from({ length: O * I * W }, (_, idx) => {
    const o = Math.floor(idx / (I * W));
    const w = idx % W;
    return o === 0 && w === 1 ? 5 : 1;
  });
  const m = mask1(tensor([O, I, 1, W], vals), weight([O, I, 1, W], 1, 'Conv'), 0.75, 'block:4x1');
  assert.deepEqual(m, vals.map((v) => (v === 5 ? 1 : 0)));
  // Gemm B [out=3, in=4] with transB: the 4x1 block runs along `in` (contiguous here)
  const g = mask1(tensor([3, 4], [1, 1, 1, 1, 9, 9, 9, 9, 2, 2, 2, 2]), weight([3, 4], 1, 'Gemm'), 0.6, 'block:4x1');
  assert.deepEqual(g, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
});

test('2:4 along the input axis: the n largest per group, ties to the lowest index', () => {
  // MatMul [in=8, out=2]: groups run down the columns (stride 2)
  const col0 = [1, -4, 3, 2, 0.5, 0.5, 0.5, 0.5];
  const col1 = [-8, 7, 6, 5, 0, 0, 1, 0];
  const t = tensor([8, 2], col0.flatMap((v, i) => [v, col1[i]!]));
  const w = weight([8, 2], 0);
  const m = mask1(t, w, 0.123 /* ignored: the pattern fixes it */, '2:4');
  const c0 = m.filter((_, i) => i % 2 === 0);
  const c1 = m.filter((_, i) => i % 2 === 1);
  assert.deepEqual(c0, [0, 1, 1, 0, 1, 1, 0, 0]);
  assert.deepEqual(c1, [1, 1, 0, 0, 1, 0, 1, 0]);
  const pruned = tensor([8, 2], (t.data as Float32Array).map((v, i) => v * m[i]!));
  assert.equal(verifyNM(pruned, w, 2, 4), true);
  assert.equal(verifyNM(t, w, 2, 4), false);
  // the same data viewed along the other axis is not 2:4
  assert.equal(verifyNM(pruned, weight([8, 2], 1), 1, 2), false);
});

test('2:4 on Conv (OIHW, axis 1) and Gemm transB (axis 1) on random weights', () => {
  const r = rng(11);
  for (const w of [weight([6, 8, 3, 3], 1, 'Conv'), weight([5, 12], 1, 'Gemm'), weight([16, 4, 3, 3], 0, 'Conv') /* depthwise */]) {
    const t = tensor(w.shape, Array.from({ length: w.shape.reduce((a, b) => a * b) }, r));
    const m = mask1(t, w, 0.5, '2:4');
    assert.equal(sum(m), m.length / 2, `${w.shape}: exactly half kept`);
    const pruned = tensor(w.shape, (t.data as Float32Array).map((v, i) => v * m[i]!));
    assert.equal(verifyNM(pruned, w, 2, 4), true, `${w.shape}`);
    assert.equal(verifyNM(t, w, 2, 4), false, `${w.shape}: dense weights fail`);
  }
});

test('n:m: a layer whose input channels are not a multiple of m is refused, and listed by incompatibleLayers', () => {
  const ok = weight([8, 4], 0, 'MatMul', 'ok');
  const bad = weight([16, 1, 3, 3], 1, 'Conv', 'conv1');
  const g = parseGranularity('2:4');
  assert.deepEqual(incompatibleLayers([ok, bad], g).map((x) => x.node), ['conv1_node']);
  assert.deepEqual(incompatibleLayers([ok, bad], UNSTRUCTURED), []);
  const values = new Map([['ok', tensor([8, 4], Array(32).fill(1))], ['conv1', tensor([16, 1, 3, 3], Array(144).fill(1))]]);
  assert.throws(
    () => computeMasks(values, [ok, bad], 0.5, { granularity: g }),
    (e: unknown) => e instanceof MloptError && e.code === 'UNSUPPORTED' && e.message.includes('conv1_node') && e.message.includes('multiple of 4'),
  );
  assert.throws(() => computeMasks(values, [ok], 0.5, { granularity: g, global: true }), isUsage);
});

test('computeMasks: bad sparsity and missing values are clear errors', () => {
  const w = weight([2, 2], 0);
  assert.throws(() => computeMasks(new Map([['w', tensor([2, 2], [1, 2, 3, 4])]]), [w], 1.5, { granularity: UNSTRUCTURED }), isUsage);
  assert.throws(() => computeMasks(new Map(), [w], 0.5, { granularity: UNSTRUCTURED }), /no values for weight w/);
});

test('real CNN weights (fmnist_cnn.h5): 0.9 ± 0.005 per layer and in total, per layer and global', async () => {
  const { graph } = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const all = findPrunable(graph, { keepFirstLast: false }).weights;
  assert.equal(all.length, 4);
  for (const global of [false, true]) {
    const masks = computeMasks(graph.initializers, all, 0.9, { granularity: UNSTRUCTURED, global });
    let kept = 0, total = 0;
    for (const w of all) {
      const m = masks.get(w.initializer)!;
      kept += sum(m);
      total += m.length;
      // per layer: as close as whole weights allow (conv1 has 144: 14 kept)
      if (!global) assert.ok(Math.abs(1 - sum(m) / m.length - 0.9) <= 0.5 / m.length + 1e-9, `${w.node}: sparsity ${1 - sum(m) / m.length}`);
    }
    assert.ok(Math.abs(1 - kept / total - 0.9) <= 0.005, `global=${global}: total sparsity ${1 - kept / total}`);
  }
  const block = computeMasks(graph.initializers, all.slice(1, 3), 0.9, { granularity: parseGranularity('block:4x1') });
  for (const [name, m] of block) assert.ok(Math.abs(1 - sum(m) / m.length - 0.9) <= 0.005, `block ${name}: ${1 - sum(m) / m.length}`);
});

// ---- tfmot reference masks (fixtures/reference/prune_masks.npz, Keras layout) ----------------

interface RefEntry {
  kind: 'weight' | 'mask';
  weight: string;
  sparsity: number | null;
  granularity: 'unstructured' | 'block' | 'nm';
  blockSize: [number, number];
  blockPooling: 'AVG' | 'MAX' | null;
}

/** Keras layout → the IR's: [perm, inputAxis, op] */
const LAYOUTS: Record<string, { perm: number[]; inputAxis: number; op: string }> = {
  dense_w: { perm: [0, 1], inputAxis: 0, op: 'MatMul' },
  dense_odd_w: { perm: [0, 1], inputAxis: 0, op: 'MatMul' },
  ties_w: { perm: [0, 1], inputAxis: 0, op: 'MatMul' },
  conv_w: { perm: [3, 2, 0, 1], inputAxis: 1, op: 'Conv' }, // HWIO → OIHW
  conv_odd_w: { perm: [3, 2, 0, 1], inputAxis: 1, op: 'Conv' },
  dwconv_w: { perm: [2, 3, 0, 1], inputAxis: 0, op: 'Conv' }, // [H, W, C, 1] → [C, 1, H, W]
};

function relayout(t: Tensor, perm: number[]): Tensor {
  return { dtype: t.dtype, shape: perm.map((p) => t.shape[p]!), data: transposeData(t.data as Float32Array, t.shape, perm) };
}

test('masks equal tfmot 0.7.5\'s exactly (unstructured, block avg/max incl. partial blocks, 2:4, ties)', () => {
  const npz = parseNpz(readFileSync(join(FIXTURES, 'reference', 'prune_masks.npz')));
  const meta = JSON.parse(readFileSync(join(FIXTURES, 'reference', 'prune_masks.json'), 'utf8')) as { entries: Record<string, RefEntry> };
  let compared = 0;
  for (const [key, e] of Object.entries(meta.entries)) {
    if (e.kind !== 'mask') continue;
    const layout = LAYOUTS[e.weight];
    assert.ok(layout, `layout of ${e.weight}`);
    const kw = npz.get(e.weight)!;
    const ref = npz.get(key)!;
    const g: Granularity =
      e.granularity === 'nm' ? { kind: 'nm', n: 2, m: 4 }
      : e.granularity === 'block' ? { kind: 'block', rows: e.blockSize[0], cols: e.blockSize[1], pooling: e.blockPooling === 'MAX' ? 'max' : 'avg' }
      : UNSTRUCTURED;
    const layouts: Array<{ t: Tensor; w: PrunableWeight; toKeras: number[] }> = [
      { t: relayout(kw, layout.perm), w: weight(layout.perm.map((p) => kw.shape[p]!), layout.inputAxis, layout.op), toKeras: inv(layout.perm) },
    ];
    // a Dense kernel also as a Gemm B with transB ([out, in], input axis 1)
    if (layout.op === 'MatMul') layouts.push({ t: relayout(kw, [1, 0]), w: weight([kw.shape[1]!, kw.shape[0]!], 1, 'Gemm'), toKeras: [1, 0] });
    for (const { t, w, toKeras } of layouts) {
      const what = `${key} as ${w.op} [${w.shape}]`;
      if (g.kind === 'nm' && w.shape[w.inputAxis]! % 4 !== 0) {
        // tfmot pads a partial group; mlopt refuses the layer (sparse kernels need whole groups)
        assert.throws(() => mask1(t, w, 0.5, g), (x: unknown) => x instanceof MloptError && x.code === 'UNSUPPORTED', what);
        continue;
      }
      const m: Uint8Array = Uint8Array.from(mask1(t, w, e.sparsity ?? 0.5, g));
      const back: Uint8Array = transposeData(m, w.shape, toKeras);
      assert.deepEqual(Array.from(back), Array.from(ref.data as Uint8Array), what);
      compared++;
    }
  }
  assert.ok(compared >= 60, `compared ${compared} masks`);
});

function inv(p: number[]): number[] {
  const r = new Array<number>(p.length);
  p.forEach((v, i) => (r[v] = i));
  return r;
}

test('keepCount equals tfmot\'s k table', () => {
  const meta = JSON.parse(readFileSync(join(FIXTURES, 'reference', 'prune_masks.json'), 'utf8')) as {
    kTable: { sparsities: number[]; rows: Array<{ size: number; kept: number[] }> };
  };
  for (const row of meta.kTable.rows) {
    assert.deepEqual(meta.kTable.sparsities.map((s) => keepCount(row.size, s)), row.kept, `size ${row.size}`);
  }
});
