/**
 * IR executor, recurrent ops (LSTM, GRU, RNN): small graphs agree with onnxruntime (directions,
 * initial states, peepholes, clip, activations with parameters, linear_before_reset,
 * sequence_lens), batch-major layout 1 equals the transposed layout-0 graph (onnxruntime refuses
 * layout 1), the onnx backend-test models reproduce their stored outputs, the real recurrent ONNX
 * models of ../shared/corpus agree with onnxruntime (and a run leaves no tensor behind), and
 * gradients through the unrolled steps match finite differences.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CORPUS, tensorMaxDiff } from '../helpers.js';
import { importOnnxBytes } from '../../src/formats/onnx/import.js';
import { exportOnnxBytes } from '../../src/formats/onnx/export.js';
import { tensorFromOnnx } from '../../src/formats/onnx/tensor.js';
import { decodeTensor } from '../../src/formats/onnx/proto/index.js';
import { createOnnxRunner } from '../../src/runtime/onnxruntime.js';
import { IrExecutor } from '../../src/runtime/ir-executor.js';
import { randomFeeds } from '../../src/data/index.js';
import { type Attr, type Graph, createGraph, feedInputs } from '../../src/ir/graph.js';
import { type Tensor, elementCount, toFloat32 } from '../../src/ir/tensor.js';
import { MloptError } from '../../src/util/errors.js';
import { seededRandom } from '../../src/util/random.js';

const BACKEND = 'wasm' as const;
const tf = createRequire(import.meta.url)('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');

const maxAbsDiff = tensorMaxDiff;

const rng = seededRandom;

const int = (value: number): Attr => ({ type: 'int', value });
const str = (value: string): Attr => ({ type: 'string', value });
const strs = (value: string[]): Attr => ({ type: 'strings', value });
const flts = (value: number[]): Attr => ({ type: 'floats', value });

interface RnnSpec {
  op: 'LSTM' | 'GRU' | 'RNN';
  T?: number;
  N?: number;
  I?: number;
  H?: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  bias?: boolean;
  initial?: boolean;
  peepholes?: boolean;
  seqLens?: number[];
  attrs?: Record<string, Attr>;
  /** which outputs the node has ('' = not requested) */
  outputs?: boolean[];
}

/** One recurrent node with random weights; feeds X (and the initial states). */
function rnnGraph(s: RnnSpec, seed = 1): { g: Graph; feeds: Map<string, Tensor> } {
  const rand = rng(seed);
  const { op, T = 5, N = 3, I = 4, H = 6, direction = 'forward', layout = 0 } = s;
  const D = direction === 'bidirectional' ? 2 : 1;
  const G = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
  const g = createGraph(`${op}-test`);
  g.metadata.opsets = [{ domain: '', version: 17 }];
  g.metadata.sourceFormat = 'onnx';
  g.metadata.formatVersion = 8;
  const feeds = new Map<string, Tensor>();
  const random = (shape: number[], scale: number): Float32Array => Float32Array.from({ length: elementCount(shape) }, () => (2 * rand() - 1) * scale);
  const input = (name: string, shape: number[], scale = 1): string => {
    g.inputs.push({ name, dtype: 'float32', shape });
    feeds.set(name, { dtype: 'float32', shape, data: random(shape, scale) });
    return name;
  };
  const weight = (name: string, shape: number[], scale = 0.6): string => {
    g.initializers.set(name, { dtype: 'float32', shape, data: random(shape, scale) });
    return name;
  };
  const x = input('X', layout === 1 ? [N, T, I] : [T, N, I], 1.5);
  const ins = [x, weight('W', [D, G * H, I]), weight('R', [D, G * H, H]), s.bias === false ? '' : weight('B', [D, 2 * G * H])];
  if (s.seqLens) g.initializers.set('lens', { dtype: 'int32', shape: [N], data: Int32Array.from(s.seqLens) });
  ins.push(s.seqLens ? 'lens' : '');
  const state = layout === 1 ? [N, D, H] : [D, N, H];
  if (s.initial) {
    ins.push(input('h0', state, 0.8));
    if (op === 'LSTM') ins.push(input('c0', state, 0.8));
  }
  if (s.peepholes) {
    while (ins.length < 7) ins.push('');
    ins.push(weight('P', [D, 3 * H]));
  }
  while (ins[ins.length - 1] === '') ins.pop();
  const names = ['Y', 'Y_h', 'Y_c'].slice(0, op === 'LSTM' ? 3 : 2);
  const want = s.outputs ?? names.map(() => true);
  const outs = names.map((n, i) => (want[i] ? n : ''));
  g.nodes.push({
    name: `${op}_0`, op, domain: '', inputs: ins, outputs: outs,
    attrs: { hidden_size: int(H), direction: str(direction), ...(layout ? { layout: int(1) } : {}), ...s.attrs },
  });
  for (const o of outs) if (o) g.outputs.push({ name: o, dtype: 'float32' });
  return { g, feeds };
}

