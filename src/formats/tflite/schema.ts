/**
 * The TFLite model flatbuffer schema (tflite/schema.fbs, schema version 3 with
 * the 3a–3d extensions: extended builtin codes, buffer offsets for >2 GB
 * models, BuiltinOptions2, debug metadata indices, external buffers), written
 * as declarative data for the generic flatbuffer codec in ./flatbuf.ts.
 *
 * Layout facts that matter on the wire, all taken from the public schema:
 * - a table's fields get vtable slots in declaration order; a union takes two
 *   slots (its `_type` byte, then the offset to the member table); deprecated
 *   fields keep their slot (declared here with `gone`).
 * - union member codes are 1-based in declaration order (0 = NONE).
 * - enum values are 0-based and contiguous for every enum used here.
 *
 * Property names are the camelCase of the schema names (`stride_w` → `strideW`)
 * unless `prop` says otherwise (LSHProjectionOptions.type → `projectionType`,
 * since `type` names the member table of a decoded union).
 */

export type FbScalar = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

/**
 * How an absent vector or string decodes, and when one is written:
 * - 'optional': absent ⇄ undefined (presence is kept exactly);
 * - 'always': absent decodes to []/'' and the field is always written;
 * - 'nonEmpty': absent decodes to [] (or an empty Uint8Array) and only a non-empty value is written.
 */
export type FbPresence = 'optional' | 'always' | 'nonEmpty';

export interface FbField {
  /** snake_case schema name */
  readonly name: string;
  /** property name (default: camelCase of `name`) */
  readonly prop?: string;
  /**
   * scalar: one inline scalar; string; vector: vector of scalars (number[] / bigint[] / boolean[]);
   * bytes: [ubyte] decoded as a zero-copy Uint8Array view; table; tables: vector of tables;
   * union: a `_type` slot plus a value slot; gone: a deprecated slot (never read or written).
   */
  readonly kind: 'scalar' | 'string' | 'vector' | 'bytes' | 'table' | 'tables' | 'union' | 'gone';
  readonly scalar?: FbScalar;
  /** scalar default (flatbuffers omits a scalar equal to it, and an absent one reads as it) */
  readonly def?: number | boolean | bigint;
  /** enum name: in decoded objects the value is the enum's member name (a number when unknown) */
  readonly enum?: string;
  readonly table?: string;
  readonly union?: string;
  /** force_align of a vector's element data */
  readonly align?: number;
  readonly presence?: FbPresence;
  /** scalar kept out of decoded objects unless present with a non-default value */
  readonly sparse?: boolean;
}

export interface FbSchemaSpec {
  readonly tables: Readonly<Record<string, readonly FbField[]>>;
  /** union name → member table names, in code order starting at 1 */
  readonly unions: Readonly<Record<string, readonly string[]>>;
  /** enum name → member names, index = value */
  readonly enums: Readonly<Record<string, readonly string[]>>;
  readonly root: string;
  readonly fileIdentifier: string;
}

// ------------------------------------------------------------------ enums

export const TENSOR_TYPES = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8',
  'FLOAT64', 'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4', 'BFLOAT16', 'INT2',
] as const;

