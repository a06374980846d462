/**
 * LiteRT.js runner: runs .tflite flatbuffers in Node with Google's `@litertjs/core` on its wasm
 * CPU path (XNNPack kernels in WebAssembly; LiteRT.js has no GPU in Node).
 *
 * Two limits of LiteRT.js shape this file (see DESIGN.md, "Runtimes and their limits"):
 * - its loader is written for browsers and workers. It needs `self`, `importScripts` and, in the
 *   emscripten script it loads, `require` and `__dirname`; `loadLiteRtJs` provides them for the
 *   duration of the load only, and points the loader at the wasm files inside the package, so
 *   nothing is fetched.
 * - its JS tensors are float32 / int32 / uint8 with static shapes. A model with a dynamic batch
 *   (`shape_signature` [-1,...], what TFLiteConverter writes) is compiled from a copy of the
 *   flatbuffer with the batch fixed to the feeds' batch, one compiled model per batch size.
 *   Other dtypes and other dynamic dims are refused up front with an MloptError that says so.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import type { DType } from '../ir/dtype.js';
import type { Value } from '../ir/graph.js';
import type { Dim, Tensor } from '../ir/tensor.js';
import { decodeTflite, encodeTflite, withStaticBatch } from '../formats/tflite/codec.js';
import type { TfliteModel } from '../formats/tflite/codec.js';
import { MloptError, errorText } from '../util/errors.js';
import type { Feeds, Runner, RunnerOptions } from './runner.js';

type LiteRtJs = typeof import('@litertjs/core');
type CompiledModel = import('@litertjs/core').CompiledModel;
type LtTensor = import('@litertjs/core').Tensor;
type LtTypedArray = import('@litertjs/core').TypedArray;

const require = createRequire(import.meta.url);

/** TFLite TensorType → IR dtype (schema.fbs). */
const TFLITE_TYPES: Record<number, DType | undefined> = {
  0: 'float32', 1: 'float16', 2: 'int32', 3: 'uint8', 4: 'int64', 5: 'string', 6: 'bool', 7: 'int16', 8: 'complex64', 9: 'int8',
  10: 'float64', 11: 'complex128', 12: 'uint64', 15: 'uint32', 16: 'uint16', 17: 'int4', 18: 'bfloat16',
};

/** The dtypes LiteRT.js can move between JS and the model. */
const LITERT_DTYPES: ReadonlySet<DType> = new Set<DType>(['float32', 'int32', 'uint8']);

const NO_GPU_HINT = 'LiteRT.js reaches GPUs only through WebGPU, which Node does not have: run the .tflite model with --device cpu, or convert it to ONNX and use onnxruntime with CUDA';

// ---------------------------------------------------------------------------
// Loading LiteRT.js in Node (once per process).

interface LiteRtHandle {
  lt: LiteRtJs;
  version: string;
  /** LiteRT's own log (its C++ logging), kept off the terminal and used to explain errors */
  log: LogBuffer;
}

/** The last lines LiteRT logged; `mark()` + `since(mark)` give the lines of one call. */
class LogBuffer {
  private lines: string[] = [];
  private dropped = 0;
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 400) {
      this.dropped += 200;
      this.lines = this.lines.slice(200);
    }
  }
  mark(): number {
    return this.dropped + this.lines.length;
  }
  since(mark: number): string[] {
    return this.lines.slice(Math.max(0, mark - this.dropped));
  }
}

let loading: Promise<LiteRtHandle> | undefined;

/** Load `@litertjs/core` and its wasm module from the package's own `wasm/` folder. */
export function loadLiteRtJs(): Promise<LiteRtHandle> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    if (err instanceof MloptError) throw err;
    throw new MloptError('RUNTIME', `LiteRT.js could not start: ${errorText(err)}`);
  });
  return loading;
}

async function load(): Promise<LiteRtHandle> {
  const lt = await import('@litertjs/core');
  const pkgDir = dirname(require.resolve('@litertjs/core/package.json'));
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const log = new LogBuffer();
  const keep = (line: string): void => log.push(line);
  // The loader (wasm-utils createWasmLib) runs the emscripten script with importScripts(), reads
  // `self.ModuleFactory`, and passes `self.Module` to it: print/printErr keep LiteRT's logging off
  // stdout/stderr. The emscripten script detects Node and reads its .wasm with fs from __dirname.
  const shims: Record<string, unknown> = {
    self: globalThis,
    Module: { print: keep, printErr: keep },
    importScripts: (file: string): void => {
      const code = readFileSync(file, 'utf8');
      const factory = vm.runInThisContext(`(function (require, __dirname, __filename) {${code}\nreturn ModuleFactory;\n})`, { filename: file }) as (
        req: NodeJS.Require, dir: string, name: string) => unknown;
      (globalThis as Record<string, unknown>)['ModuleFactory'] = factory(createRequire(file), dirname(file), file);
    },
  };
  const saved = Object.keys(shims).map((k) => [k, Object.getOwnPropertyDescriptor(globalThis, k)] as const);
  for (const [k, v] of Object.entries(shims)) (globalThis as Record<string, unknown>)[k] = v;
  // loadLiteRt() always tries to open a default WebGPU device and warns when there is none (Node)
  const warn = console.warn;
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].startsWith('Failed to create default WebGPU device')) return;
    warn(...args);
  };
  try {
    await lt.loadLiteRt(join(pkgDir, 'wasm', '/'));
  } finally {
    console.warn = warn;
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete (globalThis as Record<string, unknown>)[k];
    }
    delete (globalThis as Record<string, unknown>)['ModuleFactory'];
  }
  return { lt, version, log };
}

