/**
 * Static (full-integer) int8 quantization of an IR graph, expressed as QuantizeLinear /
 * DequantizeLinear pairs placed where onnxruntime fuses them into integer kernels:
 *
 *  - Conv / ConvTranspose / Gemm / MatMul: activation input QDQ, weights stored int8
 *    (symmetric, zero point 0, per output channel by default) behind a DequantizeLinear, bias
 *    stored int32 with scale = input scale × weight scale, output QDQ (→ QLinearConv,
 *    QLinearMatMul, QGemm).
 *  - Add / Mul / AveragePool / GlobalAveragePool / Concat / Sigmoid / LeakyRelu: inputs and
 *    output QDQ (→ QLinearAdd, QLinearMul, ...).
 *  - MaxPool / Reshape / Transpose / Flatten / Squeeze / Unsqueeze / Slice / Gather / Split:
 *    the output shares the input's parameters, so onnxruntime runs them on int8 data.
 *  - Relu, and Clip with min 0, right after a quantized op are folded into that op's output
 *    quantization (zero point = qmin saturates exactly like the ReLU).
 *  - Everything else (Softmax, opaque ops, excluded nodes...) stays float between a
 *    DequantizeLinear and a QuantizeLinear.
 *
 * The pass is pure: it returns a new graph. The plan (which tensors need a range) is separate
 * from the rewrite so that calibration statistics can be reused when nodes are excluded later.
 */
import type { Graph, Node } from '../../ir/graph.js';
import { attrFloat, attrInt, opsetVersion } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { inferGraphTypes } from '../../ir/ops/index.js';
import { MloptError } from '../../util/errors.js';
import { affineParams, quantizeWeightsSymmetric, roundHalfEven } from './calibrate.js';
import { NameAllocator, constantOf, consumersOf, copyGraph, node as mkNode, producersOf, pruneInitializers } from '../../ir/edit.js';

export type ActivationType = 'uint8' | 'int8';

export interface Range {
  lo: number;
  hi: number;
}

export interface StaticOptions {
  /** per-channel weights (default true) */
  perChannel?: boolean;
  activationType?: ActivationType;
  /** nodes to keep in float */
  exclude?: (n: Node) => boolean;
  /**
   * 'onnx' (default): QDQ where onnxruntime fuses it. 'tflite': TFLite's int8 quantization spec —
   * AveragePool keeps its input's parameters, FULLY_CONNECTED weights are per tensor, every
   * compute op writes int8 (graph outputs included), and Softmax / Logistic outputs get the
   * fixed scale 1/256 and zero point -128 the TFLite kernels require.
   */
  target?: 'onnx' | 'tflite';
}

type Role = 'weighted' | 'binary' | 'same' | 'own' | 'fold';

