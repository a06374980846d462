import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, realpathSync } from 'node:fs';
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

/**
 * Write a folder of files (a TF.js model: model.json + weight shards) atomically: everything
 * goes into a temporary sibling folder that is renamed into place at the end, so a crash never
 * leaves a half-written model. An existing output folder is replaced only with `force`; a path
 * that is an input, or a folder holding an input, is never written over.
 */
export function writeDirAtomic(path: string, files: Array<{ path: string; bytes: Uint8Array }>, opts: { force?: boolean; inputs?: string[] } = {}): void {
  const target = resolve(path);
  for (const input of opts.inputs ?? []) {
    const real = (() => {
      try {
        return realpathSync(input);
      } catch {
        return resolve(input);
      }
    })();
    if (sameFile(target, input) || real.startsWith(`${sameRoot(target)}/`)) {
      throw new MloptError('USAGE', `refusing to write over the input ${input}; choose another -o path`);
    }
  }
  if (existsSync(target)) {
    if (!opts.force) throw new MloptError('OUTPUT_EXISTS', `${path} already exists`, 'pass --force to replace it, or choose another -o path');
    if (!statSync(target).isDirectory()) throw new MloptError('USAGE', `${path} exists and is not a folder; a TF.js model is written as a folder`);
  }
  if (!existsSync(dirname(target))) throw new MloptError('FILE_NOT_FOUND', `output directory ${dirname(path)} does not exist`);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const old = join(dirname(target), `.${basename(target)}.${process.pid}.old`);
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const f of files) {
      const dest = resolve(tmp, f.path);
      if (!dest.startsWith(`${tmp}/`)) throw new MloptError('USAGE', `refusing to write ${f.path} outside the output folder`);
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, f.bytes);
    }
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw err;
  }
}

function sameRoot(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
