/**
 * TFLite mappings of the IR ops that take more than one builtin, or more than a few lines:
 * - Conv: 2-D as CONV_2D / DEPTHWISE_CONV_2D; grouped (1 < group, not depthwise) as SPLIT →
 *   one CONV_2D per group → CONCATENATION; 1-D (a rank-3 [N, W, C] input) as TFLite's converter
 *   writes it: RESHAPE to [N, 1, W, C] → the 2-D conv with a 1 × k kernel → RESHAPE back.
 * - MaxPool / AveragePool: MAX_POOL_2D / AVERAGE_POOL_2D; 1-D through the same 2-D view.
 * - PRelu: PRELU, its alpha over the input's trailing dims (rank − 1, channels last).
 * export.ts builds an `OpContext` for the node and calls the mapper.
 */
import type { NumericArray } from '../../ir/dtype.js';
import type { Node } from '../../ir/graph.js';
import { attrInt, attrInts } from '../../ir/graph.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { transposeData } from '../../data/npy.js';
import type { QP, TfliteBuilder } from './builder.js';

/** What a mapper sees of the node being exported (closures over the exporter's state). */
export interface OpContext {
  readonly n: Node;
  readonly b: TfliteBuilder;
  /** the node runs on int8 tensors (its weights and bias then carry `qpOf`) */
  readonly int8: boolean;
  /** the TFLite fused activation of the node ('NONE' when none) */
  readonly act: string;
  /** data input i as a TFLite tensor (int8 or float, as the node runs) */
  x(i: number): number;
  /** the node's output tensor (with its fused activation's output name); call once */
  y(): number;
  shapeOf(name: string): Dim[] | undefined;
  /** constant input i (float32, or its int8 / int32 data when `int8`) */
  constOf(i: number): Tensor | undefined;
  qpOf(i: number): QP | undefined;
  /** a Conv / FC weight or bias, stored per the export's weight mode (`axis`: output channels) */
  weightTensor(hint: string, t: Tensor, axis: number | undefined, qp?: QP): number;
  /** 'SAME' / 'VALID', or 'EXPLICIT' when the node's pads need a PAD op first */
  padding(kernel: number[]): string;
  /** PAD the input tensor `xi` by the node's pads */
  padInput(xi: number, fillLowest: boolean): number;
  fail(why: string): never;
}

/** Rows [from, to) of the output-channel axis (0) of an [O, ...] tensor. */
function rows(t: Tensor, from: number, to: number): Tensor {
  const shape = t.shape as number[];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return { dtype: t.dtype, shape: [to - from, ...shape.slice(1)], data: (t.data as NumericArray).slice(from * inner, to * inner) } as Tensor;
}

function qpRows(qp: QP | undefined, from: number, to: number): QP | undefined {
  if (!qp || qp.scale.length <= 1) return qp;
  return { ...qp, scale: qp.scale.slice(from, to), zeroPoint: qp.zeroPoint.slice(from, to) };
}

