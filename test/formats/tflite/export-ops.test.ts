/** TFLite export of 1-D convolutions and pools, grouped convolutions, PRelu, Elu and ReduceMax,
 *  and of models the layout pass used to get wrong: each .tflite runs in LiteRT and must compute
 *  what onnxruntime computes for the IR graph. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomFeeds } from '../../../src/data/index.js';
import { loadModel } from '../../../src/formats/load.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { importOnnxBytes } from '../../../src/formats/onnx/import.js';
import { decodeTflite, operatorName } from '../../../src/formats/tflite/codec.js';
import { exportTflite } from '../../../src/formats/tflite/export.js';
import type { Attr, Graph, Node } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { foldConstants } from '../../../src/passes/fold-constants.js';
import { createLiteRtRunner } from '../../../src/runtime/litert.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { CORPUS, FIXTURES } from '../../helpers.js';

let seed = 11;
const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const f32 = (shape: number[], values?: number[]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(values ?? Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd)) });
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const node = (name: string, op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node => ({ name, op, domain: '', inputs, outputs, attrs });
const graph = (x: Graph['inputs'][number], y: string, inits: Array<[string, Tensor]>, nodes: Node[]): Graph => ({
  name: 'g', inputs: [x], outputs: [{ name: y, dtype: 'float32' }], valueInfo: [], initializers: new Map(inits), nodes,
  metadata: { opsets: [{ domain: '', version: 17 }], props: {} },
});

/** channels-first 1-D: dilated Conv with explicit pads → PRelu [C,1] → grouped Conv → depthwise
 *  Conv (multiplier 2, stride 2) → MaxPool → Elu(0.5) → ReduceMax over the time axis */
function conv1dGraph(): Graph {
  return graph({ name: 'x', dtype: 'float32', shape: ['N', 6, 16] }, 'y', [
    ['w1', f32([6, 6, 3])], ['b1', f32([6])], ['s1', f32([6, 1])], ['w2', f32([6, 2, 3])], ['b2', f32([6])], ['w3', f32([12, 1, 3])], ['b3', f32([12])],
  ], [
    node('c1', 'Conv', ['x', 'w1', 'b1'], ['a'], { kernel_shape: ints([3]), pads: ints([2, 1]), dilations: ints([2]) }),
    node('pr', 'PRelu', ['a', 's1'], ['b']),
    node('c2', 'Conv', ['b', 'w2', 'b2'], ['c'], { kernel_shape: ints([3]), pads: ints([1, 1]), group: int(3) }),
    node('c3', 'Conv', ['c', 'w3', 'b3'], ['d'], { kernel_shape: ints([3]), strides: ints([2]), group: int(6) }),
    node('mp', 'MaxPool', ['d'], ['e'], { kernel_shape: ints([2]), strides: ints([1]) }),
    node('el', 'Elu', ['e'], ['f'], { alpha: { type: 'float', value: 0.5 } }),
    node('rm', 'ReduceMax', ['f'], ['y'], { axes: ints([2]), keepdims: int(0) }),
  ]);
}

/** channels-first 2-D: grouped Conv (SAME) → PRelu with one slope [1] → PRelu per channel [C,1,1] → a 1×2 AveragePool */
function conv2dGraph(): Graph {
  return graph({ name: 'x', dtype: 'float32', shape: ['N', 4, 6, 6] }, 'y', [
    ['w', f32([8, 2, 3, 3])], ['b', f32([8])], ['s0', f32([1], [0.25])], ['s1', f32([8, 1, 1])],
  ], [
    node('c', 'Conv', ['x', 'w', 'b'], ['a'], { kernel_shape: ints([3, 3]), auto_pad: { type: 'string', value: 'SAME_UPPER' }, group: int(2) }),
    node('p0', 'PRelu', ['a', 's0'], ['a1']),
    node('p1', 'PRelu', ['a1', 's1'], ['a2']),
    node('ap', 'AveragePool', ['a2'], ['y'], { kernel_shape: ints([1, 2]), strides: ints([1, 2]) }),
  ]);
}

async function onnxOutputs(g: Graph, feeds: Map<string, Tensor>): Promise<Map<string, Float32Array>> {
  const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  try {
    const out = await r.run(feeds);
    return new Map(g.outputs.map((o) => [o.name, toFloat32(out.get(o.name)!)]));
  } finally {
    await r.dispose();
  }
}

