/**
 * TensorProto ⇄ IR Tensor. Data stays a view over the file's bytes where the layout allows
 * (raw_data, aligned); typed repeated fields are converted with one pass over a typed array.
 */
import { type DType, type NumericArray, bytesOf, dtypeInfo, storageLength, viewBytes } from '../../ir/dtype.js';
import { type Tensor, elementCount, isNumericData } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import type { TensorProto } from './proto/index.js';
import { dtypeFromOnnx, onnxDTypeCode as dtypeToOnnx } from '../../ir/ops/dtype-codes.js';

const EXTERNAL = 1;

export function tensorFromOnnx(t: TensorProto, where: string): Tensor {
  const name = t.name ?? '';
  const code = t.dataType ?? 0;
  const dtype = dtypeFromOnnx(code);
  if (!dtype) {
    throw new MloptError('UNSUPPORTED', `tensor "${name}" (${where}) has unknown ONNX data type ${code}`);
  }
  if (t.dataLocation === EXTERNAL || (t.externalData && t.externalData.length > 0)) {
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    throw new MloptError(
      'UNSUPPORTED',
      `tensor "${name}" (${where}) stores its data in an external file${loc ? ` ("${loc}")` : ''}; mlopt does not read ONNX external data yet`,
      'save the model with all tensors inside the .onnx file (onnx.save_model(..., save_as_external_data=False))',
    );
  }
  if (t.segment) throw new MloptError('UNSUPPORTED', `tensor "${name}" (${where}) is segmented; segmented tensors are not supported`);
  const shape = (t.dims ?? []).map(Number);
  const count = elementCount(shape);
  if (dtype === 'string') {
    const data = t.stringData ?? [];
    if (data.length !== count) throw corrupt(name, where, `${data.length} strings for shape [${shape}]`);
    return { dtype, shape, data };
  }
  const info = dtypeInfo(dtype);
  const len = storageLength(dtype, count);
  if (t.rawData !== undefined) {
    if (t.rawData.byteLength < (info.bits * count) / 8) {
      throw corrupt(name, where, `raw_data has ${t.rawData.byteLength} bytes, shape [${shape}] of ${dtype} needs more`);
    }
    return { dtype, shape, data: viewBytes(dtype, t.rawData, count) };
  }
  const typed = typedField(t, dtype);
  if (!typed) {
    if (count === 0) return { dtype, shape, data: new info.array!(0) };
    throw corrupt(name, where, `no data for shape [${shape}] of ${dtype}`);
  }
  if (typed.length !== len) throw corrupt(name, where, `${typed.length} values for shape [${shape}] of ${dtype}`);
  if (typed instanceof info.array!) return { dtype, shape, data: typed };
  // int32_data carries int8/uint8/int16/uint16/bool/float16/bfloat16/float8/int4 values; narrow it.
  const out = new info.array!(len) as NumericArray;
  (out as Uint8Array).set(typed as Int32Array);
  return { dtype, shape, data: out };
}

function typedField(t: TensorProto, dtype: DType): NumericArray | undefined {
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return t.floatData;
    case 'float64':
    case 'complex128':
      return t.doubleData;
    case 'int64':
      return t.int64Data;
    case 'uint32':
    case 'uint64': {
      const u = t.uint64Data;
      if (!u || dtype === 'uint64') return u;
      return Uint32Array.from(u, (v) => Number(v));
    }
    default:
      return t.int32Data;
  }
}

function corrupt(name: string, where: string, what: string): MloptError {
  return new MloptError('CORRUPT_MODEL', `tensor "${name}" (${where}) is inconsistent: ${what}`);
}

/** IR tensor → TensorProto, numeric data as raw_data (a view; the encoder copies it once). */
export function tensorToOnnx(t: Tensor, name: string | undefined): TensorProto {
  const proto: TensorProto = { dims: t.shape.slice(), dataType: dtypeToOnnx(t.dtype) };
  if (name !== undefined) proto.name = name;
  if (isNumericData(t.data)) proto.rawData = bytesOf(t.data);
  else proto.stringData = t.data;
  return proto;
}
