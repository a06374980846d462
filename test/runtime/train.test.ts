/**
 * IR executor, training: gradients (cpu = wasm), the loss goes down, masks hold, the KL
 * distillation loss and BN moving statistics follow their formulas, a QDQ graph trains through
 * its fake quantization, memory stays flat, toGraph() carries the trained weights, and a
 * 3-epoch fine-tune of the Keras CNN lands where tf-keras' own run did
 * (fixtures/reference/fmnist_cnn_finetune.json, fixtures/generate/make_finetune_reference.py).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, TEST_NPZ } from '../helpers.js';
import { loadModel } from '../../src/formats/load.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import { IrExecutor, type TrainConfig } from '../../src/runtime/ir-executor.js';
import { loadDataset, prepareFeeds } from '../../src/data/index.js';
import { parseNpz } from '../../src/data/npz.js';
import { type Graph, createGraph, feedInputs } from '../../src/ir/graph.js';
import { type Tensor, toFloat32, toNumbers } from '../../src/ir/tensor.js';

const TRAIN_NPZ = join(FIXTURES, 'data', 'fmnist_train_2000.npz');
const tf = createRequire(import.meta.url)('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');

async function data(graph: Graph, file = TRAIN_NPZ) {
  const p = prepareFeeds(await loadDataset(file), feedInputs(graph));
  return { inputs: p.inputs, labels: p.labels! };
}

function rows(t: Tensor, n: number): Tensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { ...t, shape: [n, ...t.shape.slice(1)], data: (t.data as Float32Array).subarray(0, n * per) };
}

function batchOf(d: { inputs: Map<string, Tensor>; labels: Int32Array }, n: number) {
  return { inputs: new Map([...d.inputs].map(([k, t]) => [k, rows(t, n)])), targets: d.labels.subarray(0, n) };
}

/**
 * Gradients agree within 1e-4 of their own scale. A conv bias right before a BatchNormalization
 * has a zero gradient in exact arithmetic, and what either backend computes for it is summation
 * noise: such noise-level gradients (below 1e-4 of the model's largest) are compared relative
 * to the largest gradient instead.
 */
function assertGradsClose(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  const maxAbs = (t: Tensor) => toFloat32(t).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const largest = Math.max(...[...a.values()].map(maxAbs));
  for (const [name, ga] of a) {
    const x = toFloat32(ga);
    const y = toFloat32(b.get(name)!);
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    const own = maxAbs(ga);
    const scale = own < 1e-4 * largest ? largest : own;
    assert.ok(diff <= 1e-4 * scale, `${name}: max |cpu − wasm| ${diff} (max |g| ${own}, largest ${largest})`);
  }
}

const SGD: TrainConfig = { loss: 'crossentropy', optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } };

test('one batch: gradients on the wasm backend equal those on the cpu backend', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const batch = batchOf(await data(m.graph), 8);
  const cpu = await IrExecutor.create(m.graph, { backend: 'cpu' });
  const wasm = await IrExecutor.create(m.graph, { backend: 'wasm' });
  const a = await cpu.gradients(batch, SGD);
  const b = await wasm.gradients(batch, SGD);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * Math.max(1, a.loss), `loss ${a.loss} vs ${b.loss}`);
  assert.deepEqual([...a.grads.keys()].sort(), cpu.trainableNames().sort());
  assertGradsClose(a.grads, b.grads);
  // a gradient is not zero everywhere (the comparison means something)
  assert.ok(toFloat32(a.grads.get(cpu.trainableNames().find((n) => n.includes('kernel') || n.includes('W')) ?? cpu.trainableNames()[0]!)!).some((v) => v !== 0));
  cpu.dispose();
  wasm.dispose();
});

