import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset, parseNpz, prepareFeeds } from '../../../src/data/index.js';
import { loadModel } from '../../../src/formats/load.js';
import { type TfjsExportOptions, exportTfjs } from '../../../src/formats/tfjs/export.js';
import type { Graph } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import { toFloat32 } from '../../../src/ir/tensor.js';
import { calibrate } from '../../../src/optimize/quantize/calibration.js';
import { headOf } from '../../../src/optimize/quantize/measure.js';
import { applyStatic, planStatic, tensorsToCalibrate } from '../../../src/optimize/quantize/static.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { createTfjsRunner } from '../../../src/runtime/tfjs.js';
import { loadTfjs } from '../../../src/runtime/tfjs-backend.js';
import { toTfjsModelConfig } from '../../../src/formats/tfjs/export/keras-config.js';
import { MloptError } from '../../../src/util/errors.js';
import { FIXTURES, TEST_NPZ, tempDir } from '../../helpers.js';

const model = (m: string) => join(FIXTURES, 'models', m);
const reference = (npz: string): Float32Array => toFloat32(parseNpz(readFileSync(join(FIXTURES, 'reference', npz))).get('y')!);

interface ModelJson {
  format: string;
  convertedBy: string;
  modelTopology: { node?: Array<{ op: string; name: string }>; model_config?: unknown; keras_version?: string };
  weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }> }>;
}

/** export, write the folder, run the 1000 test images through tfjs */
async function run(g: Graph, opts: TfjsExportOptions): Promise<{ y: Float32Array; json: ModelJson; weightBytes: number; shards: number }> {
  const dir = tempDir('mlopt-tfjs-export-');
  const files = exportTfjs(g, opts);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.bytes);
  }
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
  const r = await createTfjsRunner(join(dir, 'model.json'), feedInputs(g), g.outputs);
  const data = prepareFeeds(await loadDataset(TEST_NPZ), feedInputs(g), { batch: 250 });
  const ys: number[] = [];
  for (const b of data.batches()) ys.push(...toFloat32([...(await r.run(b.feeds)).values()][0]!));
  await r.dispose();
  const shards = files.filter((f) => f.path.endsWith('.bin'));
  return { y: Float32Array.from(ys), json, weightBytes: shards.reduce((n, f) => n + f.bytes.byteLength, 0), shards: shards.length };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function top1Agreement(a: Float32Array, b: Float32Array, classes = 10): number {
  let same = 0;
  const arg = (x: Float32Array, r: number): number => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (x[r * classes + j]! > x[r * classes + best]!) best = j;
    return best;
  };
  const rows = a.length / classes;
  for (let r = 0; r < rows; r++) if (arg(a, r) === arg(b, r)) same++;
  return same / rows;
}

const GRAPH_CASES = [
  ['fmnist_cnn.h5', 'fmnist_cnn_h5.npz', ['_FusedConv2D', 'MaxPool', '_FusedMatMul', 'Softmax']],
  ['fmnist_cnn.keras', 'fmnist_cnn_keras.npz', ['_FusedConv2D', 'MaxPool', '_FusedMatMul', 'Softmax']],
  ['fmnist_mlp.h5', 'fmnist_mlp_h5.npz', ['_FusedMatMul', 'Softmax']],
  ['fmnist_cnn.onnx', 'fmnist_cnn_onnx.npz', ['_FusedConv2D', 'MaxPool', '_FusedMatMul', 'Softmax']],
  ['fmnist_cnn_float32.tflite', 'fmnist_cnn_float32_tflite.npz', ['_FusedConv2D', 'MaxPool', '_FusedMatMul', 'Softmax']],
  ['fmnist_torch_cnn.onnx', 'fmnist_torch_cnn_onnx.npz', ['_FusedConv2D', 'MaxPool', '_FusedMatMul']],
] as const;

