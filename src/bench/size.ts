import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/** Raw bytes on disk and gzip -6 bytes (what a web server sends), summed over the model's files. */
export function modelSize(path: string): { bytes: number; gzipBytes: number } {
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of modelFiles(path)) {
    const data = readFileSync(f);
    bytes += data.byteLength;
    gzipBytes += gzipSync(data, { level: 6 }).byteLength;
  }
  return { bytes, gzipBytes };
}
