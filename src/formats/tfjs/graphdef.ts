/**
 * TensorFlow GraphDef as TF.js graph models store it: the proto3 JSON mapping of `NodeDef`s
 * (`name`, `op`, `input` — 'x', 'x:1', '^ctrl' — and `attr`). Attribute values follow the JSON
 * mapping of `AttrValue`: bytes are base64 (`s`), int64 are decimal strings (`i`), enums are
 * names (`type: 'DT_FLOAT'`), and a field equal to its default may be left out entirely.
 */
import type { DType } from '../../ir/dtype.js';
import { viewBytes } from '../../ir/dtype.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { elementCount } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';

export interface TfShapeProto {
  dim?: Array<{ size?: string | number; name?: string }>;
  unknownRank?: boolean;
}
export interface TfTensorProto {
  dtype?: string;
  tensorShape?: TfShapeProto;
  tensorContent?: string;
  floatVal?: Array<number | string>;
  doubleVal?: Array<number | string>;
  intVal?: Array<number | string>;
  int64Val?: Array<number | string>;
  boolVal?: boolean[];
  halfVal?: Array<number | string>;
  stringVal?: string[];
}
export interface TfAttrList {
  s?: string[];
  i?: Array<string | number>;
  f?: Array<number | string>;
  b?: boolean[];
  type?: string[];
  shape?: TfShapeProto[];
  tensor?: TfTensorProto[];
}
export interface TfAttrValue {
  s?: string;
  i?: string | number;
  f?: number | string;
  b?: boolean;
  type?: string;
  shape?: TfShapeProto;
  tensor?: TfTensorProto;
  list?: TfAttrList;
  func?: { name?: string };
}
export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
  device?: string;
}
export interface TfGraphDef {
  node?: TfNodeDef[];
  library?: { function?: unknown[] };
  versions?: Record<string, unknown>;
}

const DTYPES: Record<string, DType> = {
  DT_FLOAT: 'float32', DT_DOUBLE: 'float64', DT_INT32: 'int32', DT_UINT8: 'uint8', DT_INT16: 'int16', DT_INT8: 'int8',
  DT_STRING: 'string', DT_COMPLEX64: 'complex64', DT_INT64: 'int64', DT_BOOL: 'bool', DT_BFLOAT16: 'bfloat16',
  DT_UINT16: 'uint16', DT_COMPLEX128: 'complex128', DT_HALF: 'float16', DT_UINT32: 'uint32', DT_UINT64: 'uint64',
};

/** The IR dtype of a TF DataType name ('DT_FLOAT'); `_REF` types read as their value type. */
export function tfDType(name: string | undefined, where: string): DType {
  const d = DTYPES[(name ?? 'DT_FLOAT').replace(/_REF$/, '')];
  if (!d) throw new MloptError('UNSUPPORTED', `${where}: TF data type ${name} is not supported`);
  return d;
}

/** 'x' → {node: 'x', index: 0}; 'x:1' → index 1; '^x' → a control input. */
export function parseInputRef(ref: string): { node: string; index: number; control: boolean } {
  if (ref.startsWith('^')) return { node: ref.slice(1), index: 0, control: true };
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1]!, index: Number(m[2]), control: false } : { node: ref, index: 0, control: false };
}

export function decodeBase64(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
const text = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const num = (v: string | number): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v));

/** Typed access to one node's attributes, with defaults for absent ones. */
export class TfAttrs {
  constructor(private readonly node: TfNodeDef) {}
  has(name: string): boolean {
    return this.node.attr?.[name] !== undefined;
  }
  private get(name: string): TfAttrValue | undefined {
    return this.node.attr?.[name];
  }
  string(name: string, dflt = ''): string {
    const a = this.get(name);
    return a === undefined ? dflt : a.s !== undefined ? text(a.s) : '';
  }
  int(name: string, dflt = 0): number {
    const a = this.get(name);
    return a === undefined ? dflt : a.i !== undefined ? Number(a.i) : 0;
  }
  float(name: string, dflt = 0): number {
    const a = this.get(name);
    return a === undefined ? dflt : a.f !== undefined ? num(a.f) : 0;
  }
  bool(name: string, dflt = false): boolean {
    const a = this.get(name);
    return a === undefined ? dflt : a.b ?? false;
  }
  type(name: string): string | undefined {
    return this.get(name)?.type;
  }
  ints(name: string, dflt: number[] = []): number[] {
    const a = this.get(name);
    return a === undefined ? dflt : (a.list?.i ?? []).map(Number);
  }
  strings(name: string): string[] {
    return (this.get(name)?.list?.s ?? []).map(text);
  }
  shape(name: string): TfShapeProto | undefined {
    return this.get(name)?.shape;
  }
  tensor(name: string): TfTensorProto | undefined {
    return this.get(name)?.tensor;
  }
}

/** Dims of a TensorShapeProto (-1 stays -1); undefined for an unknown rank. */
export function shapeDims(s: TfShapeProto | undefined): number[] | undefined {
  if (!s || s.unknownRank) return undefined;
  return (s.dim ?? []).map((d) => (d.size === undefined ? 0 : Number(d.size)));
}

