/**
 * float32 → float16 conversion of an IR graph with ONNX semantics (default-domain ops), in the
 * spirit of onnxconverter-common's `convert_float_to_float16` but typed by the op catalogue:
 *
 * - Only ops on an allowlist (ops that are exact in float16 or whose error stays bounded) are
 *   converted, and only at the operand positions bound to the op's float type constraint `T`
 *   (Resize `roi`/`scales`, Dropout `ratio`, LayerNormalization's Mean/InvStdDev outputs and
 *   every index / shape operand keep their types). A node is converted when its op is allowed,
 *   the user did not exclude it, it has no subgraph, and every present `T` operand is float32.
 *   Exact ops (data movement, Relu, MaxPool, Max/Min...) gain nothing from float16 but rounding,
 *   so they follow their non-constant inputs: float16 when those are float16, else float32
 *   (no float32 → float16 → float32 round trips around kept nodes); over constants only, they
 *   follow their readers.
 * - Opaque ops (other domains), ops outside the list (Exp, Pow, ReduceSum, CumSum, TopK, RNNs,
 *   Cast, ops with a dtype attribute...), nodes with subgraphs and excluded nodes stay float32
 *   and are listed in `keptFloat` with the reason.
 * - Values produced by converted nodes become float16. Float32 initializers, `Constant` and
 *   `ConstantOfShape` values whose every consumer reads them as float16 are stored as float16
 *   (halving their size); weights beyond float16's range are clamped to ±65504 (±inf stays).
 * - Where a float32 value meets a float16 consumer (or the reverse) one Cast per value and
 *   direction is inserted, right after the producer, and shared by all consumers. Shape, Size
 *   and Cast / CastLike (data input) accept either type and read the value as it is.
 * - A float32 initializer read both by float16 and float32 nodes stays float32 (the float32
 *   readers must see the exact weights); its float16 readers share one Cast, which onnxruntime
 *   folds at load time, so the file holds one copy. Initializers of ≤ 16 elements get a float16
 *   copy instead: as small as the Cast node itself, and nothing to run.
 * - `keepIoTypes` (default): graph inputs and outputs keep float32; an output computed in
 *   float16 keeps its name, the internal float16 value gets a new one and a Cast writes the
 *   output. Without it every float32 feed input and output becomes float16.
 * - Values read from inside If / Loop / Scan bodies keep their name and float32 type.
 * The input graph is not modified; unchanged tensors are shared with the result.
 */
import type { Attr, Graph, Node, Value } from '../../ir/graph.js';
import type { DType } from '../../ir/dtype.js';
import { type Tensor, toFloat32 } from '../../ir/tensor.js';
import { graphOpset, isDefaultDomain } from '../../ir/ops/catalogue.js';
import { inferGraphTypes } from '../../ir/ops/engine.js';
import { onnxDTypeCode } from '../../ir/ops/dtype-codes.js';
import { toFloat16Bits } from '../../data/npy.js';
import { NameAllocator, copyGraph } from '../../ir/edit.js';

export interface Float16Options {
  /** default true: graph inputs/outputs stay float32, with Casts at the boundary. */
  keepIoTypes?: boolean;
  /** nodes the user wants kept float32 (called with the input graph's node). */
  exclude?: (node: Node) => boolean;
}

export interface Float16Result {
  /** a new graph; the input graph is not mutated. */
  graph: Graph;
  /** nodes that now compute (or, for Constant / ConstantOfShape, produce) float16. */
  convertedNodes: number;
  /** nodes that touch float32 data but were left float32, and why. */
  keptFloat: { node: string; op: string; reason: string }[];
  /** Cast nodes added. */
  castsInserted: number;
}

type Positions = number[] | 'all';

interface F16Spec {
  /** input positions bound to the float type constraint. */
  in: Positions;
  /** output positions bound to it. */
  out: Positions;
  /**
   * exact ops (data movement, max / min / sign...): float16 gains nothing but rounding there, so
   * they follow their (non-constant) inputs: converted when those are float16, else float32.
   */
  follow?: boolean;
  /** a reason to keep this particular node float32, if any. */
  check?: (node: Node) => string | undefined;
}

const UNARY: F16Spec = { in: [0], out: [0] };
const ALL: F16Spec = { in: 'all', out: 'all' };
const F_UNARY: F16Spec = { in: [0], out: [0], follow: true };
const F_ALL: F16Spec = { in: 'all', out: 'all', follow: true };