const ZOOS: Array<[string, string, number]> = [
  ['keras zoo CNN (dilated, grouped, depthwise, separable, transposed convs, PReLU, LayerNorm, resizes)', 'keras_zoo_cnn', 20],
  ['keras zoo sequence model (embedding, causal / grouped Conv1D, LSTM, GRU with and without reset_after, return_state)', 'keras_zoo_seq', 20],
];
for (const [what, name, minWeights] of ZOOS) {
  const file = join(FIXTURES, 'models', `${name}.h5`);
  const ref = join(FIXTURES, 'reference', `${name}_h5.npz`);
  test(`${what}: cpu and wasm gradients agree`, { skip: existsSync(file) && existsSync(ref) ? false : 'keras zoo fixture missing' }, async () => {
    const m = await loadModel(file);
    const x = parseNpz(readFileSync(ref)).get('x')!;
    const y = parseNpz(readFileSync(ref)).get('y')!;
    const batch = { inputs: { [feedInputs(m.graph)[0]!.name]: x }, targets: { dtype: 'float32' as const, shape: y.shape, data: new Float32Array(y.data.length) } };
    const cpu = await IrExecutor.create(m.graph, { backend: 'cpu' });
    const wasm = await IrExecutor.create(m.graph, { backend: 'wasm' });
    const a = await cpu.gradients(batch, { loss: 'mse' });
    const b = await wasm.gradients(batch, { loss: 'mse' });
    assert.ok(cpu.trainableNames().length >= minWeights, `trainable: ${cpu.trainableNames().join(', ')}`);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * a.loss);
    assertGradsClose(a.grads, b.grads);
    // every weight (embedding and recurrent kernels included) gets a gradient
    for (const [w, g] of a.grads) assert.ok(toFloat32(g).some((v) => v !== 0), `${w}: zero gradient`);
    cpu.dispose();
    wasm.dispose();
  });
}

test('fmnist_mlp: the loss decreases over 20 steps; memory stays flat across epochs', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_mlp.onnx'));
  const ex = await IrExecutor.create(m.graph);
  assert.ok(ex.trainableNames().length >= 4, `weights and biases are trainable: ${ex.trainableNames().join(', ')}`);
  const d = await data(m.graph);
  const batch = batchOf(d, 64);
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) losses.push((await ex.trainStep(batch, { loss: 'crossentropy', optimizer: { type: 'adam', lr: 1e-3 } })).loss);
  assert.ok(losses[19]! < losses[0]! * 0.7, `loss ${losses[0]} → ${losses[19]}`);
  const counts: number[] = [];
  await ex.fit({ inputs: d.inputs, targets: d.labels }, { ...SGD, epochs: 3, batchSize: 250, onEpoch: () => void counts.push(tf.memory().numTensors) });
  assert.equal(counts.length, 3);
  assert.equal(counts[2], counts[1], `tensors after each epoch: ${counts.join(', ')}`);
  ex.dispose();
});

test('fit shuffles with its seed: same seed, same weights; another seed, other weights', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_mlp.onnx'));
  const d = await data(m.graph);
  const small = { inputs: new Map([...d.inputs].map(([k, t]) => [k, rows(t, 300)])), targets: d.labels.subarray(0, 300) };
  const weights = async (seed: number) => {
    const ex = await IrExecutor.create(m.graph);
    const r = await ex.fit(small, { ...SGD, epochs: 1, batchSize: 50, seed });
    assert.equal(r.steps, 6);
    const w = toFloat32([...ex.getWeights().values()][0]!).slice();
    ex.dispose();
    return w;
  };
  const a = await weights(3);
  const b = await weights(3);
  const c = await weights(4);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('masks keep pruned weights at zero through SGD-with-momentum steps', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const ex = await IrExecutor.create(m.graph);
  const batch = batchOf(await data(m.graph), 64);
  const name = ex.trainableNames().find((n) => ex.getWeights().get(n)!.shape.length === 4)!;
  const w0 = toFloat32(ex.getWeights().get(name)!);
  const mask = Uint8Array.from(w0, (_, i) => (i % 3 === 0 ? 0 : 1));
  // momentum first builds up without the mask, then the mask is set: momentum must not revive the weights
  await ex.trainStep(batch, SGD);
  ex.setMask(name, mask);
  for (let i = 0; i < 3; i++) await ex.trainStep(batch, SGD);
  const w = toFloat32(ex.getWeights().get(name)!);
  for (let i = 0; i < w.length; i++) if (!mask[i]) assert.ok(w[i] === 0, `masked weight ${i} is ${w[i]}`);
  assert.ok(w.some((v, i) => mask[i] && v !== w0[i]), 'unmasked weights trained');
  const g = ex.toGraph();
  const exported = toFloat32(g.initializers.get(name)!);
  assert.equal(exported.filter((v, i) => !mask[i] && v !== 0).length, 0, 'toGraph carries the zeros');
  ex.dispose();
});

