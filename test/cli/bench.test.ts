import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CNN_ONNX, FIXTURES, TEST_NPZ, runCli } from '../helpers.js';

test('bench the CNN on the test subset: table with accuracy ≥ 89%', () => {
  const r = runCli(['bench', CNN_ONNX, '--data', TEST_NPZ, '--runs', '20', '--warmup', '2']);
  assert.equal(r.code, 0, r.stderr);
  for (const h of ['p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'samples/s', 'gzip', 'params', 'top-1']) assert.ok(r.stdout.includes(h), h);
  const acc = Number(/(\d+\.\d+)%\s*│\s*-\s*│\s*-\s*│/.exec(r.stdout)?.[1]);
  assert.ok(acc >= 89, `accuracy ${acc} in\n${r.stdout}`);
});

test('bench --json: two models, agreement with the first', () => {
  const torch = join(FIXTURES, 'models', 'fmnist_torch_cnn.onnx');
  const r = runCli(['bench', CNN_ONNX, CNN_ONNX, torch, '--data', TEST_NPZ, '--runs', '5', '--warmup', '1', '--batch', '4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.results.length, 3);
  const [a, b, c] = j.results;
  assert.equal(a.agreement, undefined);
  assert.equal(b.agreement.top1, 1);
  assert.equal(b.agreement.maxAbsDiff, 0);
  assert.equal(b.accuracy, a.accuracy);
  assert.ok(c.agreement.top1 > 0.8 && c.agreement.top1 < 1, `torch vs keras agreement ${c.agreement.top1}`);
  for (const res of j.results) {
    assert.equal(res.latency.runs, 5);
    assert.ok(res.latency.p50Ms > 0 && res.latency.p50Ms <= res.latency.p99Ms);
    assert.equal(res.batch, 4);
    assert.ok(res.throughput > 0);
    assert.equal(res.samples, 1000);
  }
});

test('bench without --data uses random inputs; --markdown prints a Markdown table', () => {
  const r = runCli(['bench', CNN_ONNX, '--runs', '3', '--warmup', '0', '--batch', '2', '--markdown']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\| model \| format \|/m);
  assert.match(r.stdout, /\|---\|/);
  assert.match(r.stdout, /random inputs/);
});

test('bench on the IDX test files', () => {
  const r = runCli(['bench', CNN_ONNX, '--data', join(FIXTURES, 'data', 'fmnist_test_100-images-idx3-ubyte.gz'), '--runs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.results[0].samples, 100);
  assert.ok(j.results[0].accuracy > 0.8);
});

test('--device gpu without CUDA fails with a clear hint', () => {
  const r = runCli(['bench', CNN_ONNX, '--device', 'gpu', '--runs', '1']);
  if (r.code === 0) return; // a machine with CUDA onnxruntime: nothing to check
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^mlopt: --device gpu: onnxruntime could not start CUDA/);
  assert.match(r.stderr, /hint: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
});
