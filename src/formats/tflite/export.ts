/**
 * IR → TFLite flatbuffer (float32 graphs).
 *
 * 1. The layout pass makes every layout-sensitive node channels-last (Transposes stay only
 *    where they cannot be cancelled: typically the graph input and before a Flatten).
 * 2. BatchNormalization after Conv is folded, MatMul + bias Add becomes one Gemm; Relu / Relu6 / Tanh after Conv, Gemm, Add, Mul,
 *    Sub, Div, pools and Concat become the op's fused activation.
 * 3. Each IR op maps onto a TFLite builtin; weights move to TFLite order (OHWI for CONV_2D,
 *    1HWO for DEPTHWISE_CONV_2D, [out, in] for FULLY_CONNECTED). An op with no mapping stops
 *    the export with its name and node. Mappings of more than a few lines (Conv 1-D / 2-D /
 *    grouped, pools, PRelu) live in export-ops.ts.
 * 4. Symbolic batch dims are written as 1 in `shape` and -1 in `shape_signature`, as the
 *    official converter does; a `serving_default` signature names the inputs and outputs.
 */
import type { DType, NumericArray } from '../../ir/dtype.js';
import { bytesOf } from '../../ir/dtype.js';
import type { Graph, Node } from '../../ir/graph.js';
import { attrFloat, attrInt, attrInts, attrString, feedInputs } from '../../ir/graph.js';
import { NameAllocator, consumersOf, producersOf } from '../../ir/edit.js';
import { prepareForQuantization } from '../../optimize/quantize/prepare.js';
import { inferGraphTypes } from '../../ir/ops/index.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { toFloat16Bits, transposeData } from '../../data/npy.js';
import { quantizeWeightsSymmetric } from '../../optimize/quantize/calibrate.js';
import { convertLayout, foldTransposeIntoWeights, simplifyReshapes } from '../../passes/layout.js';
import { MloptError } from '../../util/errors.js';
import { TfliteBuilder, type QP, dequantizeConst, sameParams } from './builder.js';
import { encodeTflite } from './codec.js';
import { type OpContext, mapConv, mapPRelu, mapPool } from './export-ops.js';


export interface TfliteExportResult {
  bytes: Uint8Array;
  transposes: number;
  notes: string[];
}

export interface TfliteExportOptions {
  /**
   * How Conv / depthwise Conv / FULLY_CONNECTED constants are stored:
   * 'float32'; 'float16' (weights and biases as float16 behind DEQUANTIZE ops, as the official
   * converter's float16 mode writes them); 'dynamic' (dynamic-range: weights int8, symmetric,
   * per output channel, read by TFLite's hybrid kernels; biases and activations stay float32).
   */
  weights?: 'float32' | 'float16' | 'dynamic';
  /**
   * Input / output type of a quantized (QDQ) graph: 'float32' (QUANTIZE / DEQUANTIZE at the
   * edges, the default), 'int8' (the int8 tensors are the model's inputs and outputs) or 'uint8'
   * (uint8 I/O with zero point + 128, converted by QUANTIZE ops — as the official converter does).
   */
  ioType?: 'float32' | 'int8' | 'uint8';
}

export function exportTfliteBytes(g0: Graph, opts: TfliteExportOptions = {}): Uint8Array {
  return exportTflite(g0, opts).bytes;
}

