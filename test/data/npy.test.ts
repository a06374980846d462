import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DType } from '../../src/ir/dtype.js';
import { float16ToNumber, toNumbers } from '../../src/ir/tensor.js';
import { parseNpy, toFloat16Bits, transposeData, writeNpy } from '../../src/data/npy.js';
import { MloptError } from '../../src/util/errors.js';

/** A .npy file built by hand per the format spec: magic, version, header length, header text, data. */
function handNpy(header: string, data: Uint8Array, major = 1): Uint8Array {
  const h = new TextEncoder().encode(header);
  const pre = major === 1 ? 10 : 12;
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}
const hdr = (descr: string, shape: string, fortran = false): string =>
  `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }\n`;

type Setter = (dv: DataView, off: number, v: number, le: boolean) => void;
const CASES: Array<{ code: string; dtype: DType; size: number; set: Setter; values: number[] }> = [
  { code: 'f4', dtype: 'float32', size: 4, set: (d, o, v, le) => d.setFloat32(o, v, le), values: [1.5, -2.25, 1e10] },
  { code: 'f8', dtype: 'float64', size: 8, set: (d, o, v, le) => d.setFloat64(o, v, le), values: [Math.PI, -1e-300, 7] },
  { code: 'f2', dtype: 'float16', size: 2, set: (d, o, v, le) => d.setUint16(o, toFloat16Bits(v), le), values: [1, -0.5, 65504] },
  { code: 'u1', dtype: 'uint8', size: 1, set: (d, o, v) => d.setUint8(o, v), values: [0, 128, 255] },
  { code: 'i1', dtype: 'int8', size: 1, set: (d, o, v) => d.setInt8(o, v), values: [-128, 0, 127] },
  { code: 'i2', dtype: 'int16', size: 2, set: (d, o, v, le) => d.setInt16(o, v, le), values: [-32768, 1, 32767] },
  { code: 'u2', dtype: 'uint16', size: 2, set: (d, o, v, le) => d.setUint16(o, v, le), values: [0, 258, 65535] },
  { code: 'i4', dtype: 'int32', size: 4, set: (d, o, v, le) => d.setInt32(o, v, le), values: [-2147483648, 5, 2147483647] },
  { code: 'u4', dtype: 'uint32', size: 4, set: (d, o, v, le) => d.setUint32(o, v, le), values: [0, 0x01020304, 0xffffffff] },
  { code: 'i8', dtype: 'int64', size: 8, set: (d, o, v, le) => d.setBigInt64(o, BigInt(v), le), values: [-(2 ** 40), 3, 2 ** 50] },
  { code: 'u8', dtype: 'uint64', size: 8, set: (d, o, v, le) => d.setBigUint64(o, BigInt(v), le), values: [0, 2 ** 33, 2 ** 52] },
  { code: 'b1', dtype: 'bool', size: 1, set: (d, o, v) => d.setUint8(o, v), values: [1, 0, 1] },
];

function encode(size: number, set: Setter, values: number[], le: boolean): Uint8Array {
  const bytes = new Uint8Array(size * values.length);
  const dv = new DataView(bytes.buffer);
  values.forEach((v, i) => set(dv, i * size, v, le));
  return bytes;
}

function decoded(dtype: DType, values: number[]): number[] {
  return dtype === 'float32' ? values.map((v) => Math.fround(v)) : values;
}

