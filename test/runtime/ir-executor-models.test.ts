/**
 * IR executor on real models, wasm backend: every Keras fixture (Keras 2 .h5, Keras 3 .keras,
 * weights-only folder) and every Keras model of ../shared/corpus reproduces the Keras reference
 * outputs stored in fixtures/reference (max |diff| ≤ 1e-4); every TF.js model (corpus and
 * fixtures) computes what tfjs itself computes on the same inputs (≤ 1e-4).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CORPUS, FIXTURES, TEST_NPZ, tensorMaxDiff } from '../helpers.js';
import { loadModel } from '../../src/formats/load.js';
import { loadDataset, prepareFeeds, randomFeeds } from '../../src/data/index.js';
import { parseNpz } from '../../src/data/npz.js';
import { type Graph, type Value, feedInputs } from '../../src/ir/graph.js';
import { type Tensor, toFloat32 } from '../../src/ir/tensor.js';
import { IrExecutor } from '../../src/runtime/ir-executor.js';
import { createTfjsRunner } from '../../src/runtime/tfjs.js';

const BACKEND = 'wasm' as const;
const TOL = 1e-4;

const maxAbsDiff = tensorMaxDiff;

/** Run the executor over `batches` and concatenate the first output. */
async function runBatches(g: Graph, batches: Iterable<Map<string, Tensor>>): Promise<Tensor> {
  const ex = await IrExecutor.create(g, { backend: BACKEND });
  assert.equal(ex.backend, BACKEND);
  const parts: Tensor[] = [];
  try {
    for (const feeds of batches) parts.push((await ex.run(feeds))[g.outputs[0]!.name]!);
  } finally {
    ex.dispose();
  }
  const rows = parts.reduce((n, t) => n + t.shape[0]!, 0);
  const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
  let off = 0;
  for (const t of parts) {
    data.set(toFloat32(t), off);
    off += t.data.length;
  }
  return { dtype: 'float32', shape: [rows, ...parts[0]!.shape.slice(1)], data };
}

interface KerasCase {
  name: string;
  model: string;
  reference: string;
  /** fmnist models: inputs from the 1000-sample test set (scaled as the model expects) */
  fmnist?: boolean;
}

const fixture = (file: string, reference: string, fmnist = false): KerasCase => ({ name: file, model: join(FIXTURES, 'models', file), reference: join(FIXTURES, 'reference', reference), fmnist });

const KERAS_FIXTURES: KerasCase[] = [
  ...['fmnist_cnn', 'fmnist_mlp'].flatMap((m) => [fixture(`${m}.h5`, `${m}_h5.npz`, true), fixture(`${m}.keras`, `${m}_keras.npz`, true)]),
  ...['keras_zoo_cnn', 'keras_zoo_seq'].flatMap((m) => [fixture(`${m}.h5`, `${m}_h5.npz`), fixture(`${m}.keras`, `${m}_keras.npz`)]),
  fixture('keras_zoo_weights_only', 'keras_zoo_weights_only.npz'),
];

const KERAS_CORPUS: KerasCase[] = existsSync(join(CORPUS, 'keras'))
  ? readdirSync(join(CORPUS, 'keras')).sort().map((f) => ({
    name: f,
    model: join(CORPUS, 'keras', f),
    reference: join(FIXTURES, 'reference', `corpus_keras_${f.replace(/\.(h5|keras)$/, '')}.npz`),
  }))
  : [];

async function reproducesKeras(c: KerasCase): Promise<void> {
  const { graph: g } = await loadModel(c.model);
  const ref = parseNpz(readFileSync(c.reference));
  const ins = feedInputs(g);
  let batches: Iterable<Map<string, Tensor>>;
  if (c.fmnist) {
    batches = [...prepareFeeds(await loadDataset(TEST_NPZ), ins, { batch: 250 }).batches()].map((b) => b.feeds);
  } else {
    // `x` for a single-input model, else one array per graph input name
    const feeds = new Map(ins.map((v) => [v.name, ref.get(ins.length === 1 ? 'x' : v.name) ?? ref.get(v.name)!]));
    for (const [k, t] of feeds) assert.ok(t, `${c.reference} has no data for input ${k}`);
    batches = [feeds];
  }
  const y = await runBatches(g, batches);
  const d = maxAbsDiff(y, ref.get('y')!, c.name);
  assert.ok(d <= TOL, `${c.name}: max |diff| ${d} vs the Keras reference`);
}

describe('Keras fixtures reproduce the Keras reference outputs', () => {
  for (const c of KERAS_FIXTURES) {
    test(c.name, { skip: existsSync(c.model) && existsSync(c.reference) ? false : 'fixture missing' }, () => reproducesKeras(c));
  }
});

describe('Keras models of the corpus reproduce the Keras reference outputs', () => {
  test('the corpus has Keras models', { skip: KERAS_CORPUS.length ? false : '../shared/corpus/keras not found' }, () => {
    for (const c of KERAS_CORPUS) assert.ok(existsSync(c.reference), `no reference ${c.reference} for ${c.name}`);
  });
  for (const c of KERAS_CORPUS) {
    test(c.name, { skip: existsSync(c.reference) ? false : 'reference missing' }, () => reproducesKeras(c));
  }
});