/** x [N,3] → MatMul W [3,4] → logits (the student). */
function tinyStudent(w: number[]): Graph {
  const g = createGraph('student');
  g.metadata.opsets = [{ domain: '', version: 17 }];
  g.inputs.push({ name: 'x', dtype: 'float32', shape: ['batch', 3] });
  g.initializers.set('W', { dtype: 'float32', shape: [3, 4], data: Float32Array.from(w) });
  g.nodes.push({ name: 'mm', op: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['z'], attrs: {} });
  g.outputs.push({ name: 'z', dtype: 'float32', shape: ['batch', 4] });
  return g;
}

function softmax(z: number[], T: number): number[] {
  const m = Math.max(...z.map((v) => v / T));
  const e = z.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

test('KL distillation loss at temperature T equals T² · KL(teacher ‖ student), by hand', async () => {
  const W = [0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0.0, 0.7, 0.25, -0.1, 0.3, -0.6];
  const x = [1, 2, -1, 0.5, -0.5, 2];
  const teacher = [2, 0.5, -1, 0.3, -0.2, 1.5, 0.4, -0.8];
  const T = 3;
  let expected = 0;
  for (let r = 0; r < 2; r++) {
    const zs = [0, 1, 2, 3].map((j) => [0, 1, 2].reduce((s, k) => s + x[r * 3 + k]! * W[k * 4 + j]!, 0));
    const p = softmax(teacher.slice(r * 4, r * 4 + 4), T);
    const q = softmax(zs, T);
    expected += p.reduce((s, pj, j) => s + pj * Math.log(pj / q[j]!), 0);
  }
  expected = (expected / 2) * T * T;
  const ex = await IrExecutor.create(tinyStudent(W), { backend: 'cpu' });
  const inputs = { x: { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from(x) } };
  const cfg = { loss: 'kld' as const, temperature: T, fromLogits: true };
  const fromLogits = await ex.gradients({ inputs, teacher: { dtype: 'float32', shape: [2, 4], data: Float32Array.from(teacher) } }, cfg);
  assert.ok(Math.abs(fromLogits.loss - expected) < 1e-5, `loss ${fromLogits.loss}, by hand ${expected}`);
  // the same teacher given as probabilities (at T = 1) gives the same loss
  const probs = [0, 1].flatMap((r) => softmax(teacher.slice(r * 4, r * 4 + 4), 1));
  const fromProbs = await ex.gradients({ inputs, teacher: { dtype: 'float32', shape: [2, 4], data: Float32Array.from(probs) } }, cfg);
  assert.ok(Math.abs(fromProbs.loss - expected) < 1e-4, `teacher probabilities: ${fromProbs.loss} vs ${expected}`);
  // mixing in hard labels: α·CE + (1 − α)·T²·KL
  const labels = Int32Array.of(2, 0);
  const ce = await ex.gradients({ inputs, targets: labels }, { loss: 'crossentropy', fromLogits: true });
  const mixed = await ex.gradients({ inputs, targets: labels, teacher: { dtype: 'float32', shape: [2, 4], data: Float32Array.from(teacher) } }, { ...cfg, hardLabelWeight: 0.25 });
  assert.ok(Math.abs(mixed.loss - (0.25 * ce.loss + 0.75 * expected)) < 1e-5, `mixed ${mixed.loss}`);
  ex.dispose();
});

test('BatchNormalization in training: batch statistics, moving averages with the momentum', async () => {
  const g = createGraph('bn');
  g.metadata.opsets = [{ domain: '', version: 17 }];
  g.inputs.push({ name: 'x', dtype: 'float32', shape: ['batch', 2] });
  const f = (v: number[]) => ({ dtype: 'float32' as const, shape: [v.length], data: Float32Array.from(v) });
  g.initializers.set('gamma', f([1, 2]));
  g.initializers.set('beta', f([0, 1]));
  g.initializers.set('mean', f([0.5, -1]));
  g.initializers.set('var', f([1, 4]));
  g.initializers.set('W', { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) });
  g.nodes.push({ name: 'mm', op: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['h'], attrs: {} });
  g.nodes.push({ name: 'bn', op: 'BatchNormalization', domain: '', inputs: ['h', 'gamma', 'beta', 'mean', 'var'], outputs: ['y'], attrs: { epsilon: { type: 'float', value: 1e-3 }, momentum: { type: 'float', value: 0.9 } } });
  g.outputs.push({ name: 'y', dtype: 'float32' });
  const ex = await IrExecutor.create(g, { backend: 'cpu' });
  assert.deepEqual(ex.trainableNames().sort(), ['W', 'beta', 'gamma']);
  const xs = [1, 2, 3, 6, 5, 1, 7, 3];
  await ex.trainStep({ inputs: { x: { dtype: 'float32', shape: [4, 2], data: Float32Array.from(xs) } }, targets: { dtype: 'float32', shape: [4, 2], data: new Float32Array(8) } }, { loss: 'mse', optimizer: { type: 'sgd', lr: 1e-9 } });
  const w = ex.getWeights();
  const col = (c: number) => [0, 1, 2, 3].map((r) => xs[r * 2 + c]!);
  for (const c of [0, 1]) {
    const v = col(c);
    const mean = v.reduce((a, b) => a + b, 0) / 4;
    const biased = v.reduce((a, b) => a + (b - mean) ** 2, 0) / 4; // rank-2 input: Keras records the biased variance
    const m0 = [0.5, -1][c]!;
    const v0 = [1, 4][c]!;
    assert.ok(Math.abs(toFloat32(w.get('mean')!)[c]! - (0.9 * m0 + 0.1 * mean)) < 1e-5, `moving mean ${c}`);
    assert.ok(Math.abs(toFloat32(w.get('var')!)[c]! - (0.9 * v0 + 0.1 * biased)) < 1e-5, `moving variance ${c}`);
  }
  // BN stats reach the graph, and inference uses them
  const out = ex.toGraph();
  assert.ok(Math.abs(toFloat32(out.initializers.get('mean')!)[0]! - toFloat32(w.get('mean')!)[0]!) < 1e-7);
  ex.dispose();
});

