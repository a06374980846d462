import type { DType } from '../../ir/dtype.js';

/** ONNX TensorProto.DataType codes ⇄ IR dtypes (codes are from the ONNX spec). */
const CODE_TO_DTYPE: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128',
  16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
  21: 'uint4', 22: 'int4', 23: 'float4e2m1', 24: 'float8e8m0', 25: 'uint2', 26: 'int2',
};

const DTYPE_TO_CODE = Object.fromEntries(Object.entries(CODE_TO_DTYPE).map(([k, v]) => [v, Number(k)])) as Record<DType, number>;

export function dtypeFromOnnx(code: number): DType | undefined {
  return CODE_TO_DTYPE[code];
}

export function dtypeToOnnx(dtype: DType): number {
  return DTYPE_TO_CODE[dtype];
}
