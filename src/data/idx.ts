/**
 * IDX files (MNIST, Fashion-MNIST...): two zero bytes, a dtype byte, a rank
 * byte, big-endian uint32 dims, then big-endian data. Often gzip-compressed.
 */
import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type DType, viewBytes } from '../ir/dtype.js';
import { type Tensor, elementCount } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';
import { byteSwapInPlace } from './npy.js';

const IDX_TYPES: Record<number, DType> = {
  0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
};
const ITEM_BYTES: Partial<Record<DType, number>> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True when the (uncompressed) bytes have an IDX header whose dims match the file size. */
export function isIdx(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) return false;
  const dtype = IDX_TYPES[bytes[2] as number];
  const rank = bytes[3] as number;
  if (!dtype || rank < 1 || bytes.length < 4 + 4 * rank) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 1;
  for (let i = 0; i < rank; i++) count *= dv.getUint32(4 + 4 * i, false);
  return bytes.length === 4 + 4 * rank + count * (ITEM_BYTES[dtype] as number);
}

/** Decompress gzip bytes; MloptError('DATA') when the stream is corrupt. */
export function gunzip(bytes: Uint8Array, source: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new MloptError('DATA', `${source}: corrupt gzip data (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Parse IDX bytes (gzip-compressed or not). `source` names the file in error messages. */
export function parseIdx(input: Uint8Array, source = '<idx>'): Tensor {
  const bytes = isGzip(input) ? gunzip(input, source) : input;
  const fail = (why: string): MloptError => new MloptError('DATA', `${source}: ${why}`);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw fail('not an IDX file (bad magic)');
  const dtype = IDX_TYPES[bytes[2] as number];
  if (!dtype) throw fail(`not an IDX file (unknown type byte 0x${(bytes[2] as number).toString(16).padStart(2, '0')})`);
  const rank = bytes[3] as number;
  const dataStart = 4 + 4 * rank;
  if (rank < 1 || bytes.length < dataStart) throw fail('truncated IDX header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(dv.getUint32(4 + 4 * i, false));
  const count = elementCount(shape);
  const item = ITEM_BYTES[dtype] as number;
  const need = count * item;
  if (bytes.length - dataStart < need) {
    throw fail(`truncated IDX data: [${shape.join(',')}] ${dtype} needs ${need} bytes, file has ${bytes.length - dataStart}`);
  }
  let raw = bytes.subarray(dataStart, dataStart + need);
  if (item > 1) {
    raw = raw.slice();
    byteSwapInPlace(raw, item);
  }
  return { dtype, shape, data: viewBytes(dtype, raw, count) };
}

/**
 * Candidate labels files for an images file: "…images-idx3-ubyte[.gz]" → "…labels-idx1-ubyte[.gz]"
 * (also "images.idx3" → "labels.idx1"), with and without ".gz". Empty when the name has no
 * "images" marker.
 */
export function labelsCandidates(imagesPath: string): string[] {
  const name = basename(imagesPath);
  const replaced = name.replace('images-idx3', 'labels-idx1').replace('images.idx3', 'labels.idx1');
  if (replaced === name) return [];
  const base = replaced.endsWith('.gz') ? replaced.slice(0, -3) : replaced;
  const names = replaced.endsWith('.gz') ? [replaced, base] : [replaced, `${base}.gz`];
  return names.map((n) => join(dirname(imagesPath), n));
}

/** The first existing labels file for `imagesPath`, or undefined. */
export async function findLabelsFile(imagesPath: string): Promise<string | undefined> {
  for (const p of labelsCandidates(imagesPath)) {
    try {
      await access(p);
      return p;
    } catch {
      // try the next one
    }
  }
  return undefined;
}
