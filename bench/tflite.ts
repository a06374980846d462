/**
 * mlopt's TFLite writer against the official TFLiteConverter, side by side in one process.
 *
 *   a. Fashion-MNIST CNN: mlopt makes four .tflite files from fixtures/models/fmnist_cnn.onnx
 *      (float32 through `convert --to tflite`; float16, dynamic and int8 through
 *      `quantize --to tflite`, int8 calibrated on the first 200 samples of
 *      fixtures/data/fmnist_train_2000.npz) and measures them in LiteRT.js, in this process and
 *      with the same settings, next to TF 2.15's TFLiteConverter files
 *      (fixtures/models/fmnist_cnn_{float32,float16,dynamic,int8}.tflite; the float16 and dynamic
 *      ones come from fixtures/generate/make_tflite_variants.py): accuracy on
 *      fixtures/data/fmnist_test_1000.npz (and on the full 10k test set where Debian's
 *      dataset-fashion-mnist is installed), max |diff| and top-1 agreement against the Keras
 *      model's outputs (fixtures/reference/fmnist_cnn_keras.npz), file size, operators, and p50
 *      latency at batch 1 and batch 32 from blocks of timed runs that alternate between the
 *      official and the mlopt file, so that machine noise hits both.
 *   b. The issue's targets, one PASS/FAIL row each.
 *   c. The PyTorch fixture fixtures/models/fmnist_torch_cnn.onnx (NCHW) → TFLite float32 and int8:
 *      agreement with onnxruntime's outputs of the ONNX model on the same images, accuracy, and the
 *      number of TRANSPOSE operators in the written file.
 *   d. Everything in bench/results/tflite.json; mlopt's files in bench/results/tflite/.
 *
 * Exits 0 whatever the verdicts: this is a report. No Python: the official files are fixtures.
 *
 *   npm run bench:tflite
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type QuantizeMode, type QuantizeResult, quantize } from '../src/api/quantize.js';
import { convert } from '../src/api/convert.js';
import { maxAbsDiff } from '../src/bench/agreement.js';
import { timeRuns } from '../src/bench/run.js';
import { latencyStats, percentile } from '../src/bench/stats.js';
import { type Dataset, type PreparedData, argmaxRows, loadDataset, parseNpz, prepareFeeds } from '../src/data/index.js';
import { decodeTflite, operatorName, tensorTypeName } from '../src/formats/tflite/codec.js';
import { loadModel } from '../src/formats/load.js';
import { feedInputs } from '../src/ir/graph.js';
import { type Tensor, toFloat32 } from '../src/ir/tensor.js';
import { renderTable } from '../src/report/table.js';
import { createLiteRtRunner } from '../src/runtime/litert.js';
import { createOnnxRunner } from '../src/runtime/onnxruntime.js';
import type { Runner } from '../src/runtime/runner.js';

const OUT = 'bench/results';
const DIR = `${OUT}/tflite`;
const CNN = 'fixtures/models/fmnist_cnn.onnx';
const TORCH = 'fixtures/models/fmnist_torch_cnn.onnx';
const CALIB = 'fixtures/data/fmnist_train_2000.npz';
const EVAL = 'fixtures/data/fmnist_test_1000.npz';
const KERAS_REF = 'fixtures/reference/fmnist_cnn_keras.npz';
/** onnxruntime (Python) outputs of the PyTorch ONNX model, to check the in-process reference */
const TORCH_REF = 'fixtures/reference/fmnist_torch_cnn_onnx.npz';
const FULL_TEST = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const CALIB_SAMPLES = 200;
/** evaluation batch (the same for every file) */
const EVAL_BATCH = 100;
/** timing: WARMUP untimed runs per file and batch size, then BLOCKS alternating blocks of RUNS[batch] */
const WARMUP = 100;
const BLOCKS = 10;
const RUNS: Record<number, number> = { 1: 50, 32: 20 };
const BATCHES = [1, 32] as const;
const MODES = ['float32', 'float16', 'dynamic', 'int8'] as const;
type Mode = (typeof MODES)[number];
type Who = 'official' | 'mlopt';

