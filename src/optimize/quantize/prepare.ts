/**
 * Pre-processing before quantization (what onnxruntime's quant_pre_process does with its
 * optimizer): Constant nodes become initializers, BatchNormalization after a Conv is folded
 * into the Conv's weights, and MatMul + Add(bias) on 2-D inputs becomes one Gemm — so that
 * the bias is quantized to int32 inside the integer kernel instead of a separate int8 Add.
 * All rewrites are exact in float arithmetic (up to rounding).
 */
import type { Graph, Node } from '../../ir/graph.js';
import { attrFloat, attrInt } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { inferGraphTypes } from '../../ir/ops/index.js';
import { NameAllocator, constantNodesToInitializers, constantOf, consumersOf, copyGraph, producersOf, pruneInitializers } from '../../ir/edit.js';

export interface PrepareResult {
  graph: Graph;
  /** what was rewritten, for the report */
  notes: string[];
}

export function prepareForQuantization(g0: Graph): PrepareResult {
  const g = copyGraph(g0);
  const notes: string[] = [];
  constantNodesToInitializers(g);
  const bn = foldBatchNorm(g);
  if (bn) notes.push(`folded ${bn} BatchNormalization node(s) into the preceding Conv`);
  const gemm = fuseMatMulAdd(g);
  if (gemm) notes.push(`fused ${gemm} MatMul + Add pair(s) into Gemm`);
  return { graph: g, notes };
}

function f32(shape: number[], data: Float32Array): Tensor {
  return { dtype: 'float32', shape, data };
}

function singleUse(g: Graph, consumers: ReturnType<typeof consumersOf>, name: string): boolean {
  return (consumers.get(name) ?? []).length === 1 && !g.outputs.some((o) => o.name === name);
}

/** Conv → BatchNormalization (inference form, constant parameters) becomes one Conv. */
function foldBatchNorm(g: Graph): number {
  const consumers = consumersOf(g);
  const producers = producersOf(g);
  const names = new NameAllocator(g);
  const drop = new Set<Node>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.filter(Boolean).length !== 1) continue;
    if (attrInt(bn, 'training_mode', 0) !== 0) continue;
    const conv = producers.get(bn.inputs[0] ?? '');
    if (!conv || conv.op !== 'Conv' || conv.domain !== '' || !singleUse(g, consumers, bn.inputs[0]!)) continue;
    const w = constantOf(g, conv.inputs[1] ?? '');
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constantOf(g, bn.inputs[i] ?? ''));
    if (!w || w.dtype !== 'float32' || !scale || !bias || !mean || !variance) continue;
    const b0 = conv.inputs[2] ? constantOf(g, conv.inputs[2]) : undefined;
    if (conv.inputs[2] && !b0) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const m = w.shape[0] as number;
    const [sc, bi, mu, va] = [scale, bias, mean, variance].map((t) => toFloat32(t));
    if ([sc, bi, mu, va].some((a) => a!.length !== m)) continue;
    const wf = toFloat32(w);
    const per = wf.length / m;
    const nw = new Float32Array(wf.length);
    const nb = new Float32Array(m);
    const cb = b0 ? toFloat32(b0) : new Float32Array(m);
    for (let c = 0; c < m; c++) {
      const k = sc![c]! / Math.sqrt(va![c]! + eps);
      for (let i = 0; i < per; i++) nw[c * per + i] = wf[c * per + i]! * k;
      nb[c] = (cb[c]! - mu![c]!) * k + bi![c]!;
    }
    const wName = names.derive(`${conv.inputs[1]}_bn`);
    const bName = names.derive(`${conv.name}_bias_bn`);
    g.initializers.set(wName, f32([...(w.shape as number[])], nw));
    g.initializers.set(bName, f32([m], nb));
    conv.inputs[1] = wName;
    conv.inputs[2] = bName;
    conv.outputs[0] = bn.outputs[0]!;
    drop.add(bn);
  }
  if (drop.size) {
    g.nodes = g.nodes.filter((n) => !drop.has(n));
    pruneInitializers(g);
  }
  return drop.size;
}

/** MatMul(A[M,K], B const [K,N]) → Add(·, C const [N] or [1,N]) becomes Gemm(A, B, C). */
function fuseMatMulAdd(g: Graph): number {
  const types = inferGraphTypes(g).types;
  const consumers = consumersOf(g);
  const drop = new Set<Node>();
  for (const mm of g.nodes) {
    if (mm.op !== 'MatMul' || mm.domain !== '') continue;
    const a = mm.inputs[0] ?? '';
    const b = constantOf(g, mm.inputs[1] ?? '');
    const y = mm.outputs[0] ?? '';
    if (!b || b.dtype !== 'float32' || b.shape.length !== 2) continue;
    if (types.get(a)?.shape?.length !== 2 || !singleUse(g, consumers, y)) continue;
    const add = consumers.get(y)![0]!.node;
    if (add.op !== 'Add' || add.domain !== '') continue;
    const other = add.inputs[0] === y ? add.inputs[1] : add.inputs[0];
    const c = constantOf(g, other ?? '');
    const n = b.shape[1] as number;
    if (!c || c.dtype !== 'float32') continue;
    const cs = c.shape as number[];
    if (!((cs.length === 1 && cs[0] === n) || (cs.length === 2 && cs[0] === 1 && cs[1] === n))) continue;
    let cName = other!;
    if (cs.length === 2) {
      cName = new NameAllocator(g).derive(`${other}_1d`);
      g.initializers.set(cName, { ...c, shape: [n] });
    }
    mm.op = 'Gemm';
    mm.inputs = [a, mm.inputs[1]!, cName];
    mm.outputs = [add.outputs[0]!];
    mm.attrs = {};
    drop.add(add);
  }
  if (drop.size) {
    g.nodes = g.nodes.filter((n) => !drop.has(n));
    pruneInitializers(g);
    const produced = new Set(g.nodes.flatMap((n) => n.outputs));
    g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name) || g.initializers.has(v.name) || g.inputs.some((i) => i.name === v.name));
  }
  return drop.size;
}
