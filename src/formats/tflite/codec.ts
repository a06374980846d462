/**
 * TFLite model flatbuffer codec: `.tflite` bytes ⇄ plain typed objects (no IR
 * mapping), driven by the schema data in ./schema.ts through ./flatbuf.ts.
 *
 * Object conventions (see the interfaces below):
 * - fields are the camelCase of the schema names; int64/uint64 are bigint;
 *   scalars are always present (absent on the wire = schema default, e.g.
 *   `OperatorCode.version` 1, `debugMetadataIndex` -1); optional vectors,
 *   strings and tables are `undefined` when absent, so presence round-trips.
 * - `Tensor.type` and `OperatorCode.builtinCode` stay numeric: use
 *   tensorTypeName / builtinOpName / opcodeOf / operatorName.
 * - Builtin options (`builtinOptions`, `builtinOptions2`, and the other unions:
 *   `QuantizationParameters.details`, `DimensionMetadata.arraySegments` ...)
 *   are `{ type: 'Conv2DOptions', padding: 'SAME', strideW: 1, strideH: 1,
 *   fusedActivationFunction: 'RELU', dilationWFactor: 1, ... }`: `type` is the
 *   member table's schema name, every field of the table is present, and
 *   enum-typed fields hold member names ('SAME', 'RELU6', 'INT8'...; a number
 *   when out of range). LSHProjectionOptions.type is `projectionType`.
 * - An options table of a type this schema does not know (a newer converter)
 *   decodes to `{ type: 'BuiltinOptions#140', $raw }` and is re-emitted byte
 *   for byte; fields a newer schema added to a known table are kept in
 *   `$extra` and re-emitted too (see ./flatbuf.ts). When such bytes look like
 *   they point outside what was kept, encodeTflite throws UNSUPPORTED naming
 *   the operator instead of writing a broken file.
 * - `Buffer.data` and `Operator.customOptions` are zero-copy views into the
 *   decoded bytes (keep them unmodified while the model is in use); data stored
 *   after the flatbuffer (Buffer.offset/size, the >2 GB layout; likewise
 *   large_custom_options_offset/size) is resolved into the same views on read.
 *
 * encodeTflite writes buffer data 16-byte aligned like the official converter,
 * with the TFL3 identifier; models whose data would not fit a 2 GB flatbuffer
 * (or `{ externalData: true }`) get the offset layout: data after the
 * flatbuffer, each buffer 16-byte aligned, referenced by Buffer.offset/size.
 */
import { constants as bufferConstants } from 'node:buffer';
import { ByteBuffer } from 'flatbuffers';
import { MloptError } from '../../util/errors.js';
import { FbDecodeError, FbEncodeError, FbReader, FbSchema, FbWriter, type FbRawSlot, type FbRawTable } from './flatbuf.js';
import { BUILTIN_OPERATORS, PLACEHOLDER_FOR_GREATER_OP_CODES, TENSOR_TYPES, TFLITE_SCHEMA } from './schema.js';

export type { FbRawSlot, FbRawTable } from './flatbuf.js';

/** Fields of a table that a newer schema added, kept verbatim (rare; see ./flatbuf.ts). */
export interface TfliteExtras {
  $extra?: FbRawSlot[];
}

export type TfliteValue =
  | boolean | number | bigint | string | Uint8Array
  | number[] | bigint[] | boolean[] | (number | string)[]
  | TfliteOptions | TfliteOptions[] | FbRawTable | FbRawSlot[] | undefined;

/**
 * A union member table: `type` is its schema name ('Conv2DOptions'), the other
 * properties its fields in camelCase. Unknown types carry `$raw`.
 */
export interface TfliteOptions {
  type: string;
  [field: string]: TfliteValue;
}

export interface TfliteOperatorCode extends TfliteExtras {
  /** int8: the code when < 127, else PLACEHOLDER_FOR_GREATER_OP_CODES (127) */
  deprecatedBuiltinCode: number;
  customCode?: string;
  /** default 1 */
  version: number;
  /** int32 BuiltinOperator; old files leave it 0 and use deprecatedBuiltinCode */
  builtinCode: number;
}