mkdirSync(DIR, { recursive: true });
const log = (msg: string) => process.stderr.write(`[bench:tflite] ${msg}\n`);
const errText = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e));
const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
const pct2 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(2)}%`);
const sci = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toExponential(2));
const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
const notes: string[] = [];
const note = (msg: string) => {
  notes.push(msg);
  log(msg);
};
const report: Record<string, unknown> = { bench: 'tflite', date: new Date().toISOString(), node: process.version };

// ---------------------------------------------------------------------------------------------
// helpers

interface Scores {
  scores: Float32Array;
  pred: Int32Array;
  classes: number;
}

/** The first output of `runner` over all batches of `data`, and its top-1 per sample. */
async function scoresOf(runner: Runner, data: PreparedData): Promise<Scores> {
  const name = runner.outputs[0]!.name;
  let scores = new Float32Array(0);
  let classes = 0;
  for (const b of data.batches()) {
    const out = await runner.run(b.feeds);
    const y = out.get(name) ?? out.values().next().value!;
    classes = y.shape[y.shape.length - 1]!;
    if (!scores.length) scores = new Float32Array(data.count * classes);
    scores.set(toFloat32(y), b.start * classes);
  }
  return { scores, pred: argmaxRows(scores, data.count, classes), classes };
}

const agreement = (a: Int32Array, b: Int32Array) => a.reduce((n, x, i) => n + (x === b[i] ? 1 : 0), 0) / a.length;

/** The `y` array of a reference .npz as [N, K] float32 rows. */
function referenceOf(path: string): Scores {
  const y = parseNpz(new Uint8Array(readFileSync(path)), path).get('y');
  if (!y) throw new Error(`${path}: no array y`);
  const scores = toFloat32(y);
  const rows = y.shape[0]!;
  const classes = scores.length / rows;
  return { scores, pred: argmaxRows(scores, rows, classes), classes };
}

/** Operator histogram and tensor dtypes of a .tflite file. */
function anatomy(bytes: Uint8Array, source: string): { ops: Record<string, number>; dtypes: Record<string, number>; transposes: number; inputShape: number[] } {
  const m = decodeTflite(bytes, source);
  const ops: Record<string, number> = {};
  const dtypes: Record<string, number> = {};
  for (const sg of m.subgraphs) {
    for (const op of sg.operators) {
      const name = operatorName(m.operatorCodes[op.opcodeIndex]!);
      ops[name] = (ops[name] ?? 0) + 1;
    }
    for (const t of sg.tensors) {
      const d = tensorTypeName(t.type).toLowerCase();
      dtypes[d] = (dtypes[d] ?? 0) + 1;
    }
  }
  const sg0 = m.subgraphs[0]!;
  const t0 = sg0.tensors[sg0.inputs[0]!]!;
  return { ops, dtypes, transposes: ops.TRANSPOSE ?? 0, inputShape: t0.shapeSignature?.length ? t0.shapeSignature : t0.shape };
}
const fmtCounts = (c: Record<string, number>) => Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}×${n}`).join(' ');

/** The first `batch` samples of a data set, shaped for `runner`'s inputs. */
function feedsFor(ds: Dataset, runner: Runner, batch: number): Map<string, Tensor> {
  return prepareFeeds(ds, runner.inputs, { batch }).batches()[Symbol.iterator]().next().value!.feeds;
}

// ---------------------------------------------------------------------------------------------
// a. mlopt's four files from the ONNX CNN

const officialPath = (mode: Mode) => `fixtures/models/fmnist_cnn_${mode}.tflite`;
const mloptPath = (mode: Mode) => `${DIR}/fmnist_cnn.mlopt.${mode}.tflite`;

