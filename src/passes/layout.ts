/**
 * Layout conversion: make every layout-sensitive node channels-first (for ONNX) or
 * channels-last (for TFLite / tfjs), wrapping it in Transposes, then sink Transposes through
 * element-wise ops and cancel inverse pairs so that a typical CNN keeps transposes only at
 * its boundary. The IR keeps weights in ONNX layout whatever a node's data layout, so only
 * data tensors (and per-axis inputs such as Resize scales / sizes: constants permuted, computed
 * ones gathered) move. A node on rank ≤ 2 data ([N, C]) is the same in both layouts: only marked.
 */
import { transposeData } from '../data/npy.js';
import type { Graph, Layout, Node } from '../ir/graph.js';
import { attrInt, attrInts } from '../ir/graph.js';
import { MloptError } from '../util/errors.js';
import { toFloat32 } from '../ir/tensor.js';
import { getOp, inferGraphTypes } from '../ir/ops/index.js';
import type { Tensor } from '../ir/tensor.js';
import { NameAllocator, copyGraph, producersOf, pruneInitializers } from '../ir/edit.js';
import { permuteResizeInputs } from './layout-resize.js';

const ints = (value: number[]) => ({ type: 'ints' as const, value });

export function toFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}
export function toLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}
function inverse(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
function isIdentity(perm: number[]): boolean {
  return perm.every((p, i) => p === i);
}
function compose(first: number[], second: number[]): number[] {
  // y = T(second)(T(first)(x)): y[i] = x[first[second[i]]]
  return second.map((s) => first[s]!);
}

export interface LayoutResult {
  graph: Graph;
  /** layout-sensitive nodes converted */
  converted: number;
  /** Transpose nodes left in the graph */
  transposes: number;
}

/** Convert every layout-sensitive node to `target` and optimize the Transposes. */
export function convertLayout(g0: Graph, target: Layout): LayoutResult {
  const g = copyGraph(g0);
  const names = new NameAllocator(g);
  const types = inferGraphTypes(g).types;
  const out: Node[] = [];
  let converted = 0;
  for (const n of g.nodes) {
    const from: Layout = n.layout ?? 'NCHW';
    const spec = n.domain === '' ? getOp(n.op) : undefined;
    if (!spec?.layoutSensitive || from === target) {
      out.push(n);
      continue;
    }
    const rank = dataRank(g, n, types.get(n.inputs[0] ?? '')?.shape?.length);
    if (rank === undefined) {
      throw new MloptError('UNSUPPORTED', `layout: the rank of the input of ${n.op} node "${n.name}" is unknown, so it cannot be made ${target}`, 'give the model input a shape (its rank at least)');
    }
    if (rank <= 2) {
      // [N, C] (or [C]): channels-first and channels-last are the same tensor
      out.push({ ...n, layout: target });
      converted++;
      continue;
    }
    // perm that brings data from the node's layout to the target layout
    const toTarget = target === 'NCHW' ? toFirstPerm(rank) : toLastPerm(rank);
    const back = inverse(toTarget);
    const x = n.inputs[0]!;
    const xt = names.next('t');
    out.push({ name: names.next('Transpose'), op: 'Transpose', domain: '', inputs: [x], outputs: [xt], attrs: { perm: ints(toTarget) } });
    const nn: Node = { ...n, inputs: [xt, ...n.inputs.slice(1)], layout: target, attrs: { ...n.attrs } };
    if (n.op === 'Resize' || n.op === 'Upsample') out.push(...permuteResizeInputs(g, nn, toTarget, names));
    const outs = n.outputs.map((o, i) => (o && (i === 0 || n.op === 'MaxPool') ? names.next('t') : o));
    nn.outputs = outs;
    out.push(nn);
    n.outputs.forEach((o, i) => {
      if (o && outs[i] !== o) out.push({ name: names.next('Transpose'), op: 'Transpose', domain: '', inputs: [outs[i]!], outputs: [o], attrs: { perm: ints(back) } });
    });
    converted++;
  }
  g.nodes = out;
  optimizeTransposes(g);
  return { graph: g, converted, transposes: g.nodes.filter((n) => n.op === 'Transpose').length };
}

/** The rank of a layout-sensitive node's data input: inferred, else that of its weights (Conv). */
function dataRank(g: Graph, n: Node, inferred: number | undefined): number | undefined {
  if (inferred !== undefined) return inferred;
  if (n.op !== 'Conv' && n.op !== 'ConvTranspose') return undefined;
  return g.initializers.get(n.inputs[1] ?? '')?.shape.length;
}

const UNARY = new Set([
  'Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Erf', 'HardSigmoid', 'HardSwish', 'Gelu', 'Elu',
  'Selu', 'Softplus', 'Identity', 'Cast', 'Floor', 'Ceil', 'Round', 'Reciprocal', 'Sign', 'Sin', 'Cos', 'Mish', 'Softsign',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'PRelu', 'Sum', 'Mean']);

function permOf(n: Node | undefined): number[] | undefined {
  return n && n.op === 'Transpose' && n.domain === '' ? attrInts(n, 'perm') : undefined;
}

/** Sink Transposes through element-wise ops, Clip, per-tensor Q/DQ and Concat; cancel
 *  inverse pairs; drop nodes nothing reads. Edits `g` in place. */
export function optimizeTransposes(g: Graph): void {
  const names = new NameAllocator(g);
  for (let pass = 0; pass < 100; pass++) {
    let changed = false;
    const producers = producersOf(g);
    const graphOutputs = new Set(g.outputs.map((o) => o.name));
    const nodes: Node[] = [];
    for (const n of g.nodes) {
      // 1. Transpose of a Transpose: compose (identity → read the source directly)
      const inner = producers.get(n.inputs[0] ?? '');
      const p2 = permOf(n);
      const p1 = permOf(inner);
      if (p2 && p1) {
        const p = compose(p1, p2);
        if (isIdentity(p) && !graphOutputs.has(n.outputs[0]!)) {
          renameInput(g, n.outputs[0]!, inner!.inputs[0]!);
          changed = true;
          continue;
        }
        nodes.push({ ...n, inputs: [inner!.inputs[0]!], attrs: { perm: ints(p) } });
        changed = true;
        continue;
      }
      // 2. sink a Transpose below a unary op / Clip / per-tensor Q-DQ
      const sinkable = n.domain === '' && (UNARY.has(n.op) || n.op === 'Clip' || ((n.op === 'QuantizeLinear' || n.op === 'DequantizeLinear') && perTensorOrAxis(n)));
      if (sinkable && p1 && !graphOutputs.has(n.outputs[0]!) && n.outputs.length === 1) {
        const y = n.outputs[0]!;
        const y2 = names.next('t');
        const attrs = { ...n.attrs };
        const scale = g.initializers.get(n.inputs[1] ?? '');
        if ((n.op === 'QuantizeLinear' || n.op === 'DequantizeLinear') && scale && scale.shape.length === 1 && (scale.shape[0] as number) > 1) {
          const rank = p1.length;
          const ax = attrInt(n, 'axis', 1);
          attrs.axis = { type: 'int', value: p1[(ax + rank) % rank]! };
        }
        nodes.push({ ...n, inputs: [inner!.inputs[0]!, ...n.inputs.slice(1)], outputs: [y2], attrs });
        nodes.push({ name: names.next('Transpose'), op: 'Transpose', domain: '', inputs: [y2], outputs: [y], attrs: { perm: ints(p1) } });
        changed = true;
        continue;
      }
      // 3. binary element-wise with every non-constant input transposed alike
      if (n.domain === '' && BINARY.has(n.op) && n.outputs.length === 1 && !graphOutputs.has(n.outputs[0]!)) {
        const r = sinkBinary(g, n, producers, names);
        if (r) {
          nodes.push(...r);
          changed = true;
          continue;
        }
      }
      // 4. Concat of inputs transposed alike
      if (n.domain === '' && n.op === 'Concat' && !graphOutputs.has(n.outputs[0]!)) {
        const perms = n.inputs.map((x) => permOf(producers.get(x)));
        const p = perms[0];
        if (p && perms.every((q) => q && q.join() === p.join())) {
          const rank = p.length;
          const ax = attrInt(n, 'axis', 0);
          const y2 = names.next('t');
          nodes.push({ ...n, inputs: n.inputs.map((x) => producers.get(x)!.inputs[0]!), outputs: [y2], attrs: { ...n.attrs, axis: { type: 'int', value: p[(ax + rank) % rank]! } } });
          nodes.push({ name: names.next('Transpose'), op: 'Transpose', domain: '', inputs: [y2], outputs: [n.outputs[0]!], attrs: { perm: ints(p) } });
          changed = true;
          continue;
        }
      }
      nodes.push(n);
    }
    g.nodes = nodes;
    const removed = removeDead(g);
    if (!changed && !removed) break;
  }
}

/** Q/DQ whose scale and zero point are constants (per tensor, or per axis: the axis is remapped). */
function perTensorOrAxis(n: Node): boolean {
  return n.inputs.length >= 2;
}

/** Binary op whose non-constant inputs all come from Transposes with one perm: run it on the
 *  untransposed data (constants permuted to match) and transpose the result. */
function sinkBinary(g: Graph, n: Node, producers: Map<string, Node>, names: NameAllocator): Node[] | undefined {
  let perm: number[] | undefined;
  const ins: string[] = [];
  for (const x of n.inputs) {
    const c = g.initializers.get(x);
    if (c) {
      ins.push(x);
      continue;
    }
    const p = permOf(producers.get(x));
    if (!p || (perm && p.join() !== perm.join())) return undefined;
    perm = p;
    ins.push(producers.get(x)!.inputs[0]!);
  }
  if (!perm) return undefined;
  const inv = inverse(perm);
  for (let i = 0; i < ins.length; i++) {
    const c = g.initializers.get(ins[i]!);
    if (!c) continue;
    if (c.shape.length === 0 || (c.shape as number[]).reduce((a, b) => a * b, 1) === 1) continue; // scalars broadcast anywhere
    const shape = [...new Array<number>(perm.length - c.shape.length).fill(1), ...(c.shape as number[])];
    if (shape.length !== perm.length) return undefined;
    // c' with T(perm)(c') = c  ⇒  c' = T(inv)(c)
    const data = transposeData(c.data as Float32Array, shape, inv);
    const name = names.next('c');
    g.initializers.set(name, { dtype: c.dtype, shape: inv.map((a) => shape[a]!), data } as Tensor);
    ins[i] = name;
  }
  const y2 = names.next('t');
  return [
    { ...n, inputs: ins, outputs: [y2] },
    { name: names.next('Transpose'), op: 'Transpose', domain: '', inputs: [y2], outputs: [n.outputs[0]!], attrs: { perm: ints(perm) } },
  ];
}

function renameInput(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === from ? to : x));
}

