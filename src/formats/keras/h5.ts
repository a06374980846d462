/**
 * HDF5 access for the Keras readers, through h5wasm (loaded only when a Keras file is read).
 * h5wasm reads from its own in-memory file system; its C library prints diagnostics to stderr
 * on errors, which are swallowed here (the caller reports a one-line MloptError instead).
 */
import { createRequire } from 'node:module';
import type { DType } from '../../ir/dtype.js';
import type { Tensor } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';

// the CommonJS fs object h5wasm's Emscripten glue calls (patchable, unlike the ESM namespace)
const nodeFs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

export interface H5Entity {
  /** groups only */
  keys?(): string[];
  attrs?: Record<string, { value: unknown }>;
  /** datasets only */
  shape?: number[] | null;
  value?: unknown;
  /** datasets: h5wasm's type metadata (type 0 integer, 1 float) */
  metadata?: { type?: number; size?: number; signed?: boolean };
}

export interface H5File {
  get(path: string): H5Entity | null | undefined;
  keys(): string[];
  attrs: Record<string, { value: unknown }>;
  close(): void;
}

export interface OpenH5 {
  file: H5File;
  close(): void;
}

export async function openH5(bytes: Uint8Array, source: string): Promise<OpenH5> {
  const h5 = (await import('h5wasm/node')) as unknown as {
    ready: Promise<{ FS: { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void } }>;
    File: new (p: string, mode: string) => H5File;
  };
  const { FS } = await h5.ready;
  const name = `/mlopt_${process.pid}_${Math.random().toString(36).slice(2)}.h5`;
  FS.writeFile(name, bytes);
  let file: H5File;
  try {
    file = quietly(() => {
      const f = new h5.File(name, 'r');
      f.keys(); // h5wasm reports a failed open on first use
      return f;
    });
  } catch {
    FS.unlink(name);
    // h5wasm's own message ("error - name not defined!") says nothing useful
    throw new MloptError('CORRUPT_MODEL', `${source}: not a readable HDF5 file (truncated or corrupt)`);
  }
  return {
    file,
    close: () => {
      file.close();
      FS.unlink(name);
    },
  };
}

/** Run `fn` with the HDF5 library's diagnostics (printed to stderr on errors) swallowed. */
export function quietly<T>(fn: () => T): T {
  // h5wasm's C stderr goes through fs.writeSync(2, ...) or console.error, depending on the build
  const fsw = nodeFs.writeSync;
  const [err, warn, write] = [console.error, console.warn, process.stderr.write.bind(process.stderr)];
  // (report everything as written: a writer that sees 0 bytes written tries again forever)
  const swallowed = (buf: unknown, _o?: unknown, len?: unknown): number =>
    typeof len === 'number' ? len : typeof buf === 'string' ? Buffer.byteLength(buf) : (buf as Uint8Array).byteLength;
  (nodeFs as { writeSync: unknown }).writeSync = (fd: number, ...rest: unknown[]) =>
    fd === 2 ? swallowed(rest[0], rest[1], rest[2]) : (fsw as (...a: unknown[]) => number)(fd, ...rest);
  console.error = () => {};
  console.warn = () => {};
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    (nodeFs as { writeSync: unknown }).writeSync = fsw;
    console.error = err;
    console.warn = warn;
    process.stderr.write = write;
  }
}

/** A string attribute (h5py writes str or bytes; both come back as strings). */
export function attrString(e: H5Entity | H5File | null | undefined, name: string): string | undefined {
  const v = e?.attrs?.[name]?.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/** A list-of-strings attribute (`weight_names`, `layer_names`); an empty numeric array is []. */
export function attrStrings(e: H5Entity | H5File | null | undefined, name: string): string[] | undefined {
  const v = e?.attrs?.[name]?.value;
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return list.map((s) => (s instanceof Uint8Array ? new TextDecoder().decode(s) : s)).filter((s): s is string => typeof s === 'string' && s.length > 0);
}

const TYPED: Array<[new (...a: never[]) => unknown, DType]> = [
  [Float32Array, 'float32'], [Int32Array, 'int32'], [BigInt64Array, 'int64'], [Uint8Array, 'uint8'],
  [Int8Array, 'int8'], [Int16Array, 'int16'], [Uint16Array, 'uint16'], [Uint32Array, 'uint32'], [BigUint64Array, 'uint64'],
];

/** A dataset as an IR tensor (float64 weights become float32, as Keras computes in float32). */
export function datasetTensor(d: H5Entity | null | undefined, where: string): Tensor {
  if (!d || !(Array.isArray(d.shape) || d.shape === null) || d.keys) throw new MloptError('CORRUPT_MODEL', `${where}: not a dataset`);
  const shape = [...(d.shape ?? [])];
  const v = d.value;
  if (v instanceof Float64Array) return { dtype: 'float32', shape, data: Float32Array.from(v) };
  for (const [ctor, dtype] of TYPED) if (v instanceof ctor) return { dtype, shape, data: v as Float32Array };
  // a scalar comes back as a JS number / bigint: its type is in the metadata
  const md = d.metadata;
  if (typeof v === 'bigint' && shape.length === 0) return md?.signed === false ? { dtype: 'uint64', shape, data: BigUint64Array.of(v) } : { dtype: 'int64', shape, data: BigInt64Array.of(v) };
  if (typeof v === 'number' && shape.length === 0) {
    if (md?.type === 1) return { dtype: 'float32', shape, data: Float32Array.of(v) };
    const dtype = `${md?.signed === false ? 'uint' : 'int'}${(md?.size ?? 4) * 8}` as DType;
    const ctor = TYPED.find(([, d]) => d === dtype)?.[0] as (new (n: number) => Int32Array) | undefined;
    if (ctor) {
      const data = new ctor(1);
      data[0] = v;
      return { dtype, shape, data };
    }
  }
  throw new MloptError('UNSUPPORTED', `${where}: weights of type ${(v as object | null)?.constructor?.name ?? typeof v} are not supported`);
}
