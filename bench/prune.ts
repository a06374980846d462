/**
 * `mlopt prune` against the targets of its issue (6), side by side with tfmot.
 *
 * fixtures/models/fmnist_cnn.h5, evaluated on fixtures/data/fmnist_test_1000.npz, pruned through
 * `prune()` with exactly the settings tfmot used for fixtures/reference/fmnist_cnn_tfmot.json
 * (made by fixtures/generate/make_prune_reference.py): for a data set, the JSON's setup (learning
 * rate, end step, frequency) and runs (each run's schedule: polynomial 0 → 0.5, 0 → 0.75,
 * 0.5 → 0.9, begin, end, power, frequency as recorded; 2:4; a dense control = the fine-tuning
 * alone), Adam, its batch size and epochs, no shuffling, the same pruned layers (conv2, fc1).
 * Two data sets, each its own table:
 *
 *   full    the full Fashion-MNIST train set (60000 images) from the Debian package's IDX files
 *           ($FMNIST_DIR, default /usr/share/datasets/fashion-mnist), tfmot setup
 *           full60000_lr1e-4 (Adam lr 1e-4, end step 1400, frequency 100). Skipped, with a
 *           message, when the files are missing. ~3 min per run on 2 cores.
 *   subset  fixtures/data/fmnist_train_2000.npz (2000 samples), tfmot setup subset2000_lr1e-3
 *           (Adam lr 1e-3, end step 50, frequency 10), plus 0.9 with mlopt's default schedule.
 *
 * Each run writes ONNX; accuracy, size and latency are those of the written file in onnxruntime.
 * Per run: accuracy before / after / drop, measured sparsity of the pruned layers (read back from
 * the written file), gzip ratio against the dense model written the same way, fine-tuning time
 * (training loop incl. mask updates) and ms per step in epoch 2 — beside tfmot's accuracy,
 * sparsity, gzip ratio (of its .h5), model.fit time and ms per step. Then the issue's targets,
 * one PASS/FAIL row each, per data set. Everything in bench/results/prune.json.
 *
 * Exits 0 whatever the verdicts: this is a report.
 *
 *   npm run bench:prune                 # full set (when present), then the subset
 *   npm run bench:prune -- --full       # full set only
 *   npm run bench:prune -- --subset     # subset only
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PruneOptions, type PruneResult, prune } from '../src/api/prune.js';
import { loadModel } from '../src/formats/load.js';
import { findPrunable, verifyNM } from '../src/optimize/prune/index.js';
import { countNonZeros } from '../src/optimize/prune/strip.js';
import { renderTable } from '../src/report/table.js';

const OUT = 'bench/results';
const MODELS = `${OUT}/prune`;
const MODEL = 'fixtures/models/fmnist_cnn.h5';
const SUBSET_TRAIN = 'fixtures/data/fmnist_train_2000.npz';
const TEST = 'fixtures/data/fmnist_test_1000.npz';
const REF = 'fixtures/reference/fmnist_cnn_tfmot.json';
const FMNIST_DIR = process.env.FMNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const FULL_IMAGES = join(FMNIST_DIR, 'train-images-idx3-ubyte.gz');
const FULL_LABELS = join(FMNIST_DIR, 'train-labels-idx1-ubyte.gz');
const TARGET = { drop90: 1.5, sparsity90: 0.005, gzip90: 0.35, drop50_75: 0.5, drop24: 1.0, vsTfmot: 0.5 };

const log = (msg: string) => process.stderr.write(`[bench:prune] ${msg}\n`);
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const signed = (x: number | undefined, d = 1) => (x === undefined || Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(d)}`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');

interface RefSchedule { kind: 'polynomial' | 'constant'; initialSparsity?: number; finalSparsity?: number; targetSparsity?: number; beginStep: number; endStep: number; power?: number; frequency?: number }
interface RefSetup { id: string; trainSet: string; lr: number; endStep: number; frequency: number; train: string; trainSamples: number; stepsPerEpoch: number; totalSteps: number }
interface RefRun {
  name: string;
  setup: string;
  learningRate: number;
  schedule: RefSchedule | null;
  sparsityMbyN: [number, number] | null;
  prunedLayers: string[];
  accuracyBefore: number;
  accuracyAfter: number;
  accuracyDropPoints: number;
  prunedLayersSparsity: number;
  gzipRatioVsDense: number;
  fitSeconds: number;
  epochSeconds?: number[];
  stepMsEpoch2?: number;
}
interface Ref {
  batchSize: number;
  epochs: number;
  shuffle: boolean;
  optimizer: { type: 'adam' | 'sgd' };
  prunedLayers?: string[];
  accuracyDense: number;
  setups?: RefSetup[];
  runs: RefRun[];
  versions?: Record<string, string>;
}

/** One data set's block of runs: its training data and the tfmot setup it is compared with. */
interface DataSet {
  key: 'full' | 'subset';
  title: string;
  train: string;
  samples: number;
  setupId: string;
  /** used when the reference JSON (or this setup in it) is missing */
  fallback: { lr: number; endStep: number; frequency: number };
  extraDefaultRun: boolean;
}

