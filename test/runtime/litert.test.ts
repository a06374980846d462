import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORPUS, FIXTURES, TEST_NPZ } from '../helpers.js';
import { createLiteRtRunner } from '../../src/runtime/litert.js';
import { argmaxRows, loadDataset, prepareFeeds, randomFeeds } from '../../src/data/index.js';
import { parseNpz } from '../../src/data/npz.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { maxAbsDiff, top1Accuracy } from '../../src/bench/agreement.js';
import { decodeTflite, encodeTflite } from '../../src/formats/tflite/codec.js';
import { MloptError } from '../../src/util/errors.js';
import type { Runner } from '../../src/runtime/runner.js';

const MODELS = join(FIXTURES, 'models');
const CORPUS_TFLITE = join(CORPUS, 'tflite');
const corpusSkip = (f: string): false | string => (existsSync(join(CORPUS_TFLITE, f)) ? false : `${join(CORPUS_TFLITE, f)} not found`);

const open = async (path: string): Promise<Runner> => createLiteRtRunner(new Uint8Array(readFileSync(path)), { source: path });

/** Outputs on the whole test subset at `batch`, and their top-1 accuracy. */
async function evaluate(runner: Runner, batch: number): Promise<{ y: Float32Array; accuracy: number }> {
  const ds = await loadDataset(TEST_NPZ);
  const prepared = prepareFeeds(ds, runner.inputs, { batch });
  const chunks: Float32Array[] = [];
  for (const b of prepared.batches()) {
    const out = await runner.run(b.feeds);
    const y = out.get(runner.outputs[0]!.name);
    assert.ok(y, `output ${runner.outputs[0]!.name} in ${[...out.keys()].join(', ')}`);
    assert.deepEqual(y.shape, [b.size, 10]);
    chunks.push(toFloat32(y).slice());
  }
  const y = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    y.set(c, off);
    off += c.length;
  }
  const pred = argmaxRows(y, y.length / 10, 10);
  return { y, accuracy: top1Accuracy(pred, prepared.labels!) };
}

const reference = (name: string): Float32Array => toFloat32(parseNpz(readFileSync(join(FIXTURES, 'reference', name))).get('y')!);

test('fmnist_cnn_float32.tflite: inputs/outputs from the flatbuffer, dynamic batch as "batch"', async () => {
  const runner = await open(join(MODELS, 'fmnist_cnn_float32.tflite'));
  try {
    assert.equal(runner.engine, 'litert');
    assert.match(runner.version, /^\d+\.\d+\.\d+/);
    assert.equal(runner.backend, 'wasm');
    assert.equal(runner.device, 'cpu');
    assert.deepEqual(runner.inputs, [{ name: 'serving_default_input:0', dtype: 'float32', shape: ['batch', 28, 28, 1] }]);
    assert.deepEqual(runner.outputs, [{ name: 'StatefulPartitionedCall:0', dtype: 'float32', shape: ['batch', 10] }]);
  } finally {
    await runner.dispose();
  }
});

for (const batch of [1, 32]) {
  test(`fmnist_cnn_float32.tflite at batch ${batch} reproduces tf.lite.Interpreter's outputs (≤ 1e-5) and 91.2%`, async () => {
    const runner = await open(join(MODELS, 'fmnist_cnn_float32.tflite'));
    try {
      const { y, accuracy } = await evaluate(runner, batch);
      const expected = reference('fmnist_cnn_float32_tflite.npz');
      assert.equal(y.length, expected.length);
      assert.ok(maxAbsDiff(y, expected) <= 1e-5, `max |diff| ${maxAbsDiff(y, expected)}`);
      assert.equal(accuracy, 0.912);
    } finally {
      await runner.dispose();
    }
  });

  test(`fmnist_cnn_int8.tflite (float I/O) at batch ${batch}: 91.3%`, async () => {
    const runner = await open(join(MODELS, 'fmnist_cnn_int8.tflite'));
    try {
      const { y, accuracy } = await evaluate(runner, batch);
      assert.equal(accuracy, 0.913);
      // the int8 kernels give what tf.lite.Interpreter gave (bit-exact here)
      const diff = maxAbsDiff(y, reference('fmnist_cnn_int8_tflite.npz'));
      assert.ok(diff <= 1e-6, `max |diff| ${diff}`);
    } finally {
      await runner.dispose();
    }
  });
}

test('prepare + runPrepared: the engine call alone, outputs equal to run()', async () => {
  const runner = await open(join(MODELS, 'fmnist_cnn_float32.tflite'));
  try {
    const feeds = randomFeeds(runner.inputs, 4);
    const prepared = await runner.prepare(feeds);
    const outs = (await runner.runPrepared(prepared)) as Float32Array[];
    const again = (await runner.runPrepared(prepared)) as Float32Array[];
    const y = toFloat32([...(await runner.run(feeds)).values()][0]!);
    assert.equal(outs.length, 1);
    assert.deepEqual(outs[0], y);
    assert.deepEqual(again[0], y);
  } finally {
    await runner.dispose();
  }
});

test('dispose frees the runner: a later run is refused', async () => {
  const runner = await open(join(MODELS, 'fmnist_mlp_float32.tflite'));
  const feeds = randomFeeds(runner.inputs, 2);
  await runner.prepare(feeds); // left for dispose() to free
  await runner.run(feeds);
  await runner.dispose();
  await assert.rejects(runner.run(feeds), /disposed/);
});

