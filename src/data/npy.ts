/**
 * NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: magic "\x93NUMPY", major, minor, header length (uint16 LE for v1,
 * uint32 LE for v2/v3), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
 * spaces and a final newline, then the raw array bytes.
 *
 * The array data is a typed-array view over the given bytes when the data
 * offset is aligned (one bulk copy otherwise); big-endian data and Fortran order
 * are converted into little-endian C order.
 */
import { endianness } from 'node:os';
import { type DType, type NumericArray, bytesOf, dtypeInfo, viewBytes } from '../ir/dtype.js';
import { type Tensor, elementCount, isNumericData } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY

/** numpy type code (kind + item size) → IR dtype. */
const FROM_CODE: Record<string, DType> = {
  f2: 'float16', f4: 'float32', f8: 'float64',
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64',
  b1: 'bool', c8: 'complex64', c16: 'complex128',
};
const TO_CODE: Partial<Record<DType, string>> = Object.fromEntries(
  Object.entries(FROM_CODE).map(([code, dt]) => [dt, code]),
);

const KIND_NAMES: Record<string, string> = {
  O: 'object', U: 'unicode string', S: 'byte string', a: 'byte string', V: 'void/record',
  M: 'datetime64', m: 'timedelta64',
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && NPY_MAGIC.every((b, i) => bytes[i] === b);
}

/** Parse a .npy file. `source` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, source = '<npy>'): Tensor {
  const fail = (why: string): MloptError => new MloptError('DATA', `${source}: ${why}`);
  if (!isNpy(bytes)) throw fail('not a .npy file (missing \\x93NUMPY magic)');
  if (bytes.length < 10) throw fail('truncated .npy header');
  const major = bytes[6] as number;
  const minor = bytes[7] as number;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw fail('truncated .npy header');
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw fail(`unsupported .npy format version ${major}.${minor}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw fail('truncated .npy header');
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);

  let header: PyValue;
  try {
    header = parsePyLiteral(text);
  } catch (e) {
    throw fail(`bad .npy header (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isDict(header)) throw fail('bad .npy header (not a dict)');
  const { descr, fortran_order: fortran, shape } = header;
  if (Array.isArray(descr)) throw fail('structured (record) arrays are not supported');
  if (typeof descr !== 'string') throw fail("bad .npy header (missing 'descr')");
  if (typeof fortran !== 'boolean') throw fail("bad .npy header (missing 'fortran_order')");
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw fail("bad .npy header (missing or invalid 'shape')");
  }
  const dims = shape as number[];
  const { dtype, bigEndian } = parseDescr(descr, fail);

  const count = elementCount(dims);
  const info = dtypeInfo(dtype);
  const itemBytes = info.bits / 8;
  const need = count * itemBytes;
  if (bytes.length - dataStart < need) {
    throw fail(`truncated .npy data: ${dims.length ? `[${dims.join(',')}]` : 'scalar'} ${descr} needs ${need} bytes, file has ${bytes.length - dataStart}`);
  }
  const raw = bytes.subarray(dataStart, dataStart + need);
  let data: NumericArray;
  const laneBytes = itemBytes / info.lanes;
  if (bigEndian && laneBytes > 1) {
    const copy = raw.slice();
    byteSwapInPlace(copy, laneBytes);
    data = viewBytes(dtype, copy, count);
  } else {
    data = viewBytes(dtype, raw, count);
  }
  if (fortran && dims.length > 1) {
    // Fortran order = C order of the reversed shape; transpose by reversing the axes.
    const rev = [...dims].reverse();
    const perm = rev.map((_, i) => rev.length - 1 - i);
    data = transposeData(data, rev, perm, info.lanes);
  }
  return { dtype, shape: dims, data };
}

function parseDescr(descr: string, fail: (why: string) => MloptError): { dtype: DType; bigEndian: boolean } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) {
    const kind = KIND_NAMES[descr.replace(/^[<>|=]/, '')[0] ?? ''];
    throw fail(kind ? `${kind} arrays (dtype '${descr}') are not supported` : `unsupported dtype '${descr}'`);
  }
  const [, order, kind, size] = m as unknown as [string, string, string, string];
  const dtype = FROM_CODE[kind + size];
  if (!dtype) {
    const what = KIND_NAMES[kind];
    throw fail(what ? `${what} arrays (dtype '${descr}') are not supported` : `unsupported dtype '${descr}'`);
  }
  const native = endianness() === 'BE' ? '>' : '<';
  const effective = order === '=' || order === '|' || order === '' ? native : order;
  return { dtype, bigEndian: effective === '>' };
}

/** Reverse the byte order of every `width`-byte element of `bytes`, in place. */
export function byteSwapInPlace(bytes: Uint8Array, width: number): void {
  if (width <= 1) return;
  const n = bytes.length - (bytes.length % width);
  for (let i = 0; i < n; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/**
 * Transpose C-ordered `src` of `shape` by `perm` (output axis i = input axis perm[i]) into a
 * new array of the same type. `lanes` > 1 keeps groups of that many storage elements together
 * (complex numbers).
 */
export function transposeData<T extends NumericArray>(src: T, shape: readonly number[], perm: readonly number[], lanes = 1): T {
  const rank = shape.length;
  const count = elementCount(shape);
  const dst = new (src.constructor as new (n: number) => T)(count * lanes);
  const s = src as unknown as number[];
  const d = dst as unknown as number[];
  if (count === 0) return dst;
  // Input strides (in elements), permuted into output axis order.
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, acc = 1; i >= 0; i--) {
    inStrides[i] = acc;
    acc *= shape[i] as number;
  }
  const outShape = perm.map((p) => shape[p] as number);
  const strides = perm.map((p) => inStrides[p] as number);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let o = 0; o < count; o++) {
    if (lanes === 1) d[o] = s[off] as number;
    else for (let l = 0; l < lanes; l++) d[o * lanes + l] = s[off * lanes + l] as number;
    // Advance the output index like an odometer, keeping the input offset in step.
    for (let ax = rank - 1; ax >= 0; ax--) {
      const i = (idx[ax] as number) + 1;
      if (i < (outShape[ax] as number)) {
        idx[ax] = i;
        off += strides[ax] as number;
        break;
      }
      idx[ax] = 0;
      off -= (i - 1) * (strides[ax] as number);
    }
  }
  return dst;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half-precision bits of `x` (round to nearest even). */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  let shift = 13;
  let h: number;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    h = mant >>> shift;
  } else {
    h = (e << 10) | (mant >>> 13);
  }
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && h & 1)) h++; // a carry into the exponent is still correct
  return sign | h;
}

