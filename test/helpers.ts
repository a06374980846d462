import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { maxAbsDiff } from '../src/bench/agreement.js';
import { type Tensor, toFloat32 } from '../src/ir/tensor.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin', 'mlopt.js');
export const CORPUS = resolve(ROOT, '..', 'shared', 'corpus');
export const FIXTURES = join(ROOT, 'fixtures');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (bin/mlopt.js → dist/) as a user would. */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: 'true', ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'mlopt-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function walk(dir: string, pred: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p, pred));
    else if (pred(p)) out.push(p);
  }
  return out.sort();
}

/** Every .onnx file of ../shared/corpus/onnx (empty when ../shared is absent). */
export function corpusOnnx(): string[] {
  return walk(join(CORPUS, 'onnx'), (f) => f.endsWith('.onnx'));
}

export function fixtureOnnx(): string[] {
  return walk(join(FIXTURES, 'models'), (f) => f.endsWith('.onnx'));
}

export const CORPUS_SKIP = existsSync(join(CORPUS, 'onnx')) ? false : `../shared/corpus/onnx not found (${CORPUS}); corpus tests skipped`;

export const CNN_ONNX = join(FIXTURES, 'models', 'fmnist_cnn.onnx');
export const TEST_NPZ = join(FIXTURES, 'data', 'fmnist_test_1000.npz');

/** Largest |a − b| between two tensors of the same shape (asserted); NaN anywhere gives NaN. */
export function tensorMaxDiff(a: Tensor, b: Tensor, what: string): number {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  return maxAbsDiff(toFloat32(a), toFloat32(b));
}