test('a QDQ (int8) graph trains through fake quantization (straight-through gradients)', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn_int8.tflite'));
  const ex = await IrExecutor.create(m.graph, { trainQuantizedWeights: true });
  const names = ex.trainableNames();
  const int8 = names.filter((n) => m.graph.initializers.get(n)?.dtype === 'int8');
  assert.ok(int8.length >= 4, `int8 weights became trainable: ${names.join(', ')}`);
  const d = await data(m.graph);
  const batch = batchOf(d, 64);
  const { loss, grads } = await ex.gradients(batch, { loss: 'crossentropy' });
  assert.ok(Number.isFinite(loss));
  for (const n of int8) assert.ok(toFloat32(grads.get(n)!).some((v) => v !== 0), `${n} gets a gradient through Q/DQ`);
  for (let i = 0; i < 5; i++) {
    const r = await ex.trainStep(batch, { loss: 'crossentropy', optimizer: { type: 'adam', lr: 1e-3 } });
    assert.ok(Number.isFinite(r.loss), `step ${i}: loss ${r.loss}`);
  }
  const g = ex.toGraph();
  const changed = int8.filter((n) => {
    const a = toNumbers(g.initializers.get(n)!);
    const b = toNumbers(m.graph.initializers.get(n)!);
    return g.initializers.get(n)!.dtype === 'int8' && a.some((v, i) => v !== b[i]);
  });
  assert.ok(changed.length > 0, 'trained weights are written back as int8');
  const y = toFloat32(Object.values(await ex.run(batch.inputs))[0]!);
  assert.ok(y.every(Number.isFinite));
  ex.dispose();
});