export function mapConv(c: OpContext): void {
  const { n, b } = c;
  const w = c.constOf(1);
  const wq = c.qpOf(1);
  if (!w || (w.dtype !== 'float32' && !wq)) c.fail('weights must be a float32 constant');
  const ws0 = w.shape as number[]; // [M, C/g, kh, kw] or [M, C/g, k]
  if (ws0.length !== 3 && ws0.length !== 4) c.fail(`only 1-D and 2-D convolutions are supported (weights of rank ${ws0.length})`);
  const oneD = ws0.length === 3;
  const ws = oneD ? [ws0[0]!, ws0[1]!, 1, ws0[2]!] : ws0; // the 2-D view: a 1 × k kernel
  const group = attrInt(n, 'group', 1);
  const c3 = c.shapeOf(n.inputs[0]!)?.at(-1);
  const cin = typeof c3 === 'number' ? c3 : ws[1]! * group;
  const kernel = ws0.slice(2);
  const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
  const dil = attrInts(n, 'dilations') ?? kernel.map(() => 1);
  const [sh, sw] = oneD ? [1, strides[0]!] : [strides[0]!, strides[1]!];
  const [dh, dw] = oneD ? [1, dil[0]!] : [dil[0]!, dil[1]!];
  const pad0 = c.padding(kernel);
  const pad = pad0 === 'EXPLICIT' ? 'VALID' : pad0;
  let xin = pad0 === 'EXPLICIT' ? c.padInput(c.x(0), false) : c.x(0);
  const bias0 = c.constOf(2);
  if (n.inputs[2] && !bias0) c.fail('the bias must be a constant');
  const bias = bias0 ?? { dtype: c.int8 ? 'int32' : 'float32', shape: [ws[0]!], data: c.int8 ? new Int32Array(ws[0]!) : new Float32Array(ws[0]!) };
  const bq = c.qpOf(2);
  const w4: Tensor = oneD ? { ...w, shape: ws } : w;
  const wName = n.inputs[1]!;
  const bName = n.inputs[2] || `${n.name}_bias`;
  const common = { padding: pad, strideW: sw, strideH: sh, dilationWFactor: dw, dilationHFactor: dh };

  const io = as2d(c, xin, oneD);
  xin = io.x;
  const yOut = io.y;
  /** one CONV_2D; `suffix` names a group's slice of the weights */
  const conv2d = (xi: number, yi: number, wt: Tensor, bt: Tensor, wqp: QP | undefined, bqp: QP | undefined, suffix: string): void => {
    const m = wt.shape[0] as number;
    const data = transposeData(wt.data as NumericArray, wt.shape as number[], [0, 2, 3, 1]); // OIHW → OHWI
    const wi = c.weightTensor(`${wName}${suffix}_ohwi`, { dtype: wt.dtype, shape: [m, ws[2]!, ws[3]!, wt.shape[1] as number], data } as Tensor, 0, wqp && { ...wqp, axis: wqp.axis === undefined ? undefined : 0 });
    const bi = c.weightTensor(`${bName}${suffix}`, bt, undefined, bqp && { ...bqp, axis: 0 });
    b.emit('CONV_2D', [xi, wi, bi], [yi], { type: 'Conv2DOptions', ...common, fusedActivationFunction: c.act });
  };
  if (group === 1) {
    conv2d(xin, yOut, w4, bias, wq, bq, '');
  } else if (group === cin && ws[1] === 1) {
    const data = transposeData(w4.data as NumericArray, ws, [1, 2, 3, 0]); // [M,1,kh,kw] → [1,kh,kw,M]
    const wi = c.weightTensor(`${wName}_1hwo`, { dtype: w.dtype, shape: [1, ws[2]!, ws[3]!, ws[0]!], data } as Tensor, 3, wq && { ...wq, axis: wq.axis === undefined ? undefined : 3 });
    const bi = c.weightTensor(bName, bias, undefined, bq && { ...bq, axis: 0 });
    b.emit('DEPTHWISE_CONV_2D', [xin, wi, bi], [yOut], { type: 'DepthwiseConv2DOptions', ...common, fusedActivationFunction: c.act, depthMultiplier: ws[0]! / cin });
  } else if (cin === ws[1]! * group && ws[0]! % group === 0) {
    // grouped: SPLIT the channels, one CONV_2D per group (each with the fused activation), CONCATENATION
    const per = ws[0]! / group;
    const xd = b.dimsOf(xin);
    const yd = b.dimsOf(yOut);
    const parts = Array.from({ length: group }, (_, k) => b.like(xin, `${n.inputs[0]}_group${k}`, [...xd.slice(0, 3), ws[1]!]));
    b.emit('SPLIT', [b.constTensor('axis', { dtype: 'int32', shape: [], data: Int32Array.of(3) }), xin], parts, { type: 'SplitOptions', numSplits: group });
    const outs = parts.map((xi, k) => {
      const yi = b.like(yOut, `${n.outputs[0]}_group${k}`, [...yd.slice(0, 3), per]);
      conv2d(xi, yi, rows(w4, k * per, (k + 1) * per), rows(bias, k * per, (k + 1) * per), qpRows(wq, k * per, (k + 1) * per), qpRows(bq, k * per, (k + 1) * per), `_group${k}`);
      return yi;
    });
    b.emit('CONCATENATION', outs, [yOut], { type: 'ConcatenationOptions', axis: 3, fusedActivationFunction: 'NONE' });
  } else c.fail(`group ${group} does not divide the ${cin} input channels into ${ws[1]}-channel groups`);
  io.done();
}

/**
 * The 2-D view of a 1-D op: RESHAPE its [N, W, C] input `xi` to [N, 1, W, C]; the op writes
 * [N, 1, W', C'] into `y`, which `done()` reshapes into the node's output. A 2-D op: as is.
 */
