/**
 * ONNX protobuf codec: bytes ⇄ typed message objects (no IR mapping).
 *
 * decodeModel / decodeTensor / decodeMessage throw `OnnxProtoError` (an Error
 * whose message starts with "malformed ONNX protobuf") for bytes that are not
 * a well-formed message: truncated, garbage, or nested absurdly deep. Decoding
 * never allocates more than a small multiple of the input size. Decoded
 * `bytes` fields and aligned packed float/double arrays are views over the
 * input's ArrayBuffer (zero copy): keep the input alive and unmodified while
 * using the result. See ./types.ts for the object conventions.
 */
import { ONNX_SCHEMA } from './schema.js';
import type { ModelProto, OnnxMessageName, OnnxMessageTypes, TensorProto } from './types.js';
import { ProtoDecodeError, Schema, decode, encode, type ProtoObject } from './wire.js';

export * from './types.js';
export { ONNX_SCHEMA } from './schema.js';
export type { FieldSpec, ScalarKind, SchemaSpec } from './wire.js';

/** A decode failure: the bytes are not a well-formed ONNX protobuf message. */
export class OnnxProtoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OnnxProtoError';
  }
}

let compiled: Schema | undefined;
function schema(): Schema {
  return (compiled ??= new Schema(ONNX_SCHEMA));
}

/** Decodes `bytes` as the ONNX message `typeName` (e.g. 'ModelProto', 'TypeProto.Tensor'). */
export function decodeMessage<K extends OnnxMessageName>(typeName: K, bytes: Uint8Array): OnnxMessageTypes[K] {
  const s = schema();
  try {
    return decode(s, typeName, bytes) as OnnxMessageTypes[K];
  } catch (err) {
    if (err instanceof ProtoDecodeError) {
      throw new OnnxProtoError(`malformed ONNX protobuf (${typeName}): ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Encodes `obj` as the ONNX message `typeName`; fields are written in field-number order. */
export function encodeMessage<K extends OnnxMessageName>(typeName: K, obj: OnnxMessageTypes[K]): Uint8Array {
  return encode(schema(), typeName, obj as unknown as ProtoObject);
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return decodeMessage('ModelProto', bytes);
}

export function encodeModel(m: ModelProto): Uint8Array {
  return encodeMessage('ModelProto', m);
}

export function decodeTensor(bytes: Uint8Array): TensorProto {
  return decodeMessage('TensorProto', bytes);
}

export function encodeTensor(t: TensorProto): Uint8Array {
  return encodeMessage('TensorProto', t);
}
