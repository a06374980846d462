/**
 * Element types of the IR. Names follow numpy / ONNX spelling in lower case.
 * Each dtype knows its storage: which typed array holds its data and how many
 * bits one element takes (sub-byte types are kept packed in a Uint8Array).
 */
export const DTYPES = [
  'float32', 'float16', 'bfloat16', 'float64',
  'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'bool', 'string', 'complex64', 'complex128',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0',
  'uint4', 'int4', 'float4e2m1', 'uint2', 'int2',
] as const;

export type DType = (typeof DTYPES)[number];

export type NumericArray =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

/** Tensor storage: a typed array (float16/bfloat16 as Uint16Array bits, bool as Uint8Array,
 *  complex as interleaved floats, sub-byte types packed), or one byte string per element. */
export type TensorData = NumericArray | Uint8Array[];

type ArrayCtor =
  | Float32ArrayConstructor | Float64ArrayConstructor
  | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor
  | Int32ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

interface DTypeInfo {
  /** bits per element as stored (sub-byte types: 4 or 2). */
  bits: number;
  /** typed array holding the data; undefined for string. */
  array?: ArrayCtor;
  /** elements of `array` per tensor element (2 for complex). */
  lanes: number;
  isFloat: boolean;
  isInt: boolean;
}

const INFO: Record<DType, DTypeInfo> = {
  float32: { bits: 32, array: Float32Array, lanes: 1, isFloat: true, isInt: false },
  float16: { bits: 16, array: Uint16Array, lanes: 1, isFloat: true, isInt: false },
  bfloat16: { bits: 16, array: Uint16Array, lanes: 1, isFloat: true, isInt: false },
  float64: { bits: 64, array: Float64Array, lanes: 1, isFloat: true, isInt: false },
  int8: { bits: 8, array: Int8Array, lanes: 1, isFloat: false, isInt: true },
  uint8: { bits: 8, array: Uint8Array, lanes: 1, isFloat: false, isInt: true },
  int16: { bits: 16, array: Int16Array, lanes: 1, isFloat: false, isInt: true },
  uint16: { bits: 16, array: Uint16Array, lanes: 1, isFloat: false, isInt: true },
  int32: { bits: 32, array: Int32Array, lanes: 1, isFloat: false, isInt: true },
  uint32: { bits: 32, array: Uint32Array, lanes: 1, isFloat: false, isInt: true },
  int64: { bits: 64, array: BigInt64Array, lanes: 1, isFloat: false, isInt: true },
  uint64: { bits: 64, array: BigUint64Array, lanes: 1, isFloat: false, isInt: true },
  bool: { bits: 8, array: Uint8Array, lanes: 1, isFloat: false, isInt: false },
  string: { bits: 0, lanes: 1, isFloat: false, isInt: false },
  complex64: { bits: 64, array: Float32Array, lanes: 2, isFloat: true, isInt: false },
  complex128: { bits: 128, array: Float64Array, lanes: 2, isFloat: true, isInt: false },
  float8e4m3fn: { bits: 8, array: Uint8Array, lanes: 1, isFloat: true, isInt: false },
  float8e4m3fnuz: { bits: 8, array: Uint8Array, lanes: 1, isFloat: true, isInt: false },
  float8e5m2: { bits: 8, array: Uint8Array, lanes: 1, isFloat: true, isInt: false },
  float8e5m2fnuz: { bits: 8, array: Uint8Array, lanes: 1, isFloat: true, isInt: false },
  float8e8m0: { bits: 8, array: Uint8Array, lanes: 1, isFloat: true, isInt: false },
  uint4: { bits: 4, array: Uint8Array, lanes: 1, isFloat: false, isInt: true },
  int4: { bits: 4, array: Uint8Array, lanes: 1, isFloat: false, isInt: true },
  float4e2m1: { bits: 4, array: Uint8Array, lanes: 1, isFloat: true, isInt: false },
  uint2: { bits: 2, array: Uint8Array, lanes: 1, isFloat: false, isInt: true },
  int2: { bits: 2, array: Uint8Array, lanes: 1, isFloat: false, isInt: true },
};

export function dtypeInfo(dtype: DType): DTypeInfo {
  return INFO[dtype];
}

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

export function isFloatDType(dtype: DType): boolean {
  return INFO[dtype].isFloat;
}

export function isIntDType(dtype: DType): boolean {
  return INFO[dtype].isInt;
}

/** Length of the typed array that stores `count` elements of `dtype`. */
export function storageLength(dtype: DType, count: number): number {
  const info = INFO[dtype];
  if (info.bits < 8) return Math.ceil((info.bits * count) / 8);
  return count * info.lanes;
}

/** A typed-array view of `dtype` over `bytes` without copying when the offset is aligned;
 *  otherwise one bulk copy (never an element-by-element loop). Little-endian, as every
 *  model format stores data. */
export function viewBytes(dtype: DType, bytes: Uint8Array, count: number): NumericArray {
  const info = INFO[dtype];
  if (!info.array) throw new Error(`dtype ${dtype} has no numeric storage`);
  const len = storageLength(dtype, count);
  const Ctor = info.array;
  const elemBytes = Ctor.BYTES_PER_ELEMENT;
  const need = len * elemBytes;
  if (bytes.byteLength < need) {
    throw new RangeError(`need ${need} bytes for ${count} × ${dtype}, got ${bytes.byteLength}`);
  }
  if (bytes.byteOffset % elemBytes === 0) {
    return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, len);
  }
  const copy = bytes.slice(0, need);
  return new Ctor(copy.buffer, 0, len);
}

/** The bytes of a typed array, as a view (no copy). */
export function bytesOf(data: NumericArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
