import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CNN_ONNX, CORPUS_SKIP, corpusOnnx, runCli } from '../helpers.js';

test('inspect prints the fixture CNN', () => {
  const r = runCli(['inspect', CNN_ONNX]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /format\s+ONNX \(IR version \d+\)/);
  assert.match(r.stdout, /producer\s+tf2onnx/);
  assert.match(r.stdout, /quantized\s+no/);
  assert.match(r.stdout, /Conv\s+2/);
  assert.match(r.stdout, /inputs\n\s+\S+\s+float32 \[[^,\]]+,28,28,1\]/);
});

test('inspect --json has the model facts', () => {
  const r = runCli(['inspect', CNN_ONNX, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.format, 'onnx');
  assert.equal(j.inputs.length, 1);
  assert.deepEqual(j.inputs[0].shape.slice(1), [28, 28, 1]);
  assert.deepEqual(j.outputs[0].shape.slice(1), [10]);
  assert.ok(j.parameters > 50_000 && j.parameters < 200_000, `parameters ${j.parameters}`);
  assert.equal(j.quantized, false);
  assert.ok(j.bytes > j.gzipBytes);
});

test('inspect --ir dumps the graph as JSON', () => {
  const r = runCli(['inspect', CNN_ONNX, '--ir']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(Array.isArray(j.nodes) && j.nodes.length > 5);
  const conv = j.nodes.find((n: { op: string }) => n.op === 'Conv');
  assert.equal(conv.layout, 'NCHW');
  assert.ok(Object.values(j.initializers).every((t: unknown) => typeof (t as { bytes: number }).bytes === 'number'));
});

test('inspect every corpus ONNX file', { skip: CORPUS_SKIP }, () => {
  for (const f of corpusOnnx()) {
    const r = runCli(['inspect', f, '--json']);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    assert.ok(j.nodeCount >= 1, f);
    assert.ok(j.outputs.length >= 1, f);
  }
});

test('--help and --version', () => {
  const h = runCli(['--help']);
  assert.equal(h.code, 0);
  for (const cmd of ['inspect', 'convert', 'bench']) assert.match(h.stdout, new RegExp(`\\b${cmd}\\b`));
  for (const cmd of ['inspect', 'convert', 'bench']) {
    const c = runCli([cmd, '--help']);
    assert.equal(c.code, 0);
    assert.match(c.stdout, /Examples:/);
  }
  const v = runCli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test('inspect reports validation errors of a broken graph', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { exportOnnxBytes } = await import('../../src/formats/onnx/export.js');
  const { createGraph } = await import('../../src/ir/graph.js');
  const { tempDir } = await import('../helpers.js');
  const g = createGraph('broken');
  g.metadata.opsets = [{ domain: '', version: 17 }];
  g.inputs = [{ name: 'x', dtype: 'float32', shape: [1, 4] }];
  g.outputs = [{ name: 'y', dtype: 'float32', shape: [1, 4] }];
  g.nodes = [{ name: 'add', op: 'Add', domain: '', inputs: ['x', 'ghost'], outputs: ['y'], attrs: {} }];
  const f = join(tempDir(), 'broken.onnx');
  writeFileSync(f, exportOnnxBytes(g));
  const r = runCli(['inspect', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /validation\s+1 error\(s\)/);
  assert.match(r.stdout, /error: .*ghost/);
});
