/**
 * NumPy .npz archives: a zip of .npy files, stored (np.savez) or deflated
 * (np.savez_compressed). Arrays are keyed by entry name without ".npy".
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { Tensor } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';
import { parseNpy, writeNpy } from './npy.js';

/** True when the bytes start like a zip archive (local file header or empty-archive record). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
    ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06));
}

/** Parse a .npz archive. `source` names the file in error messages. */
export function parseNpz(bytes: Uint8Array, source = '<npz>'): Map<string, Tensor> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => f.name.endsWith('.npy') });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new MloptError('DATA', `${source}: not a valid .npz (${why})`);
  }
  const out = new Map<string, Tensor>();
  for (const [name, data] of Object.entries(entries)) {
    const key = name.slice(0, -'.npy'.length);
    out.set(key, parseNpy(data, `${source}:${name}`));
  }
  if (out.size === 0) throw new MloptError('DATA', `${source}: not a valid .npz (no .npy arrays inside)`);
  return out;
}

export interface WriteNpzOptions {
  /** deflate the entries like np.savez_compressed (default false: stored, like np.savez). */
  compress?: boolean;
}

/** Build a .npz archive from named tensors. */
export function writeNpz(arrays: Map<string, Tensor> | Record<string, Tensor>, opts: WriteNpzOptions = {}): Uint8Array {
  const files: Zippable = {};
  const list = arrays instanceof Map ? [...arrays] : Object.entries(arrays);
  for (const [name, t] of list) files[`${name}.npy`] = writeNpy(t);
  return zipSync(files, { level: opts.compress ? 6 : 0 });
}
