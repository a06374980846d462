import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { toNumbers } from '../../src/ir/tensor.js';
import { isIdx, labelsCandidates, parseIdx } from '../../src/data/idx.js';
import { parseNpz } from '../../src/data/npz.js';
import { MloptError } from '../../src/util/errors.js';

/** IDX bytes built by hand: 0x00 0x00, type byte, rank, big-endian dims, data bytes. */
function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, type, dims.length]);
  const dv = new DataView(out.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const FIX_IMAGES = 'fixtures/data/fmnist_test_100-images-idx3-ubyte.gz';
const FIX_LABELS = 'fixtures/data/fmnist_test_100-labels-idx1-ubyte.gz';
const FIX_NPZ = 'fixtures/data/fmnist_test_1000.npz';

describe('IDX', () => {
  test('uint8 images, raw and gzipped', () => {
    const raw = idx(0x08, [2, 2, 3], Array.from({ length: 12 }, (_, i) => i * 10));
    assert.ok(isIdx(raw));
    for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
      const t = parseIdx(bytes, 'a-images-idx3-ubyte');
      assert.equal(t.dtype, 'uint8');
      assert.deepEqual(t.shape, [2, 2, 3]);
      assert.deepEqual(toNumbers(t), Array.from({ length: 12 }, (_, i) => i * 10));
    }
  });

  test('big-endian multi-byte types are converted', () => {
    const cases: Array<[number, string, number[], number[]]> = [
      [0x09, 'int8', [0xff, 0x80, 0x7f], [-1, -128, 127]],
      [0x0b, 'int16', [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00], [258, -2, -32768]],
      [0x0c, 'int32', [0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff], [256, -1, 2147483647]],
      [0x0d, 'float32', [0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0, 0, 0, 0, 0], [1, -2.5, 0]],
      [0x0e, 'float64', [0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 0, 0, 0, 0, 0, 0, 0, 0], [1, Math.PI, 0]],
    ];
    for (const [type, dtype, bytes, values] of cases) {
      const t = parseIdx(idx(type, [3], bytes));
      assert.equal(t.dtype, dtype);
      assert.deepEqual(toNumbers(t), values);
    }
  });

  test('bad magic, unknown type, truncation, corrupt gzip', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), /f: not an IDX file \(bad magic\)/],
      [idx(0x07, [1], [0]), /unknown type byte 0x07/],
      [idx(0x0c, [3], [0, 0, 0, 1]), /f: truncated IDX data: \[3\] int32 needs 12 bytes, file has 4/],
      [Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3), /f: corrupt gzip data/],
    ];
    for (const [bytes, re] of cases) {
      assert.throws(() => parseIdx(bytes, 'f'), (e: unknown) => e instanceof MloptError && e.code === 'DATA' && re.test(e.message));
    }
    assert.equal(isIdx(idx(0x08, [3], [1, 2])), false, 'size must match the dims');
  });

  test('labels file candidates', () => {
    assert.deepEqual(labelsCandidates(join('d', 't10k-images-idx3-ubyte.gz')), [join('d', 't10k-labels-idx1-ubyte.gz'), join('d', 't10k-labels-idx1-ubyte')]);
    assert.deepEqual(labelsCandidates('train-images-idx3-ubyte'), ['train-labels-idx1-ubyte', 'train-labels-idx1-ubyte.gz']);
    assert.deepEqual(labelsCandidates('t10k-images.idx3-ubyte'), ['t10k-labels.idx1-ubyte', 't10k-labels.idx1-ubyte.gz']);
    assert.deepEqual(labelsCandidates('digits.idx'), []);
  });

  test('Fashion-MNIST fixture (gzipped, written by Python) agrees with the npz fixture',
    { skip: existsSync(FIX_IMAGES) && existsSync(FIX_LABELS) ? false : 'IDX fixtures not generated yet' }, () => {
      const images = parseIdx(readFileSync(FIX_IMAGES), FIX_IMAGES);
      const labels = parseIdx(readFileSync(FIX_LABELS), FIX_LABELS);
      assert.equal(images.dtype, 'uint8');
      assert.deepEqual(images.shape, [100, 28, 28]);
      assert.deepEqual(labels.shape, [100]);
      if (!existsSync(FIX_NPZ)) return;
      const npz = parseNpz(readFileSync(FIX_NPZ), FIX_NPZ);
      const x = npz.get('x')?.data as Uint8Array;
      const y = npz.get('y')?.data as Uint8Array;
      assert.deepEqual(images.data, x.subarray(0, 100 * 784));
      assert.deepEqual(labels.data, y.subarray(0, 100));
    });
});
