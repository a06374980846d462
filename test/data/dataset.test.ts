import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Value } from '../../src/ir/graph.js';
import { type Tensor, toNumbers } from '../../src/ir/tensor.js';
import { writeNpy } from '../../src/data/npy.js';
import { writeNpz } from '../../src/data/npz.js';
import { type Dataset, argmaxRows, loadDataset, makeDataset, prepareFeeds, randomFeeds } from '../../src/data/dataset.js';
import { MloptError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'mlopt-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const isErr = (code: string, re: RegExp) => (e: unknown): boolean =>
  e instanceof MloptError && e.code === code && re.test(e.message) && !e.message.includes('\n');

function idx(type: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(Array.from(data), 4 + 4 * dims.length);
  return out;
}
const u8 = (shape: number[], f: (i: number) => number = (i) => i % 256): Tensor =>
  ({ dtype: 'uint8', shape, data: Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });
const f32 = (shape: number[], f: (i: number) => number = (i) => i): Tensor =>
  ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });
const ds = (arrays: Record<string, Tensor>): Dataset => makeDataset('mem', new Map(Object.entries(arrays)));
const input = (name: string, shape: Value['shape'], dtype: Value['dtype'] = 'float32'): Value => ({ name, dtype, shape });

const FIX_NPZ = 'fixtures/data/fmnist_test_1000.npz';
const FIX_IDX = 'fixtures/data/fmnist_test_100-images-idx3-ubyte.gz';

describe('loadDataset', () => {
  test('npz with x and y', async () => {
    const p = file('a.npz', writeNpz({ x: u8([4, 2, 2, 1]), y: { dtype: 'int64', shape: [4], data: BigInt64Array.of(3n, 1n, 0n, 9n) } }, { compress: true }));
    const d = await loadDataset(p);
    assert.equal(d.source, p);
    assert.equal(d.count, 4);
    assert.deepEqual([...d.inputs.keys()], ['x']);
    assert.deepEqual([...(d.labels ?? [])], [3, 1, 0, 9]);
  });

  test('labels: float holding ints, [N,1], one-hot argmax; bad labels rejected', () => {
    assert.deepEqual([...(ds({ x: u8([3, 2]), y: f32([3], (i) => 2 - i) }).labels ?? [])], [2, 1, 0]);
    assert.deepEqual([...(ds({ x: u8([3, 2]), y: u8([3, 1], (i) => i + 5) }).labels ?? [])], [5, 6, 7]);
    const onehot = f32([3, 4], (i) => ([2, 4, 11] as number[]).includes(i) ? 1 : 0);
    assert.deepEqual([...(ds({ x: u8([3, 2]), y: onehot }).labels ?? [])], [2, 0, 3]);
    assert.throws(() => ds({ x: u8([3, 2]), y: f32([3], (i) => i + 0.5) }), isErr('DATA', /labels y hold a non-integer/));
  });

  test('arrays with different dim 0 → error naming them', () => {
    assert.throws(() => ds({ x: u8([4, 2]), y: u8([3]) }), isErr('DATA', /mem: arrays disagree on the sample count \(dim 0\): x has 4, y has 3/));
  });

  test('.npy: a single input, no labels', async () => {
    const d = await loadDataset(file('a.npy', writeNpy(f32([5, 3]))));
    assert.equal(d.count, 5);
    assert.deepEqual([...d.inputs.keys()], ['x']);
    assert.equal(d.labels, undefined);
  });

  test('IDX gzipped with gzipped labels; raw with raw labels; .idx3 naming; images get a channel dim', async () => {
    const img = idx(0x08, [3, 2, 2], Array.from({ length: 12 }, (_, i) => i));
    const lbl = idx(0x08, [3], [7, 8, 9]);
    const pairs: Array<[string, Uint8Array, string, Uint8Array]> = [
      ['g-images-idx3-ubyte.gz', gzipSync(img), 'g-labels-idx1-ubyte.gz', gzipSync(lbl)],
      ['r-images-idx3-ubyte', img, 'r-labels-idx1-ubyte', lbl],
      ['m-images-idx3-ubyte.gz', gzipSync(img), 'm-labels-idx1-ubyte', lbl],
      ['d-images.idx3-ubyte', img, 'd-labels.idx1-ubyte.gz', gzipSync(lbl)],
    ];
    for (const [iname, ibytes, lname, lbytes] of pairs) {
      file(lname, lbytes);
      const d = await loadDataset(file(iname, ibytes));
      assert.equal(d.count, 3, iname);
      assert.deepEqual(d.inputs.get('x')?.shape, [3, 2, 2, 1]);
      assert.deepEqual([...(d.labels ?? [])], [7, 8, 9], iname);
    }
    const alone = await loadDataset(file('solo-images-idx3-ubyte', img));
    assert.equal(alone.labels, undefined);
    file('bad-labels-idx1-ubyte', idx(0x08, [2], [1, 2]));
    await assert.rejects(loadDataset(file('bad-images-idx3-ubyte', img)), isErr('DATA', /labels have shape \[2\] but .* has 3 images/));
    await assert.rejects(loadDataset(join(dir, 'r-labels-idx1-ubyte')), isErr('DATA', /is a 1-D IDX file \(labels\?\)/));
  });

  test('missing file, unknown format', async () => {
    await assert.rejects(loadDataset(join(dir, 'nope.npz')), (e: unknown) => e instanceof MloptError && e.code === 'FILE_NOT_FOUND');
    const p = file('junk.bin', new TextEncoder().encode('hello world'));
    await assert.rejects(loadDataset(p), (e: unknown) => e instanceof MloptError && e.code === 'DATA' &&
      e.message === `${p}: unrecognised data file; expected .npz, .npy or IDX (…-images-idx3-ubyte[.gz])`);
    await assert.rejects(loadDataset(file('junk.gz', gzipSync(Uint8Array.of(1, 2, 3)))), isErr('DATA', /unrecognised data file/));
  });

  test('Fashion-MNIST fixtures', { skip: existsSync(FIX_NPZ) && existsSync(FIX_IDX) ? false : 'fixtures not generated yet' }, async () => {
    const npz = await loadDataset(FIX_NPZ);
    assert.equal(npz.count, 1000);
    assert.deepEqual(npz.inputs.get('x')?.shape, [1000, 28, 28, 1]);
    assert.equal(npz.labels?.length, 1000);
    const idxDs = await loadDataset(FIX_IDX);
    assert.equal(idxDs.count, 100);
    assert.deepEqual(idxDs.inputs.get('x')?.shape, [100, 28, 28, 1]);
    assert.deepEqual(idxDs.labels, npz.labels?.subarray(0, 100));
    const prep = prepareFeeds(npz, [input('input', ['N', 1, 28, 28])], { batch: 64 });
    assert.equal([...prep.batches()].length, 16);
    assert.equal(toNumbers(prep.inputs.get('input') as Tensor).every((v) => v >= 0 && v <= 1), true);
  });
});