const presentOutputs = (n: Node): number => n.outputs.filter((o) => o !== '').length;

/** The allowlist: ops that compute safely in float16, with their `T` operand positions. */
const SPECS: Record<string, F16Spec> = {
  // dense compute
  Conv: ALL, ConvTranspose: ALL, MatMul: ALL, Gemm: ALL,
  // elementwise arithmetic (Sum / Mean are variadic, all operands T)
  Add: ALL, Sub: ALL, Mul: ALL, Div: ALL, PRelu: ALL, Sum: ALL, Mean: ALL,
  // bounded activations
  LeakyRelu: UNARY, Sigmoid: UNARY, Tanh: UNARY, HardSigmoid: UNARY, HardSwish: UNARY,
  Gelu: UNARY, Erf: UNARY, Elu: UNARY, Selu: UNARY, Sqrt: UNARY,
  // max-subtracted exponentials: bounded
  Softmax: UNARY, LogSoftmax: UNARY,
  // pooling and normalization
  AveragePool: UNARY, GlobalAveragePool: UNARY, ReduceMean: UNARY,
  BatchNormalization: {
    // every float operand float16: valid for T (opset < 15) and for T / T1 / T2 (≥ 15) alike.
    in: 'all', out: [0],
    check: (n) => (presentOutputs(n) > 1 || attrIntOf(n, 'training_mode') === 1 ? 'training-mode BatchNormalization (running statistics outputs)' : undefined),
  },
  InstanceNormalization: ALL,
  LayerNormalization: { in: [0, 1, 2], out: [0] }, // Mean / InvStdDev outputs are U (float32)
  Resize: UNARY, // roi (T2) and scales (tensor(float)) stay float32
  // exact ops: follow their inputs
  Relu: F_UNARY, Abs: F_UNARY, Neg: F_UNARY, Floor: F_UNARY, Ceil: F_UNARY, Sign: F_UNARY,
  Max: F_ALL, Min: F_ALL, Clip: F_ALL, // Clip opset ≥ 11: min / max inputs are T too
  MaxPool: { in: [0], out: [0], follow: true }, // output 1 (Indices) is int64
  GlobalMaxPool: F_UNARY, ReduceMax: F_UNARY, ReduceMin: F_UNARY,
  // data movement (index / shape operands keep their integer types)
  Identity: F_UNARY, Reshape: F_UNARY, Transpose: F_UNARY, Flatten: F_UNARY, Squeeze: F_UNARY, Unsqueeze: F_UNARY,
  Expand: F_UNARY, Tile: F_UNARY, Slice: F_UNARY, Gather: F_UNARY, GatherElements: F_UNARY, GatherND: F_UNARY,
  DepthToSpace: F_UNARY, SpaceToDepth: F_UNARY, Trilu: F_UNARY,
  Concat: F_ALL,
  Split: { in: [0], out: 'all', follow: true },
  Pad: { in: [0, 2], out: [0], follow: true }, // input 2: constant_value
  Where: { in: [1, 2], out: [0], follow: true }, // input 0: bool condition
  Dropout: {
    in: [0], out: [0], follow: true, // ratio (T1) stays float32
    check: (n) => (presentOutputs(n) > 1 ? 'Dropout with a mask output' : undefined),
  },
};

function attrIntOf(n: Node, name: string): number | undefined {
  const a = n.attrs[name];
  return a?.type === 'int' ? a.value : undefined;
}

