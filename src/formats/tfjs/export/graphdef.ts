/**
 * TensorFlow GraphDef in the JSON form tfjs-converter reads (`modelTopology.node`): node names,
 * `input` references (`name` or `name:i` for output i), attributes as tagged values (`{i: '1'}`
 * int64 as a decimal string, `{s: base64}`, `{list: {i: [...]}}`, `{type: 'DT_FLOAT'}`,
 * `{shape: {dim: [{size: '-1'}]}}`). Const nodes carry only dtype and shape: their data goes to
 * the weights manifest under the node's name.
 */
import type { DType } from '../../../ir/dtype.js';
import type { Dim, Tensor } from '../../../ir/tensor.js';
import { toNumbers } from '../../../ir/tensor.js';
import { MloptError } from '../../../util/errors.js';

export interface TfShape {
  dim?: Array<{ size: string }>;
  unknownRank?: boolean;
}

export interface TfAttr {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: TfShape;
  tensor?: { dtype: string; tensorShape: TfShape };
  list?: { s?: string[]; i?: string[]; f?: number[]; type?: string[]; shape?: TfShape[] };
}

export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

/** The dtypes a TF.js graph model computes in: every float is float32, every integer int32. */
export type TfjsDType = 'float32' | 'int32' | 'bool' | 'string';

export function tfjsDType(d: DType | undefined): TfjsDType {
  if (d === undefined || d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64') return 'float32';
  if (d === 'bool') return 'bool';
  if (d === 'string') return 'string';
  if (['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'].includes(d)) return 'int32';
  throw new MloptError('UNSUPPORTED', `${d} tensors have no TF.js counterpart (TF.js computes in float32, int32, bool and string)`);
}

const TF_DTYPE: Record<TfjsDType, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL', string: 'DT_STRING' };

export function tfShape(dims: readonly Dim[] | undefined): TfShape {
  if (!dims) return { unknownRank: true };
  return { dim: dims.map((d) => ({ size: String(typeof d === 'number' && d >= 0 ? d : -1) })) };
}

/** Attribute constructors. */
export const A = {
  type: (d: DType | TfjsDType | undefined): TfAttr => ({ type: TF_DTYPE[tfjsDType(d as DType)] }),
  s: (v: string): TfAttr => ({ s: Buffer.from(v, 'utf8').toString('base64') }),
  i: (v: number): TfAttr => ({ i: String(Math.trunc(v)) }),
  f: (v: number): TfAttr => ({ f: v }),
  b: (v: boolean): TfAttr => ({ b: v }),
  ints: (v: readonly number[]): TfAttr => ({ list: v.length ? { i: v.map((x) => String(Math.trunc(x))) } : {} }),
  strs: (v: readonly string[]): TfAttr => ({ list: { s: v.map((x) => Buffer.from(x, 'utf8').toString('base64')) } }),
  shape: (dims: readonly Dim[] | undefined): TfAttr => ({ shape: tfShape(dims) }),
};

/** TF node names: `[A-Za-z0-9.][A-Za-z0-9_.\-/]*` (no ':', which separates the output index). */
function sanitize(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^\/+|\/+$/g, '').replace(/\/\/+/g, '/');
  if (!/^[A-Za-z0-9.]/.test(s)) s = `n${s}`;
  return s;
}

/** Tensor data as the dtype TF.js will hold it. */
export function asTfjsTensor(t: Tensor): Tensor & { dtype: TfjsDType } {
  const d = tfjsDType(t.dtype);
  if (d === 'float32') {
    if (t.dtype === 'float32') return t as Tensor & { dtype: 'float32' };
    return { dtype: 'float32', shape: t.shape, data: Float32Array.from(toNumbers(t)) };
  }
  if (d === 'int32') {
    if (t.dtype === 'int32') return t as Tensor & { dtype: 'int32' };
    const clamp = (v: number): number => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
    return { dtype: 'int32', shape: t.shape, data: Int32Array.from(toNumbers(t), clamp) };
  }
  return t as Tensor & { dtype: TfjsDType };
}

export class GraphDefBuilder {
  readonly nodes: TfNodeDef[] = [];
  /** Const node name → its data (becomes a weights-manifest entry of that name) */
  readonly weights: Array<{ name: string; tensor: Tensor }> = [];
  /** node name → op, for callers that need to know what produced a reference */
  readonly opOf = new Map<string, string>();
  private readonly used = new Set<string>();

  /** A node name derived from `hint` that no node has yet. */
  name(hint: string): string {
    const base = sanitize(hint);
    let n = base;
    for (let i = 1; this.used.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    return n;
  }

  add(op: string, hint: string, inputs: string[], attr: Record<string, TfAttr> = {}): string {
    const name = this.name(hint);
    this.nodes.push({ name, op, ...(inputs.length ? { input: inputs } : {}), attr });
    this.opOf.set(name, op);
    return name;
  }

  placeholder(hint: string, dtype: DType | undefined, shape: readonly Dim[] | undefined): string {
    return this.add('Placeholder', hint, [], { shape: A.shape(shape), dtype: A.type(dtype) });
  }

  /** A Const node whose data is stored in the weights manifest. */
  constant(hint: string, t: Tensor): string {
    const tt = asTfjsTensor(t);
    const dt = A.type(tt.dtype).type!;
    const name = this.add('Const', hint, [], { value: { tensor: { dtype: dt, tensorShape: tfShape(tt.shape) } }, dtype: { type: dt } });
    this.weights.push({ name, tensor: tt });
    return name;
  }
}
