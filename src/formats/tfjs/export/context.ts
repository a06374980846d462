/**
 * What an op handler of the TF.js graph-model writer works with: the prepared IR graph (channels
 * last, BatchNormalization folded), its inferred types, and a GraphDef builder. Emission is
 * demand-driven: asking for the TF tensor of an IR value (`ref`) emits the node that produces it
 * first, so nodes that only compute shapes a handler reads statically (a Reshape's target shape,
 * a Resize's sizes) are never written.
 */
import type { DType } from '../../../ir/dtype.js';
import type { Graph, Node } from '../../../ir/graph.js';
import { attrFloat } from '../../../ir/graph.js';
import type { GraphTypes } from '../../../ir/ops/index.js';
import type { Dim, Tensor } from '../../../ir/tensor.js';
import { elementCount, toFloat32, toNumbers } from '../../../ir/tensor.js';
import { MloptError } from '../../../util/errors.js';
import { A, type GraphDefBuilder, type TfAttr } from './graphdef.js';

/** An activation written as part of the op before it (`_FusedConv2D`, `_FusedMatMul`). */
export interface Fused {
  /** TF op name, as `fused_ops` spells it */
  act: 'Relu' | 'Relu6' | 'LeakyRelu' | 'Elu' | 'Sigmoid';
  alpha?: number;
  node: Node;
}

export type Handler = (n: Node, c: EmitContext) => void;

/** The quantization a weight had in the IR (DequantizeLinear's scales and zero points). */
export interface WeightQuant {
  scale: number[];
  zeroPoint: number[];
  qDtype: DType;
}

function isIntegerDType(d: DType): boolean {
  return d === 'int8' || d === 'uint8' || d === 'int16' || d === 'uint16' || d === 'int32' || d === 'uint32';
}

/** ops whose float outputs can take a fused activation in TF.js (bias add first) */
const FUSION_HOSTS = new Set(['Conv', 'Gemm', 'MatMul']);