/** Why an op outside the allowlist stays float32. */
function notAllowedReason(op: string): string {
  switch (op) {
    case 'Exp': case 'Pow': case 'Softplus': case 'Mish': case 'Reciprocal': case 'Log':
    case 'ReduceLogSumExp': case 'ReduceLogSum':
      return `${op} can overflow or lose its range in float16 (max 65504)`;
    case 'ReduceSum': case 'ReduceSumSquare': case 'ReduceProd': case 'ReduceL1': case 'ReduceL2':
    case 'CumSum': case 'Einsum': case 'LpNormalization': case 'LpPool': case 'GlobalLpPool': case 'LRN':
    case 'MeanVarianceNormalization':
      return `${op} accumulates large sums or powers; unsafe in float16`;
    case 'LSTM': case 'GRU': case 'RNN':
      return `${op}: recurrent state accumulates over time steps; kept float32`;
    case 'Cast': case 'CastLike':
      return `${op} sets its output type itself; not retyped`;
    case 'EyeLike': case 'RandomNormal': case 'RandomUniform': case 'RandomNormalLike': case 'RandomUniformLike':
    case 'Multinomial': case 'Bernoulli':
      return `${op} carries its output dtype in an attribute; not retyped`;
    case 'TopK': case 'NonMaxSuppression': case 'RoiAlign': case 'Range': case 'Upsample':
      return `${op} is block-listed for float16 (as in onnxconverter-common)`;
    default:
      if (/^(QLinear|Quantize|Dequantize|DynamicQuantize)|Integer$/.test(op)) return `${op} is a quantized op (its scales stay float32)`;
      return `${op} is not on the float16 allowlist`;
  }
}

/** Consumers that accept any element type at this input and need no Cast. */
function isTransparent(n: Node, index: number): boolean {
  if (!isDefaultDomain(n.domain)) return false;
  if (n.op === 'Shape' || n.op === 'Size') return index === 0;
  if (n.op === 'Cast' || n.op === 'CastLike') return index === 0;
  return false;
}

function hasSubgraph(n: Node): boolean {
  return Object.values(n.attrs).some((a) => a.type === 'graph' || a.type === 'graphs');
}

/** Names a subgraph body reads from enclosing scopes. */
function outerRefs(body: Graph, into: Set<string>): void {
  const defined = new Set<string>([...body.inputs.map((v) => v.name), ...body.initializers.keys()]);
  const inner = new Set<string>();
  for (const n of body.nodes) {
    for (const x of n.inputs) if (x && !defined.has(x)) into.add(x);
    for (const a of Object.values(n.attrs)) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      for (const s of subs) outerRefs(s, inner);
    }
    for (const o of n.outputs) if (o) defined.add(o);
  }
  for (const r of inner) if (!defined.has(r)) into.add(r);
  for (const v of body.outputs) if (!defined.has(v.name)) into.add(v.name);
}

const F16_MAX = 65504;

/** A float16 copy of a float32 tensor; finite values beyond ±65504 are clamped (±inf, NaN kept). */
export function tensorToFloat16(t: Tensor): Tensor {
  const src = toFloat32(t);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let x = src[i] as number;
    if (x > F16_MAX && x !== Infinity) x = F16_MAX;
    else if (x < -F16_MAX && x !== -Infinity) x = -F16_MAX;
    out[i] = toFloat16Bits(x);
  }
  return { dtype: 'float16', shape: [...t.shape], data: out };
}

/** Initializers this small get a float16 copy instead of a Cast node (2 bytes × n ≤ a Cast node's size). */
const COPY_MAX_ELEMENTS = 16;

interface NodePlan {
  /** allowed, not excluded, every `T` input float32: may compute in float16. */
  eligible: boolean;
  follow: boolean;
  convert: boolean;
  tIn: Set<number>;
  tOut: Set<number>;
}

type Half = 'float16' | 'float32';
type Want = Half | 'any';