/** Serialize a tensor as a version 1.0 .npy file (2.0 if the header would not fit). */
export function writeNpy(t: Tensor): Uint8Array {
  const code = TO_CODE[t.dtype];
  if (!code || !isNumericData(t.data)) {
    throw new MloptError('DATA', `cannot write a ${t.dtype} tensor as .npy (unsupported dtype)`);
  }
  const order = code === 'u1' || code === 'i1' || code === 'b1' ? '|' : '<';
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${order}${code}', 'fortran_order': False, 'shape': ${shape}, }`;
  const enc = new TextEncoder();
  let version = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  dict = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const data = bytesOf(t.data);
  const out = new Uint8Array(total + data.byteLength);
  out.set(NPY_MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, total - prefix, true);
  else dv.setUint32(8, total - prefix, true);
  out.set(enc.encode(dict), prefix);
  out.set(data, total);
  if (endianness() === 'BE') byteSwapInPlace(out.subarray(total), dtypeInfo(t.dtype).bits / 8 / dtypeInfo(t.dtype).lanes);
  return out;
}

// ---------------------------------------------------------------------------
// A minimal parser for the Python literals numpy writes in .npy headers.

type PyValue = string | number | boolean | null | PyValue[] | PyDict;
interface PyDict { [key: string]: PyValue }

function isDict(v: PyValue): v is PyDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const expect = (c: string): void => {
    ws();
    if (text[i] !== c) throw new Error(`expected '${c}' at ${i}`);
    i++;
  };
  const seq = (close: string, item: () => void): void => {
    ws();
    while (text[i] !== close) {
      item();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`);
      ws();
    }
    i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: PyDict = {};
      seq('}', () => {
        const k = value();
        if (typeof k !== 'string') throw new Error('dict key is not a string');
        expect(':');
        obj[k] = value();
      });
      return obj;
    }
    if (c === '(' || c === '[') {
      i++;
      const arr: PyValue[] = [];
      seq(c === '(' ? ')' : ']', () => arr.push(value()));
      return arr;
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') i++;
        s += text[i] ?? '';
        i++;
      }
      if (i >= text.length) throw new Error('unterminated string');
      i++;
      return s;
    }
    const m = /^(True|False|None|[-+]?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) throw new Error(`unexpected ${c === undefined ? 'end' : `'${c}'`} at ${i}`);
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number.parseInt(m[0], 10);
  };
  const v = value();
  ws();
  if (i < text.length) throw new Error(`trailing text at ${i}`);
  return v;
}