describe('prepareFeeds', () => {
  test('uint8 → float32 × 1/255 by default; explicit scale; int8 default scale 1; float64 → float32', () => {
    const d = ds({ x: u8([2, 2, 2, 1], (i) => i * 30) });
    const p = prepareFeeds(d, [input('in', ['batch', 2, 2, 1])]);
    const t = p.inputs.get('in') as Tensor;
    assert.equal(t.dtype, 'float32');
    assert.deepEqual([...(t.data as Float32Array)], Array.from({ length: 8 }, (_, i) => Math.fround((i * 30) / 255)));
    assert.ok(p.notes.some((n) => n.includes('uint8 → float32 × 1/255')));
    const s = prepareFeeds(d, [input('in', ['batch', 2, 2, 1])], { scale: 1 }).inputs.get('in') as Tensor;
    assert.deepEqual(toNumbers(s), Array.from({ length: 8 }, (_, i) => i * 30));
    const i8 = prepareFeeds(ds({ x: { dtype: 'int8', shape: [1, 2], data: Int8Array.of(-3, 4) } }), [input('in', [1, 2])]);
    assert.deepEqual(toNumbers(i8.inputs.get('in') as Tensor), [-3, 4]);
    const f64 = prepareFeeds(ds({ x: { dtype: 'float64', shape: [1, 2], data: Float64Array.of(0.1, 2) } }), [input('in', [1, 2])]);
    assert.equal(f64.inputs.get('in')?.dtype, 'float32');
    assert.deepEqual(toNumbers(f64.inputs.get('in') as Tensor), [Math.fround(0.1), 2]);
  });

  test('ints → the model int dtype (int64 as BigInt64Array); floats holding ints; non-integers rejected', () => {
    const d = ds({ ids: { dtype: 'int32', shape: [2, 3], data: Int32Array.of(1, 2, 3, 4, 5, 6) } });
    const t = prepareFeeds(d, [input('ids', ['b', 3], 'int64')]).inputs.get('ids') as Tensor;
    assert.ok(t.data instanceof BigInt64Array);
    assert.deepEqual([...t.data], [1n, 2n, 3n, 4n, 5n, 6n]);
    const fromFloat = prepareFeeds(ds({ x: f32([2, 2]) }), [input('ids', ['b', 2], 'int32')]).inputs.get('ids') as Tensor;
    assert.ok(fromFloat.data instanceof Int32Array);
    assert.deepEqual([...fromFloat.data], [0, 1, 2, 3]);
    assert.throws(() => prepareFeeds(ds({ x: f32([1, 2], () => 0.5) }), [input('ids', ['b', 2], 'int32')]), isErr('DATA', /not an integer/));
    assert.throws(() => prepareFeeds(ds({ x: f32([1, 1], () => 300) }), [input('q', ['b', 1], 'uint8')]), isErr('DATA', /not in \[0, 255\]/));
  });

  test('NHWC → NCHW transpose, checked element-wise', () => {
    const [N, H, W, C] = [2, 2, 3, 2];
    const d = ds({ x: f32([N, H, W, C]) });
    const p = prepareFeeds(d, [input('img', ['batch', C, H, W])]);
    const t = p.inputs.get('img') as Tensor;
    assert.deepEqual(t.shape, [N, C, H, W]);
    const src = d.inputs.get('x')?.data as Float32Array;
    const out = t.data as Float32Array;
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      assert.equal(out[((n * C + c) * H + h) * W + w], src[((n * H + h) * W + w) * C + c]);
    }
    assert.ok(p.notes.some((s) => s.includes('NHWC → NCHW')));
  });

  test('NCHW → NHWC transpose, checked element-wise', () => {
    const [N, C, H, W] = [2, 3, 2, 2];
    const d = ds({ x: f32([N, C, H, W]) });
    const t = prepareFeeds(d, [input('img', ['batch', H, W, C])]).inputs.get('img') as Tensor;
    assert.deepEqual(t.shape, [N, H, W, C]);
    const src = d.inputs.get('x')?.data as Float32Array;
    const out = t.data as Float32Array;
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      assert.equal(out[((n * H + h) * W + w) * C + c], src[((n * C + c) * H + h) * W + w]);
    }
  });

  test('single channel NHWC → NCHW needs no data movement', () => {
    const d = ds({ x: f32([3, 4, 4, 1]) });
    const t = prepareFeeds(d, [input('img', ['N', 1, 4, 4])]).inputs.get('img') as Tensor;
    assert.deepEqual(t.shape, [3, 1, 4, 4]);
    assert.equal(t.data, d.inputs.get('x')?.data);
  });

  test('reshape to a fully known shape of another rank (flatten and unflatten)', () => {
    const flat = prepareFeeds(ds({ x: u8([2, 28, 28, 1]) }), [input('in', ['batch', 784])], { scale: 1 }).inputs.get('in') as Tensor;
    assert.deepEqual(flat.shape, [2, 784]);
    assert.deepEqual(toNumbers(flat).slice(0, 5), [0, 1, 2, 3, 4]);
    const unflat = prepareFeeds(ds({ x: f32([2, 784]) }), [input('in', [-1, 28, 28, 1])]).inputs.get('in') as Tensor;
    assert.deepEqual(unflat.shape, [2, 28, 28, 1]);
  });

  test('add a missing channel dim: [H,W] → [H,W,1] or [1,H,W]', () => {
    const d = ds({ x: f32([2, 4, 5]) });
    assert.deepEqual(prepareFeeds(d, [input('in', ['b', 4, 5, 1])]).inputs.get('in')?.shape, [2, 4, 5, 1]);
    assert.deepEqual(prepareFeeds(d, [input('in', ['b', 1, 4, 5])]).inputs.get('in')?.shape, [2, 1, 4, 5]);
    assert.deepEqual(prepareFeeds(d, [input('in', ['b', 'h', 'w', 1])]).inputs.get('in')?.shape, [2, 4, 5, 1]);
  });

  test('shapes that cannot be reconciled → one-line SHAPE_MISMATCH with both shapes', () => {
    const d = ds({ x: u8([1000, 28, 28, 1]) });
    assert.throws(() => prepareFeeds(d, [input('input', ['batch', 3, 32, 32])]), (e: unknown) =>
      e instanceof MloptError && e.code === 'SHAPE_MISMATCH' &&
      e.message === 'data x has shape [1000,28,28,1] but model input "input" wants [batch,3,32,32]; cannot reconcile');
    assert.throws(() => prepareFeeds(d, [input('input', ['', 28, 28, 3])]), isErr('SHAPE_MISMATCH', /wants \[\?,28,28,3\]/));
  });

  test('input mapping: x, name match, the only array; several inputs by name', () => {
    const two = ds({ a: f32([2, 1]), b: f32([2, 1], () => 7) });
    assert.throws(() => prepareFeeds(two, [input('in', ['n', 1])]), isErr('DATA', /cannot tell which array feeds model input "in" \(arrays: a, b\)/));
    assert.deepEqual(toNumbers(prepareFeeds(two, [input('b', ['n', 1])]).inputs.get('b') as Tensor), [7, 7]);
    const p = prepareFeeds(two, [input('b', ['n', 1]), input('a', ['n', 1])]);
    assert.deepEqual([...p.inputs.keys()], ['b', 'a']);
    assert.throws(() => prepareFeeds(two, [input('a', ['n', 1]), input('c', ['n', 1]), input('d', ['n', 1])]),
      isErr('DATA', /no arrays for model inputs "c", "d" \(arrays: a, b\)/));
    const withX = prepareFeeds(ds({ x: f32([2, 1]), extra: f32([2, 1]) }), [input('in', ['n', 1])]);
    assert.ok(withX.notes.includes('data arrays not used: extra'));
  });

  test('batches are contiguous views of the prepared arrays, last one partial, labels sliced', () => {
    const d = ds({ x: u8([10, 3]), y: u8([10], (i) => i % 4) });
    const p = prepareFeeds(d, [input('in', ['batch', 3])], { batch: 4 });
    assert.equal(p.count, 10);
    assert.equal(p.batchSize, 4);
    const whole = p.inputs.get('in')?.data as Float32Array;
    const bs = [...p.batches()];
    assert.deepEqual(bs.map((b) => [b.start, b.size]), [[0, 4], [4, 4], [8, 2]]);
    for (const b of bs) {
      const t = b.feeds.get('in') as Tensor;
      assert.deepEqual(t.shape, [b.size, 3]);
      const view = t.data as Float32Array;
      assert.equal(view.buffer, whole.buffer, 'a view, not a copy');
      assert.equal(view.byteOffset, whole.byteOffset + b.start * 3 * 4);
      assert.deepEqual([...(b.labels ?? [])], Array.from({ length: b.size }, (_, i) => (b.start + i) % 4));
    }
    assert.equal([...p.batches()].length, 3, 'batches() can be iterated again');
  });

  test('fixed model batch wins over --batch, with notes; remainder dropped', () => {
    const d = ds({ x: u8([10, 28, 28, 1]) });
    const p = prepareFeeds(d, [input('in', [1, 28, 28, 1])], { batch: 32 });
    assert.equal(p.batchSize, 1);
    assert.equal(p.count, 10);
    assert.ok(p.notes.some((n) => n.includes('fixed batch of 1; using batch 1 (--batch 32 ignored)')));
    const q = prepareFeeds(d, [input('in', [4, 28, 28, 1])]);
    assert.equal(q.count, 8);
    assert.deepEqual([...q.batches()].map((b) => b.size), [4, 4]);
    assert.ok(q.notes.some((n) => n.includes('dropping the last 2 samples')));
    assert.throws(() => prepareFeeds(d, [input('in', ['b', 784])], { batch: 0 }), isErr('USAGE', /--batch must be a positive integer/));
  });
});

