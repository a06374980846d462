/**
 * Conformance: .tflite files that mlopt re-encodes run the same in the official TFLite interpreter
 * (ai_edge_litert, else tf.lite; see tflite_ref.py). Run by .ci/run after
 * `pip install -r test/conformance/requirements.txt`; MLOPT_PYTHON names the interpreter (default python3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeTflite, encodeTflite, withStaticBatch, type EncodeTfliteOptions, type TfliteModel } from '../../src/formats/tflite/codec.js';
import { CORPUS, FIXTURES, ROOT, tempDir } from '../helpers.js';

const PY = process.env.MLOPT_PYTHON ?? 'python3';
const SCRIPT = join(ROOT, 'test', 'conformance', 'tflite_ref.py');
const probe = spawnSync(PY, [SCRIPT, 'backend'], { encoding: 'utf8' });
const PY_SKIP = probe.status === 0 ? false : `${PY} has no TFLite interpreter (pip install -r test/conformance/requirements.txt)`;

const tflites = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tflite')).sort().map((f) => join(dir, f)) : [];
const FILES = [...tflites(join(FIXTURES, 'models')), ...tflites(join(CORPUS, 'tflite'))];

interface Compared { backend: string; outputs: { name: string; equal: boolean; maxAbsDiff: number; shape: number[] }[] }

/** Runs tflite_ref.py; `{ error }` when the interpreter cannot load or run a model. */
function py<T>(...args: string[]): T | { error: string } {
  const r = spawnSync(PY, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status === 3) return JSON.parse(r.stdout) as { error: string };
  if (r.status !== 0) throw new Error(`tflite_ref.py ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const dir = PY_SKIP ? '' : tempDir('mlopt-tflite-conf-');

function write(name: string, m: TfliteModel, opts?: EncodeTfliteOptions): string {
  const out = join(dir, name);
  writeFileSync(out, encodeTflite(m, opts));
  return out;
}

/** Compares `a` (run first alone: a model the interpreter cannot run is skipped) with `b` on the same random input. */
function assertSameOutputs(t: TestContext, a: string, b: string, ...extra: string[]): void {
  const alone = py<unknown>('run', a, ...extra);
  if (alone && typeof alone === 'object' && 'error' in alone) {
    t.diagnostic(`the interpreter cannot run ${basename(a)} itself: ${alone.error}`);
    return;
  }
  const res = py<Compared>('compare', a, b, '--seed', '7', ...extra);
  if ('error' in res) assert.fail(`the interpreter runs ${basename(a)} but not ${basename(b)}: ${res.error}`);
  assert.ok(res.outputs.length > 0);
  for (const o of res.outputs) assert.ok(o.equal, `output ${o.name} differs (max |diff| ${o.maxAbsDiff})`);
}

test('re-encoded models give bit-identical outputs in the official interpreter', { skip: PY_SKIP }, async (t) => {
  t.diagnostic(`interpreter: ${(JSON.parse(probe.stdout) as { backend: string }).backend}`);
  for (const [i, f] of FILES.entries()) {
    await t.test(basename(f), (st) => {
      const out = write(`${i}.tflite`, decodeTflite(readFileSync(f), f));
      assertSameOutputs(st, f, out);
    });
  }
});

test('models with buffer data after the flatbuffer (offset layout) run the same', { skip: PY_SKIP }, async (t) => {
  for (const [i, f] of FILES.entries()) {
    await t.test(basename(f), (st) => {
      const out = write(`${i}-ext.tflite`, decodeTflite(readFileSync(f), f), { externalData: true });
      assertSameOutputs(st, f, out);
    });
  }
});

test('withStaticBatch: a static batch-3 model runs like the original resized to batch 3', { skip: PY_SKIP }, async (t) => {
  for (const [i, f] of FILES.entries()) {
    const m = decodeTflite(readFileSync(f), f);
    const sg = m.subgraphs[0]!;
    if (!sg.inputs.some((k) => sg.tensors[k]!.shapeSignature?.[0] === -1)) continue;
    await t.test(basename(f), (st) => {
      const out = write(`${i}-b3.tflite`, withStaticBatch(m, 3));
      assertSameOutputs(st, f, out, '--batch', '3');
      const ran = py<{ inputs: { shape: number[]; shapeSignature: number[] }[] }>('run', out);
      if ('error' in ran) return;
      for (const x of ran.inputs) {
        assert.equal(x.shape[0], 3);
        assert.ok(!x.shapeSignature.includes(-1), `input signature still dynamic: ${x.shapeSignature.join(',')}`);
      }
    });
  }
});
