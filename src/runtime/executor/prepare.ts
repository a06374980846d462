/**
 * Turns a user's graph into the executor's working graph: Constant nodes become initializers,
 * every op is checked against the kernel table, channels-first nodes are converted to NHWC
 * (tfjs convolves and pools channels-last) when shapes allow, and the initializers are sorted
 * into trainable weights, state (BatchNormalization moving statistics) and constants.
 * Initializer names never change here, so trained values map back onto the user's graph.
 */
import { isFloatDType } from '../../ir/dtype.js';
import type { Graph, Node } from '../../ir/graph.js';
import { attrInt, opsetVersion } from '../../ir/graph.js';
import { NameAllocator, constantNodesToInitializers, consumersOf, copyGraph, producersOf } from '../../ir/edit.js';
import { getOp, inferGraphTypes } from '../../ir/ops/index.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { convertLayout, simplifyReshapes } from '../../passes/layout.js';
import { MloptError } from '../../util/errors.js';
import { kernelFor, kernelKey, supportedOps } from './ops/index.js';
import { quantRange } from './ops/quant.js';

export interface QatWeight {
  /** the integer initializer's dtype, scale, zero point and axis, to quantize the trained weight back */
  dtype: Tensor['dtype'];
  scale: Float32Array;
  zeroPoint: Float32Array;
  axis: number;
  shape: number[];
}

export interface PreparedGraph {
  graph: Graph;
  /** float initializers that are weights (trained) */
  trainable: string[];
  /** BatchNormalization moving statistics (updated in training, not by gradients) */
  state: string[];
  /** integer weights behind a DequantizeLinear made trainable (float variables + fake quantization) */
  qat: Map<string, QatWeight>;
  /** channels-first nodes were converted to NHWC */
  layoutConverted: boolean;
}

export interface PrepareOptions {
  /** make int8 weights behind DequantizeLinear trainable (quantization-aware training) */
  trainQuantizedWeights?: boolean;
  /** explicit list of trainable initializers (default: found from the ops that read them) */
  trainable?: string[];
  /** convert channels-first nodes to NHWC (default true; false runs them as they are, each
   *  kernel transposing around its op: slower, for debugging and tests) */
  convertLayout?: boolean;
}

/** Ops a weight passes through unchanged in meaning on its way to the op that uses it. */
const PASS = new Set(['Identity', 'Cast', 'Transpose', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'QuantizeLinear', 'DequantizeLinear', 'Expand']);
/** Inputs that hold weights, per op. */
const WEIGHT_SLOTS: Record<string, number[]> = {
  Conv: [1, 2], ConvTranspose: [1, 2], Gemm: [0, 1, 2], MatMul: [0, 1], Einsum: [0, 1, 2],
  BatchNormalization: [1, 2], LayerNormalization: [1, 2], InstanceNormalization: [1, 2], GroupNormalization: [1, 2],
  PRelu: [1], Gather: [0], LSTM: [1, 2, 3, 7], GRU: [1, 2, 3], RNN: [1, 2, 3],
};
/** Ops whose output a following Add / Sub constant is the bias of. */
const BIASED = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Einsum']);

export function prepareGraph(g0: Graph, opts: PrepareOptions = {}): PreparedGraph {
  const g = copyGraph(g0);
  constantNodesToInitializers(g);
  checkOps(g);
  const qat = opts.trainQuantizedWeights ? unfreezeQuantizedWeights(g) : new Map<string, QatWeight>();
  const trainable = opts.trainable ? [...opts.trainable] : findTrainable(g);
  for (const t of trainable) {
    const w = g.initializers.get(t);
    if (!w) throw new MloptError('USAGE', `"${t}" is not an initializer of the graph; it cannot be trained`);
    if (!isFloatDType(w.dtype)) throw new MloptError('USAGE', `initializer "${t}" is ${w.dtype}; only float weights can be trained`);
  }
  const state = findState(g);
  legacyBroadcast(g);
  const layoutConverted = opts.convertLayout === false ? false : toNhwc(g, new Set(trainable));
  return { graph: g, trainable, state, qat, layoutConverted };
}

function checkOps(g: Graph): void {
  for (const n of g.nodes) {
    if (!kernelFor(n)) {
      const key = kernelKey(n);
      throw new MloptError(
        'UNSUPPORTED',
        `op ${key} (node "${n.name}") cannot run on the IR executor`,
        `the executor runs: ${supportedOps().join(', ')}`,
      );
    }
  }
}

function isFloatInit(g: Graph, name: string): boolean {
  const t = g.initializers.get(name);
  return !!t && isFloatDType(t.dtype) && t.dtype !== 'complex64' && t.dtype !== 'complex128' && t.shape.length > 0;
}