describe('parseNpy', () => {
  test('minimal hand-made file: <i2 (3,)', () => {
    const bytes = Uint8Array.from([
      0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x3c, 0, // magic, v1.0, header length 60
      ...new TextEncoder().encode("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }  \n"),
      0x01, 0x00, 0xfe, 0xff, 0x03, 0x00,
    ]);
    assert.equal(bytes.length, 10 + 60 + 6);
    const t = parseNpy(bytes);
    assert.equal(t.dtype, 'int16');
    assert.deepEqual(t.shape, [3]);
    assert.ok(t.data instanceof Int16Array);
    assert.deepEqual([...(t.data as Int16Array)], [1, -2, 3]);
  });

  for (const c of CASES) {
    const order = c.size === 1 ? '|' : '<';
    test(`dtype ${order}${c.code} (little-endian)`, () => {
      const t = parseNpy(handNpy(hdr(`${order}${c.code}`, '(3,)'), encode(c.size, c.set, c.values, true)));
      assert.equal(t.dtype, c.dtype);
      assert.deepEqual(t.shape, [3]);
      assert.deepEqual(toNumbers(t), decoded(c.dtype, c.values));
    });
    if (c.size > 1) {
      test(`dtype >${c.code} (big-endian, converted)`, () => {
        const t = parseNpy(handNpy(hdr(`>${c.code}`, '(3,)'), encode(c.size, c.set, c.values, false)));
        assert.equal(t.dtype, c.dtype);
        assert.deepEqual(toNumbers(t), decoded(c.dtype, c.values));
      });
    }
    test(`writeNpy round trip ${c.dtype}`, () => {
      const src = parseNpy(handNpy(hdr(`${order}${c.code}`, '(3, 1)'), encode(c.size, c.set, c.values, true)));
      const bytes = writeNpy(src);
      const text = new TextDecoder('latin1').decode(bytes.subarray(10, 10 + new DataView(bytes.buffer).getUint16(8, true)));
      assert.match(text, new RegExp(`'descr': '[<|]${c.code}'`));
      assert.match(text, /'shape': \(3, 1\)/);
      const back = parseNpy(bytes);
      assert.equal(back.dtype, c.dtype);
      assert.deepEqual(back.shape, [3, 1]);
      assert.deepEqual(toNumbers(back), toNumbers(src));
    });
  }

  test("'=' and '|' byte-order marks mean native order", () => {
    const f = parseNpy(handNpy(hdr('=f4', '(2,)'), encode(4, (d, o, v, le) => d.setFloat32(o, v, le), [1, 2], true)));
    assert.deepEqual(toNumbers(f), [1, 2]);
    const b = parseNpy(handNpy(hdr('|b1', '(2,)'), Uint8Array.of(0, 1)));
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(toNumbers(b), [0, 1]);
  });

  test('data is a view over the file bytes when aligned, one copy otherwise', () => {
    const file = writeNpy({ dtype: 'float32', shape: [4], data: Float32Array.of(1, 2, 3, 4) });
    const t = parseNpy(file);
    assert.equal((t.data as Float32Array).buffer, file.buffer, 'aligned: a view');
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const u = parseNpy(shifted.subarray(1));
    assert.notEqual((u.data as Float32Array).buffer, shifted.buffer, 'unaligned: copied');
    assert.deepEqual(toNumbers(u), [1, 2, 3, 4]);
  });

  test('fortran_order True is transposed into C order (2-D and 3-D)', () => {
    const f2 = (vals: number[]): Uint8Array => encode(4, (d, o, v, le) => d.setInt32(o, v, le), vals, true);
    const t = parseNpy(handNpy(hdr('<i4', '(2, 3)', true), f2([1, 4, 2, 5, 3, 6])));
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(toNumbers(t), [1, 2, 3, 4, 5, 6]);
    // (i,j,k) stored at i + 2j + 6k in Fortran order; value 100i + 10j + k.
    const col = new Array<number>(24);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) col[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    const u = parseNpy(handNpy(hdr('<i4', '(2, 3, 4)', true), f2(col)));
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    assert.deepEqual(toNumbers(u), expected);
  });

  test('format 2.0 and 3.0 headers, py2 long dims, scalar shape', () => {
    const data = encode(8, (d, o, v, le) => d.setFloat64(o, v, le), [0.5, 1.5], true);
    const v2 = parseNpy(handNpy(hdr('<f8', '(1, 2)'), data, 2));
    assert.deepEqual(v2.shape, [1, 2]);
    assert.deepEqual(toNumbers(v2), [0.5, 1.5]);
    const v3 = parseNpy(handNpy(`{"descr": "<f8", "fortran_order": False, "shape": (2L,)}\n`, data, 3));
    assert.deepEqual(v3.shape, [2]);
    const s = parseNpy(handNpy(hdr('<f8', '()'), data.subarray(0, 8)));
    assert.deepEqual(s.shape, []);
    assert.deepEqual(toNumbers(s), [0.5]);
  });

  test('rejects object, string and structured arrays, bad versions, truncation', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [handNpy(hdr('|O', '(2,)'), new Uint8Array(16)), /a\.npy: object arrays \(dtype '\|O'\) are not supported/],
      [handNpy(hdr('<U5', '(2,)'), new Uint8Array(40)), /unicode string arrays/],
      [handNpy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }\n", new Uint8Array(4)), /structured/],
      [handNpy(hdr('<i4', '(4,)'), new Uint8Array(8)), /truncated .npy data: \[4\] <i4 needs 16 bytes, file has 8/],
      [handNpy(hdr('<i4', '(x,)'), new Uint8Array(8)), /bad .npy header/],
      [handNpy(hdr('<i4', '(1,)'), new Uint8Array(4), 9), /unsupported .npy format version 9\.0/],
      [Uint8Array.of(1, 2, 3), /not a \.npy file/],
    ];
    for (const [bytes, re] of cases) {
      assert.throws(() => parseNpy(bytes, 'a.npy'), (e: unknown) => e instanceof MloptError && e.code === 'DATA' && re.test(e.message) && !e.message.includes('\n'));
    }
  });

  test('writeNpy pads the header to 64 bytes and rejects unsupported dtypes', () => {
    const bytes = writeNpy({ dtype: 'uint8', shape: [2, 2], data: Uint8Array.of(1, 2, 3, 4) });
    const dataStart = 10 + new DataView(bytes.buffer).getUint16(8, true);
    assert.equal(dataStart % 64, 0);
    assert.equal(bytes[dataStart - 1], 0x0a, 'header ends with a newline');
    assert.deepEqual([...bytes.subarray(dataStart)], [1, 2, 3, 4]);
    assert.throws(() => writeNpy({ dtype: 'bfloat16', shape: [1], data: Uint16Array.of(0) }), /cannot write a bfloat16 tensor/);
  });
});

describe('helpers', () => {
  test('transposeData with a general permutation', () => {
    const src = Int32Array.from({ length: 24 }, (_, i) => i); // shape [2,3,4]
    const out = transposeData(src, [2, 3, 4], [2, 0, 1]); // → [4,2,3]
    for (let a = 0; a < 4; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) {
      assert.equal(out[(a * 2 + b) * 3 + c], src[(b * 3 + c) * 4 + a]);
    }
  });

  test('toFloat16Bits', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [70000, 0x7c00], [2 ** -24, 0x0001],
      [2 ** -26, 0], [0, 0], [-Infinity, 0xfc00], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    ];
    for (const [x, bits] of cases) assert.equal(toFloat16Bits(x), bits, `f16(${x})`);
    assert.ok(Number.isNaN(float16ToNumber(toFloat16Bits(NaN))));
    for (let h = 0; h < 0x7c00; h += 7) assert.equal(toFloat16Bits(float16ToNumber(h)), h);
  });
});
