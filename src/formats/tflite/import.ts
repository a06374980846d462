/**
 * TFLite flatbuffer (decoded by codec.ts) → IR.
 *
 * The IR speaks ONNX at opset 17. TFLite data is channels-last: layout-sensitive ops become
 * IR nodes with `layout: 'NHWC'` and weights turned into ONNX order (OIHW) at import — the
 * ONNX exporter's layout pass inserts Transposes where needed. Quantized tensors become QDQ:
 * an int8/uint8 tensor keeps its name and integer data; float ops read it through a
 * DequantizeLinear and write it through a QuantizeLinear (scale, zero point and axis kept
 * exactly). Fused activations become separate nodes. An op mlopt does not map is kept as an
 * opaque node in the `tflite` domain (so `inspect` still shows it); exporting it fails by name.
 */
import type { DType, NumericArray } from '../../ir/dtype.js';
import { viewBytes } from '../../ir/dtype.js';
import type { Attr, Graph, Node, QuantParams, Value } from '../../ir/graph.js';
import { createGraph } from '../../ir/graph.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { NameAllocator, pruneInitializers } from '../../ir/edit.js';
import { transposeData } from '../../data/npy.js';
import { MloptError } from '../../util/errors.js';
import { builtinOpName, decodeTflite, opcodeOf } from './codec.js';
import type { TfliteModel, TfliteOperator, TfliteTensor } from './codec.js';

export const TFLITE_IMPORT_OPSET = 17;

const TENSOR_TYPES: Record<number, DType | undefined> = {
  0: 'float32', 1: 'float16', 2: 'int32', 3: 'uint8', 4: 'int64', 5: 'string', 6: 'bool', 7: 'int16', 8: 'complex64', 9: 'int8',
  10: 'float64', 11: 'complex128', 12: 'uint64', 15: 'uint32', 16: 'uint16', 17: 'int4', 18: 'bfloat16',
};

export function importTfliteBytes(bytes: Uint8Array, source = 'model'): Graph {
  return importTflite(decodeTflite(bytes, source), source);
}

type Opts = Record<string, unknown>;
const num = (o: Opts | undefined, k: string, d = 0): number => {
  const v = o?.[k];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : d;
};
const bool = (o: Opts | undefined, k: string): boolean => !!o?.[k];
/** enum fields arrive as their schema name or, for values the codec does not name, a number */
const ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];
const enumCode = (o: Opts | undefined, k: string, names: string[]): number => {
  const v = o?.[k];
  if (typeof v === 'string') return names.indexOf(v);
  return typeof v === 'number' ? v : 0;
};
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });

