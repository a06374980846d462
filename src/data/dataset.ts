/**
 * Datasets for `mlopt bench --data` (and calibration / fine-tuning): loading
 * (.npz, .npy, IDX), reconciling the data with a model's inputs (dtype, scale,
 * layout, shape, batch) and slicing it into batches; random feeds for runs
 * without data.
 */
import { readFile } from 'node:fs/promises';
import { type DType, type NumericArray, dtypeInfo, isFloatDType, isIntDType, storageLength } from '../ir/dtype.js';
import type { Value } from '../ir/graph.js';
import { type Dim, type Tensor, elementCount, float16ToNumber, isNumericData } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';
import { findLabelsFile, gunzip, isGzip, isIdx, parseIdx } from './idx.js';
import { isNpy, parseNpy, toFloat16Bits, transposeData } from './npy.js';
import { isZip, parseNpz } from './npz.js';

export interface Dataset {
  /** the file the data came from (for messages). */
  source: string;
  /** sample-major arrays, dim 0 = sample */
  inputs: Map<string, Tensor>;
  /** one class index per sample, when the data has labels. */
  labels?: Int32Array;
  count: number;
}

/** The name of the labels array in .npz files. */
export const LABELS_KEY = 'y';

/** Load a dataset, telling the format from the file's bytes: .npz, .npy or IDX (gzipped or not). */
export async function loadDataset(path: string): Promise<Dataset> {
  const bytes = await readDataFile(path);
  if (isZip(bytes)) return makeDataset(path, parseNpz(bytes, path));
  if (isNpy(bytes)) return makeDataset(path, new Map([['x', parseNpy(bytes, path)]]), false);
  const raw = isGzip(bytes) ? gunzip(bytes, path) : bytes;
  if (isIdx(raw)) return loadIdx(path, raw);
  throw new MloptError('DATA', `${path}: unrecognised data file; expected .npz, .npy or IDX (…-images-idx3-ubyte[.gz])`);
}