export interface TfliteQuantization extends TfliteExtras {
  min?: number[];
  max?: number[];
  scale?: number[];
  zeroPoint?: bigint[];
  /** `{ type: 'CustomQuantization', custom: Uint8Array }` or `{ type: 'BlockwiseQuantization', scales, zeroPoints, blockSize }` */
  details?: TfliteOptions;
  quantizedDimension: number;
}

export interface TfliteDimensionMetadata extends TfliteExtras {
  /** 'DENSE' | 'SPARSE_CSR' */
  format: string | number;
  denseSize: number;
  /** `{ type: 'Int32Vector' | 'Uint16Vector', values: number[] }` or `{ type: 'Uint8Vector', values: Uint8Array }` */
  arraySegments?: TfliteOptions;
  arrayIndices?: TfliteOptions;
}

export interface TfliteSparsity extends TfliteExtras {
  traversalOrder?: number[];
  blockMap?: number[];
  dimMetadata?: TfliteDimensionMetadata[];
}

export interface TfliteVariantSubType extends TfliteExtras {
  shape?: number[];
  type: number;
  hasRank: boolean;
}

export interface TfliteTensor extends TfliteExtras {
  shape: number[];
  /** TensorType code: tensorTypeName(type) */
  type: number;
  /** index into TfliteModel.buffers; 0 = no data */
  buffer: number;
  name: string;
  quantization?: TfliteQuantization;
  isVariable: boolean;
  sparsity?: TfliteSparsity;
  /** shape with -1 for unknown dims (absent: same as shape) */
  shapeSignature?: number[];
  hasRank: boolean;
  variantTensors?: TfliteVariantSubType[];
  /** index into TfliteModel.externalBuffers; 0 = none */
  externalBuffer: number;
}

export interface TfliteOperator extends TfliteExtras {
  opcodeIndex: number;
  /** tensor indices; -1 = omitted optional input */
  inputs: number[];
  outputs: number[];
  builtinOptions?: TfliteOptions;
  customOptions?: Uint8Array;
  /** 0 = FLEXBUFFERS */
  customOptionsFormat: number;
  mutatingVariableInputs?: boolean[];
  intermediates?: number[];
  builtinOptions2?: TfliteOptions;
  /** -1 = none */
  debugMetadataIndex: number;
}

export interface TfliteSubGraph extends TfliteExtras {
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  name?: string;
  debugMetadataIndex: number;
}

export interface TfliteBuffer extends TfliteExtras {
  /** empty for buffer 0 and tensors without constant data */
  data: Uint8Array;
}

export interface TfliteMetadata extends TfliteExtras {
  name?: string;
  buffer: number;
}

export interface TfliteTensorMap extends TfliteExtras {
  name?: string;
  tensorIndex: number;
}

export interface TfliteSignatureDef extends TfliteExtras {
  inputs: TfliteTensorMap[];
  outputs: TfliteTensorMap[];
  signatureKey?: string;
  subgraphIndex: number;
}

export interface TfliteExternalBufferGroup extends TfliteExtras {
  name?: string;
}

export interface TfliteExternalBuffer extends TfliteExtras {
  id: number;
  group: number;
  offset: bigint;
  length: bigint;
  packing?: string;
}

export interface TfliteModel extends TfliteExtras {
  /** schema version (3) */
  version: number;
  operatorCodes: TfliteOperatorCode[];
  /** subgraphs[0] is the main graph */
  subgraphs: TfliteSubGraph[];
  description?: string;
  /** buffers[0] is the empty sentinel */
  buffers: TfliteBuffer[];
  metadataBuffer?: number[];
  metadata?: TfliteMetadata[];
  signatureDefs?: TfliteSignatureDef[];
  externalBufferGroups?: TfliteExternalBufferGroup[];
  externalBuffers?: TfliteExternalBuffer[];
  /**
   * Bytes after everything the flatbuffer references (leading zero padding
   * dropped): e.g. the zip of associated files (labels...) that the TFLite
   * metadata writer appends. Re-encoded after the flatbuffer, 16-byte aligned;
   * zip readers find such an archive wherever it starts.
   */
  trailingData?: Uint8Array;
}