function as2d(c: OpContext, xi: number, oneD: boolean): { x: number; y: number; done(): void } {
  const { n, b } = c;
  const y = c.y();
  if (!oneD) return { x: xi, y, done: () => undefined };
  const xd = b.dimsOf(xi);
  const yd = b.dimsOf(y);
  const x4 = b.reshape(xi, b.like(xi, `${n.inputs[0]}_2d`, [xd[0]!, 1, ...xd.slice(1)]));
  const y4 = b.like(y, `${n.outputs[0]}_2d`, [yd[0]!, 1, ...yd.slice(1)]);
  return { x: x4, y: y4, done: () => void b.reshape(y4, y) };
}

/** MaxPool / AveragePool, 2-D or 1-D (through the 2-D view). */
export function mapPool(c: OpContext): void {
  const { n, b } = c;
  const k = attrInts(n, 'kernel_shape') ?? c.fail('kernel_shape is required');
  if (k.length !== 1 && k.length !== 2) c.fail(`only 1-D and 2-D pooling are supported (kernel of rank ${k.length})`);
  const s = attrInts(n, 'strides') ?? k.map(() => 1);
  if (attrInts(n, 'dilations')?.some((d) => d !== 1)) c.fail('dilated pooling');
  const pad0 = c.padding(k);
  const avg = n.op === 'AveragePool';
  if (avg && pad0 !== 'VALID' && attrInt(n, 'count_include_pad', 0)) c.fail('count_include_pad=1 with padding');
  if (avg && pad0 === 'EXPLICIT') c.fail(`explicit pads [${(attrInts(n, 'pads') ?? []).join(',')}] other than SAME (TFLite averages over the valid part of a SAME window only)`);
  const pad = pad0 === 'EXPLICIT' ? 'VALID' : pad0;
  const oneD = k.length === 1;
  const io = as2d(c, pad0 === 'EXPLICIT' ? c.padInput(c.x(0), true) : c.x(0), oneD);
  const [kh, kw] = oneD ? [1, k[0]!] : [k[0]!, k[1]!];
  const [sh, sw] = oneD ? [1, s[0]!] : [s[0]!, s[1]!];
  b.emit(avg ? 'AVERAGE_POOL_2D' : 'MAX_POOL_2D', [io.x], [io.y], {
    type: 'Pool2DOptions', padding: pad, strideW: sw, strideH: sh, filterWidth: kw, filterHeight: kh, fusedActivationFunction: c.act,
  });
  io.done();
}

export function mapPRelu(c: OpContext): void {
  const { n, b } = c;
  const xs = c.shapeOf(n.inputs[0]!);
  if (!xs) c.fail('the input rank is unknown');
  if (xs.length < 2 || xs.length > 4) c.fail(`input of rank ${xs.length} (TFLite's PRELU takes ranks 2 to 4)`);
  const slope = c.constOf(1);
  if (!slope || (slope.dtype !== 'float32' && slope.dtype !== 'float16')) c.fail('the slope must be a float constant');
  const ss = slope.shape as number[];
  if (ss.length > xs.length) c.fail(`a slope of rank ${ss.length} for an input of rank ${xs.length}`);
  // align the slope to the input's rank; it must not vary over the batch
  const aligned = [...new Array<number>(xs.length - ss.length).fill(1), ...ss];
  if (aligned[0] !== 1) c.fail('a slope that varies over the batch');
  // alpha over the input's trailing dims, one value per channel at least (XNNPack's PRELU wants
  // the channels in the last dim, 1 elsewhere; TFLite's own kernel broadcasts the rest)
  const dims = aligned.slice(1);
  const ch = xs.at(-1);
  const values = toFloat32(slope);
  let alpha: Float32Array = values;
  if (dims.at(-1) === 1 && typeof ch === 'number' && ch > 1) {
    alpha = new Float32Array(values.length * ch);
    for (let i = 0; i < values.length; i++) alpha.fill(values[i]!, i * ch, (i + 1) * ch);
    dims[dims.length - 1] = ch;
  }
  const a = b.constTensor(`${n.inputs[1]}_alpha`, { dtype: 'float32', shape: dims, data: alpha });
  b.emit('PRELU', [c.x(0), a], [c.y()]);
}
