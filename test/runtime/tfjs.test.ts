import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, TEST_NPZ } from '../helpers.js';
import { createTfjsRunner } from '../../src/runtime/tfjs.js';
import { loadTfjs } from '../../src/runtime/tfjs-backend.js';
import { loadDataset, prepareFeeds } from '../../src/data/index.js';
import { parseNpz } from '../../src/data/npz.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { maxAbsDiff } from '../../src/bench/agreement.js';

test('backend selection falls back to a backend that loads (tfjs-node is optional)', async () => {
  const { backend, notes } = await loadTfjs('auto');
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(backend));
  if (backend !== 'tensorflow') assert.ok(notes.some((n) => n.includes('tensorflow')), 'why tfjs-node was skipped is recorded');
});

for (const dir of ['fmnist_cnn_tfjs_graph', 'fmnist_cnn_tfjs_layers']) {
  const modelJson = join(FIXTURES, 'models', dir, 'model.json');
  const ref = join(FIXTURES, 'reference', `${dir}.npz`);
  test(`${dir} runs in tfjs and matches the Keras outputs`, { skip: existsSync(modelJson) && existsSync(ref) ? false : 'fixture missing' }, async () => {
    const input = { name: 'input', dtype: 'float32' as const, shape: ['batch', 28, 28, 1] };
    const runner = await createTfjsRunner(modelJson, [input], [{ name: 'probs' }]);
    const ds = await loadDataset(TEST_NPZ);
    const first = prepareFeeds(ds, [input], { batch: 100 }).batches()[Symbol.iterator]().next().value!;
    const feeds = new Map([['input', first.feeds.get('input')!]]);
    const y = toFloat32([...(await runner.run(feeds)).values()][0]!);
    const expected = toFloat32(parseNpz(readFileSync(ref)).get('y')!).subarray(0, y.length);
    assert.equal(y.length, 1000);
    assert.ok(maxAbsDiff(y, expected) < 1e-4, `max |diff| ${maxAbsDiff(y, expected)}`);
    await runner.dispose();
  });
}
