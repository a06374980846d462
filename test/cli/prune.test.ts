import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseNpz, writeNpz } from '../../src/data/index.js';
import { loadModel } from '../../src/formats/load.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { createGraph } from '../../src/ir/graph.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { findPrunable, verifyNM } from '../../src/optimize/prune/index.js';
import { countNonZeros } from '../../src/optimize/prune/strip.js';
import { FIXTURES, TEST_NPZ, runCli, tempDir } from '../helpers.js';

const MODELS = join(FIXTURES, 'models');
const TRAIN_NPZ = join(FIXTURES, 'data', 'fmnist_train_2000.npz');
const FAST = ['--runs', '3', '--warmup', '1', '--seed', '1'];

interface PJson {
  output: string;
  format: string;
  mode: string;
  layers: Array<{ node: string; weight: string; op: string; params: number; nonZeros: number; sparsity: number; pruned: boolean; keptDense?: string }>;
  totals: { pruned: { params: number; nonZeros: number; sparsity: number } };
  dense: { accuracy?: number; gzipBytes: number };
  pruned: { accuracy?: number; gzipBytes: number };
  accuracyDrop?: number;
  gzipRatio: number;
  finetune?: { epochs: Array<{ sparsity: number; accuracy?: number }>; steps: number; maskUpdates: unknown[] };
  settings: { schedule?: { kind: string; endStep: number; frequency: number } };
}