test('toGraph: the trained graph runs in onnxruntime with the executor\'s outputs', async () => {
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const ex = await IrExecutor.create(m.graph);
  const d = await data(m.graph);
  await ex.trainStep(batchOf(d, 64), SGD);
  await ex.trainStep(batchOf(d, 64), SGD);
  const feeds = batchOf(await data(m.graph, TEST_NPZ), 100).inputs;
  const mine = toFloat32(Object.values(await ex.run(feeds))[0]!);
  const g = ex.toGraph();
  assert.notDeepEqual(toFloat32(g.initializers.get(ex.trainableNames()[0]!)!), toFloat32(m.graph.initializers.get(ex.trainableNames()[0]!)!));
  const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  const theirs = toFloat32([...(await ort.run(feeds)).values()][0]!);
  await ort.dispose();
  let diff = 0;
  for (let i = 0; i < mine.length; i++) diff = Math.max(diff, Math.abs(mine[i]! - theirs[i]!));
  assert.ok(diff < 1e-4, `max |executor − onnxruntime| ${diff}`);
  ex.dispose();
});

const REF = join(FIXTURES, 'reference', 'fmnist_cnn_finetune.json');
test('fine-tuning fmnist_cnn.h5 for 3 epochs matches tf-keras (loss per epoch, accuracy within 1 point)', { skip: existsSync(REF) ? false : 'reference missing' }, async () => {
  const ref = JSON.parse(readFileSync(REF, 'utf8')) as {
    optimizer: TrainConfig['optimizer']; batchSize: number; epochs: number; shuffle: boolean;
    accuracyBefore: number; accuracyPerEpoch: number[]; lossPerEpoch: number[]; lossFirstBatch: number; weightL2After: Record<string, number>;
  };
  const m = await loadModel(join(FIXTURES, 'models', 'fmnist_cnn.h5'));
  const ex = await IrExecutor.create(m.graph);
  const train = await data(m.graph);
  const test_ = await data(m.graph, TEST_NPZ);
  const before = await ex.evaluate({ inputs: test_.inputs, targets: test_.labels });
  assert.ok(Math.abs(before.accuracy! - ref.accuracyBefore) < 1e-9);
  let first: number | undefined;
  const r = await ex.fit({ inputs: train.inputs, targets: train.labels }, {
    loss: 'crossentropy', optimizer: ref.optimizer, epochs: ref.epochs, batchSize: ref.batchSize, shuffle: ref.shuffle,
    validation: { inputs: test_.inputs, targets: test_.labels },
    onStep: (s) => void (first ??= s.loss),
  });
  assert.ok(Math.abs(first! - ref.lossFirstBatch) < 1e-4, `first batch loss ${first} vs ${ref.lossFirstBatch}`);
  r.epochs.forEach((e, i) => assert.ok(Math.abs(e.loss - ref.lossPerEpoch[i]!) < 0.01 * ref.lossPerEpoch[i]! + 1e-3, `epoch ${i} loss ${e.loss} vs ${ref.lossPerEpoch[i]}`));
  const acc = r.epochs.at(-1)!.validation!.accuracy!;
  assert.ok(Math.abs(acc - ref.accuracyPerEpoch.at(-1)!) <= 0.01, `accuracy after ${ref.epochs} epochs ${acc} vs tf-keras ${ref.accuracyPerEpoch.at(-1)}`);
  // weights moved as in tf-keras (L2 norms within 1%). Skipped: conv biases right before a BN,
  // whose gradient is zero in exact arithmetic, so that Adam moves them by normalised summation
  // noise (in tf-keras as here), and the BN moving means, which follow those biases
  const w = ex.getWeights();
  const byKeras = (layer: string, what: string) => [...w.keys()].find((k) => k === `${layer}_${what}` || k === `${layer}/${what}`);
  for (const [k, norm] of Object.entries(ref.weightL2After)) {
    const [layer, what] = k.split('/') as [string, string];
    if ((what === 'bias' && layer.startsWith('conv')) || what === 'moving_mean') continue;
    const name = byKeras(layer, what) ?? byKeras(layer, { gamma: 'gamma', beta: 'beta', moving_mean: 'mean', moving_variance: 'var', kernel: 'kernel', bias: 'bias' }[what] ?? what);
    if (!name) continue;
    const v = toFloat32(w.get(name)!);
    const mine = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    assert.ok(Math.abs(mine - norm) <= 0.01 * norm, `${k}: L2 ${mine} vs tf-keras ${norm}`);
  }
  ex.dispose();
});

