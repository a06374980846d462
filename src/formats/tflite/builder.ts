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