async function readDataFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MloptError('FILE_NOT_FOUND', `${path}: no such file`);
    if (code === 'EISDIR') throw new MloptError('DATA', `${path}: is a directory; expected a .npz, .npy or IDX file`);
    throw new MloptError('DATA', `${path}: cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
}

async function loadIdx(path: string, bytes: Uint8Array): Promise<Dataset> {
  const images = parseIdx(bytes, path);
  if (images.shape.length === 1) {
    throw new MloptError('DATA', `${path}: is a 1-D IDX file (labels?); pass the images file (…-images-idx3-ubyte[.gz])`);
  }
  // [N,H,W] images get a channel dim.
  const x: Tensor = images.shape.length === 3 ? { ...images, shape: [...images.shape, 1] } : images;
  const arrays = new Map([['x', x]]);
  const labelsPath = await findLabelsFile(path);
  if (labelsPath) {
    const y = parseIdx(await readDataFile(labelsPath), labelsPath);
    if (y.shape.length !== 1 || y.shape[0] !== x.shape[0]) {
      throw new MloptError('DATA', `${labelsPath}: labels have shape [${y.shape.join(',')}] but ${path} has ${x.shape[0]} images`);
    }
    arrays.set(LABELS_KEY, y);
  }
  return makeDataset(path, arrays);
}

/** Build a dataset from named sample-major arrays; `y` (when `withLabels`) becomes the labels. */
export function makeDataset(source: string, arrays: Map<string, Tensor>, withLabels = true): Dataset {
  for (const [name, t] of arrays) {
    if (t.shape.length === 0) throw new MloptError('DATA', `${source}: array ${name} is a scalar; expected sample-major arrays (dim 0 = sample)`);
  }
  const counts = [...arrays].map(([name, t]) => ({ name, n: t.shape[0] as number }));
  if (new Set(counts.map((c) => c.n)).size > 1) {
    const list = counts.map((c) => `${c.name} has ${c.n}`).join(', ');
    throw new MloptError('DATA', `${source}: arrays disagree on the sample count (dim 0): ${list}`);
  }
  const inputs = new Map([...arrays].filter(([name]) => !withLabels || name !== LABELS_KEY));
  if (inputs.size === 0) throw new MloptError('DATA', `${source}: no input arrays (only labels "${LABELS_KEY}")`);
  const y = withLabels ? arrays.get(LABELS_KEY) : undefined;
  const count = counts[0]?.n ?? 0;
  return { source, inputs, count, ...(y ? { labels: toLabels(y, `${source}: labels ${LABELS_KEY}`) } : {}) };
}

/** Labels as class indices: any int dtype, floats holding ints, [N,1], or one-hot / scores [N,K] (argmax). */
export function toLabels(t: Tensor, what = 'labels'): Int32Array {
  const n = t.shape[0] ?? 0;
  const k = elementCount(t.shape.slice(1));
  if (t.shape.length === 2 && k > 1) return argmaxRows(asNumbers(t, what), n, k);
  if (t.shape.length > 2 || t.shape.length === 0) {
    throw new MloptError('DATA', `${what} have shape [${t.shape.join(',')}]; expected [N], [N,1] or one-hot [N,K]`);
  }
  if (t.data instanceof Int32Array && t.dtype === 'int32') return t.data;
  const v = asNumbers(t, what);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = v[i] as number;
    if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) {
      throw new MloptError('DATA', `${what} hold a non-integer or out-of-range value (${x} at index ${i})`);
    }
    out[i] = x;
  }
  return out;
}

/** Index of the largest value in each row of a row-major [rows, cols] matrix (first one on ties; NaN ignored). */
export function argmaxRows(data: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (data.length < rows * cols) throw new RangeError(`argmaxRows: need ${rows}×${cols} values, got ${data.length}`);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < cols; c++) {
      const x = data[base + c] as number;
      if (x > bestV) {
        bestV = x;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Values of a real numeric tensor as numbers (a view where the storage already holds them). */
function asNumbers(t: Tensor, what: string): ArrayLike<number> {
  const d = t.data;
  if (!isNumericData(d) || dtypeInfo(t.dtype).lanes !== 1 || dtypeInfo(t.dtype).bits < 8 || t.dtype.startsWith('float8') || t.dtype === 'bfloat16') {
    throw new MloptError('DATA', `${what}: dtype ${t.dtype} is not supported here`);
  }
  if (t.dtype === 'float16') return Float32Array.from(d as Uint16Array, float16ToNumber);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }
  return d as ArrayLike<number>;
}

// ---------------------------------------------------------------------------
// Reconciling data with model inputs.

export interface PrepareOptions {
  /** multiplier applied when converting to a float input (default 1/255 for uint8 data, else 1). */
  scale?: number;
  /** samples per batch (default 1; a model's fixed batch dim wins, with a note). */
  batch?: number;
}

export interface Batch {
  /** model input name → a [size, ...] slice of the prepared arrays (views, no copies). */
  feeds: Map<string, Tensor>;
  labels?: Int32Array;
  /** index of the batch's first sample. */
  start: number;
  /** samples in this batch (the last batch may be short). */
  size: number;
}

export interface PreparedData {
  /** samples covered by `batches()`. */
  count: number;
  batchSize: number;
  /** model input name → the whole converted array. */
  inputs: Map<string, Tensor>;
  labels?: Int32Array;
  /** what was converted, transposed, reshaped or ignored, for the user. */
  notes: string[];
  batches(): Iterable<Batch>;
}

/** Convert a dataset to what the model's inputs expect, once, and serve it in contiguous batches. */
export function prepareFeeds(ds: Dataset, modelInputs: Value[], opts: PrepareOptions = {}): PreparedData {
  const notes: string[] = [];
  const pairs = matchInputs(ds, modelInputs, notes);
  const inputs = new Map<string, Tensor>();
  for (const [v, dataName] of pairs) {
    const t = ds.inputs.get(dataName) as Tensor;
    const shaped = reconcileShape(t, dataName, v, notes);
    inputs.set(v.name, convertDType(shaped, dataName, v, opts.scale, notes));
  }

  if (opts.batch !== undefined && !(Number.isInteger(opts.batch) && opts.batch > 0)) {
    throw new MloptError('USAGE', `--batch must be a positive integer, got ${opts.batch}`);
  }
  const fixed = [...new Set(modelInputs.map((v) => v.shape?.[0]).filter((d): d is number => typeof d === 'number' && d > 0))];
  if (fixed.length > 1) throw new MloptError('SHAPE_MISMATCH', `model inputs have different fixed batch sizes (${fixed.join(', ')})`);
  let count = ds.count;
  let batchSize = opts.batch ?? 1;
  if (fixed.length === 1) {
    const b = fixed[0] as number;
    if (opts.batch !== undefined && opts.batch !== b) notes.push(`model has a fixed batch of ${b}; using batch ${b} (--batch ${opts.batch} ignored)`);
    batchSize = b;
    if (count < b) throw new MloptError('DATA', `${ds.source}: has ${count} samples but the model's fixed batch needs ${b}`);
    if (count % b) {
      notes.push(`dropping the last ${count % b} samples: the model's fixed batch needs exactly ${b} per run`);
      count -= count % b;
    }
  }
  const labels = ds.labels?.subarray(0, count);
  return {
    count, batchSize, inputs, notes,
    ...(labels ? { labels } : {}),
    *batches(): Iterable<Batch> {
      for (let start = 0; start < count; start += batchSize) {
        const size = Math.min(batchSize, count - start);
        const feeds = new Map<string, Tensor>();
        for (const [name, t] of inputs) {
          const sample = t.shape.slice(1);
          const per = storageLength(t.dtype, elementCount(sample));
          const data = (t.data as NumericArray).subarray(start * per, (start + size) * per);
          feeds.set(name, { dtype: t.dtype, shape: [size, ...sample], data });
        }
        yield { feeds, start, size, ...(labels ? { labels: labels.subarray(start, start + size) } : {}) };
      }
    },
  };
}