test('feeds of the wrong shape or dtype get a clear error', async () => {
  const runner = await open(join(MODELS, 'fmnist_cnn_float32.tflite'));
  try {
    const bad = new Map([['serving_default_input:0', { dtype: 'float32' as const, shape: [2, 28, 28], data: new Float32Array(2 * 784) }]]);
    await assert.rejects(runner.run(bad), (e: unknown) => e instanceof MloptError && e.code === 'SHAPE_MISMATCH' && /takes shape \[2,28,28,1\]/.test(e.message));
    const ints = new Map([['serving_default_input:0', { dtype: 'int32' as const, shape: [1, 28, 28, 1], data: new Int32Array(784) }]]);
    await assert.rejects(runner.run(ints), (e: unknown) => e instanceof MloptError && /is float32; got int32/.test(e.message));
    await assert.rejects(runner.run(new Map()), (e: unknown) => e instanceof MloptError && e.code === 'DATA');
  } finally {
    await runner.dispose();
  }
});

test('--device gpu: LiteRT.js in Node has no GPU', async () => {
  await assert.rejects(
    createLiteRtRunner(new Uint8Array(readFileSync(join(MODELS, 'fmnist_cnn_float32.tflite'))), { device: 'gpu' }),
    (e: unknown) => e instanceof MloptError && e.code === 'UNSUPPORTED' && /LiteRT\.js in Node has no GPU/.test(e.message) && /WebGPU/.test(e.hint ?? ''),
  );
});

test('a model with int8 inputs/outputs is refused by name', { skip: corpusSkip('tflm_hello_world_int8.tflite') }, async () => {
  await assert.rejects(open(join(CORPUS_TFLITE, 'tflm_hello_world_int8.tflite')), (e: unknown) => {
    assert.ok(e instanceof MloptError);
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /^LiteRT\.js cannot feed int8 tensors \(model input "[^"]+" is int8\)/);
    assert.match(e.hint ?? '', /float32/);
    return true;
  });
});

test('a dynamic dim other than the batch is refused', async () => {
  const model = decodeTflite(new Uint8Array(readFileSync(join(MODELS, 'fmnist_cnn_float32.tflite'))));
  const sg = model.subgraphs[0]!;
  const input = sg.tensors[sg.inputs[0]!]!;
  input.shapeSignature = [-1, -1, 28, 1];
  await assert.rejects(createLiteRtRunner(encodeTflite(model), { source: 'dyn.tflite' }), (e: unknown) => {
    assert.ok(e instanceof MloptError);
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /static shapes only: model input "serving_default_input:0" has shape \[\?,\?,28,1\], dynamic at axis 1/);
    return true;
  });
});

test('a static-shape corpus model runs as is (MobileNet v1 0.25, float)', { skip: corpusSkip('tfls_mobilenet_v1_0.25_float_metadata.tflite') }, async () => {
  const runner = await open(join(CORPUS_TFLITE, 'tfls_mobilenet_v1_0.25_float_metadata.tflite'));
  try {
    assert.deepEqual(runner.inputs.map((v) => v.shape), [[1, 224, 224, 3]]);
    const y = toFloat32([...(await runner.run(randomFeeds(runner.inputs, 1))).values()][0]!);
    assert.equal(y.length, 1001);
    assert.ok(Math.abs(y.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'softmax sums to 1');
    // its batch is fixed: another batch is a shape error, not a recompile
    await assert.rejects(runner.run(randomFeeds([{ ...runner.inputs[0]!, shape: [2, 224, 224, 3] }], 2)), (e: unknown) => e instanceof MloptError && e.code === 'SHAPE_MISMATCH');
  } finally {
    await runner.dispose();
  }
});

test('a model LiteRT.js cannot load fails with its reason, not a crash', { skip: corpusSkip('tflm_mnist_lstm_float.tflite') }, async () => {
  await assert.rejects(open(join(CORPUS_TFLITE, 'tflm_mnist_lstm_float.tflite')), (e: unknown) => {
    assert.ok(e instanceof MloptError, String(e));
    assert.ok(['RUNTIME', 'UNSUPPORTED'].includes(e.code), e.code);
    assert.match(e.message, /^LiteRT\.js/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});

test('a model LiteRT.js loads but cannot run gives an MloptError from run and runPrepared', { skip: corpusSkip('tfls_coco_ssd_mobilenet_v1_uint8_postprocess.tflite') }, async () => {
  // TFLite_Detection_PostProcess sizes its outputs at run time; LiteRT.js cannot hand them back
  const runner = await open(join(CORPUS_TFLITE, 'tfls_coco_ssd_mobilenet_v1_uint8_postprocess.tflite'));
  try {
    const feeds = randomFeeds(runner.inputs, 1);
    const refused = (e: unknown): boolean => e instanceof MloptError && e.code === 'RUNTIME' && /^LiteRT\.js failed to run \S+: .+ \(the model uses custom ops: TFLite_Detection_PostProcess\)$/.test(e.message);
    await assert.rejects(runner.run(feeds), refused);
    await assert.rejects(runner.runPrepared(await runner.prepare(feeds)), refused);
  } finally {
    await runner.dispose();
  }
});
