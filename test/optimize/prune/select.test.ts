import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../../helpers.js';
import { loadModel } from '../../../src/formats/load.js';
import { type Graph, createGraph } from '../../../src/ir/graph.js';
import { node } from '../../../src/ir/edit.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { findPrunable } from '../../../src/optimize/prune/select.js';
import { MloptError } from '../../../src/util/errors.js';

const model = (name: string) => join(FIXTURES, 'models', name);

function zeros(shape: number[], dtype: Tensor['dtype'] = 'float32'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype, shape, data: dtype === 'int8' ? new Int8Array(n) : new Float32Array(n) };
}

function errorWith(code: string, ...parts: string[]) {
  return (e: unknown) => e instanceof MloptError && e.code === code && parts.every((p) => e.message.includes(p)) && !e.message.includes('\n');
}

test('Keras CNN (.h5): the kernels, first and last left dense by default', async () => {
  const { graph } = await loadModel(model('fmnist_cnn.h5'));
  const { weights, skipped } = findPrunable(graph);
  assert.deepEqual(weights, [
    { initializer: 'conv2/kernel', node: 'conv2/Conv', op: 'Conv', shape: [32, 16, 3, 3], inputAxis: 1 },
    { initializer: 'fc1/kernel', node: 'fc1/matmul/MatMul', op: 'MatMul', shape: [1568, 48], inputAxis: 0 },
  ]);
  assert.deepEqual(skipped.map((s) => s.node), ['conv1/Conv', 'probs/matmul/MatMul']);
  assert.match(skipped[0]!.reason, /first/);
  assert.match(skipped[1]!.reason, /last/);
  // no bias, no BatchNormalization parameter
  assert.ok(!weights.some((w) => /bias|gamma|beta|moving/.test(w.initializer)));
});

test('every source format gives the same layers with the right input axis', async () => {
  const expectAxes: Record<string, number[]> = {
    'fmnist_cnn.h5': [1, 1, 0, 0],
    'fmnist_cnn.keras': [1, 1, 0, 0],
    'fmnist_cnn.onnx': [1, 1, 0, 0],
    'fmnist_cnn_float32.tflite': [1, 1, 1, 1], // Gemm, transB: B is [out, in]
    'fmnist_cnn_tfjs_graph': [1, 1, 0, 0], // Gemm without transB
    'fmnist_cnn_tfjs_layers': [1, 1, 0, 0],
  };
  for (const [file, axes] of Object.entries(expectAxes)) {
    const { graph } = await loadModel(model(file));
    const { weights } = findPrunable(graph, { keepFirstLast: false });
    assert.deepEqual(weights.map((w) => w.inputAxis), axes, file);
    assert.deepEqual(weights.map((w) => w.shape[w.inputAxis]), [1, 16, 1568, 48], `${file}: input channel counts`);
  }
});

test('--layers / --exclude patterns: node names, Keras layer names, name parts, wildcards', async () => {
  const { graph } = await loadModel(model('fmnist_cnn.h5'));
  const layers = (o: Parameters<typeof findPrunable>[1]) => findPrunable(graph, o).weights.map((w) => w.node);
  assert.deepEqual(layers({ layers: ['conv*'] }), ['conv1/Conv', 'conv2/Conv'], 'an explicit list may prune the first layer');
  assert.deepEqual(layers({ layers: ['fc1', 'probs'] }), ['fc1/matmul/MatMul', 'probs/matmul/MatMul']);
  assert.deepEqual(layers({ layers: ['conv?/Conv'], keepFirstLast: true }), ['conv2/Conv']);
  assert.deepEqual(layers({ exclude: ['fc1'] }), ['conv2/Conv']);
  assert.deepEqual(layers({ exclude: ['conv2'], keepFirstLast: false }), ['conv1/Conv', 'fc1/matmul/MatMul', 'probs/matmul/MatMul']);
  const sel = findPrunable(graph, { layers: ['conv2'] });
  assert.deepEqual(sel.skipped.map((s) => `${s.node}: ${s.reason}`), [
    'conv1/Conv: not selected by --layers',
    'fc1/matmul/MatMul: not selected by --layers',
    'probs/matmul/MatMul: not selected by --layers',
  ]);
  // tfjs graph node names hold the Keras layer name as one part
  const tfjs = (await loadModel(model('fmnist_cnn_tfjs_graph'))).graph;
  assert.deepEqual(findPrunable(tfjs, { layers: ['fc1'] }).weights.map((w) => w.op), ['Gemm']);
  // a pattern matching nothing, or a selection that leaves nothing, is a usage error
  assert.throws(() => findPrunable(graph, { layers: ['fc9'] }), errorWith('USAGE', '--layers', 'fc9', 'conv1/Conv'));
  assert.throws(() => findPrunable(graph, { exclude: ['nope*'] }), errorWith('USAGE', '--exclude', 'nope*'));
  assert.throws(() => findPrunable(graph, { exclude: ['conv2', 'fc1'] }), errorWith('USAGE', 'no layer to prune'));
});