describe('TF.js graph-model export', () => {
  for (const [m, ref, ops] of GRAPH_CASES) {
    it(`${m} → graph model computes the source's outputs (≤ 1e-4)`, async () => {
      const { graph } = await loadModel(model(m));
      const { y, json } = await run(graph, { format: 'graph' });
      assert.equal(json.format, 'graph-model');
      assert.match(json.convertedBy, /^mlopt \d+\.\d+\.\d+/);
      const tfOps = new Set(json.modelTopology.node!.map((n) => n.op));
      for (const op of ops) assert.ok(tfOps.has(op), `${op} missing: ${[...tfOps].join(', ')}`);
      assert.ok(!tfOps.has('Relu') && !tfOps.has('BiasAdd') && !tfOps.has('Transpose'), `activations and biases are fused, no Transpose: ${[...tfOps].join(', ')}`);
      assert.ok(maxDiff(y, reference(ref)) <= 1e-4, `max |diff| ${maxDiff(y, reference(ref))}`);
    });
  }

  it('a graph model keeps a dynamic batch: Placeholder shape -1', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.onnx'));
    const json = JSON.parse(Buffer.from(exportTfjs(graph, { format: 'graph' })[0]!.bytes).toString('utf8')) as ModelJson & { signature: { inputs: Record<string, { tensorShape: { dim: Array<{ size: string }> } }> } };
    const ph = json.modelTopology.node!.find((n) => n.op === 'Placeholder') as unknown as { attr: { shape: { shape: { dim: Array<{ size: string }> } } } };
    assert.deepEqual(ph.attr.shape.shape.dim.map((d) => d.size), ['-1', '28', '28', '1']);
    assert.deepEqual(json.signature.inputs.input!.tensorShape.dim.map((d) => d.size), ['-1', '28', '28', '1']);
  });

  it('quantize uint8: weights ≤ 0.27× float32, top-1 agreement ≥ 99%; float16: ≤ 0.51×, ≥ 99%', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.h5'));
    const ref = reference('fmnist_cnn_h5.npz');
    const f32 = await run(graph, { format: 'graph' });
    for (const [dtype, ratio] of [['uint8', 0.27], ['float16', 0.51]] as const) {
      const q = await run(graph, { format: 'graph', quantize: { dtype } });
      assert.ok(q.weightBytes <= ratio * f32.weightBytes, `${dtype}: ${q.weightBytes} vs ${f32.weightBytes} bytes`);
      assert.ok(q.json.weightsManifest[0]!.weights.some((w) => w.quantization?.dtype === dtype));
      assert.ok(q.json.weightsManifest[0]!.weights.filter((w) => w.dtype === 'int32').every((w) => !w.quantization), 'shape constants stay int32');
      assert.ok(top1Agreement(q.y, ref) >= 0.99, `${dtype}: top-1 agreement ${top1Agreement(q.y, ref)}`);
    }
  });

  it('a small shard size writes several shards that still load', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.onnx'));
    const r = await run(graph, { format: 'graph', shardSizeBytes: 100_000 });
    assert.equal(r.shards, 4);
    assert.deepEqual(r.json.weightsManifest[0]!.paths, ['group1-shard1of4.bin', 'group1-shard2of4.bin', 'group1-shard3of4.bin', 'group1-shard4of4.bin']);
    assert.ok(maxDiff(r.y, reference('fmnist_cnn_onnx.npz')) <= 1e-4);
  });
});