interface Run {
  name: string;
  label: string;
  opts: PruneOptions;
  ref?: RefRun;
  result?: PruneResult;
  /** sparsity of the pruned layers, counted in the written file */
  writtenSparsity?: number;
  nmVerified?: boolean;
  error?: string;
}

interface Block {
  ds: DataSet;
  setup?: RefSetup;
  base: PruneOptions;
  runs: Run[];
  targets: Array<[string, string, boolean | undefined]>;
}

/** Sparsity of the pruned layers counted in the written file (and the 2:4 pattern, when asked). */
async function readBack(r: PruneResult, nm?: [number, number]): Promise<{ sparsity: number; nmVerified?: boolean }> {
  const g = (await loadModel(r.output)).graph;
  const written = findPrunable(g, { keepFirstLast: false }).weights;
  let params = 0;
  let nz = 0;
  let ok = true;
  for (const l of r.layers.filter((x) => x.pruned)) {
    const w = written.find((x) => x.initializer === l.weight) ?? written.find((x) => x.shape.reduce((a, b) => a * b, 1) === l.params);
    if (!w) throw new Error(`layer ${l.node}: its weight is not in ${r.output}`);
    const t = g.initializers.get(w.initializer)!;
    const c = countNonZeros(t);
    params += c.params;
    nz += c.nonZeros;
    if (nm && !verifyNM(t, w, nm[0], nm[1])) ok = false;
  }
  return { sparsity: params ? 1 - nz / params : 0, ...(nm ? { nmVerified: ok } : {}) };
}

/** Training-loop seconds (mask updates included, per-epoch evaluation excluded, as tfmot's fitSeconds). */
const fitSeconds = (r: PruneResult | undefined) => (r?.finetune ? r.finetune.epochs.reduce((a, e) => a + e.seconds, 0) : undefined);
/** ms per training step in epoch 2 (steady state; epoch 1 includes warm-up). */
function stepMsEpoch2(r: PruneResult | undefined): number | undefined {
  const e = r?.finetune?.epochs;
  if (!e || e.length < 2) return undefined;
  return (e[1]!.seconds * 1000) / (e[1]!.step - e[0]!.step);
}