/** BuiltinOperator, index = code (0..209). */
export const BUILTIN_OPERATORS = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU',
  'RELU_N1_TO_1', 'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH',
  'CONCAT_EMBEDDINGS', 'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD',
  'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER', 'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN',
  'SUB', 'DIV', 'SQUEEZE', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN',
  'EXP', 'TOPK_V2', 'SPLIT', 'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU',
  'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS', 'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL',
  'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV', 'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL',
  'NOT_EQUAL', 'LOG', 'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW', 'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD',
  'REDUCE_MAX', 'PACK', 'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND', 'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN',
  'FLOOR_DIV', 'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD', 'RANGE', 'RESIZE_NEAREST_NEIGHBOR',
  'LEAKY_RELU', 'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE', 'CEIL', 'REVERSE_V2',
  'ADD_N', 'GATHER_ND', 'COS', 'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE',
  'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF', 'WHILE', 'NON_MAX_SUPPRESSION_V4',
  'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL',
  'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM', 'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D', 'CONV_3D', 'IMAG',
  'REAL', 'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND', 'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL',
  'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE', 'ASSIGN_VARIABLE', 'BROADCAST_ARGS',
  'RANDOM_STANDARD_NORMAL', 'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU', 'DYNAMIC_UPDATE_SLICE',
  'RELU_0_TO_1', 'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM', 'ATAN2',
  'UNSORTED_SEGMENT_MIN', 'SIGN', 'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT', 'STABLEHLO_LOGISTIC',
  'STABLEHLO_ADD', 'STABLEHLO_DIVIDE', 'STABLEHLO_MULTIPLY', 'STABLEHLO_MAXIMUM', 'STABLEHLO_RESHAPE',
  'STABLEHLO_CLAMP', 'STABLEHLO_CONCATENATE', 'STABLEHLO_BROADCAST_IN_DIM', 'STABLEHLO_CONVOLUTION',
  'STABLEHLO_SLICE', 'STABLEHLO_CUSTOM_CALL', 'STABLEHLO_REDUCE', 'STABLEHLO_ABS', 'STABLEHLO_AND',
  'STABLEHLO_COSINE', 'STABLEHLO_EXPONENTIAL', 'STABLEHLO_FLOOR', 'STABLEHLO_LOG', 'STABLEHLO_MINIMUM',
  'STABLEHLO_NEGATE', 'STABLEHLO_OR', 'STABLEHLO_POWER', 'STABLEHLO_REMAINDER', 'STABLEHLO_RSQRT',
  'STABLEHLO_SELECT', 'STABLEHLO_SUBTRACT', 'STABLEHLO_TANH', 'STABLEHLO_SCATTER', 'STABLEHLO_COMPARE',
  'STABLEHLO_CONVERT', 'STABLEHLO_DYNAMIC_SLICE', 'STABLEHLO_DYNAMIC_UPDATE_SLICE', 'STABLEHLO_PAD',
  'STABLEHLO_IOTA', 'STABLEHLO_DOT_GENERAL', 'STABLEHLO_REDUCE_WINDOW', 'STABLEHLO_SORT', 'STABLEHLO_WHILE',
  'STABLEHLO_GATHER', 'STABLEHLO_TRANSPOSE', 'DILATE', 'STABLEHLO_RNG_BIT_GENERATOR', 'REDUCE_WINDOW',
  'STABLEHLO_COMPOSITE', 'STABLEHLO_SHIFT_LEFT', 'STABLEHLO_CBRT', 'STABLEHLO_CASE',
] as const;

/** OperatorCode.deprecated_builtin_code holds this when the real code (builtin_code) is above it. */
export const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

export const ACTIVATION_FUNCTION_TYPES = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'] as const;
export const PADDINGS = ['SAME', 'VALID'] as const;

const ENUMS: Record<string, readonly string[]> = {
  TensorType: TENSOR_TYPES,
  BuiltinOperator: BUILTIN_OPERATORS,
  ActivationFunctionType: ACTIVATION_FUNCTION_TYPES,
  Padding: PADDINGS,
  LSHProjectionType: ['UNKNOWN', 'SPARSE', 'DENSE'],
  FullyConnectedOptionsWeightsFormat: ['DEFAULT', 'SHUFFLED4x16INT8'],
  LSTMKernelType: ['FULL', 'BASIC'],
  CombinerType: ['SUM', 'MEAN', 'SQRTN'],
  MirrorPadMode: ['REFLECT', 'SYMMETRIC'],
  DimensionType: ['DENSE', 'SPARSE_CSR'],
  CustomOptionsFormat: ['FLEXBUFFERS'],
  StablehloPrecisionConfig: ['DEFAULT', 'HIGH', 'HIGHEST'],
  StablehloComparisonDirection: ['EQ', 'NE', 'GE', 'GT', 'LE', 'LT'].map((d) => `STABLEHLO_COMPARISON_DIRECTION_${d}`),
  StablehloComparisonType: ['NOTYPE', 'FLOAT', 'FLOAT_TOTAL_ORDER', 'SIGNED', 'UNSIGNED'].map((d) => `STABLEHLO_COMPARISON_TYPE_${d}`),
  RngAlgorithm: ['DEFAULT', 'PHILOX', 'THREEFRY'],
  ReduceWindowFunction: ['UNSUPPORTED', 'ADD', 'MUL', 'MINIMUM', 'MAXIMUM', 'ALL', 'ANY'],
};

