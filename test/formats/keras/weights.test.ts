/**
 * graph.extra.keras: the Keras config and, for every Keras weight, fromIr — which must give back
 * the original Keras tensor bit for bit, and follow edits of the graph's initializers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNpz } from '../../../src/data/index.js';
import { openH5, datasetTensor } from '../../../src/formats/keras/h5.js';
import type { KerasExtra } from '../../../src/formats/keras/index.js';
import { loadModel } from '../../../src/formats/load.js';
import type { Graph } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toNumbers } from '../../../src/ir/tensor.js';
import { MloptError } from '../../../src/util/errors.js';
import { FIXTURES } from '../../helpers.js';

const model = (m: string) => join(FIXTURES, 'models', m);

function kerasOf(g: Graph): KerasExtra {
  const k = g.extra?.keras as KerasExtra | undefined;
  assert.ok(k, 'graph.extra.keras');
  return k;
}

function assertBitEqual(a: Tensor, b: Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, `${what}: dtype`);
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const bytes = (t: Tensor) => Buffer.from((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, (t.data as Float32Array).byteLength);
  assert.ok(bytes(a).equals(bytes(b)), `${what}: data differs`);
}

const current = (g: Graph) => (name: string) => g.initializers.get(name);

describe('graph.extra.keras', () => {
  for (const m of ['fmnist_cnn.h5', 'fmnist_cnn.keras']) {
    it(`${m}: fromIr of every weight is the Keras tensor of fmnist_cnn.h5, bit for bit`, async () => {
      const { graph: g } = await loadModel(model(m));
      const k = kerasOf(g);
      assert.equal((k.modelConfig as { class_name: string }).class_name, 'Functional');
      assert.match(k.kerasVersion ?? '', m.endsWith('.h5') ? /^2\.15/ : /^3\./);
      // conv1, bn1, conv2, bn2, fc1, probs: 2 + 4 + 2 + 4 + 2 + 2
      assert.equal(k.weights.length, 16);
      assert.deepEqual(k.weights.slice(0, 6).map((w) => w.name), ['conv1/kernel', 'conv1/bias', 'bn1/gamma', 'bn1/beta', 'bn1/moving_mean', 'bn1/moving_variance']);
      const { file, close } = await openH5(readFileSync(model('fmnist_cnn.h5')), 'fmnist_cnn.h5');
      try {
        for (const w of k.weights) {
          const original = datasetTensor(file.get(`model_weights/${w.layer}/${w.name}:0`), w.name);
          assertBitEqual(w.fromIr(current(g)), original, `${m} ${w.name}`);
        }
      } finally {
        close();
      }
    });
  }

  for (const m of ['keras_zoo_cnn.h5', 'keras_zoo_cnn.keras', 'keras_zoo_seq.h5', 'keras_zoo_seq.keras', 'keras_zoo_weights_only']) {
    it(`${m}: fromIr gives back every Keras weight (LSTM/GRU gates, depthwise, transposed kernels...)`, async () => {
      const { graph: g } = await loadModel(model(m));
      const k = kerasOf(g);
      const ref = parseNpz(readFileSync(join(FIXTURES, 'reference', `${m.replace('.', '_')}.npz`)));
      const expected = [...ref.keys()].filter((key) => key.startsWith('w/'));
      const seen = new Map<string, number>();
      const got: string[] = [];
      for (const w of k.weights) {
        const i = seen.get(w.layer) ?? 0;
        seen.set(w.layer, i + 1);
        const key = `w/${w.layer}/${i}`;
        got.push(key);
        const want = ref.get(key);
        assert.ok(want, `${key} (${w.name}) is not a Keras weight`);
        assertBitEqual(w.fromIr(current(g)), want, `${m} ${w.name}`);
      }
      assert.deepEqual(got.sort(), expected.sort(), 'every Keras weight, once');
    });
  }

  it('fromIr follows edits of the initializers (a pruned graph exports its pruned weights)', async () => {
    const { graph: g } = await loadModel(model('keras_zoo_seq.h5'));
    const k = kerasOf(g);
    for (const w of k.weights.filter((x) => /lstm_seq|embed|conv_causal|gru_after/.test(x.layer))) {
      const before = w.fromIr(current(g));
      if (before.dtype !== 'float32') continue;
      // zero every initializer: each recovered weight must then be all zero
      const zeroed = (name: string): Tensor | undefined => {
        const t = g.initializers.get(name);
        return t && { ...t, data: new Float32Array((t.data as Float32Array).length) };
      };
      const after = w.fromIr(zeroed);
      assert.deepEqual(after.shape, before.shape);
      assert.ok(toNumbers(after).every((v) => v === 0), w.name);
      // doubling is seen as doubling, at the same positions (the layout maps are exact inverses)
      const doubled = (name: string): Tensor | undefined => {
        const t = g.initializers.get(name);
        return t && { ...t, data: (t.data as Float32Array).map((v) => v * 2) };
      };
      const b2 = toNumbers(w.fromIr(doubled));
      toNumbers(before).forEach((v, i) => assert.equal(b2[i], v * 2));
    }
  });

  it('fromIr says which initializer is gone', async () => {
    const { graph: g } = await loadModel(model('fmnist_cnn.h5'));
    const w = kerasOf(g).weights[0]!;
    assert.throws(() => w.fromIr(() => undefined), (e: unknown) => e instanceof MloptError && /conv1\/kernel.*no longer in the graph/.test(e.message));
  });
});
