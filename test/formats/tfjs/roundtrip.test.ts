import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseNpz } from '../../../src/data/npz.js';
import { loadModel } from '../../../src/formats/load.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { exportTfjs } from '../../../src/formats/tfjs/export.js';
import { feedInputs } from '../../../src/ir/graph.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { FIXTURES, tempDir } from '../../helpers.js';

test('Keras zoo CNN → TF.js graph model → IR → ONNX runs in onnxruntime with the Keras outputs (dilated SAME convs get explicit pads)', async () => {
  const { graph } = await loadModel(join(FIXTURES, 'models', 'keras_zoo_cnn.h5'));
  const dir = join(tempDir(), 'web');
  for (const f of exportTfjs(graph, { format: 'graph' })) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.bytes);
  }
  const back = (await loadModel(dir)).graph;
  const dilated = back.nodes.filter((n) => n.op === 'Conv' && n.attrs.dilations?.type === 'ints' && n.attrs.dilations.value.some((d) => d > 1));
  assert.ok(dilated.length > 0, 'the zoo CNN has a dilated conv');
  for (const n of dilated) assert.equal(n.attrs.auto_pad, undefined, `${n.name} has explicit pads`);
  const ref = parseNpz(readFileSync(join(FIXTURES, 'reference', 'keras_zoo_cnn_h5.npz')));
  const inputs = feedInputs(back);
  const r = await createOnnxRunner(exportOnnxBytes(back), inputs, back.outputs);
  try {
    const out = await r.run(new Map([[inputs[0]!.name, ref.get('x')!]]));
    const y = toFloat32([...out.values()][0]!);
    const want = toFloat32(ref.get('y')!);
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i]! - y[i]!));
    assert.ok(max <= 1e-4, `max |diff| ${max}`);
  } finally {
    await r.dispose();
  }
});
