/**
 * Dynamic (weight-only int8, activations quantized at run time) quantization, in standard
 * ONNX ops that onnxruntime fuses into its dynamic kernels:
 *
 *   x ─DynamicQuantizeLinear→ (xq, xs, xz) ─MatMulInteger(xq, Wq, xz)→ int32 ─Cast→ ─Mul(xs·ws)→ y
 *                                           └ConvInteger(xq, Wq, xz)─┘   (+ Add(bias) for Conv/Gemm)
 *
 * onnxruntime turns MatMulInteger→Cast→Mul into MatMulIntegerToFloat and, with the
 * DynamicQuantizeLinear in front, into DynamicQuantizeMatMul. Weights are int8, symmetric
 * (zero point 0), per output channel by default. No calibration is needed.
 */
import type { Graph, Node } from '../../ir/graph.js';
import { attrFloat, attrInt, opsetVersion } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import { quantizeWeightsSymmetric } from './calibrate.js';
import { NameAllocator, constantOf, copyGraph, node as mkNode, pruneInitializers } from '../../ir/edit.js';

export interface DynamicOptions {
  perChannel?: boolean;
  exclude?: (n: Node) => boolean;
  /** op types to quantize (default Conv, MatMul, Gemm) */
  ops?: string[];
  /** Conv: 'weight-only' (int8 weights behind a DequantizeLinear, float compute — the default,
   *  because onnxruntime's ConvInteger is ~10× slower than its float Conv on x86) or
   *  'integer' (DynamicQuantizeLinear + ConvInteger). */
  conv?: 'weight-only' | 'integer';
}

export interface DynamicResult {
  graph: Graph;
  quantizedNodes: Array<{ node: string; op: string }>;
  keptFloat: Array<{ node: string; op: string; reason: string }>;
  notes: string[];
}

const FLOAT = 1; // TensorProto.FLOAT

