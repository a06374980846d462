/**
 * ONNX TensorProto.DataType codes. Catalogue ops keep ONNX attributes as they are, so `Cast.to`,
 * `QuantizeLinear.output_dtype`, `EyeLike.dtype`... hold these integer codes; shape rules (and
 * any codec) translate them with the functions below.
 */
import type { DType } from '../dtype.js';

const CODES: readonly (DType | undefined)[] = [
  undefined, // 0 UNDEFINED
  'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16',
  'float64', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz',
  'uint4', 'int4', 'float4e2m1', 'float8e8m0', 'uint2', 'int2',
];

/** The IR dtype of an ONNX data type code; undefined for 0 (UNDEFINED) or an unknown code. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return CODES[code];
}

/** The ONNX data type code of an IR dtype. */
export function onnxDTypeCode(dtype: DType): number {
  return CODES.indexOf(dtype);
}

const NAMES = [
  'UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16',
  'DOUBLE', 'UINT32', 'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16',
];

/** The IR dtype of an ONNX data type name ('FLOAT', 'INT64'...), as opset-1 Cast spells `to`. */
export function dtypeFromOnnxName(name: string): DType | undefined {
  const i = NAMES.indexOf(name.toUpperCase());
  return i > 0 ? CODES[i] : undefined;
}
