/**
 * mlopt's TF.js writer against the official tensorflowjs_converter, side by side in one process.
 *
 *   a. The Fashion-MNIST CNN (fixtures/models/fmnist_cnn.h5): mlopt writes a layers model
 *      (float32, --quantize float16, uint8, uint16) and a graph model (float32, uint8) through
 *      the library's `convert()`, timed; the official converter's files are fixtures
 *      (fixtures/models/fmnist_cnn_tfjs_layers{,_uint8,_float16} and fmnist_cnn_tfjs_graph, made
 *      by tensorflowjs_converter 4.22: fixtures/generate/make_fixtures.py and
 *      make_tfjs_variants.py). Every model is loaded with tf.loadLayersModel / tf.loadGraphModel
 *      (src/runtime/tfjs.ts) and run on the 1000 test images: weight bytes and their ratio to
 *      float32, max |diff| and top-1 agreement with the Keras model's outputs
 *      (fixtures/reference/fmnist_cnn_h5.npz), accuracy, and p50 latency at batch 1 and 64.
 *   b. Weights: mlopt's float32 layers model against the official one, weight by weight
 *      (bit-exact expected), and its uint8 / float16 bytes against the official quantized ones.
 *   c. The targets, one PASS/FAIL row each.
 *   d. Everything in bench/results/tfjs.json; mlopt's models in bench/results/tfjs/.
 *
 * Exits 0 whatever the verdicts: this is a report. No Python: the official files are fixtures.
 *
 *   npm run bench:tfjs
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { convert } from '../src/api/convert.js';
import { maxAbsDiff } from '../src/bench/agreement.js';
import { timeRuns } from '../src/bench/run.js';
import { latencyStats } from '../src/bench/stats.js';
import { argmaxRows, loadDataset, parseNpz, prepareFeeds } from '../src/data/index.js';
import { loadModel } from '../src/formats/load.js';
import { readTfjsWeights, type TfjsWeightsManifestGroup } from '../src/formats/tfjs/weights.js';
import { feedInputs } from '../src/ir/graph.js';
import { toFloat32 } from '../src/ir/tensor.js';
import { renderTable } from '../src/report/table.js';
import { createTfjsRunner } from '../src/runtime/tfjs.js';

const OUT = 'bench/results';
const DIR = `${OUT}/tfjs`;
const H5 = 'fixtures/models/fmnist_cnn.h5';
const EVAL = 'fixtures/data/fmnist_test_1000.npz';
const KERAS_REF = 'fixtures/reference/fmnist_cnn_h5.npz';
const OFFICIAL: Record<string, string> = {
  'layers float32': 'fixtures/models/fmnist_cnn_tfjs_layers',
  'layers uint8': 'fixtures/models/fmnist_cnn_tfjs_layers_uint8',
  'layers float16': 'fixtures/models/fmnist_cnn_tfjs_layers_float16',
  'graph float32': 'fixtures/models/fmnist_cnn_tfjs_graph',
};
const VARIANTS: Array<{ key: string; format: 'layers' | 'graph'; quantize?: 'float16' | 'uint8' | 'uint16' }> = [
  { key: 'layers float32', format: 'layers' },
  { key: 'layers float16', format: 'layers', quantize: 'float16' },
  { key: 'layers uint8', format: 'layers', quantize: 'uint8' },
  { key: 'layers uint16', format: 'layers', quantize: 'uint16' },
  { key: 'graph float32', format: 'graph' },
  { key: 'graph uint8', format: 'graph', quantize: 'uint8' },
];
const WARMUP = 20;
const RUNS: Record<number, number> = { 1: 100, 64: 20 };

mkdirSync(DIR, { recursive: true });
const log = (msg: string) => process.stderr.write(`[bench:tfjs] ${msg}\n`);
const errText = (e: unknown) => (e instanceof Error ? e.message.split('\n')[0]! : String(e));
const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`);
const sci = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toExponential(2));
const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');

interface Row {
  who: 'mlopt' | 'official';
  key: string;
  dir: string;
  convertMs?: number;
  weightBytes?: number;
  maxDiff?: number;
  agreement?: number;
  accuracy?: number;
  p50b1?: number;
  p50b64?: number;
  backend?: string;
  error?: string;
}

function weightBytes(dir: string): number {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: TfjsWeightsManifestGroup[] };
  return json.weightsManifest.flatMap((g) => g.paths).reduce((n, p) => n + readFileSync(join(dir, p)).byteLength, 0);
}

function manifestOf(dir: string): TfjsWeightsManifestGroup[] {
  return (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: TfjsWeightsManifestGroup[] }).weightsManifest;
}

async function main(): Promise<void> {
  const keras = await loadModel(H5);
  const inputs = feedInputs(keras.graph);
  const outputs = keras.graph.outputs;
  const data = await loadDataset(EVAL);
  const ref = toFloat32(parseNpz(readFileSync(KERAS_REF)).get('y')!);
  const refTop = argmaxRows(ref, ref.length / 10, 10);
  const labels = data.labels;
  const report: Record<string, unknown> = { bench: 'tfjs', date: new Date().toISOString(), node: process.version };
  const rows: Row[] = [];

  for (const v of VARIANTS) {
    const dir = join(DIR, v.key.replace(' ', '_'));
    rmSync(dir, { recursive: true, force: true });
    const t0 = performance.now();
    try {
      await convert(H5, { to: 'tfjs', output: dir, tfjsFormat: v.format, quantize: v.quantize, force: true });
      rows.push({ who: 'mlopt', key: v.key, dir, convertMs: performance.now() - t0 });
    } catch (e) {
      rows.push({ who: 'mlopt', key: v.key, dir, error: errText(e) });
    }
  }
  for (const [key, dir] of Object.entries(OFFICIAL)) rows.push({ who: 'official', key, dir });

  for (const r of rows) {
    if (r.error) continue;
    log(`${r.who} ${r.key}`);
    try {
      r.weightBytes = weightBytes(r.dir);
      const runner = await createTfjsRunner(join(r.dir, 'model.json'), inputs, outputs);
      r.backend = runner.backend;
      const ys: number[] = [];
      for (const b of prepareFeeds(data, inputs, { batch: 100 }).batches()) ys.push(...toFloat32((await runner.run(b.feeds)).get(outputs[0]!.name)!));
      const y = Float32Array.from(ys);
      r.maxDiff = maxAbsDiff(y, ref);
      const top = argmaxRows(y, y.length / 10, 10);
      r.agreement = top.filter((c, i) => c === refTop[i]).length / top.length;
      if (labels) r.accuracy = top.filter((c, i) => c === labels[i]).length / top.length;
      for (const batch of [1, 64] as const) {
        const feeds = [...prepareFeeds(data, inputs, { batch }).batches()][0]!.feeds;
        const prepared = runner.prepare(feeds);
        const stats = latencyStats(await timeRuns(runner, prepared, WARMUP, RUNS[batch]!));
        if (batch === 1) r.p50b1 = stats.p50Ms;
        else r.p50b64 = stats.p50Ms;
      }
      await runner.dispose();
    } catch (e) {
      r.error = errText(e);
    }
  }

  const float = rows.find((r) => r.who === 'mlopt' && r.key === 'layers float32')?.weightBytes;
  const table = renderTable({
    title: `a. TF.js models of ${H5}: mlopt (convert --to tfjs) vs tensorflowjs_converter 4.22 (fixtures); ${EVAL}; p50 after ${WARMUP} warm-up runs, ${RUNS[1]} runs at batch 1, ${RUNS[64]} at batch 64`,
    head: ['model', 'by', 'convert ms', 'weight bytes', '× float32', 'max |diff| vs Keras', 'top-1 = Keras', 'accuracy', 'p50 ms b1', 'p50 ms b64', 'backend'],
    rows: rows.map((r) => [
      r.key, r.who, r.convertMs === undefined ? '–' : r.convertMs.toFixed(0), r.weightBytes ?? '–',
      r.weightBytes && float ? (r.weightBytes / float).toFixed(3) : '–', sci(r.maxDiff), pct(r.agreement), pct(r.accuracy), ms(r.p50b1), ms(r.p50b64), r.error ? `error: ${r.error}` : (r.backend ?? '–'),
    ].map(String)),
  });
  process.stdout.write(`\n${table}\n`);

  // b. weights, name by name
  const cmpRows: string[][] = [];
  const weightCmp: Record<string, unknown> = {};
  for (const key of ['layers float32', 'layers uint8', 'layers float16']) {
    const mine = rows.find((r) => r.who === 'mlopt' && r.key === key);
    if (!mine || mine.error) continue;
    try {
      const a = readTfjsWeights(mine.dir, manifestOf(mine.dir), mine.dir);
      const b = readTfjsWeights(OFFICIAL[key]!, manifestOf(OFFICIAL[key]!), OFFICIAL[key]!);
      let same = 0;
      let max = 0;
      const missing: string[] = [];
      for (const [name, tb] of b) {
        const ta = a.get(name);
        if (!ta) {
          missing.push(name);
          continue;
        }
        const d = maxAbsDiff(toFloat32(ta), toFloat32(tb));
        if (d === 0 && ta.shape.join() === tb.shape.join()) same++;
        max = Math.max(max, d);
      }
      const rawEqual = Buffer.compare(readFileSync(join(mine.dir, manifestOf(mine.dir)[0]!.paths[0]!)), readFileSync(join(OFFICIAL[key]!, manifestOf(OFFICIAL[key]!)[0]!.paths[0]!))) === 0;
      weightCmp[key] = { weights: b.size, identical: same, maxAbsDiff: max, missing, shardBytesEqual: rawEqual };
      cmpRows.push([key, `${same} / ${b.size}`, sci(max), missing.length ? missing.join(', ') : 'none', rawEqual ? 'yes' : 'no']);
    } catch (e) {
      cmpRows.push([key, 'error', errText(e), '', '']);
    }
  }
  process.stdout.write(`\n${renderTable({ title: 'b. decoded weights, mlopt vs official, by weight name', head: ['model', 'identical weights', 'max |diff|', 'missing in mlopt', 'first shard bytes identical'], rows: cmpRows })}\n`);

  // c. targets
  const get = (key: string) => rows.find((r) => r.who === 'mlopt' && r.key === key);
  const ratio = (key: string) => (get(key)?.weightBytes && float ? get(key)!.weightBytes! / float : undefined);
  const targets: Array<[string, string, boolean | undefined]> = [
    ['layers float32: max |diff| vs Keras ≤ 1e-4', sci(get('layers float32')?.maxDiff), (get('layers float32')?.maxDiff ?? Infinity) <= 1e-4],
    ['graph float32: max |diff| vs Keras ≤ 1e-4', sci(get('graph float32')?.maxDiff), (get('graph float32')?.maxDiff ?? Infinity) <= 1e-4],
    ['layers float32 weights bit-exact with the official converter', String((weightCmp['layers float32'] as { identical?: number; weights?: number } | undefined)?.identical ?? '–'), (() => {
      const w = weightCmp['layers float32'] as { identical: number; weights: number } | undefined;
      return w ? w.identical === w.weights : undefined;
    })()],
    ['uint8: weights ≤ 0.27 × float32', ratio('layers uint8')?.toFixed(3) ?? '–', (ratio('layers uint8') ?? Infinity) <= 0.27],
    ['uint8: top-1 agreement ≥ 99%', pct(get('layers uint8')?.agreement), (get('layers uint8')?.agreement ?? 0) >= 0.99],
    ['float16: weights ≤ 0.51 × float32', ratio('layers float16')?.toFixed(3) ?? '–', (ratio('layers float16') ?? Infinity) <= 0.51],
    ['float16: top-1 agreement ≥ 99%', pct(get('layers float16')?.agreement), (get('layers float16')?.agreement ?? 0) >= 0.99],
  ];
  process.stdout.write(`\n${renderTable({ title: 'c. targets (issue 5)', head: ['target', 'measured', 'verdict'], rows: targets.map(([t, m, ok]) => [t, m, verdict(ok)]) })}\n`);

  report.rows = rows;
  report.weights = weightCmp;
  report.targets = targets.map(([target, measured, ok]) => ({ target, measured, pass: ok }));
  mkdirSync(dirname(`${OUT}/tfjs.json`), { recursive: true });
  writeFileSync(`${OUT}/tfjs.json`, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${OUT}/tfjs.json`);
}

main().catch((e) => {
  process.stderr.write(`[bench:tfjs] failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