// ------------------------------------------------------------- field helpers

const zero = (scalar: FbScalar): number | boolean | bigint =>
  scalar === 'bool' ? false : scalar === 'int64' || scalar === 'uint64' ? 0n : 0;
const sc = (name: string, scalar: FbScalar, def: number | boolean | bigint = zero(scalar)): FbField =>
  ({ name, kind: 'scalar', scalar, def });
const i32 = (name: string, def = 0): FbField => sc(name, 'int32', def);
const u32 = (name: string, def = 0): FbField => sc(name, 'uint32', def);
const i64 = (name: string): FbField => sc(name, 'int64', 0n);
const f32 = (name: string, def = 0): FbField => sc(name, 'float32', def);
const bool = (name: string, def = false): FbField => sc(name, 'bool', def);
/** enum-typed scalar: a byte unless `scalar` says otherwise */
const en = (name: string, enumName: string, def = 0, scalar: FbScalar = 'int8'): FbField =>
  ({ name, kind: 'scalar', scalar, def, enum: enumName });
const str = (name: string, presence: FbPresence = 'optional'): FbField => ({ name, kind: 'string', presence });
const vec = (name: string, scalar: FbScalar, presence: FbPresence = 'optional', align?: number, enumName?: string): FbField =>
  ({ name, kind: 'vector', scalar, presence, align, enum: enumName });
const bytes = (name: string, align?: number, presence: FbPresence = 'optional'): FbField =>
  ({ name, kind: 'bytes', scalar: 'uint8', align, presence });
const tab = (name: string, table: string): FbField => ({ name, kind: 'table', table });
const tabs = (name: string, table: string, presence: FbPresence = 'optional'): FbField => ({ name, kind: 'tables', table, presence });
const uni = (name: string, union: string): FbField => ({ name, kind: 'union', union });
const gone = (name: string): FbField => ({ name, kind: 'gone' });

const ACT = en('fused_activation_function', 'ActivationFunctionType');
const PAD = en('padding', 'Padding');
const TT = (name: string, def = 0): FbField => en(name, 'TensorType', def);
const ASYM = bool('asymmetric_quantize_inputs');
const L = (name: string): FbField => vec(name, 'int64');

// ----------------------------------------------------------- option tables

