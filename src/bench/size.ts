import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedModel } from '../formats/load.js';
import { gzipSync } from 'node:zlib';

/** Every file that makes up a model: the file itself, or all files below a directory. */
export function modelFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

/** Raw bytes on disk and gzip -6 bytes (what a web server sends), summed over the model's files
 *  (every file of a directory format; the bytes already read for a single-file format). */
export function modelSize(model: Pick<LoadedModel, 'path' | 'file' | 'format' | 'bytes'>): { bytes: number; gzipBytes: number } {
  const blobs = model.bytes ? [model.bytes] : modelFiles(model.format === 'tfjs' ? model.path : model.file).map((f) => readFileSync(f));
  let bytes = 0;
  let gzipBytes = 0;
  for (const data of blobs) {
    bytes += data.byteLength;
    gzipBytes += gzipSync(data, { level: 6 }).byteLength;
  }
  return { bytes, gzipBytes };
}