interface Made {
  ms?: number;
  error?: string;
  /** what quantize() measured itself (LiteRT.js, float = its own float32 export) */
  quantize?: Pick<QuantizeResult, 'sizeRatio' | 'accuracyDrop' | 'top1Agreement' | 'latencyRatio' | 'engine' | 'notes' | 'timings'> & { floatAccuracy?: number; accuracy?: number };
  maxDiffVsOnnx?: number;
}
const made: Partial<Record<Mode, Made>> = {};
for (const mode of MODES) {
  const output = mloptPath(mode);
  const t0 = performance.now();
  try {
    if (mode === 'float32') {
      log(`a. mlopt convert ${CNN} --to tflite`);
      await convert(CNN, { to: 'tflite', output, force: true });
      made[mode] = { ms: performance.now() - t0 };
    } else {
      log(`a. mlopt quantize ${CNN} --${mode} --to tflite`);
      const r = await quantize(CNN, {
        mode: mode as QuantizeMode, to: 'tflite', output, force: true, evalData: EVAL, batch: 32, runs: 20, warmup: 5,
        ...(mode === 'int8' ? { calibrationData: CALIB, calibrationSamples: CALIB_SAMPLES } : {}),
      });
      made[mode] = {
        ms: performance.now() - t0,
        quantize: {
          sizeRatio: r.sizeRatio, accuracyDrop: r.accuracyDrop, top1Agreement: r.top1Agreement, latencyRatio: r.latencyRatio,
          engine: r.engine, notes: r.notes, timings: r.timings, floatAccuracy: r.float.accuracy, accuracy: r.quantized.accuracy,
        },
      };
    }
  } catch (e) {
    made[mode] = { error: errText(e) };
    note(`a. mlopt ${mode}: ${errText(e)}`);
  }
}
report.made = made;

// ---------------------------------------------------------------------------------------------
// measure every file in LiteRT.js, same process, same settings

interface Measured {
  mode: Mode;
  who: Who;
  path: string;
  bytes: number;
  ops?: Record<string, number>;
  dtypes?: Record<string, number>;
  accuracy?: number;
  accuracy10k?: number;
  maxDiffKeras?: number;
  agreementKeras?: number;
  /** p50 over all timed runs, per batch size */
  p50: Record<number, number>;
  /** p50 of each timing block, per batch size */
  blockP50: Record<number, number[]>;
  error?: string;
  runner?: Runner;
  prepared: Record<number, unknown>;
  samples: Record<number, number[]>;
}

const evalDs = await loadDataset(EVAL);
const fullDs = existsSync(FULL_TEST) ? await loadDataset(FULL_TEST) : undefined;
if (!fullDs) note(`(install Debian's dataset-fashion-mnist for accuracies on the full 10,000-image test set: ${FULL_TEST} not found)`);
const keras = referenceOf(KERAS_REF);
const labels = evalDs.labels!;
const engines = new Set<string>();

