import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CNN_ONNX, runCli, tempDir, fixtureOnnx } from '../helpers.js';
import { compareModels } from '../../src/api/compare.js';

test('convert X.onnx --to onnx -o Y.onnx: Y runs and equals X bitwise (every fixture)', async () => {
  const dir = tempDir();
  const files = fixtureOnnx();
  assert.ok(files.length >= 3, 'fixture ONNX models present');
  for (const f of files) {
    const out = join(dir, `${f.split('/').pop()}`);
    const r = runCli(['convert', f, '--to', 'onnx', '-o', out]);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    assert.match(r.stdout, /bitwise equal to the input model/);
    const cmp = await compareModels(f, out, 3);
    assert.ok(cmp.length >= 1);
    for (const o of cmp) assert.ok(o.bitwiseEqual, `${f} output ${o.name}: max diff ${o.maxAbsDiff}`);
  }
});

test('convert without -o writes <stem>.converted.onnx in the current directory', () => {
  const dir = tempDir();
  const r = runCli(['convert', CNN_ONNX, '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.output, 'fmnist_cnn.converted.onnx');
  assert.ok(existsSync(join(dir, 'fmnist_cnn.converted.onnx')));
  assert.ok(j.check.outputs.every((o: { bitwiseEqual: boolean }) => o.bitwiseEqual));
  assert.deepEqual(readdirSync(dir), ['fmnist_cnn.converted.onnx'], 'no temp files left');
});