describe('TF.js graph-model export of a quantized (QDQ) graph', () => {
  for (const perChannel of [false, true]) {
    it(`static int8 (${perChannel ? 'per-channel' : 'per-tensor'} weights): fake-quantized activations, ${perChannel ? 'float32' : 'uint8'} weights; agrees with onnxruntime ≥ 99% top-1`, async () => {
      const { graph: g0 } = await loadModel(model('fmnist_cnn.onnx'));
      const ds = await loadDataset(TEST_NPZ);
      const plan = planStatic(g0, { perChannel, activationType: 'int8' });
      const cal = await calibrate(g0, tensorsToCalibrate(plan), prepareFeeds(headOf(ds, 200), feedInputs(g0), { batch: 100 }), { method: 'minmax' });
      const g = applyStatic(g0, plan, cal.ranges, { perChannel, activationType: 'int8' }).graph;
      const q = await run(g, { format: 'graph' });
      const tfOps = new Set(q.json.modelTopology.node!.map((n) => n.op));
      for (const op of ['Round', 'ClipByValue', '_FusedConv2D']) assert.ok(tfOps.has(op), `${op} missing`);
      const kernels = q.json.weightsManifest[0]!.weights.filter((w) => w.shape.length === 4);
      assert.ok(kernels.length === 2 && kernels.every((w) => (w.quantization?.dtype === 'uint8') === !perChannel), JSON.stringify(kernels));
      const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
      const ys: number[] = [];
      for (const b of prepareFeeds(ds, feedInputs(g), { batch: 250 }).batches()) ys.push(...toFloat32((await ort.run(b.feeds)).get(g.outputs[0]!.name)!));
      await ort.dispose();
      const agree = top1Agreement(q.y, Float32Array.from(ys));
      assert.ok(agree >= 0.99, `top-1 agreement with onnxruntime ${agree}`);
    });
  }
});