/** Float initializers that reach a weight input of a compute op (through pass-through ops). */
export function findTrainable(g: Graph): string[] {
  const consumers = consumersOf(g);
  const producers = producersOf(g);
  const through = (n: Node | undefined): Node | undefined => {
    // the compute op behind a chain of pass-through ops (for "is this Add a bias of a matmul")
    let cur = n;
    for (let k = 0; cur && k < 8 && PASS.has(cur.op); k++) cur = producers.get(cur.inputs[0] ?? '');
    return cur;
  };
  const reachesWeightSlot = (value: string, depth: number): boolean => {
    for (const { node, index } of consumers.get(value) ?? []) {
      if (node.domain !== '') continue;
      if (WEIGHT_SLOTS[node.op]?.includes(index)) {
        // a matmul's data operand is not a weight: only a constant one is
        if ((node.op === 'MatMul' || node.op === 'Gemm' || node.op === 'Einsum') && !isWeightOperand(g, node, index, producers)) continue;
        return true;
      }
      if ((node.op === 'Add' || node.op === 'Sub') && node.inputs.length === 2) {
        const other = node.inputs[1 - index]!;
        const p = through(producers.get(other));
        if (p && BIASED.has(p.op)) return true;
      }
      if (PASS.has(node.op) && index === 0 && depth < 8 && node.outputs[0] && reachesWeightSlot(node.outputs[0], depth + 1)) return true;
    }
    return false;
  };
  const out: string[] = [];
  for (const name of g.initializers.keys()) {
    if (isFloatInit(g, name) && reachesWeightSlot(name, 0)) out.push(name);
  }
  return out;
}

/** A matmul operand is a weight when no feed reaches it (it comes from initializers only). */
function isWeightOperand(g: Graph, node: Node, index: number, producers: Map<string, Node>): boolean {
  const seen = new Set<string>();
  const isConst = (v: string): boolean => {
    if (!v || g.initializers.has(v)) return true;
    if (seen.has(v)) return true;
    seen.add(v);
    const p = producers.get(v);
    if (!p) return false; // a graph input
    return p.inputs.every(isConst);
  };
  return isConst(node.inputs[index]!);
}

function findState(g: Graph): string[] {
  const out = new Set<string>();
  for (const n of g.nodes) {
    if (n.op !== 'BatchNormalization' || n.domain !== '') continue;
    for (const k of [3, 4]) if (isFloatInit(g, n.inputs[k] ?? '')) out.add(n.inputs[k]!);
  }
  return [...out];
}

/**
 * Integer weights behind a DequantizeLinear (int8 Conv / MatMul weights, int32 biases) become
 * float initializers holding the dequantized values; 8/16-bit ones are then fake-quantized
 * (QuantizeLinear → DequantizeLinear with the same parameters), int32 biases are used as is.
 */
function unfreezeQuantizedWeights(g: Graph): Map<string, QatWeight> {
  const qat = new Map<string, QatWeight>();
  const names = new NameAllocator(g);
  const consumers = consumersOf(g);
  const out: Node[] = [];
  for (const n of g.nodes) {
    const w = g.initializers.get(n.inputs[0] ?? '');
    const s = g.initializers.get(n.inputs[1] ?? '');
    const z = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
    const range = w ? quantRange(w.dtype) : undefined;
    const feedsCompute = (consumers.get(n.outputs[0] ?? '') ?? []).some(({ node, index }) => WEIGHT_SLOTS[node.op]?.includes(index) && index > 0);
    if (n.op !== 'DequantizeLinear' || n.domain !== '' || !w || !s || !range || (n.inputs[2] && !z) || !feedsCompute || qat.has(n.inputs[0]!)) {
      out.push(n);
      continue;
    }
    const name = n.inputs[0]!;
    const rank = w.shape.length;
    const axis0 = attrInt(n, 'axis', 1);
    const axis = axis0 < 0 ? axis0 + rank : axis0;
    const scale = toFloat32(s);
    const zeroPoint = z ? toFloat32(z) : new Float32Array(scale.length);
    const q = toFloat32(w);
    const f = new Float32Array(q.length);
    const inner = w.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const dim = w.shape[axis] ?? 1;
    for (let i = 0; i < q.length; i++) {
      const c = scale.length > 1 ? Math.floor(i / inner) % dim : 0;
      f[i] = (q[i]! - zeroPoint[c]!) * scale[c]!;
    }
    qat.set(name, { dtype: w.dtype, scale, zeroPoint, axis, shape: [...w.shape] });
    g.initializers.set(name, { dtype: 'float32', shape: [...w.shape], data: f });
    if (w.dtype === 'int32') {
      out.push({ ...n, op: 'Identity', inputs: [name], attrs: {} });
      continue;
    }
    const fq = names.next('fq');
    out.push({ name: names.next('QuantizeLinear'), op: 'QuantizeLinear', domain: '', inputs: [name, n.inputs[1]!, n.inputs[2] ?? ''], outputs: [fq], attrs: { ...n.attrs } });
    if (!n.inputs[2]) {
      // without a zero point QuantizeLinear would produce uint8: give it an explicit one
      const zp = names.next('zp');
      g.initializers.set(zp, { dtype: w.dtype, shape: [], data: new (w.data.constructor as Int8ArrayConstructor)(1) });
      out[out.length - 1]!.inputs[2] = zp;
    }
    out.push({ ...n, inputs: [fq, ...n.inputs.slice(1)] });
  }
  g.nodes = out;
  return qat;
}