// ---------------------------------------------------------------------------
// What the flatbuffer says about the model's inputs and outputs.

interface IoTensor {
  /** the tensor's name in the flatbuffer (the IR value name) */
  name: string;
  /** the name LiteRT.js uses for it: the signature's input/output name, or the tensor name */
  key: string;
  dtype: DType | undefined;
  /** static shape (dim 0 of a dynamic batch is fixed per compiled model) */
  shape: number[];
  /** shape_signature: -1 for a dynamic dim (the shape itself when the file has none) */
  signature: number[];
  /** true when shape_signature[0] is -1 */
  dynamicBatch: boolean;
}

interface ModelIo {
  model: TfliteModel;
  inputs: IoTensor[];
  outputs: IoTensor[];
  /** custom op names, for error messages */
  customOps: string[];
}

function describeIo(bytes: Uint8Array, source: string): ModelIo {
  const model = decodeTflite(bytes, source);
  const sig = model.signatureDefs?.[0];
  const sgIndex = sig?.subgraphIndex ?? 0;
  const sg = model.subgraphs[sgIndex];
  if (!sg) throw new MloptError('CORRUPT_MODEL', `${source}: the TFLite model has no subgraph ${sgIndex}`);
  const io = (index: number, key: string | undefined): IoTensor => {
    const t = sg.tensors[index];
    if (!t) throw new MloptError('CORRUPT_MODEL', `${source}: input/output tensor ${index} does not exist`);
    const name = t.name || `tensor_${index}`;
    const signature = t.shapeSignature && t.shapeSignature.length === t.shape.length ? [...t.shapeSignature] : [...t.shape];
    return { name, key: key ?? name, dtype: TFLITE_TYPES[t.type], shape: [...t.shape], signature, dynamicBatch: signature[0] === -1 };
  };
  const inputs = sig ? sig.inputs.map((s) => io(s.tensorIndex, s.name)) : sg.inputs.map((i) => io(i, undefined));
  const outputs = sig ? sig.outputs.map((s) => io(s.tensorIndex, s.name)) : sg.outputs.map((i) => io(i, undefined));
  const customOps = [...new Set(model.operatorCodes.filter((c) => c.customCode).map((c) => c.customCode as string))];
  // refuse what LiteRT.js cannot take, by name, before it fails in its own words
  for (const [list, what] of [[inputs, 'input'], [outputs, 'output']] as const) {
    for (const v of list) {
      if (!v.dtype || !LITERT_DTYPES.has(v.dtype)) {
        const d = v.dtype ?? 'an unknown type';
        throw new MloptError('UNSUPPORTED',
          `LiteRT.js cannot ${what === 'input' ? 'feed' : 'read'} ${d} tensors (model ${what} "${v.name}" is ${d}); its JS tensor API takes float32, int32 and uint8 only`,
          'give the model float32 (or uint8) inputs and outputs, e.g. TFLiteConverter with inference_input_type / inference_output_type = tf.float32, or run it with another runtime');
      }
    }
  }
  for (const v of inputs) {
    const dyn = v.signature.findIndex((d, k) => k > 0 && d < 0);
    if (dyn > 0) {
      throw new MloptError('UNSUPPORTED',
        `LiteRT.js runs static shapes only: model input "${v.name}" has shape ${fmtSignature(v.signature)}, dynamic at axis ${dyn}; mlopt fixes only a dynamic batch (axis 0)`,
        'convert the model with a fixed input shape');
    }
  }
  return { model, inputs, outputs, customOps };
}

