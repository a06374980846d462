import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomFeeds } from '../../src/data/index.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import { loadModel } from '../../src/formats/load.js';
import type { Graph } from '../../src/ir/graph.js';
import { feedInputs } from '../../src/ir/graph.js';
import { inferGraphTypes } from '../../src/ir/ops/index.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { convertLayout } from '../../src/passes/layout.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import { CORPUS, FIXTURES } from '../helpers.js';

const TORCH = join(FIXTURES, 'models', 'fmnist_torch_cnn.onnx');
const IC32 = join(CORPUS, 'onnx', 'image_classifier32.onnx');

/** The first output of `g` run by onnxruntime on `feeds`. */
async function runOnnx(g: Graph, feeds: ReturnType<typeof randomFeeds>): Promise<Float32Array> {
  const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  try {
    return toFloat32((await r.run(feeds)).get(g.outputs[0]!.name)!);
  } finally {
    await r.dispose();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('layout pass', () => {
  it('NCHW → NHWC keeps Transposes only at the boundary of a CNN (PyTorch export)', () => {
    const g = importOnnxBytes(readFileSync(TORCH));
    const r = convertLayout(g, 'NHWC');
    assert.equal(r.converted, 4); // 2 Conv + 2 MaxPool
    assert.ok(r.graph.nodes.filter((n) => ['Conv', 'MaxPool'].includes(n.op)).every((n) => n.layout === 'NHWC'));
    assert.equal(r.transposes, 2, r.graph.nodes.map((n) => n.op).join(' '));
    assert.equal(g.nodes.filter((n) => n.op === 'Transpose').length, 0, 'input graph untouched');
  });

  it('NCHW → NHWC → NCHW gives back a graph onnxruntime runs with the same outputs and no Transposes', async () => {
    const g = importOnnxBytes(readFileSync(TORCH));
    const back = convertLayout(convertLayout(g, 'NHWC').graph, 'NCHW');
    assert.equal(back.transposes, 0, back.graph.nodes.map((n) => n.op).join(' '));
    const feeds = randomFeeds(feedInputs(g), 4);
    const a = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
    const b = await createOnnxRunner(exportOnnxBytes(back.graph), feedInputs(back.graph), back.graph.outputs);
    const ya = toFloat32((await a.run(feeds)).get('logits')!);
    const yb = toFloat32((await b.run(feeds)).get('logits')!);
    await a.dispose();
    await b.dispose();
    assert.deepEqual(Array.from(yb), Array.from(ya));
  });

  it('a layout-sensitive node on rank-2 data (BatchNormalization after Dense) is only marked: no Transposes', async () => {
    const { graph: g } = await loadModel(join(FIXTURES, 'models', 'keras_zoo_weights_only', 'model.json'));
    const bn = g.nodes.find((n) => n.op === 'BatchNormalization');
    assert.ok(bn, 'the fixture has a BatchNormalization');
    assert.equal(inferGraphTypes(g).types.get(bn.inputs[0]!)?.shape?.length, 2);
    const r = convertLayout(g, 'NHWC');
    assert.equal(r.converted, 1);
    assert.equal(r.transposes, 0, r.graph.nodes.map((n) => n.op).join(' '));
    assert.equal(r.graph.nodes.find((n) => n.op === 'BatchNormalization')?.layout, 'NHWC');
    const back = convertLayout(r.graph, 'NCHW');
    assert.equal(back.transposes, 0);
    assert.equal(back.graph.nodes.find((n) => n.op === 'BatchNormalization')?.layout, 'NCHW');
    const feeds = randomFeeds(feedInputs(g), 3);
    assert.ok(maxDiff(await runOnnx(g, feeds), await runOnnx(r.graph, feeds)) <= 1e-6);
  });

  it('a node whose input rank cannot be known is refused with an MloptError naming it', () => {
    const g: Graph = {
      name: 'p', inputs: [{ name: 'x', dtype: 'float32' }], outputs: [{ name: 'y', dtype: 'float32' }], valueInfo: [], initializers: new Map(),
      nodes: [{ name: 'pool', op: 'MaxPool', domain: '', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: { type: 'ints', value: [2, 2] } } }],
      metadata: { opsets: [{ domain: '', version: 17 }], props: {} },
    };
    assert.throws(() => convertLayout(g, 'NHWC'), (e: Error) => e.name === 'MloptError' && /rank of the input of MaxPool node "pool"/.test(e.message));
  });

  it('Resize with computed sizes (Shape → Slice → Concat) gets them in the new axis order', { skip: existsSync(IC32) ? false : `${IC32} not found` }, async () => {
    const g = importOnnxBytes(readFileSync(IC32));
    const r = convertLayout(g, 'NHWC');
    const types = inferGraphTypes(r.graph).types;
    const resizes = r.graph.nodes.filter((n) => n.op === 'Resize');
    assert.equal(resizes.length, 2);
    for (const n of resizes) {
      assert.equal(n.layout, 'NHWC');
      const x = types.get(n.inputs[0]!)?.shape;
      const y = types.get(n.outputs[0]!)?.shape;
      assert.ok(x && y, 'shapes inferred');
      // channels stay last and unresized; the spatial dims take the sizes
      assert.equal(y[3], x[3], `Resize ${n.name}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
      assert.deepEqual(y.slice(1, 3), [30, 30].map((v, i) => (n === resizes[0] ? v : [10, 10][i])));
    }
    // and back to NCHW: onnxruntime computes what the original computes
    const feeds = randomFeeds(feedInputs(g), 3);
    const back = convertLayout(r.graph, 'NCHW').graph;
    assert.ok(maxDiff(await runOnnx(g, feeds), await runOnnx(back, feeds)) <= 1e-5);
    assert.ok(maxDiff(await runOnnx(g, feeds), await runOnnx(r.graph, feeds)) <= 1e-5);
  });

  it('Resize with constant scales or an axes attribute: scales permuted, axes remapped', () => {
    const f32 = (shape: number[], v: number[]) => ({ dtype: 'float32' as const, shape, data: Float32Array.from(v) });
    const mk = (opset: number, attrs: Graph['nodes'][number]['attrs'], scales: number[]): Graph => ({
      name: 'r', inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 4, 5] }], outputs: [{ name: 'y', dtype: 'float32' }], valueInfo: [],
      initializers: new Map([['s', f32([scales.length], scales)]]),
      nodes: [{ name: 'rs', op: 'Resize', domain: '', inputs: ['x', '', 's'], outputs: ['y'], attrs }],
      metadata: { opsets: [{ domain: '', version: opset }], props: {} },
    });
    const plain = convertLayout(mk(13, {}, [1, 1, 2, 3]), 'NHWC').graph;
    const rs = plain.nodes.find((n) => n.op === 'Resize')!;
    assert.deepEqual(Array.from(plain.initializers.get(rs.inputs[2]!)!.data as Float32Array), [1, 2, 3, 1]);
    assert.deepEqual(inferGraphTypes(plain).types.get(rs.outputs[0]!)?.shape?.slice(1), [8, 15, 3]);
    const withAxes = convertLayout(mk(18, { axes: { type: 'ints', value: [2, 3] } }, [2, 3]), 'NHWC').graph;
    const ra = withAxes.nodes.find((n) => n.op === 'Resize')!;
    assert.deepEqual(ra.attrs.axes, { type: 'ints', value: [1, 2] });
    assert.deepEqual(inferGraphTypes(withAxes).types.get(ra.outputs[0]!)?.shape?.slice(1), [8, 15, 3]);
  });
});