const measured: Measured[] = [];
try {
  for (const mode of MODES) {
    for (const who of ['official', 'mlopt'] as const) {
      const path = who === 'official' ? officialPath(mode) : mloptPath(mode);
      const m: Measured = { mode, who, path, bytes: 0, p50: {}, blockP50: { 1: [], 32: [] }, prepared: {}, samples: { 1: [], 32: [] } };
      measured.push(m);
      if (who === 'mlopt' && made[mode]?.error) {
        m.error = `not made: ${made[mode]!.error}`;
        continue;
      }
      if (!existsSync(path)) {
        m.error = `${path} not found${who === 'official' ? ' (run fixtures/generate/make_tflite_variants.py)' : ''}`;
        note(`a. ${m.error}`);
        continue;
      }
      try {
        log(`a. LiteRT.js: ${path}`);
        const bytes = new Uint8Array(readFileSync(path));
        m.bytes = bytes.byteLength;
        const a = anatomy(bytes, path);
        m.ops = a.ops;
        m.dtypes = a.dtypes;
        const runner = await createLiteRtRunner(bytes, { source: path });
        m.runner = runner;
        engines.add(`${runner.engine} ${runner.version} (${runner.backend})`);
        const out = await scoresOf(runner, prepareFeeds(evalDs, runner.inputs, { batch: EVAL_BATCH }));
        m.accuracy = agreement(out.pred, labels);
        m.maxDiffKeras = maxAbsDiff(out.scores, keras.scores);
        m.agreementKeras = agreement(out.pred, keras.pred);
        if (fullDs) m.accuracy10k = agreement((await scoresOf(runner, prepareFeeds(fullDs, runner.inputs, { batch: 500 }))).pred, fullDs.labels!);
        for (const b of BATCHES) {
          m.prepared[b] = await runner.prepare(feedsFor(evalDs, runner, b));
          await timeRuns(runner, m.prepared[b], WARMUP, 0); // warm-up only
        }
      } catch (e) {
        m.error = errText(e);
        note(`a. ${path}: ${m.error}`);
      }
    }
  }

  // timing: per mode, the official and the mlopt file in alternating blocks (who goes first alternates too)
  for (const mode of MODES) {
    const pair = measured.filter((m) => m.mode === mode && m.runner && !m.error);
    for (const b of BATCHES) {
      log(`a. timing ${mode} at batch ${b}: ${BLOCKS} alternating blocks × ${RUNS[b]} runs (${pair.length} file(s))`);
      for (let k = 0; k < BLOCKS; k++) {
        const order = k % 2 ? [...pair].reverse() : pair;
        for (const m of order) {
          try {
            const s = await timeRuns(m.runner!, m.prepared[b], 2, RUNS[b]!);
            m.samples[b]!.push(...s);
            m.blockP50[b]!.push(latencyStats(s).p50Ms);
          } catch (e) {
            m.error = errText(e);
            note(`a. timing ${m.path}: ${m.error}`);
          }
        }
      }
      for (const m of pair) if (m.samples[b]!.length) m.p50[b] = latencyStats(m.samples[b]!).p50Ms;
    }
  }
} finally {
  for (const m of measured) if (m.runner) await m.runner.dispose().catch(() => {});
}

const get = (mode: Mode, who: Who) => measured.find((m) => m.mode === mode && m.who === who)!;
const ratio = (x: number | undefined, y: number | undefined) => (x !== undefined && y !== undefined && y > 0 ? x / y : undefined);
const fmtRatio = (x: number | undefined, digits = 3) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
/** accuracy drop vs the same tool's float32 file, in points */
const dropOf = (m: Measured) => {
  const f = get('float32', m.who).accuracy;
  return f !== undefined && m.accuracy !== undefined ? (f - m.accuracy) * 100 : undefined;
};

