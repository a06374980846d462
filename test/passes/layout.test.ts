import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomFeeds } from '../../src/data/index.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import { feedInputs } from '../../src/ir/graph.js';
import { toFloat32 } from '../../src/ir/tensor.js';
import { convertLayout } from '../../src/passes/layout.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import { FIXTURES } from '../helpers.js';

const TORCH = join(FIXTURES, 'models', 'fmnist_torch_cnn.onnx');

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
});