/** Pair each model input with a data array. */
function matchInputs(ds: Dataset, modelInputs: Value[], notes: string[]): Array<[Value, string]> {
  if (modelInputs.length === 0) throw new MloptError('DATA', 'the model has no inputs to feed');
  const names = [...ds.inputs.keys()];
  let pairs: Array<[Value, string]>;
  if (modelInputs.length === 1) {
    const v = modelInputs[0] as Value;
    const pick = ds.inputs.has(v.name) ? v.name : ds.inputs.has('x') ? 'x' : names.length === 1 ? names[0] : undefined;
    if (pick === undefined) {
      throw new MloptError('DATA', `${ds.source}: cannot tell which array feeds model input "${v.name}" (arrays: ${names.join(', ')}); name it "x" or "${v.name}"`);
    }
    pairs = [[v, pick]];
  } else {
    const missing = modelInputs.filter((v) => !ds.inputs.has(v.name)).map((v) => `"${v.name}"`);
    if (missing.length) {
      throw new MloptError('DATA', `${ds.source}: no arrays for model inputs ${missing.join(', ')} (arrays: ${names.join(', ')}); a model with several inputs needs one array per input name`);
    }
    pairs = modelInputs.map((v) => [v, v.name]);
  }
  const unused = names.filter((n) => !pairs.some(([, d]) => d === n));
  if (unused.length) notes.push(`data arrays not used: ${unused.join(', ')}`);
  return pairs;
}

const fmtDim = (d: Dim): string => (typeof d === 'string' ? d || '?' : String(d));
const fmtShape = (s: readonly Dim[]): string => `[${s.map(fmtDim).join(',')}]`;
/** A model dim accepts a data dim when it is a symbol / unknown (< 0) or equal. */
const fits = (want: Dim | undefined, have: number | undefined): boolean =>
  want !== undefined && have !== undefined && (typeof want === 'string' || want < 0 || want === have);
const allFit = (want: readonly Dim[], have: readonly number[]): boolean =>
  want.length === have.length && want.every((w, i) => fits(w, have[i]));