/** A symbolic IR shape: -1 → 'batch' on axis 0, `<prefix>_d<k>` elsewhere. */
export function irDims(dims: number[], prefix: string): Dim[] {
  return dims.map((d, k) => (d >= 0 ? d : k === 0 ? 'batch' : `${prefix}_d${k}`));
}

/** The value of a TensorProto held in a GraphDef attr (tensor_content, or the repeated *_val fields). */
export function tensorFromProto(t: TfTensorProto, where: string): Tensor {
  const dtype = tfDType(t.dtype, where);
  const shape = shapeDims(t.tensorShape) ?? [];
  if (shape.some((d) => d < 0)) throw new MloptError('CORRUPT_MODEL', `${where}: a constant has an unknown dimension`);
  const count = elementCount(shape);
  if (dtype === 'string') {
    const vals = (t.stringVal ?? []).map(decodeBase64);
    return { dtype, shape, data: Array.from({ length: count }, (_, i) => vals[Math.min(i, vals.length - 1)] ?? new Uint8Array(0)) };
  }
  if (t.tensorContent !== undefined) {
    const bytes = decodeBase64(t.tensorContent).slice();
    return { dtype, shape, data: viewBytes(dtype, bytes, count) };
  }
  const raw: Array<number | string | boolean> =
    dtype === 'float32' || dtype === 'complex64' ? (t.floatVal ?? []) :
    dtype === 'float64' || dtype === 'complex128' ? (t.doubleVal ?? []) :
    dtype === 'int64' || dtype === 'uint64' ? (t.int64Val ?? []) :
    dtype === 'bool' ? (t.boolVal ?? []) :
    dtype === 'float16' || dtype === 'bfloat16' ? (t.halfVal ?? []) :
    (t.intVal ?? []);
  // a repeated field shorter than the tensor repeats its last value (TF's convention)
  const at = (i: number): number => {
    const v = raw.length ? raw[Math.min(i, raw.length - 1)]! : 0;
    return typeof v === 'boolean' ? Number(v) : num(v);
  };
  switch (dtype) {
    case 'float32':
      return { dtype, shape, data: Float32Array.from({ length: count }, (_, i) => at(i)) };
    case 'float64':
      return { dtype, shape, data: Float64Array.from({ length: count }, (_, i) => at(i)) };
    case 'int64':
      return { dtype, shape, data: BigInt64Array.from({ length: count }, (_, i) => BigInt(String(raw.length ? raw[Math.min(i, raw.length - 1)] : 0))) };
    case 'uint64':
      return { dtype, shape, data: BigUint64Array.from({ length: count }, (_, i) => BigInt(String(raw.length ? raw[Math.min(i, raw.length - 1)] : 0))) };
    case 'int32':
      return { dtype, shape, data: Int32Array.from({ length: count }, (_, i) => at(i)) };
    case 'uint32':
      return { dtype, shape, data: Uint32Array.from({ length: count }, (_, i) => at(i)) };
    case 'int16':
      return { dtype, shape, data: Int16Array.from({ length: count }, (_, i) => at(i)) };
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return { dtype, shape, data: Uint16Array.from({ length: count }, (_, i) => at(i)) };
    case 'int8':
      return { dtype, shape, data: Int8Array.from({ length: count }, (_, i) => at(i)) };
    case 'uint8':
    case 'bool':
      return { dtype, shape, data: Uint8Array.from({ length: count }, (_, i) => at(i)) };
    default:
      throw new MloptError('UNSUPPORTED', `${where}: constants of type ${t.dtype} are not supported`);
  }
}

/** `t` as `dtype` (integer and float conversions, as TF.js's own int32 storage of int64 constants needs). */
export function convertTensor(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  const src = t.data;
  if (Array.isArray(src)) return t;
  const n = elementCount(t.shape);
  const get = (i: number): number => Number((src as ArrayLike<number | bigint>)[i]);
  switch (dtype) {
    case 'int64':
      return { dtype, shape: t.shape, data: BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(get(i)))) };
    case 'float32':
      return { dtype, shape: t.shape, data: Float32Array.from({ length: n }, (_, i) => get(i)) };
    case 'float64':
      return { dtype, shape: t.shape, data: Float64Array.from({ length: n }, (_, i) => get(i)) };
    case 'int32':
      return { dtype, shape: t.shape, data: Int32Array.from({ length: n }, (_, i) => get(i)) };
    case 'bool':
      return { dtype, shape: t.shape, data: Uint8Array.from({ length: n }, (_, i) => (get(i) ? 1 : 0)) };
    case 'uint8':
      return { dtype, shape: t.shape, data: Uint8Array.from({ length: n }, (_, i) => get(i)) };
    case 'int8':
      return { dtype, shape: t.shape, data: Int8Array.from({ length: n }, (_, i) => get(i)) };
    case 'int16':
      return { dtype, shape: t.shape, data: Int16Array.from({ length: n }, (_, i) => get(i)) };
    default:
      return t;
  }
}