/** Remove nodes whose outputs nobody reads (graph outputs count as read). */
function removeDead(g: Graph): boolean {
  let removed = false;
  for (;;) {
    const read = new Set<string>(g.outputs.map((o) => o.name));
    for (const n of g.nodes) for (const x of n.inputs) read.add(x);
    const keep = g.nodes.filter((n) => n.outputs.some((o) => o && read.has(o)) || n.outputs.length === 0);
    if (keep.length === g.nodes.length) break;
    g.nodes = keep;
    removed = true;
  }
  if (removed) {
    pruneInitializers(g);
    const produced = new Set(g.nodes.flatMap((n) => n.outputs));
    g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name) || g.inputs.some((i) => i.name === v.name));
  }
  return removed;
}

/**
 * Reshape clean-up after the layout pass: a Transpose that only moves size-1 axes is a Reshape
 * (tf2onnx writes NHWC→NCHW of a 1-channel input as a Reshape, the layout pass then adds the
 * inverse Transpose); a Reshape of a Reshape reads the first one's input; a Reshape to its
 * input's own shape disappears. Needs static shapes (a symbolic batch dim is fine). Edits `g`.
 */
export function simplifyReshapes(g: Graph): number {
  let changed = 0;
  for (let pass = 0; pass < 10; pass++) {
    const types = inferGraphTypes(g).types;
    const producers = producersOf(g);
    const graphOutputs = new Set(g.outputs.map((o) => o.name));
    const uses = new Map<string, number>();
    for (const n of g.nodes) for (const x of n.inputs) uses.set(x, (uses.get(x) ?? 0) + 1);
    const names = new NameAllocator(g);
    let did = false;
    const shapeConst = (dims: Array<number | string>): string | undefined => {
      if (dims.filter((d) => typeof d !== 'number').length > 1) return undefined;
      const name = names.next('shape');
      g.initializers.set(name, { dtype: 'int64', shape: [dims.length], data: BigInt64Array.from(dims.map((d) => BigInt(typeof d === 'number' ? d : -1))) });
      return name;
    };
    const rename = new Map<string, string>();
    const out: Node[] = [];
    for (const n of g.nodes) {
      if (n.domain !== '') {
        out.push(n);
        continue;
      }
      const inShape = types.get(n.inputs[0] ?? '')?.shape;
      const outShape = types.get(n.outputs[0] ?? '')?.shape;
      if (n.op === 'Transpose' && inShape && outShape) {
        const perm = attrInts(n, 'perm') ?? [];
        const moved = perm.filter((p) => inShape[p] !== 1);
        if (moved.every((p, i) => i === 0 || p > moved[i - 1]!)) {
          const s = shapeConst(outShape);
          if (s) {
            out.push({ ...n, op: 'Reshape', inputs: [n.inputs[0]!, s], attrs: {} });
            did = true;
            continue;
          }
        }
      }
      if (n.op === 'Reshape' && inShape && outShape) {
        const src = producers.get(n.inputs[0]!);
        const same = inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i]);
        if (same && !graphOutputs.has(n.outputs[0]!)) {
          rename.set(n.outputs[0]!, n.inputs[0]!);
          did = true;
          continue;
        }
        if (src && src.op === 'Reshape' && src.domain === '' && uses.get(n.inputs[0]!) === 1 && !graphOutputs.has(n.inputs[0]!)) {
          out.push({ ...n, inputs: [src.inputs[0]!, n.inputs[1]!] });
          did = true;
          continue;
        }
      }
      out.push(n);
    }
    for (const n of out) n.inputs = n.inputs.map((x) => rename.get(x) ?? x);
    g.nodes = out;
    removeDead(g);
    if (!did) break;
    changed++;
  }
  return changed;
}