export interface EncodeTfliteOptions {
  /**
   * Store buffer data after the flatbuffer (Buffer.offset/size), as converters
   * do for models over 2 GB. Default: only when the data would not fit.
   */
  externalData?: boolean;
}

let compiled: FbSchema | undefined;
const schema = (): FbSchema => (compiled ??= new FbSchema(TFLITE_SCHEMA));

// ---------------------------------------------------------------- names

/** 'CONV_2D' for 3; 'BUILTIN_250' for a code this schema does not name. */
export function builtinOpName(code: number): string {
  return BUILTIN_OPERATORS[code] ?? `BUILTIN_${code}`;
}

let opCodes: Map<string, number> | undefined;
/** Inverse of builtinOpName; throws UNKNOWN_OP for other names. */
export function builtinOpCode(name: string): number {
  opCodes ??= new Map(BUILTIN_OPERATORS.map((n, i) => [n, i]));
  const c = opCodes.get(name);
  if (c !== undefined) return c;
  const m = /^BUILTIN_(\d+)$/.exec(name);
  if (m) return Number(m[1]);
  throw new MloptError('UNKNOWN_OP', `unknown TFLite builtin operator '${name}'`);
}

/** The operator's BuiltinOperator code, as the official readers compute it. */
export function opcodeOf(code: Pick<TfliteOperatorCode, 'deprecatedBuiltinCode' | 'builtinCode'>): number {
  return Math.max(code.deprecatedBuiltinCode, code.builtinCode);
}

/** The custom code for CUSTOM operators, else the builtin name. */
export function operatorName(code: TfliteOperatorCode): string {
  const op = opcodeOf(code);
  return op === 32 && code.customCode !== undefined ? code.customCode : builtinOpName(op);
}

/** An OperatorCode with both code fields set the way current converters write them. */
export function makeOperatorCode(op: number | string, version = 1, customCode?: string): TfliteOperatorCode {
  const code = typeof op === 'number' ? op : builtinOpCode(op);
  const oc: TfliteOperatorCode = { deprecatedBuiltinCode: Math.min(code, PLACEHOLDER_FOR_GREATER_OP_CODES), version, builtinCode: code };
  if (customCode !== undefined) oc.customCode = customCode;
  return oc;
}

/** 'FLOAT32' for 0 ... ; 'TYPE_42' for a code this schema does not name. */
export function tensorTypeName(code: number): string {
  return TENSOR_TYPES[code] ?? `TYPE_${code}`;
}

/** Inverse of tensorTypeName; throws USAGE for other names. */
export function tensorTypeCode(name: string): number {
  const i = (TENSOR_TYPES as readonly string[]).indexOf(name);
  if (i >= 0) return i;
  const m = /^TYPE_(\d+)$/.exec(name);
  if (m) return Number(m[1]);
  throw new MloptError('USAGE', `unknown TFLite tensor type '${name}'`);
}

// ---------------------------------------------------------------- decode

const IDENT = 'TFL3';

/**
 * Decodes a .tflite file. Throws MloptError CORRUPT_MODEL ('<source>: ...') for
 * truncated or malformed bytes, a wrong file identifier, or indices out of range.
 */
export function decodeTflite(bytes: Uint8Array, source = '<tflite>'): TfliteModel {
  const corrupt = (msg: string): MloptError => new MloptError('CORRUPT_MODEL', `${source}: ${msg}`);
  if (bytes.length < 8) throw corrupt(`truncated TFLite file (${bytes.length} bytes)`);
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (ident !== IDENT) throw corrupt(`not a TFLite flatbuffer: file identifier is ${JSON.stringify(ident)}, expected "${IDENT}"`);
  const r = new FbReader(schema(), bytes);
  let model: TfliteModel;
  try {
    model = r.root() as unknown as TfliteModel;
    const ext = resolveExternal(model, bytes, corrupt);
    r.finishRaw(ext.starts);
    let end = Math.max(r.end, ext.end);
    while (end < bytes.length && bytes[end] === 0) end++;
    if (end < bytes.length) model.trailingData = bytes.subarray(end);
  } catch (err) {
    if (err instanceof FbDecodeError) throw corrupt(`truncated or corrupt TFLite flatbuffer: ${err.message}`);
    throw err;
  }
  checkIndices(model, corrupt);
  return model;
}

