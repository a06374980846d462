/**
 * The TF.js weights codec: model.json's `weightsManifest` and its binary shards.
 *
 * Reading: every group's shards are concatenated, then its weights are decoded one after the
 * other from that buffer, exactly as tfjs-core's `io.decodeWeights` does (float32 / int32 /
 * bool / string / complex64, and quantized entries: uint8 / uint16 affine `q * scale + min`,
 * rounded for int32; float16 as IEEE half).
 *
 * Writing: weights are concatenated in order (optionally quantized the way tensorflowjs_converter
 * quantizes: only float32 weights, names matched by fnmatch-style wildcards, uint8 / uint16 over
 * a [min, max] range nudged so that 0 is exactly representable, float16 round-to-nearest-even)
 * and split into shards named `group1-shard{i}of{n}.bin`. Integer weights are stored as int32 (int64
 * included, as tensorflowjs_converter does). A weight that is already quantized (the int8 weights
 * of a QDQ graph, re-expressed as uint8 codes with a min and a scale) is written as it is.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DType } from '../../ir/dtype.js';
import { bytesOf, viewBytes } from '../../ir/dtype.js';
import type { Tensor } from '../../ir/tensor.js';
import { elementCount, float16ToNumber, toNumbers } from '../../ir/tensor.js';
import { toFloat16Bits } from '../../data/npy.js';
import { MloptError } from '../../util/errors.js';

export type TfjsDType = 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
export type TfjsQuantDType = 'uint8' | 'uint16' | 'float16';

export interface TfjsWeightEntry {
  name: string;
  shape: number[];
  dtype: TfjsDType;
  quantization?: { dtype: TfjsQuantDType; min?: number; scale?: number; original_dtype?: string };
  /** 'model' | 'optimizer' (tfjs-layers training state); kept as read. */
  group?: string;
}
export interface TfjsWeightsManifestGroup {
  paths: string[];
  weights: TfjsWeightEntry[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Read every shard of model.json's weightsManifest (paths relative to modelDir); decode exactly as tfjs does. */
export function readTfjsWeights(modelDir: string, manifest: TfjsWeightsManifestGroup[], source: string): Map<string, Tensor> {
  if (!Array.isArray(manifest)) throw new MloptError('CORRUPT_MODEL', `${source}: weightsManifest is not a list of weight groups`);
  const out = new Map<string, Tensor>();
  manifest.forEach((group, gi) => {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new MloptError('CORRUPT_MODEL', `${source}: weightsManifest group ${gi} needs "paths" and "weights" lists`);
    }
    const buffer = readGroup(modelDir, group.paths, source);
    let offset = 0;
    for (const spec of group.weights) {
      const { tensor, byteLength } = decodeWeight(spec, buffer, offset, group.paths, source);
      out.set(spec.name, tensor);
      offset += byteLength;
    }
  });
  return out;
}

/** The shards of one group, concatenated (one shard: its bytes as read, no copy). */
function readGroup(modelDir: string, paths: string[], source: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    if (typeof p !== 'string') throw new MloptError('CORRUPT_MODEL', `${source}: a weight shard path is not a string`);
    const file = join(modelDir, p);
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new MloptError('FILE_NOT_FOUND', `${source}: weight shard "${p}" is missing (looked for ${file})`, 'copy every file the model.json weightsManifest lists into the model folder');
    }
    const b = readFileSync(file);
    parts.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((n, b) => n + b.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const b of parts) {
    all.set(b, off);
    off += b.byteLength;
  }
  return all;
}