/**
 * Transpose → Flatten/Reshape to [batch, K] → MatMul / Gemm with constant float32 weights: the
 * Transpose only permutes the K features, so permute the weight rows instead and drop it (the
 * channels-last export of a PyTorch CNN otherwise keeps a TRANSPOSE before its classifier).
 * Edits `g`; returns how many Transposes were removed.
 */
export function foldTransposeIntoWeights(g: Graph): number {
  const types = inferGraphTypes(g).types;
  const producers = producersOf(g);
  const uses = new Map<string, Node[]>();
  for (const n of g.nodes) for (const x of n.inputs) uses.set(x, [...(uses.get(x) ?? []), n]);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  let removed = 0;
  for (const fc of g.nodes) {
    if (fc.domain !== '' || (fc.op !== 'MatMul' && fc.op !== 'Gemm')) continue;
    const w = g.initializers.get(fc.inputs[1] ?? '');
    if (!w || w.dtype !== 'float32' || w.shape.length !== 2) continue;
    if (fc.op === 'Gemm' && attrInt(fc, 'transA', 0) !== 0) continue;
    const flat = producers.get(fc.inputs[0] ?? '');
    if (!flat || (flat.op !== 'Reshape' && flat.op !== 'Flatten') || flat.domain !== '') continue;
    const tr = producers.get(flat.inputs[0] ?? '');
    if (!tr || tr.op !== 'Transpose' || tr.domain !== '') continue;
    if ((uses.get(flat.outputs[0]!) ?? []).length !== 1 || (uses.get(tr.outputs[0]!) ?? []).length !== 1) continue;
    if (graphOutputs.has(flat.outputs[0]!) || graphOutputs.has(tr.outputs[0]!)) continue;
    const s = types.get(tr.inputs[0]!)?.shape;
    const out = types.get(flat.outputs[0]!)?.shape;
    const perm = attrInts(tr, 'perm');
    if (!s || !out || !perm || perm[0] !== 0 || out.length !== 2 || s.slice(1).some((d) => typeof d !== 'number')) continue;
    if (flat.op === 'Flatten' && attrInt(flat, 'axis', 1) !== 1) continue;
    const dims = (s as number[]).slice(1);
    const k = dims.reduce((a, b) => a * b, 1);
    const transB = fc.op === 'Gemm' && attrInt(fc, 'transB', 0) === 1;
    if ((transB ? w.shape[1] : w.shape[0]) !== k) continue;
    // σ(j): index in the untransposed flattening of feature j of the transposed one
    const tdims = perm.slice(1).map((p) => dims[p - 1]!);
    const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
    const sigma = new Int32Array(k);
    const m = new Array<number>(tdims.length).fill(0);
    for (let j = 0; j < k; j++) {
      let src = 0;
      for (let a = 0; a < tdims.length; a++) src += m[a]! * strides[perm[a + 1]! - 1]!;
      sigma[j] = src;
      for (let a = tdims.length - 1; a >= 0; a--) {
        if (++m[a]! < tdims[a]!) break;
        m[a] = 0;
      }
    }
    const data = toFloat32(w);
    const nw = new Float32Array(data.length);
    const [r0, r1] = w.shape as [number, number];
    if (transB) for (let o = 0; o < r0; o++) for (let j = 0; j < k; j++) nw[o * r1 + sigma[j]!] = data[o * r1 + j]!;
    else for (let j = 0; j < k; j++) nw.set(data.subarray(j * r1, (j + 1) * r1), sigma[j]! * r1);
    const name = new NameAllocator(g).derive(`${fc.inputs[1]}_perm`);
    g.initializers.set(name, { dtype: 'float32', shape: [r0, r1], data: nw });
    fc.inputs[1] = name;
    flat.inputs[0] = tr.inputs[0]!;
    removed++;
  }
  if (removed) removeDead(g);
  return removed;
}
