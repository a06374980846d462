/**
 * buildKerasGraph on its own: the configs other readers hand it (tfjs layers models written by
 * tfjs-layers and old Keras), shared layers, and the errors for what it cannot map.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildKerasGraph, type KerasJson, type KerasWeightSource } from '../../../src/formats/keras/index.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import type { Graph } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { validateGraph } from '../../../src/ir/validate.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { MloptError } from '../../../src/util/errors.js';
import { CORPUS } from '../../helpers.js';

const f32 = (shape: number[], v: number[]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(v) });

/** Weights by layer name, in order. */
function source(w: Record<string, Tensor[]>): KerasWeightSource {
  return { layer: (name) => w[name] ?? [] };
}

/** float32 weights of a tfjs model.json (enough for the unquantized corpus models), by layer. */
function tfjsWeights(dir: string): KerasWeightSource {
  const mj = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string }> }> };
  const byLayer: Record<string, Tensor[]> = {};
  for (const group of mj.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    let off = 0;
    for (const w of group.weights) {
      assert.equal(w.dtype, 'float32');
      const n = w.shape.reduce((p, q) => p * q, 1);
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + off, bytes.byteOffset + off + 4 * n));
      off += 4 * n;
      (byLayer[w.name.split('/')[0]!] ??= []).push({ dtype: 'float32', shape: w.shape, data });
    }
  }
  return source(byLayer);
}

async function run(g: Graph, feeds: Tensor[]): Promise<Float32Array> {
  const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  try {
    const out = await r.run(new Map(feedInputs(g).map((v, i) => [v.name, feeds[i]!])));
    return toFloat32(out.get(g.outputs[0]!.name)!);
  } finally {
    await r.dispose();
  }
}

const noErrors = (g: Graph) => assert.deepEqual(validateGraph(g).filter((i) => i.severity === 'error'), []);

describe('buildKerasGraph', () => {
  const tfjsDir = join(CORPUS, 'tfjs');
  for (const name of ['tfjs_e2e_layers_embedding_gru', 'tfjs_examples_abalone_layers_mlp', 'tfjs_examples_translation_lstm_layers', 'tfjs_rn_bundle_layers']) {
    it(`maps the Keras config of the tfjs layers model ${name}`, async (t) => {
      const dir = join(tfjsDir, name);
      if (!existsSync(dir)) return t.skip(`${dir} not found`);
      const mj = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: KerasJson };
      const topo = mj.modelTopology;
      const mc = (topo.model_config ?? topo) as KerasJson;
      const g = buildKerasGraph({ class_name: mc.class_name, config: mc.config }, tfjsWeights(dir), name, { kerasVersion: topo.keras_version as string });
      noErrors(g);
      const feeds = feedInputs(g).map((v) => {
        const shape = v.shape!.map((d) => (typeof d === 'number' ? d : 3));
        return f32(shape, Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => (i * 7) % 5));
      });
      const y = await run(g, feeds);
      assert.ok(y.length > 0 && y.every(Number.isFinite));
    });
  }

  it('a shared layer: one set of weights, one group of nodes per call (node_index > 0, read before it is listed)', async () => {
    // y = shared(pre(shared(x))), Keras 2 list-style inbound nodes; "pre" is listed after "shared"
    const config: KerasJson = {
      class_name: 'Model',
      config: {
        name: 'm',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 2], dtype: 'float32' }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'shared', config: { name: 'shared', units: 2, activation: 'linear', use_bias: true }, inbound_nodes: [[['x', 0, 0, {}]], [['pre', 0, 0, {}]]] },
          { class_name: 'Dense', name: 'pre', config: { name: 'pre', units: 2, activation: 'relu', use_bias: false }, inbound_nodes: [[['shared', 0, 0, {}]]] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['shared', 1, 0]],
      },
    };
    const g = buildKerasGraph(config, source({
      shared: [f32([2, 2], [1, 2, 3, 4]), f32([2], [0.5, -0.5])],
      pre: [f32([2, 2], [2, 0, 0, -1])],
    }), 'shared.json');
    noErrors(g);
    assert.deepEqual([...g.initializers.keys()].filter((k) => k.startsWith('shared/')).sort(), ['shared/bias', 'shared/kernel']);
    assert.equal(g.nodes.filter((n) => n.op === 'MatMul').length, 3);
    const dense = (x: number[], w: number[], b: number[]) => [x[0]! * w[0]! + x[1]! * w[2]! + b[0]!, x[0]! * w[1]! + x[1]! * w[3]! + b[1]!];
    const x = [1, -2];
    const pre = dense(dense(x, [1, 2, 3, 4], [0.5, -0.5]), [2, 0, 0, -1], [0, 0]).map((v) => Math.max(0, v));
    const want = dense(pre, [1, 2, 3, 4], [0.5, -0.5]);
    assert.deepEqual(Array.from(await run(g, [f32([1, 2], x)])), want);
    const k = g.extra!.keras as { weights: Array<{ name: string }> };
    assert.deepEqual(k.weights.map((w) => w.name), ['shared/kernel', 'shared/bias', 'pre/kernel']);
  });

  const one = (layer: KerasJson): KerasJson => ({
    class_name: 'Sequential',
    config: { name: 's', layers: [{ class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4, 4, 3] } }, layer] },
  });
  const rejects = (cfg: KerasJson, w: Record<string, Tensor[]>, pattern: RegExp, hint?: RegExp) =>
    assert.throws(() => buildKerasGraph(cfg, source(w), 'm.h5'), (e: unknown) => {
      assert.ok(e instanceof MloptError && e.code === 'UNSUPPORTED', String(e));
      assert.match(e.message, pattern);
      if (hint) assert.match(e.hint ?? '', hint);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });

  it('an unknown (custom) layer: its class, its name and a hint', () => {
    rejects(one({ class_name: 'Lambda', config: { name: 'my_lambda', function: 'abc' } }), {}, /^m\.h5: Keras layer class Lambda \(layer "my_lambda"\) is not supported/, /custom layers cannot be loaded/);
  });

  it('an unknown activation: its name and the layer', () => {
    rejects(one({ class_name: 'Dense', config: { name: 'fc', units: 2, activation: 'my_act' } }), { fc: [f32([3, 2], [0, 0, 0, 0, 0, 0]), f32([2], [0, 0])] },
      /activation "my_act" of Dense layer "fc" is not supported/, /supported: .*relu/);
  });

  it('channels_first: a clear error', () => {
    rejects(one({ class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: [1, 1], data_format: 'channels_first' } }), { c: [f32([1, 1, 3, 2], [0, 0, 0, 0, 0, 0])] },
      /Conv2D layer "c" uses data_format="channels_first"/, /channels_last/);
  });

  it('a subclassed model has no config to map', () => {
    rejects({ class_name: 'MyModel', config: {} }, {}, /a Keras MyModel model is not supported/);
  });
});
