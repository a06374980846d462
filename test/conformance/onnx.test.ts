/**
 * Conformance: what mlopt reads and writes, checked with the reference tools (Python onnx and
 * onnxruntime). Run by .ci/run after `pip install -r test/conformance/requirements.txt`;
 * MLOPT_PYTHON names the interpreter (default python3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORPUS_SKIP, ROOT, corpusOnnx, fixtureOnnx, runCli, tempDir } from '../helpers.js';

const PY = process.env.MLOPT_PYTHON ?? 'python3';
const SCRIPT = join(ROOT, 'test', 'conformance', 'onnx_ref.py');
const probe = spawnSync(PY, ['-c', 'import onnx, onnxruntime'], { encoding: 'utf8' });
const PY_SKIP = probe.status === 0 ? false : `${PY} lacks onnx/onnxruntime (pip install -r test/conformance/requirements.txt)`;

function py<T>(...args: string[]): T {
  const r = spawnSync(PY, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`onnx_ref.py ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface Summary {
  inputs: { name: string; dtype: string | null; shape: (number | string)[] | null }[];
  outputs: { name: string; dtype: string | null; shape: (number | string)[] | null }[];
  ops: Record<string, number>;
  nodeCount: number;
  irVersion: number;
  opsets: Record<string, number>;
}

const files = () => [...fixtureOnnx(), ...corpusOnnx()];

test('mlopt inspect agrees with the onnx package on every ONNX file', { skip: PY_SKIP || CORPUS_SKIP }, async (t) => {
  for (const f of files()) {
    await t.test(f.split('/').slice(-2).join('/'), () => {
      const ref = py<Summary>('summary', f);
      const r = runCli(['inspect', f, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.deepEqual(got.inputs, ref.inputs);
      assert.deepEqual(got.outputs, ref.outputs);
      assert.deepEqual(got.ops, ref.ops);
      assert.equal(got.nodeCount, ref.nodeCount);
      assert.equal(got.formatVersion, ref.irVersion);
      assert.deepEqual(Object.fromEntries(got.opsets.map((o: { domain: string; version: number }) => [o.domain, o.version])), ref.opsets);
    });
  }
});

test('mlopt convert --to onnx output: passes onnx.checker where the input does, and runs equal in Python onnxruntime', { skip: PY_SKIP || CORPUS_SKIP }, async (t) => {
  const dir = tempDir();
  for (const [i, f] of files().entries()) {
    await t.test(f.split('/').slice(-2).join('/'), (st) => {
      const out = join(dir, `${i}.onnx`);
      const r = runCli(['convert', f, '--to', 'onnx', '-o', out, '--no-check']);
      assert.equal(r.code, 0, r.stderr);
      const inCheck = py<{ ok: boolean; error?: string }>('check', f);
      const outCheck = py<{ ok: boolean; error?: string }>('check', out);
      if (inCheck.ok) assert.ok(outCheck.ok, `checker rejects the output: ${outCheck.error}`);
      const canRun = spawnSync(PY, ['-c', `import onnxruntime as o; o.InferenceSession(${JSON.stringify(f)}, providers=['CPUExecutionProvider'])`], { encoding: 'utf8' });
      if (canRun.status !== 0) {
        st.diagnostic(`onnxruntime cannot load the input either: ${canRun.stderr.trim().split('\n').pop()}`);
        return;
      }
      const res = py<{ outputs: { name: string; equal: boolean; maxAbsDiff: number }[] }>('run', f, out);
      assert.ok(res.outputs.length > 0);
      for (const o of res.outputs) assert.ok(o.equal, `output ${o.name} differs: ${o.maxAbsDiff}`);
    });
  }
});