/** Turns Buffer.offset/size and Operator.largeCustomOptions* into views; returns where external data starts and ends. */
function resolveExternal(model: TfliteModel, bytes: Uint8Array, corrupt: (m: string) => MloptError): { starts: number[]; end: number } {
  const starts: number[] = [];
  let end = 0;
  const view = (off: bigint | undefined, size: bigint | undefined, what: string): Uint8Array | undefined => {
    if (off === undefined || off <= 1n) return undefined;
    const n = size ?? 0n;
    if (off + n > BigInt(bytes.length)) throw corrupt(`truncated TFLite file: ${what} lies at bytes ${off}..${off + n}, beyond its ${bytes.length} bytes`);
    starts.push(Number(off));
    end = Math.max(end, Number(off + n));
    return bytes.subarray(Number(off), Number(off + n));
  };
  model.buffers.forEach((b, i) => {
    const raw = b as TfliteBuffer & { offset?: bigint; size?: bigint };
    if (raw.offset === undefined && raw.size === undefined) return;
    const data = view(raw.offset, raw.size, `buffer ${i} data`);
    if (data) b.data = data;
    delete raw.offset;
    delete raw.size;
  });
  for (const [s, sg] of model.subgraphs.entries()) {
    for (const [i, op] of sg.operators.entries()) {
      const raw = op as TfliteOperator & { largeCustomOptionsOffset?: bigint; largeCustomOptionsSize?: bigint };
      if (raw.largeCustomOptionsOffset === undefined && raw.largeCustomOptionsSize === undefined) continue;
      const data = view(raw.largeCustomOptionsOffset, raw.largeCustomOptionsSize, `custom options of subgraph ${s} operator ${i}`);
      if (data) op.customOptions = data;
      delete raw.largeCustomOptionsOffset;
      delete raw.largeCustomOptionsSize;
    }
  }
  return { starts, end };
}

function checkIndices(m: TfliteModel, corrupt: (msg: string) => MloptError): void {
  const nb = m.buffers.length, nc = m.operatorCodes.length, ns = m.subgraphs.length;
  for (const [s, sg] of m.subgraphs.entries()) {
    const nt = sg.tensors.length;
    const tensorRef = (i: number, what: string, optional: boolean): void => {
      if (!(i < nt && (i >= 0 || (optional && i === -1)))) throw corrupt(`subgraph ${s}: ${what} refers to tensor ${i}, but there are ${nt}`);
    };
    for (const [i, t] of sg.tensors.entries()) {
      if (t.buffer >= nb) throw corrupt(`subgraph ${s} tensor ${i} ('${t.name}') refers to buffer ${t.buffer}, but there are ${nb}`);
    }
    for (const i of sg.inputs) tensorRef(i, 'an input', false);
    for (const i of sg.outputs) tensorRef(i, 'an output', false);
    for (const [k, op] of sg.operators.entries()) {
      if (op.opcodeIndex >= nc) throw corrupt(`subgraph ${s} operator ${k} refers to operator code ${op.opcodeIndex}, but there are ${nc}`);
      for (const i of op.inputs) tensorRef(i, `operator ${k} input`, true);
      for (const i of op.outputs) tensorRef(i, `operator ${k} output`, true);
      if (op.intermediates) for (const i of op.intermediates) tensorRef(i, `operator ${k} intermediate`, true);
    }
  }
  for (const sd of m.signatureDefs ?? []) {
    const sg = m.subgraphs[sd.subgraphIndex];
    if (!sg) throw corrupt(`signature '${sd.signatureKey ?? ''}' refers to subgraph ${sd.subgraphIndex}, but there are ${ns}`);
    for (const tm of [...sd.inputs, ...sd.outputs]) {
      if (tm.tensorIndex >= sg.tensors.length) throw corrupt(`signature '${sd.signatureKey ?? ''}' maps '${tm.name ?? ''}' to tensor ${tm.tensorIndex} of subgraph ${sd.subgraphIndex}, which has ${sg.tensors.length}`);
    }
  }
  for (const md of m.metadata ?? []) {
    if (md.buffer >= nb) throw corrupt(`metadata '${md.name ?? ''}' refers to buffer ${md.buffer}, but there are ${nb}`);
  }
}

