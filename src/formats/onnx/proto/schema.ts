/**
 * The ONNX protobuf schema (onnx.proto, proto2, IR version 13/14 era, onnx
 * 1.17–1.20) plus the onnx-data.proto value messages used by test data
 * (SequenceProto, MapProto, OptionalProto), written as declarative data for
 * the wire codec in ./wire.ts. Field numbers and types follow the public spec.
 *
 * Repeated scalars are unpacked on output unless marked packed (proto2
 * default); the decoder accepts either. `typed` packed fields decode to typed
 * arrays (see wire.ts). Nested messages use dotted names ('TypeProto.Tensor').
 */
import type { FieldSpec, ScalarKind, SchemaSpec } from './wire.js';

type Kind = ScalarKind;
/** optional scalar */
const opt = (no: number, name: string, kind: Kind): FieldSpec => ({ no, name, kind });
/** optional message */
const msg = (no: number, name: string, type: string): FieldSpec => ({ no, name, kind: 'message', type });
/** repeated scalar, unpacked on the wire (proto2 default) */
const rep = (no: number, name: string, kind: Kind): FieldSpec => ({ no, name, kind, repeated: true });
/** repeated message */
const reps = (no: number, name: string, type: string): FieldSpec => ({ no, name, kind: 'message', type, repeated: true });
/** repeated scalar `[packed = true]`, decoded to a typed array */
const packed = (no: number, name: string, kind: Kind): FieldSpec => ({ no, name, kind, repeated: true, packed: true, typed: true });

const META = (no: number): FieldSpec => reps(no, 'metadata_props', 'StringStringEntryProto');