test('Dropout is active in training only', async () => {
  const g = tinyStudent([0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0.0, 0.7, 0.25, -0.1, 0.3, -0.6]);
  g.nodes.unshift({ name: 'drop', op: 'Dropout', domain: '', inputs: ['x', 'ratio'], outputs: ['xd'], attrs: {} });
  g.initializers.set('ratio', { dtype: 'float32', shape: [], data: Float32Array.of(0.5) });
  g.nodes[1]!.inputs[0] = 'xd';
  const ex = await IrExecutor.create(g, { backend: 'cpu', seed: 5 });
  const x = { dtype: 'float32' as const, shape: [16, 3], data: Float32Array.from({ length: 48 }, (_, i) => 1 + (i % 5)) };
  const t = { dtype: 'float32' as const, shape: [16, 4], data: new Float32Array(64) };
  // inference: no dropout, y = x W exactly
  const y = toFloat32((await ex.run({ x })).z!);
  const W = toFloat32(g.initializers.get('W')!);
  for (let r = 0; r < 16; r++) for (let j = 0; j < 4; j++) {
    const e = [0, 1, 2].reduce((s, k) => s + x.data[r * 3 + k]! * W[k * 4 + j]!, 0);
    assert.ok(Math.abs(y[r * 4 + j]! - e) < 1e-5);
  }
  // training: masks differ between steps (seeded), so the loss does too, and it is not the inference loss
  const a = await ex.gradients({ inputs: { x }, targets: t }, { loss: 'mse' });
  const b = await ex.gradients({ inputs: { x }, targets: t }, { loss: 'mse' });
  const clean = y.reduce((s, v) => s + v * v, 0) / y.length;
  assert.notEqual(a.loss, b.loss);
  assert.ok(Math.abs(a.loss - clean) > 1e-6 && Math.abs(b.loss - clean) > 1e-6, `${a.loss}, ${b.loss} vs no dropout ${clean}`);
  ex.dispose();
});

test('an embedding table (Gather on a float initializer) trains on wasm: duplicate indices sum their gradients, any axis', async () => {
  for (const axis of [0, 1]) {
    // table [4, 5, 2]; indices [2, 3] with repeats; y = Gather(table, idx, axis)
    const g = createGraph('gather');
    g.metadata.opsets = [{ domain: '', version: 17 }];
    const table = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    g.initializers.set('table', { dtype: 'float32', shape: [4, 5, 2], data: table });
    g.inputs.push({ name: 'idx', dtype: 'int64', shape: [2, 3] });
    g.nodes.push({ name: 'gather', op: 'Gather', domain: '', inputs: ['table', 'idx'], outputs: ['y'], attrs: { axis: { type: 'int', value: axis } } });
    g.outputs.push({ name: 'y', dtype: 'float32' });
    const idx = [1, 3, 1, 0, 3, 3];
    const ex = await IrExecutor.create(g, { backend: 'wasm' });
    assert.deepEqual(ex.trainableNames(), ['table']);
    const yShape = axis === 0 ? [2, 3, 5, 2] : [4, 2, 3, 2];
    const n = yShape.reduce((a, b) => a * b, 1);
    const targets: Tensor = { dtype: 'float32', shape: yShape, data: new Float32Array(n) };
    const { grads } = await ex.gradients({ inputs: { idx: { dtype: 'int64', shape: [2, 3], data: BigInt64Array.from(idx, BigInt) } }, targets }, { loss: 'mse' });
    // mse against zeros: dL/dy = 2y/n, summed into the rows the indices picked
    const want = new Float32Array(40);
    const at = (a: number, b: number, c: number) => (a * 5 + b) * 2 + c;
    for (const r of idx) {
      for (let p = 0; p < (axis === 0 ? 5 : 4); p++) for (let c = 0; c < 2; c++) {
        const src = axis === 0 ? at(r, p, c) : at(p, r, c);
        want[src] = want[src]! + (2 * table[src]!) / n;
      }
    }
    const got = toFloat32(grads.get('table')!);
    for (let i = 0; i < 40; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-6, `axis ${axis}: d table[${i}] ${got[i]} vs ${want[i]}`);
    ex.dispose();
  }
});