/** Member tables of BuiltinOptions, in code order (code = index + 1). */
const BUILTIN_OPTIONS: readonly string[] = [
  'Conv2DOptions', 'DepthwiseConv2DOptions', 'ConcatEmbeddingsOptions', 'LSHProjectionOptions', 'Pool2DOptions',
  'SVDFOptions', 'RNNOptions', 'FullyConnectedOptions', 'SoftmaxOptions', 'ConcatenationOptions', 'AddOptions',
  'L2NormOptions', 'LocalResponseNormalizationOptions', 'LSTMOptions', 'ResizeBilinearOptions', 'CallOptions',
  'ReshapeOptions', 'SkipGramOptions', 'SpaceToDepthOptions', 'EmbeddingLookupSparseOptions', 'MulOptions',
  'PadOptions', 'GatherOptions', 'BatchToSpaceNDOptions', 'SpaceToBatchNDOptions', 'TransposeOptions',
  'ReducerOptions', 'SubOptions', 'DivOptions', 'SqueezeOptions', 'SequenceRNNOptions', 'StridedSliceOptions',
  'ExpOptions', 'TopKV2Options', 'SplitOptions', 'LogSoftmaxOptions', 'CastOptions', 'DequantizeOptions',
  'MaximumMinimumOptions', 'ArgMaxOptions', 'LessOptions', 'NegOptions', 'PadV2Options', 'GreaterOptions',
  'GreaterEqualOptions', 'LessEqualOptions', 'SelectOptions', 'SliceOptions', 'TransposeConvOptions',
  'SparseToDenseOptions', 'TileOptions', 'ExpandDimsOptions', 'EqualOptions', 'NotEqualOptions', 'ShapeOptions',
  'PowOptions', 'ArgMinOptions', 'FakeQuantOptions', 'PackOptions', 'LogicalOrOptions', 'OneHotOptions',
  'LogicalAndOptions', 'LogicalNotOptions', 'UnpackOptions', 'FloorDivOptions', 'SquareOptions',
  'ZerosLikeOptions', 'FillOptions', 'BidirectionalSequenceLSTMOptions', 'BidirectionalSequenceRNNOptions',
  'UnidirectionalSequenceLSTMOptions', 'FloorModOptions', 'RangeOptions', 'ResizeNearestNeighborOptions',
  'LeakyReluOptions', 'SquaredDifferenceOptions', 'MirrorPadOptions', 'AbsOptions', 'SplitVOptions',
  'UniqueOptions', 'ReverseV2Options', 'AddNOptions', 'GatherNdOptions', 'CosOptions', 'WhereOptions',
  'RankOptions', 'ReverseSequenceOptions', 'MatrixDiagOptions', 'QuantizeOptions', 'MatrixSetDiagOptions',
  'HardSwishOptions', 'IfOptions', 'WhileOptions', 'DepthToSpaceOptions', 'NonMaxSuppressionV4Options',
  'NonMaxSuppressionV5Options', 'ScatterNdOptions', 'SelectV2Options', 'DensifyOptions', 'SegmentSumOptions',
  'BatchMatMulOptions', 'CumsumOptions', 'CallOnceOptions', 'BroadcastToOptions', 'Rfft2dOptions',
  'Conv3DOptions', 'HashtableOptions', 'HashtableFindOptions', 'HashtableImportOptions', 'HashtableSizeOptions',
  'VarHandleOptions', 'ReadVariableOptions', 'AssignVariableOptions', 'RandomOptions', 'BucketizeOptions',
  'GeluOptions', 'DynamicUpdateSliceOptions', 'UnsortedSegmentProdOptions', 'UnsortedSegmentMaxOptions',
  'UnsortedSegmentMinOptions', 'UnsortedSegmentSumOptions', 'ATan2Options', 'SignOptions', 'BitcastOptions',
  'BitwiseXorOptions', 'RightShiftOptions',
];

/** Member tables of BuiltinOptions2 (Operator.builtin_options_2), in code order. */
const BUILTIN_OPTIONS_2: readonly string[] = [
  'StablehloConcatenateOptions', 'StablehloBroadcastInDimOptions', 'StablehloSliceOptions',
  'StablehloConvolutionOptions', 'StablehloCustomCallOptions', 'StablehloReduceOptions', 'StablehloScatterOptions',
  'StablehloCompareOptions', 'StablehloDynamicSliceOptions', 'StablehloPadOptions', 'StablehloIotaOptions',
  'StablehloDotGeneralOptions', 'StablehloReduceWindowOptions', 'StablehloSortOptions', 'StablehloWhileOptions',
  'StablehloGatherOptions', 'StablehloTransposeOptions', 'DilateOptions', 'StablehloRngBitGeneratorOptions',
  'ReduceWindowOptions', 'StableHLOCompositeOptions', 'StablehloShiftLeftOptions', 'StablehloCaseOptions',
];

