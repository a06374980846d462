import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { zipSync } from 'fflate';
import { toNumbers } from '../../src/ir/tensor.js';
import { isZip, parseNpz, writeNpz } from '../../src/data/npz.js';
import { writeNpy } from '../../src/data/npy.js';
import { MloptError } from '../../src/util/errors.js';

const FIXTURE = 'fixtures/data/fmnist_test_1000.npz';

/** Compression method of each local file header in a zip (0 stored, 8 deflate). */
function methods(zip: Uint8Array): number[] {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out: number[] = [];
  let off = 0;
  while (off + 30 <= zip.length && dv.getUint32(off, true) === 0x04034b50) {
    out.push(dv.getUint16(off + 8, true));
    off += 30 + dv.getUint32(off + 18, true) + dv.getUint16(off + 26, true) + dv.getUint16(off + 28, true);
  }
  return out;
}

const arrays = {
  x: { dtype: 'uint8' as const, shape: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) },
  y: { dtype: 'int64' as const, shape: [3], data: BigInt64Array.of(0n, 9n, 4n) },
  'weird name': { dtype: 'float32' as const, shape: [2], data: Float32Array.of(0.25, -1) },
};

describe('npz', () => {
  for (const compress of [false, true]) {
    test(`round trip, ${compress ? 'deflated (savez_compressed)' : 'stored (savez)'}`, () => {
      const zip = writeNpz(arrays, { compress });
      assert.ok(isZip(zip));
      assert.deepEqual(methods(zip), compress ? [8, 8, 8] : [0, 0, 0]);
      const m = parseNpz(zip, 'a.npz');
      assert.deepEqual([...m.keys()], ['x', 'y', 'weird name']);
      for (const [k, t] of Object.entries(arrays)) {
        const got = m.get(k);
        assert.ok(got);
        assert.equal(got.dtype, t.dtype);
        assert.deepEqual(got.shape, t.shape);
        assert.deepEqual(toNumbers(got), toNumbers(t));
      }
    });
  }

  test('accepts a Map and skips non-.npy entries', () => {
    const zip = zipSync({ 'x.npy': writeNpy(arrays.x), 'README.txt': new TextEncoder().encode('hi') }, { level: 0 });
    assert.deepEqual([...parseNpz(zip).keys()], ['x']);
    assert.deepEqual([...parseNpz(writeNpz(new Map([['z', arrays.y]]))).keys()], ['z']);
  });

  test('corrupt zip → MloptError DATA "<file>: not a valid .npz (…)"', () => {
    const zip = writeNpz(arrays, { compress: true });
    for (const bad of [zip.subarray(0, zip.length - 30), zip.subarray(0, 40), Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0)]) {
      assert.throws(() => parseNpz(bad, 'bad.npz'), (e: unknown) =>
        e instanceof MloptError && e.code === 'DATA' && /^bad\.npz: not a valid \.npz \(.+\)$/.test(e.message));
    }
    const flipped = zip.slice();
    flipped.fill(0x55, 60, 90); // garbage inside the first deflate stream
    assert.throws(() => parseNpz(flipped, 'bad.npz'), (e: unknown) => e instanceof MloptError && e.code === 'DATA');
  });

  test('a zip without .npy entries and a broken entry are named in the error', () => {
    const none = zipSync({ 'a.txt': Uint8Array.of(1) });
    assert.throws(() => parseNpz(none, 'n.npz'), /n\.npz: not a valid \.npz \(no \.npy arrays inside\)/);
    const broken = zipSync({ 'x.npy': Uint8Array.of(1, 2, 3) });
    assert.throws(() => parseNpz(broken, 'b.npz'), /b\.npz:x\.npy: not a \.npy file/);
  });

  test('numpy-written fixture (savez_compressed, zip64 extras)', { skip: existsSync(FIXTURE) ? false : `${FIXTURE} not generated yet` }, () => {
    const m = parseNpz(readFileSync(FIXTURE), FIXTURE);
    const x = m.get('x');
    const y = m.get('y');
    assert.ok(x && y);
    assert.equal(x.dtype, 'uint8');
    assert.deepEqual(x.shape, [1000, 28, 28, 1]);
    assert.equal(y.dtype, 'uint8');
    assert.deepEqual(y.shape, [1000]);
    const labels = toNumbers(y);
    assert.ok(labels.every((v) => v >= 0 && v <= 9));
    assert.equal(new Set(labels).size, 10);
    assert.ok((x.data as Uint8Array).some((v) => v === 255));
  });
});
