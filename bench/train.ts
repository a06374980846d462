/**
 * Training in Node with TensorFlow.js through mlopt's IR executor (src/runtime/ir-executor.ts):
 *
 *   a. Throughput: samples/s training the Fashion-MNIST CNN (fixtures/models/fmnist_cnn.h5:
 *      conv3x3(1→16)+BN+ReLU+maxpool, conv3x3(16→32)+BN+ReLU+maxpool, dense 1568→48, dense 48→10
 *      softmax) at batch 64 on fixtures/data/fmnist_train_2000.npz — on the wasm backend with the
 *      gradient kernels of src/runtime/tfjs-wasm-grads.ts (median of timed epochs after a warm-up),
 *      on the wasm backend with only a naive Conv2DBackpropFilter (one matmul per kernel tap, every
 *      other kernel native: the state before tfjs-wasm-grads.ts), and on the cpu backend (a few
 *      timed steps: it is slow); inference samples/s at batch 64 on wasm.
 *   b. Gradients: one batch, wasm against cpu (IrExecutor.gradients), weight by weight
 *      (max |Δ| / max |g_cpu|; a conv bias feeding a batch norm has a zero gradient, whose
 *      rounding noise is shown but not judged).
 *   c. Fine-tuning: 3 epochs from the fixture weights with the settings tf-keras used for
 *      fixtures/reference/fmnist_cnn_finetune.json (made by fixtures/generate/), test accuracy per
 *      epoch next to tf-keras's.
 *   d. The targets (issue 5), one PASS/FAIL row each. Everything in bench/results/train.json.
 *
 * Exits 0 whatever the verdicts: this is a report.
 *
 *   npm run bench:train            (BENCH_TRAIN_CPU_STEPS=n to time more cpu steps; default 2)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseNpz } from '../src/data/index.js';
import { loadModel } from '../src/formats/load.js';
import type { Graph } from '../src/ir/graph.js';
import type { Tensor } from '../src/ir/tensor.js';
import { renderTable } from '../src/report/table.js';
import { IrExecutor, type TrainConfig } from '../src/runtime/ir-executor.js';
import { loadTfjs } from '../src/runtime/tfjs-backend.js';
import { registerWasmGradKernels, unregisterWasmGradKernels } from '../src/runtime/tfjs-wasm-grads.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type TfTensor = import('@tensorflow/tfjs-core').Tensor;

const OUT = 'bench/results';
const MODEL = 'fixtures/models/fmnist_cnn.h5';
const TRAIN = 'fixtures/data/fmnist_train_2000.npz';
const TEST = 'fixtures/data/fmnist_test_1000.npz';
const FINETUNE_REF = 'fixtures/reference/fmnist_cnn_finetune.json';
const BATCH = 64;
const WASM_EPOCHS = 3;
const CPU_STEPS = Math.max(1, Number(process.env.BENCH_TRAIN_CPU_STEPS ?? 2));
const INFER_RUNS = 30;
const TARGET = { trainWasm: 400, infer: 3000, gradDiff: 1e-4, finetunePoints: 1 };

const log = (msg: string) => process.stderr.write(`[bench:train] ${msg}\n`);
const errText = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
const fmt = (x: number | undefined, d = 0) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

interface Split { x: Tensor; y: Int32Array }

/** x as float32 / scale (the reference's "x / 255"), labels as int32. */
function loadSplit(path: string, scale: number): Split {
  const npz = parseNpz(readFileSync(path));
  const x = npz.get('x')!;
  const y = npz.get('y')!;
  return {
    x: { dtype: 'float32', shape: [...x.shape] as number[], data: Float32Array.from(x.data as ArrayLike<number>, (v) => v / scale) },
    y: Int32Array.from(y.data as ArrayLike<number>),
  };
}

function rows(s: Split, start: number, end: number): Split {
  const per = (s.x.shape as number[]).slice(1).reduce((a, b) => a * b, 1);
  return {
    x: { dtype: 'float32', shape: [end - start, ...(s.x.shape as number[]).slice(1)], data: (s.x.data as Float32Array).subarray(start * per, end * per) },
    y: s.y.subarray(start, end),
  };
}