// ---------------------------------------------------------------- encode

/** Above this much buffer data the flatbuffer would approach its 2 GB limit: data goes after it. */
const INLINE_DATA_LIMIT = 0x7fffffff - 256 * 1024 * 1024;

/** Encodes a model as a .tflite file (identifier TFL3, buffer data 16-byte aligned). */
export function encodeTflite(model: TfliteModel, options: EncodeTfliteOptions = {}): Uint8Array {
  checkRawOptions(model);
  let dataBytes = 0;
  for (const b of model.buffers ?? []) dataBytes += (b.data?.length ?? 0) + 16;
  const external = options.externalData ?? dataBytes > INLINE_DATA_LIMIT;
  try {
    const out = external ? encodeExternal(model) : encodeInline(model, dataBytes);
    const tail = model.trailingData;
    if (!tail?.length) return out;
    const at = (out.length + 15) & ~15;
    const file = new Uint8Array(at + tail.length);
    file.set(out, 0);
    file.set(tail, at);
    return file;
  } catch (err) {
    if (err instanceof FbEncodeError) {
      throw new MloptError(err.unsupported ? 'UNSUPPORTED' : 'INVALID_GRAPH', `cannot encode TFLite model: ${err.message}`);
    }
    if (err instanceof Error && /cannot grow buffer beyond 2 gigabytes/.test(err.message)) {
      throw new MloptError('UNSUPPORTED', 'cannot encode TFLite model: its flatbuffer would exceed 2 GB', 'pass { externalData: true } to store buffer data after it');
    }
    throw err;
  }
}

function estimate(model: TfliteModel): number {
  let n = 64 * 1024;
  for (const sg of model.subgraphs ?? []) n += (sg.tensors?.length ?? 0) * 160 + (sg.operators?.length ?? 0) * 128;
  return n;
}

function encodeInline(model: TfliteModel, dataBytes: number): Uint8Array {
  const w = new FbWriter(schema(), estimate(model) + dataBytes);
  const s = schema();
  const out = w.finish(w.table(s.root, model as unknown as Record<string, unknown>, 'Model'), IDENT);
  // The builder's backing store is usually a bit larger than the file: trim it when that is worth a copy.
  return out.buffer.byteLength - out.byteLength > 1 << 20 ? out.slice() : out;
}