/** Option tables that have no fields. */
const EMPTY_OPTIONS = [
  'PadOptions', 'PadV2Options', 'SpaceToBatchNDOptions', 'BatchToSpaceNDOptions', 'TopKV2Options',
  'TransposeOptions', 'ExpOptions', 'CosOptions', 'LogSoftmaxOptions', 'DequantizeOptions',
  'MaximumMinimumOptions', 'TileOptions', 'GreaterOptions', 'GreaterEqualOptions', 'LessOptions',
  'LessEqualOptions', 'NegOptions', 'SelectOptions', 'SliceOptions', 'ExpandDimsOptions', 'EqualOptions',
  'NotEqualOptions', 'RankOptions', 'PowOptions', 'LogicalOrOptions', 'AbsOptions', 'HardSwishOptions',
  'LogicalAndOptions', 'LogicalNotOptions', 'FloorDivOptions', 'SquareOptions', 'ZerosLikeOptions',
  'FillOptions', 'FloorModOptions', 'RangeOptions', 'SquaredDifferenceOptions', 'ReverseV2Options',
  'AddNOptions', 'GatherNdOptions', 'WhereOptions', 'MatrixDiagOptions', 'QuantizeOptions',
  'MatrixSetDiagOptions', 'NonMaxSuppressionV4Options', 'NonMaxSuppressionV5Options', 'ScatterNdOptions',
  'SelectV2Options', 'DensifyOptions', 'SegmentSumOptions', 'BroadcastToOptions', 'Rfft2dOptions',
  'HashtableFindOptions', 'HashtableImportOptions', 'HashtableSizeOptions', 'ReadVariableOptions',
  'AssignVariableOptions', 'DynamicUpdateSliceOptions', 'UnsortedSegmentProdOptions',
  'UnsortedSegmentMaxOptions', 'UnsortedSegmentMinOptions', 'UnsortedSegmentSumOptions', 'ATan2Options',
  'SignOptions', 'BitcastOptions', 'BitwiseXorOptions', 'RightShiftOptions', 'DilateOptions',
  'StablehloShiftLeftOptions',
];