function pruneJson(args: string[]): PJson {
  const r = runCli(['prune', ...args, ...FAST, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /^epoch /m);
  return JSON.parse(r.stdout) as PJson;
}

/** Sparsity of every float weight of ≥ 2 dims in a written model, by element count. */
async function writtenWeights(path: string): Promise<Array<{ name: string; params: number; nonZeros: number; t: Tensor }>> {
  const g = (await loadModel(path)).graph;
  return [...g.initializers].filter(([, t]) => t.shape.length >= 2 && (t.dtype === 'float32' || t.dtype === 'float16')).map(([name, t]) => ({ name, t, ...countNonZeros(t) }));
}

/** The written weight that holds a layer: same name, else the only one of the same size. */
function match(ws: Awaited<ReturnType<typeof writtenWeights>>, weight: string, params: number) {
  const byName = ws.find((w) => w.name === weight);
  if (byName) return byName;
  const same = ws.filter((w) => w.params === params);
  assert.equal(same.length, 1, `one written weight of ${params} elements for ${weight}: ${ws.map((w) => `${w.name}:${w.params}`).join(', ')}`);
  return same[0]!;
}

describe('mlopt prune (fine-tuning)', () => {
  it('.h5 → ONNX: prints the report; the written weights are zero at the reported rate per layer', async () => {
    const out = join(tempDir(), 'p.onnx');
    const r = runCli(['prune', join(MODELS, 'fmnist_cnn.h5'), '--final-sparsity', '0.75', '--data', TRAIN_NPZ, '--eval-data', TEST_NPZ, '--epochs', '1', '--batch-size', '64', '-o', out, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['sparsity of the pruned weights', 'gzip size', 'latency p50', 'top-1 accuracy', 'fine-tuning wall time', 'kept dense: first', 'kept dense: last', `wrote ${out}`]) {
      assert.ok(r.stdout.includes(s), `"${s}" in\n${r.stdout}`);
    }
    // CI: one plain progress line per epoch on stderr
    assert.match(r.stderr, /^epoch 1\/1 · step 32\/32 · sparsity 0\.750 · loss [\d.]+ · eval accuracy [\d.]+% · /m);
    // per-layer rows of the printed table: layer │ op │ shape │ params │ non-zeros │ sparsity │ status
    const rows = r.stdout.split('\n').map((l) => l.split('│').map((c) => c.trim())).filter((c) => c.length >= 8 && /^\d[\d,]*$/.test(c[4] ?? ''));
    const layers = rows.filter((c) => c[7] === 'pruned' || c[7]?.startsWith('kept dense'));
    assert.equal(layers.length, 4, r.stdout);
    const ws = await writtenWeights(out);
    const num = (s: string) => Number(s.replace(/,/g, ''));
    let pruned = 0;
    for (const c of layers) {
      const params = num(c[4]!);
      const nonZeros = num(c[5]!);
      const w = match(ws, '', params);
      assert.equal(w.nonZeros, nonZeros, `layer ${c[1]}: written non-zeros ${w.nonZeros}, reported ${nonZeros}`);
      assert.equal(c[6], `${((1 - nonZeros / params) * 100).toFixed(2)}%`);
      if (c[7] === 'pruned') {
        pruned++;
        assert.ok(Math.abs(1 - w.nonZeros / w.params - 0.75) < 0.001, `layer ${c[1]} sparsity ${1 - w.nonZeros / w.params}`);
      } else {
        assert.equal(w.nonZeros, w.params, `dense layer ${c[1]} has zeros`);
      }
    }
    assert.equal(pruned, 2);
  });

  it('.onnx → TFLite with 2:4: the pattern holds on every pruned weight of the written file', async () => {
    const out = join(tempDir(), 'p.tflite');
    const j = pruneJson([join(MODELS, 'fmnist_cnn.onnx'), '--granularity', '2:4', '--data', TRAIN_NPZ, '--eval-data', TEST_NPZ, '--epochs', '1', '--batch-size', '64', '--to', 'tflite', '-o', out]);
    assert.equal(j.format, 'tflite');
    // tfmot: an N:M mask is set once, at the first step, without a schedule
    assert.equal(j.settings.schedule, undefined);
    assert.deepEqual(j.finetune!.maskUpdates, [{ step: 1, sparsity: 0.5 }]);
    assert.ok(j.accuracyDrop! <= 2, `drop ${j.accuracyDrop}`);
    const g = (await loadModel(out)).graph;
    const written = findPrunable(g, { keepFirstLast: false }).weights;
    const pruned = j.layers.filter((l) => l.pruned);
    assert.equal(pruned.length, 2);
    for (const l of pruned) {
      const same = written.filter((w) => w.shape.reduce((a, b) => a * b, 1) === l.params);
      assert.equal(same.length, 1, `${l.node}: ${written.map((w) => w.initializer).join(', ')}`);
      const t = g.initializers.get(same[0]!.initializer)!;
      assert.ok(verifyNM(t, same[0]!, 2, 4), `2:4 broken in ${same[0]!.initializer}`);
      assert.equal(countNonZeros(t).nonZeros, l.params / 2);
    }
  });

  it('TF.js → TF.js; the written model runs in TF.js with the reported accuracy', () => {
    const out = join(tempDir(), 'web');
    const j = pruneJson([join(MODELS, 'fmnist_mlp_tfjs_layers'), '--final-sparsity', '0.5', '--data', TRAIN_NPZ, '--eval-data', TEST_NPZ, '--epochs', '1', '--batch-size', '64', '-o', out]);
    assert.equal(j.format, 'tfjs');
    assert.ok(existsSync(join(out, 'model.json')));
    // two dense layers only: none is kept dense (first/last are kept only with ≥ 3 layers)
    assert.deepEqual(j.layers.map((l) => l.pruned), [true, true]);
    assert.ok(Math.abs(j.totals.pruned.sparsity - 0.5) < 0.001);
    assert.ok(j.finetune && j.finetune.steps === 32 && j.finetune.maskUpdates.length >= 10, JSON.stringify(j.finetune));
    assert.ok(j.gzipRatio < 0.8, `gzip ratio ${j.gzipRatio}`);
    const b = runCli(['bench', out, '--data', TEST_NPZ, '--runs', '1', '--warmup', '0', '--json']);
    assert.equal(b.code, 0, b.stderr);
    const acc = (JSON.parse(b.stdout) as { results: Array<{ accuracy: number }> }).results[0]!.accuracy;
    assert.ok(Math.abs(acc - j.pruned.accuracy!) <= 0.001, `bench ${acc} vs reported ${j.pruned.accuracy}`);
  });
});

describe('mlopt prune (one-shot)', () => {
  it('without --data: warns on stderr, prunes once to the final sparsity', async () => {
    const out = join(tempDir(), 'p.onnx');
    const j = pruneJson([join(MODELS, 'fmnist_mlp.keras'), '--final-sparsity', '0.6', '-o', out]);
    assert.equal(j.mode, 'one-shot');
    const r = runCli(['prune', join(MODELS, 'fmnist_mlp.keras'), '--final-sparsity', '0.6', '-o', join(tempDir(), 'q.onnx'), ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*accuracy will suffer/);
    const ws = await writtenWeights(out);
    for (const l of j.layers) {
      const w = match(ws, l.weight, l.params);
      assert.equal(w.nonZeros, l.nonZeros);
      assert.ok(Math.abs(1 - w.nonZeros / w.params - 0.6) < 0.001);
    }
  });
});

describe('mlopt prune: bad input', () => {
  const dir = tempDir();
  const noPrunable = join(dir, 'relu.onnx');
  const g = createGraph('relu');
  g.inputs.push({ name: 'x', dtype: 'float32', shape: ['batch', 4] });
  g.outputs.push({ name: 'y', dtype: 'float32', shape: ['batch', 4] });
  g.nodes.push({ name: 'relu', op: 'Relu', domain: '', inputs: ['x'], outputs: ['y'], attrs: {} });
  g.metadata.opsets.push({ domain: '', version: 17 });
  writeFileSync(noPrunable, exportOnnxBytes(g));
  // 64 training samples whose labels go up to 12 (the model has 10 classes)
  const badLabels = join(dir, 'bad.npz');
  const npz = parseNpz(readFileSync(TRAIN_NPZ));
  const x = npz.get('x')!;
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  writeFileSync(badLabels, writeNpz({
    x: { ...x, shape: [64, ...x.shape.slice(1)], data: (x.data as Uint8Array).slice(0, 64 * per) },
    y: { dtype: 'int32', shape: [64], data: Int32Array.from({ length: 64 }, (_, i) => i % 13) },
  }));
  const cnn = join(MODELS, 'fmnist_cnn.onnx');
  const cases: Array<[string, string[], RegExp, number]> = [
    ['final sparsity above 1', [cnn, '--final-sparsity', '1.2'], /--final-sparsity must be a number in \[0, 1\).*1\.2/, 2],
    ['final sparsity 1', [cnn, '--final-sparsity', '1'], /--final-sparsity must be a number in \[0, 1\)/, 2],
    ['negative sparsity', [cnn, '--final-sparsity', '-0.1'], /--final-sparsity must be/, 2],
    ['not a number', [cnn, '--final-sparsity', 'lots'], /--final-sparsity must be a number \(got "lots"\)/, 2],
    ['missing final sparsity', [cnn, '--data', TRAIN_NPZ], /--final-sparsity is required/, 2],
    ['initial above final', [cnn, '--final-sparsity', '0.5', '--initial-sparsity', '0.8', '--data', TRAIN_NPZ], /--initial-sparsity \(0\.8\) must not be above --final-sparsity \(0\.5\)/, 2],
    ['begin after end', [cnn, '--final-sparsity', '0.5', '--begin-step', '50', '--end-step', '10', '--data', TRAIN_NPZ], /--begin-step \(50\) must be before --end-step \(10\)/, 2],
    ['training option without data', [cnn, '--final-sparsity', '0.5', '--epochs', '2'], /--epochs applies to fine-tuning: add --data/, 2],
    ['bad granularity', [cnn, '--final-sparsity', '0.5', '--granularity', 'rows'], /--granularity "rows" is not one of/, 2],
    ['2:4 with another sparsity', [cnn, '--final-sparsity', '0.9', '--granularity', '2:4'], /2:4 prunes exactly 0\.5/, 2],
    ['schedule options with 2:4', [cnn, '--granularity', '2:4', '--frequency', '10', '--data', TRAIN_NPZ], /--frequency does not apply to --granularity 2:4/, 2],
    ['bad optimizer', [cnn, '--final-sparsity', '0.5', '--data', TRAIN_NPZ, '--optimizer', 'rmsprop'], /--optimizer must be adam or sgd/, 2],
    ['no prunable layer', [noPrunable, '--final-sparsity', '0.5'], /no prunable layer/, 1],
    ['labels beyond the model\'s classes', [cnn, '--final-sparsity', '0.5', '--data', badLabels], /training labels go up to 12 but the model's output has 10 classes/, 1],
    ['Keras source without --to', [join(MODELS, 'fmnist_mlp.h5'), '--final-sparsity', '0.5'], /choose the output format with --to/, 2],
  ];
  for (const [what, args, msg, code] of cases) {
    it(`${what}: exit ${code}, one line, nothing written`, () => {
      const cwd = tempDir();
      // (the Keras case writes to the default path in cwd: -o out.onnx would choose ONNX)
      const r = runCli(['prune', ...args, ...(what.startsWith('Keras') ? [] : ['-o', join(cwd, 'out.onnx')])], { cwd });
      assert.equal(r.code, code, r.stderr);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^mlopt: /);
      assert.match(lines[0]!, msg);
      assert.deepEqual(readdirSync(cwd), []);
      assert.equal(r.stdout, '');
    });
  }

  it('an existing output is kept unless --force', () => {
    const cwd = tempDir();
    const out = join(cwd, 'out.onnx');
    writeFileSync(out, 'keep');
    const r = runCli(['prune', join(MODELS, 'fmnist_mlp.onnx'), '--final-sparsity', '0.5', '-o', out, ...FAST]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists/);
    assert.equal(readFileSync(out, 'utf8'), 'keep');
  });
});