async function runBlock(ds: DataSet, ref: Ref | undefined): Promise<Block> {
  const setup = ref?.setups?.find((s) => s.id === ds.setupId);
  if (ref && !setup) log(`${REF} has no setup "${ds.setupId}": running ${ds.key} with built-in settings and no tfmot column`);
  const refRun = (name: string) => (setup ? ref?.runs.find((r) => r.setup === setup.id && r.name === name) : undefined);
  const layers = refRun('poly_0.5')?.prunedLayers ?? ref?.prunedLayers;
  const base: PruneOptions = {
    data: ds.train, evalData: TEST,
    epochs: ref?.epochs ?? 2, batchSize: ref?.batchSize ?? 64,
    optimizer: ref?.optimizer.type ?? 'adam', learningRate: setup?.lr ?? ds.fallback.lr,
    shuffle: ref?.shuffle ?? false, seed: 1, to: 'onnx', force: true, runs: 30, warmup: 5,
    ...(layers?.length ? { layers } : {}),
  };
  const fromRef = (name: string, final: number, initial: number): PruneOptions => {
    const s = refRun(name)?.schedule;
    return s
      ? { finalSparsity: s.finalSparsity ?? s.targetSparsity ?? final, initialSparsity: s.initialSparsity ?? initial, beginStep: s.beginStep, endStep: s.endStep, power: s.power ?? 3, frequency: s.frequency ?? 100 }
      : { finalSparsity: final, initialSparsity: initial, beginStep: 0, endStep: setup?.endStep ?? ds.fallback.endStep, power: 3, frequency: setup?.frequency ?? ds.fallback.frequency };
  };
  const runs: Run[] = [
    { name: 'dense_control', label: 'dense control (fine-tuning only)', opts: { ...fromRef('poly_0.5', 0, 0), finalSparsity: 0, initialSparsity: 0 } },
    { name: 'poly_0.5', label: '0.5 (0 → 0.5)', opts: fromRef('poly_0.5', 0.5, 0) },
    { name: 'poly_0.75', label: '0.75 (0 → 0.75)', opts: fromRef('poly_0.75', 0.75, 0) },
    { name: 'poly_0.9', label: '0.9 (0.5 → 0.9)', opts: fromRef('poly_0.9', 0.9, 0.5) },
    { name: '2by4', label: '2:4', opts: { granularity: '2:4' } },
    ...(ds.extraDefaultRun ? [{ name: 'poly_0.9_default', label: '0.9 (0.5 → 0.9), mlopt default schedule and layers, shuffled', opts: { finalSparsity: 0.9, initialSparsity: 0.5, shuffle: true, layers: [] } } satisfies Run] : []),
  ];
  for (const r of runs) r.ref = refRun(r.name);

  const dir = join(MODELS, ds.key);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const r of runs) {
    log(`${ds.key}: ${r.label}`);
    try {
      r.result = await prune(MODEL, {
        ...base, ...r.opts, output: join(dir, `fmnist_cnn.${r.name}.onnx`),
        onProgress: (line, kind) => { if (kind === 'epoch' || kind === 'warning') log(`  ${line}`); },
      });
      const back = await readBack(r.result, r.name === '2by4' ? [2, 4] : undefined);
      r.writtenSparsity = back.sparsity;
      if (back.nmVerified !== undefined) r.nmVerified = back.nmVerified;
      log(`  accuracy ${pct(r.result.dense.accuracy)} → ${pct(r.result.pruned.accuracy)} (tfmot ${pct(r.ref?.accuracyAfter)}), training ${num(fitSeconds(r.result), 1)} s`);
    } catch (e) {
      r.error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      log(`  failed: ${r.error}`);
    }
  }
  return { ds, ...(setup ? { setup } : {}), base, runs, targets: targetsOf(runs) };
}

function targetsOf(runs: Run[]): Block['targets'] {
  const by = (n: string) => runs.find((r) => r.name === n);
  const drop = (n: string) => by(n)?.result?.accuracyDrop;
  const r90 = by('poly_0.9');
  const vs = (n: string): number | undefined => {
    const r = by(n);
    return r?.result?.pruned.accuracy !== undefined && r.ref ? (r.result.pruned.accuracy - r.ref.accuracyAfter) * 100 : undefined;
  };
  const le = (x: number | undefined, t: number) => (x === undefined ? undefined : x <= t);
  return [
    [`0.9 (initial 0.5, ≤ 2 epochs): accuracy drop ≤ ${TARGET.drop90} points`, num(drop('poly_0.9')), le(drop('poly_0.9'), TARGET.drop90)],
    [`0.9: sparsity of the pruned layers 0.90 ± ${TARGET.sparsity90}`, num(r90?.writtenSparsity, 4), r90?.writtenSparsity === undefined ? undefined : Math.abs(r90.writtenSparsity - 0.9) <= TARGET.sparsity90],
    [`0.9: gzip size ≤ ${TARGET.gzip90} × the dense model's`, num(r90?.result?.gzipRatio, 3), le(r90?.result?.gzipRatio, TARGET.gzip90)],
    [`0.5: accuracy drop ≤ ${TARGET.drop50_75} points`, num(drop('poly_0.5')), le(drop('poly_0.5'), TARGET.drop50_75)],
    [`0.75: accuracy drop ≤ ${TARGET.drop50_75} points`, num(drop('poly_0.75')), le(drop('poly_0.75'), TARGET.drop50_75)],
    [`2:4: accuracy drop ≤ ${TARGET.drop24} point`, num(drop('2by4')), le(drop('2by4'), TARGET.drop24)],
    ['2:4: pattern verified on every pruned weight (read back from the file)', by('2by4')?.nmVerified === undefined ? '–' : String(by('2by4')!.nmVerified), by('2by4')?.nmVerified],
    ...(['poly_0.5', 'poly_0.75', 'poly_0.9'] as const).map((n): [string, string, boolean | undefined] => {
      const d = vs(n);
      return [`${n.slice(5)}: mlopt accuracy ≥ tfmot's − ${TARGET.vsTfmot} points`, d === undefined ? '–' : `${signed(d)} points`, d === undefined ? undefined : d >= -TARGET.vsTfmot];
    }),
  ];
}