const OPTION_TABLES: Record<string, readonly FbField[]> = {
  Conv2DOptions: [PAD, i32('stride_w'), i32('stride_h'), ACT, i32('dilation_w_factor', 1), i32('dilation_h_factor', 1), TT('quantized_bias_type')],
  Conv3DOptions: [PAD, i32('stride_d'), i32('stride_w'), i32('stride_h'), ACT, i32('dilation_d_factor', 1), i32('dilation_w_factor', 1), i32('dilation_h_factor', 1)],
  Pool2DOptions: [PAD, i32('stride_w'), i32('stride_h'), i32('filter_width'), i32('filter_height'), ACT],
  DepthwiseConv2DOptions: [PAD, i32('stride_w'), i32('stride_h'), i32('depth_multiplier'), ACT, i32('dilation_w_factor', 1), i32('dilation_h_factor', 1)],
  ConcatEmbeddingsOptions: [i32('num_channels'), vec('num_columns_per_channel', 'int32'), vec('embedding_dim_per_channel', 'int32')],
  LSHProjectionOptions: [{ ...en('type', 'LSHProjectionType'), prop: 'projectionType' }],
  SVDFOptions: [i32('rank'), ACT, ASYM],
  RNNOptions: [ACT, ASYM],
  SequenceRNNOptions: [bool('time_major'), ACT, ASYM],
  BidirectionalSequenceRNNOptions: [bool('time_major'), ACT, bool('merge_outputs'), ASYM],
  FullyConnectedOptions: [ACT, en('weights_format', 'FullyConnectedOptionsWeightsFormat'), bool('keep_num_dims'), ASYM, TT('quantized_bias_type')],
  SoftmaxOptions: [f32('beta')],
  ConcatenationOptions: [i32('axis'), ACT],
  AddOptions: [ACT, bool('pot_scale_int16', true)],
  MulOptions: [ACT],
  L2NormOptions: [ACT],
  LocalResponseNormalizationOptions: [i32('radius'), f32('bias'), f32('alpha'), f32('beta')],
  LSTMOptions: [ACT, f32('cell_clip'), f32('proj_clip'), en('kernel_type', 'LSTMKernelType'), ASYM],
  UnidirectionalSequenceLSTMOptions: [ACT, f32('cell_clip'), f32('proj_clip'), bool('time_major'), ASYM, bool('diagonal_recurrent_tensors')],
  BidirectionalSequenceLSTMOptions: [ACT, f32('cell_clip'), f32('proj_clip'), bool('merge_outputs'), bool('time_major', true), ASYM],
  ResizeBilinearOptions: [gone('new_height'), gone('new_width'), bool('align_corners'), bool('half_pixel_centers')],
  ResizeNearestNeighborOptions: [bool('align_corners'), bool('half_pixel_centers')],
  CallOptions: [u32('subgraph')],
  ReshapeOptions: [vec('new_shape', 'int32')],
  SkipGramOptions: [i32('ngram_size'), i32('max_skip_size'), bool('include_all_ngrams')],
  SpaceToDepthOptions: [i32('block_size')],
  DepthToSpaceOptions: [i32('block_size')],
  SubOptions: [ACT, bool('pot_scale_int16', true)],
  DivOptions: [ACT],
  EmbeddingLookupSparseOptions: [en('combiner', 'CombinerType')],
  GatherOptions: [i32('axis'), i32('batch_dims')],
  ReducerOptions: [bool('keep_dims')],
  SqueezeOptions: [vec('squeeze_dims', 'int32')],
  SplitOptions: [i32('num_splits')],
  SplitVOptions: [i32('num_splits')],
  StridedSliceOptions: [i32('begin_mask'), i32('end_mask'), i32('ellipsis_mask'), i32('new_axis_mask'), i32('shrink_axis_mask'), bool('offset')],
  CastOptions: [TT('in_data_type'), TT('out_data_type')],
  ArgMaxOptions: [TT('output_type')],
  ArgMinOptions: [TT('output_type')],
  TransposeConvOptions: [PAD, i32('stride_w'), i32('stride_h'), ACT, TT('quantized_bias_type')],
  SparseToDenseOptions: [bool('validate_indices')],
  ShapeOptions: [TT('out_type')],
  FakeQuantOptions: [f32('min'), f32('max'), i32('num_bits'), bool('narrow_range')],
  PackOptions: [i32('values_count'), i32('axis')],
  OneHotOptions: [i32('axis')],
  UnpackOptions: [i32('num'), i32('axis')],
  LeakyReluOptions: [f32('alpha')],
  MirrorPadOptions: [en('mode', 'MirrorPadMode')],
  UniqueOptions: [TT('idx_out_type', 2)],
  ReverseSequenceOptions: [i32('seq_dim'), i32('batch_dim')],
  IfOptions: [i32('then_subgraph_index'), i32('else_subgraph_index')],
  CallOnceOptions: [i32('init_subgraph_index')],
  WhileOptions: [i32('cond_subgraph_index'), i32('body_subgraph_index')],
  BatchMatMulOptions: [bool('adj_x'), bool('adj_y'), ASYM],
  CumsumOptions: [bool('exclusive'), bool('reverse')],
  HashtableOptions: [i32('table_id'), TT('key_dtype'), TT('value_dtype')],
  VarHandleOptions: [str('container'), str('shared_name')],
  RandomOptions: [i64('seed'), i64('seed2')],
  BucketizeOptions: [vec('boundaries', 'float32')],
  GeluOptions: [bool('approximate')],
  ReduceWindowOptions: [en('reduce_function', 'ReduceWindowFunction', 0, 'int32')],
  // BuiltinOptions2 (StableHLO)
  StablehloConcatenateOptions: [i64('dimension')],
  StablehloBroadcastInDimOptions: [L('broadcast_dimensions')],
  StablehloSliceOptions: [L('start_indices'), L('limit_indices'), L('strides')],
  StablehloConvolutionOptions: [
    L('window_strides'), L('padding'), L('lhs_dilation'), L('rhs_dilation'), vec('window_reversal', 'bool'),
    i64('input_batch_dimension'), i64('input_feature_dimension'), L('input_spatial_dimensions'),
    i64('kernel_input_feature_dimension'), i64('kernel_output_feature_dimension'), L('kernel_spatial_dimensions'),
    i64('output_batch_dimension'), i64('output_feature_dimension'), L('output_spatial_dimensions'),
    i64('feature_group_count'), i64('batch_group_count'),
    vec('precision_config', 'uint32', 'optional', undefined, 'StablehloPrecisionConfig'),
  ],
  StablehloCustomCallOptions: [str('call_target_name'), bool('has_side_effect'), str('backend_config'), i32('api_version'), vec('called_computations', 'int32'), bytes('custom_attributes')],
  StablehloReduceOptions: [L('dimensions'), i32('body_subgraph_index')],
  StablehloScatterOptions: [bool('indices_are_sorted'), L('update_window_dims'), L('inserted_window_dims'), L('scatter_dims_to_operand_dims'), i64('index_vector_dim'), bool('unique_indices'), i32('update_computation_subgraph_index')],
  StablehloCompareOptions: [en('comparison_direction', 'StablehloComparisonDirection', 0, 'uint32'), en('compare_type', 'StablehloComparisonType', 0, 'uint32')],
  StablehloDynamicSliceOptions: [L('slice_sizes')],
  StablehloPadOptions: [L('edge_padding_low'), L('edge_padding_high'), L('interior_padding')],
  StablehloIotaOptions: [i64('iota_dimension')],
  StablehloDotGeneralOptions: [
    L('lhs_batching_dimensions'), L('rhs_batching_dimensions'), L('lhs_contracting_dimensions'), L('rhs_contracting_dimensions'),
    vec('precision_config', 'uint32', 'optional', undefined, 'StablehloPrecisionConfig'),
  ],
  StablehloReduceWindowOptions: [L('window_dimensions'), L('window_strides'), L('base_dilations'), L('window_dilations'), L('padding'), i32('body_subgraph_index')],
  StablehloSortOptions: [i64('dimension'), bool('is_stable'), i32('comparator_subgraph_index')],
  StablehloWhileOptions: [i32('cond_subgraph_index'), i32('body_subgraph_index')],
  StablehloGatherOptions: [L('offset_dims'), L('collapsed_slice_dims'), L('start_index_map'), i64('index_vector_dim'), L('slice_sizes'), bool('indices_are_sorted')],
  StablehloTransposeOptions: [L('permutation')],
  StablehloRngBitGeneratorOptions: [en('algorithm', 'RngAlgorithm')],
  StableHLOCompositeOptions: [str('name'), i32('decomposition_subgraph_index'), bytes('composite_attributes'), en('composite_attributes_format', 'CustomOptionsFormat'), i32('version')],
  StablehloCaseOptions: [vec('branch_subgraph_indices', 'int32')],
};
for (const name of EMPTY_OPTIONS) OPTION_TABLES[name] = [];