/** The fused-activation form of an activation node, if it has one. */
export function fusableActivation(g: Graph, n: Node): Pick<Fused, 'act' | 'alpha'> | undefined {
  if (n.domain !== '') return undefined;
  switch (n.op) {
    case 'Relu':
      return { act: 'Relu' };
    case 'Sigmoid':
      return { act: 'Sigmoid' };
    case 'LeakyRelu':
      return { act: 'LeakyRelu', alpha: attrFloat(n, 'alpha', 0.01) };
    case 'Elu':
      return attrFloat(n, 'alpha', 1) === 1 ? { act: 'Elu' } : undefined;
    case 'Clip': {
      const [lo, hi] = clipBounds(g, n);
      if (lo === 0 && hi === 6) return { act: 'Relu6' };
      if (lo === 0 && hi === Infinity) return { act: 'Relu' };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Clip's bounds (attributes before opset 11, optional constant inputs after); NaN when not constant. */
export function clipBounds(g: Graph, n: Node): [number, number] {
  const val = (i: number, attr: string, dflt: number): number => {
    if (n.attrs[attr]) return attrFloat(n, attr, dflt);
    const name = n.inputs[i];
    if (!name) return dflt;
    const t = g.initializers.get(name);
    return t ? toFloat32(t)[0]! : NaN;
  };
  return [val(1, 'min', -Infinity), val(2, 'max', Infinity)];
}

export class EmitContext {
  private readonly refs = new Map<string, string>();
  private readonly producer = new Map<string, Node>();
  private readonly done = new Set<Node>();
  private readonly active = new Set<Node>();
  private readonly fusedInto = new Map<Node, Fused>();
  private readonly fusedHost = new Map<Node, Node>();
  private readonly weightCache = new Map<string, string>();
  private readonly dequantized = new Map<string, Tensor>();
  private readonly smallConsts = new Map<string, string>();
  /** how many node inputs and graph outputs read each value */
  private readonly uses = new Map<string, number>();
  /** Const names whose data are dequantized integer weights (a DequantizeLinear of a constant),
   *  with their quantization: the writer stores them as exact uint8 / uint16 codes when it can */
  readonly quantizedConsts = new Map<string, WeightQuant>();

  constructor(
    readonly g: Graph,
    readonly b: GraphDefBuilder,
    private readonly types: GraphTypes,
    private readonly handlers: Record<string, Handler>,
  ) {
    for (const n of g.nodes) for (const o of n.outputs) if (o) this.producer.set(o, n);
    const uses = this.uses;
    for (const n of g.nodes) for (const x of n.inputs) if (x) uses.set(x, (uses.get(x) ?? 0) + 1);
    const outs = new Set(g.outputs.map((o) => o.name));
    for (const o of outs) uses.set(o, (uses.get(o) ?? 0) + 1);
    for (const n of g.nodes) {
      const f = fusableActivation(g, n);
      const host = f && this.producer.get(n.inputs[0] ?? '');
      if (!f || !host || host.domain !== '' || !FUSION_HOSTS.has(host.op) || this.fusedInto.has(host)) continue;
      if (uses.get(n.inputs[0]!) !== 1) continue;
      if (this.dtype(n.inputs[0]!) !== undefined && this.dtype(n.inputs[0]!) !== 'float32') continue;
      this.fusedInto.set(host, { ...f, node: n });
      this.fusedHost.set(n, host);
    }
  }

  // ---- what is known about IR values

  shape(v: string): Dim[] | undefined {
    return this.types.types.get(v)?.shape ?? this.g.initializers.get(v)?.shape;
  }
  /** static shape (every dim a number), else undefined */
  staticShape(v: string): number[] | undefined {
    const s = this.shape(v);
    return s && s.every((d) => typeof d === 'number') ? (s as number[]) : undefined;
  }
  rank(v: string): number | undefined {
    return this.shape(v)?.length;
  }
  dtype(v: string): DType | undefined {
    return this.types.types.get(v)?.dtype ?? this.g.initializers.get(v)?.dtype;
  }
  /** whether a node or a graph output reads `v` */
  isUsed(v: string): boolean {
    return (this.uses.get(v) ?? 0) > 0;
  }
  producerOf(v: string): Node | undefined {
    return this.producer.get(v);
  }

  /** The value of `v` when it is known at export time: an initializer, a dequantized constant,
   *  or small integer arithmetic shape inference already evaluated. */
  constant(v: string): Tensor | undefined {
    if (!v) return undefined;
    const t = this.g.initializers.get(v);
    if (t) return t;
    const dq = this.dequantized.get(v) ?? this.dequantize(v);
    if (dq) return dq;
    const p = this.producer.get(v);
    if (p?.op === 'ConstantOfShape' && p.domain === '') return this.filled(p);
    const vals = this.types.values.get(v);
    const shape = this.staticShape(v);
    if (vals && shape && vals.every((d) => typeof d === 'number') && elementCount(shape) === vals.length) {
      return { dtype: 'int64', shape, data: BigInt64Array.from(vals as number[], (x) => BigInt(x)) };
    }
    return undefined;
  }

  /** A constant input's values as numbers (axes, pads, sizes), or undefined. */
  ints(v: string | undefined): number[] | undefined {
    if (!v) return undefined;
    const t = this.constant(v);
    return t ? toNumbers(t) : undefined;
  }

  /** the value of a ConstantOfShape with a known shape (some exporters store weights that way) */
  private filled(p: Node): Tensor | undefined {
    const dims = this.ints(p.inputs[0]);
    if (!dims) return undefined;
    const v = p.attrs.value?.type === 'tensor' ? p.attrs.value.value : undefined;
    const x = v ? toNumbers(v)[0]! : 0;
    const count = dims.reduce((a, b) => a * b, 1);
    if (v && v.dtype !== 'float32' && v.dtype !== 'float16' && v.dtype !== 'float64') {
      return { dtype: 'int32', shape: dims, data: new Int32Array(count).fill(x) };
    }
    return { dtype: 'float32', shape: dims, data: new Float32Array(count).fill(x) };
  }

  /** DequantizeLinear of an initializer: its quantization, when the data is int8 / uint8 */
  quantInfo(v: string): { q: Tensor; scale: number[]; zeroPoint: number[]; axis?: number } | undefined {
    const p = this.producer.get(v);
    if (!p || p.domain !== '' || p.op !== 'DequantizeLinear') return undefined;
    const q = this.g.initializers.get(p.inputs[0] ?? '');
    const s = this.g.initializers.get(p.inputs[1] ?? '');
    if (!q || !s) return undefined;
    const zp = p.inputs[2] ? this.g.initializers.get(p.inputs[2]) : undefined;
    if (p.inputs[2] && !zp) return undefined;
    const scale = Array.from(toFloat32(s));
    const zeroPoint = zp ? toNumbers(zp) : scale.map(() => 0);
    const axisAttr = p.attrs.axis;
    const axis = scale.length > 1 ? (axisAttr?.type === 'int' ? axisAttr.value : 1) : undefined;
    return { q, scale, zeroPoint, ...(axis !== undefined ? { axis: axis < 0 ? axis + q.shape.length : axis } : {}) };
  }

  private dequantize(v: string): Tensor | undefined {
    const info = this.quantInfo(v);
    if (!info) return undefined;
    const { q, scale, zeroPoint, axis } = info;
    const vals = toNumbers(q);
    const data = new Float32Array(vals.length);
    const inner = axis === undefined ? vals.length : q.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const ch = axis === undefined ? 1 : q.shape[axis]!;
    for (let i = 0; i < vals.length; i++) {
      const c = axis === undefined ? 0 : Math.floor(i / inner) % ch;
      data[i] = (vals[i]! - zeroPoint[c]!) * scale[c]!;
    }
    const t: Tensor = { dtype: 'float32', shape: q.shape.slice(), data };
    this.dequantized.set(v, t);
    return t;
  }

  // ---- emission

  /** The TF tensor holding IR value `v` (emitting its producer, or a Const, on first use). */
  ref(v: string): string {
    const have = this.refs.get(v);
    if (have !== undefined) return have;
    const p = this.producer.get(v);
    // shape arithmetic that shape inference evaluated is written as its value, not as ops
    const known = p && this.types.values.has(v) && this.constant(v) !== undefined;
    if (p && !known && !this.g.initializers.has(v) && this.quantInfo(v) === undefined) {
      this.emit(p);
      const r = this.refs.get(v);
      if (r === undefined) throw new MloptError('INVALID_GRAPH', `node "${p.name}" (${p.op}) did not produce "${v}" in the TF.js export`);
      return r;
    }
    const t = this.constant(v);
    if (!t) throw new MloptError('INVALID_GRAPH', `value "${v}" has no producer, is no graph input and no constant`);
    const name = this.b.constant(v, t);
    this.noteQuantized(v, name);
    this.refs.set(v, name);
    return name;
  }

  /** remember that Const `name` holds the dequantized integer weight `v` */
  private noteQuantized(v: string, name: string): void {
    const info = this.quantInfo(v);
    if (info && isIntegerDType(info.q.dtype)) this.quantizedConsts.set(name, { scale: info.scale, zeroPoint: info.zeroPoint, qDtype: info.q.dtype });
  }

  bind(v: string, ref: string): void {
    this.refs.set(v, ref);
  }

  emit(n: Node): void {
    if (this.done.has(n)) return;
    const host = this.fusedHost.get(n);
    if (host) {
      this.emit(host);
      this.done.add(n);
      return;
    }
    if (this.active.has(n)) throw new MloptError('INVALID_GRAPH', `node "${n.name}" (${n.op}) depends on itself`);
    this.active.add(n);
    if (n.domain !== '') this.fail(n, `an op of domain "${n.domain}" (kept opaque at import)`);
    const h = this.handlers[n.op];
    if (!h) this.fail(n, 'not mapped by this version of mlopt');
    h!(n, this);
    this.active.delete(n);
    this.done.add(n);
  }

  /** Add a TF node; `hint` names it (an IR value name, usually the one it produces). */
  op(tfOp: string, hint: string, inputs: string[], attrs: Record<string, TfAttr> = {}): string {
    return this.b.add(tfOp, hint, inputs, attrs);
  }

  /** A Const node of `t` (not cached). */
  const(hint: string, t: Tensor): string {
    return this.b.constant(hint, t);
  }
  /** a small int32 constant (shapes, axes, perms); equal ones are written once */
  i32(hint: string, values: readonly number[], shape: number[] = [values.length]): string {
    return this.small(hint, { dtype: 'int32', shape, data: Int32Array.from(values) });
  }
  /** a float32 constant; small equal ones (scalars of a fake-quant, pad values) are written once */
  f32(hint: string, values: number | readonly number[], shape?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    return this.small(hint, { dtype: 'float32', shape: shape ?? (typeof values === 'number' ? [] : [arr.length]), data: Float32Array.from(arr) });
  }
  private small(hint: string, t: Tensor): string {
    if (t.data.length > 16) return this.b.constant(hint, t);
    const key = `${t.dtype}[${t.shape.join(',')}]${Array.from(t.data as ArrayLike<number>).join(',')}`;
    let name = this.smallConsts.get(key);
    if (!name) this.smallConsts.set(key, (name = this.b.constant(hint, t)));
    return name;
  }

  /** A weight constant: the value of `v` (dequantized if it comes through a DequantizeLinear)
   *  transformed by `make` (e.g. OIHW → HWIO), written once per (v, tag). An empty tag means
   *  `make` keeps the data as stored (a reshape at most): `v`'s own Const is used. */
  weight(v: string, tag: string, make: (t: Tensor) => Tensor): string {
    if (!tag) return this.ref(v); // as stored: the same Const any other reader of `v` gets
    const key = `${v}\u0000${tag}`;
    const have = this.weightCache.get(key);
    if (have) return have;
    const t = this.constant(v);
    if (!t) throw new MloptError('INVALID_GRAPH', `weight "${v}" is not a constant`);
    const name = this.b.constant(tag ? `${v}/${tag}` : v, make(t));
    this.noteQuantized(v, name);
    this.weightCache.set(key, name);
    return name;
  }

  /** The activation fused into `n` by the pre-pass, if any. */
  fused(n: Node): Fused | undefined {
    return this.fusedInto.get(n);
  }

  /** Bind the output of `n` (or of its fused activation, applied here as its own op when the
   *  handler did not fuse it). */
  finish(n: Node, ref: string, activationApplied = false): void {
    const f = this.fusedInto.get(n);
    if (!f) {
      this.bind(n.outputs[0]!, ref);
      return;
    }
    const out = f.node.outputs[0]!;
    this.bind(out, activationApplied ? ref : this.activation(f.act, ref, out, f.alpha));
  }

  /** The name a node's output should carry: its fused activation's output when there is one. */
  outName(n: Node): string {
    return this.fusedInto.get(n)?.node.outputs[0] ?? n.outputs[0]!;
  }

  /** A standalone activation op. */
  activation(act: Fused['act'], x: string, hint: string, alpha?: number): string {
    const attrs: Record<string, TfAttr> = { T: A.type('float32') };
    if (act === 'LeakyRelu') attrs.alpha = A.f(alpha ?? 0.2);
    return this.op(act, hint, [x], attrs);
  }

  fail(n: Node, why: string): never {
    throw new MloptError('UNSUPPORTED', `op ${n.op} (node "${n.name}") has no TF.js graph-model mapping: ${why}`, 'export to ONNX (--to onnx), which keeps every op, or to TFLite');
  }
}
