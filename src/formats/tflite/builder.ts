/**
 * Assembling a TFLite model: tensors and their buffers, operator codes, operators, and the
 * final Model with its `serving_default` signature — plus the quantization-parameter helpers
 * the exporter shares. The op mapping itself lives in export.ts.
 */
import type { DType, NumericArray } from '../../ir/dtype.js';
import { bytesOf } from '../../ir/dtype.js';
import type { NameAllocator } from '../../ir/edit.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import { makeOperatorCode } from './codec.js';
import type { TfliteModel, TfliteOperator, TfliteOperatorCode, TfliteOptions, TfliteTensor, TfliteTensorMap } from './codec.js';

export const TYPE_CODES: Partial<Record<DType, number>> = { float32: 0, float16: 1, int32: 2, uint8: 3, int64: 4, bool: 6, int16: 7, int8: 9, float64: 10 };

/** quantization parameters of an int8 / int32 value (axis: per-channel axis in the IR's order) */
export interface QP {
  scale: number[];
  zeroPoint: number[];
  axis?: number;
}

export function sameParams(scale: number[], zeroPoint: number[], qp: QP): boolean {
  return scale.length === qp.scale.length && scale.every((v, i) => Math.fround(v) === Math.fround(qp.scale[i]!)) && zeroPoint.every((z, i) => z === qp.zeroPoint[i]);
}

/** float32 copy of a quantized constant: (q − zero point) × scale, per tensor or per channel. */
export function dequantizeConst(t: Tensor, qp: QP): Tensor {
  const q = t.data as ArrayLike<number>;
  const shape = t.shape as number[];
  const out = new Float32Array(q.length);
  const axis = qp.axis === undefined ? undefined : (qp.axis + shape.length) % shape.length;
  const inner = axis === undefined ? 1 : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = axis === undefined ? 1 : shape[axis]!;
  for (let i = 0; i < q.length; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % dim;
    out[i] = (Number(q[i]) - qp.zeroPoint[c]!) * qp.scale[c]!;
  }
  return { dtype: 'float32', shape: [...shape], data: out };
}

export class TfliteBuilder {
  readonly tensors: TfliteTensor[] = [];
  readonly buffers: TfliteModel['buffers'] = [{ data: new Uint8Array(0) }];
  readonly operators: TfliteOperator[] = [];
  private readonly opcodes: TfliteOperatorCode[] = [];
  private readonly opcodeIndex = new Map<string, number>();

  constructor(private readonly names: NameAllocator) {}