// ---------------------------------------------------------------------------------------------
// TF.js models: the executor against tfjs itself

/** Ops an index passes through unchanged in value on its way to a Gather. */
const INDEX_PASS = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten']);

/**
 * The number of rows a feed indexes when it reaches the indices of a Gather (an embedding
 * lookup) through value-preserving ops; random data for it must stay in [0, rows).
 */
function indexRange(g: Graph, input: string): number | undefined {
  const seen = new Set<string>();
  const walk = (v: string): number | undefined => {
    if (seen.has(v)) return undefined;
    seen.add(v);
    for (const n of g.nodes) {
      const i = n.inputs.indexOf(v);
      if (i < 0) continue;
      if (n.op === 'Gather' && i === 1) {
        const data = g.initializers.get(n.inputs[0]!);
        const axis = n.attrs.axis?.type === 'int' ? n.attrs.axis.value : 0;
        if (data) return data.shape[axis < 0 ? axis + data.shape.length : axis];
      }
      if (INDEX_PASS.has(n.op) && i === 0) {
        const r = walk(n.outputs[0]!);
        if (r !== undefined) return r;
      }
    }
    return undefined;
  };
  return walk(input);
}

/** Seeded random feeds; inputs that index an embedding get integers in its range. */
function tfjsFeeds(g: Graph, ins: Value[], seed: number): Map<string, Tensor> {
  const dims = Object.fromEntries(ins.flatMap((v) => (v.shape ?? []).slice(1).filter((d): d is string => typeof d === 'string').map((d) => [d, 7])));
  const feeds = randomFeeds(ins, 3, seed, dims);
  let s = seed;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  for (const v of ins) {
    const rows = indexRange(g, v.name);
    if (rows === undefined) continue;
    const t = feeds.get(v.name)!;
    const n = t.data.length;
    const vals = Array.from({ length: n }, () => Math.floor(next() * rows));
    const data = t.dtype === 'int64' ? BigInt64Array.from(vals, (x) => BigInt(x)) : t.dtype === 'int32' ? Int32Array.from(vals) : Float32Array.from(vals);
    feeds.set(v.name, { ...t, data } as Tensor);
  }
  return feeds;
}

/** TF.js takes int64 feeds as int32. */
const forTfjs = (t: Tensor): Tensor => (t.dtype === 'int64' ? { dtype: 'int32', shape: t.shape, data: Int32Array.from(t.data as BigInt64Array, Number) } : t);

function tfjsModels(): Array<{ name: string; dir: string }> {
  const corpus = join(CORPUS, 'tfjs');
  const dirs = [
    ...(existsSync(corpus) ? readdirSync(corpus).sort().map((d) => join(corpus, d)) : []),
    ...readdirSync(join(FIXTURES, 'models')).filter((d) => d.includes('_tfjs_')).sort().map((d) => join(FIXTURES, 'models', d)),
  ];
  return dirs.filter((d) => existsSync(join(d, 'model.json'))).map((dir) => ({ name: dir.split('/').pop()!, dir }));
}

describe('TF.js models compute what tfjs computes', () => {
  for (const m of tfjsModels()) {
    test(m.name, async () => {
      const { graph: g } = await loadModel(m.dir);
      const ins = feedInputs(g);
      const fmnist = m.name.startsWith('fmnist_');
      const batches = fmnist
        ? [...prepareFeeds(await loadDataset(TEST_NPZ), ins, { batch: 500 }).batches()].map((b) => b.feeds)
        : [tfjsFeeds(g, ins, 42)];
      const ex = await IrExecutor.create(g, { backend: BACKEND });
      const tf = await createTfjsRunner(join(m.dir, 'model.json'), ins.map((v) => (v.dtype === 'int64' ? { ...v, dtype: 'int32' } : v)), g.outputs, { backend: BACKEND });
      try {
        for (const feeds of batches) {
          const got = await ex.run(feeds);
          const want = await tf.run(new Map([...feeds].map(([k, t]) => [k, forTfjs(t)])));
          for (const o of g.outputs) {
            const d = maxAbsDiff(got[o.name]!, want.get(o.name)!, o.name);
            assert.ok(d <= TOL, `${m.name} ${o.name}: max |diff| ${d} vs tfjs`);
          }
        }
        // the converter's reference outputs, where the fixtures keep them
        const ref = join(FIXTURES, 'reference', `${m.name}.npz`);
        if (fmnist && existsSync(ref)) {
          const y = await runBatches(g, batches);
          const d = maxAbsDiff(y, parseNpz(readFileSync(ref)).get('y')!, m.name);
          assert.ok(d <= TOL, `${m.name}: max |diff| ${d} vs the reference`);
        }
      } finally {
        ex.dispose();
        await tf.dispose();
      }
    });
  }
});