/** Make the data's per-sample shape match the model input's: as is, NHWC⇄NCHW, add a channel dim, or reshape. */
function reconcileShape(t: Tensor, dataName: string, v: Value, notes: string[]): Tensor {
  if (!v.shape) {
    notes.push(`model input "${v.name}" has unknown rank; feeding data ${dataName} as ${fmtShape(t.shape)}`);
    return t;
  }
  const n = t.shape[0] as number;
  const have = t.shape.slice(1);
  const want = v.shape.slice(1);
  const r = have.length;
  const mismatch = (): MloptError => new MloptError('SHAPE_MISMATCH',
    `data ${dataName} has shape ${fmtShape(t.shape)} but model input "${v.name}" wants ${fmtShape(v.shape ?? [])}; cannot reconcile`);
  if (v.shape.length === 0) throw mismatch();
  if (allFit(want, have)) return t;
  const to = (shape: number[], what: string): Tensor => {
    notes.push(`data ${dataName} ${fmtShape(t.shape)} → ${fmtShape(shape)} for model input "${v.name}" (${what})`);
    return { dtype: t.dtype, shape, data: t.data };
  };
  if (r >= 3 && want.length === r) {
    // channels-last → channels-first ([H,W,C] → [C,H,W]) or the reverse.
    const lastToFirst = [r - 1, ...have.keys()].slice(0, r);
    const firstToLast = [...have.keys()].slice(1).concat(0);
    for (const [p, what] of [[lastToFirst, 'NHWC → NCHW'], [firstToLast, 'NCHW → NHWC']] as const) {
      const moved = p.map((a) => have[a] as number);
      if (!allFit(want, moved)) continue;
      const shape = [n, ...moved];
      const channels = p === lastToFirst ? have[r - 1] : have[0];
      if (channels === 1 || !isNumericData(t.data)) return to(shape, `${what}, no data movement`);
      const perm = [0, ...p.map((a) => a + 1)];
      notes.push(`data ${dataName} ${fmtShape(t.shape)} → ${fmtShape(shape)} for model input "${v.name}" (${what} transpose)`);
      return { dtype: t.dtype, shape, data: transposeData(t.data, t.shape, perm, dtypeInfo(t.dtype).lanes) };
    }
  }
  if (want.length === r + 1) {
    // A sample without its channel dim: [H,W] → [H,W,1] or [1,H,W]; prefer the side whose dim is a known 1.
    const tail = allFit(want.slice(0, r), have) && fits(want[r], 1);
    const head = allFit(want.slice(1), have) && fits(want[0], 1);
    if (tail && (want[r] === 1 || !head || want[0] !== 1)) return to([n, ...have, 1], 'added channel dim');
    if (head) return to([n, 1, ...have], 'added channel dim');
  }
  const known = want.every((d) => typeof d === 'number' && d >= 0);
  if (known && want.length !== r && elementCount(want as number[]) === elementCount(have)) {
    return to([n, ...(want as number[])], 'reshaped');
  }
  throw mismatch();
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-0x80000000, 0x7fffffff], uint32: [0, 0xffffffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], uint64: [0, Number.MAX_SAFE_INTEGER], bool: [0, 1],
};

