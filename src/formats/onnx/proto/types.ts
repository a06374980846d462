/**
 * TypeScript shapes of the decoded ONNX protobuf messages (see ./schema.ts).
 *
 * Conventions: property = camelCase of the proto field name. A field present
 * in the bytes is set; an absent one is `undefined` (defaults are never
 * filled, so explicit zeros round-trip). Absent repeated fields are also
 * `undefined`; the encoder writes nothing for `undefined` or `[]`.
 * int64 scalars and int64 lists are JS numbers (exact to 2^53; INT64_MAX
 * decodes to 2^63 and re-encodes to INT64_MAX). `bytes` fields are zero-copy
 * views of the decoded buffer. Fields not in the schema are kept verbatim in
 * `$unknown` (tag included) and written back after the known fields.
 */

export interface ProtoMessage {
  /** Raw encoded fields (tag + payload) this schema does not know; re-emitted on encode. */
  $unknown?: Uint8Array[];
}

export interface ModelProto extends ProtoMessage {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  trainingInfo?: TrainingInfoProto[];
  functions?: FunctionProto[];
  configuration?: DeviceConfigurationProto[];
}

export interface GraphProto extends ProtoMessage {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: SparseTensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  quantizationAnnotation?: TensorAnnotation[];
  metadataProps?: StringStringEntryProto[];
}

export interface NodeProto extends ProtoMessage {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  docString?: string;
  metadataProps?: StringStringEntryProto[];
  deviceConfigurations?: NodeDeviceConfigurationProto[];
}

export interface AttributeProto extends ProtoMessage {
  name?: string;
  refAttrName?: string;
  docString?: string;
  /** AttributeType enum (see `AttributeType`). */
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparseTensors?: SparseTensorProto[];
  typeProtos?: TypeProto[];
}

export interface TensorProtoSegment extends ProtoMessage {
  begin?: number;
  end?: number;
}

export interface TensorProto extends ProtoMessage {
  dims?: number[];
  /** DataType enum (see `DataType`). */
  dataType?: number;
  segment?: TensorProtoSegment;
  floatData?: Float32Array;
  int32Data?: Int32Array;
  stringData?: Uint8Array[];
  int64Data?: BigInt64Array;
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  /** DataLocation enum: 0 DEFAULT, 1 EXTERNAL. */
  dataLocation?: number;
  doubleData?: Float64Array;
  uint64Data?: BigUint64Array;
  metadataProps?: StringStringEntryProto[];
}

export interface SparseTensorProto extends ProtoMessage {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: number[];
}

export interface ValueInfoProto extends ProtoMessage {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps?: StringStringEntryProto[];
}

export interface TensorShapeProtoDimension extends ProtoMessage {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}
export type Dimension = TensorShapeProtoDimension;

export interface TensorShapeProto extends ProtoMessage {
  dim?: TensorShapeProtoDimension[];
}

export interface TypeProtoTensor extends ProtoMessage { elemType?: number; shape?: TensorShapeProto }
export interface TypeProtoSequence extends ProtoMessage { elemType?: TypeProto }
export interface TypeProtoMap extends ProtoMessage { keyType?: number; valueType?: TypeProto }
export interface TypeProtoOptional extends ProtoMessage { elemType?: TypeProto }
export interface TypeProtoSparseTensor extends ProtoMessage { elemType?: number; shape?: TensorShapeProto }
export interface TypeProtoOpaque extends ProtoMessage { domain?: string; name?: string }

export interface TypeProto extends ProtoMessage {
  tensorType?: TypeProtoTensor;
  sequenceType?: TypeProtoSequence;
  mapType?: TypeProtoMap;
  optionalType?: TypeProtoOptional;
  sparseTensorType?: TypeProtoSparseTensor;
  opaqueType?: TypeProtoOpaque;
  denotation?: string;
}

export interface OperatorSetIdProto extends ProtoMessage { domain?: string; version?: number }
export interface StringStringEntryProto extends ProtoMessage { key?: string; value?: string }

export interface TensorAnnotation extends ProtoMessage {
  tensorName?: string;
  quantParameterTensorNames?: StringStringEntryProto[];
}

export interface TrainingInfoProto extends ProtoMessage {
  initialization?: GraphProto;
  algorithm?: GraphProto;
  initializationBinding?: StringStringEntryProto[];
  updateBinding?: StringStringEntryProto[];
}

