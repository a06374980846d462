/**
 * `mlopt quantize` against the targets of its issue, and against onnxruntime's own quantizer.
 *
 *   a. fmnist_cnn: int8 (static, minmax), dynamic and float16 through `quantize()`, the first
 *      200 training samples as calibration, the 1000-sample test set, batch 32, 200 timed runs:
 *      size ratio, accuracy drop and latency ratio against the issue's targets.
 *   b. The same int8 settings in onnxruntime's Python `quantize_static` (bench/ort_quantize.py:
 *      QDQ, per-channel, MinMax, uint8 activations, int8 weights, the same 200 samples); then
 *      float, mlopt int8 and ORT int8 measured here, in one process with the same settings:
 *      accuracy, agreement and SQNR against float on the test set, and p50 latency from
 *      blocks of timed runs that rotate between the three models so noise hits all alike.
 *   c. MobileNetV2 (alpha 1.0, 3.5 M parameters, the Keras architecture) trained on a synthetic
 *      10-class task at 64×64 (fixtures/generate/make_mobilenet.py, ~2-3 min on CPU; writes the
 *      model, 200 calibration and 500 labelled held-out samples to bench/results/ when missing)
 *      quantized to int8 on the 200 calibration samples: quantize time (target < 10 s), float and
 *      int8 accuracy and top-1 agreement with float on the held-out samples (target ≥ 95%),
 *      logits SQNR, size ratio, batch-1 latency ratio, wall time and the worst layers by SQNR;
 *      with onnxruntime's quantize_static on the same data as a reference row, and percentile
 *      and entropy calibration too when minmax misses the agreement target.
 *   d. Everything in bench/results/quantize.json.
 *
 * Exits 0 whatever the verdicts: this is a report. Python is used only to make the reference
 * models (ORT quantizer: MLOPT_PYTHON, else .ci/venv/bin/python; MobileNetV2:
 * MLOPT_FIXTURE_PYTHON, else /work/venv-fixtures with tensorflow + tf2onnx); without a suitable
 * one, that part is skipped with a note.
 *
 *   npm run bench:quantize
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type QuantizeMode, type QuantizeOptions, type QuantizeResult, quantize, sqnrDb } from '../src/api/quantize.js';
import { type LatencyStats, latencyStats, percentile } from '../src/bench/stats.js';
import { timeRuns } from '../src/bench/run.js';
import { type PreparedData, argmaxRows, loadDataset, prepareFeeds } from '../src/data/index.js';
import { loadModel } from '../src/formats/load.js';
import { feedInputs } from '../src/ir/graph.js';
import { summarize } from '../src/ir/summary.js';
import { type Tensor, toFloat32 } from '../src/ir/tensor.js';
import { renderTable } from '../src/report/table.js';
import { createOnnxRunner } from '../src/runtime/onnxruntime.js';
import type { Runner } from '../src/runtime/runner.js';

const OUT = 'bench/results';
const CNN = 'fixtures/models/fmnist_cnn.onnx';
const CALIB = 'fixtures/data/fmnist_train_2000.npz';
const EVAL = 'fixtures/data/fmnist_test_1000.npz';
const CALIB_SAMPLES = 200;
const BATCH = 32;
const RUNS = 200;
const WARMUP = 20;
/** part b: ROUNDS rotating blocks of BLOCK_RUNS timed runs per model */
const ROUNDS = 20;
const BLOCK_RUNS = 20;
/** part c */
const MOBILENET = `${OUT}/mobilenetv2.onnx`;
const MB_CALIB = `${OUT}/mobilenetv2_calib.npz`;
const MB_EVAL = `${OUT}/mobilenetv2_eval.npz`;
/** calibration samples; make_mobilenet.py writes 200 calibration and 500 labelled evaluation samples */
const MB_SAMPLES = 200;
const MB_RUNS = 100;
const MB_WARMUP = 10;