describe('TF.js layers-model export', () => {
  for (const [m, ref] of [['fmnist_cnn.h5', 'fmnist_cnn_h5.npz'], ['fmnist_mlp.h5', 'fmnist_mlp_h5.npz'], ['fmnist_cnn.keras', 'fmnist_cnn_keras.npz'], ['fmnist_mlp.keras', 'fmnist_mlp_keras.npz']] as const) {
    it(`${m} → layers model (the default for Keras sources) loads in tfjs-layers and computes the Keras outputs`, async () => {
      const { graph } = await loadModel(model(m));
      const { y, json } = await run(graph, {});
      assert.equal(json.format, 'layers-model');
      assert.ok(maxDiff(y, reference(ref)) <= 1e-4, `max |diff| ${maxDiff(y, reference(ref))}`);
    });
  }

  it('fmnist_cnn.h5: topology, manifest and shard are what tensorflowjs_converter wrote', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.h5'));
    const files = exportTfjs(graph, { format: 'layers' });
    const dir = model('fmnist_cnn_tfjs_layers');
    const ours = JSON.parse(Buffer.from(files[0]!.bytes).toString('utf8')) as ModelJson;
    const theirs = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
    assert.deepEqual(ours.modelTopology, theirs.modelTopology);
    assert.deepEqual(ours.weightsManifest, theirs.weightsManifest);
    assert.deepEqual(Buffer.from(files[1]!.bytes), readFileSync(join(dir, 'group1-shard1of1.bin')));
  });

  it('a Keras 3 config is written in the Keras 2 style tfjs-layers reads', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.keras'));
    const json = JSON.parse(Buffer.from(exportTfjs(graph, {})[0]!.bytes).toString('utf8')) as ModelJson;
    const text = JSON.stringify(json.modelTopology.model_config);
    for (const k3 of ['__keras_tensor__', 'batch_shape"', 'DTypePolicy', 'registered_name', 'build_config']) assert.ok(!text.includes(k3), `${k3} left in the config`);
    assert.match(text, /"batch_input_shape":\[null,28,28,1\]/);
    assert.match(text, /"inbound_nodes":\[\[\["conv1",0,0,\{\}\]\]\]/);
  });

  it('Keras 3 multi-input configs with a nested Sequential convert to a topology tfjs-layers builds', async () => {
    // the shape of what Keras 3.x writes in config.json (module / registered_name wrappers,
    // DTypePolicy, {args, kwargs} calls numbered per model, a flat single output_layers entry)
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const t = (layer: string, shape: number[]) => ({ class_name: '__keras_tensor__', config: { shape: [null, ...shape], dtype: 'float32', keras_history: [layer, 0, 0] } });
    const input = (name: string, n: number) => ({ module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, n], dtype: 'float32', sparse: false, ragged: false, name, optional: false }, registered_name: null, name, inbound_nodes: [] });
    const dense = (name: string, units: number, args?: unknown) => ({
      module: 'keras.layers', class_name: 'Dense', registered_name: null, build_config: { input_shape: [null, 5] }, name,
      config: { name, trainable: true, dtype: policy, units, activation: 'relu', use_bias: true, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null }, bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null }, quantization_config: null },
      ...(args ? { inbound_nodes: [{ args, kwargs: {} }] } : {}),
    });
    const config = {
      module: 'keras.src.models.functional', class_name: 'Functional', registered_name: 'Functional', build_config: { input_shape: null }, compile_config: {},
      config: {
        name: 'multi', trainable: true,
        layers: [
          input('a', 4), input('b', 3),
          { module: 'keras.layers', class_name: 'Concatenate', registered_name: null, name: 'cat', config: { name: 'cat', trainable: true, dtype: policy, axis: -1 }, inbound_nodes: [{ args: [[t('a', [4]), t('b', [3])]], kwargs: {} }] },
          dense('d1', 5, [t('cat', [7])]),
          { module: 'keras', class_name: 'Sequential', registered_name: null, name: 'inner', build_config: { input_shape: [null, 5] },
            config: { name: 'inner', trainable: true, dtype: policy, layers: [{ ...input('input_layer', 5), inbound_nodes: undefined }, dense('d2', 3)] },
            inbound_nodes: [{ args: [t('d1', [5])], kwargs: { mask: null } }] },
          dense('d3', 3, [t('d1', [5])]),
          { module: 'keras.layers', class_name: 'Add', registered_name: null, name: 'add', config: { name: 'add', trainable: true, dtype: policy }, inbound_nodes: [{ args: [[t('inner', [3]), t('d3', [3])]], kwargs: {} }] },
        ],
        input_layers: [['a', 0, 0], ['b', 0, 0]], output_layers: ['add', 0, 0],
      },
    };
    const converted = toTfjsModelConfig(JSON.parse(JSON.stringify(config)) as Record<string, unknown>, '3.5.0');
    const text = JSON.stringify(converted);
    for (const k3 of ['__keras_tensor__', 'DTypePolicy', 'registered_name', 'quantization_config', 'batch_shape"']) assert.ok(!text.includes(k3), `${k3} left`);
    const layers = createRequire(import.meta.url)('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
    await loadTfjs('auto');
    const m = await layers.models.modelFromJSON({ modelTopology: { model_config: converted, keras_version: '3.5.0', backend: 'tensorflow' } } as never);
    assert.deepEqual(m.layers.map((l) => l.name), ['a', 'b', 'cat', 'd1', 'inner', 'd3', 'add']);
    assert.deepEqual(m.outputs[0]!.shape, [null, 3]);
    assert.deepEqual(m.weights.map((w) => w.originalName).sort(), ['d1/bias', 'd1/kernel', 'd2/bias', 'd2/kernel', 'd3/bias', 'd3/kernel']);
    m.dispose();
  });

  it('quantize uint8 with patterns quantizes only the matching weights', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.h5'));
    const { y, json } = await run(graph, { quantize: { dtype: 'uint8', patterns: ['conv*/kernel', 'fc1/*'] } });
    const q = json.weightsManifest[0]!.weights.filter((w) => w.quantization).map((w) => w.name).sort();
    assert.deepEqual(q, ['conv1/kernel', 'conv2/kernel', 'fc1/bias', 'fc1/kernel']);
    assert.ok(top1Agreement(y, reference('fmnist_cnn_h5.npz')) >= 0.99);
  });

  it('a graph without a Keras source cannot be written as a layers model', async () => {
    const { graph } = await loadModel(model('fmnist_cnn.onnx'));
    assert.throws(() => exportTfjs(graph, { format: 'layers' }), (e: unknown) => e instanceof MloptError && e.code === 'UNSUPPORTED' && /layers model can only be written from a Keras model/.test(e.message));
  });
});