export function convertToFloat16(graph: Graph, opts: Float16Options = {}): Float16Result {
  const keepIo = opts.keepIoTypes ?? true;
  const opset = graphOpset(graph);
  const types = inferGraphTypes(graph).types;
  const dtypeOf = (name: string): DType | undefined => (name ? types.get(name)?.dtype : undefined);
  const isF32 = (name: string): boolean => dtypeOf(name) === 'float32';
  const isSource = (n: Node): boolean => isDefaultDomain(n.domain) && (n.op === 'Constant' || n.op === 'ConstantOfShape');

  const g = copyGraph(graph);
  const names = new NameAllocator(graph);
  const kept = new Map<number, string>(); // node index → why it stays float32

  const outputNames = new Set(graph.outputs.map((v) => v.name));
  const inputNames = new Set(graph.inputs.map((v) => v.name));
  const subgraphRefs = new Set<string>();
  for (const n of graph.nodes) {
    for (const a of Object.values(n.attrs)) {
      if (a.type === 'graph') outerRefs(a.value, subgraphRefs);
      else if (a.type === 'graphs') for (const s of a.value) outerRefs(s, subgraphRefs);
    }
  }
  const producer = new Map<string, number>(); // value → index of the producing node
  const consumers = new Map<string, { k: number; i: number }[]>();
  graph.nodes.forEach((n, k) => {
    n.outputs.forEach((o) => o && producer.set(o, k));
    n.inputs.forEach((v, i) => {
      if (!v) return;
      let l = consumers.get(v);
      if (!l) consumers.set(v, (l = []));
      l.push({ k, i });
    });
  });

  // ---- 1. which nodes may compute in float16 -------------------------------------------------
  const plans: NodePlan[] = graph.nodes.map((orig, k) => {
    const plan: NodePlan = { eligible: false, follow: false, convert: false, tIn: new Set(), tOut: new Set() };
    if (isSource(orig)) return plan; // decided from their consumers below
    // inputs read as any type (Shape, Size, Cast...) do not make a node a float32 one.
    const touchesF32 = orig.inputs.some((v, i) => isF32(v) && !isTransparent(orig, i)) || orig.outputs.some(isF32);
    if (!touchesF32) return plan;
    const spec = isDefaultDomain(orig.domain) ? SPECS[orig.op] : undefined;
    let reason: string | undefined;
    if (!isDefaultDomain(orig.domain)) reason = `opaque op (domain ${orig.domain})`;
    else if (hasSubgraph(orig)) reason = 'has a subgraph (its body stays float32)';
    else if (opts.exclude?.(orig)) reason = 'excluded by user';
    else if (!spec) reason = notAllowedReason(orig.op);
    else reason = spec.check?.(orig);
    if (!reason && spec) {
      const pick = (p: Positions, list: string[]): number[] =>
        (p === 'all' ? list.map((_, i) => i) : p.filter((i) => i < list.length)).filter((i) => list[i] !== '');
      const ins = pick(spec.in, orig.inputs);
      const outs = pick(spec.out, orig.outputs);
      const bad = ins.map((i) => dtypeOf(orig.inputs[i] as string)).find((d) => d !== 'float32' && d !== undefined)
        ?? outs.map((i) => dtypeOf(orig.outputs[i] as string)).find((d) => d !== 'float32' && d !== undefined);
      if (ins.length === 0) reason = 'no float operand';
      else if (bad !== undefined) reason = `has ${bad} operands`;
      else if (ins.some((i) => dtypeOf(orig.inputs[i] as string) === undefined)) reason = 'operand dtype unknown';
      else Object.assign(plan, { eligible: true, follow: spec.follow === true, tIn: new Set(ins), tOut: new Set(outs) });
    }
    if (!plan.eligible) kept.set(k, reason ?? 'not convertible');
    return plan;
  });

  // ---- 2. native dtype of values, in node order ----------------------------------------------
  const native = new Map<string, Half>();
  for (const v of graph.inputs) {
    if (!isF32(v.name)) continue;
    // an input backed by an initializer (an overridable default) keeps its type.
    const half = !keepIo && !graph.initializers.has(v.name) && !subgraphRefs.has(v.name) && !outputNames.has(v.name);
    native.set(v.name, half ? 'float16' : 'float32');
  }
  /** values that are constant: their type is decided by their consumers (initializers, Constant
   *  outputs, and exact ops over constants only, e.g. a Transpose of a weight). */
  const constantish = new Set<string>();
  for (const [name, t] of graph.initializers) if (t.dtype === 'float32' && !inputNames.has(name)) constantish.add(name);
  const pending: number[] = [];
  const setOutputs = (k: number): void => {
    const plan = plans[k] as NodePlan;
    (graph.nodes[k] as Node).outputs.forEach((o, j) => {
      if (!o) return;
      if (plan.convert && plan.tOut.has(j)) native.set(o, 'float16');
      else if (isF32(o)) native.set(o, 'float32');
    });
  };
  graph.nodes.forEach((orig, k) => {
    const plan = plans[k] as NodePlan;
    if (isSource(orig)) {
      for (const o of orig.outputs) if (o && isF32(o)) constantish.add(o);
      return;
    }
    if (plan.eligible && plan.follow) {
      const live = [...plan.tIn].map((i) => orig.inputs[i] as string).filter((v) => !constantish.has(v));
      if (live.length === 0) {
        pending.push(k);
        for (const j of plan.tOut) constantish.add(orig.outputs[j] as string);
        return;
      }
      plan.convert = live.every((v) => native.get(v) === 'float16');
      if (!plan.convert) kept.set(k, 'exact op: stays in the type of its float32 input');
    } else plan.convert = plan.eligible;
    setOutputs(k);
  });
  const wantAt = (k: number, i: number): Want => {
    const plan = plans[k] as NodePlan;
    return plan.convert && plan.tIn.has(i) ? 'float16' : isTransparent(graph.nodes[k] as Node, i) ? 'any' : 'float32';
  };
  /** every reader takes float16 (or either type), at least one float16, and no fixed name. */
  const readAsHalf = (v: string): boolean => {
    if (outputNames.has(v) || subgraphRefs.has(v)) return false;
    const w = (consumers.get(v) ?? []).map((e) => wantAt(e.k, e.i));
    return w.includes('float16') && !w.includes('float32');
  };
  // exact ops over constants only follow their readers; readers come later, so go backwards.
  for (const k of pending.reverse()) {
    const plan = plans[k] as NodePlan;
    const outs = [...plan.tOut].map((j) => (graph.nodes[k] as Node).outputs[j] as string);
    plan.convert = outs.every(readAsHalf);
    if (!plan.convert) kept.set(k, 'constant input read by float32 consumers');
    setOutputs(k);
  }

  // ---- 3. constants: float16 when every reader takes float16 ---------------------------------
  let converted = plans.filter((p) => p.convert).length;
  for (const [name, t] of graph.initializers) {
    if (!constantish.has(name)) continue;
    if (readAsHalf(name)) {
      g.initializers.set(name, tensorToFloat16(t));
      native.set(name, 'float16');
    } else native.set(name, 'float32');
  }
  graph.nodes.forEach((orig, k) => {
    if (!isSource(orig)) return;
    const out = orig.outputs[0];
    if (!out || !isF32(out)) return;
    const excluded = opts.exclude?.(orig) === true;
    if (!excluded && orig.outputs.length === 1 && readAsHalf(out) && retypeSource(g.nodes[k] as Node)) {
      native.set(out, 'float16');
      converted++;
      return;
    }
    native.set(out, 'float32');
    // a constant that no float16 node reads is just part of a float32 region: not listed.
    if ((consumers.get(out) ?? []).some((e) => wantAt(e.k, e.i) === 'float16')) {
      kept.set(k, excluded ? 'excluded by user' : outputNames.has(out) ? 'its value is a graph output'
        : subgraphRefs.has(out) ? 'its value is read inside a subgraph'
        : 'its value also feeds float32 consumers (float16 ones read it through a Cast)');
    }
  });
  // anything else float32 that is read (e.g. a dangling name) counts as float32.
  for (const v of consumers.keys()) if (!native.has(v) && isF32(v)) native.set(v, 'float32');

  // ---- 4. names: renamed outputs, shared Casts -----------------------------------------------
  const castTo = (dt: Half): Attr => (opset < 6
    ? { type: 'string', value: dt === 'float16' ? 'FLOAT16' : 'FLOAT' }
    : { type: 'int', value: onnxDTypeCode(dt) });
  /** Casts to emit after node k (-1: before every node). */
  const after = new Map<number, Node[]>();
  let casts = 0;
  const fresh = new Set<string>();
  const newValue = (dt: Half): string => {
    const name = names.next(dt === 'float16' ? 'h16' : 'f32');
    fresh.add(name);
    return name;
  };
  const emit = (src: string, k: number, dst: string, dt: Half): void => {
    // a fresh value name is free as a node name too; an original output name may not be.
    const name = fresh.has(dst) ? dst : names.next('cast');
    const node: Node = { name, op: 'Cast', domain: '', inputs: [src], outputs: [dst], attrs: { to: castTo(dt) } };
    let l = after.get(k);
    if (!l) after.set(k, (l = []));
    l.push(node);
    casts++;
  };
  /** value → the name holding it in each dtype. */
  const holders = new Map<string, Partial<Record<Half, string>>>();
  /** names that must keep their name with this dtype: graph outputs, values read by subgraphs. */
  const required = new Map<string, Half>();
  for (const v of graph.outputs) {
    const d = native.get(v.name);
    if (!d) continue;
    const req: Half = subgraphRefs.has(v.name) || keepIo ? 'float32' : 'float16';
    required.set(v.name, producer.has(v.name) ? req : d);
  }
  for (const r of subgraphRefs) if (native.has(r)) required.set(r, 'float32');
  for (const [v, req] of required) {
    const d = native.get(v) as Half;
    if (req === d) continue;
    // the producer writes a new internal name; a Cast writes the original one.
    const k = producer.get(v) as number;
    const internal = newValue(d);
    const n = g.nodes[k] as Node;
    n.outputs = n.outputs.map((o) => (o === v ? internal : o));
    emit(internal, k, v, req);
    holders.set(v, { [d]: internal, [req]: v });
  }
  const holder = (v: string, dt: Half): string => {
    const d = native.get(v) as Half;
    let h = holders.get(v);
    if (!h) holders.set(v, (h = { [d]: v }));
    const have = h[dt];
    if (have) return have;
    const init = constantish.has(v) ? graph.initializers.get(v) : undefined;
    if (init && dt === 'float16' && init.shape.reduce((a, b) => a * b, 1) <= COPY_MAX_ELEMENTS) {
      const copy = names.next('h16');
      g.initializers.set(copy, tensorToFloat16(init));
      return (h[dt] = copy);
    }
    const dst = newValue(dt);
    emit(h[d] as string, producer.get(v) ?? -1, dst, dt);
    return (h[dt] = dst);
  };

  // ---- 5. rewire consumers -------------------------------------------------------------------
  graph.nodes.forEach((orig, k) => {
    const n = g.nodes[k] as Node;
    n.inputs = orig.inputs.map((v, i) => {
      const d = v ? native.get(v) : undefined;
      if (!d) return v;
      const want = wantAt(k, i);
      return holder(v, want === 'any' ? d : want);
    });
  });

  // ---- 6. assemble ---------------------------------------------------------------------------
  const nodes: Node[] = [...(after.get(-1) ?? [])];
  g.nodes.forEach((n, k) => nodes.push(n, ...(after.get(k) ?? [])));
  g.nodes = nodes;
  /** dtype now held by an original name. */
  const finalType = (v: string): Half | undefined => required.get(v) ?? native.get(v);
  const retype = (v: Value): Value => {
    const d = finalType(v.name);
    return d && v.dtype !== undefined && v.dtype !== d ? { ...v, dtype: d } : v;
  };
  g.inputs = g.inputs.map(retype);
  g.outputs = g.outputs.map((v) => {
    const d = finalType(v.name);
    return d ? { ...v, dtype: d } : v;
  });
  g.valueInfo = g.valueInfo.map(retype);

  const keptFloat = [...kept].sort((a, b) => a[0] - b[0]).map(([k, reason]) => {
    const n = graph.nodes[k] as Node;
    return { node: n.name, op: isDefaultDomain(n.domain) ? n.op : `${n.domain}:${n.op}`, reason };
  });
  return { graph: g, convertedNodes: converted, keptFloat, castsInserted: casts };
}