/** Executor and onnxruntime on the same feeds: every output within `tol`. */
async function agreeWithOrt(g: Graph, feeds: Map<string, Tensor>, tol = 1e-5): Promise<void> {
  const ex = await IrExecutor.create(g, { backend: BACKEND });
  const ort = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs);
  try {
    const got = await ex.run(feeds);
    const want = await ort.run(feeds);
    // the unrolled steps leave nothing behind
    const before = tf.memory().numTensors;
    await ex.run(feeds);
    assert.equal(tf.memory().numTensors, before, 'a run leaves no tensor behind');
    for (const o of g.outputs) {
      const d = maxAbsDiff(got[o.name]!, want.get(o.name)!, o.name);
      assert.ok(d <= tol, `${o.name}: max |diff| ${d}`);
    }
  } finally {
    ex.dispose();
    await ort.dispose();
  }
}

const CASES: Array<[string, RnnSpec]> = [
  ['LSTM forward, bias, initial states, Y / Y_h / Y_c', { op: 'LSTM', initial: true }],
  ['LSTM bidirectional with peepholes', { op: 'LSTM', direction: 'bidirectional', initial: true, peepholes: true }],
  ['LSTM reverse, no bias, only Y_h', { op: 'LSTM', direction: 'reverse', bias: false, outputs: [false, true, false] }],
  ['LSTM clip', { op: 'LSTM', direction: 'bidirectional', attrs: { clip: { type: 'float', value: 0.7 } } }],
  ['LSTM input_forget', { op: 'LSTM', initial: true, attrs: { input_forget: int(1) } }],
  ['LSTM activations with parameters (HardSigmoid, LeakyRelu, Affine / ScaledTanh, Elu, Softsign)', {
    op: 'LSTM', direction: 'bidirectional',
    attrs: {
      activations: strs(['HardSigmoid', 'LeakyRelu', 'Affine', 'ScaledTanh', 'Elu', 'Softsign']),
      activation_alpha: flts([0.3, 0.05, 0.9, 1.3, 0.6]), activation_beta: flts([0.4, 0.1, 0.7]),
    },
  }],
  ['LSTM sequence_lens, bidirectional', { op: 'LSTM', direction: 'bidirectional', initial: true, seqLens: [5, 2, 3] }],
  ['GRU forward, linear_before_reset 0', { op: 'GRU', initial: true }],
  ['GRU bidirectional, linear_before_reset 1', { op: 'GRU', direction: 'bidirectional', initial: true, attrs: { linear_before_reset: int(1) } }],
  ['GRU reverse, linear_before_reset 1, no bias', { op: 'GRU', direction: 'reverse', bias: false, attrs: { linear_before_reset: int(1) } }],
  ['GRU bidirectional, activations Relu / Tanh, clip', { op: 'GRU', direction: 'bidirectional', attrs: { activations: strs(['Sigmoid', 'Relu', 'HardSigmoid', 'Tanh']), clip: { type: 'float', value: 1.2 } } }],
  ['GRU sequence_lens, reverse', { op: 'GRU', direction: 'reverse', initial: true, seqLens: [1, 5, 4] }],
  ['RNN forward (Tanh), initial state', { op: 'RNN', initial: true }],
  ['RNN bidirectional, Relu / LeakyRelu', { op: 'RNN', direction: 'bidirectional', attrs: { activations: strs(['Relu', 'LeakyRelu']), activation_alpha: flts([0.2]) } }],
  ['RNN sequence_lens, one step', { op: 'RNN', T: 1, seqLens: [1, 1, 1] }],
];

