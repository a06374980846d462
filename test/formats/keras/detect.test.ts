/**
 * detect.ts and Keras files: content, not extension; a weights-only .h5 with its Keras JSON
 * architecture is found from the folder, the JSON or the .h5; a TF.js model.json stays TF.js.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detectFormat, isKerasArchitectureJson } from '../../../src/formats/detect.js';
import { MloptError } from '../../../src/util/errors.js';
import { CORPUS, FIXTURES, tempDir } from '../../helpers.js';

const model = (m: string) => join(FIXTURES, 'models', m);

describe('detectFormat for Keras', () => {
  it('a weights-only pair: folder, JSON and .h5 all resolve to the .h5', () => {
    const dir = model('keras_zoo_weights_only');
    const h5 = join(dir, 'weights.h5');
    for (const p of [dir, join(dir, 'model.json'), h5]) assert.deepEqual(detectFormat(p), { format: 'keras-h5', path: h5 });
  });

  it('the corpus pairs (a model.json that is Keras JSON, a modelConfig.json)', (t) => {
    const k = join(CORPUS, 'keras');
    if (!existsSync(k)) return t.skip(`${k} not found`);
    for (const d of ['kotlindl_lstm_weights_only', 'kotlindl_toyresnet_weights_only']) {
      assert.deepEqual(detectFormat(join(k, d)), { format: 'keras-h5', path: join(k, d, 'weights.h5') });
    }
    assert.deepEqual(detectFormat(join(k, 'kotlindl_lstm_weights_only', 'model.json')).format, 'keras-h5');
    // HDF5 content under a .keras name
    assert.equal(detectFormat(join(k, 'hls4ml_mlp_hdf5_named.keras')).format, 'keras-h5');
  });

  it('TF.js model.json files and folders stay TF.js', () => {
    for (const d of ['fmnist_cnn_tfjs_layers', 'fmnist_cnn_tfjs_graph']) {
      assert.equal(detectFormat(model(d)).format, 'tfjs');
      assert.equal(detectFormat(join(model(d), 'model.json')).format, 'tfjs');
      assert.equal(isKerasArchitectureJson(join(model(d), 'model.json')), false);
    }
    assert.equal(isKerasArchitectureJson(model('keras_zoo_weights_only/model.json')), true);
  });

  it('a Keras JSON with no .h5 or several beside it is refused', () => {
    const dir = tempDir();
    copyFileSync(model('keras_zoo_weights_only/model.json'), join(dir, 'arch.json'));
    assert.throws(() => detectFormat(join(dir, 'arch.json')), (e: unknown) => e instanceof MloptError && /no \.h5 weights file lies beside it/.test(e.message));
    mkdirSync(join(dir, 'sub'));
    assert.throws(() => detectFormat(dir), (e: unknown) => e instanceof MloptError && e.code === 'NOT_A_MODEL');
    copyFileSync(model('keras_zoo_weights_only/weights.h5'), join(dir, 'a.h5'));
    copyFileSync(model('keras_zoo_weights_only/weights.h5'), join(dir, 'b.h5'));
    assert.throws(() => detectFormat(join(dir, 'arch.json')), (e: unknown) => e instanceof MloptError && /several \.h5 files beside it/.test(e.message));
    assert.throws(() => detectFormat(dir), (e: unknown) => e instanceof MloptError && /directory holds no model/.test(e.message));
  });
});