describe('randomFeeds', () => {
  const inputs: Value[] = [
    input('img', ['batch', 3, 4, 4]), input('ids', ['N', 5], 'int64'), input('mask', [2, 5], 'bool'),
    input('h', ['batch', 2], 'float16'), input('q', ['batch', 6], 'uint8'),
  ];
  test('shapes, value ranges, dtypes', () => {
    const f = randomFeeds(inputs, 2, 1);
    assert.deepEqual(f.get('img')?.shape, [2, 3, 4, 4]);
    assert.deepEqual(f.get('mask')?.shape, [2, 5], 'fixed dim 0 is kept');
    const img = toNumbers(f.get('img') as Tensor);
    assert.ok(img.every((v) => v >= 0 && v < 1) && new Set(img).size > 50);
    const ids = f.get('ids')?.data;
    assert.ok(ids instanceof BigInt64Array && [...ids].every((v) => v >= 0n && v < 10n));
    assert.ok(toNumbers(f.get('mask') as Tensor).every((v) => v === 0 || v === 1));
    assert.ok(toNumbers(f.get('h') as Tensor).every((v) => v >= 0 && v <= 1));
    assert.ok(toNumbers(f.get('q') as Tensor).every((v) => Number.isInteger(v) && v >= 0 && v < 10));
  });

  test('deterministic per seed', () => {
    const a = randomFeeds(inputs, 3, 42);
    const b = randomFeeds(inputs, 3, 42);
    const c = randomFeeds(inputs, 3, 43);
    for (const k of a.keys()) assert.deepEqual(a.get(k), b.get(k));
    assert.notDeepEqual(a.get('img'), c.get('img'));
  });

  test('unknown non-batch dims → USAGE error unless given', () => {
    const seq = [input('tokens', ['batch', 'seq'], 'int32')];
    assert.throws(() => randomFeeds(seq, 1), isErr('USAGE', /input "tokens" has unknown dim "seq" at axis 1/));
    assert.deepEqual(randomFeeds(seq, 2, 0, { seq: 7 }).get('tokens')?.shape, [2, 7]);
  });
});

test('argmaxRows', () => {
  assert.deepEqual([...argmaxRows(Float32Array.of(0.1, 0.7, 0.2, 5, 5, -1, NaN, -3, -2), 3, 3)], [1, 0, 2]);
});