describe('recurrent ops agree with onnxruntime', () => {
  for (const [name, spec] of CASES) {
    test(name, async () => {
      const { g, feeds } = rnnGraph(spec);
      await agreeWithOrt(g, feeds);
    });
  }
});

describe('layout 1 (batch-major) equals the transposed layout-0 graph', () => {
  for (const op of ['LSTM', 'GRU', 'RNN'] as const) {
    test(op, async () => {
      const spec: RnnSpec = { op, direction: 'bidirectional', initial: true, ...(op === 'GRU' ? { attrs: { linear_before_reset: int(1) } } : {}) };
      const batch = rnnGraph({ ...spec, layout: 1 });
      const seq = rnnGraph({ ...spec, layout: 0 });
      // same weights; the feeds transposed to sequence-major
      seq.g.initializers = batch.g.initializers;
      const tr = (t: Tensor, perm: number[]): Tensor => {
        const src = toFloat32(t);
        const shape = perm.map((p) => t.shape[p]!);
        const out = new Float32Array(src.length);
        const [a, b, c] = t.shape as [number, number, number];
        for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) {
          const idx = [i, j, k];
          const o = perm.map((p) => idx[p]!);
          out[(o[0]! * shape[1]! + o[1]!) * shape[2]! + o[2]!] = src[(i * b + j) * c + k]!;
        }
        return { dtype: 'float32', shape, data: out };
      };
      const seqFeeds = new Map([...batch.feeds].map(([k, t]) => [k, tr(t, [1, 0, 2])]));
      const ort = await createOnnxRunner(exportOnnxBytes(seq.g), feedInputs(seq.g), seq.g.outputs);
      const ex = await IrExecutor.create(batch.g, { backend: BACKEND });
      try {
        const want = await ort.run(seqFeeds);
        const got = await ex.run(batch.feeds);
        // Y: [T, D, N, H] ⇄ [N, T, D, H]; states: [D, N, H] ⇄ [N, D, H]
        const y = want.get('Y')!;
        const [T, D, N, H] = y.shape as number[] as [number, number, number, number];
        const ys = toFloat32(y);
        const yb = new Float32Array(ys.length);
        for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) {
          yb[((n * T + t) * D + d) * H + h] = ys[((t * D + d) * N + n) * H + h]!;
        }
        assert.ok(maxAbsDiff(got.Y!, { dtype: 'float32', shape: [N, T, D, H], data: yb }, 'Y') <= 1e-5);
        for (const o of op === 'LSTM' ? ['Y_h', 'Y_c'] : ['Y_h']) {
          assert.ok(maxAbsDiff(got[o]!, tr(want.get(o)!, [1, 0, 2]), o) <= 1e-5, o);
        }
      } finally {
        ex.dispose();
        await ort.dispose();
      }
    });
  }
});

describe('onnx backend tests reproduce their stored outputs', () => {
  for (const name of ['node_lstm_defaults', 'node_gru_defaults']) {
    const dir = join(CORPUS, 'onnx', name);
    test(name, { skip: existsSync(dir) ? false : `${dir} not found` }, async () => {
      const g = importOnnxBytes(readFileSync(join(dir, 'model.onnx')), name);
      const data = join(dir, 'test_data_set_0');
      const read = (prefix: string): Tensor[] => readdirSync(data).filter((f) => f.startsWith(prefix)).sort()
        .map((f) => tensorFromOnnx(decodeTensor(readFileSync(join(data, f))), f));
      const inputs = read('input_');
      const expected = read('output_');
      const ex = await IrExecutor.create(g, { backend: BACKEND });
      const got = await ex.run(new Map(feedInputs(g).map((v, i) => [v.name, inputs[i]!])));
      ex.dispose();
      g.outputs.forEach((o, i) => {
        const d = maxAbsDiff(got[o.name]!, expected[i]!, o.name);
        assert.ok(d <= 1e-5, `${o.name}: max |diff| ${d}`);
      });
    });
  }
});