mkdirSync(OUT, { recursive: true });
const log = (msg: string) => process.stderr.write(`[bench:quantize] ${msg}\n`);
const errText = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const notes: string[] = [];
const note = (msg: string) => {
  notes.push(msg);
  log(msg);
};
const report: Record<string, unknown> = { bench: 'quantize', date: new Date().toISOString(), node: process.version };

// ---------------------------------------------------------------------------------------------
// helpers

/** Run a Python script; its last stdout line is JSON. */
function runPython(python: string, args: string[]): ({ ok: true; info: Record<string, unknown>; wallMs: number } | { ok: false; error: string }) & { stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return { ok: false, error: `${python} ${args.join(' ')} exited ${r.status ?? r.signal}: ${why}`, stderr: r.stderr ?? '' };
  }
  return { ok: true, info: JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>, wallMs, stderr: r.stderr ?? '' };
}

/** The first of `candidates` that exists and imports `modules`. */
function findPython(candidates: Array<string | undefined>, modules: string[]): string | undefined {
  return candidates.find((p) => p && (!p.includes('/') || existsSync(p)) && spawnSync(p, ['-c', `import ${modules.join(', ')}`]).status === 0);
}

async function runnerFor(path: string): Promise<Runner> {
  const g = (await loadModel(path)).graph;
  return createOnnxRunner(path, feedInputs(g), g.outputs);
}

/** The first output over all batches (rows of `classes` scores) and its top-1 per sample. */
async function outputsOf(runner: Runner, data: PreparedData): Promise<{ scores: Float32Array; pred: Int32Array; classes: number }> {
  const name = runner.outputs[0]!.name;
  let scores = new Float32Array(0);
  let classes = 0;
  for (const b of data.batches()) {
    const y = (await runner.run(b.feeds)).get(name)!;
    classes = y.shape[1]!;
    if (!scores.length) scores = new Float32Array(data.count * classes);
    scores.set(toFloat32(y), b.start * classes);
  }
  return { scores, pred: argmaxRows(scores, data.count, classes), classes };
}

const agreement = (a: Int32Array, b: Int32Array) => a.reduce((n, x, i) => n + (x === b[i] ? 1 : 0), 0) / a.length;
const firstBatch = (data: PreparedData): Map<string, Tensor> => data.batches()[Symbol.iterator]().next().value!.feeds;