export function exportTflite(g0: Graph, opts: TfliteExportOptions = {}): TfliteExportResult {
  const weightMode = opts.weights ?? 'float32';
  const notes: string[] = [];
  const foreign = g0.nodes.find((n) => n.domain !== '' && n.domain !== 'tflite');
  if (foreign) throw new MloptError('UNSUPPORTED', `op ${foreign.domain}:${foreign.op} (node "${foreign.name}") has no TFLite mapping`);
  // Constant nodes → initializers, BatchNormalization folded into Conv, MatMul + bias Add → Gemm
  // (one FULLY_CONNECTED with its bias, as the official converter writes it)
  const pre = prepareForQuantization(g0);
  notes.push(...pre.notes);
  const g = convertLayout(pre.graph, 'NHWC').graph;
  simplifyReshapes(g);
  foldTransposeIntoWeights(g);
  const types = inferGraphTypes(g).types;
  const names = new NameAllocator(g);

  // ---- tensors and buffers
  const b = new TfliteBuilder(names);
  const { tensors } = b;
  const addTensor = b.addTensor.bind(b);
  const emit = b.emit.bind(b);
  const constTensor = b.constTensor.bind(b);
  const i32 = b.i32.bind(b);
  const setQuant = b.setQuant.bind(b);
  const index = new Map<string, number>();
  const shapeOf = (name: string): Dim[] | undefined => types.get(name)?.shape ?? g.initializers.get(name)?.shape;
  const dtypeOf = (name: string): DType | undefined => types.get(name)?.dtype ?? g.initializers.get(name)?.dtype;
  // ---- QDQ: int8 values and their parameters; DequantizeLinear outputs → their int8 source
  const quantOf = new Map<string, QP>();
  const dqSrc = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.domain !== '' || (n.op !== 'QuantizeLinear' && n.op !== 'DequantizeLinear')) continue;
    const sc = g.initializers.get(n.inputs[1] ?? '');
    const zp = g.initializers.get(n.inputs[2] ?? '');
    if (!sc) continue;
    const scale = Array.from(toFloat32(sc));
    const zero = zp ? Array.from(zp.data as ArrayLike<number>, Number) : scale.map(() => 0);
    const qp: QP = { scale, zeroPoint: zero, ...(scale.length > 1 ? { axis: attrInt(n, 'axis', 1) } : {}) };
    if (n.op === 'QuantizeLinear') quantOf.set(n.outputs[0]!, qp);
    else {
      quantOf.set(n.inputs[0]!, qp);
      dqSrc.set(n.outputs[0]!, n.inputs[0]!);
    }
  }
  const tensorFor = (name: string): number => {
    const have = index.get(name);
    if (have !== undefined) return have;
    const c = g.initializers.get(name);
    const i = c ? addTensor(name, c.dtype, c.shape, bytesOf(c.data as NumericArray)) : addTensor(name, dtypeOf(name) ?? 'float32', shapeOf(name));
    const qp = quantOf.get(name);
    if (qp) setQuant(i, qp);
    index.set(name, i);
    return i;
  };
  /** A Conv / FC weight (`axis` = its output-channel axis in TFLite order) or bias, stored per `weightMode`. */
  const weightTensor = (hint: string, t: Tensor, axis: number | undefined, qp?: QP): number => {
    if (qp) {
      // already int8 / int32 (from the IR's QDQ): store with its parameters
      const i = constTensor(hint, t);
      setQuant(i, qp);
      return i;
    }
    if (weightMode === 'float16') {
      const f = toFloat32(t);
      const h = new Uint16Array(f.length);
      for (let i = 0; i < f.length; i++) h[i] = toFloat16Bits(f[i]!);
      const half = constTensor(`${hint}_fp16`, { dtype: 'float16', shape: t.shape, data: h });
      const out = addTensor(names.derive(hint), 'float32', t.shape);
      emit('DEQUANTIZE', [half], [out]);
      return out;
    }
    // dynamic range leaves small weights in float32, as the official converter does (< 1024
    // elements): hybrid kernels cost more than they save there (measured in LiteRT.js)
    if (weightMode === 'dynamic' && axis !== undefined && (t.shape as number[]).reduce((a, b) => a * b, 1) >= 1024) {
      // axis -1: per-tensor
      const { scales, q } = quantizeWeightsSymmetric(toFloat32(t), t.shape as number[], axis < 0 ? undefined : axis);
      const i = constTensor(`${hint}_int8`, { dtype: 'int8', shape: t.shape, data: q });
      tensors[i]!.quantization = { scale: Array.from(scales), zeroPoint: Array.from(scales, () => 0n), quantizedDimension: Math.max(0, axis) };
      return i;
    }
    return constTensor(hint, t);
  };

  // fused activations: an activation node whose only input comes from a fusable producer
  const consumers = consumersOf(g);
  const producers = producersOf(g);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const FUSABLE = new Set(['Conv', 'Gemm', 'Add', 'Sum', 'Sub', 'Mul', 'Div', 'MaxPool', 'AveragePool', 'Concat', 'MatMul', 'BatchNormalization']);
  const fusedInto = new Map<Node, { act: string; out: string }>();
  const skip = new Set<Node>();
  for (const n of g.nodes) {
    const act = activationOf(g, n);
    if (!act) continue;
    const src = producers.get(n.inputs[0] ?? '');
    if (!src || !FUSABLE.has(src.op) || fusedInto.has(src)) continue;
    if ((consumers.get(n.inputs[0]!) ?? []).length !== 1 || graphOutputs.has(n.inputs[0]!)) continue;
    if (act === 'TANH' && src.op !== 'Conv') continue;
    fusedInto.set(src, { act, out: n.outputs[0]! });
    skip.add(n);
  }
  const outName = (n: Node): string => fusedInto.get(n)?.out ?? n.outputs[0]!;
  const actOf = (n: Node): string => fusedInto.get(n)?.act ?? 'NONE';
  const fail = (n: Node, why: string): never => {
    throw new MloptError('UNSUPPORTED', `op ${n.op} (node "${n.name}") has no TFLite mapping: ${why}`);
  };
  /** 'SAME' / 'VALID' when the node's padding is one of TFLite's; 'EXPLICIT' otherwise (a PAD op is written first) */
  const padding = (n: Node, kernel: number[]): string => {
    const auto = attrString(n, 'auto_pad', 'NOTSET');
    if (auto === 'VALID') return 'VALID';
    if (auto === 'SAME_UPPER') return 'SAME';
    if (auto === 'SAME_LOWER') return 'EXPLICIT';
    const pads = attrInts(n, 'pads') ?? [];
    if (pads.every((p) => p === 0)) return 'VALID';
    // explicit pads equal to what SAME gives: total = max((ceil(in/s) - 1)·s + k_eff − in, 0), the odd one at the end
    const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
    const dil = attrInts(n, 'dilations') ?? kernel.map(() => 1);
    const xs = shapeOf(n.inputs[0]!);
    const same = kernel.every((k, i) => {
      const eff = (k - 1) * dil[i]! + 1;
      const inDim = xs?.[i + 1];
      if (typeof inDim !== 'number') return strides[i] === 1 && eff % 2 === 1 && pads[i] === (eff - 1) / 2 && pads[i + kernel.length] === (eff - 1) / 2;
      const total = Math.max((Math.ceil(inDim / strides[i]!) - 1) * strides[i]! + eff - inDim, 0);
      return pads[i] === Math.floor(total / 2) && pads[i + kernel.length] === total - Math.floor(total / 2);
    });
    return same ? 'SAME' : 'EXPLICIT';
  };
  /** PAD the (NHWC) input of `n` by its ONNX pads; MaxPool pads with the lowest value instead of 0 */
  const padInput = (n: Node, xi: number, fillLowest: boolean): number => {
    const pads = attrInts(n, 'pads') ?? [];
    const r = pads.length / 2;
    const pairs = [0, 0, ...Array.from({ length: r }, (_, i) => [pads[i]!, pads[i + r]!]).flat(), 0, 0];
    const src = tensors[xi]!;
    const xs = shapeOf(n.inputs[0]!);
    const outShape = xs?.map((d, i) => (typeof d === 'number' && i >= 1 && i <= r ? d + pads[i - 1]! + pads[i - 1 + r]! : d));
    const out = addTensor(names.derive(`${n.inputs[0]}_padded`), 'float32', outShape);
    tensors[out]!.type = src.type;
    if (src.quantization) tensors[out]!.quantization = src.quantization;
    const padT = constTensor('paddings', { dtype: 'int32', shape: [r + 2, 2], data: Int32Array.from(pairs) });
    if (!fillLowest) {
      emit('PAD', [xi, padT], [out]);
    } else {
      const fill = src.type === 9 ? constTensor('lowest', { dtype: 'int8', shape: [], data: Int8Array.of(-128) }) : constTensor('lowest', { dtype: 'float32', shape: [], data: Float32Array.of(-3.4028234663852886e38) });
      if (src.quantization) tensors[fill]!.quantization = src.quantization;
      emit('PADV2', [xi, padT, fill], [out]);
    }
    return out;
  };

  // int8 views of float values: a DequantizeLinear output reads its int8 source; an int8
  // data-movement op's output is an int8 tensor with its input's parameters
  const alias = new Map<string, number>();
  const writtenInt8 = new Set<string>();
  const dequantized = new Map<string, number>();
  const int8Of = (name: string): number | undefined => (dqSrc.has(name) ? tensorFor(dqSrc.get(name)!) : alias.get(name));
  const floatOf = (name: string): number => {
    const q = int8Of(name);
    if (q === undefined) return tensorFor(name);
    let f = dequantized.get(name);
    if (f === undefined) {
      // a graph output keeps its name on the DEQUANTIZE that produces it
      f = addTensor(graphOutputs.has(name) && !index.has(name) ? name : names.derive(`${name}_float`), 'float32', shapeOf(name));
      emit('DEQUANTIZE', [q], [f]);
      dequantized.set(name, f);
    }
    return f;
  };
  /** a constant input, following a DequantizeLinear to its int8 / int32 data and parameters */
  const weightOf = (name: string): { t: Tensor; qp?: QP } | undefined => {
    const src = dqSrc.get(name);
    const c = g.initializers.get(src ?? name);
    if (!c) return undefined;
    return src ? { t: c, qp: quantOf.get(src)! } : { t: c };
  };
  const DATA: Record<string, number[] | 'all'> = {
    Conv: [0], Gemm: [0], MatMul: [0], MaxPool: [0], AveragePool: [0], GlobalAveragePool: [0], ReduceMean: [0], Reshape: [0], Flatten: [0],
    Squeeze: [0], Unsqueeze: [0], Transpose: [0], Softmax: [0], Sigmoid: [0], Relu: [0], Clip: [0], Pad: [0], Add: 'all', Sub: 'all', Mul: 'all', Concat: 'all',
  };
  const MOVE = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'MaxPool']);

  // integer I/O: each graph input must feed a QuantizeLinear, each output come from a DequantizeLinear
  const ioType = opts.ioType ?? 'float32';
  const ioInputs = new Map<string, number>();
  if (ioType !== 'float32') {
    for (const v of feedInputs(g)) {
      const cs = consumers.get(v.name) ?? [];
      const q = cs.length === 1 && cs[0]!.node.op === 'QuantizeLinear' ? cs[0]!.node.outputs[0]! : undefined;
      if (!q || !quantOf.has(q)) throw new MloptError('UNSUPPORTED', `--io-type ${ioType}: input "${v.name}" does not feed a quantized op`, 'quantize the whole model (--int8) or keep --io-type float32');
      writtenInt8.add(q);
      const qi = tensorFor(q);
      if (ioType === 'int8') {
        tensors[qi]!.name = v.name;
        ioInputs.set(v.name, qi);
      } else {
        const u = addTensor(v.name, 'uint8', shapeOf(v.name));
        const qp = quantOf.get(q)!;
        setQuant(u, { ...qp, zeroPoint: qp.zeroPoint.map((z) => z + 128) });
        emit('QUANTIZE', [u], [qi]);
        ioInputs.set(v.name, u);
      }
    }
  }

  // Nodes that only compute a Reshape's target shape are not written: RESHAPE takes the
  // inferred output shape (-1 for a dynamic batch) instead.
  const needed = new Set<Node>();
  {
    const stack = g.outputs.map((o) => o.name);
    const seen = new Set<string>();
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      const p = producers.get(v);
      if (!p) continue;
      needed.add(p);
      p.inputs.forEach((x, i) => {
        if (x && !(p.op === 'Reshape' && i === 1) && !(p.op === 'Resize' && i >= 1)) stack.push(x);
      });
    }
  }

  for (const n of g.nodes) {
    if (skip.has(n) || (!needed.has(n) && !fusedInto.has(n))) continue;
    if (n.domain === 'tflite') fail(n, 'an op mlopt kept opaque at import');
    if (n.op === 'DequantizeLinear') continue; // read lazily: int8 consumers use the source, float ones a DEQUANTIZE
    if (n.op === 'QuantizeLinear') {
      const [xq, q] = [n.inputs[0]!, n.outputs[0]!];
      if (writtenInt8.has(q)) continue;
      // Q(DQ(v)) with the same parameters (left where the layout pass cancelled a Transpose): v itself
      const view = int8Of(xq);
      const qp = quantOf.get(q);
      const vq = view !== undefined ? tensors[view]!.quantization : undefined;
      if (view !== undefined && qp && vq && !index.has(q) && sameParams(vq.scale ?? [], (vq.zeroPoint ?? []).map(Number), qp)) {
        index.set(q, view);
        continue;
      }
      emit('QUANTIZE', [floatOf(xq)], [tensorFor(q)]);
      continue;
    }
    // int8 when every data input has an int8 view, the weights are int8, and the output is
    // quantized right after (or the op only moves data)
    const spec = DATA[n.op];
    const dataIdx = spec === 'all' ? n.inputs.map((_, i) => i) : spec ?? [];
    const out = outName(n);
    const outQ = (consumers.get(out) ?? []).filter((c) => c.node.op === 'QuantizeLinear');
    const onlyQ = outQ.length === 1 && (consumers.get(out) ?? []).length === 1 && !graphOutputs.has(out);
    const weightsInt8 = !['Conv', 'Gemm', 'MatMul'].includes(n.op) || (weightOf(n.inputs[1]!)?.qp !== undefined && (!n.inputs[2] || weightOf(n.inputs[2])?.qp !== undefined));
    const int8 = dataIdx.length > 0 && dataIdx.every((i) => int8Of(n.inputs[i]!) !== undefined) && weightsInt8 && (onlyQ || (MOVE.has(n.op) && outQ.length === 0));
    const x = (i: number): number => (int8 && dataIdx.includes(i) ? int8Of(n.inputs[i]!)! : floatOf(n.inputs[i]!));
    const y = (): number => {
      if (!int8) return tensorFor(out);
      if (onlyQ) {
        const q = outQ[0]!.node.outputs[0]!;
        writtenInt8.add(q);
        return tensorFor(q);
      }
      const src = int8Of(n.inputs[0]!)!;
      const a = addTensor(names.derive(`${out}_int8`), 'int8', shapeOf(out));
      tensors[a]!.type = tensors[src]!.type;
      if (tensors[src]!.quantization) tensors[a]!.quantization = tensors[src]!.quantization;
      alias.set(out, a);
      return a;
    };
    /** weights as float32 for a float op (a DequantizeLinear'd constant is dequantized here) */
    const constOf = (i: number): Tensor | undefined => {
      const w = weightOf(n.inputs[i] ?? '');
      if (!w) return undefined;
      return w.qp && !int8 ? dequantizeConst(w.t, w.qp) : w.t;
    };
    const qpOf = (i: number): QP | undefined => (int8 ? weightOf(n.inputs[i] ?? '')?.qp : undefined);
    const opContext = (): OpContext => ({
      n, b, int8, act: actOf(n), x, y, shapeOf, constOf, qpOf, weightTensor,
      padding: (kernel) => padding(n, kernel), padInput: (xi, low) => padInput(n, xi, low), fail: (why) => fail(n, why),
    });
    switch (n.op) {
      case 'Conv':
        mapConv(opContext());
        break;
      case 'PRelu':
        mapPRelu(opContext());
        break;
      case 'Gemm':
      case 'MatMul': {
        if (n.op === 'MatMul' && !weightOf(n.inputs[1]!)) {
          emit('BATCH_MATMUL', [x(0), x(1)], [y()], { type: 'BatchMatMulOptions', adjX: false, adjY: false, asymmetricQuantizeInputs: false });
          break;
        }
        const w = constOf(1);
        const wq = qpOf(1);
        if (!w || (w.dtype !== 'float32' && !wq) || w.shape.length !== 2) fail(n, 'the second input must be a 2-D float32 constant');
        if (wq && wq.axis !== undefined) fail(n, 'int8 FULLY_CONNECTED weights must be quantized per tensor');
        if (n.op === 'Gemm' && (attrInt(n, 'transA', 0) || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1)) fail(n, 'transA, alpha or beta other than the defaults');
        const transB = n.op === 'Gemm' ? attrInt(n, 'transB', 0) : 0;
        const [r0, r1] = w!.shape as [number, number];
        const wOI: Tensor = transB ? w! : { dtype: w!.dtype, shape: [r1, r0], data: transposeData(w!.data as NumericArray, [r0, r1], [1, 0]) };
        // dynamic range: one scale per tensor — TFLite's hybrid FULLY_CONNECTED reads only the first
        // scale of a per-channel weight (measured: garbage outputs in TF 2.15's interpreter)
        const wi = weightTensor(`${n.inputs[1]}_oi`, wOI, weightMode === 'dynamic' ? -1 : 0, wq);
        const ins = [x(0), wi];
        if (n.op === 'Gemm' && n.inputs[2]) {
          const c = constOf(2);
          if (!c || (c.shape as number[]).reduce((a, b) => a * b, 1) !== wOI.shape[0]) fail(n, 'the bias must be a constant of one value per output');
          ins.push(weightTensor(`${n.inputs[2]}_1d`, { dtype: c!.dtype, shape: [wOI.shape[0]!], data: c!.data }, undefined, qpOf(2)));
        } else ins.push(-1);
        const rank = shapeOf(n.inputs[0]!)?.length ?? 2;
        emit('FULLY_CONNECTED', ins, [y()], { type: 'FullyConnectedOptions', fusedActivationFunction: actOf(n), keepNumDims: rank > 2, asymmetricQuantizeInputs: weightMode === 'dynamic' });
        break;
      }
      case 'MaxPool':
      case 'AveragePool':
        mapPool(opContext());
        break;
      case 'GlobalAveragePool':
      case 'ReduceMax':
      case 'ReduceMean': {
        const axes = n.op === 'GlobalAveragePool' ? [1, 2] : attrInts(n, 'axes') ?? (constOf(1) ? Array.from(constOf(1)!.data as BigInt64Array, Number) : fail(n, 'axes must be constant'));
        const keep = n.op === 'GlobalAveragePool' ? 1 : attrInt(n, 'keepdims', 1);
        emit(n.op === 'ReduceMax' ? 'REDUCE_MAX' : 'MEAN', [x(0), i32('axes', axes as number[])], [y()], { type: 'ReducerOptions', keepDims: !!keep });
        break;
      }
      case 'Relu':
        emit('RELU', [x(0)], [y()]);
        break;
      case 'Clip': {
        const act = activationOf(g, n);
        if (act === 'RELU6') emit('RELU6', [x(0)], [y()]);
        else if (act === 'RELU') emit('RELU', [x(0)], [y()]);
        else if (act === 'RELU_N1_TO_1') emit('RELU_N1_TO_1', [x(0)], [y()]);
        else fail(n, 'only Clip(0, 6), Clip(0, ∞) and Clip(-1, 1) are supported');
        break;
      }
      case 'Sigmoid':
        emit('LOGISTIC', [x(0)], [y()]);
        break;
      case 'Tanh':
        emit('TANH', [x(0)], [y()]);
        break;
      case 'LeakyRelu':
        emit('LEAKY_RELU', [x(0)], [y()], { type: 'LeakyReluOptions', alpha: attrFloat(n, 'alpha', 0.01) });
        break;
      case 'Elu': {
        // TFLite's ELU has alpha 1: alpha ≠ 1 is RELU(x) + alpha · MINIMUM(ELU(x), 0)
        const alpha = attrFloat(n, 'alpha', 1);
        if (alpha === 1) {
          emit('ELU', [x(0)], [y()]);
          break;
        }
        const xs = shapeOf(n.inputs[0]!);
        const [e, neg, pos, scaled] = ['elu', 'neg', 'pos', 'scaled'].map((s) => addTensor(names.derive(`${n.name}_${s}`), 'float32', xs));
        emit('ELU', [x(0)], [e!]);
        emit('MINIMUM', [e!, constTensor('zero', { dtype: 'float32', shape: [], data: Float32Array.of(0) })], [neg!]);
        emit('MUL', [neg!, constTensor('alpha', { dtype: 'float32', shape: [], data: Float32Array.of(alpha) })], [scaled!], { type: 'MulOptions', fusedActivationFunction: 'NONE' });
        emit('RELU', [x(0)], [pos!]);
        emit('ADD', [pos!, scaled!], [y()], { type: 'AddOptions', fusedActivationFunction: 'NONE' });
        break;
      }
      case 'HardSwish':
        emit('HARD_SWISH', [x(0)], [y()]);
        break;
      case 'Softmax': {
        const rank = shapeOf(n.inputs[0]!)?.length;
        const axis = attrInt(n, 'axis', -1);
        if (rank !== undefined && axis !== -1 && axis !== rank - 1) fail(n, `softmax over axis ${axis} (TFLite normalizes the last axis)`);
        emit('SOFTMAX', [x(0)], [y()], { type: 'SoftmaxOptions', beta: 1 });
        break;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const op = { Add: 'ADD', Sub: 'SUB', Mul: 'MUL', Div: 'DIV' }[n.op]!;
        const optType = { Add: 'AddOptions', Sub: 'SubOptions', Mul: 'MulOptions', Div: 'DivOptions' }[n.op]!;
        emit(op, [x(0), x(1)], [y()], { type: optType, fusedActivationFunction: actOf(n) });
        break;
      }
      case 'Reshape':
      case 'Flatten':
      case 'Squeeze':
      case 'Unsqueeze': {
        const out = shapeOf(outName(n));
        if (!out) fail(n, 'the output shape is unknown');
        const dims = out!.map((d) => (typeof d === 'number' ? d : -1));
        if (dims.filter((d) => d === -1).length > 1) fail(n, 'more than one dynamic dimension');
        emit('RESHAPE', [x(0), i32('shape', dims)], [y()], { type: 'ReshapeOptions', newShape: dims });
        break;
      }
      case 'Transpose': {
        const perm = attrInts(n, 'perm') ?? fail(n, 'perm is required');
        emit('TRANSPOSE', [x(0), i32('perm', perm as number[])], [y()]);
        break;
      }
      case 'Concat': {
        const rank = shapeOf(n.inputs[0]!)?.length ?? 0;
        const axis = attrInt(n, 'axis', 0);
        emit('CONCATENATION', n.inputs.map((_, i) => x(i)), [y()], { type: 'ConcatenationOptions', axis: axis < 0 ? axis + rank : axis, fusedActivationFunction: actOf(n) });
        break;
      }
      case 'Pad': {
        const pads = constOf(1);
        if (!pads) fail(n, 'pads must be constant');
        if (attrString(n, 'mode', 'constant') !== 'constant') fail(n, `pad mode ${attrString(n, 'mode', '')}`);
        const p = Array.from(pads!.data as BigInt64Array, Number);
        const r = p.length / 2;
        const pairs = Array.from({ length: r }, (_, i) => [p[i]!, p[i + r]!]).flat();
        const padT = constTensor('paddings', { dtype: 'int32', shape: [r, 2], data: Int32Array.from(pairs) });
        if (n.inputs[2]) emit('PADV2', [x(0), padT, x(2)], [y()]);
        else emit('PAD', [x(0), padT], [y()]);
        break;
      }
      case 'ConvTranspose': {
        const w = constOf(1);
        if (!w || w.dtype !== 'float32' || w.shape.length !== 4) fail(n, 'weights must be a 4-D float32 constant');
        if (attrInt(n, 'group', 1) !== 1) fail(n, 'grouped transposed convolution');
        const ws = w!.shape as number[]; // [C_in, C_out, kh, kw]
        const outShape = shapeOf(outName(n));
        if (!outShape || outShape.slice(1).some((d) => typeof d !== 'number')) fail(n, 'the output shape must be static (but the batch)');
        const strides = attrInts(n, 'strides') ?? [1, 1];
        const auto = attrString(n, 'auto_pad', 'NOTSET');
        const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
        const pad = auto === 'SAME_UPPER' ? 'SAME' : auto === 'VALID' || pads.every((p) => p === 0) ? 'VALID' : fail(n, `explicit pads [${pads.join(',')}]`);
        if (attrInts(n, 'output_padding')?.some((p) => p !== 0) && pad === 'VALID') fail(n, 'output_padding');
        const data = transposeData(toFloat32(w!), ws, [1, 2, 3, 0]); // [I,O,kh,kw] → [O,kh,kw,I]
        const wi = weightTensor(`${n.inputs[1]}_ohwi`, { dtype: 'float32', shape: [ws[1]!, ws[2]!, ws[3]!, ws[0]!], data }, 0);
        const os = outShape!.map((d) => (typeof d === 'number' ? d : 1));
        let osT = i32('output_shape', os);
        if (typeof outShape![0] !== 'number') {
          // a dynamic batch: output_shape = concat(shape(x)[0:1], [H, W, C]), computed at run time
          const shp = addTensor(names.derive('shape'), 'int32', [4]);
          emit('SHAPE', [x(0)], [shp], { type: 'ShapeOptions', outType: 'INT32' });
          const batch = addTensor(names.derive('batch'), 'int32', [1]);
          emit('STRIDED_SLICE', [shp, i32('begin', [0]), i32('end', [1]), i32('strides', [1])], [batch], { type: 'StridedSliceOptions', beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false });
          osT = addTensor(names.derive('output_shape'), 'int32', [4]);
          emit('CONCATENATION', [batch, i32('hwc', os.slice(1))], [osT], { type: 'ConcatenationOptions', axis: 0, fusedActivationFunction: 'NONE' });
        }
        const b = n.inputs[2] ? weightTensor(`${n.inputs[2]}`, constOf(2) ?? fail(n, 'the bias must be constant'), undefined) : -1;
        emit('TRANSPOSE_CONV', [osT, wi, x(0), b], [y()], { type: 'TransposeConvOptions', padding: pad, strideW: strides[1]!, strideH: strides[0]!, fusedActivationFunction: actOf(n) });
        break;
      }
      case 'Resize': {
        const mode = attrString(n, 'mode', 'nearest');
        const ctm = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
        const out = shapeOf(outName(n));
        if (!out || typeof out[1] !== 'number' || typeof out[2] !== 'number') fail(n, 'the output height and width must be static');
        const size = i32('size', [out![1] as number, out![2] as number]);
        const align = ctm === 'align_corners';
        const half = ctm === 'half_pixel' || ctm === 'pytorch_half_pixel' || ctm === 'tf_half_pixel_for_nn';
        if (!align && !half && ctm !== 'asymmetric') fail(n, `coordinate_transformation_mode ${ctm}`);
        if (mode === 'linear') emit('RESIZE_BILINEAR', [x(0), size], [y()], { type: 'ResizeBilinearOptions', alignCorners: align, halfPixelCenters: half });
        else if (mode === 'nearest') emit('RESIZE_NEAREST_NEIGHBOR', [x(0), size], [y()], { type: 'ResizeNearestNeighborOptions', alignCorners: align, halfPixelCenters: half });
        else fail(n, `mode ${mode}`);
        break;
      }
      case 'Slice': {
        const rank = shapeOf(n.inputs[0]!)?.length ?? fail(n, 'the input rank is unknown');
        const ints64 = (i: number): number[] | undefined => (n.inputs[i] ? (constOf(i) ? Array.from(constOf(i)!.data as ArrayLike<number | bigint>, Number) : fail(n, 'starts/ends/axes/steps must be constant')) : undefined);
        const starts = ints64(1)!;
        const ends = ints64(2)!;
        const axes = ints64(3) ?? starts.map((_, i) => i);
        const steps = ints64(4) ?? starts.map(() => 1);
        const begin = new Array<number>(rank as number).fill(0);
        const end = new Array<number>(rank as number).fill(0);
        const stride = new Array<number>(rank as number).fill(1);
        let beginMask = 0;
        let endMask = 0;
        for (let d = 0; d < (rank as number); d++) {
          const k = axes.findIndex((a) => (a + (rank as number)) % (rank as number) === d);
          if (k < 0) {
            beginMask |= 1 << d;
            endMask |= 1 << d;
            continue;
          }
          const clamp = (v: number): number => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
          begin[d] = clamp(starts[k]!);
          end[d] = clamp(ends[k]!);
          stride[d] = steps[k]!;
          if (Math.abs(ends[k]!) >= 2 ** 31 - 1) endMask |= 1 << d;
        }
        emit('STRIDED_SLICE', [x(0), i32('begin', begin), i32('end', end), i32('strides', stride)], [y()], { type: 'StridedSliceOptions', beginMask, endMask, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false });
        break;
      }
      case 'BatchNormalization': {
        // inference form, channels-last: y = x · k + (b − mean · k), k = scale / √(var + ε)
        const [sc, bi, mu, va] = [1, 2, 3, 4].map((i) => constOf(i));
        if (!sc || !bi || !mu || !va || n.outputs.filter(Boolean).length !== 1) fail(n, 'only the inference form with constant parameters');
        const eps = attrFloat(n, 'epsilon', 1e-5);
        const [s0, b0, m0, v0] = [sc!, bi!, mu!, va!].map((t) => toFloat32(t));
        const k = s0!.map((v, c) => v / Math.sqrt(v0![c]! + eps));
        const add = b0!.map((v, c) => v - m0![c]! * k[c]!);
        const mid = addTensor(names.derive(`${n.name}_scaled`), 'float32', shapeOf(outName(n)));
        emit('MUL', [x(0), constTensor(`${n.name}_k`, { dtype: 'float32', shape: [k.length], data: k })], [mid], { type: 'MulOptions', fusedActivationFunction: 'NONE' });
        emit('ADD', [mid, constTensor(`${n.name}_b`, { dtype: 'float32', shape: [add.length], data: add })], [y()], { type: 'AddOptions', fusedActivationFunction: actOf(n) });
        break;
      }
      case 'Sum':
        if (n.inputs.length === 1) emit('RESHAPE', [x(0), i32('shape', (shapeOf(n.inputs[0]!) ?? []).map((d) => (typeof d === 'number' ? d : -1)))], [y()]);
        else if (n.inputs.length === 2) emit('ADD', [x(0), x(1)], [y()], { type: 'AddOptions', fusedActivationFunction: actOf(n) });
        else if (actOf(n) !== 'NONE') fail(n, 'a fused activation on a Sum of more than two inputs');
        else emit('ADD_N', n.inputs.map((_, i) => x(i)), [y()]);
        break;
      case 'Gelu':
        emit('GELU', [x(0)], [y()], { type: 'GeluOptions', approximate: attrString(n, 'approximate', 'none') === 'tanh' });
        break;
      case 'Gather':
        emit('GATHER', [x(0), x(1)], [y()], { type: 'GatherOptions', axis: attrInt(n, 'axis', 0), batchDims: 0 });
        break;
      case 'Identity':
      case 'Dropout':
        emit('RESHAPE', [x(0), i32('shape', (shapeOf(n.inputs[0]!) ?? []).map((d) => (typeof d === 'number' ? d : -1)))], [y()]);
        break;
      default:
        fail(n, 'not mapped by this version of mlopt');
    }
  }

  const inputs = feedInputs(g).map((v) => ioInputs.get(v.name) ?? tensorFor(v.name));
  const outputs = g.outputs.map((v) => {
    if (ioType === 'float32') return floatOf(v.name);
    const q = int8Of(v.name);
    if (q === undefined) throw new MloptError('UNSUPPORTED', `--io-type ${ioType}: output "${v.name}" is not produced by a quantized op`);
    if (ioType === 'int8') {
      tensors[q]!.name = v.name;
      return q;
    }
    const u = addTensor(v.name, 'uint8', shapeOf(v.name));
    const qz = tensors[q]!.quantization!;
    tensors[u]!.quantization = { ...qz, zeroPoint: (qz.zeroPoint ?? []).map((z) => z + 128n) };
    emit('QUANTIZE', [q], [u]);
    return u;
  });
  b.foldReshapes(new Set(outputs));
  const model = b.model(
    feedInputs(g).map((v, i) => ({ name: v.name, tensorIndex: inputs[i]! })),
    g.outputs.map((v, i) => ({ name: v.name, tensorIndex: outputs[i]! })),
  );
  const transposes = b.count('TRANSPOSE');
  return { bytes: encodeTflite(model), transposes, notes };
}

/** The TFLite fused activation an activation node amounts to, if any. */
function activationOf(g: Graph, n: Node): string | undefined {
  if (n.domain !== '') return undefined;
  if (n.op === 'Relu') return 'RELU';
  if (n.op === 'Tanh') return 'TANH';
  if (n.op !== 'Clip') return undefined;
  const val = (i: number, attr: string): number | undefined => {
    if (n.attrs[attr]) return attrFloat(n, attr, NaN);
    const t = g.initializers.get(n.inputs[i] ?? '');
    return t ? toFloat32(t)[0] : n.inputs[i] ? NaN : undefined;
  };
  const lo = val(1, 'min');
  const hi = val(2, 'max');
  if (lo === 0 && hi === 6) return 'RELU6';
  if (lo === 0 && hi === undefined) return 'RELU';
  if (lo === -1 && hi === 1) return 'RELU_N1_TO_1';
  return undefined;
}