export interface FunctionProto extends ProtoMessage {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attributeProto?: AttributeProto[];
  node?: NodeProto[];
  docString?: string;
  opsetImport?: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
  valueInfo?: ValueInfoProto[];
  metadataProps?: StringStringEntryProto[];
}

export interface DeviceConfigurationProto extends ProtoMessage {
  name?: string;
  numDevices?: number;
  device?: string[];
}

export interface NodeDeviceConfigurationProto extends ProtoMessage {
  configurationId?: string;
  shardingSpec?: ShardingSpecProto[];
  pipelineStage?: number;
}

export interface ShardingSpecProto extends ProtoMessage {
  tensorName?: string;
  device?: number[];
  indexToDeviceGroupMap?: IntIntListEntryProto[];
  shardedDim?: ShardedDimProto[];
}

export interface ShardedDimProto extends ProtoMessage {
  axis?: number;
  simpleSharding?: SimpleShardedDimProto[];
}

export interface SimpleShardedDimProto extends ProtoMessage {
  dimValue?: number;
  dimParam?: string;
  numShards?: number;
}

export interface IntIntListEntryProto extends ProtoMessage { key?: number; value?: number[] }

/** onnx-data.proto (test_data_set values that are not plain tensors). */
export interface SequenceProto extends ProtoMessage {
  name?: string;
  elemType?: number;
  tensorValues?: TensorProto[];
  sparseTensorValues?: SparseTensorProto[];
  sequenceValues?: SequenceProto[];
  mapValues?: MapProto[];
  optionalValues?: OptionalProto[];
}

export interface MapProto extends ProtoMessage {
  name?: string;
  keyType?: number;
  keys?: number[];
  stringKeys?: Uint8Array[];
  values?: SequenceProto;
}

export interface OptionalProto extends ProtoMessage {
  name?: string;
  elemType?: number;
  tensorValue?: TensorProto;
  sparseTensorValue?: SparseTensorProto;
  sequenceValue?: SequenceProto;
  mapValue?: MapProto;
  optionalValue?: OptionalProto;
}

/** Message type name (as used by decodeMessage / encodeMessage) → its TypeScript shape. */
export interface OnnxMessageTypes {
  ModelProto: ModelProto;
  GraphProto: GraphProto;
  NodeProto: NodeProto;
  AttributeProto: AttributeProto;
  ValueInfoProto: ValueInfoProto;
  TensorProto: TensorProto;
  'TensorProto.Segment': TensorProtoSegment;
  SparseTensorProto: SparseTensorProto;
  TensorShapeProto: TensorShapeProto;
  'TensorShapeProto.Dimension': TensorShapeProtoDimension;
  TypeProto: TypeProto;
  'TypeProto.Tensor': TypeProtoTensor;
  'TypeProto.Sequence': TypeProtoSequence;
  'TypeProto.Map': TypeProtoMap;
  'TypeProto.Optional': TypeProtoOptional;
  'TypeProto.SparseTensor': TypeProtoSparseTensor;
  'TypeProto.Opaque': TypeProtoOpaque;
  OperatorSetIdProto: OperatorSetIdProto;
  StringStringEntryProto: StringStringEntryProto;
  TensorAnnotation: TensorAnnotation;
  TrainingInfoProto: TrainingInfoProto;
  FunctionProto: FunctionProto;
  DeviceConfigurationProto: DeviceConfigurationProto;
  NodeDeviceConfigurationProto: NodeDeviceConfigurationProto;
  ShardingSpecProto: ShardingSpecProto;
  ShardedDimProto: ShardedDimProto;
  SimpleShardedDimProto: SimpleShardedDimProto;
  IntIntListEntryProto: IntIntListEntryProto;
  SequenceProto: SequenceProto;
  MapProto: MapProto;
  OptionalProto: OptionalProto;
}
export type OnnxMessageName = keyof OnnxMessageTypes;

/** TensorProto.DataType */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15,
  BFLOAT16: 16, FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20,
  UINT4: 21, INT4: 22, FLOAT4E2M1: 23, FLOAT8E8M0: 24, UINT2: 25, INT2: 26,
} as const;

/** AttributeProto.AttributeType */
export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;