function decodeWeight(spec: TfjsWeightEntry, buf: Uint8Array, offset: number, paths: string[], source: string): { tensor: Tensor; byteLength: number } {
  const where = `${source}: weight "${spec?.name}"`;
  if (!spec || typeof spec.name !== 'string' || !Array.isArray(spec.shape) || spec.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new MloptError('CORRUPT_MODEL', `${where} has no valid name / shape in the weightsManifest`);
  }
  const shape = spec.shape.slice();
  const size = elementCount(shape);
  const short = (need: number): MloptError =>
    new MloptError('CORRUPT_MODEL', `${where} needs ${need} bytes at offset ${offset}, but the shard${paths.length > 1 ? 's' : ''} ${paths.map((p) => `"${p}"`).join(', ')} hold only ${buf.byteLength} bytes (truncated, or the manifest does not match the file)`);
  const q = spec.quantization;
  const dtype = (spec.dtype ?? q?.original_dtype) as string;
  if (q) {
    const width = BYTES[q.dtype];
    if (q.dtype !== 'uint8' && q.dtype !== 'uint16' && q.dtype !== 'float16') {
      throw new MloptError('UNSUPPORTED', `${where} has quantization dtype "${q.dtype}"; TF.js knows uint8, uint16 and float16`);
    }
    const byteLength = size * width!;
    if (offset + byteLength > buf.byteLength) throw short(byteLength);
    const raw = buf.subarray(offset, offset + byteLength);
    if (q.dtype === 'float16') {
      if (dtype !== 'float32') throw new MloptError('CORRUPT_MODEL', `${where} is float16-quantized but its dtype is ${dtype} (only float32 can be)`);
      const bits = viewBytes('uint16', raw, size) as Uint16Array;
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = float16ToNumber(bits[i]!);
      return { tensor: { dtype: 'float32', shape, data }, byteLength };
    }
    if (typeof q.min !== 'number' || typeof q.scale !== 'number') {
      throw new MloptError('CORRUPT_MODEL', `${where} is ${q.dtype}-quantized but has no "min" and "scale"`);
    }
    const codes = q.dtype === 'uint8' ? raw : (viewBytes('uint16', raw, size) as Uint16Array);
    const { min, scale } = q;
    if (dtype === 'float32') {
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = codes[i]! * scale + min;
      return { tensor: { dtype: 'float32', shape, data }, byteLength };
    }
    if (dtype === 'int32') {
      const data = new Int32Array(size);
      for (let i = 0; i < size; i++) data[i] = Math.round(codes[i]! * scale + min);
      return { tensor: { dtype: 'int32', shape, data }, byteLength };
    }
    throw new MloptError('UNSUPPORTED', `${where}: quantized weights of dtype ${dtype} cannot be decoded (float32 and int32 can)`);
  }
  if (dtype === 'string') {
    const data: Uint8Array[] = [];
    let p = offset;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < size; i++) {
      if (p + 4 > buf.byteLength) throw short(p + 4 - offset);
      const n = dv.getUint32(p, true);
      p += 4;
      if (p + n > buf.byteLength) throw short(p + n - offset);
      data.push(buf.slice(p, p + n));
      p += n;
    }
    return { tensor: { dtype: 'string', shape, data }, byteLength: p - offset };
  }
  const width = BYTES[dtype];
  if (!width || dtype === 'uint8' || dtype === 'uint16' || dtype === 'float16') {
    throw new MloptError('UNSUPPORTED', `${where} has dtype "${dtype}"; TF.js weights are float32, int32, bool, string or complex64`);
  }
  const byteLength = size * width;
  if (offset + byteLength > buf.byteLength) throw short(byteLength);
  const raw = buf.subarray(offset, offset + byteLength);
  // copy: a tensor must not keep the whole shard alive, nor alias another weight's bytes
  const irType: DType = dtype as DType;
  const data = viewBytes(irType, raw.slice(), size);
  return { tensor: { dtype: irType, shape, data }, byteLength };
}

// ---------------------------------------------------------------------------------------------
// encoding

export interface TfjsQuantizeOptions {
  dtype: TfjsQuantDType;
  /** tensorflowjs_converter-style wildcards on weight names (e.g. `*`, `conv*\/kernel`); default: all. */
  patterns?: string[];
}

/** Storage of a weight that is already quantized: `tensor` holds the codes (uint8 / uint16, or
 *  float16 bits), which decode to `code · scale + min` (float16: the half value) as float32. */
export interface TfjsPreQuantized {
  dtype: TfjsQuantDType;
  /** uint8 / uint16 only */
  min?: number;
  scale?: number;
}

/** One weight to encode: a tensor stored as TF.js stores its dtype (or quantized when `quantize`
 *  selects it), or, with `quantized`, codes written as they are. */
export interface TfjsWeightInput {
  name: string;
  tensor: Tensor;
  quantized?: TfjsPreQuantized;
}