const rowsA = measured.map((m) => {
  const off = get(m.mode, 'official');
  const mine = m.who === 'mlopt';
  if (m.error) return [m.mode, m.who, m.bytes ? String(m.bytes) : '–', '–', `ERROR: ${m.error}`, '–', '–', '–', '–', '–', '–', '–', ...(fullDs ? ['–'] : [])];
  const drop = m.mode === 'float32' ? undefined : dropOf(m);
  return [
    m.mode, m.who, String(m.bytes), mine ? fmtRatio(ratio(m.bytes, off.bytes)) : '–',
    pct(m.accuracy), ...(fullDs ? [pct2(m.accuracy10k)] : []), drop === undefined ? '–' : drop.toFixed(1),
    sci(m.maxDiffKeras), pct(m.agreementKeras),
    ms(m.p50[1]), mine ? fmtRatio(ratio(m.p50[1], off.p50[1])) : '–',
    ms(m.p50[32]), mine ? fmtRatio(ratio(m.p50[32], off.p50[32])) : '–',
  ];
});
const engine = [...engines].join(', ') || 'LiteRT.js';
const tableA = renderTable({
  title: `a. Fashion-MNIST CNN in ${engine}, one process: official = TF 2.15 TFLiteConverter (fixtures/models/fmnist_cnn_<mode>.tflite), ` +
    `mlopt = ${CNN} → convert --to tflite (float32) / quantize --<mode> --to tflite (int8: first ${CALIB_SAMPLES} of ${CALIB}, minmax); ` +
    `accuracy on ${EVAL} (eval batch ${EVAL_BATCH}); p50 after ${WARMUP} warm-up runs, ${BLOCKS} blocks alternating official/mlopt × ${RUNS[1]} runs at batch 1, × ${RUNS[32]} at batch 32`,
  head: ['mode', 'made by', 'bytes', 'size / official', 'accuracy', ...(fullDs ? ['accuracy 10k'] : []), 'drop vs own float32 (points)', 'max |diff| vs Keras', 'top-1 = Keras',
    'p50 ms b1', 'b1 / official', 'p50 ms b32', 'b32 / official'],
  rows: rowsA,
  footer: [
    `drop vs own float32: the file's accuracy against the float32 file made by the same tool (official vs official, mlopt vs mlopt), on the 1000 images`,
    ...MODES.flatMap((mode) => {
      const o = get(mode, 'official');
      const m = get(mode, 'mlopt');
      return BATCHES.filter((b) => o.blockP50[b]!.length && o.blockP50[b]!.length === m.blockP50[b]!.length).map((b) => {
        const r = m.blockP50[b]!.map((x, i) => x / o.blockP50[b]![i]!);
        return `${mode} b${b}: per-block p50 ratios mlopt/official ${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}, median ${med(r).toFixed(3)}`;
      });
    }),
  ],
});
console.log(`${tableA}\n`);

const tableOps = renderTable({
  title: 'a′. what is in each file (operators over all subgraphs; tensor types)',
  head: ['mode', 'made by', 'operators', 'tensor types'],
  rows: measured.map((m) => [m.mode, m.who, m.ops ? fmtCounts(m.ops) : '–', m.dtypes ? fmtCounts(m.dtypes) : '–']),
});
console.log(`${tableOps}\n`);

// ---------------------------------------------------------------------------------------------
// b. the issue's targets

interface Check {
  mode: Mode;
  target: string;
  measured: string;
  ok?: boolean;
}
const checks: Check[] = [];
const check = (mode: Mode, target: string, value: number | undefined, limit: number | undefined, show: (x: number) => string, cmp: 'le' | 'ge' = 'le') => {
  const ok = value === undefined || limit === undefined || Number.isNaN(value) ? undefined : cmp === 'le' ? value <= limit : value >= limit;
  checks.push({ mode, target, measured: value === undefined ? '– (not measured)' : show(value), ok });
};
{
  const o32 = get('float32', 'official');
  const m32 = get('float32', 'mlopt');
  check('float32', 'mlopt max |diff| vs Keras ≤ 1e-5', m32.maxDiffKeras, 1e-5, (x) => `${x.toExponential(2)} (official ${sci(o32.maxDiffKeras)})`);
  check('float32', 'mlopt size ≤ 1.02 × official', ratio(m32.bytes || undefined, o32.bytes || undefined), 1.02, (x) => `${x.toFixed(4)} × (${m32.bytes} / ${o32.bytes} bytes)`);
  const o8 = get('int8', 'official');
  const m8 = get('int8', 'mlopt');
  const accLimit = o8.accuracy !== undefined ? o8.accuracy - 0.003 : undefined;
  check('int8', 'accuracy ≥ official − 0.3 points', m8.accuracy, accLimit, (x) => `${pct(x)} vs official ${pct(o8.accuracy)}${fullDs ? ` (10k: ${pct2(m8.accuracy10k)} vs ${pct2(o8.accuracy10k)})` : ''}`, 'ge');
  check('int8', 'size ≤ 1.05 × official', ratio(m8.bytes || undefined, o8.bytes || undefined), 1.05, (x) => `${x.toFixed(4)} × (${m8.bytes} / ${o8.bytes} bytes)`);
  for (const b of BATCHES) {
    check('int8', `p50 at batch ${b} ≤ 1.05 × official`, ratio(m8.p50[b], o8.p50[b]), 1.05, (x) => `${x.toFixed(3)} × (${ms(m8.p50[b])} / ${ms(o8.p50[b])} ms)`);
  }
  for (const [mode, limit] of [['float16', 0.1], ['dynamic', 1.0]] as const) {
    const m = get(mode, 'mlopt');
    const o = get(mode, 'official');
    const od = dropOf(o);
    check(mode, `accuracy drop vs float32 ≤ ${limit} point${limit === 1 ? '' : 's'}`, dropOf(m), limit,
      (x) => `${x.toFixed(1)} points (${pct(get('float32', 'mlopt').accuracy)} → ${pct(m.accuracy)}; official ${od === undefined ? '–' : od.toFixed(1)})`);
  }
}
const tableB = renderTable({
  title: `b. targets (mlopt's files, measured in table a; accuracy on ${EVAL})`,
  head: ['mode', 'target', 'measured', 'result'],
  rows: checks.map((c) => [c.mode, c.target, c.measured, verdict(c.ok)]),
});
console.log(`${tableB}\n`);