const WEIGHTED: Record<string, { w: number; b?: number }> = { Conv: { w: 1, b: 2 }, ConvTranspose: { w: 1, b: 2 }, Gemm: { w: 1, b: 2 }, MatMul: { w: 1 } };
const BINARY = new Set(['Add', 'Mul']);
const SAME = new Set(['MaxPool', 'Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'Slice', 'Gather', 'Split', 'DepthToSpace', 'SpaceToDepth']);
const OWN = new Set(['AveragePool', 'GlobalAveragePool', 'Concat', 'Sigmoid', 'LeakyRelu']);

/** How one node takes part in the quantized graph. */
export interface NodePlan {
  node: Node;
  role: Role;
  /** input positions whose activation gets QDQ */
  actInputs: number[];
  /** input position of a constant weight (int8 per channel) */
  weight?: { index: number; axis?: number };
  /** input position of a bias (int32) */
  bias?: number;
  /** input positions of float constants quantized per tensor with the activation type */
  constInputs: number[];
  /** the node's output gets QDQ */
  quantizeOutput: boolean;
}

export interface StaticPlan {
  nodes: NodePlan[];
  /** Relu / Clip nodes folded into their producer's output quantization */
  folded: Node[];
  /** tensor → the tensor whose parameters it shares */
  sameAs: Map<string, string>;
  /** every activation tensor that gets a QDQ pair */
  tensors: Set<string>;
  /** nodes left in float and why (only the interesting ones: excluded, opaque, unsupported weight layout) */
  keptFloat: Array<{ node: string; op: string; reason: string }>;
  /** tensors whose parameters are fixed by the target (TFLite Softmax / Logistic outputs) */
  fixed: Map<string, { scale: number; zeroPoint: number }>;
  /** graph outputs that get a QDQ pair (TFLite target) */
  quantizedOutputs: Set<string>;
}

function isFloatType(dtype: string | undefined): boolean {
  return dtype === 'float32';
}

/** Decide what gets quantized. `g` must already be prepared (see prepare.ts). */
export function planStatic(g: Graph, opts: StaticOptions = {}): StaticPlan {
  const perChannel = opts.perChannel ?? true;
  const types = inferGraphTypes(g).types;
  const dtypeOf = (name: string): string | undefined => types.get(name)?.dtype ?? g.initializers.get(name)?.dtype;
  const consumers = consumersOf(g);
  const producers = producersOf(g);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const keptFloat: StaticPlan['keptFloat'] = [];
  const plans = new Map<Node, NodePlan>();
  const isConst = (name: string): boolean => constantOf(g, name) !== undefined;
  const isAct = (name: string): boolean => !!name && !isConst(name) && isFloatType(dtypeOf(name));
  const opset = opsetVersion(g) ?? 13;

  for (const n of g.nodes) {
    if (n.domain !== '') {
      keptFloat.push({ node: n.name, op: `${n.domain}:${n.op}`, reason: 'op unknown to mlopt (kept float)' });
      continue;
    }
    const tflite = opts.target === 'tflite';
    const role: Role | undefined = n.op in WEIGHTED ? 'weighted'
      : BINARY.has(n.op) ? 'binary'
      : SAME.has(n.op) || (tflite && n.op === 'AveragePool') ? 'same'
      : OWN.has(n.op) || (tflite && n.op === 'Softmax') ? 'own'
      : undefined;
    if (!role) continue;
    if (opts.exclude?.(n)) {
      keptFloat.push({ node: n.name, op: n.op, reason: 'excluded' });
      continue;
    }
    const p: NodePlan = { node: n, role, actInputs: [], constInputs: [], quantizeOutput: false };
    if (role === 'weighted') {
      const spec = WEIGHTED[n.op]!;
      const x = n.inputs[0] ?? '';
      const wName = n.inputs[spec.w] ?? '';
      const w = constantOf(g, wName);
      if (!isAct(x)) continue;
      if (n.op === 'Gemm' && attrInt(n, 'transA', 0) !== 0) {
        keptFloat.push({ node: n.name, op: n.op, reason: 'Gemm with transA=1 is not quantized' });
        continue;
      }
      if (w) {
        if (w.dtype !== 'float32') continue;
        const perTensorOnly = opts.target === 'tflite' && (n.op === 'Gemm' || n.op === 'MatMul');
        p.weight = { index: spec.w, axis: perChannel && !perTensorOnly ? weightAxis(n, w, opset) : undefined };
      } else if (n.op === 'MatMul' && isAct(wName)) {
        p.actInputs.push(1);
      } else {
        keptFloat.push({ node: n.name, op: n.op, reason: 'weights are not constant' });
        continue;
      }
      p.actInputs.unshift(0);
      const bName = spec.b !== undefined ? n.inputs[spec.b] : undefined;
      if (bName && p.weight) {
        const b = constantOf(g, bName);
        const plain = n.op !== 'Gemm' || (attrFloat(n, 'alpha', 1) === 1 && attrFloat(n, 'beta', 1) === 1);
        if (b && b.dtype === 'float32' && b.shape.length === 1 && plain) p.bias = spec.b;
      }
      // Conv-like ops always want a quantized output (QLinearConv); MatMul/Gemm only when a
      // quantized consumer reads it — otherwise onnxruntime fuses them with a float output.
    } else if (role === 'binary' || role === 'own') {
      const floatIns = n.inputs.map((x, i) => [x, i] as const).filter(([x]) => x && isFloatType(dtypeOf(x)));
      if (floatIns.length === 0 || floatIns.length !== n.inputs.filter(Boolean).length) continue;
      if (floatIns.every(([x]) => isConst(x))) continue;
      for (const [x, i] of floatIns) (isConst(x) ? p.constInputs : p.actInputs).push(i);
    } else {
      // same-parameter data movement: quantize only when the data input is already quantized
      // (decided below); constants like shapes / indices are not float anyway.
      const x = n.inputs[0] ?? '';
      if (!isAct(x)) continue;
      p.actInputs.push(0);
    }
    plans.set(n, p);
  }

  // Data-movement ops only make sense next to quantized neighbours: keep one when its input
  // comes from a quantized op (or a kept data-movement op), or a consumer of its output is a
  // quantized op; iterate to a fixed point.
  const wantsOutput = new Map<Node, 'always' | 'consumer'>();
  for (const p of plans.values()) wantsOutput.set(p.node, opts.target !== 'tflite' && p.role === 'weighted' && (p.node.op === 'Gemm' || p.node.op === 'MatMul') ? 'consumer' : 'always');
  // A data-movement node is anchored upstream when its input comes (through other
  // data-movement nodes) from a quantized compute op, downstream when its output reaches one.
  const isCompute = (n: Node | undefined): boolean => !!n && plans.has(n) && plans.get(n)!.role !== 'same';
  const isSame = (n: Node | undefined): boolean => !!n && plans.get(n)?.role === 'same';
  const upMemo = new Map<Node, boolean>();
  const up = (n: Node): boolean => {
    const m = upMemo.get(n);
    if (m !== undefined) return m;
    upMemo.set(n, false);
    const src = producers.get(n.inputs[0] ?? '');
    const r = (isCompute(src) && wantsOutput.get(src!) === 'always') || (isSame(src) && up(src!));
    upMemo.set(n, r);
    return r;
  };
  const downMemo = new Map<Node, boolean>();
  const down = (n: Node): boolean => {
    const m = downMemo.get(n);
    if (m !== undefined) return m;
    downMemo.set(n, false);
    const r = n.outputs.some((o) => (consumers.get(o) ?? []).some((c) => isCompute(c.node) || (isSame(c.node) && c.index === 0 && down(c.node))));
    downMemo.set(n, r);
    return r;
  };
  const dropSame = [...plans.keys()].filter((n) => isSame(n) && !up(n) && !down(n));
  for (const n of dropSame) plans.delete(n);

  const tensorConsumedQuantized = (t: string): boolean =>
    (consumers.get(t) ?? []).some((c) => {
      const cp = plans.get(c.node);
      return !!cp && (cp.actInputs.includes(c.index) || cp.constInputs.includes(c.index));
    });

  // Fold Relu / Clip(min 0) into the producer's output quantization: zero point = qmin
  // saturates exactly like the activation, and onnxruntime gets Conv→Q to fuse.
  const folded: Node[] = [];
  const foldedOut = new Map<string, string>(); // producer output → activation output
  for (const n of g.nodes) {
    if (n.domain !== '' || (n.op !== 'Relu' && n.op !== 'Clip') || opts.exclude?.(n)) continue;
    const x = n.inputs[0] ?? '';
    const y = n.outputs[0] ?? '';
    const src = producers.get(x);
    const sp = src && plans.get(src);
    if (!sp || sp.role === 'same' || src.outputs.length !== 1) continue;
    if ((consumers.get(x) ?? []).length !== 1 || graphOutputs.has(x) || graphOutputs.has(y)) continue;
    if (n.op === 'Clip' && !clipIsFoldable(g, n)) continue;
    if (wantsOutput.get(src) !== 'always' && !tensorConsumedQuantized(y)) continue;
    folded.push(n);
    foldedOut.set(x, y);
  }
  const finalName = (t: string): string => foldedOut.get(t) ?? t;
  for (const p of plans.values()) {
    p.quantizeOutput = wantsOutput.get(p.node) === 'always' || foldedOut.has(p.node.outputs[0] ?? '') || tensorConsumedQuantized(p.node.outputs[0] ?? '');
  }

  // tensors that get QDQ, and parameter sharing
  const tensors = new Set<string>();
  const sameAs = new Map<string, string>();
  for (const p of plans.values()) {
    for (const i of p.actInputs) tensors.add(finalName(p.node.inputs[i]!));
    if (p.quantizeOutput) {
      for (const o of p.node.outputs) {
        if (!o || (graphOutputs.has(finalName(o)) && opts.target !== 'tflite')) continue;
        tensors.add(finalName(o));
        if (p.role === 'same') sameAs.set(finalName(o), finalName(p.node.inputs[0]!));
      }
    }
  }
  const quantizedOutputs = new Set<string>();
  for (const t of [...tensors]) {
    if (!graphOutputs.has(t)) continue;
    if (opts.target === 'tflite') quantizedOutputs.add(t);
    else tensors.delete(t);
  }
  const fixed = new Map<string, { scale: number; zeroPoint: number }>();
  if (opts.target === 'tflite') {
    for (const p of plans.values()) {
      if (p.node.op === 'Softmax' || p.node.op === 'Sigmoid') fixed.set(finalName(p.node.outputs[0]!), { scale: 1 / 256, zeroPoint: -128 });
    }
  }
  return { nodes: [...plans.values()], folded, sameAs, tensors, keptFloat, fixed, quantizedOutputs };
}

/** The tensors whose ranges calibration must measure for this plan. */
export function tensorsToCalibrate(plan: StaticPlan): string[] {
  return [...plan.tensors].filter((t) => !plan.sameAs.has(t) && !plan.fixed.has(t));
}

/** Clip(x, min, max) with min = 0 and max > 0 (ReLU6 and the like). */
function clipIsFoldable(g: Graph, n: Node): boolean {
  let lo: number | undefined;
  let hi: number | undefined;
  if (n.attrs.min || n.attrs.max) {
    lo = attrFloat(n, 'min', -Infinity);
    hi = attrFloat(n, 'max', Infinity);
  } else {
    const minT = constantOf(g, n.inputs[1] ?? '');
    const maxT = constantOf(g, n.inputs[2] ?? '');
    if ((n.inputs[1] && !minT) || (n.inputs[2] && !maxT)) return false;
    lo = minT ? toFloat32(minT)[0] : -Infinity;
    hi = maxT ? toFloat32(maxT)[0] : Infinity;
  }
  return lo === 0 && hi !== undefined && hi > 0;
}

/** The output-channel axis of a weight, or undefined when only per-tensor is valid. */
function weightAxis(n: Node, w: Tensor, opset: number): number | undefined {
  if (opset < 13) return undefined; // per-axis QuantizeLinear/DequantizeLinear need opset 13
  switch (n.op) {
    case 'Conv':
      return w.shape.length >= 3 ? 0 : undefined;
    case 'ConvTranspose':
      return attrInt(n, 'group', 1) === 1 && w.shape.length >= 3 ? 1 : undefined;
    case 'Gemm':
      return w.shape.length === 2 ? (attrInt(n, 'transB', 0) ? 0 : 1) : undefined;
    case 'MatMul':
      return w.shape.length === 2 ? 1 : undefined;
    default:
      return undefined;
  }
}

export interface StaticResult {
  graph: Graph;
  quantizedNodes: Array<{ node: string; op: string }>;
  keptFloat: StaticPlan['keptFloat'];
  folded: string[];
  /** float tensor name in the source graph → the name of its dequantized value in the new graph */
  dequantized: Map<string, string>;
  notes: string[];
}

/** Rewrite `g` per `plan` with calibrated `ranges`; returns a new graph. */
export function applyStatic(g0: Graph, plan: StaticPlan, ranges: Map<string, Range>, opts: StaticOptions = {}): StaticResult {
  const act = opts.activationType ?? 'uint8';
  const [qmin, qmax] = act === 'uint8' ? [0, 255] : [-128, 127];
  const g = copyGraph(g0);
  const names = new NameAllocator(g);
  const notes: string[] = [];
  const opset = opsetVersion(g) ?? 0;
  if (opset < 10) throw new MloptError('UNSUPPORTED', `static int8 quantization needs ONNX opset ≥ 10 (the model has opset ${opset})`, 'the QuantizeLinear / DequantizeLinear ops appeared in opset 10');
  if (opset < 13) notes.push(`opset ${opset} < 13: weights quantized per tensor (per-channel QDQ needs opset 13)`);

  // node copies in g by name
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const nodeOf = (n: Node): Node => byName.get(n.name) ?? n;

  // 1. fold Relu/Clip: the producer writes the activation's output, the activation goes
  const foldedNames = new Set(plan.folded.map((n) => n.name));
  const producers = producersOf(g);
  for (const r of plan.folded) {
    const src = producers.get(r.inputs[0]!)!;
    src.outputs[src.outputs.indexOf(r.inputs[0]!)] = r.outputs[0]!;
  }
  g.nodes = g.nodes.filter((n) => !foldedNames.has(n.name));

  // 2. parameters of every quantized tensor
  const params = new Map<string, { scale: number; zp: number; s: string; z: string }>();
  const zpTensor = (v: number): Tensor => (act === 'uint8' ? { dtype: 'uint8', shape: [], data: Uint8Array.of(v) } : { dtype: 'int8', shape: [], data: Int8Array.of(v) });
  const paramsOf = (t: string): { scale: number; zp: number; s: string; z: string } => {
    const have = params.get(t);
    if (have) return have;
    const src = plan.sameAs.get(t);
    if (src !== undefined) {
      const p = paramsOf(src);
      params.set(t, p);
      return p;
    }
    const r = ranges.get(t);
    const fixedP = plan.fixed.get(t);
    if (!r && !fixedP) throw new MloptError('RUNTIME', `internal: no calibration range for tensor "${t}"`);
    const { scale, zeroPoint } = fixedP ?? affineParams(r!.lo, r!.hi, qmin, qmax);
    const s = names.next('s');
    const z = names.next('z');
    g.initializers.set(s, { dtype: 'float32', shape: [], data: Float32Array.of(scale) });
    g.initializers.set(z, zpTensor(zeroPoint));
    const p = { scale, zp: zeroPoint, s, z };
    params.set(t, p);
    return p;
  };

  // 3. QDQ pairs on activation tensors, consumers of quantized nodes read the DQ output
  const dequantized = new Map<string, string>();
  const consumers = consumersOf(g);
  const firstUse = (t: string): Node | undefined => {
    const cs = consumers.get(t);
    if (!cs?.length) return undefined;
    const idx = Math.min(...cs.map((c) => g.nodes.indexOf(c.node)));
    return g.nodes[idx];
  };
  const pending: Array<{ before: Node | undefined; nodes: Node[] }> = [];
  for (const t of plan.tensors) {
    if (plan.quantizedOutputs.has(t)) {
      // a graph output keeps its name on the DequantizeLinear; its producer writes a new value
      const producer = g.nodes.find((n) => n.outputs.includes(t))!;
      const raw = names.next('y');
      producer.outputs[producer.outputs.indexOf(t)] = raw;
      for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === t ? raw : x));
      const p = paramsOf(t);
      const q = names.next('q');
      const at = g.nodes.indexOf(producer) + 1;
      g.nodes.splice(at, 0, mkNode(names.next('Q'), 'QuantizeLinear', [raw, p.s, p.z], [q]), mkNode(names.next('DQ'), 'DequantizeLinear', [q, p.s, p.z], [t]));
      dequantized.set(t, t);
      continue;
    }
    const cs = consumers.get(t);
    if (!cs?.length) continue;
    const p = paramsOf(t);
    const q = names.next('q');
    const d = names.next('d');
    pending.push({ before: firstUse(t), nodes: [mkNode(names.next('Q'), 'QuantizeLinear', [t, p.s, p.z], [q]), mkNode(names.next('DQ'), 'DequantizeLinear', [q, p.s, p.z], [d])] });
    for (const c of cs) c.node.inputs[c.index] = d;
    dequantized.set(t, d);
  }

  // 4. weights, biases and float constants
  const wzp = new Map<number, string>(); // int8 zero points (all 0), shared per channel count
  const weightZeroPoint = (channels: number): string => {
    let name = wzp.get(channels);
    if (!name) {
      name = names.next('wz');
      g.initializers.set(name, { dtype: 'int8', shape: channels ? [channels] : [], data: new Int8Array(channels || 1) });
      wzp.set(channels, name);
    }
    return name;
  };
  const quantizedNodes: StaticResult['quantizedNodes'] = [];
  for (const p0 of plan.nodes) {
    const n = nodeOf(p0.node);
    quantizedNodes.push({ node: n.name, op: n.op });
    let wScales: Float32Array | undefined;
    let wAxis: number | undefined;
    if (p0.weight) {
      const wName = n.inputs[p0.weight.index]!;
      const w = g.initializers.get(wName)!;
      const axis = opset >= 13 ? p0.weight.axis : undefined;
      const { scales, q } = quantizeWeightsSymmetric(toFloat32(w), w.shape as number[], axis);
      wScales = scales;
      wAxis = axis;
      const qName = names.next('w');
      const sName = names.next('ws');
      const dName = names.next('wd');
      g.initializers.set(qName, { dtype: 'int8', shape: [...w.shape], data: q });
      g.initializers.set(sName, { dtype: 'float32', shape: axis === undefined ? [] : [scales.length], data: axis === undefined ? Float32Array.of(scales[0]!) : scales });
      // an explicit zero point: onnxruntime's QDQ Gemm fusion (→ QGemm) requires it
      const zName = weightZeroPoint(axis === undefined ? 0 : scales.length);
      const dq = mkNode(names.next('DQ'), 'DequantizeLinear', [qName, sName, zName], [dName], axis === undefined ? {} : { axis: { type: 'int', value: axis } });
      pending.push({ before: n, nodes: [dq] });
      n.inputs[p0.weight.index] = dName;
    }
    if (p0.bias !== undefined && wScales) {
      const bName = n.inputs[p0.bias]!;
      const b = toFloat32(g.initializers.get(bName)!);
      const xName = p0.node.inputs[0]!;
      const xs = paramsOf(xName).scale;
      const perChan = wAxis !== undefined;
      const bs = new Float32Array(perChan ? b.length : 1);
      const bq = new Int32Array(b.length);
      let clamped = 0;
      for (let c = 0; c < b.length; c++) {
        const s = Math.fround(xs * (perChan ? wScales[c]! : wScales[0]!));
        if (perChan || c === 0) bs[perChan ? c : 0] = s;
        const v = s > 0 ? roundHalfEven(b[c]! / s) : 0;
        const cl = Math.max(-2147483648, Math.min(2147483647, v));
        if (cl !== v) clamped++;
        bq[c] = cl;
      }
      if (clamped) notes.push(`${n.name}: ${clamped} bias values clamped to the int32 range`);
      const qName = names.next('b');
      const sName = names.next('bs');
      const dName = names.next('bd');
      g.initializers.set(qName, { dtype: 'int32', shape: [b.length], data: bq });
      g.initializers.set(sName, { dtype: 'float32', shape: perChan ? [b.length] : [], data: perChan ? bs : Float32Array.of(bs[0]!) });
      pending.push({ before: n, nodes: [mkNode(names.next('DQ'), 'DequantizeLinear', [qName, sName], [dName], perChan ? { axis: { type: 'int', value: 0 } } : {})] });
      n.inputs[p0.bias] = dName;
    }
    for (const i of p0.constInputs) {
      const cName = n.inputs[i]!;
      const c = toFloat32(g.initializers.get(cName)!);
      let lo = 0;
      let hi = 0;
      for (const v of c) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const { scale, zeroPoint } = affineParams(lo, hi, qmin, qmax);
      const q = act === 'uint8' ? new Uint8Array(c.length) : new Int8Array(c.length);
      for (let k = 0; k < c.length; k++) q[k] = Math.max(qmin, Math.min(qmax, roundHalfEven(c[k]! / scale) + zeroPoint));
      const qName = names.next('c');
      const sName = names.next('s');
      const zName = names.next('z');
      const dName = names.next('cd');
      g.initializers.set(qName, { dtype: act, shape: [...g.initializers.get(cName)!.shape], data: q });
      g.initializers.set(sName, { dtype: 'float32', shape: [], data: Float32Array.of(scale) });
      g.initializers.set(zName, zpTensor(zeroPoint));
      pending.push({ before: n, nodes: [mkNode(names.next('DQ'), 'DequantizeLinear', [qName, sName, zName], [dName])] });
      n.inputs[i] = dName;
    }
  }

  for (const { before, nodes } of pending) {
    const i = before ? g.nodes.indexOf(before) : -1;
    g.nodes.splice(i < 0 ? g.nodes.length : i, 0, ...nodes);
  }
  // (a Q/DQ pair sits right before the first consumer of its tensor, which follows the
  // tensor's producer, so the node order stays topological)

  // drop float initializers no longer read by anything
  pruneInitializers(g);
  // value_info of folded producer outputs no longer exists
  const produced = new Set<string>();
  for (const n of g.nodes) for (const o of n.outputs) produced.add(o);
  g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name) || g.initializers.has(v.name) || g.inputs.some((i) => i.name === v.name));

  return { graph: g, quantizedNodes, keptFloat: plan.keptFloat, folded: plan.folded.map((n) => n.name), dequantized, notes };
}