/** The naive filter gradient the issue started from: pad, one strided slice and one matmul per kernel tap. */
function naivePerTapKernel(tf: Tf): void {
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const x = inputs.x as TfTensor;
      const dy = inputs.dy as TfTensor;
      const a = attrs as unknown as { strides: number | [number, number]; pad: 'same' | 'valid'; filterShape: [number, number, number, number] };
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad);
      const [kh, kw, ci, co] = a.filterShape;
      return tf.tidy(() => {
        const p = info.padInfo;
        const xp = tf.pad(x, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]);
        const m = info.batchSize * info.outHeight * info.outWidth;
        const dy2 = tf.reshape(dy, [m, co]);
        const taps: TfTensor[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const sl = tf.stridedSlice(xp, [0, i, j, 0], [info.batchSize, i + (info.outHeight - 1) * info.strideHeight + 1, j + (info.outWidth - 1) * info.strideWidth + 1, ci], [1, info.strideHeight, info.strideWidth, 1]);
            taps.push(tf.matMul(tf.reshape(sl, [m, ci]), dy2, true, false));
          }
        }
        return tf.reshape(tf.stack(taps), [kh, kw, ci, co]);
      });
    },
  });
}

interface Throughput { backend: string; kernels: string; samplesPerSecond?: number; runs: number[]; unit: string; error?: string }

/** Median samples/s of `epochs` timed epochs (fit, batch 64, shuffled) after `warmup` steps. */
async function trainEpochs(ex: IrExecutor, data: Split, cfg: TrainConfig, warmup: number, epochs: number, input: string): Promise<number[]> {
  for (let i = 0; i < warmup; i++) {
    const b = rows(data, i * BATCH, (i + 1) * BATCH);
    await ex.trainStep({ inputs: { [input]: b.x }, targets: b.y }, cfg);
  }
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const r = await ex.fit({ inputs: { [input]: data.x }, targets: data.y }, { ...cfg, epochs: 1, batchSize: BATCH, shuffle: true, seed: e + 1 });
    out.push(r.epochs[0]!.samplesPerSecond);
  }
  return out;
}

/** samples/s of single steps (the cpu backend: each step takes seconds). */
async function trainSteps(ex: IrExecutor, data: Split, cfg: TrainConfig, steps: number, input: string): Promise<number[]> {
  const first = rows(data, 0, BATCH);
  await ex.trainStep({ inputs: { [input]: first.x }, targets: first.y }, cfg); // warm-up
  const out: number[] = [];
  for (let i = 1; i <= steps; i++) {
    const b = rows(data, i * BATCH, (i + 1) * BATCH);
    const t0 = performance.now();
    await ex.trainStep({ inputs: { [input]: b.x }, targets: b.y }, cfg);
    out.push((BATCH * 1000) / (performance.now() - t0));
  }
  return out;
}

/** Gradients of one batch (crossentropy on the labels). */
async function gradients(graph: Graph, backend: 'wasm' | 'cpu', batch: Split, input: string): Promise<Map<string, Float64Array>> {
  const ex = await IrExecutor.create(graph, { backend });
  try {
    const { grads } = await ex.gradients({ inputs: { [input]: batch.x }, targets: batch.y }, { loss: 'crossentropy' });
    return new Map([...grads].map(([name, t]) => [name, Float64Array.from(t.data as Float32Array)]));
  } finally {
    ex.dispose();
  }
}