const fmtSignature = (s: number[]): string => `[${s.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;

function toValue(v: IoTensor): Value {
  const shape: Dim[] = v.shape.map((d, k) => (k === 0 && v.dynamicBatch ? 'batch' : d));
  return { name: v.name, dtype: v.dtype, shape };
}

// ---------------------------------------------------------------------------
// The runner.

export interface LiteRtRunnerOptions extends RunnerOptions {
  /** the model's path, for messages */
  source?: string;
}

export async function createLiteRtRunner(bytes: Uint8Array, opts: LiteRtRunnerOptions = {}): Promise<Runner> {
  const source = opts.source ?? 'model';
  if (opts.device === 'gpu') {
    throw new MloptError('UNSUPPORTED', `--device gpu: LiteRT.js in Node has no GPU (${source} is a TFLite model)`, NO_GPU_HINT);
  }
  const io = describeIo(bytes, source);
  const handle = await loadLiteRtJs();
  const runner = new LiteRtRunner(handle, bytes, io, source, opts.threads);
  // compile once now, at the model's own batch, so that a model LiteRT.js cannot run fails here
  await runner.compiled(Math.max(1, io.inputs.find((v) => v.dynamicBatch)?.shape[0] ?? 1));
  return runner;
}

interface LiteRtPrepared {
  compiled: CompiledModel;
  tensors: LtTensor[];
}

class LiteRtRunner implements Runner {
  readonly engine = 'litert';
  readonly backend = 'wasm';
  readonly device = 'cpu' as const;
  readonly version: string;
  readonly inputs: Value[];
  readonly outputs: Value[];
  readonly notes: string[] = [];
  private readonly lt: LiteRtJs;
  /** compiled models by batch size (0: a model without a dynamic batch) */
  private readonly cache = new Map<number, Promise<CompiledModel>>();
  /** LiteRT tensors made by prepare(), freed by dispose() */
  private readonly live = new Set<LtTensor>();
  /** compiled models a run failed in: LiteRT.js 2.5 corrupts its heap when one is deleted, so they are left alone */
  private readonly failed = new Set<CompiledModel>();
  private readonly dynamicBatch: boolean;
  private disposed = false;

  constructor(
    private readonly handle: LiteRtHandle,
    private readonly bytes: Uint8Array,
    private readonly io: ModelIo,
    private readonly source: string,
    threads: number | undefined,
  ) {
    this.lt = handle.lt;
    this.version = handle.version;
    this.inputs = io.inputs.map(toValue);
    this.outputs = io.outputs.map(toValue);
    this.dynamicBatch = io.inputs.some((v) => v.dynamicBatch);
    if (threads !== undefined && threads > 1) {
      this.notes.push(`LiteRT.js runs single-threaded in Node (its threaded wasm build needs browser workers); --threads ${threads} ignored`);
    }
  }

  /** The model compiled for `batch` (a copy of the flatbuffer with the batch fixed, if it is dynamic). */
  compiled(batch: number): Promise<CompiledModel> {
    if (this.disposed) return Promise.reject(new MloptError('RUNTIME', `the LiteRT.js runner of ${this.source} is disposed`));
    const key = this.dynamicBatch ? batch : 0;
    let c = this.cache.get(key);
    if (!c) {
      c = this.compile(key);
      this.cache.set(key, c);
      c.catch(() => this.cache.delete(key));
    }
    return c;
  }

  private async compile(batch: number): Promise<CompiledModel> {
    const bytes = batch > 0 ? encodeTflite(withStaticBatch(this.io.model, batch)) : this.bytes;
    const logStart = this.handle.log.mark();
    let model: CompiledModel;
    try {
      model = await this.lt.loadAndCompile(bytes, { accelerator: 'wasm' });
    } catch (err) {
      throw this.engineError('could not load', err, logStart);
    }
    // the runner addresses LiteRT's inputs/outputs by the names the flatbuffer's signature gives them
    const have = new Set(model.getInputDetails().map((d) => d.name));
    const missing = this.io.inputs.filter((v) => !have.has(v.key));
    if (missing.length) {
      model.delete();
      throw new MloptError('RUNTIME', `LiteRT.js does not see model input(s) ${missing.map((v) => v.key).join(', ')} of ${this.source}`);
    }
    return model;
  }

  /** LiteRT's error as one line: its exception names C++ source lines, its log says what was wrong. */
  private engineError(what: string, err: unknown, logStart: number): MloptError {
    if (err instanceof MloptError) return err;
    const raw = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.replace(/^[└\s]*/, ''));
    const thrown = raw.map((l) => l.replace(/^ERROR: \[[^\]]*\]\s*/, '').trim()).filter(Boolean);
    const logged = this.handle.log.since(logStart).filter((l) => l.startsWith('ERROR')).map((l) => l.replace(/^ERROR: (\[[^\]]*\] )?/, '').trim());
    const why = [...new Set(logged)].join('; ');
    const also = [...new Set(thrown)].filter((l) => !logged.includes(l)).join('; ');
    // an error that only names C++ source lines: keep their file names, it is all there is
    const where = raw.map((l) => /^ERROR: \[(?:.*\/)?([^/\]]+)\]/.exec(l)?.[1]).filter(Boolean).join(', ');
    const text = why && also ? `${why} (${also})` : why || also || (where ? `internal error at ${where}` : 'unknown error');
    const custom = this.io.customOps.length ? ` (the model uses custom ops: ${this.io.customOps.join(', ')})` : '';
    return new MloptError('RUNTIME', `LiteRT.js ${what} ${this.source}: ${text}${custom}`);
  }

  /** Feeds → LiteRT tensors in the order of the compiled signature's inputs; compiles for a new batch size. */
  async prepare(feeds: Feeds): Promise<LiteRtPrepared> {
    const batch = this.batchOf(feeds);
    const compiled = await this.compiled(batch);
    const tensors: LtTensor[] = [];
    try {
      for (const d of compiled.getInputDetails()) {
        const v = this.io.inputs.find((i) => i.key === d.name)!;
        const t = feeds.get(v.name) ?? feeds.get(v.key);
        if (!t) throw new MloptError('DATA', `no data for model input "${v.name}"`);
        const want = this.dynamicBatch && v.dynamicBatch ? [batch, ...v.shape.slice(1)] : v.shape;
        if (t.shape.length !== want.length || t.shape.some((n, k) => n !== want[k])) {
          throw new MloptError('SHAPE_MISMATCH', `model input "${v.name}" takes shape [${want.join(',')}]; got [${t.shape.join(',')}]`);
        }
        if (t.dtype !== v.dtype) throw new MloptError('DATA', `model input "${v.name}" is ${v.dtype}; got ${t.dtype} data`);
        const lt = new this.lt.Tensor(t.data as LtTypedArray, t.shape);
        tensors.push(lt);
        this.live.add(lt);
      }
    } catch (err) {
      this.release(tensors);
      throw err;
    }
    return { compiled, tensors };
  }

  private batchOf(feeds: Feeds): number {
    if (!this.dynamicBatch) return 0;
    const sizes = new Set<number>();
    for (const v of this.io.inputs) {
      const t = feeds.get(v.name) ?? feeds.get(v.key);
      if (v.dynamicBatch && t?.shape.length) sizes.add(t.shape[0]!);
    }
    if (sizes.size > 1) throw new MloptError('SHAPE_MISMATCH', `model inputs are fed different batch sizes (${[...sizes].join(', ')})`);
    const b = sizes.values().next().value;
    if (b === undefined) throw new MloptError('DATA', `no data for model input "${this.io.inputs.find((v) => v.dynamicBatch)!.name}"`);
    if (!(b >= 1)) throw new MloptError('SHAPE_MISMATCH', `batch size must be at least 1 (got ${b})`);
    return b;
  }

  private release(tensors: LtTensor[]): void {
    for (const t of tensors) {
      this.live.delete(t);
      t.delete();
    }
  }

  /** The engine call, with LiteRT's errors turned into one-line MloptErrors. */
  private async exec(p: LiteRtPrepared): Promise<LtTensor[]> {
    const logStart = this.handle.log.mark();
    try {
      return await p.compiled.run(p.tensors);
    } catch (err) {
      this.failed.add(p.compiled);
      throw this.engineError('failed to run', err, logStart);
    }
  }

  /** The timed call: run, and copy the outputs out of the wasm heap (as the other runners do). */
  async runPrepared(prepared: unknown): Promise<unknown> {
    const outs = await this.exec((prepared instanceof Promise ? await prepared : prepared) as LiteRtPrepared);
    try {
      return outs.map((o) => o.toTypedArray());
    } finally {
      for (const o of outs) o.delete();
    }
  }

  async run(feeds: Feeds): Promise<Map<string, Tensor>> {
    const p = await this.prepare(feeds);
    try {
      const outs = await this.exec(p);
      const details = p.compiled.getOutputDetails();
      const result = new Map<string, Tensor>();
      try {
        outs.forEach((o, i) => {
          const v = this.io.outputs.find((x) => x.key === details[i]?.name) ?? this.io.outputs[i];
          const name = v?.name ?? `output_${i}`;
          result.set(name, { dtype: o.type.dtype, shape: Array.from(o.type.layout.dimensions as ArrayLike<number>), data: o.toTypedArray() });
        });
      } finally {
        for (const o of outs) o.delete();
      }
      return result;
    } finally {
      this.release(p.tensors);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.release([...this.live]);
    const compiled = await Promise.allSettled(this.cache.values());
    this.cache.clear();
    for (const c of compiled) if (c.status === 'fulfilled' && !this.failed.has(c.value)) c.value.delete();
  }
}

