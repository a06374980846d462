import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset, parseNpz, prepareFeeds } from '../../../src/data/index.js';
import { loadModel } from '../../../src/formats/load.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { feedInputs } from '../../../src/ir/graph.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { FIXTURES, TEST_NPZ, runCli, tempDir } from '../../helpers.js';

const model = (m: string) => join(FIXTURES, 'models', m);

describe('Keras import (.h5 and .keras)', () => {
  for (const m of ['fmnist_cnn.h5', 'fmnist_cnn.keras', 'fmnist_mlp.h5', 'fmnist_mlp.keras']) {
    it(`${m}: the IR computes the Keras outputs (≤ 1e-5)`, async () => {
      const { graph: g } = await loadModel(model(m));
      assert.deepEqual(validateGraph(g).filter((i) => i.severity === 'error'), []);
      const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
      const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 500 });
      const ys: number[] = [];
      for (const b of data.batches()) ys.push(...toFloat32((await r.run(b.feeds)).get(g.outputs[0]!.name)!));
      await r.dispose();
      const ref = toFloat32(parseNpz(readFileSync(join(FIXTURES, 'reference', `${m.replace('.', '_')}.npz`))).get('y')!);
      let max = 0;
      for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]! - ys[i]!));
      assert.ok(max <= 1e-5, `max |diff| ${max}`);
    });
  }

  it('mlopt convert model.h5 --to tflite / --to onnx, and quantize model.keras work from the CLI', () => {
    const dir = tempDir();
    for (const [src, to] of [['fmnist_cnn.h5', 'tflite'], ['fmnist_cnn.keras', 'onnx']] as const) {
      const out = join(dir, `m.${to}`);
      const r = runCli(['convert', model(src), '--to', to, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /max \|diff\||bitwise equal/);
      assert.ok(existsSync(out));
    }
    const q = runCli(['quantize', model('fmnist_cnn.keras'), '--dynamic', '--to', 'onnx', '-o', join(dir, 'q.onnx'), '--eval-data', TEST_NPZ, '--runs', '2', '--json']);
    assert.equal(q.code, 0, q.stderr);
    assert.ok(JSON.parse(q.stdout).accuracyDrop <= 1);
  });

  it('a weights-only or corrupt .h5 is a clear error', () => {
    const f = join(tempDir(), 'bad.h5');
    writeFileSync(f, Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]));
    const r = runCli(['inspect', f]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mlopt: .*bad\.h5: not a readable HDF5 file/);
  });
});
