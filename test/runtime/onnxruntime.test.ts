import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, TEST_NPZ } from '../helpers.js';
import { loadModel } from '../../src/formats/load.js';
import { createRunner } from '../../src/runtime/index.js';
import { loadDataset, prepareFeeds } from '../../src/data/index.js';
import { parseNpz } from '../../src/data/npz.js';
import { feedInputs } from '../../src/ir/graph.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { maxAbsDiff } from '../../src/bench/agreement.js';

/** mlopt's data pipeline + onnxruntime runner reproduce the outputs the Python tools recorded. */
for (const [model, ref] of [
  ['fmnist_cnn.onnx', 'fmnist_cnn_onnx.npz'],
  ['fmnist_mlp.onnx', 'fmnist_mlp_onnx.npz'],
  ['fmnist_torch_cnn.onnx', 'fmnist_torch_cnn_onnx.npz'],
] as const) {
  const refPath = join(FIXTURES, 'reference', ref);
  test(`${model} on the test subset matches ${ref}`, { skip: existsSync(refPath) ? false : `${refPath} missing` }, async () => {
    const m = await loadModel(join(FIXTURES, 'models', model));
    const ds = await loadDataset(TEST_NPZ);
    const prepared = prepareFeeds(ds, feedInputs(m.graph), { batch: 250 });
    const runner = await createRunner(m, { threads: 1 });
    const expected = toFloat32(parseNpz(readFileSync(refPath)).get('y')!);
    try {
      const got = new Float32Array(expected.length);
      let off = 0;
      for (const b of prepared.batches()) {
        const y = toFloat32([...(await runner.run(b.feeds)).values()][0]!);
        got.set(y, off);
        off += y.length;
      }
      assert.equal(off, expected.length);
      assert.ok(maxAbsDiff(got, expected) < 1e-4, `max |diff| ${maxAbsDiff(got, expected)}`);
    } finally {
      await runner.dispose();
    }
  });
}

test('threads option is honoured and results do not depend on it', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.onnx'));
  const ds = await loadDataset(TEST_NPZ);
  const feeds = prepareFeeds(ds, feedInputs(m.graph), { batch: 8 }).batches()[Symbol.iterator]().next().value!.feeds;
  const r1 = await createRunner(m, { threads: 1 });
  const r2 = await createRunner(m, { threads: 2 });
  const a = toFloat32([...(await r1.run(feeds)).values()][0]!);
  const b = toFloat32([...(await r2.run(feeds)).values()][0]!);
  assert.ok(maxAbsDiff(a, b) < 1e-5);
  await r1.dispose();
  await r2.dispose();
});
