import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset, parseNpz, prepareFeeds } from '../../../src/data/index.js';
import { loadModel } from '../../../src/formats/load.js';
import { type TfjsExportOptions, exportTfjs } from '../../../src/formats/tfjs/export.js';
import type { Graph } from '../../../src/ir/graph.js';
import { feedInputs } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { toFloat32, toNumbers } from '../../../src/ir/tensor.js';
import { calibrate } from '../../../src/optimize/quantize/calibration.js';
import { headOf } from '../../../src/optimize/quantize/measure.js';
import { applyStatic, planStatic, tensorsToCalibrate } from '../../../src/optimize/quantize/static.js';
import { exportOnnxBytes } from '../../../src/formats/onnx/export.js';
import { createOnnxRunner } from '../../../src/runtime/onnxruntime.js';
import { createTfjsRunner } from '../../../src/runtime/tfjs.js';
import { loadTfjs } from '../../../src/runtime/tfjs-backend.js';
import { toTfjsModelConfig } from '../../../src/formats/tfjs/export/keras-config.js';
import { TFJS_LAYER_CLASSES, layersModelProblems } from '../../../src/formats/tfjs/export/layers-support.js';
import { readTfjsWeights } from '../../../src/formats/tfjs/weights.js';
import { MloptError } from '../../../src/util/errors.js';
import { FIXTURES, TEST_NPZ, runCli, tempDir } from '../../helpers.js';

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

const ZOO = ['keras_zoo_cnn.h5', 'keras_zoo_cnn.keras', 'keras_zoo_seq.h5', 'keras_zoo_seq.keras'] as const;
const zooRef = (m: string) => parseNpz(readFileSync(join(FIXTURES, 'reference', `${m.replace('.', '_')}.npz`)));
const writeFiles = (files: Array<{ path: string; bytes: Uint8Array }>): string => {
  const dir = tempDir('mlopt-tfjs-export-');
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.bytes);
  }
  return dir;
};

describe('Keras layer zoo → TF.js', () => {
  for (const m of ZOO) {
    it(`${m} → graph model (grouped convolutions split per group, ConvTranspose with output_padding) reproduces the Keras outputs in tfjs (≤ 1e-4)`, async () => {
      const { graph } = await loadModel(model(m));
      const files = exportTfjs(graph, { format: 'graph' });
      const ops = new Set((JSON.parse(Buffer.from(files[0]!.bytes).toString('utf8')) as ModelJson).modelTopology.node!.map((n) => n.op));
      assert.ok(ops.has('Split'), 'the grouped convolution is split');
      if (m.startsWith('keras_zoo_cnn')) assert.ok(ops.has('Conv2DBackpropInput'));
      const ref = zooRef(m);
      const r = await createTfjsRunner(join(writeFiles(files), 'model.json'), feedInputs(graph), graph.outputs);
      const y = toFloat32([...(await r.run(new Map([[feedInputs(graph)[0]!.name, ref.get('x')!]]))).values()][0]!);
      await r.dispose();
      assert.ok(maxDiff(y, toFloat32(ref.get('y')!)) <= 1e-4, `max |diff| ${maxDiff(y, toFloat32(ref.get('y')!))}`);
    });

    it(`${m} → layers model is refused before anything is written, naming the layer, its class and --tfjs-format graph`, async () => {
      const { graph } = await loadModel(model(m));
      const [layer, cls] = m.startsWith('keras_zoo_cnn') ? ['norm_const', 'Normalization'] : ['conv_causal', 'Conv1D'];
      assert.throws(() => exportTfjs(graph, { format: 'layers' }), (e: unknown) => e instanceof MloptError && e.code === 'UNSUPPORTED' &&
        e.message.startsWith(`Keras layer "${layer}" (${cls}) cannot be written as a TF.js layers model: `) && !e.message.includes('\n') && /--tfjs-format graph/.test(e.hint ?? ''));
    });
  }

  it('without --tfjs-format, a Keras source tfjs-layers cannot load becomes a graph model, with a note saying why', async () => {
    const { graph } = await loadModel(model('keras_zoo_seq.h5'));
    const notes: string[] = [];
    const json = JSON.parse(Buffer.from(exportTfjs(graph, { onNote: (s) => notes.push(s) })[0]!.bytes).toString('utf8')) as ModelJson;
    assert.equal(json.format, 'graph-model');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /^wrote a TF\.js graph model, not a layers model: Keras layer "conv_causal" \(Conv1D\) .*causal padding.* \(and 2 more: "conv_grp" \(Conv1D\), "gru_after" \(GRU\)\)$/);
    // a Keras source tfjs-layers can load still defaults to a layers model, without a note
    const { graph: cnn } = await loadModel(model('fmnist_cnn.h5'));
    assert.equal((JSON.parse(Buffer.from(exportTfjs(cnn, { onNote: (s) => notes.push(s) })[0]!.bytes).toString('utf8')) as ModelJson).format, 'layers-model');
    assert.equal(notes.length, 1);
  });

  it('CLI: keras_zoo_cnn.h5 --to tfjs no longer crashes (int64 Normalization count); --tfjs-format layers is a one-line error and writes nothing', () => {
    const dir = tempDir();
    const ok = runCli(['convert', model('keras_zoo_cnn.h5'), '--to', 'tfjs', '-o', join(dir, 'auto')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'auto', 'model.json'), 'utf8')) as ModelJson).format, 'graph-model');
    const bad = runCli(['convert', model('keras_zoo_cnn.h5'), '--to', 'tfjs', '--tfjs-format', 'layers', '-o', join(dir, 'layers')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^mlopt: Keras layer "norm_const" \(Normalization\) cannot be written as a TF\.js layers model: TF\.js layers models have no Normalization layer.*\nhint: use --tfjs-format graph/);
    assert.ok(!existsSync(join(dir, 'layers')));
  });

  for (const m of ZOO) {
    it(`CLI: ${m} --to tfjs --tfjs-format graph passes the after-convert check`, () => {
      const out = join(tempDir(), 'm');
      const r = runCli(['convert', model(m), '--to', 'tfjs', '--tfjs-format', 'graph', '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /check skipped/, r.stdout);
      assert.match(r.stdout, /output (sum \[1,10\]|logits \[1,3\]): (bitwise equal|max \|diff\| [0-9.e-]+)/);
    });
  }
});

