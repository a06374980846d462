/**
 * Every Keras fixture of the layer zoo and every Keras model of ../shared/corpus/keras imports,
 * validates, and (exported to ONNX, run in onnxruntime) reproduces the outputs Keras computed
 * (fixtures/reference/*.npz, made by fixtures/generate/make_keras_zoo.py).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNpz } from '../../../src/data/index.js';
import { loadModel } from '../../../src/formats/load.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import type { Graph } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { CORPUS, FIXTURES } from '../../helpers.js';

const KERAS_CORPUS = join(CORPUS, 'keras');
const model = (m: string) => join(FIXTURES, 'models', m);
const reference = (r: string) => join(FIXTURES, 'reference', r);

async function run(g: Graph, x: Tensor): Promise<Float32Array> {
  const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  try {
    const out = await r.run(new Map([[feedInputs(g)[0]!.name, x]]));
    return toFloat32(out.get(g.outputs[0]!.name)!);
  } finally {
    await r.dispose();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'output sizes');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function importChecked(path: string): Promise<Graph> {
  const { graph: g } = await loadModel(path);
  assert.deepEqual(validateGraph(g).filter((i) => i.severity === 'error'), []);
  assert.equal(g.metadata.sourceFormat, 'keras');
  return g;
}

/** Import, validate, run on the reference inputs and compare with Keras' outputs. */
async function checkAgainst(path: string, ref: string): Promise<number> {
  const g = await importChecked(path);
  const npz = parseNpz(readFileSync(ref), ref);
  const d = maxDiff(await run(g, npz.get('x')!), toFloat32(npz.get('y')!));
  assert.ok(d <= 1e-4, `max |diff| ${d}`);
  return d;
}

describe('Keras layer zoo: every mapped layer reproduces Keras (≤ 1e-4)', () => {
  for (const m of ['keras_zoo_cnn.h5', 'keras_zoo_cnn.keras', 'keras_zoo_seq.h5', 'keras_zoo_seq.keras']) {
    it(m, async () => {
      await checkAgainst(model(m), reference(`${m.replace('.', '_')}.npz`));
    });
  }

  it('the zoo uses every layer class of the issue, a nested model and a shared layer', async () => {
    const classes = new Set<string>();
    let nested = 0;
    let shared = 0;
    const visit = (cfg: Record<string, unknown>): void => {
      for (const l of ((cfg.config as Record<string, unknown>).layers as Array<Record<string, unknown>>)) {
        classes.add(l.class_name as string);
        if (l.class_name === 'Functional' || l.class_name === 'Sequential') {
          nested++;
          visit(l);
        }
        if (((l.inbound_nodes as unknown[] | undefined)?.length ?? 0) > 1) shared++;
      }
    };
    for (const m of ['keras_zoo_cnn.h5', 'keras_zoo_seq.h5']) {
      const g = await importChecked(model(m));
      visit((g.extra!.keras as { modelConfig: Record<string, unknown> }).modelConfig);
    }
    const wanted = ['Conv1D', 'Conv2D', 'SeparableConv2D', 'Conv2DTranspose', 'DepthwiseConv2D', 'LayerNormalization', 'BatchNormalization',
      'PReLU', 'ELU', 'LeakyReLU', 'Softmax', 'Activation', 'MaxPooling1D', 'AveragePooling1D', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D',
      'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Permute', 'Cropping2D', 'UpSampling2D', 'ZeroPadding2D',
      'Embedding', 'Rescaling', 'Normalization', 'LSTM', 'GRU', 'Dense', 'Flatten', 'Reshape', 'Dropout', 'Add', 'Multiply', 'Concatenate'];
    assert.deepEqual(wanted.filter((c) => !classes.has(c)), []);
    assert.ok(nested >= 2 && shared >= 2, `nested ${nested}, shared ${shared}`);
  });

  it('a weights-only .h5 + JSON architecture loads from the folder, the JSON or the .h5', async () => {
    const dir = model('keras_zoo_weights_only');
    for (const p of [dir, join(dir, 'model.json'), join(dir, 'weights.h5')]) {
      await checkAgainst(p, reference('keras_zoo_weights_only.npz'));
    }
    const loaded = await loadModel(dir);
    assert.equal(loaded.format, 'keras-h5');
    assert.equal(loaded.file, join(dir, 'weights.h5'));
    assert.equal(loaded.fileSize, readFileSync(join(dir, 'weights.h5')).length + readFileSync(join(dir, 'model.json')).length);
  });
});

/** Corpus entries (files and weights+architecture folders) and their tf_keras reference, if made. */
function corpusEntries(): Array<{ name: string; path: string; ref?: string }> {
  if (!existsSync(KERAS_CORPUS)) return [];
  return readdirSync(KERAS_CORPUS).sort().map((name) => {
    const ref = reference(`corpus_keras_${name.replace(/\.(h5|keras|hdf5)$/, '')}.npz`);
    return { name, path: join(KERAS_CORPUS, name), ...(existsSync(ref) ? { ref } : {}) };
  });
}

describe('Keras models of ../shared/corpus/keras', () => {
  const entries = corpusEntries();
  it('the corpus is present', (t) => {
    if (!entries.length) return t.skip(`${KERAS_CORPUS} not found`);
    assert.ok(entries.length >= 6);
  });
  for (const e of entries) {
    it(`${e.name}${e.ref ? ' reproduces tf_keras (≤ 1e-4)' : ' imports, validates and runs'}`, async () => {
      if (e.ref) {
        await checkAgainst(e.path, e.ref);
        return;
      }
      const g = await importChecked(e.path);
      const x = feedInputs(g)[0]!;
      const shape = x.shape!.map((d) => (typeof d === 'number' ? d : 2));
      const n = shape.reduce((p, q) => p * q, 1);
      const y = await run(g, { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)) });
      assert.ok(y.length > 0 && y.every(Number.isFinite));
    });
  }
});