describe('recurrent ONNX models of the corpus agree with onnxruntime', () => {
  for (const file of ['keras2onnx_conv1d_lstm.onnx', 'lstm_1layer_pytorch1.9.onnx', 'lstm_bidirectional_cntk.onnx']) {
    const path = join(CORPUS, 'onnx', file);
    test(file, { skip: existsSync(path) ? false : `${path} not found` }, async () => {
      const g = importOnnxBytes(readFileSync(path), file);
      const ins = feedInputs(g);
      const dims = Object.fromEntries(ins.flatMap((v) => (v.shape ?? []).filter((d): d is string => typeof d === 'string').map((d) => [d, 4])));
      await agreeWithOrt(g, randomFeeds(ins, 2, 11, dims), 1e-4);
    });
  }
});

test('sequence_lens out of range and bad activation lists are refused with the node named', async () => {
  const bad = rnnGraph({ op: 'GRU', seqLens: [9, 1, 1] });
  const ex = await IrExecutor.create(bad.g, { backend: BACKEND });
  await assert.rejects(ex.run(bad.feeds), (e: unknown) => e instanceof MloptError && /node "GRU_0".*sequence_lens value 9 is outside \[0, 5\]/.test(e.message));
  ex.dispose();
  const acts = rnnGraph({ op: 'LSTM', attrs: { activations: strs(['Sigmoid', 'Tanh']) } });
  await assert.rejects(IrExecutor.create(acts.g, { backend: BACKEND }), /op LSTM \(node "LSTM_0"\) cannot run on the IR executor: 2 activations given/);
  const unknown = rnnGraph({ op: 'RNN', attrs: { activations: strs(['Swish']) } });
  await assert.rejects(IrExecutor.create(unknown.g, { backend: BACKEND }), /activation "Swish" is not an ONNX recurrent activation/);
});

describe('gradients through the unrolled steps match finite differences', () => {
  const specs: Array<[string, RnnSpec]> = [
    ['LSTM bidirectional with peepholes', { op: 'LSTM', direction: 'bidirectional', peepholes: true, initial: true }],
    ['GRU linear_before_reset 0', { op: 'GRU', initial: true }],
    ['GRU linear_before_reset 1, reverse', { op: 'GRU', direction: 'reverse', attrs: { linear_before_reset: int(1) } }],
    ['RNN with sequence_lens', { op: 'RNN', seqLens: [3, 1, 2] }],
  ];
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [name, spec] of specs) {
      test(`${name} (${backend})`, async () => {
        const { g, feeds } = rnnGraph({ ...spec, T: 3, N: 3, I: 2, H: 3, outputs: [false, true, false] }, 5);
        const ex = await IrExecutor.create(g, { backend });
        assert.deepEqual(ex.trainableNames().sort(), ['B', 'R', 'W', ...(spec.peepholes ? ['P'] : [])].sort());
        const targets: Tensor = { dtype: 'float32', shape: [1, 3, 3], data: Float32Array.from({ length: 9 }, (_, i) => Math.sin(i)) };
        const inputs = Object.fromEntries([...feeds].filter(([k]) => k !== 'Y_h'));
        const cfg = { loss: 'mse' as const, output: 'Y_h' };
        const { grads } = await ex.gradients({ inputs, targets }, cfg);
        const base = ex.getWeights();
        const eps = 1e-2;
        for (const w of ex.trainableNames()) {
          const g0 = toFloat32(grads.get(w)!);
          const v0 = toFloat32(base.get(w)!);
          // a few elements of each weight, central differences in float32
          for (const i of [0, Math.floor(v0.length / 2), v0.length - 1]) {
            const at = async (delta: number): Promise<number> => {
              const v = Float32Array.from(v0);
              v[i] = v[i]! + delta;
              ex.setWeights(new Map([[w, { dtype: 'float32', shape: base.get(w)!.shape, data: v }]]));
              return (await ex.gradients({ inputs, targets }, cfg)).loss;
            };
            const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
            assert.ok(Math.abs(fd - g0[i]!) <= 2e-3 + 0.02 * Math.abs(fd), `${w}[${i}]: autodiff ${g0[i]} vs finite difference ${fd}`);
          }
          ex.setWeights(new Map([[w, base.get(w)!]]));
        }
        ex.dispose();
      });
    }
  }
});