describe('TF.js layers writer: what tfjs-layers can load', () => {
  it('the layer classes mlopt accepts are exactly the Layer classes the installed tfjs-layers registers', async () => {
    const { tf } = await loadTfjs('cpu');
    createRequire(import.meta.url)('@tensorflow/tfjs-layers');
    const map = (tf.serialization.SerializationMap.getMap() as unknown as { classNameMap: Record<string, [unknown]> }).classNameMap;
    const isLayer = (c: unknown): boolean => {
      for (let p = c as { name?: string } | null; p; p = Object.getPrototypeOf(p) as { name?: string } | null) if (p.name === 'Layer') return true;
      return false;
    };
    const registered = Object.keys(map).filter((k) => isLayer(map[k]![0])).sort();
    assert.deepEqual([...TFJS_LAYER_CLASSES].sort(), registered);
  });

  it('layer options tfjs-layers cannot run are found, in nested models and RNN cells too', () => {
    const layer = (class_name: string, config: Record<string, unknown>) => ({ class_name, config: { name: `${class_name.toLowerCase()}_1`, ...config } });
    const cfg = {
      class_name: 'Functional', config: { layers: [
        layer('InputLayer', { batch_input_shape: [null, 4] }),
        layer('Dense', { units: 3, activation: 'relu' }),
        layer('Dense', { units: 3, activation: 'exponential', name: 'dense_exp' }),
        layer('ELU', { alpha: 0.5 }),
        layer('ELU', { alpha: 1, name: 'elu_ok' }),
        layer('Conv2D', { groups: 2 }),
        layer('Conv2D', { groups: 1, name: 'conv_ok' }),
        layer('Conv2DTranspose', { output_padding: [1, 1] }),
        layer('ReLU', { negative_slope: 0.1 }),
        layer('UpSampling2D', { interpolation: 'bicubic' }),
        layer('LayerNormalization', { rms_scaling: true }),
        layer('GlobalAveragePooling2D', { keepdims: true }),
        { class_name: 'Sequential', config: { name: 'inner', layers: [layer('RNN', { cell: layer('GRUCell', { reset_after: true }) }), layer('Subtract', {})] } },
        layer('LSTM', { recurrent_activation: 'hard_sigmoid', activation: 'tanh' }),
      ] },
    };
    const problems = layersModelProblems(cfg);
    assert.deepEqual(problems.map((p) => `${p.layer} ${p.className}`), [
      'dense_exp Dense', 'elu_1 ELU', 'conv2d_1 Conv2D', 'conv2dtranspose_1 Conv2DTranspose', 'relu_1 ReLU', 'upsampling2d_1 UpSampling2D',
      'layernormalization_1 LayerNormalization', 'globalaveragepooling2d_1 GlobalAveragePooling2D', 'grucell_1 GRUCell', 'subtract_1 Subtract',
    ]);
    assert.match(problems[0]!.why, /exponential activation/);
    assert.match(problems[8]!.why, /GRU with reset_after=true/);
    assert.match(problems[9]!.why, /no Subtract layer/);
    // Keras 3's hard_sigmoid is another function than tfjs-layers' (Keras 2's)
    assert.deepEqual(layersModelProblems(cfg, { keras3: true }).map((p) => p.layer).slice(-1), ['lstm_1']);
  });

  it('Keras 3 LeakyReLU negative_slope and the silu activation reach tfjs-layers as alpha and swish', async () => {
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const cfg = {
      class_name: 'Sequential', config: { name: 's', layers: [
        { class_name: 'InputLayer', config: { batch_shape: [null, 3], dtype: 'float32', name: 'in' } },
        { class_name: 'LeakyReLU', config: { name: 'leaky', dtype: policy, negative_slope: 0.1 } },
        { class_name: 'Activation', config: { name: 'act', dtype: policy, activation: 'silu' } },
      ] },
    };
    const converted = toTfjsModelConfig(cfg, '3.5.0');
    assert.deepEqual(layersModelProblems(converted), []);
    const layers = createRequire(import.meta.url)('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
    const { tf } = await loadTfjs('auto');
    const m = await layers.models.modelFromJSON({ modelTopology: { model_config: converted, keras_version: '3.5.0', backend: 'tensorflow' } } as never);
    const y = (m.predict(tf.tensor2d([[-2, 0.5, 3]])) as import('@tensorflow/tfjs-core').Tensor).dataSync();
    const want = [-0.2, 0.5, 3].map((v) => v / (1 + Math.exp(-v)));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(y[i]! - want[i]!) < 1e-6, `${y[i]} vs ${want[i]}`);
    m.dispose();
  });

  it('an int64 Keras weight (a Normalization count) is written as int32, as tensorflowjs_converter writes it', async () => {
    const { graph } = await loadModel(model('fmnist_mlp.h5'));
    const k = graph.extra!.keras as { weights: Array<{ name: string; layer: string; fromIr(get: (n: string) => unknown): unknown }> };
    k.weights.push({ name: 'fc1/count', layer: 'fc1', fromIr: () => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(2000n) }) });
    const files = exportTfjs(graph, { format: 'layers' });
    const json = JSON.parse(Buffer.from(files[0]!.bytes).toString('utf8')) as ModelJson;
    const entry = json.weightsManifest[0]!.weights.find((w) => w.name === 'fc1/count');
    assert.deepEqual(entry, { name: 'fc1/count', shape: [], dtype: 'int32' });
    const dir = writeFiles(files);
    assert.deepEqual(Array.from(readTfjsWeights(dir, json.weightsManifest as never, 'x').get('fc1/count')!.data as Int32Array), [2000]);
  });
});