function encodeExternal(model: TfliteModel): Uint8Array {
  const datas = model.buffers.map((b) => b.data ?? new Uint8Array(0));
  // Placeholder offsets (non-zero so the fields are written), patched once the flatbuffer size is known.
  const stub = {
    ...model,
    buffers: model.buffers.map((b, i) => {
      const n = datas[i]!.length;
      const { data: _data, ...rest } = b;
      return n === 0 ? { ...rest, data: new Uint8Array(0) } : { ...rest, data: new Uint8Array(0), offset: 2n, size: BigInt(n) };
    }),
  };
  const w = new FbWriter(schema(), estimate(model) + model.buffers.length * 32);
  const fb = w.finish(w.table(schema().root, stub as unknown as Record<string, unknown>, 'Model'), IDENT);
  const align = (x: number): number => (x + 15) & ~15;
  let total = align(fb.length);
  const offsets = datas.map((d) => {
    if (d.length === 0) return 0;
    const at = total;
    total = align(at + d.length);
    return at;
  });
  if (total > bufferConstants.MAX_LENGTH) {
    throw new FbEncodeError(`the model is ${total} bytes, more than one Uint8Array can hold here (${bufferConstants.MAX_LENGTH})`, true);
  }
  const out = new Uint8Array(total);
  out.set(fb, 0);
  datas.forEach((d, i) => { if (d.length) out.set(d, offsets[i]!); });
  // Patch Buffer.offset in place: Model.buffers[i] → its vtable → the offset slot.
  const bb = new ByteBuffer(out);
  const s = schema();
  const buffersSlot = s.root.fields.find((f) => f.prop === 'buffers')!.id;
  const offsetSlot = s.table('Buffer').fields.find((f) => f.prop === 'offset')!.id;
  const field = (table: number, slot: number): number => {
    const vt = table - bb.readInt32(table);
    return slot * 2 + 4 < bb.readUint16(vt) ? bb.readUint16(vt + 4 + slot * 2) : 0;
  };
  const root = bb.readUint32(0);
  const vecAt = root + field(root, buffersSlot);
  const vec = vecAt + bb.readUint32(vecAt);
  for (let i = 0; i < datas.length; i++) {
    if (!offsets[i]) continue;
    const el = vec + 4 + 4 * i;
    const table = el + bb.readUint32(el);
    bb.writeUint64(table + field(table, offsetSlot), BigInt(offsets[i]!));
  }
  return out;
}

/** Unknown options tables that cannot be re-emitted: fail naming the operator, not a schema path. */
function checkRawOptions(model: TfliteModel): void {
  for (const [s, sg] of (model.subgraphs ?? []).entries()) {
    for (const [i, op] of (sg.operators ?? []).entries()) {
      for (const opts of [op.builtinOptions, op.builtinOptions2]) {
        const raw = opts?.$raw as FbRawTable | undefined;
        if (!raw?.unsafe) continue;
        const code = model.operatorCodes[op.opcodeIndex];
        const name = code ? operatorName(code) : `opcode ${op.opcodeIndex}`;
        throw new MloptError('UNSUPPORTED',
          `cannot re-encode subgraph ${s} operator ${i} (${name}): its options type ${opts!.type} is unknown to mlopt's TFLite schema and ${raw.unsafe}`,
          'the file was written by a newer converter; re-convert it or update mlopt');
      }
    }
  }
}

// ---------------------------------------------------------------- helpers

/**
 * A copy of `model` with a static batch size: every tensor (all subgraphs)
 * whose shape_signature has -1 in dim 0 gets `batch` there, in `shapeSignature`
 * and in `shape`. Other -1 dims stay dynamic. The result shares buffers (and
 * everything else not changed) with `model`.
 *
 * Converters write `shape` with 1 where the signature has -1; the interpreter
 * recomputes intermediate shapes when it prepares the graph, so fixing every
 * such tensor, not just the inputs, keeps the file consistent for runtimes that
 * refuse dynamic shapes (LiteRT.js). A dim-0 -1 that is not a batch (e.g. the
 * data-dependent length of a Where/NMS output) is fixed too: runtimes resize
 * those at run time anyway.
 */
export function withStaticBatch(model: TfliteModel, batch: number): TfliteModel {
  if (!Number.isInteger(batch) || batch < 1 || batch > 0x7fffffff) {
    throw new MloptError('USAGE', `batch size must be a positive integer, got ${batch}`);
  }
  return {
    ...model,
    subgraphs: model.subgraphs.map((sg) => ({
      ...sg,
      tensors: sg.tensors.map((t) => {
        const sig = t.shapeSignature;
        if (!sig || sig.length === 0 || sig[0] !== -1) return t;
        const shape = t.shape.length === sig.length
          ? [batch, ...t.shape.slice(1)]
          : sig.map((d, i) => (i === 0 ? batch : d < 0 ? 1 : d));
        return { ...t, shape, shapeSignature: [batch, ...sig.slice(1)] };
      }),
    })),
  };
}