/** Encode named tensors into shards; `quantize` says which dtype and which weights (wildcards as
 *  tensorflowjs_converter's); pre-quantized entries (`quantized`) are written as they are. */
export function encodeTfjsWeights(
  weights: TfjsWeightInput[],
  opts: {
    quantize?: TfjsQuantizeOptions;
    shardSizeBytes?: number; // default 4 * 1024 * 1024
    groupName?: string; // shard file prefix, default 'group1'
  } = {},
): { manifest: TfjsWeightsManifestGroup[]; shards: Array<{ path: string; bytes: Uint8Array }> } {
  const shardSize = opts.shardSizeBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(shardSize) || shardSize <= 0) throw new MloptError('USAGE', `shard size must be a positive whole number of bytes (got ${shardSize})`);
  const groupName = opts.groupName ?? 'group1';
  const seen = new Set<string>();
  const matchers = opts.quantize ? (opts.quantize.patterns?.length ? opts.quantize.patterns : ['*']).map(wildcardRegExp) : [];
  const entries: TfjsWeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const { name, tensor, quantized } of weights) {
    if (seen.has(name)) throw new MloptError('INVALID_GRAPH', `two TF.js weights are named "${name}"`);
    seen.add(name);
    if (quantized) {
      chunks.push(preQuantizedBytes(name, tensor, quantized));
      const meta = quantized.dtype === 'float16' ? {} : { min: quantized.min!, scale: quantized.scale! };
      entries.push({ name, shape: tensor.shape.slice(), dtype: 'float32', quantization: { dtype: quantized.dtype, ...meta, original_dtype: 'float32' } });
      continue;
    }
    const { dtype, data } = toTfjsData(name, tensor);
    const entry: TfjsWeightEntry = { name, shape: tensor.shape.slice(), dtype };
    const q = opts.quantize;
    if (q && dtype === 'float32' && matchers.some((re) => re.test(name))) {
      const { bytes, meta } = quantizeWeights(data as Float32Array, q.dtype);
      entry.quantization = { dtype: q.dtype, ...meta, original_dtype: 'float32' };
      chunks.push(bytes);
    } else {
      chunks.push(dtype === 'string' ? encodeStrings(data as Uint8Array[]) : bytesOf(data as Float32Array | Int32Array | Uint8Array));
    }
    entries.push(entry);
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const n = Math.ceil(total / shardSize);
  const shards: Array<{ path: string; bytes: Uint8Array }> = [];
  if (n > 0) {
    const all = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.byteLength;
    }
    for (let i = 0; i < n; i++) {
      shards.push({ path: `${groupName}-shard${i + 1}of${n}.bin`, bytes: all.subarray(i * shardSize, Math.min(total, (i + 1) * shardSize)) });
    }
  }
  return { manifest: [{ paths: shards.map((s) => s.path), weights: entries }], shards };
}

/** The bytes of a pre-quantized weight, after checking that codes and parameters fit together. */
function preQuantizedBytes(name: string, t: Tensor, q: TfjsPreQuantized): Uint8Array {
  const codeType = q.dtype === 'float16' ? 'float16' : q.dtype;
  if (t.dtype !== codeType) {
    throw new MloptError('INVALID_GRAPH', `pre-quantized TF.js weight "${name}" is stored as ${q.dtype} but its codes are ${t.dtype} (they must be ${codeType})`);
  }
  if (q.dtype !== 'float16' && !(Number.isFinite(q.min) && Number.isFinite(q.scale))) {
    throw new MloptError('INVALID_GRAPH', `pre-quantized TF.js weight "${name}" (${q.dtype}) needs a finite min and scale`);
  }
  if (t.data.length !== elementCount(t.shape)) throw new MloptError('INVALID_GRAPH', `pre-quantized TF.js weight "${name}" holds ${t.data.length} codes for shape [${t.shape.join(',')}]`);
  return bytesOf(t.data as Uint8Array | Uint16Array);
}