// ---------------------------------------------------------------------------------------------
// c. the PyTorch fixture (NCHW) → TFLite

interface TorchRow {
  mode: 'float32' | 'int8';
  path: string;
  bytes?: number;
  inputShape?: number[];
  ops?: Record<string, number>;
  transposes?: number;
  accuracy?: number;
  maxDiffOrt?: number;
  agreementOrt?: number;
  error?: string;
  checks: Check[];
}
const torchRows: TorchRow[] = [];
let ortScores: Scores | undefined;
let ortAccuracy: number | undefined;
let ortVsPython: number | undefined;
try {
  log(`c. onnxruntime: ${TORCH}`);
  const g = (await loadModel(TORCH)).graph;
  const ort = await createOnnxRunner(TORCH, feedInputs(g), g.outputs);
  try {
    ortScores = await scoresOf(ort, prepareFeeds(evalDs, ort.inputs, { batch: EVAL_BATCH }));
    engines.add(`${ort.engine} ${ort.version} (${ort.backend})`);
  } finally {
    await ort.dispose();
  }
  ortAccuracy = agreement(ortScores.pred, labels);
  if (existsSync(TORCH_REF)) ortVsPython = maxAbsDiff(ortScores.scores, referenceOf(TORCH_REF).scores);
} catch (e) {
  note(`c. onnxruntime on ${TORCH}: ${errText(e)}`);
}
for (const mode of ['float32', 'int8'] as const) {
  const path = `${DIR}/fmnist_torch_cnn.mlopt.${mode}.tflite`;
  const row: TorchRow = { mode, path, checks: [] };
  torchRows.push(row);
  let runner: Runner | undefined;
  try {
    log(`c. mlopt ${mode === 'float32' ? 'convert' : 'quantize --int8'} ${TORCH} --to tflite`);
    if (mode === 'float32') await convert(TORCH, { to: 'tflite', output: path, force: true });
    else await quantize(TORCH, { mode: 'int8', to: 'tflite', output: path, force: true, calibrationData: CALIB, calibrationSamples: CALIB_SAMPLES, evalData: EVAL, runs: 5, warmup: 1 });
    const bytes = new Uint8Array(readFileSync(path));
    const a = anatomy(bytes, path);
    Object.assign(row, { bytes: bytes.byteLength, inputShape: a.inputShape, ops: a.ops, transposes: a.transposes });
    runner = await createLiteRtRunner(bytes, { source: path });
    const out = await scoresOf(runner, prepareFeeds(evalDs, runner.inputs, { batch: EVAL_BATCH }));
    row.accuracy = agreement(out.pred, labels);
    if (ortScores) {
      row.maxDiffOrt = maxAbsDiff(out.scores, ortScores.scores);
      row.agreementOrt = agreement(out.pred, ortScores.pred);
    }
  } catch (e) {
    row.error = errText(e);
    note(`c. ${mode}: ${row.error}`);
  } finally {
    await runner?.dispose().catch(() => {});
  }
  const c = (target: string, value: number | undefined, limit: number, show: (x: number) => string, cmp: 'le' | 'ge' = 'le') => {
    const ok = value === undefined || Number.isNaN(value) ? undefined : cmp === 'le' ? value <= limit : value >= limit;
    row.checks.push({ mode, target, measured: value === undefined ? '–' : show(value), ok });
  };
  if (mode === 'float32') c('max |diff| vs onnxruntime ≤ 1e-4', row.maxDiffOrt, 1e-4, (x) => x.toExponential(2));
  else c('top-1 agreement with onnxruntime ≥ 99%', row.agreementOrt, 0.99, pct, 'ge');
  c('TRANSPOSE ops ≤ 2', row.transposes, 2, String);
}
const tableC = renderTable({
  title: `c. ${TORCH} (PyTorch, NCHW input, logits) → mlopt TFLite, run in LiteRT.js on ${EVAL}; reference: the ONNX model in onnxruntime in this process ` +
    `(accuracy ${pct(ortAccuracy)}${ortVsPython !== undefined ? `; max |diff| vs the Python onnxruntime outputs in ${TORCH_REF}: ${sci(ortVsPython)}` : ''}); int8: first ${CALIB_SAMPLES} of ${CALIB}`,
  head: ['mode', 'bytes', 'input shape', 'operators', 'accuracy', 'max |diff| vs ORT', 'top-1 = ORT', 'target', 'result'],
  rows: torchRows.flatMap((r) => r.checks.map((c, i) => i === 0
    ? [r.mode, r.bytes ? String(r.bytes) : '–', r.inputShape ? `[${r.inputShape.join(',')}]` : '–', r.error ? `ERROR: ${r.error}` : r.ops ? fmtCounts(r.ops) : '–',
        pct(r.accuracy), sci(r.maxDiffOrt), pct(r.agreementOrt), `${c.target}: ${c.measured}`, verdict(c.ok)]
    : ['', '', '', '', '', '', '', `${c.target}: ${c.measured}`, verdict(c.ok)])),
});
console.log(`${tableC}\n`);