export function importTflite(model: TfliteModel, source = 'model'): Graph {
  const sg = model.subgraphs[0];
  if (!sg) throw new MloptError('CORRUPT_MODEL', `${source}: the TFLite model has no subgraph`);
  const g = createGraph(sg.name || 'main');
  g.metadata = {
    sourceFormat: 'tflite',
    formatVersion: model.version,
    opsets: [{ domain: '', version: TFLITE_IMPORT_OPSET }],
    props: {},
    ...(model.description ? { producerName: model.description } : {}),
  };
  if (model.subgraphs.length > 1) g.metadata.props['tflite.subgraphs'] = String(model.subgraphs.length);
  const names = new NameAllocator(g);
  const tensors = sg.tensors;
  // unique IR names for TFLite tensors (names may repeat or be empty)
  const tname: string[] = tensors.map((t, i) => names.derive(t.name || `tensor_${i}`));
  const nodes: Node[] = [];
  const opaqueDomain = 'tflite';

  const dtypeOf = (t: TfliteTensor, i: number): DType => {
    const d = TENSOR_TYPES[t.type];
    if (!d) throw new MloptError('UNSUPPORTED', `${source}: tensor ${i} "${t.name}" has TFLite type ${t.type}, which mlopt does not read`);
    return d;
  };
  const shapeOf = (t: TfliteTensor): Dim[] => {
    const sig = t.shapeSignature && t.shapeSignature.length === t.shape.length ? t.shapeSignature : undefined;
    return t.shape.map((d, k) => (sig && sig[k] === -1 ? (k === 0 ? 'batch' : `d${k}`) : d));
  };
  const quantOf = (t: TfliteTensor): QuantParams | undefined => {
    const q = t.quantization;
    if (!q?.scale?.length) return undefined;
    const zp = (q.zeroPoint ?? []).map((z) => Number(z));
    // (TOCO writes quantized_dimension 3 on the rank-1 biases of depthwise convolutions)
    const axis = Math.min(q.quantizedDimension ?? 0, Math.max(0, t.shape.length - 1));
    return { scale: [...q.scale], zeroPoint: zp.length ? zp : q.scale.map(() => 0), ...(q.scale.length > 1 ? { axis } : {}) };
  };
  const isQuantInt = (t: TfliteTensor, i: number): boolean => {
    const d = dtypeOf(t, i);
    return !!quantOf(t) && (d === 'int8' || d === 'uint8' || d === 'int16' || d === 'int32');
  };

  // constants
  const constData = (i: number): Tensor | undefined => {
    const t = tensors[i]!;
    const buf = model.buffers[t.buffer];
    if (!buf?.data?.byteLength) return undefined;
    const dtype = dtypeOf(t, i);
    const shape = t.shape.map((d) => d);
    const count = shape.reduce((a, b) => a * b, 1);
    if (dtype === 'string') return { dtype, shape, data: decodeStrings(buf.data, `${source}: string tensor "${t.name}"`) };
    return { dtype, shape, data: viewBytes(dtype, buf.data, count) };
  };
  const consts = new Map<number, Tensor>();
  tensors.forEach((t, i) => {
    const c = constData(i);
    if (c) consts.set(i, c);
    else if (t.isVariable && !t.shape.includes(-1)) {
      // variable tensors (RNN state) start as zeros in every interpreter
      const dtype = dtypeOf(t, i);
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (dtype !== 'string') consts.set(i, { dtype, shape: [...t.shape], data: viewBytes(dtype, new Uint8Array(count * 8), count) });
    }
  });

  // inputs / outputs
  for (const i of sg.inputs) {
    const t = tensors[i]!;
    const v: Value = { name: tname[i]!, dtype: dtypeOf(t, i), shape: shapeOf(t) };
    const q = quantOf(t);
    if (q) v.quant = q;
    g.inputs.push(v);
  }
  for (const i of sg.outputs) {
    const t = tensors[i]!;
    const v: Value = { name: tname[i]!, dtype: dtypeOf(t, i), shape: shapeOf(t) };
    const q = quantOf(t);
    if (q) v.quant = q;
    g.outputs.push(v);
  }
  for (const [i, c] of consts) g.initializers.set(tname[i]!, c);

  // QDQ plumbing: scale/zero-point initializers per quantized tensor, a shared DQ per tensor
  const qparams = new Map<number, { s: string; z: string; axis?: number }>();
  const paramsFor = (i: number, axisOverride?: number): { s: string; z: string; axis?: number } => {
    const have = qparams.get(i);
    if (have && axisOverride === undefined) return have;
    const t = tensors[i]!;
    const q = quantOf(t)!;
    const dtype = dtypeOf(t, i);
    const per = q.scale.length > 1;
    const s = names.derive(`${tname[i]}_scale`);
    const z = names.derive(`${tname[i]}_zero_point`);
    g.initializers.set(s, { dtype: 'float32', shape: per ? [q.scale.length] : [], data: Float32Array.from(per ? q.scale : [q.scale[0]!]) });
    const zps = per ? q.zeroPoint : [q.zeroPoint[0]!];
    g.initializers.set(z, { dtype, shape: per ? [zps.length] : [], data: zeroPointData(dtype, zps) });
    const r = { s, z, ...(per ? { axis: axisOverride ?? q.axis ?? 0 } : {}) };
    if (axisOverride === undefined) qparams.set(i, r);
    return r;
  };
  const dqOf = new Map<number, string>();
  const floatIn = (i: number): string => {
    if (i < 0) return '';
    const t = tensors[i]!;
    if (!isQuantInt(t, i)) return tname[i]!;
    let d = dqOf.get(i);
    if (!d) {
      const p = paramsFor(i);
      d = names.derive(`${tname[i]}_dequant`);
      nodes.push(node('DequantizeLinear', [tname[i]!, p.s, p.z], [d], p.axis !== undefined ? { axis: int(p.axis) } : {}));
      dqOf.set(i, d);
    }
    return d;
  };
  /** the name a float op writes for output tensor `i`; a QuantizeLinear follows when it is quantized */
  const pendingQ: Array<() => void> = [];
  const floatOut = (i: number): string => {
    const t = tensors[i]!;
    if (!isQuantInt(t, i)) return tname[i]!;
    const f = names.derive(`${tname[i]}_float`);
    pendingQ.push(() => {
      const p = paramsFor(i);
      nodes.push(node('QuantizeLinear', [f, p.s, p.z], [tname[i]!], p.axis !== undefined ? { axis: int(p.axis) } : {}));
    });
    return f;
  };
  let k = 0;
  function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, extra: Partial<Node> = {}): Node {
    return { name: names.derive(`${op}_${k++}`), op, domain: '', inputs, outputs, attrs, ...extra };
  }
  const constInt64 = (hint: string, values: number[]): string => {
    const n = names.derive(hint);
    g.initializers.set(n, { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return n;
  };
  const constF32 = (hint: string, values: number[], shape?: number[]): string => {
    const n = names.derive(hint);
    g.initializers.set(n, { dtype: 'float32', shape: shape ?? [values.length], data: Float32Array.from(values) });
    return n;
  };
  const constInts = (i: number, what: string, op: string): number[] => {
    const c = consts.get(i);
    if (!c) throw new MloptError('UNSUPPORTED', `${source}: ${op} needs a constant ${what} (tensor "${tensors[i]?.name}")`);
    return Array.from(c.data as ArrayLike<number | bigint>, (v) => Number(v));
  };
  /** Replace constant weights by a transposed copy (ONNX layout); per-axis quantization follows. */
  const transposedWeight = (i: number, perm: number[], op: string): string => {
    const c = consts.get(i);
    const t = tensors[i]!;
    if (!c) {
      const out = names.derive(`${tname[i]}_oihw`);
      nodes.push(node('Transpose', [floatIn(i)], [out], { perm: ints(perm) }));
      return out;
    }
    const shape = c.shape as number[];
    const data = transposeData(c.data as NumericArray, shape, perm);
    const name = names.derive(`${tname[i]}_oihw`);
    g.initializers.set(name, { dtype: c.dtype, shape: perm.map((p) => shape[p]!), data });
    if (!isQuantInt(t, i)) return name;
    const q = quantOf(t)!;
    const axis = q.axis !== undefined ? perm.indexOf(q.axis) : undefined;
    const p = paramsFor(i, axis);
    const d = names.derive(`${tname[i]}_dequant`);
    nodes.push(node('DequantizeLinear', [name, p.s, p.z], [d], p.axis !== undefined ? { axis: int(p.axis) } : {}));
    void op;
    return d;
  };
  const activation = (fused: number, x: string, y: string, where: string): void => {
    switch (fused) {
      case 0:
        return;
      case 1:
        nodes.push(node('Relu', [x], [y]));
        return;
      case 2:
        nodes.push(node('Clip', [x, constF32('min', [-1], []), constF32('max', [1], [])], [y]));
        return;
      case 3:
        nodes.push(node('Clip', [x, constF32('min', [0], []), constF32('max', [6], [])], [y]));
        return;
      case 4:
        nodes.push(node('Tanh', [x], [y]));
        return;
      default:
        throw new MloptError('UNSUPPORTED', `${source}: fused activation ${fused} of ${where} is not supported`);
    }
  };
  /** Emit `op` writing float output 0 of `o`, followed by its fused activation. */
  const withAct = (o: TfliteOperator, opts: Opts | undefined, where: string, emit: (y: string) => void): void => {
    const out = floatOut(o.outputs[0]!);
    const fused = enumCode(opts, 'fusedActivationFunction', ACTIVATIONS);
    if (!fused) return emit(out);
    const tmp = names.derive(`${out}_preact`);
    emit(tmp);
    activation(fused, tmp, out, where);
  };
  const padding = (opts: Opts | undefined): Attr => str(enumCode(opts, 'padding', ['SAME', 'VALID']) === 1 ? 'VALID' : 'SAME_UPPER');
  const channelsOf = (i: number): number | undefined => {
    const s = tensors[i]?.shape;
    return s && s.length ? s[s.length - 1] : undefined;
  };

  sg.operators.forEach((o, idx) => {
    const code = model.operatorCodes[o.opcodeIndex];
    if (!code) throw new MloptError('CORRUPT_MODEL', `${source}: operator ${idx} has opcode index ${o.opcodeIndex} out of range`);
    const opc = opcodeOf(code);
    const opName = code.customCode ? code.customCode : builtinOpName(opc);
    const opts = o.builtinOptions as Opts | undefined;
    const where = `${opName} operator ${idx}`;
    const x = (j: number): string => floatIn(o.inputs[j] ?? -1);
    const unary = (op: string, attrs: Record<string, Attr> = {}): void => {
      nodes.push(node(op, [x(0)], [floatOut(o.outputs[0]!)], attrs));
    };
    switch (code.customCode ? '' : opName) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        // weights: CONV_2D [O, H, W, I] → [O, I, H, W]; DEPTHWISE_CONV_2D [1, H, W, C·m] → [C·m, 1, H, W]
        const depthwise = opName === 'DEPTHWISE_CONV_2D';
        const w = o.inputs[1]!;
        const ws = tensors[w]!.shape;
        const cin = channelsOf(o.inputs[0]!);
        if (depthwise && !cin) throw new MloptError('UNSUPPORTED', `${source}: ${where}: the input channel count is unknown`);
        const group = depthwise ? cin! : cin && ws[3] ? cin / ws[3] : 1;
        const wt = transposedWeight(w, depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2], where);
        withAct(o, opts, where, (y) =>
          nodes.push(node('Conv', [x(0), wt, ...(o.inputs[2]! >= 0 ? [x(2)] : [])], [y], {
            auto_pad: padding(opts), strides: ints([num(opts, 'strideH', 1), num(opts, 'strideW', 1)]),
            dilations: ints([num(opts, 'dilationHFactor', 1), num(opts, 'dilationWFactor', 1)]), kernel_shape: ints([ws[1]!, ws[2]!]), group: int(group),
          }, { layout: 'NHWC' })));
        break;
      }
      case 'TRANSPOSE_CONV': {
        // inputs: output_shape, weights [O, H, W, I], input, bias?
        const w = o.inputs[1]!;
        const ws = tensors[w]!.shape;
        // output_shape may be computed at run time (a dynamic batch): H and W come from the output tensor then
        const outShape = consts.has(o.inputs[0]!) ? constInts(o.inputs[0]!, 'output shape', where) : tensors[o.outputs[0]!]!.shape;
        const wt = transposedWeight(w, [3, 0, 1, 2], where); // → [I, O, H, W]
        withAct(o, opts, where, (y) =>
          nodes.push(node('ConvTranspose', [x(2), wt, ...((o.inputs[3] ?? -1) >= 0 ? [x(3)] : [])], [y], {
            auto_pad: padding(opts), strides: ints([num(opts, 'strideH', 1), num(opts, 'strideW', 1)]), kernel_shape: ints([ws[1]!, ws[2]!]),
            output_shape: ints(outShape.slice(1, 3)),
          }, { layout: 'NHWC' })));
        break;
      }
      case 'FULLY_CONNECTED': {
        const xin = tensors[o.inputs[0]!]!;
        const w = o.inputs[1]!;
        const ws = tensors[w]!.shape; // [O, I]
        const keep = bool(opts, 'keepNumDims');
        const b = (o.inputs[2] ?? -1) >= 0 ? x(2) : '';
        let a = x(0);
        if (xin.shape.length !== 2 && !keep) {
          const r = names.derive(`${a}_2d`);
          nodes.push(node('Reshape', [a, constInt64('shape', [-1, ws[1]!])], [r]));
          a = r;
        }
        if (xin.shape.length === 2 || !keep) {
          withAct(o, opts, where, (y) => nodes.push(node('Gemm', [a, x(1), ...(b ? [b] : [])], [y], { transB: int(1) })));
        } else {
          const wt = transposedWeight(w, [1, 0], where);
          withAct(o, opts, where, (y) => {
            if (!b) return void nodes.push(node('MatMul', [a, wt], [y]));
            const mm = names.derive(`${y}_matmul`);
            nodes.push(node('MatMul', [a, wt], [mm]));
            nodes.push(node('Add', [mm, b], [y]));
          });
        }
        break;
      }
      case 'BATCH_MATMUL': {
        const adj = (j: number, flag: string): string => {
          if (!bool(opts, flag)) return x(j);
          const r = tensors[o.inputs[j]!]!.shape.length;
          const t = names.derive(`${x(j)}_adj`);
          const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
          nodes.push(node('Transpose', [x(j)], [t], { perm: ints(perm) }));
          return t;
        };
        nodes.push(node('MatMul', [adj(0, 'adjX'), adj(1, 'adjY')], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'ADD':
      case 'SUB':
      case 'MUL':
      case 'DIV': {
        const op = { ADD: 'Add', SUB: 'Sub', MUL: 'Mul', DIV: 'Div' }[opName]!;
        withAct(o, opts, where, (y) => nodes.push(node(op, [x(0), x(1)], [y])));
        break;
      }
      case 'AVERAGE_POOL_2D':
      case 'MAX_POOL_2D': {
        const op = opName === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool';
        const attrs: Record<string, Attr> = {
          auto_pad: padding(opts), strides: ints([num(opts, 'strideH', 1), num(opts, 'strideW', 1)]),
          kernel_shape: ints([num(opts, 'filterHeight', 1), num(opts, 'filterWidth', 1)]),
        };
        if (op === 'AveragePool') attrs.count_include_pad = int(0);
        withAct(o, opts, where, (y) => nodes.push(node(op, [x(0)], [y], attrs, { layout: 'NHWC' })));
        break;
      }
      case 'MEAN':
      case 'SUM':
      case 'REDUCE_MAX':
      case 'REDUCE_MIN':
      case 'REDUCE_PROD': {
        const op = { MEAN: 'ReduceMean', SUM: 'ReduceSum', REDUCE_MAX: 'ReduceMax', REDUCE_MIN: 'ReduceMin', REDUCE_PROD: 'ReduceProd' }[opName]!;
        const axes = constInts(o.inputs[1]!, 'axes', where);
        const keepdims = int(bool(opts, 'keepDims') ? 1 : 0);
        if (op === 'ReduceSum') nodes.push(node(op, [x(0), constInt64('axes', axes)], [floatOut(o.outputs[0]!)], { keepdims }));
        else nodes.push(node(op, [x(0)], [floatOut(o.outputs[0]!)], { axes: ints(axes), keepdims }));
        break;
      }
      case 'RESHAPE': {
        let shape: number[] | undefined;
        if ((o.inputs[1] ?? -1) >= 0 && consts.has(o.inputs[1]!)) shape = constInts(o.inputs[1]!, 'shape', where);
        else if (Array.isArray(opts?.newShape)) shape = (opts!.newShape as number[]).map(Number);
        else shape = tensors[o.outputs[0]!]!.shape;
        // a dynamic batch: let Reshape infer the first dim
        const outSig = tensors[o.outputs[0]!]!.shapeSignature;
        if (outSig && outSig[0] === -1 && shape.length === outSig.length) shape = [-1, ...shape.slice(1)];
        nodes.push(node('Reshape', [x(0), constInt64('shape', shape)], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'SQUEEZE': {
        const dims = (opts?.squeezeDims as number[] | undefined)?.map(Number) ?? [];
        nodes.push(node('Squeeze', dims.length ? [x(0), constInt64('axes', dims)] : [x(0)], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'EXPAND_DIMS': {
        const axis = constInts(o.inputs[1]!, 'axis', where);
        nodes.push(node('Unsqueeze', [x(0), constInt64('axes', axis)], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'TRANSPOSE':
        nodes.push(node('Transpose', [x(0)], [floatOut(o.outputs[0]!)], { perm: ints(constInts(o.inputs[1]!, 'permutation', where)) }));
        break;
      case 'CONCATENATION':
        withAct(o, opts, where, (y) => nodes.push(node('Concat', o.inputs.map((_, j) => x(j)), [y], { axis: int(num(opts, 'axis')) })));
        break;
      case 'PAD':
      case 'PADV2': {
        const p = constInts(o.inputs[1]!, 'paddings', where);
        const r = p.length / 2;
        const pads = [...Array.from({ length: r }, (_, i) => p[2 * i]!), ...Array.from({ length: r }, (_, i) => p[2 * i + 1]!)];
        const ins = [x(0), constInt64('pads', pads)];
        if (opName === 'PADV2' && (o.inputs[2] ?? -1) >= 0) ins.push(x(2));
        nodes.push(node('Pad', ins, [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'SOFTMAX': {
        const beta = num(opts, 'beta', 1);
        let a = x(0);
        if (beta !== 1) {
          const m = names.derive(`${a}_beta`);
          nodes.push(node('Mul', [a, constF32('beta', [beta], [])], [m]));
          a = m;
        }
        nodes.push(node('Softmax', [a], [floatOut(o.outputs[0]!)], { axis: int(-1) }));
        break;
      }
      case 'LOG_SOFTMAX':
        unary('LogSoftmax', { axis: int(-1) });
        break;
      case 'LOGISTIC':
        unary('Sigmoid');
        break;
      case 'TANH':
        unary('Tanh');
        break;
      case 'RELU':
        unary('Relu');
        break;
      case 'RELU6':
      case 'RELU_N1_TO_1': {
        const [lo, hi] = opName === 'RELU6' ? [0, 6] : [-1, 1];
        nodes.push(node('Clip', [x(0), constF32('min', [lo], []), constF32('max', [hi], [])], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'LEAKY_RELU':
        unary('LeakyRelu', { alpha: float(num(opts, 'alpha', 0.2)) });
        break;
      case 'HARD_SWISH':
        unary('HardSwish');
        break;
      case 'ELU':
        unary('Elu');
        break;
      case 'EXP':
        unary('Exp');
        break;
      case 'LOG':
        unary('Log');
        break;
      case 'SQRT':
        unary('Sqrt');
        break;
      case 'RSQRT': {
        const s = names.derive(`${x(0)}_sqrt`);
        nodes.push(node('Sqrt', [x(0)], [s]));
        nodes.push(node('Reciprocal', [s], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'ABS':
        unary('Abs');
        break;
      case 'NEG':
        unary('Neg');
        break;
      case 'GELU': {
        // 0.5 x (1 + erf(x / √2)); the tanh approximation when `approximate`
        const a = x(0);
        const y = floatOut(o.outputs[0]!);
        const t = (s: string) => names.derive(`${y}_${s}`);
        if (bool(opts, 'approximate')) {
          const [x3, inner, sc, th, one, h] = ['x3', 'inner', 'scaled', 'tanh', 'onep', 'half'].map(t);
          nodes.push(node('Pow', [a, constF32('three', [3], [])], [x3!]));
          nodes.push(node('Mul', [x3!, constF32('c', [0.044715], [])], [inner!]));
          const sum = t('sum');
          nodes.push(node('Add', [a, inner!], [sum]));
          nodes.push(node('Mul', [sum, constF32('c', [Math.sqrt(2 / Math.PI)], [])], [sc!]));
          nodes.push(node('Tanh', [sc!], [th!]));
          nodes.push(node('Add', [th!, constF32('one', [1], [])], [one!]));
          nodes.push(node('Mul', [a, constF32('half', [0.5], [])], [h!]));
          nodes.push(node('Mul', [h!, one!], [y]));
        } else {
          const [d, e, one, h] = ['div', 'erf', 'onep', 'half'].map(t);
          nodes.push(node('Mul', [a, constF32('c', [Math.SQRT1_2], [])], [d!]));
          nodes.push(node('Erf', [d!], [e!]));
          nodes.push(node('Add', [e!, constF32('one', [1], [])], [one!]));
          nodes.push(node('Mul', [a, constF32('half', [0.5], [])], [h!]));
          nodes.push(node('Mul', [h!, one!], [y]));
        }
        break;
      }
      case 'RESIZE_BILINEAR':
      case 'RESIZE_NEAREST_NEIGHBOR': {
        const size = constInts(o.inputs[1]!, 'size', where);
        const s = tensors[o.inputs[0]!]!.shape; // [N, H, W, C]
        const scales = [1, size[0]! / s[1]!, size[1]! / s[2]!, 1];
        const align = bool(opts, 'alignCorners');
        const half = bool(opts, 'halfPixelCenters');
        const linear = opName === 'RESIZE_BILINEAR';
        const ctm = align ? 'align_corners' : half ? (linear ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
        const attrs: Record<string, Attr> = { mode: str(linear ? 'linear' : 'nearest'), coordinate_transformation_mode: str(ctm) };
        if (!linear) attrs.nearest_mode = str(align ? 'round_prefer_ceil' : 'floor');
        nodes.push(node('Resize', [x(0), '', constF32('scales', scales)], [floatOut(o.outputs[0]!)], attrs, { layout: 'NHWC' }));
        break;
      }
      case 'STRIDED_SLICE': {
        if (num(opts, 'ellipsisMask') || num(opts, 'newAxisMask')) throw new MloptError('UNSUPPORTED', `${source}: ${where}: ellipsis / new-axis masks are not supported`);
        const begin = constInts(o.inputs[1]!, 'begin', where);
        const end = constInts(o.inputs[2]!, 'end', where);
        const strides = constInts(o.inputs[3]!, 'strides', where);
        const bm = num(opts, 'beginMask');
        const em = num(opts, 'endMask');
        const shrink = num(opts, 'shrinkAxisMask');
        const BIG = 2 ** 31 - 1;
        const starts = begin.map((b, i) => (bm & (1 << i) ? (strides[i]! > 0 ? 0 : BIG) : b));
        const ends = end.map((e, i) => (shrink & (1 << i) ? starts[i]! + 1 : em & (1 << i) ? (strides[i]! > 0 ? BIG : -BIG) : e));
        const axes = begin.map((_, i) => i);
        const y = floatOut(o.outputs[0]!);
        const sq = axes.filter((i) => shrink & (1 << i));
        const sliced = sq.length ? names.derive(`${y}_slice`) : y;
        nodes.push(node('Slice', [x(0), constInt64('starts', starts), constInt64('ends', ends), constInt64('axes', axes), constInt64('steps', strides)], [sliced]));
        if (sq.length) nodes.push(node('Squeeze', [sliced, constInt64('axes', sq)], [y]));
        break;
      }
      case 'SLICE': {
        const begin = constInts(o.inputs[1]!, 'begin', where);
        const size = constInts(o.inputs[2]!, 'size', where);
        const ends = size.map((s, i) => (s === -1 ? 2 ** 31 - 1 : begin[i]! + s));
        nodes.push(node('Slice', [x(0), constInt64('starts', begin), constInt64('ends', ends), constInt64('axes', begin.map((_, i) => i))], [floatOut(o.outputs[0]!)]));
        break;
      }
      case 'GATHER':
        nodes.push(node('Gather', [x(0), tname[o.inputs[1]!]!], [floatOut(o.outputs[0]!)], { axis: int(num(opts, 'axis')) }));
        break;
      case 'QUANTIZE': {
        const out = o.outputs[0]!;
        const p = paramsFor(out);
        nodes.push(node('QuantizeLinear', [x(0), p.s, p.z], [tname[out]!], p.axis !== undefined ? { axis: int(p.axis) } : {}));
        break;
      }
      case 'DEQUANTIZE': {
        const inp = o.inputs[0]!;
        const t = tensors[inp]!;
        const out = tname[o.outputs[0]!]!;
        if (dtypeOf(t, inp) === 'float16') nodes.push(node('Cast', [tname[inp]!], [out], { to: int(1) }));
        else {
          const p = paramsFor(inp);
          nodes.push(node('DequantizeLinear', [tname[inp]!, p.s, p.z], [out], p.axis !== undefined ? { axis: int(p.axis) } : {}));
        }
        break;
      }
      case 'CAST': {
        const to = TENSOR_TYPES[tensors[o.outputs[0]!]!.type];
        const code = { float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }[to as string];
        if (!code) throw new MloptError('UNSUPPORTED', `${source}: ${where}: cast to ${to} is not supported`);
        nodes.push(node('Cast', [tname[o.inputs[0]!]!], [tname[o.outputs[0]!]!], { to: int(code) }));
        break;
      }
      case 'SHAPE':
        nodes.push(node('Shape', [x(0)], [tname[o.outputs[0]!]!]));
        break;
      case 'ARG_MAX':
      case 'ARG_MIN': {
        const axis = constInts(o.inputs[1]!, 'axis', where)[0]!;
        const y = tname[o.outputs[0]!]!;
        const i64 = TENSOR_TYPES[tensors[o.outputs[0]!]!.type] === 'int64';
        const tmp = i64 ? y : names.derive(`${y}_i64`);
        nodes.push(node(opName === 'ARG_MAX' ? 'ArgMax' : 'ArgMin', [x(0)], [tmp], { axis: int(axis), keepdims: int(0) }));
        if (!i64) nodes.push(node('Cast', [tmp], [y], { to: int(6) }));
        break;
      }
      case 'PACK': {
        const axis = num(opts, 'axis');
        const parts = o.inputs.map((_, j) => {
          const u = names.derive(`${x(j)}_unsq`);
          nodes.push(node('Unsqueeze', [x(j), constInt64('axes', [axis])], [u]));
          return u;
        });
        nodes.push(node('Concat', parts, [floatOut(o.outputs[0]!)], { axis: int(axis) }));
        break;
      }
      case 'UNPACK': {
        const axis = num(opts, 'axis');
        const outs = o.outputs.map((i) => floatOut(i));
        const parts = outs.map((y) => names.derive(`${y}_split`));
        nodes.push(node('Split', [x(0)], parts, { axis: int(axis) }));
        parts.forEach((p, j) => nodes.push(node('Squeeze', [p, constInt64('axes', [axis])], [outs[j]!])));
        break;
      }
      case 'SPLIT': {
        const axis = constInts(o.inputs[0]!, 'axis', where)[0]!;
        nodes.push(node('Split', [floatIn(o.inputs[1]!)], o.outputs.map((i) => floatOut(i)), { axis: int(axis) }));
        break;
      }
      default: {
        // kept verbatim as an opaque node: inspect shows it, export reports it by name
        nodes.push({
          name: names.derive(`${opName}_${idx}`), op: opName, domain: opaqueDomain, inputs: o.inputs.map((i) => (i >= 0 ? tname[i]! : '')),
          outputs: o.outputs.map((i) => tname[i]!), attrs: {}, extra: { tflite: { builtinCode: opc, customCode: code.customCode, options: o.builtinOptions } },
        });
        if (!g.metadata.opsets.some((s) => s.domain === opaqueDomain)) g.metadata.opsets.push({ domain: opaqueDomain, version: 1 });
      }
    }
    while (pendingQ.length) pendingQ.shift()!();
  });
  g.nodes = nodes;
  // weights that were re-laid-out leave their TFLite-order originals unread
  pruneInitializers(g);
  // quantization parameters of every tensor, for inspect
  tensors.forEach((t, i) => {
    const q = quantOf(t);
    if (!q || sg.inputs.includes(i) || sg.outputs.includes(i) || (consts.has(i) && !g.initializers.has(tname[i]!))) return;
    g.valueInfo.push({ name: tname[i]!, dtype: dtypeOf(t, i), shape: shapeOf(t), quant: q });
  });
  return g;
}

/** TFLite string buffer: int32 count, int32 offsets[count + 1], then the bytes. */
function decodeStrings(bytes: Uint8Array, where: string): Uint8Array[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new MloptError('CORRUPT_MODEL', `${where} is truncated`);
  const n = dv.getInt32(0, true);
  if (n < 0 || 4 * (n + 2) > bytes.byteLength) throw new MloptError('CORRUPT_MODEL', `${where} has a bad string count ${n}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = dv.getInt32(4 * (i + 1), true);
    const b = dv.getInt32(4 * (i + 2), true);
    if (a < 0 || b < a || b > bytes.byteLength) throw new MloptError('CORRUPT_MODEL', `${where} has a bad string offset`);
    out.push(bytes.subarray(a, b));
  }
  return out;
}

function zeroPointData(dtype: DType, zps: number[]): NumericArray {
  switch (dtype) {
    case 'int8':
      return Int8Array.from(zps);
    case 'uint8':
      return Uint8Array.from(zps);
    case 'int16':
      return Int16Array.from(zps);
    case 'int32':
      return Int32Array.from(zps);
    default:
      throw new MloptError('UNSUPPORTED', `quantized ${dtype} tensors are not supported`);
  }
}