/** Convert to the model input's dtype: ints → float × scale, float64 → float32, ints/float-held ints → the model's int type. */
function convertDType(t: Tensor, dataName: string, v: Value, scale: number | undefined, notes: string[]): Tensor {
  const target = v.dtype;
  const src = t.dtype;
  if (!target) return t;
  const what = `data ${dataName} (${src}) for model input "${v.name}" (${target})`;
  if (target === 'float32' || target === 'float64' || target === 'float16') {
    const intSource = !isFloatDType(src);
    const s = scale ?? (src === 'uint8' ? 1 / 255 : 1);
    if (src === target && s === 1) return t;
    const x = asNumbers(t, what);
    const out = target === 'float64' ? new Float64Array(x.length) : new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * s;
    if (intSource || s !== 1 || src !== target) notes.push(`data ${dataName}: ${src} → ${target}${s !== 1 ? ` × ${s === 1 / 255 ? '1/255' : s}` : ''}`);
    if (target !== 'float16') return { dtype: target, shape: t.shape, data: out };
    const bits = new Uint16Array(out.length);
    for (let i = 0; i < out.length; i++) bits[i] = toFloat16Bits(out[i] as number);
    return { dtype: target, shape: t.shape, data: bits };
  }
  const range = INT_RANGE[target];
  if (!range || !(isIntDType(target) || target === 'bool')) {
    throw new MloptError('DATA', `${what}: cannot feed a model input of dtype ${target} from data`);
  }
  if (scale !== undefined) notes.push(`--scale ignored for model input "${v.name}" (${target})`);
  if (src === target) return t;
  const x = asNumbers(t, what);
  for (let i = 0; i < x.length; i++) {
    const e = x[i] as number;
    if (!Number.isInteger(e) || e < range[0] || e > range[1]) {
      throw new MloptError('DATA', `${what}: value ${e} at index ${i} is not ${Number.isInteger(e) ? `in [${range[0]}, ${range[1]}]` : 'an integer'}`);
    }
  }
  const info = dtypeInfo(target);
  const out = new (info.array as new (n: number) => NumericArray)(x.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < x.length; i++) out[i] = BigInt(x[i] as number);
  } else {
    out.set(x);
  }
  notes.push(`data ${dataName}: ${src} → ${target}`);
  return { dtype: target, shape: t.shape, data: out };
}

// ---------------------------------------------------------------------------
// Random feeds for runs without --data.

/** A small deterministic PRNG (xorshift32) giving floats in [0, 1). */
function prng(seed: number): () => number {
  let s = (Math.imul(seed >>> 0, 0x9e3779b1) + 0x6d2b79f5) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/**
 * Random inputs for a model: dim 0 when symbolic → `batch`; other symbolic dims → `dims[symbol]`
 * or a USAGE error. Floats uniform in [0, 1), ints in [0, 10), bools 0/1. Deterministic per seed.
 */
export function randomFeeds(modelInputs: Value[], batch: number, seed = 0, dims: Record<string, number> = {}): Map<string, Tensor> {
  const rand = prng(seed);
  const feeds = new Map<string, Tensor>();
  for (const v of modelInputs) {
    if (!v.shape) throw new MloptError('USAGE', `input "${v.name}" has unknown rank; random data needs a shape (use --data)`);
    const shape = v.shape.map((d, axis) => {
      if (typeof d === 'number' && d >= 0) return d;
      if (typeof d === 'string' && dims[d] !== undefined) return dims[d];
      if (axis === 0) return batch;
      throw new MloptError('USAGE', `input "${v.name}" has unknown dim ${typeof d === 'string' && d ? `"${d}"` : '?'} at axis ${axis} (shape ${fmtShape(v.shape as Dim[])}); random data needs a fixed size (use --data)`);
    });
    const dtype = v.dtype ?? 'float32';
    const n = elementCount(shape);
    const Ctor = dtypeInfo(dtype).array;
    if (!Ctor || !(isIntDType(dtype) || dtype === 'bool' || dtype === 'float32' || dtype === 'float64' || dtype === 'float16') || dtypeInfo(dtype).bits < 8) {
      throw new MloptError('UNSUPPORTED', `input "${v.name}" has dtype ${dtype}; cannot make random data for it`);
    }
    const data = new (Ctor as new (n: number) => NumericArray)(n);
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) data[i] = BigInt(Math.floor(rand() * 10));
    } else {
      const d = data as unknown as number[];
      const gen = dtype === 'bool' ? () => (rand() < 0.5 ? 0 : 1)
        : dtype === 'float16' ? () => toFloat16Bits(rand())
        : isIntDType(dtype) ? () => Math.floor(rand() * 10) : rand;
      for (let i = 0; i < n; i++) d[i] = gen();
    }
    feeds.set(v.name, { dtype, shape, data });
  }
  return feeds;
}