const LEGACY_BROADCAST_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less', 'PRelu']);

/**
 * Before opset 7, binary ops broadcast only with `broadcast = 1`, aligning B at `axis` (default:
 * the trailing dims) instead of numpy's right alignment. A Reshape of B (ones after its dims)
 * gives numpy semantics; B keeps its name (a trained bias maps back onto the user's graph).
 */
function legacyBroadcast(g: Graph): void {
  const opset = opsetVersion(g) ?? (g.metadata.sourceFormat === 'onnx' ? 1 : 99);
  if (opset >= 7) return;
  const nodes = g.nodes.filter((n) => n.domain === '' && LEGACY_BROADCAST_OPS.has(n.op) && attrInt(n, 'broadcast', 0) === 1);
  if (!nodes.length) return;
  const types = inferGraphTypes(g).types;
  const names = new NameAllocator(g);
  const out: Node[] = [];
  for (const n of g.nodes) {
    if (!nodes.includes(n)) {
      out.push(n);
      continue;
    }
    const ra = types.get(n.inputs[0]!)?.shape?.length;
    const bShape = types.get(n.inputs[1]!)?.shape;
    const attrs = { ...n.attrs };
    delete attrs.broadcast;
    delete attrs.axis;
    if (ra === undefined || !bShape) throw new MloptError('UNSUPPORTED', `op ${n.op} (node "${n.name}") cannot run on the IR executor: legacy broadcasting needs the ranks of its inputs`);
    const axis0 = n.attrs.axis ? attrInt(n, 'axis', 0) : ra - bShape.length;
    const axis = axis0 < 0 ? axis0 + ra : axis0;
    const trailing = ra - axis - bShape.length;
    if (trailing > 0) {
      const shape = names.next('bshape');
      g.initializers.set(shape, { dtype: 'int64', shape: [bShape.length + trailing], data: BigInt64Array.from([...bShape.map((d) => BigInt(typeof d === 'number' ? d : 0)), ...new Array<bigint>(trailing).fill(1n)]) });
      const b = names.next('b');
      out.push({ name: names.next('Reshape'), op: 'Reshape', domain: '', inputs: [n.inputs[1]!, shape], outputs: [b], attrs: {} });
      out.push({ ...n, inputs: [n.inputs[0]!, b], attrs });
    } else {
      out.push({ ...n, attrs });
    }
  }
  g.nodes = out;
}

const HIDDEN = 'mlopt.exec.layout-hidden';

/** Convert channels-first nodes to NHWC (best effort: a graph with unknown ranks stays as is and
 *  its kernels transpose around each op). Trainable initializers that feed element-wise ops are
 *  read through an Identity so that the layout pass cannot replace them by permuted copies. */
function toNhwc(g: Graph, trainable: Set<string>): boolean {
  const needs = g.nodes.some((n) => n.domain === '' && getOp(n.op)?.layoutSensitive && n.layout !== 'NHWC');
  if (!needs) return false;
  const trial = copyGraph(g);
  const names = new NameAllocator(trial);
  const extra: Node[] = [];
  const alias = new Map<string, string>();
  for (const n of trial.nodes) {
    if (n.domain !== '' || getOp(n.op)?.layoutSensitive) continue;
    n.inputs = n.inputs.map((x) => {
      if (!trainable.has(x)) return x;
      let a = alias.get(x);
      if (!a) {
        a = names.next('w');
        alias.set(x, a);
        extra.push({ name: names.next('Identity'), op: 'Identity', domain: '', inputs: [x], outputs: [a], attrs: {} });
      }
      return a;
    });
  }
  trial.nodes = [...extra, ...trial.nodes];
  // a Resize whose scales / sizes are computed (not constants) cannot have them permuted by the
  // layout pass: it stays channels-first (hidden from the pass), with Transposes around it
  const kept = trial.nodes.filter((n) => n.domain === '' && (n.op === 'Resize' || n.op === 'Upsample') && n.layout !== 'NHWC' && n.inputs.slice(1).some((x) => x && !trial.initializers.has(x)));
  for (const n of kept) n.domain = HIDDEN;
  let converted: Graph;
  try {
    converted = convertLayout(trial, 'NHWC').graph;
  } catch {
    return false;
  } finally {
    for (const n of kept) n.domain = '';
  }
  for (const n of converted.nodes) if (n.domain === HIDDEN) n.domain = '';
  // the layout pass must have kept every weight under its own name
  for (const t of trainable) if (!converted.initializers.has(t)) return false;
  try {
    // a Transpose that only moves size-1 axes (NHWC input of a 1-channel NCHW model) is a Reshape
    simplifyReshapes(converted);
  } catch {
    // shapes too dynamic to simplify: keep the graph as converted
  }
  for (const t of trainable) if (!converted.initializers.has(t)) return false;
  g.nodes = converted.nodes;
  g.initializers = converted.initializers;
  g.valueInfo = converted.valueInfo;
  return true;
}