// ------------------------------------------------------------ model tables

const MODEL_TABLES: Record<string, readonly FbField[]> = {
  Model: [
    u32('version'),
    tabs('operator_codes', 'OperatorCode', 'always'),
    tabs('subgraphs', 'SubGraph', 'always'),
    str('description'),
    tabs('buffers', 'Buffer', 'always'),
    vec('metadata_buffer', 'int32'),
    tabs('metadata', 'Metadata'),
    tabs('signature_defs', 'SignatureDef'),
    tabs('external_buffer_groups', 'ExternalBufferGroup'),
    tabs('external_buffers', 'ExternalBuffer'),
  ],
  OperatorCode: [sc('deprecated_builtin_code', 'int8'), str('custom_code'), i32('version', 1), sc('builtin_code', 'int32')],
  SubGraph: [
    tabs('tensors', 'Tensor', 'always'),
    vec('inputs', 'int32', 'always'),
    vec('outputs', 'int32', 'always'),
    tabs('operators', 'Operator', 'always'),
    str('name'),
    i32('debug_metadata_index', -1),
  ],
  Tensor: [
    vec('shape', 'int32', 'always'),
    sc('type', 'int8'),
    u32('buffer'),
    str('name', 'always'),
    tab('quantization', 'QuantizationParameters'),
    bool('is_variable'),
    tab('sparsity', 'SparsityParameters'),
    vec('shape_signature', 'int32'),
    bool('has_rank'),
    tabs('variant_tensors', 'VariantSubType'),
    u32('external_buffer'),
  ],
  VariantSubType: [vec('shape', 'int32'), sc('type', 'int8'), bool('has_rank')],
  QuantizationParameters: [
    vec('min', 'float32'),
    vec('max', 'float32'),
    vec('scale', 'float32'),
    vec('zero_point', 'int64'),
    uni('details', 'QuantizationDetails'),
    i32('quantized_dimension'),
  ],
  CustomQuantization: [bytes('custom', 16)],
  BlockwiseQuantization: [i32('scales'), i32('zero_points'), i32('block_size')],
  SparsityParameters: [vec('traversal_order', 'int32'), vec('block_map', 'int32'), tabs('dim_metadata', 'DimensionMetadata')],
  DimensionMetadata: [en('format', 'DimensionType'), i32('dense_size'), uni('array_segments', 'SparseIndexVector'), uni('array_indices', 'SparseIndexVector')],
  Int32Vector: [vec('values', 'int32')],
  Uint16Vector: [vec('values', 'uint16', 'optional', 4)],
  Uint8Vector: [bytes('values', 4)],
  Operator: [
    u32('opcode_index'),
    vec('inputs', 'int32', 'always'),
    vec('outputs', 'int32', 'always'),
    uni('builtin_options', 'BuiltinOptions'),
    bytes('custom_options'),
    sc('custom_options_format', 'int8'),
    vec('mutating_variable_inputs', 'bool'),
    vec('intermediates', 'int32'),
    { ...sc('large_custom_options_offset', 'uint64', 0n), sparse: true },
    { ...sc('large_custom_options_size', 'uint64', 0n), sparse: true },
    uni('builtin_options_2', 'BuiltinOptions2'),
    i32('debug_metadata_index', -1),
  ],
  Buffer: [
    bytes('data', 16, 'nonEmpty'),
    { ...sc('offset', 'uint64', 0n), sparse: true },
    { ...sc('size', 'uint64', 0n), sparse: true },
  ],
  ExternalBufferGroup: [str('name')],
  ExternalBuffer: [u32('id'), u32('group'), sc('offset', 'uint64', 0n), sc('length', 'uint64', 0n), str('packing')],
  Metadata: [str('name'), u32('buffer')],
  TensorMap: [str('name'), u32('tensor_index')],
  SignatureDef: [tabs('inputs', 'TensorMap', 'always'), tabs('outputs', 'TensorMap', 'always'), str('signature_key'), gone('deprecated_tag'), u32('subgraph_index')],
};

export const TFLITE_SCHEMA: FbSchemaSpec = {
  tables: { ...MODEL_TABLES, ...OPTION_TABLES },
  unions: {
    BuiltinOptions: BUILTIN_OPTIONS,
    BuiltinOptions2: BUILTIN_OPTIONS_2,
    QuantizationDetails: ['CustomQuantization', 'BlockwiseQuantization'],
    SparseIndexVector: ['Int32Vector', 'Uint16Vector', 'Uint8Vector'],
  },
  enums: ENUMS,
  root: 'Model',
  fileIdentifier: 'TFL3',
};