async function litertOutputs(bytes: Uint8Array, names: string[], feeds: Map<string, Tensor>): Promise<Map<string, Float32Array>> {
  const r = await createLiteRtRunner(bytes, { source: 'export-ops test' });
  try {
    const out = await r.run(feeds);
    return new Map(names.map((n) => [n, toFloat32(out.get(n)!)]));
  } finally {
    await r.dispose();
  }
}

/** export `g` to TFLite, run it in LiteRT and in onnxruntime (as ONNX) on random feeds; returns the TFLite ops */
async function agrees(g: Graph, tol = 1e-5, batch = 3): Promise<string[]> {
  const bytes = exportTflite(g).bytes;
  const t = decodeTflite(bytes);
  const ops = t.subgraphs[0]!.operators.map((o) => operatorName(t.operatorCodes[o.opcodeIndex]!));
  const feeds = randomFeeds(feedInputs(g), batch, 5);
  const names = g.outputs.map((o) => o.name);
  const [want, got] = [await onnxOutputs(g, feeds), await litertOutputs(bytes, names, feeds)];
  for (const name of names) {
    const a = want.get(name)!;
    const b = got.get(name);
    assert.ok(b, `LiteRT gave no output ${name}`);
    assert.equal(b.length, a.length, `${name}: ${b.length} values, expected ${a.length}`);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(a[i]!)));
    assert.ok(max <= tol, `${name}: max relative diff ${max} (ops ${ops.join(' ')})`);
  }
  return ops;
}

describe('TFLite export: 1-D conv and pools, grouped conv, PRELU, ELU, REDUCE_MAX (run in LiteRT)', () => {
  it('1-D Conv (dilated, padded, grouped, depthwise), MaxPool, PRelu, Elu(α≠1), ReduceMax compute what onnxruntime computes', async () => {
    const ops = await agrees(conv1dGraph());
    for (const op of ['CONV_2D', 'DEPTHWISE_CONV_2D', 'SPLIT', 'CONCATENATION', 'PRELU', 'MAX_POOL_2D', 'ELU', 'REDUCE_MAX', 'RESHAPE']) assert.ok(ops.includes(op), `${op} missing: ${ops.join(' ')}`);
    assert.ok(!ops.some((o, i) => o === 'RESHAPE' && ops[i + 1] === 'RESHAPE'), `1-D ops in a row share their 2-D view: ${ops.join(' ')}`);
  });

  it('2-D grouped Conv, PRelu with one slope and with one per channel, a 1×2 AveragePool', async () => {
    const ops = await agrees(conv2dGraph());
    assert.equal(ops.filter((o) => o === 'CONV_2D').length, 2, ops.join(' '));
    assert.equal(ops.filter((o) => o === 'PRELU').length, 2, ops.join(' '));
    const t = decodeTflite(exportTflite(conv2dGraph()).bytes);
    const sg = t.subgraphs[0]!;
    const alphas = sg.operators.filter((o) => operatorName(t.operatorCodes[o.opcodeIndex]!) === 'PRELU').map((o) => sg.tensors[o.inputs[1]!]!.shape);
    assert.deepEqual(alphas, [[1, 1, 8], [1, 1, 8]], 'alpha over the trailing (H, W, C) dims, one value per channel');
  });

  it('a Keras model with BatchNormalization after Dense (rank-2 data) exports and runs', async () => {
    const { graph: g } = await loadModel(join(FIXTURES, 'models', 'keras_zoo_weights_only', 'model.json'));
    await agrees((await foldConstants(g)).graph);
  });

  const ic32 = join(CORPUS, 'onnx', 'image_classifier32.onnx');
  it('Resize whose sizes are computed (Shape → Slice → Concat): LiteRT agrees with onnxruntime', { skip: existsSync(ic32) ? false : `${ic32} not found` }, async () => {
    const g = importOnnxBytes(readFileSync(ic32));
    const ops = await agrees((await foldConstants(g)).graph);
    assert.equal(ops.filter((o) => o === 'RESIZE_BILINEAR').length, 2, ops.join(' '));
  });
});
