import { existsSync, renameSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MloptError } from './errors.js';

/**
 * Write `bytes` to `path` through a temporary file in the same directory and a rename, so a
 * crash never leaves a half-written output. Refuses to overwrite unless `force`, and never
 * writes over any path listed in `inputs`.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, opts: { force?: boolean; inputs?: string[] } = {}): void {
  const target = resolve(path);
  for (const input of opts.inputs ?? []) {
    if (sameFile(target, input)) throw new MloptError('USAGE', `refusing to write over the input ${input}; choose another -o path`);
  }
  if (existsSync(target) && !opts.force) {
    throw new MloptError('OUTPUT_EXISTS', `${path} already exists`, 'pass --force to overwrite it, or choose another -o path');
  }
  if (!existsSync(dirname(target))) throw new MloptError('FILE_NOT_FOUND', `output directory ${dirname(path)} does not exist`);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}