function printBlock(b: Block, letter: string, ref: Ref | undefined): void {
  const first = b.runs.find((r) => r.result)?.result;
  const head = ['run', 'acc. before', 'acc. after', 'drop (points)', 'sparsity (pruned layers)', 'gzip × dense', 'fine-tune s', 'ms/step ep. 2',
    'tfmot after', 'tfmot drop', 'tfmot sparsity', 'tfmot gzip × (h5)', 'tfmot fit s', 'tfmot ms/step ep. 2', 'mlopt − tfmot (points)'];
  const rows = b.runs.map((r) => {
    const p = r.result;
    const f = r.ref;
    const tf = [pct(f?.accuracyAfter), num(f?.accuracyDropPoints), num(f?.prunedLayersSparsity, 4), num(f?.gzipRatioVsDense, 3), num(f?.fitSeconds, 1), num(f?.stepMsEpoch2, 1)];
    if (!p) return [r.label, `error: ${r.error}`, '', '', '', '', '', '', ...tf, ''];
    const diff = f && p.pruned.accuracy !== undefined ? (p.pruned.accuracy - f.accuracyAfter) * 100 : undefined;
    return [r.label, pct(p.dense.accuracy), pct(p.pruned.accuracy), num(p.accuracyDrop), num(r.writtenSparsity, 4), num(p.gzipRatio, 3), num(fitSeconds(p), 1), num(stepMsEpoch2(p), 1), ...tf, signed(diff)];
  });
  const s = first?.settings;
  const data = b.ds.key === 'full' ? `the FULL Fashion-MNIST train set (${FULL_IMAGES}, ${b.ds.samples} images)` : `the 2000-sample SUBSET ${SUBSET_TRAIN}`;
  process.stdout.write(`\n${renderTable({
    title: `${letter}. ${MODEL}: fine-tuned on ${data}, evaluated on ${TEST}; ${s?.epochs} epochs of ${s?.stepsPerEpoch} steps, batch ${s?.batchSize}, ${s?.optimizer?.type} lr ${s?.optimizer?.lr}, ${b.base.shuffle ? 'shuffled' : 'not shuffled'}, pruned layers ${b.base.layers?.join(', ') ?? 'mlopt default'}; beside tfmot ${ref?.versions?.tfmot ?? ''} setup ${b.setup?.id ?? '(none)'}`,
    head,
    rows,
    footer: [
      `mlopt: the written ONNX model in ${first?.engine ?? 'onnxruntime'}; gzip -6 of the pruned ONNX / the dense ONNX. tfmot: gzip -9 of its stripped .h5 / the dense .h5.`,
      `fine-tune s: mlopt = the training loop on the IR executor (${first?.finetune?.backend ?? 'wasm'} backend), mask updates included, per-epoch evaluation excluded; tfmot = model.fit (TF ${ref?.versions?.tensorflow ?? ''}, CPU, 2 threads), recording callback excluded. ms/step ep. 2 = epoch 2 time / its steps. The machine is shared (noisy).`,
      ...b.runs.filter((r) => r.result?.settings.schedule).map((r) => {
        const sc = r.result!.settings.schedule!;
        return `${r.label}: ${sc.kind === 'polynomial' ? `polynomial ${sc.initialSparsity} → ${sc.finalSparsity}, steps ${sc.beginStep}–${sc.endStep}, power ${sc.power}` : `constant ${sc.targetSparsity}`}, every ${sc.frequency} steps; ${r.result!.finetune?.maskUpdates.length} mask updates in ${r.result!.finetune?.steps} steps; per-epoch eval accuracy ${r.result!.finetune?.epochs.map((e) => pct(e.accuracy)).join(', ')}`;
      }),
      ...b.runs.filter((r) => r.result && !r.result.settings.schedule).map((r) => `${r.label}: mask set once before step 1; ${r.result!.finetune?.steps} steps; per-epoch eval accuracy ${r.result!.finetune?.epochs.map((e) => pct(e.accuracy)).join(', ')}`),
    ],
  })}\n`);
  const dc = b.runs.find((r) => r.name === 'dense_control');
  process.stdout.write(`\n${renderTable({
    title: `${letter}′. targets (issue 6) on the ${b.ds.key === 'full' ? 'FULL train set (60000)' : '2000-sample SUBSET'}`,
    head: ['target', 'measured', 'verdict'],
    rows: b.targets.map(([t, m, ok]) => [t, m, verdict(ok)]),
    footer: dc?.result
      ? [`context: fine-tuning alone with these settings (dense control) moves accuracy by ${signed(-(dc.result.accuracyDrop ?? NaN), 2)} points in mlopt, ${signed(-(dc.ref?.accuracyDropPoints ?? NaN), 2)} in tf-keras + tfmot.`]
      : [],
  })}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const bad = args.filter((a) => a !== '--full' && a !== '--subset');
  if (bad.length) throw new Error(`unknown argument(s) ${bad.join(' ')}; use --full (full set only) or --subset (subset only)`);
  const wantFull = !args.includes('--subset') || args.includes('--full');
  const wantSubset = !args.includes('--full') || args.includes('--subset');

  if (!existsSync(REF)) log(`${REF} missing: running with built-in settings and no tfmot column`);
  const ref = existsSync(REF) ? (JSON.parse(readFileSync(REF, 'utf8')) as Ref) : undefined;

  const fullPresent = existsSync(FULL_IMAGES) && existsSync(FULL_LABELS);
  const sets: DataSet[] = [];
  if (wantFull) {
    if (fullPresent) {
      log(`data: the full Fashion-MNIST train set, ${FULL_IMAGES} (+ labels), 60000 images`);
      sets.push({ key: 'full', title: 'full', train: FULL_IMAGES, samples: 60000, setupId: 'full60000_lr1e-4', fallback: { lr: 1e-4, endStep: 1400, frequency: 100 }, extraDefaultRun: false });
    } else {
      const msg = `the full Fashion-MNIST train set is missing (${existsSync(FULL_IMAGES) ? FULL_LABELS : FULL_IMAGES}; install the Debian files or set FMNIST_DIR): running the 2000-sample subset only`;
      log(msg);
      process.stdout.write(`\nNOTE: ${msg}\n`);
    }
  }
  if (wantSubset || !fullPresent) {
    log(`data: the 2000-sample subset ${SUBSET_TRAIN}`);
    sets.push({ key: 'subset', title: 'subset', train: SUBSET_TRAIN, samples: 2000, setupId: 'subset2000_lr1e-3', fallback: { lr: 1e-3, endStep: 50, frequency: 10 }, extraDefaultRun: true });
  }

  rmSync(MODELS, { recursive: true, force: true });
  const blocks: Block[] = [];
  for (const ds of sets) blocks.push(await runBlock(ds, ref));

  process.stdout.write(`\nData sets used: ${blocks.map((b) => (b.ds.key === 'full' ? `FULL train set (${FULL_IMAGES}, 60000 images)` : `SUBSET (${SUBSET_TRAIN}, 2000 samples)`)).join('; ')}. Evaluation: ${TEST} (1000 samples).\n`);
  blocks.forEach((b, i) => printBlock(b, String.fromCharCode(97 + i), ref));

  const report = {
    bench: 'prune',
    date: new Date().toISOString(),
    node: process.version,
    model: MODEL, test: TEST, reference: existsSync(REF) ? REF : null,
    fullTrainSet: fullPresent ? FULL_IMAGES : null,
    dataSets: blocks.map((b) => ({
      key: b.ds.key, train: b.ds.train, samples: b.ds.samples, tfmotSetup: b.setup ?? null,
      settings: b.base,
      runs: b.runs.map((r) => ({
        name: r.name, label: r.label, options: r.opts,
        ...(r.error ? { error: r.error } : {}),
        ...(r.result ? {
          accuracyBefore: r.result.dense.accuracy, accuracyAfter: r.result.pruned.accuracy, accuracyDropPoints: r.result.accuracyDrop,
          writtenSparsity: r.writtenSparsity, reportedSparsity: r.result.totals.pruned.sparsity, layers: r.result.layers,
          gzipRatio: r.result.gzipRatio, dense: r.result.dense, pruned: r.result.pruned, latencyRatio: r.result.latencyRatio,
          fitSeconds: fitSeconds(r.result), stepMsEpoch2: stepMsEpoch2(r.result),
          finetune: r.result.finetune, schedule: r.result.settings.schedule, settings: r.result.settings, notes: r.result.notes,
          ...(r.nmVerified !== undefined ? { nmVerified: r.nmVerified } : {}),
        } : {}),
        tfmot: r.ref ? { ...r.ref, maskTrace: undefined } : null,
      })),
      targets: b.targets.map(([target, measured, pass]) => ({ target, measured, pass })),
    })),
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/prune.json`, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${OUT}/prune.json`);
}

main().catch((e) => {
  process.stderr.write(`[bench:prune] failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
