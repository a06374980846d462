import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORPUS, FIXTURES, TEST_NPZ, runCli, tempDir } from '../helpers.js';
import { encodeTflite, makeOperatorCode } from '../../src/formats/tflite/codec.js';
import type { TfliteOperator, TfliteTensor } from '../../src/formats/tflite/codec.js';
import { loadModel } from '../../src/formats/load.js';

const CNN_TFLITE = join(FIXTURES, 'models', 'fmnist_cnn_float32.tflite');
const INT8_IO = join(CORPUS, 'tflite', 'tflm_hello_world_int8.tflite');
const corpusSkip = existsSync(INT8_IO) ? false : `${INT8_IO} not found`;

test('bench a .tflite model on the test subset: LiteRT.js runs it, 91.2% top-1', () => {
  const r = runCli(['bench', CNN_TFLITE, '--data', TEST_NPZ, '--runs', '10', '--warmup', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /litert \d+\.\d+\.\d+ wasm/);
  assert.match(r.stdout, /91\.20%/);
  assert.equal(r.stderr.includes('WebGPU'), false, r.stderr);
});

test('bench --json on a .tflite model at batch 32: engine, batch, accuracy', () => {
  const r = runCli(['bench', CNN_TFLITE, '--data', TEST_NPZ, '--runs', '3', '--warmup', '1', '--batch', '32', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [res] = JSON.parse(r.stdout).results;
  assert.match(res.engine, /^litert \d/);
  assert.equal(res.backend, 'wasm');
  assert.equal(res.format, 'tflite');
  assert.equal(res.batch, 32);
  assert.equal(res.samples, 1000);
  assert.equal(res.accuracy, 0.912);
  assert.ok(res.bytes > 300_000 && res.gzipBytes < res.bytes);
});

test('bench several models: one LiteRT.js cannot run gets its reason, the others are measured', { skip: corpusSkip }, () => {
  const r = runCli(['bench', CNN_TFLITE, INT8_IO, '--runs', '2', '--warmup', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /not run: LiteRT\.js cannot feed int8 tensors \(model input "[^"]+" is int8\)/);
  const j = JSON.parse(runCli(['bench', CNN_TFLITE, INT8_IO, '--runs', '2', '--warmup', '0', '--json']).stdout);
  assert.equal(j.results.length, 2);
  assert.ok(j.results[0].latency.p50Ms > 0);
  assert.equal(j.results[1].error.code, 'UNSUPPORTED');
});

test('bench exits 1 with the reason when no model could be measured', { skip: corpusSkip }, () => {
  const r = runCli(['bench', INT8_IO, '--runs', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^mlopt: LiteRT\.js cannot feed int8 tensors/);
  assert.match(r.stderr, /hint: /);
});

test('bench --device gpu on a .tflite model: no GPU in LiteRT.js for Node', () => {
  const r = runCli(['bench', CNN_TFLITE, '--device', 'gpu', '--runs', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LiteRT\.js in Node has no GPU/);
});

/** x (float32) → CAST uint32 → CAST float32 → y: LiteRT.js runs it; mlopt's importer has no uint32 Cast. */
function castUint32Model(): string {
  const tensor = (name: string, type: number): TfliteTensor => ({ name, type, shape: [1, 4], shapeSignature: [-1, 4], buffer: 0, isVariable: false, hasRank: true, externalBuffer: 0 });
  const cast = (i: number, o: number): TfliteOperator => ({ opcodeIndex: 0, inputs: [i], outputs: [o], customOptionsFormat: 0, debugMetadataIndex: -1 });
  const bytes = encodeTflite({
    version: 3,
    operatorCodes: [makeOperatorCode('CAST')],
    buffers: [{ data: new Uint8Array(0) }],
    subgraphs: [{ tensors: [tensor('x', 0), tensor('x_uint32', 15), tensor('y', 0)], inputs: [0], outputs: [2], operators: [cast(0, 1), cast(1, 2)], debugMetadataIndex: -1 }],
  });
  const path = join(tempDir(), 'cast_uint32.tflite');
  writeFileSync(path, bytes);
  return path;
}

test('bench runs a .tflite model the IR cannot read from its file (parameters shown as -)', async (t) => {
  const path = castUint32Model();
  const irReads = await loadModel(path).then(() => true, () => false);
  if (irReads) return t.skip('the TFLite importer reads this model now; the fallback is not exercised');
  const r = runCli(['bench', path, '--runs', '3', '--warmup', '1', '--batch', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [res] = JSON.parse(r.stdout).results;
  assert.match(res.engine, /^litert /);
  assert.equal(res.parameters, undefined);
  assert.ok(res.latency.p50Ms > 0);
  assert.ok(res.notes.some((n: string) => n.startsWith('parameters and sparsity not shown')), res.notes.join('\n'));
  const table = runCli(['bench', path, '--runs', '3', '--warmup', '1']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /│ tflite │ litert \S+ wasm\/cpu │ [^│]+│ [^│]+│ - /);
});

const SSD = join(CORPUS, 'tflite', 'tfls_coco_ssd_mobilenet_v1_uint8_postprocess.tflite');
test('a model that fails inside LiteRT.js at run time does not take the next ones down', { skip: existsSync(SSD) ? false : `${SSD} not found` }, () => {
  // its run fails in LiteRT.js (outputs sized at run time by TFLite_Detection_PostProcess); deleting
  // that compiled model would corrupt LiteRT.js's wasm heap, so the runner leaves it alone
  const r = runCli(['bench', SSD, CNN_TFLITE, '--runs', '3', '--warmup', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [ssd, cnn] = JSON.parse(r.stdout).results;
  assert.equal(ssd.error.code, 'RUNTIME');
  assert.match(ssd.error.message, /^LiteRT\.js failed to run /);
  assert.ok(cnn.latency.p50Ms > 0);
});