test('a two-layer MLP prunes both layers (first/last kept only with three or more)', async () => {
  const { graph } = await loadModel(model('fmnist_mlp.h5'));
  const sel = findPrunable(graph);
  assert.deepEqual(sel.weights.map((w) => w.initializer), ['fc1/kernel', 'probs/kernel']);
  assert.deepEqual(sel.skipped, []);
});

test('quantized models are refused clearly', async () => {
  const { graph } = await loadModel(model('fmnist_cnn_int8.tflite'));
  assert.throws(() => findPrunable(graph, { source: 'cnn_int8.tflite' }), errorWith('UNSUPPORTED', 'cnn_int8.tflite', 'already quantized'));
});

function synthetic(): Graph {
  const g = createGraph('synthetic');
  g.inputs.push({ name: 'x', dtype: 'float32', shape: [1, 8, 5, 5] });
  g.initializers.set('dw', zeros([8, 1, 3, 3]));
  g.initializers.set('grouped', zeros([8, 4, 1, 1]));
  g.initializers.set('deconv', zeros([8, 2, 2, 2]));
  g.initializers.set('left', zeros([6, 4]));
  g.initializers.set('w3d', zeros([2, 4, 4]));
  g.nodes.push(
    node('depthwise', 'Conv', ['x', 'dw'], ['a'], { group: { type: 'int', value: 8 } }),
    node('grouped', 'Conv', ['a', 'grouped'], ['b'], { group: { type: 'int', value: 2 } }),
    node('up', 'ConvTranspose', ['b', 'deconv'], ['c']),
    node('computed', 'Conv', ['c', 'c'], ['d']),
    node('flat', 'Flatten', ['d'], ['e']),
    node('leftmm', 'MatMul', ['left', 'e'], ['f']),
    node('batched', 'MatMul', ['f', 'w3d'], ['y']),
  );
  g.outputs.push({ name: 'y' });
  return g;
}

test('depthwise, grouped, transposed conv, constant-A MatMul; non-constant weights reported', () => {
  const { weights, skipped } = findPrunable(synthetic(), { keepFirstLast: false });
  assert.deepEqual(weights.map((w) => [w.node, w.initializer, w.inputAxis]), [
    ['depthwise', 'dw', 0],
    ['grouped', 'grouped', 1],
    ['up', 'deconv', 0],
    ['leftmm', 'left', 1],
  ]);
  assert.deepEqual(skipped.map((s) => s.node), ['computed', 'batched']);
  assert.match(skipped[0]!.reason, /not a float constant/);
  assert.match(skipped[1]!.reason, /2-D/);
});

test('a model with no prunable layer is UNSUPPORTED, naming it', () => {
  const g = createGraph('empty');
  g.inputs.push({ name: 'x', dtype: 'float32', shape: [1, 4] });
  g.nodes.push(node('relu', 'Relu', ['x'], ['y']));
  g.outputs.push({ name: 'y' });
  assert.throws(() => findPrunable(g, { source: 'relu.onnx' }), errorWith('UNSUPPORTED', 'relu.onnx: no prunable layer (Conv, MatMul, Gemm weights)'));
  // integer weights are not prunable either
  g.initializers.set('wi', zeros([4, 4], 'int8'));
  g.nodes.push(node('mm', 'MatMul', ['y', 'wi'], ['z']));
  assert.throws(() => findPrunable(g, { source: 'relu.onnx' }), errorWith('UNSUPPORTED', 'no prunable layer'));
});
