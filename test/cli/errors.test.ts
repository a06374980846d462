import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNpz } from '../../src/data/npz.js';
import { CNN_ONNX, TEST_NPZ, runCli, tempDir, FIXTURES } from '../helpers.js';

/** A clear one-line error (plus an optional hint line), non-zero exit, no stack trace. */
function assertCleanFailure(r: { code: number; stdout: string; stderr: string }, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.length <= 2, `at most message + hint, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('missing file', () => {
  const dir = tempDir();
  const r = runCli(['inspect', join(dir, 'nope.onnx')]);
  assertCleanFailure(r, /^mlopt: .*nope\.onnx: no such file or directory/);
});

test('truncated .onnx fails cleanly and writes nothing', () => {
  const dir = tempDir();
  const bytes = readFileSync(CNN_ONNX);
  const bad = join(dir, 'trunc.onnx');
  writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = runCli(['convert', bad, '--to', 'onnx', '-o', join(dir, 'out.onnx')]);
  assertCleanFailure(r, /^mlopt: .*trunc\.onnx: not (a model|a valid ONNX)/);
  assert.deepEqual(readdirSync(dir), ['trunc.onnx']);
});

test('random bytes are not a model', () => {
  const dir = tempDir();
  const f = join(dir, 'random.onnx');
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
  writeFileSync(f, buf);
  const r = runCli(['inspect', f]);
  assertCleanFailure(r, /^mlopt: .*random\.onnx: not a model/);
});

test('a directory that is no model', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'empty'));
  const r = runCli(['bench', join(dir, 'empty')]);
  assertCleanFailure(r, /directory holds no model/);
});

test('--data whose shapes do not fit prints both shapes', () => {
  const r = runCli(['bench', join(FIXTURES, 'models', 'fmnist_torch_cnn.onnx'), '--data', join(FIXTURES, 'data', 'fmnist_test_1000.npz'), '--runs', '1', '--warmup', '0'], {});
  assert.equal(r.code, 0, 'torch NCHW model takes NHWC data by transposing: ' + r.stderr);
  const dir = tempDir();
  // data of 10×10 images cannot feed a 28×28 model
  const npz = join(dir, 'small.npz');
  writeFileSync(npz, writeNpz(new Map([['x', { dtype: 'uint8', shape: [4, 10, 10, 1], data: new Uint8Array(400) }]])));
  const bad = runCli(['bench', CNN_ONNX, '--data', npz, '--runs', '1']);
  assertCleanFailure(bad, /\[4,10,10,1\].*\[.*28,28,1\]/);
});

test('--runs 0 is a usage error', () => {
  const r = runCli(['bench', CNN_ONNX, '--runs', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--runs must be an integer ≥ 1/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('unknown option is a usage error', () => {
  const r = runCli(['bench', CNN_ONNX, '--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
});

test('convert refuses to overwrite an existing output without --force, and never the input', () => {
  const dir = tempDir();
  const out = join(dir, 'x.onnx');
  writeFileSync(out, 'keep me');
  const r = runCli(['convert', CNN_ONNX, '-o', out]);
  assertCleanFailure(r, /already exists/);
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
  const before = readFileSync(CNN_ONNX);
  const r2 = runCli(['convert', CNN_ONNX, '-o', CNN_ONNX, '--force']);
  assertCleanFailure(r2, /refusing to write over the input/, 2);
  assert.ok(readFileSync(CNN_ONNX).equals(before));
  assert.ok(existsSync(TEST_NPZ));
});

test('--to with a format a command cannot write', () => {
  const dir = tempDir();
  const r = runCli(['quantize', CNN_ONNX, '--dynamic', '--to', 'tfjs', '-o', join(dir, 'a')]);
  assertCleanFailure(r, /mlopt quantize writes ONNX or TFLite \(got --to tfjs\)/);
  assert.match(r.stderr, /--to tfjs --quantize uint8/);
  assert.deepEqual(readdirSync(dir), []);
  const r2 = runCli(['convert', CNN_ONNX, '--to', 'caffe']);
  assertCleanFailure(r2, /--to must be one of onnx, tflite, tfjs/, 2);
});

test('reading a format this version cannot import says so', () => {
  const r = runCli(['inspect', join(FIXTURES, 'models', 'fmnist_cnn_savedmodel')]);
  assertCleanFailure(r, /models cannot be read by this version/);
});