/** Turn a Constant / ConstantOfShape node's float32 value into float16 (on the copied node). */
function retypeSource(n: Node): boolean {
  if (n.op === 'ConstantOfShape') {
    const v = n.attrs.value;
    const t: Tensor = v?.type === 'tensor' ? v.value : { dtype: 'float32', shape: [1], data: Float32Array.of(0) };
    if (t.dtype !== 'float32') return false;
    n.attrs = { ...n.attrs, value: { type: 'tensor', value: tensorToFloat16(t) } };
    return true;
  }
  const a = n.attrs;
  let t: Tensor | undefined;
  if (a.value?.type === 'tensor') t = a.value.value;
  else if (a.value_float?.type === 'float' || a.value_float?.type === 'int') t = { dtype: 'float32', shape: [], data: Float32Array.of(a.value_float.value) };
  else if (a.value_floats?.type === 'floats') t = { dtype: 'float32', shape: [a.value_floats.value.length], data: Float32Array.from(a.value_floats.value) };
  if (!t || t.dtype !== 'float32') return false;
  const attrs: Record<string, Attr> = {};
  for (const [k, x] of Object.entries(a)) if (k !== 'value' && k !== 'value_float' && k !== 'value_floats') attrs[k] = x;
  attrs.value = { type: 'tensor', value: tensorToFloat16(t) };
  n.attrs = attrs;
  return true;
}