// ---------------------------------------------------------------------------------------------
// d. save

const all = [...checks, ...torchRows.flatMap((r) => r.checks)];
const failed = all.filter((c) => c.ok === false);
const unknown = all.filter((c) => c.ok === undefined);
console.log(`${all.length - failed.length - unknown.length} of ${all.length} targets PASS` +
  (failed.length ? `; FAIL: ${failed.map((c) => `${c.mode} ${c.target}`).join('; ')}` : '') +
  (unknown.length ? `; not measured: ${unknown.map((c) => `${c.mode} ${c.target}`).join('; ')}` : ''));
if (notes.length) console.log(notes.map((n) => `note: ${n}`).join('\n'));
report.engines = [...engines];
report.settings = { evalBatch: EVAL_BATCH, warmup: WARMUP, blocks: BLOCKS, runs: RUNS, calibrationSamples: CALIB_SAMPLES };
report.fmnist = measured.map(({ runner: _r, prepared: _p, samples, ...m }) => ({ ...m, latency: Object.fromEntries(BATCHES.filter((b) => samples[b]!.length).map((b) => [b, latencyStats(samples[b]!)])) }));
report.targets = checks;
report.torch = { reference: { accuracy: ortAccuracy, maxDiffVsPythonOrt: ortVsPython }, rows: torchRows };
report.notes = notes;
report.tables = { a: tableA, ops: tableOps, b: tableB, c: tableC };
writeFileSync(`${OUT}/tflite.json`, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
log(`wrote ${OUT}/tflite.json`);