describe('TF.js graph model of a QDQ graph: integer weights stored exactly', () => {
  /** every DequantizeLinear of a constant in `g`: its output name and the float32 values it computes */
  const dequantized = (g: Graph): Map<string, Float32Array> => {
    const out = new Map<string, Float32Array>();
    for (const n of g.nodes) {
      const q = g.initializers.get(n.inputs[0] ?? '');
      if (n.op !== 'DequantizeLinear' || !q) continue;
      const s = toFloat32(g.initializers.get(n.inputs[1]!)!);
      const zp = n.inputs[2] ? toNumbers(g.initializers.get(n.inputs[2])!) : [0];
      const axis = s.length > 1 ? ((n.attrs.axis?.type === 'int' ? n.attrs.axis.value : 1) + q.shape.length) % q.shape.length : -1;
      const inner = axis < 0 ? 1 : q.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const vals = toNumbers(q);
      out.set(n.outputs[0]!, Float32Array.from(vals, (v, i) => {
        const c = axis < 0 ? 0 : Math.floor(i / inner) % q.shape[axis]!;
        return Math.fround((v - (zp[c] ?? zp[0]!)) * s[c]!);
      }));
    }
    return out;
  };
  /** the manifest entry written for IR value `v` (a Const named after it, maybe with a layout tag) */
  const entryFor = (json: ModelJson, v: string) => json.weightsManifest[0]!.weights.filter((w) => w.name === v.replace(/[^A-Za-z0-9_.\-/]/g, '_') || w.name.startsWith(`${v.replace(/[^A-Za-z0-9_.\-/]/g, '_')}/`));
  const sorted = (a: ArrayLike<number>): number[] => Array.from(a).sort((x, y) => x - y);

  it('mlopt quantize --int8 --per-tensor: every weight and bias is a uint8 / uint16 entry that tfjs decodes bit-exactly to the QDQ dequantized values', async () => {
    const qdq = join(tempDir(), 'cnn.int8.onnx');
    const q = runCli(['quantize', model('fmnist_cnn.onnx'), '--int8', '--per-tensor', '--calibration-data', join(FIXTURES, 'data', 'fmnist_train_2000.npz'), '--calibration-samples', '100', '--runs', '1', '--warmup', '0', '-o', qdq]);
    assert.equal(q.code, 0, q.stderr);
    const { graph } = await loadModel(qdq);
    const files = exportTfjs(graph, { format: 'graph' });
    const json = JSON.parse(Buffer.from(files[0]!.bytes).toString('utf8')) as ModelJson;
    const dir = writeFiles(files);
    const { tf } = await loadTfjs('cpu');
    const decoded = tf.io.decodeWeights(Buffer.concat(files.filter((f) => f.path.endsWith('.bin')).map((f) => f.bytes)).buffer as ArrayBuffer, json.weightsManifest[0]!.weights as never);
    const mine = readTfjsWeights(dir, json.weightsManifest as never, 'x');
    const deq = dequantized(graph);
    assert.equal(deq.size, 8, '4 weights and 4 biases');
    for (const [v, want] of deq) {
      const [entry, ...more] = entryFor(json, v);
      assert.ok(entry && !more.length, `one entry for ${v}: ${JSON.stringify(json.weightsManifest[0]!.weights.map((w) => w.name))}`);
      const int8 = graph.initializers.get(graph.nodes.find((n) => n.outputs[0] === v)!.inputs[0]!)!.dtype === 'int8';
      const stored = entry.quantization?.dtype;
      assert.ok(int8 ? stored === 'uint8' : stored === 'uint8' || stored === 'uint16', `${v}: ${JSON.stringify(entry)}`);
      const got = decoded[entry.name]!.dataSync() as Float32Array;
      // bit for bit the same values (a kernel is stored transposed to HWIO: compare as multisets, then in place)
      assert.deepEqual(sorted(got), sorted(want), v);
      assert.deepEqual(Array.from(mine.get(entry.name)!.data as Float32Array), Array.from(got), `${v}: mlopt decodes what tfjs decodes`);
      if (entry.name.endsWith('/hwio')) {
        const [o, i, h, w] = graph.initializers.get(graph.nodes.find((n) => n.outputs[0] === v)!.inputs[0]!)!.shape as number[];
        for (let k = 0; k < want.length; k++) {
          const [oo, ii, hh, ww] = [Math.floor(k / (i! * h! * w!)), Math.floor(k / (h! * w!)) % i!, Math.floor(k / w!) % h!, k % w!];
          assert.equal(got[((hh * w! + ww) * i! + ii) * o! + oo], want[k], `${v}[${k}]`);
        }
      }
      decoded[entry.name]!.dispose();
    }
    // a per-tensor int8 weight: codes q + 128, min = −(128 + zp)·s, scale = s
    const dqFc = graph.nodes.find((n) => n.op === 'DequantizeLinear' && graph.initializers.get(n.inputs[0]!)?.shape.join() === '48,10')!;
    const [sFc, zpFc] = [toFloat32(graph.initializers.get(dqFc.inputs[1]!)!)[0]!, toNumbers(graph.initializers.get(dqFc.inputs[2]!)!)[0]!];
    assert.deepEqual(entryFor(json, dqFc.outputs[0]!)[0]!.quantization, { dtype: 'uint8', min: -(128 + zpFc) * sFc, scale: sFc, original_dtype: 'float32' });
    // and the model still agrees with onnxruntime on the QDQ graph
    const ort = await createOnnxRunner(exportOnnxBytes(graph), feedInputs(graph), graph.outputs);
    const r = await createTfjsRunner(join(dir, 'model.json'), feedInputs(graph), graph.outputs);
    const feeds = prepareFeeds(headOf(await loadDataset(TEST_NPZ), 250), feedInputs(graph), { batch: 250 });
    for (const b of feeds.batches()) {
      const a = toFloat32((await ort.run(b.feeds)).get(graph.outputs[0]!.name)!);
      const t = toFloat32([...(await r.run(b.feeds)).values()][0]!);
      assert.ok(top1Agreement(a, t) >= 0.99, `top-1 agreement ${top1Agreement(a, t)}`);
    }
    await ort.dispose();
    await r.dispose();
  });

  it('per-channel int8 weights: one exact uint8 / uint16 entry when the scales are multiples of the smallest, else float32 (exact either way)', async () => {
    let seed = 5;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const S = Math.fround(0.0137);
    const int8 = (shape: number[], lim: (c: number) => number): Tensor => ({ dtype: 'int8', shape, data: Int8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.round(rnd() * lim(Math.floor(i / (shape.slice(1).reduce((a, b) => a * b, 1))) ))) });
    const scales = (k: number[]): Tensor => ({ dtype: 'float32', shape: [k.length], data: Float32Array.from(k, (m) => m * S) });
    const zeros = (n: number): Tensor => ({ dtype: 'int8', shape: [n], data: new Int8Array(n) });
    const node = (op: string, inputs: string[], outputs: string[], attrs: Graph['nodes'][number]['attrs'] = {}) => ({ name: `${op}_${outputs[0]}`, op, domain: '', inputs, outputs, attrs });
    const g: Graph = {
      name: 'pc', inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3, 6, 6] }], outputs: [{ name: 'y', dtype: 'float32' }], valueInfo: [],
      initializers: new Map<string, Tensor>([
        // scales S·[1, 2, 4, 1]: the values n·S span −128…127 → uint8
        ['q1', int8([4, 3, 3, 3], (c) => [127, 60, 30, 127][c]!)], ['s1', scales([1, 2, 4, 1])], ['z1', zeros(4)],
        // scales S·[1, 8]: the values span more than 256 codes → uint16
        ['q2', int8([2, 4, 1, 1], () => 127)], ['s2', scales([1, 8])], ['z2', zeros(2)],
        // scales with no common step → float32
        ['q3', int8([3, 2, 3, 3], () => 127)], ['s3', { dtype: 'float32', shape: [3], data: Float32Array.of(0.01, 0.0173, 0.02) }], ['z3', zeros(3)],
      ]),
      nodes: [
        node('DequantizeLinear', ['q1', 's1', 'z1'], ['w1'], { axis: { type: 'int', value: 0 } }),
        node('Conv', ['x', 'w1'], ['c1'], { kernel_shape: { type: 'ints', value: [3, 3] }, pads: { type: 'ints', value: [1, 1, 1, 1] } }),
        node('DequantizeLinear', ['q2', 's2', 'z2'], ['w2'], { axis: { type: 'int', value: 0 } }),
        node('Conv', ['c1', 'w2'], ['c2'], { kernel_shape: { type: 'ints', value: [1, 1] } }),
        node('DequantizeLinear', ['q3', 's3', 'z3'], ['w3'], { axis: { type: 'int', value: 0 } }),
        node('Conv', ['c2', 'w3'], ['y'], { kernel_shape: { type: 'ints', value: [3, 3] } }),
      ],
      metadata: { opsets: [{ domain: '', version: 17 }], props: {} },
    };
    const files = exportTfjs(g, { format: 'graph' });
    const json = JSON.parse(Buffer.from(files[0]!.bytes).toString('utf8')) as ModelJson;
    assert.deepEqual(['w1', 'w2', 'w3'].map((v) => entryFor(json, v)[0]?.quantization?.dtype ?? entryFor(json, v)[0]?.dtype), ['uint8', 'uint16', 'float32']);
    const dir = writeFiles(files);
    const back = readTfjsWeights(dir, json.weightsManifest as never, 'x');
    const deq = dequantized(g);
    for (const v of ['w1', 'w2', 'w3']) assert.deepEqual(sorted(back.get(entryFor(json, v)[0]!.name)!.data as Float32Array), sorted(deq.get(v)!), v);
    // the model computes what onnxruntime computes on the QDQ graph
    const feeds = new Map([['x', { dtype: 'float32', shape: [2, 3, 6, 6], data: Float32Array.from({ length: 216 }, rnd) } as Tensor]]);
    const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
    const r = await createTfjsRunner(join(dir, 'model.json'), feedInputs(g), g.outputs);
    assert.ok(maxDiff(toFloat32((await r.run(feeds)).get('y')!), toFloat32((await ort.run(feeds)).get('y')!)) <= 1e-4);
    await ort.dispose();
    await r.dispose();
  });
});