/** The tensor as one of the dtypes TF.js stores (as tensorflowjs_converter does: int64 → int32, float64 → float32). */
function toTfjsData(name: string, t: Tensor): { dtype: TfjsDType; data: Float32Array | Int32Array | Uint8Array | Uint8Array[] } {
  switch (t.dtype) {
    case 'float32':
      return { dtype: 'float32', data: t.data as Float32Array };
    case 'int32':
      return { dtype: 'int32', data: t.data as Int32Array };
    case 'bool':
      return { dtype: 'bool', data: t.data as Uint8Array };
    case 'complex64':
      return { dtype: 'complex64', data: t.data as Float32Array };
    case 'string':
      return { dtype: 'string', data: t.data as Uint8Array[] };
    case 'float16':
    case 'bfloat16':
    case 'float64':
      return { dtype: 'float32', data: Float32Array.from(toNumbers(t)) };
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'uint32':
    case 'int64':
    case 'uint64': {
      const vals = toNumbers(t);
      const bad = vals.find((v) => v < -(2 ** 31) || v > 2 ** 31 - 1);
      if (bad !== undefined) throw new MloptError('UNSUPPORTED', `weight "${name}" (${t.dtype}) holds ${bad}, which does not fit TF.js int32`);
      return { dtype: 'int32', data: Int32Array.from(vals) };
    }
    default:
      throw new MloptError('UNSUPPORTED', `weight "${name}" has dtype ${t.dtype}, which TF.js cannot store (float32, int32, bool, string, complex64)`);
  }
}

function encodeStrings(strings: Uint8Array[]): Uint8Array {
  const total = strings.reduce((n, s) => n + 4 + s.byteLength, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const s of strings) {
    dv.setUint32(p, s.byteLength, true);
    out.set(s, p + 4);
    p += 4 + s.byteLength;
  }
  return out;
}

/**
 * Quantize float32 weights as tensorflowjs_converter does (tensorflowjs/quantization.py):
 * min / max in float64; scale = (max − min) / qmax; when 0 lies in [min, max], min is nudged to
 * −round(−min / scale)·scale so that 0 is a code; codes = round_half_even((clip(x) − min) / scale),
 * evaluated in float32 as numpy does for a float32 array; a constant tensor is all zeros with
 * scale 1. float16: IEEE half, round to nearest even.
 */
export function quantizeWeights(data: Float32Array, dtype: TfjsQuantDType): { bytes: Uint8Array; meta: { min?: number; scale?: number } } {
  if (dtype === 'float16') {
    const bits = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) bits[i] = toFloat16Bits(data[i]!);
    return { bytes: bytesOf(bits), meta: {} };
  }
  const qmax = dtype === 'uint8' ? 255 : 65535;
  const codes = dtype === 'uint8' ? new Uint8Array(data.length) : new Uint16Array(data.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (data.length === 0) return { bytes: bytesOf(codes), meta: { min: 0, scale: 1 } };
  if (lo === hi) return { bytes: bytesOf(codes), meta: { min: lo, scale: 1 } };
  const scale = (hi - lo) / qmax;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    const zp = roundHalfEven((0 - lo) / scale);
    min = -zp * scale;
    max = qmax * scale + min;
  }
  // numpy (1.x) evaluates the float32 array against float64 scalars in float32
  const min32 = Math.fround(min);
  const max32 = Math.fround(max);
  const scale32 = Math.fround(scale);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    const c = x < min32 ? min32 : x > max32 ? max32 : x;
    const v = Math.fround(Math.fround(c - min32) / scale32);
    codes[i] = Math.min(qmax, Math.max(0, roundHalfEven(v)));
  }
  return { bytes: bytesOf(codes), meta: { min, scale } };
}

/** numpy.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** fnmatch.fnmatchcase as a RegExp: '*' any run (slashes included), '?' one character, [seq], [!seq]. */
export function wildcardRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) re += '\\[';
      else {
        let body = pattern.slice(i + 1, j);
        i = j;
        body = body.replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        re += `[${body}]`;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 's');
}

/** Total bytes the manifest's weights take (as tfjs counts them; strings need the data). */
export function manifestByteLength(manifest: TfjsWeightsManifestGroup[]): number | undefined {
  let n = 0;
  for (const g of manifest) {
    for (const w of g.weights) {
      if (w.dtype === 'string' && !w.quantization) return undefined;
      n += elementCount(w.shape) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? 0);
    }
  }
  return n;
}