export const ONNX_SCHEMA: SchemaSpec = {
  ModelProto: [
    opt(1, 'ir_version', 'int64'),
    opt(2, 'producer_name', 'string'),
    opt(3, 'producer_version', 'string'),
    opt(4, 'domain', 'string'),
    opt(5, 'model_version', 'int64'),
    opt(6, 'doc_string', 'string'),
    msg(7, 'graph', 'GraphProto'),
    reps(8, 'opset_import', 'OperatorSetIdProto'),
    META(14),
    reps(20, 'training_info', 'TrainingInfoProto'),
    reps(25, 'functions', 'FunctionProto'),
    reps(26, 'configuration', 'DeviceConfigurationProto'),
  ],
  GraphProto: [
    reps(1, 'node', 'NodeProto'),
    opt(2, 'name', 'string'),
    reps(5, 'initializer', 'TensorProto'),
    opt(10, 'doc_string', 'string'),
    reps(11, 'input', 'ValueInfoProto'),
    reps(12, 'output', 'ValueInfoProto'),
    reps(13, 'value_info', 'ValueInfoProto'),
    reps(14, 'quantization_annotation', 'TensorAnnotation'),
    reps(15, 'sparse_initializer', 'SparseTensorProto'),
    META(16),
  ],
  NodeProto: [
    rep(1, 'input', 'string'),
    rep(2, 'output', 'string'),
    opt(3, 'name', 'string'),
    opt(4, 'op_type', 'string'),
    reps(5, 'attribute', 'AttributeProto'),
    opt(6, 'doc_string', 'string'),
    opt(7, 'domain', 'string'),
    opt(8, 'overload', 'string'),
    META(9),
    reps(10, 'device_configurations', 'NodeDeviceConfigurationProto'),
  ],
  AttributeProto: [
    opt(1, 'name', 'string'),
    opt(2, 'f', 'float'),
    opt(3, 'i', 'int64'),
    opt(4, 's', 'bytes'),
    msg(5, 't', 'TensorProto'),
    msg(6, 'g', 'GraphProto'),
    rep(7, 'floats', 'float'),
    rep(8, 'ints', 'int64'),
    rep(9, 'strings', 'bytes'),
    reps(10, 'tensors', 'TensorProto'),
    reps(11, 'graphs', 'GraphProto'),
    opt(13, 'doc_string', 'string'),
    msg(14, 'tp', 'TypeProto'),
    reps(15, 'type_protos', 'TypeProto'),
    opt(20, 'type', 'enum'),
    opt(21, 'ref_attr_name', 'string'),
    msg(22, 'sparse_tensor', 'SparseTensorProto'),
    reps(23, 'sparse_tensors', 'SparseTensorProto'),
  ],
  ValueInfoProto: [
    opt(1, 'name', 'string'),
    msg(2, 'type', 'TypeProto'),
    opt(3, 'doc_string', 'string'),
    META(4),
  ],
  TensorProto: [
    rep(1, 'dims', 'int64'),
    opt(2, 'data_type', 'int32'),
    msg(3, 'segment', 'TensorProto.Segment'),
    packed(4, 'float_data', 'float'),
    packed(5, 'int32_data', 'int32'),
    rep(6, 'string_data', 'bytes'),
    packed(7, 'int64_data', 'int64'),
    opt(8, 'name', 'string'),
    opt(9, 'raw_data', 'bytes'),
    packed(10, 'double_data', 'double'),
    packed(11, 'uint64_data', 'uint64'),
    opt(12, 'doc_string', 'string'),
    reps(13, 'external_data', 'StringStringEntryProto'),
    opt(14, 'data_location', 'enum'),
    META(16),
  ],
  'TensorProto.Segment': [opt(1, 'begin', 'int64'), opt(2, 'end', 'int64')],
  SparseTensorProto: [
    msg(1, 'values', 'TensorProto'),
    msg(2, 'indices', 'TensorProto'),
    rep(3, 'dims', 'int64'),
  ],
  TensorShapeProto: [reps(1, 'dim', 'TensorShapeProto.Dimension')],
  'TensorShapeProto.Dimension': [
    opt(1, 'dim_value', 'int64'),
    opt(2, 'dim_param', 'string'),
    opt(3, 'denotation', 'string'),
  ],
  TypeProto: [
    msg(1, 'tensor_type', 'TypeProto.Tensor'),
    msg(4, 'sequence_type', 'TypeProto.Sequence'),
    msg(5, 'map_type', 'TypeProto.Map'),
    opt(6, 'denotation', 'string'),
    msg(7, 'opaque_type', 'TypeProto.Opaque'),
    msg(8, 'sparse_tensor_type', 'TypeProto.SparseTensor'),
    msg(9, 'optional_type', 'TypeProto.Optional'),
  ],
  'TypeProto.Tensor': [opt(1, 'elem_type', 'int32'), msg(2, 'shape', 'TensorShapeProto')],
  'TypeProto.Sequence': [msg(1, 'elem_type', 'TypeProto')],
  'TypeProto.Map': [opt(1, 'key_type', 'int32'), msg(2, 'value_type', 'TypeProto')],
  'TypeProto.Optional': [msg(1, 'elem_type', 'TypeProto')],
  'TypeProto.SparseTensor': [opt(1, 'elem_type', 'int32'), msg(2, 'shape', 'TensorShapeProto')],
  'TypeProto.Opaque': [opt(1, 'domain', 'string'), opt(2, 'name', 'string')],
  OperatorSetIdProto: [opt(1, 'domain', 'string'), opt(2, 'version', 'int64')],
  StringStringEntryProto: [opt(1, 'key', 'string'), opt(2, 'value', 'string')],
  TensorAnnotation: [
    opt(1, 'tensor_name', 'string'),
    reps(2, 'quant_parameter_tensor_names', 'StringStringEntryProto'),
  ],
  TrainingInfoProto: [
    msg(1, 'initialization', 'GraphProto'),
    msg(2, 'algorithm', 'GraphProto'),
    reps(3, 'initialization_binding', 'StringStringEntryProto'),
    reps(4, 'update_binding', 'StringStringEntryProto'),
  ],
  FunctionProto: [
    opt(1, 'name', 'string'),
    rep(4, 'input', 'string'),
    rep(5, 'output', 'string'),
    rep(6, 'attribute', 'string'),
    reps(7, 'node', 'NodeProto'),
    opt(8, 'doc_string', 'string'),
    reps(9, 'opset_import', 'OperatorSetIdProto'),
    opt(10, 'domain', 'string'),
    reps(11, 'attribute_proto', 'AttributeProto'),
    reps(12, 'value_info', 'ValueInfoProto'),
    opt(13, 'overload', 'string'),
    META(14),
  ],
  DeviceConfigurationProto: [
    opt(1, 'name', 'string'),
    opt(2, 'num_devices', 'int32'),
    rep(3, 'device', 'string'),
  ],
  NodeDeviceConfigurationProto: [
    opt(1, 'configuration_id', 'string'),
    reps(2, 'sharding_spec', 'ShardingSpecProto'),
    opt(3, 'pipeline_stage', 'int32'),
  ],
  ShardingSpecProto: [
    opt(1, 'tensor_name', 'string'),
    rep(2, 'device', 'int64'),
    reps(3, 'index_to_device_group_map', 'IntIntListEntryProto'),
    reps(4, 'sharded_dim', 'ShardedDimProto'),
  ],
  ShardedDimProto: [opt(1, 'axis', 'int64'), reps(2, 'simple_sharding', 'SimpleShardedDimProto')],
  SimpleShardedDimProto: [
    opt(1, 'dim_value', 'int64'),
    opt(2, 'dim_param', 'string'),
    opt(3, 'num_shards', 'int64'),
  ],
  IntIntListEntryProto: [opt(1, 'key', 'int64'), rep(2, 'value', 'int64')],
  // onnx-data.proto: values stored in test_data_set_*/input_*.pb beside tensors.
  SequenceProto: [
    opt(1, 'name', 'string'),
    opt(2, 'elem_type', 'int32'),
    reps(3, 'tensor_values', 'TensorProto'),
    reps(4, 'sparse_tensor_values', 'SparseTensorProto'),
    reps(5, 'sequence_values', 'SequenceProto'),
    reps(6, 'map_values', 'MapProto'),
    reps(7, 'optional_values', 'OptionalProto'),
  ],
  MapProto: [
    opt(1, 'name', 'string'),
    opt(2, 'key_type', 'int32'),
    rep(3, 'keys', 'int64'),
    rep(4, 'string_keys', 'bytes'),
    msg(5, 'values', 'SequenceProto'),
  ],
  OptionalProto: [
    opt(1, 'name', 'string'),
    opt(2, 'elem_type', 'int32'),
    msg(3, 'tensor_value', 'TensorProto'),
    msg(4, 'sparse_tensor_value', 'SparseTensorProto'),
    msg(5, 'sequence_value', 'SequenceProto'),
    msg(6, 'map_value', 'MapProto'),
    msg(7, 'optional_value', 'OptionalProto'),
  ],
};