/** p50 of a model timed alone: a fresh session, `warmup` + `runs` runs (as quantize() times). */
async function timeAlone(path: string, feeds: Map<string, Tensor>, warmup: number, runs: number): Promise<LatencyStats> {
  const r = await runnerFor(path);
  try {
    return latencyStats(await timeRuns(r, await r.prepare(feeds), warmup, runs));
  } finally {
    await r.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// a. the three modes on fmnist_cnn against the issue's targets

interface Target {
  size: number;
  drop: number;
  latency?: number;
}
const TARGETS: Record<QuantizeMode, Target> = {
  int8: { size: 0.27, drop: 0.5, latency: 0.7 },
  dynamic: { size: 0.27, drop: 1.0 },
  float16: { size: 0.52, drop: 0.1 },
};

function missedTargets(r: QuantizeResult, t: Target): string[] {
  const missed: string[] = [];
  if (!(r.sizeRatio <= t.size)) missed.push('size');
  if (!((r.accuracyDrop ?? Infinity) <= t.drop)) missed.push('accuracy');
  if (t.latency !== undefined && !(r.latencyRatio <= t.latency)) missed.push('latency');
  return missed;
}

const cnnOut = (mode: QuantizeMode) => `${OUT}/fmnist_cnn.${mode}.onnx`;
const partA: Partial<Record<QuantizeMode, { result?: QuantizeResult; target: Target; missed?: string[]; error?: string; skipped?: string }>> = {};
const rowsA: string[][] = [];
for (const mode of ['int8', 'dynamic', 'float16'] as const) {
  const t = TARGETS[mode];
  const target = `size ≤ ${t.size}, drop ≤ ${t.drop}${t.latency !== undefined ? `, latency ≤ ${t.latency}` : ''}`;
  if (mode === 'float16' && !existsSync('src/optimize/quantize/float16.ts')) {
    const why = 'src/optimize/quantize/float16.ts is not there yet';
    note(`a. float16 skipped: ${why}`);
    partA[mode] = { target: t, skipped: why };
    rowsA.push([mode, '–', '–', '–', target, 'SKIPPED']);
    continue;
  }
  log(`a. fmnist_cnn --${mode}`);
  const opts: QuantizeOptions = {
    mode, output: cnnOut(mode), force: true, evalData: EVAL, batch: BATCH, runs: RUNS, warmup: WARMUP,
    ...(mode === 'int8' ? { calibrationData: CALIB, calibrationSamples: CALIB_SAMPLES, calibrationMethod: 'minmax' as const } : {}),
  };
  try {
    const r = await quantize(CNN, opts);
    const missed = missedTargets(r, t);
    partA[mode] = { result: r, target: t, missed };
    rowsA.push([
      mode,
      r.sizeRatio.toFixed(3),
      `${pct(r.float.accuracy ?? NaN)} → ${pct(r.quantized.accuracy ?? NaN)} (${(r.accuracyDrop ?? NaN).toFixed(2)})`,
      `${r.float.latencyP50Ms.toFixed(3)} / ${r.quantized.latencyP50Ms.toFixed(3)} (${r.latencyRatio.toFixed(2)})`,
      target,
      missed.length ? `FAIL (${missed.join(', ')})` : 'PASS',
    ]);
  } catch (e) {
    partA[mode] = { target: t, error: errText(e) };
    rowsA.push([mode, '–', '–', '–', target, `ERROR: ${errText(e)}`]);
  }
}
const tableA = renderTable({
  title: `a. mlopt quantize ${CNN}: calibration = first ${CALIB_SAMPLES} of ${CALIB} (minmax), eval = ${EVAL}; ` +
    `batch ${BATCH}, ${RUNS} runs after ${WARMUP} warm-up, as measured by quantize() (float and quantized timed in alternating blocks)`,
  head: ['mode', 'size ratio', 'accuracy float → quantized (drop, points)', 'p50 ms float / quantized (ratio)', 'target', 'result'],
  rows: rowsA,
});
console.log(`${tableA}\n`);
report.fmnist = partA;

// ---------------------------------------------------------------------------------------------
// b. mlopt int8 vs onnxruntime's quantize_static, measured side by side

const ortPython = findPython([process.env.MLOPT_PYTHON, resolve('.ci/venv/bin/python')], ['onnxruntime', 'onnx', 'numpy']);
if (!ortPython) note('b. and the ORT row of c. skipped: no Python with onnxruntime (set MLOPT_PYTHON, or make .ci/venv)');

interface Measured {
  name: string;
  path: string;
  runner: Runner;
  prepared: unknown;
  samples: number[];
  blockP50: number[];
  accuracy: number;
  agreement: number;
  sqnr: number;
}

let tableB = '';
const FULL_TEST = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const fullAccuracy = new Map<string, number>();
const pct2 = (x: number): string => `${(x * 100).toFixed(2)}%`;
const mloptInt8 = partA.int8?.result;
if (ortPython && !mloptInt8) note('b. skipped: mlopt int8 quantization failed in part a');
if (ortPython && mloptInt8) {
  log(`b. onnxruntime quantize_static with ${ortPython}`);
  const ortModel = `${OUT}/fmnist_cnn.ort_int8.onnx`;
  const ortq = runPython(ortPython, ['bench/ort_quantize.py', CNN, CALIB, String(CALIB_SAMPLES), ortModel]);
  if (!ortq.ok) {
    note(`b. skipped: ${ortq.error}`);
  } else {
    const m = await loadModel(CNN);
    const data = prepareFeeds(await loadDataset(EVAL), feedInputs(m.graph), { batch: BATCH });
    const feeds = firstBatch(data);
    const labels = data.labels!;
    const specs = [['float', CNN], ['mlopt int8', cnnOut('int8')], [`ORT ${String(ortq.info.ort)} quantize_static`, ortModel]] as const;
    const models: Measured[] = [];
    try {
      let ref: Awaited<ReturnType<typeof outputsOf>> | undefined;
      for (const [name, path] of specs) {
        const runner = await runnerFor(path);
        const out = await outputsOf(runner, data);
        ref ??= out;
        const prepared = await runner.prepare(feeds);
        await timeRuns(runner, prepared, WARMUP, 0); // warm-up only
        models.push({
          name, path, runner, prepared, samples: [], blockP50: [],
          accuracy: agreement(out.pred, labels), agreement: agreement(out.pred, ref.pred), sqnr: sqnrDb(ref.scores, out.scores),
        });
      }
      log(`b. timing: ${ROUNDS} rotating blocks × ${BLOCK_RUNS} runs per model`);
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < models.length; k++) {
          const c = models[(round + k) % models.length]!;
          const s = await timeRuns(c.runner, c.prepared, 2, BLOCK_RUNS);
          c.samples.push(...s);
          c.blockP50.push(latencyStats(s).p50Ms);
        }
      }
      // the 1000-image subset decides by a handful of images; the full test set, where Debian's
      // dataset-fashion-mnist is installed, gives the same comparison ten times finer
      if (existsSync(FULL_TEST)) {
        const full = prepareFeeds(await loadDataset(FULL_TEST), feedInputs(m.graph), { batch: 500 });
        for (const c of models) fullAccuracy.set(c.name, agreement((await outputsOf(c.runner, full)).pred, full.labels!));
      }
    } finally {
      for (const c of models) await c.runner.dispose();
    }
    const [fl, ml, or] = models as [Measured, Measured, Measured];
    const p50 = (c: Measured) => latencyStats(c.samples).p50Ms;
    const accOk = ml.accuracy >= or.accuracy - 0.002;
    const latRatio = p50(ml) / p50(or);
    const blockRatios = ml.blockP50.map((x, i) => x / or.blockP50[i]!);
    const latOk = latRatio <= 1.05;
    tableB = renderTable({
      title: `b. mlopt int8 vs onnxruntime quantize_static (QDQ, per-channel, MinMax, QUInt8 activations, QInt8 weights, the same ${CALIB_SAMPLES} samples); ` +
        `one process, ${EVAL}, batch ${BATCH}, ${ROUNDS * BLOCK_RUNS} runs per model in ${ROUNDS} rotating blocks`,
      head: ['model', 'bytes', 'accuracy', 'top-1 agreement with float', 'output SQNR vs float (dB)', 'p50 ms', 'p50 / float p50'],
      rows: models.map((c) => [
        c.name, String(statSync(c.path).size), pct(c.accuracy), c === fl ? '–' : pct(c.agreement), c === fl ? '–' : c.sqnr.toFixed(1),
        p50(c).toFixed(3), (p50(c) / p50(fl)).toFixed(2),
      ]),
      footer: [
        `mlopt accuracy ${pct(ml.accuracy)} ≥ ORT ${pct(or.accuracy)} − 0.2 points: ${accOk ? 'PASS' : 'FAIL'}`,
        ...(fullAccuracy.size
          ? [`full 10,000-image test set (${FULL_TEST}): float ${pct2(fullAccuracy.get(fl.name)!)}, mlopt ${pct2(fullAccuracy.get(ml.name)!)}, ORT ${pct2(fullAccuracy.get(or.name)!)}; ` +
              `mlopt ≥ ORT − 0.2 points: ${fullAccuracy.get(ml.name)! >= fullAccuracy.get(or.name)! - 0.002 ? 'PASS' : 'FAIL'}`]
          : [`(install Debian's dataset-fashion-mnist to compare on the full 10,000-image test set)`]),
        `mlopt int8 p50 ${p50(ml).toFixed(3)} ms ≤ 1.05 × ORT int8 p50 ${p50(or).toFixed(3)} ms: ratio ${latRatio.toFixed(3)} ${latOk ? 'PASS' : 'FAIL'} ` +
          `(per-block ratios ${Math.min(...blockRatios).toFixed(2)}–${Math.max(...blockRatios).toFixed(2)}, median ${med(blockRatios).toFixed(3)})`,
        `mlopt int8 vs float measured this way: latency ratio ${(p50(ml) / p50(fl)).toFixed(2)} (issue target ≤ 0.7: ${p50(ml) / p50(fl) <= 0.7 ? 'PASS' : 'FAIL'})`,
        `quantization time: ORT quantize_static ${String(ortq.info.ms)} ms (Python, calibration included); ` +
          `mlopt ${mloptInt8.timings.quantizeMs.toFixed(0)} ms + ${mloptInt8.timings.calibrationMs.toFixed(0)} ms calibration`,
      ],
    });
    console.log(`${tableB}\n`);
    report.vsOrt = {
      python: ortPython, ort: ortq.info, rounds: ROUNDS, blockRuns: BLOCK_RUNS, batch: BATCH,
      models: models.map((c) => ({
        name: c.name, path: c.path, bytes: statSync(c.path).size, accuracy: c.accuracy, agreementWithFloat: c.agreement, sqnrDb: c.sqnr,
        latency: latencyStats(c.samples), blockP50Ms: c.blockP50,
      })),
      accuracyWithin02Points: accOk, fullTestAccuracy: Object.fromEntries(fullAccuracy), latencyRatio: latRatio, blockRatios, latencyWithin105: latOk,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// c. MobileNetV2, trained

/** The MobileNetV2 files are there and of the trained kind (a labelled eval set). */
async function mobilenetReady(): Promise<boolean> {
  if (![MOBILENET, MB_CALIB, MB_EVAL].every((p) => existsSync(p))) return false;
  try {
    return (await loadDataset(MB_EVAL)).labels !== undefined;
  } catch {
    return false;
  }
}

let tableC = '';
const partC: Record<string, unknown> = {};
let generated: Record<string, unknown> | undefined;
if (!(await mobilenetReady())) {
  const py = findPython([process.env.MLOPT_FIXTURE_PYTHON, '/work/venv-fixtures/bin/python'], ['tensorflow', 'tf2onnx', 'onnx', 'numpy']);
  if (!py) {
    note('c. skipped: no Python with tensorflow + tf2onnx to make MobileNetV2 (set MLOPT_FIXTURE_PYTHON; see fixtures/generate/README.md)');
  } else {
    // stale or partial: the model, its data and anything quantized from it
    for (const f of readdirSync(OUT)) if (f.startsWith('mobilenetv2')) rmSync(`${OUT}/${f}`, { force: true });
    log(`c. making ${MOBILENET} and its data with ${py}: trains MobileNetV2 on SYNTH10 (once, ~3 min)`);
    const r = runPython(py, ['fixtures/generate/make_mobilenet.py', resolve(MOBILENET)]);
    for (const line of r.stderr.split('\n')) if (line.startsWith('[make_mobilenet]')) log(`c. ${line}`);
    if (r.ok) {
      generated = { python: py, ...r.info, wallMs: r.wallMs };
      partC.generated = generated;
    } else {
      for (const p of [MOBILENET, MB_CALIB, MB_EVAL]) rmSync(p, { force: true });
      note(`c. skipped: ${r.error}`);
    }
  }
}
if (await mobilenetReady()) {
  const mb = await loadModel(MOBILENET);
  const params = summarize(mb.graph).parameterCount;
  const inShape = (feedInputs(mb.graph)[0]!.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? String(d) : 'N')).join('×');
  const evalDs = await loadDataset(MB_EVAL);
  const heldOut = prepareFeeds(evalDs, feedInputs(mb.graph), { batch: 50 });
  const feeds1 = prepareFeeds(evalDs, feedInputs(mb.graph), { batch: 1 });
  const labels = heldOut.labels!;
  // How discriminating is top-1 agreement here? (classes used, top-1 − top-2 margin)
  const fr = await runnerFor(MOBILENET);
  const ref = await outputsOf(fr, heldOut).finally(() => fr.dispose());
  const margins = [...ref.pred].map((_, i) => {
    const row = [...ref.scores.subarray(i * ref.classes, (i + 1) * ref.classes)].sort((p, q) => q - p);
    return row[0]! - row[1]!;
  });
  const sortedMargins = [...margins].sort((a, b) => a - b);
  const floatClasses = new Set(ref.pred).size;
  const floatAcc = agreement(ref.pred, labels);
  partC.model = {
    path: MOBILENET, parameters: params, bytes: statSync(MOBILENET).size, input: inShape, calib: MB_CALIB, eval: MB_EVAL, evalSamples: heldOut.count,
    floatAccuracy: floatAcc, floatTop1Classes: floatClasses, medianTop1MarginLogits: med(margins), p10Top1MarginLogits: percentile(sortedMargins, 10),
  };

  const rowsC: string[][] = [];
  const runs: Record<string, unknown> = {};
  const worst: string[] = [];
  const row = (name: string, quantMs: string, calMs: string, wallMs: number, accF: number, accQ: number, agree: number, sqnr: number, size: number, fl: number, q: number) => [
    name, quantMs, calMs, `${(wallMs / 1000).toFixed(1)} s`, `${pct(accF)} → ${pct(accQ)}`, `${pct(agree)} ${agree >= 0.95 ? 'PASS' : 'FAIL'}`, sqnr.toFixed(1), size.toFixed(3),
    `${fl.toFixed(2)} / ${q.toFixed(2)} (${(q / fl).toFixed(2)})`,
  ];
  const tryMethod = async (method: 'minmax' | 'percentile' | 'entropy'): Promise<QuantizeResult | undefined> => {
    log(`c. MobileNetV2 --int8 --calibration-method ${method} --report-layers`);
    const t0 = performance.now();
    try {
      const r = await quantize(MOBILENET, {
        mode: 'int8', output: `${OUT}/mobilenetv2.int8.${method}.onnx`, force: true, calibrationData: MB_CALIB, calibrationSamples: MB_SAMPLES,
        calibrationMethod: method, evalData: MB_EVAL, batch: 1, runs: MB_RUNS, warmup: MB_WARMUP, reportLayers: true,
      });
      const wallMs = performance.now() - t0;
      const sq = Object.values(r.sqnrDb)[0] ?? NaN;
      const layers = r.layers ?? [];
      runs[method] = {
        wallMs, result: { ...r, layers: undefined }, worstLayers: layers.slice(0, 10), layerCount: layers.length,
        quantizeUnder10s: r.timings.quantizeMs < 10_000, agreementAtLeast95: r.top1Agreement >= 0.95,
      };
      rowsC.push(row(`mlopt ${method}`, `${(r.timings.quantizeMs / 1000).toFixed(2)} s ${r.timings.quantizeMs < 10_000 ? 'PASS' : 'FAIL'}`,
        `${(r.timings.calibrationMs / 1000).toFixed(1)} s`, wallMs, r.float.accuracy ?? NaN, r.quantized.accuracy ?? NaN, r.top1Agreement, sq, r.sizeRatio,
        r.float.latencyP50Ms, r.quantized.latencyP50Ms));
      if (layers.length) {
        const sqs = layers.map((l) => l.sqnrDb).filter(Number.isFinite).sort((a, b) => a - b);
        worst.push(`mlopt ${method} per-layer SQNR (${layers.length} quantized tensors, median ${med(sqs).toFixed(1)} dB), worst 5: ` +
          layers.slice(0, 5).map((l) => `${l.node} (${l.op}) ${l.sqnrDb.toFixed(1)}`).join(', '));
      }
      return r;
    } catch (e) {
      runs[method] = { wallMs: performance.now() - t0, error: errText(e) };
      rowsC.push([`mlopt ${method}`, `ERROR: ${errText(e)}`, '', '', '', '', '', '', '']);
      return undefined;
    }
  };
  const minmax = await tryMethod('minmax');
  if (ortPython) {
    log('c. MobileNetV2 with onnxruntime quantize_static (reference)');
    const ortMb = `${OUT}/mobilenetv2.ort_int8.onnx`;
    const q = runPython(ortPython, ['bench/ort_quantize.py', MOBILENET, MB_CALIB, String(MB_SAMPLES), ortMb]);
    if (q.ok) {
      const qr = await runnerFor(ortMb);
      const out = await outputsOf(qr, heldOut).finally(() => qr.dispose());
      const feeds = firstBatch(feeds1);
      const fl = await timeAlone(MOBILENET, feeds, MB_WARMUP, MB_RUNS);
      const ql = await timeAlone(ortMb, feeds, MB_WARMUP, MB_RUNS);
      const agree = agreement(out.pred, ref.pred);
      const acc = agreement(out.pred, labels);
      const sq = sqnrDb(ref.scores, out.scores);
      const size = statSync(ortMb).size / statSync(MOBILENET).size;
      runs.ort = { ...q.info, wallMs: q.wallMs, accuracy: acc, agreement: agree, sqnrDb: sq, sizeRatio: size, float: fl, quantized: ql };
      rowsC.push(row(`ORT ${String(q.info.ort)} quantize_static minmax (reference)`, `${(Number(q.info.ms) / 1000).toFixed(2)} s incl. calibration`, '–',
        q.wallMs, floatAcc, acc, agree, sq, size, fl.p50Ms, ql.p50Ms));
    } else {
      note(`c. ORT reference skipped: ${q.error}`);
    }
  }
  if (!minmax || minmax.top1Agreement < 0.95) {
    note('c. mlopt minmax missed the 95% top-1 agreement target on MobileNetV2: percentile and entropy tried too');
    await tryMethod('percentile');
    await tryMethod('entropy');
  }
  partC.runs = runs;
  const gen = generated;
  tableC = renderTable({
    title: `c. MobileNetV2 (alpha 1.0, ${(params / 1e6).toFixed(2)} M parameters, input ${inShape}, trained on SYNTH10 by fixtures/generate/make_mobilenet.py; ${MOBILENET}) --int8: ` +
      `${MB_SAMPLES} calibration samples (${MB_CALIB}), accuracy, agreement and SQNR on ${heldOut.count} held-out labelled samples of the same distribution (${MB_EVAL}); ` +
      `latency at batch 1, ${MB_RUNS} runs after ${MB_WARMUP} warm-up`,
    head: ['quantizer', 'quantizeMs (< 10 s)', 'calibrationMs', 'wall time', 'accuracy float → int8', 'top-1 agreement (≥ 95%)', 'logits SQNR dB', 'size ratio', 'p50 ms float / int8 (ratio)'],
    rows: rowsC,
    footer: [
      `wall time: the whole quantize() call (load, calibration, quantization, evaluation, per-layer diagnosis, timing, write); for ORT the Python process`,
      `float model on the held-out samples: accuracy ${pct(floatAcc)} (chance 10%), top-1 spans ${floatClasses} of ${ref.classes} logits, ` +
        `top-1 − top-2 logit margin median ${med(margins).toFixed(2)}, 10th percentile ${percentile(sortedMargins, 10).toFixed(2)}`,
      ...(gen ? [`generated this run: ${String(gen.tool)}, ${String(gen.epochs)} epochs, train accuracy ${String(gen.trainAccuracy)}, ` +
        `validation ${String(gen.valAccuracy)}, eval ${String(gen.evalAccuracy)} (ONNX ${String(gen.onnxEvalAccuracy ?? '–')}); ` +
        `${((gen.wallMs as number) / 1000).toFixed(0)} s wall (${String(gen.trainSeconds)} s training)`] : []),
      ...worst,
    ],
  });
  console.log(`${tableC}\n`);
}
report.mobilenet = partC;

// ---------------------------------------------------------------------------------------------
// d. save

if (notes.length) console.log(notes.map((n) => `note: ${n}`).join('\n'));
report.notes = notes;
report.tables = { a: tableA, b: tableB, c: tableC };
writeFileSync(`${OUT}/quantize.json`, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
log(`wrote ${OUT}/quantize.json`);