export function quantizeDynamic(g0: Graph, opts: DynamicOptions = {}): DynamicResult {
  const opset = opsetVersion(g0) ?? 0;
  if (opset < 11) {
    throw new MloptError('UNSUPPORTED', `dynamic quantization needs ONNX opset ≥ 11 (this model has opset ${opset || 'none'})`, 'DynamicQuantizeLinear appeared in opset 11; re-export the model with a newer opset');
  }
  const perChannel = opts.perChannel ?? true;
  const ops = new Set(opts.ops ?? ['Conv', 'MatMul', 'Gemm']);
  const g = copyGraph(g0);
  const names = new NameAllocator(g);
  const quantizedNodes: DynamicResult['quantizedNodes'] = [];
  const keptFloat: DynamicResult['keptFloat'] = [];
  const notes: string[] = [];
  const out: Node[] = [];
  // one DynamicQuantizeLinear per activation tensor, shared by every node that reads it
  const dql = new Map<string, { q: string; s: string; z: string }>();
  const quantizeInput = (x: string, emit: Node[]): { q: string; s: string; z: string } => {
    let r = dql.get(x);
    if (!r) {
      r = { q: names.next('q'), s: names.next('s'), z: names.next('z') };
      emit.push(mkNode(names.next('DQL'), 'DynamicQuantizeLinear', [x], [r.q, r.s, r.z]));
      dql.set(x, r);
    }
    return r;
  };
  const addInit = (kind: string, t: Tensor): string => {
    const name = names.next(kind);
    g.initializers.set(name, t);
    return name;
  };
  const reasonsSeen = new Map<string, number>();

  for (const n of g.nodes) {
    if (n.domain !== '' || !ops.has(n.op)) {
      out.push(n);
      continue;
    }
    const keep = (reason: string): void => {
      keptFloat.push({ node: n.name, op: n.op, reason });
      reasonsSeen.set(`${n.op}: ${reason}`, (reasonsSeen.get(`${n.op}: ${reason}`) ?? 0) + 1);
      out.push(n);
    };
    if (opts.exclude?.(n)) {
      keep('excluded');
      continue;
    }
    const x = n.inputs[0] ?? '';
    const w = constantOf(g, n.inputs[1] ?? '');
    if (!w || w.dtype !== 'float32') {
      keep('weights are not a float32 constant');
      continue;
    }
    if (constantOf(g, x)) {
      keep('input is a constant');
      continue;
    }
    const emit: Node[] = [];
    if (n.op === 'MatMul' || n.op === 'Gemm') {
      if (w.shape.length !== 2) {
        keep(`weights have rank ${w.shape.length} (2 supported)`);
        continue;
      }
      let alpha = 1;
      let beta = 1;
      let transB = 0;
      if (n.op === 'Gemm') {
        if (attrInt(n, 'transA', 0) !== 0) {
          keep('transA=1 is not supported');
          continue;
        }
        alpha = attrFloat(n, 'alpha', 1);
        beta = attrFloat(n, 'beta', 1);
        transB = attrInt(n, 'transB', 0);
      }
      const c = n.op === 'Gemm' && n.inputs[2] ? constantOf(g, n.inputs[2]) : undefined;
      if (n.op === 'Gemm' && n.inputs[2] && (!c || c.dtype !== 'float32')) {
        keep('bias is not a float32 constant');
        continue;
      }
      // weights as [K, N]
      const [r0, r1] = w.shape as number[];
      let wf = toFloat32(w);
      let K = r0!;
      let N = r1!;
      if (transB) {
        const t = new Float32Array(wf.length);
        for (let i = 0; i < r0!; i++) for (let j = 0; j < r1!; j++) t[j * r0! + i] = wf[i * r1! + j]!;
        wf = t;
        K = r1!;
        N = r0!;
      }
      const { scales, q } = quantizeWeightsSymmetric(wf, [K, N], perChannel ? 1 : undefined);
      const wq = addInit('w', { dtype: 'int8', shape: [K, N], data: q });
      const sc = alpha === 1 ? scales : scales.map((s) => Math.fround(s * alpha));
      const ws = addInit('ws', { dtype: 'float32', shape: perChannel ? [N] : [], data: perChannel ? sc : Float32Array.of(sc[0]!) });
      const xq = quantizeInput(x, emit);
      const yi = names.next('i');
      const yf = names.next('f');
      const s = names.next('m');
      const y = n.outputs[0]!;
      const scaled = c ? names.next('y') : y;
      emit.push(mkNode(names.next('MMI'), 'MatMulInteger', [xq.q, wq, xq.z], [yi]));
      emit.push(mkNode(names.next('Cast'), 'Cast', [yi], [yf], { to: { type: 'int', value: FLOAT } }));
      emit.push(mkNode(names.next('Mul'), 'Mul', [xq.s, ws], [s]));
      emit.push(mkNode(n.name, 'Mul', [yf, s], [scaled]));
      if (c) {
        const cf = toFloat32(c);
        const cb = addInit('b', { dtype: 'float32', shape: [...c.shape], data: beta === 1 ? cf : cf.map((v) => v * beta) });
        emit.push(mkNode(names.next('Add'), 'Add', [scaled, cb], [y]));
      }
    } else {
      // Conv
      if (w.shape.length < 3) {
        keep(`weights have rank ${w.shape.length}`);
        continue;
      }
      const b = n.inputs[2] ? constantOf(g, n.inputs[2]) : undefined;
      if (n.inputs[2] && (!b || b.dtype !== 'float32')) {
        keep('bias is not a float32 constant');
        continue;
      }
      const m = w.shape[0] as number;
      const spatial = w.shape.length - 2;
      const { scales, q } = quantizeWeightsSymmetric(toFloat32(w), w.shape as number[], perChannel ? 0 : undefined);
      const wq = addInit('w', { dtype: 'int8', shape: [...(w.shape as number[])], data: q });
      if ((opts.conv ?? 'weight-only') === 'weight-only') {
        // per-axis DequantizeLinear needs opset 13; older graphs get one scale per tensor
        const pc = perChannel && opset >= 13;
        const wt = pc ? { scales, q } : quantizeWeightsSymmetric(toFloat32(w), w.shape as number[], undefined);
        g.initializers.set(wq, { dtype: 'int8', shape: [...(w.shape as number[])], data: wt.q });
        const ws = addInit('ws', { dtype: 'float32', shape: pc ? [m] : [], data: pc ? wt.scales : Float32Array.of(wt.scales[0]!) });
        const wz = addInit('wz', { dtype: 'int8', shape: pc ? [m] : [], data: new Int8Array(pc ? m : 1) });
        const wd = names.next('wd');
        emit.push(mkNode(names.next('DQ'), 'DequantizeLinear', [wq, ws, wz], [wd], pc ? { axis: { type: 'int', value: 0 } } : {}));
        emit.push({ ...n, inputs: [x, wd, ...n.inputs.slice(2)] });
        out.push(...emit);
        quantizedNodes.push({ node: n.name, op: n.op });
        continue;
      }
      const bshape = [1, m, ...new Array<number>(spatial).fill(1)];
      const ws = addInit('ws', { dtype: 'float32', shape: perChannel ? bshape : [], data: perChannel ? scales : Float32Array.of(scales[0]!) });
      const xq = quantizeInput(x, emit);
      const yi = names.next('i');
      const yf = names.next('f');
      const s = names.next('m');
      const y = n.outputs[0]!;
      const scaled = b ? names.next('y') : y;
      const attrs = { ...n.attrs };
      emit.push(mkNode(names.next('CI'), 'ConvInteger', [xq.q, wq, xq.z], [yi], attrs));
      emit.push(mkNode(names.next('Cast'), 'Cast', [yi], [yf], { to: { type: 'int', value: FLOAT } }));
      emit.push(mkNode(names.next('Mul'), 'Mul', [xq.s, ws], [s]));
      emit.push(mkNode(n.name, 'Mul', [yf, s], [scaled]));
      if (b) {
        const bb = addInit('b', { dtype: 'float32', shape: bshape, data: toFloat32(b) });
        emit.push(mkNode(names.next('Add'), 'Add', [scaled, bb], [y]));
      }
    }
    out.push(...emit);
    quantizedNodes.push({ node: n.name, op: n.op });
  }
  g.nodes = out;

  // drop the float weights that nothing reads any more
  pruneInitializers(g);
  for (const [r, count] of reasonsSeen) if (!r.endsWith('excluded')) notes.push(`${count} node(s) kept float — ${r}`);
  return { graph: g, quantizedNodes, keptFloat, notes };
}