  /** A tensor; symbolic dims are written as 1 in `shape` and -1 in `shape_signature`. */
  addTensor(name: string, dtype: DType, shape: Dim[] | undefined, data?: Uint8Array): number {
    const type = TYPE_CODES[dtype];
    if (type === undefined) throw new MloptError('UNSUPPORTED', `tensor "${name}" has dtype ${dtype}, which mlopt does not write to TFLite`);
    const t: TfliteTensor = { shape: [], type, buffer: 0, name, isVariable: false, hasRank: shape !== undefined, externalBuffer: 0 };
    if (shape) {
      t.shape = shape.map((d) => (typeof d === 'number' ? d : 1));
      if (shape.some((d) => typeof d !== 'number')) t.shapeSignature = shape.map((d) => (typeof d === 'number' ? d : -1));
    }
    if (data) {
      t.buffer = this.buffers.length;
      this.buffers.push({ data });
    }
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  /** A constant tensor under a fresh name derived from `hint`. */
  constTensor(hint: string, t: Tensor): number {
    return this.addTensor(this.names.derive(hint), t.dtype, t.shape, bytesOf(t.data as NumericArray));
  }

  /** The dims of tensor `i`: numbers, '?' where its shape signature says -1. */
  dimsOf(i: number): Dim[] {
    const t = this.tensors[i]!;
    return t.shape.map((d, k) => (t.shapeSignature?.[k] === -1 ? '?' : d));
  }

  /** A new tensor with the type and quantization of tensor `src` and the shape `dims`. */
  like(src: number, hint: string, dims: Dim[]): number {
    const s = this.tensors[src]!;
    const i = this.addTensor(this.names.derive(hint), 'float32', dims);
    this.tensors[i]!.type = s.type;
    if (s.quantization) this.tensors[i]!.quantization = s.quantization;
    return i;
  }

  /** RESHAPE `src` into `out` (a tensor whose shape has at most one unknown dim); returns `out`. */
  reshape(src: number, out: number): number {
    const dims = this.dimsOf(out).map((d) => (typeof d === 'number' ? d : -1));
    if (dims.filter((d) => d === -1).length > 1) {
      throw new MloptError('UNSUPPORTED', `RESHAPE to ${this.tensors[out]!.name}: more than one dimension is dynamic (${JSON.stringify(dims)})`);
    }
    this.emit('RESHAPE', [src, this.i32('shape', dims)], [out], { type: 'ReshapeOptions', newShape: dims });
    return out;
  }

  i32(hint: string, values: number[]): number {
    return this.constTensor(hint, { dtype: 'int32', shape: [values.length], data: Int32Array.from(values) });
  }

  setQuant(i: number, qp: QP, axis = qp.axis): void {
    const rank = this.tensors[i]!.shape.length;
    this.tensors[i]!.quantization = { scale: qp.scale, zeroPoint: qp.zeroPoint.map((z) => BigInt(z)), quantizedDimension: axis !== undefined ? (axis + rank) % rank : 0 };
  }

  emit(op: string, inputs: number[], outputs: number[], options?: TfliteOptions): void {
    let code = this.opcodeIndex.get(op);
    if (code === undefined) {
      code = this.opcodes.length;
      this.opcodes.push(makeOperatorCode(op));
      this.opcodeIndex.set(op, code);
    }
    this.operators.push({ opcodeIndex: code, inputs, outputs, ...(options ? { builtinOptions: options } : {}), customOptionsFormat: 0, debugMetadataIndex: -1 });
  }

  /**
   * Fold RESHAPE → RESHAPE (what 1-D ops in a row leave: back to 3-D, then to 4-D again): the
   * second reads the first's input, and disappears when it gives that input's own shape.
   * `keep`: tensors that must stay (the graph's outputs).
   */
  foldReshapes(keep: ReadonlySet<number>): void {
    const code = this.opcodeIndex.get('RESHAPE');
    if (code === undefined) return;
    const ops = this.operators;
    const sameDims = (a: number, b: number): boolean => JSON.stringify(this.dimsOf(a)) === JSON.stringify(this.dimsOf(b));
    for (let changed = true; changed; ) {
      changed = false;
      const producer = new Map<number, TfliteOperator>();
      const uses = new Map<number, number>();
      for (const o of ops) {
        for (const t of o.outputs) producer.set(t, o);
        for (const t of o.inputs) uses.set(t, (uses.get(t) ?? 0) + 1);
      }
      const second = ops.find((o) => {
        const first = producer.get(o.inputs[0]!);
        return o.opcodeIndex === code && first?.opcodeIndex === code && uses.get(o.inputs[0]!) === 1 && !keep.has(o.inputs[0]!);
      });
      if (!second) break;
      const first = producer.get(second.inputs[0]!)!;
      const src = first.inputs[0]!;
      ops.splice(ops.indexOf(first), 1);
      second.inputs = [src, ...second.inputs.slice(1)];
      const out = second.outputs[0]!;
      if (sameDims(src, out) && !keep.has(out)) {
        ops.splice(ops.indexOf(second), 1);
        for (const o of ops) o.inputs = o.inputs.map((t) => (t === out ? src : t));
      }
      changed = true;
    }
  }

  /** how many operators of builtin `op` were emitted */
  count(op: string): number {
    const code = this.opcodeIndex.get(op);
    return code === undefined ? 0 : this.operators.filter((o) => o.opcodeIndex === code).length;
  }

  model(inputs: TfliteTensorMap[], outputs: TfliteTensorMap[]): TfliteModel {
    return {
      version: 3,
      operatorCodes: this.opcodes,
      subgraphs: [{ tensors: this.tensors, inputs: inputs.map((m) => m.tensorIndex), outputs: outputs.map((m) => m.tensorIndex), operators: this.operators, name: 'main', debugMetadataIndex: -1 }],
      description: 'mlopt',
      buffers: this.buffers,
      signatureDefs: [{ inputs, outputs, signatureKey: 'serving_default', subgraphIndex: 0 }],
    };
  }
}