interface FinetuneRef {
  batchSize: number; shuffle: boolean; epochs: number; loss: 'crossentropy' | 'mse' | 'kld'; fromLogits?: boolean;
  optimizer: TrainConfig['optimizer']; inputScale?: string;
  accuracyBefore: number; accuracyPerEpoch: number[]; lossPerEpoch: number[]; testLossPerEpoch?: number[];
  tf_version?: string; tf_keras_version?: string;
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = { bench: 'train', date: new Date().toISOString(), node: process.version, batch: BATCH };
  const ref = existsSync(FINETUNE_REF) ? (JSON.parse(readFileSync(FINETUNE_REF, 'utf8')) as FinetuneRef) : undefined;
  const scale = Number(/x\s*\/\s*([\d.]+)/.exec(ref?.inputScale ?? '')?.[1] ?? 255);
  const train = loadSplit(TRAIN, scale);
  const test = loadSplit(TEST, scale);
  const model = await loadModel(MODEL);
  const input = model.graph.inputs[0]!.name;
  const { tf } = await loadTfjs('wasm');
  createRequire(import.meta.url)('@tensorflow/tfjs-layers'); // registers tfjs-core's gradient functions
  registerWasmGradKernels(tf);
  report.tfjs = tf.version_core;
  const cfg: TrainConfig = { loss: 'crossentropy', optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 } };

  // a. throughput
  const thr: Throughput[] = [];
  {
    log('training on wasm (tfjs-wasm-grads kernels)');
    const ex = await IrExecutor.create(model.graph, { backend: 'wasm' });
    try {
      const runs = await trainEpochs(ex, train, cfg, 3, WASM_EPOCHS, input);
      thr.push({ backend: ex.backend, kernels: 'mlopt (tfjs-wasm-grads.ts)', samplesPerSecond: median(runs), runs, unit: `median of ${WASM_EPOCHS} epochs` });
      log('training on wasm (naive per-tap Conv2DBackpropFilter, other kernels native)');
      unregisterWasmGradKernels(tf);
      naivePerTapKernel(tf);
      try {
        const naive = await trainEpochs(ex, train, cfg, 2, 1, input);
        thr.push({ backend: ex.backend, kernels: 'naive per-tap filter gradient + native', samplesPerSecond: median(naive), runs: naive, unit: '1 epoch' });
      } finally {
        tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
        registerWasmGradKernels(tf);
      }
      log('inference on wasm');
      const b = rows(test, 0, BATCH);
      for (let i = 0; i < 5; i++) await ex.run({ [input]: b.x });
      const ts: number[] = [];
      for (let i = 0; i < INFER_RUNS; i++) {
        const t0 = performance.now();
        await ex.run({ [input]: b.x });
        ts.push(performance.now() - t0);
      }
      const rates = ts.map((t) => (BATCH * 1000) / t).sort((p, q) => p - q);
      thr.push({ backend: ex.backend, kernels: 'inference', samplesPerSecond: median(rates), runs: [rates[0]!, rates[rates.length - 1]!], unit: `median of ${INFER_RUNS} runs; min, max` });
    } catch (e) {
      thr.push({ backend: 'wasm', kernels: 'mlopt (tfjs-wasm-grads.ts)', runs: [], unit: '', error: errText(e) });
    } finally {
      ex.dispose();
    }
  }
  {
    log(`training on cpu (${CPU_STEPS} timed steps)`);
    try {
      const ex = await IrExecutor.create(model.graph, { backend: 'cpu' });
      try {
        const runs = await trainSteps(ex, train, cfg, CPU_STEPS, input);
        thr.push({ backend: ex.backend, kernels: 'tfjs-backend-cpu', samplesPerSecond: median(runs), runs, unit: `median of ${CPU_STEPS} steps` });
      } finally {
        ex.dispose();
      }
    } catch (e) {
      thr.push({ backend: 'cpu', kernels: 'tfjs-backend-cpu', runs: [], unit: '', error: errText(e) });
    }
  }
  const wasmTrain = thr.find((r) => r.kernels.startsWith('mlopt'))?.samplesPerSecond;
  const naiveTrain = thr.find((r) => r.kernels.startsWith('naive'))?.samplesPerSecond;
  const cpuTrain = thr.find((r) => r.backend === 'cpu')?.samplesPerSecond;
  const inferRate = thr.find((r) => r.kernels === 'inference')?.samplesPerSecond;
  process.stdout.write(`\n${renderTable({
    title: `a. ${MODEL} on ${TRAIN}, batch ${BATCH}, SGD momentum 0.9, IR executor (tfjs ${tf.version_core})`,
    head: ['what', 'backend', 'kernels', 'samples/s', 'runs (samples/s)', 'vs cpu'],
    rows: thr.map((r) => [
      r.kernels === 'inference' ? 'inference' : 'training', r.backend, r.kernels === 'inference' ? 'mlopt' : r.kernels,
      r.error ? `error: ${r.error}` : fmt(r.samplesPerSecond), `${r.unit}: ${r.runs.map((x) => x.toFixed(0)).join(', ')}`,
      r.kernels !== 'inference' && r.samplesPerSecond && cpuTrain ? `${(r.samplesPerSecond / cpuTrain).toFixed(1)}×` : '–',
    ]),
    footer: naiveTrain && wasmTrain ? [`tfjs-wasm-grads.ts vs the naive per-tap filter gradient: ${(wasmTrain / naiveTrain).toFixed(2)}× faster`] : [],
  })}\n`);
  report.throughput = thr;

  // b. gradients, wasm vs cpu
  log('gradient check (one batch, wasm vs cpu)');
  const gradRows: string[][] = [];
  let gradMax: number | undefined;
  try {
    const batch = rows(train, 0, BATCH);
    const gw = await gradients(model.graph, 'wasm', batch, input);
    const gc = await gradients(model.graph, 'cpu', batch, input);
    const per: Record<string, number> = {};
    const scale = (g: Float64Array) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const largest = Math.max(...[...gc.values()].map(scale));
    gradMax = 0;
    for (const [name, c] of gc) {
      const w = gw.get(name)!;
      let d = 0;
      for (let i = 0; i < c.length; i++) d = Math.max(d, Math.abs(w[i]! - c[i]!));
      const s = scale(c);
      // a bias feeding a batch norm has a zero gradient: what both backends return is rounding noise
      const zero = s < 1e-6 * largest;
      per[name] = d / Math.max(s, 1e-30);
      if (!zero) gradMax = Math.max(gradMax, per[name]!);
      gradRows.push([name, String(c.length), s.toExponential(2), d.toExponential(2), zero ? `– (gradient ≈ 0: ${s.toExponential(0)})` : per[name]!.toExponential(2)]);
    }
    report.gradients = { maxRelDiff: gradMax, perWeight: per };
  } catch (e) {
    gradRows.push(['error', errText(e), '', '', '']);
    report.gradients = { error: errText(e) };
  }
  process.stdout.write(`\n${renderTable({ title: `b. gradients of one batch (${BATCH} samples), wasm vs cpu (relative = max |Δ| / max |g cpu|; gradients ≈ 0 are left out)`, head: ['weight', 'size', 'max |g| cpu', 'max |Δ|', 'relative'], rows: gradRows })}\n`);

  // c. fine-tuning against tf-keras
  let finetuneDiff: number | undefined;
  if (ref) {
    log(`fine-tuning ${ref.epochs} epochs on wasm`);
    const ftRows: string[][] = [];
    try {
      const ex = await IrExecutor.create((await loadModel(MODEL)).graph, { backend: 'wasm' });
      try {
        const testData = { inputs: { [input]: test.x }, targets: test.y };
        const before = await ex.evaluate(testData, { batchSize: 250 });
        ftRows.push(['before', pct(before.accuracy), pct(ref.accuracyBefore), '–', '–']);
        const fit = await ex.fit({ inputs: { [input]: train.x }, targets: train.y }, {
          loss: ref.loss, ...(ref.fromLogits !== undefined ? { fromLogits: ref.fromLogits } : {}), optimizer: ref.optimizer,
          epochs: ref.epochs, batchSize: ref.batchSize, shuffle: ref.shuffle, validation: testData,
        });
        const acc = fit.epochs.map((e) => e.validation?.accuracy ?? NaN);
        fit.epochs.forEach((e, i) => ftRows.push([`epoch ${i + 1}`, pct(acc[i]), pct(ref.accuracyPerEpoch[i]), fmt(e.loss, 4), fmt(ref.lossPerEpoch[i], 4)]));
        finetuneDiff = Math.abs(acc[acc.length - 1]! - ref.accuracyPerEpoch[ref.accuracyPerEpoch.length - 1]!) * 100;
        report.finetune = { reference: ref, mlopt: { accuracyBefore: before.accuracy, accuracyPerEpoch: acc, lossPerEpoch: fit.epochs.map((e) => e.loss) }, finalDiffPoints: finetuneDiff };
      } finally {
        ex.dispose();
      }
    } catch (e) {
      ftRows.push(['error', errText(e), '', '', '']);
      report.finetune = { error: errText(e) };
    }
    const o = ref.optimizer as Record<string, unknown>;
    process.stdout.write(`\n${renderTable({
      title: `c. fine-tuning ${MODEL}: ${ref.epochs} epochs, batch ${ref.batchSize}, ${Object.entries(o).map(([k, v]) => `${k} ${String(v)}`).join(', ')}, shuffle ${ref.shuffle}; test accuracy on ${TEST}`,
      head: ['', 'mlopt (wasm)', `tf-keras ${ref.tf_keras_version ?? ''}`.trim(), 'mlopt train loss', 'tf-keras train loss'],
      rows: ftRows,
    })}\n`);
  } else {
    log(`${FINETUNE_REF} missing: fine-tuning check skipped`);
  }

  // d. targets
  const targets: Array<[string, string, boolean | undefined]> = [
    [`train wasm ≥ ${TARGET.trainWasm} samples/s (batch ${BATCH})`, fmt(wasmTrain), wasmTrain === undefined ? undefined : wasmTrain >= TARGET.trainWasm],
    [`inference wasm ≥ ${TARGET.infer} samples/s (batch ${BATCH})`, fmt(inferRate), inferRate === undefined ? undefined : inferRate >= TARGET.infer],
    [`gradients wasm vs cpu ≤ ${TARGET.gradDiff} relative`, gradMax === undefined ? '–' : gradMax.toExponential(2), gradMax === undefined ? undefined : gradMax <= TARGET.gradDiff],
    [`fine-tuning: test accuracy after ${ref?.epochs ?? 3} epochs within ${TARGET.finetunePoints} point of tf-keras`, finetuneDiff === undefined ? '–' : `${finetuneDiff.toFixed(2)} points`, finetuneDiff === undefined ? undefined : finetuneDiff <= TARGET.finetunePoints],
  ];
  process.stdout.write(`\n${renderTable({ title: 'd. targets (issue 5)', head: ['target', 'measured', 'verdict'], rows: targets.map(([t, m, ok]) => [t, m, verdict(ok)]) })}\n`);
  report.targets = targets.map(([target, measured, pass]) => ({ target, measured, pass }));
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/train.json`, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${OUT}/train.json`);
}

main().catch((e) => {
  process.stderr.write(`[bench:train] failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
