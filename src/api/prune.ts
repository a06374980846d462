/**
 * `mlopt prune`: magnitude pruning with tfmot's schedules (polynomial decay, constant), masks
 * (unstructured, block, n:m) and layer selection, fine-tuned on the IR executor when training
 * data is given (one-shot otherwise), stripped to real zeros and written in any format mlopt
 * writes — then measured: the dense model and the pruned one are both written in the output
 * format and run in that format's runtime (onnxruntime, LiteRT.js, TF.js) for accuracy,
 * latency and raw / gzip size, so that "accuracy after" is the written file's own.
 *
 * Defaults (the CLI's --help says the same):
 *  - steps are tfmot's: the training batches counted from 1 (finetune.ts);
 *  - schedule: polynomial from --initial-sparsity (default 0) to --final-sparsity, power 3;
 *    n:m patterns (2:4) take no schedule: the mask is set once, before the first batch (tfmot);
 *  - --epochs 2 (or, with only --end-step, enough epochs to reach it: ⌈end / steps per epoch⌉);
 *  - --frequency: 100, lowered so that the masks are updated at least 10 times:
 *    min(100, max(1, ⌊span / 10⌋)), span = end − begin when --end-step is given, else
 *    0.9 · T − begin for T training steps;
 *  - --end-step: the last multiple of the frequency after --begin-step within the first 90% of
 *    the training steps, begin + f·⌊(0.9 · T − begin) / f⌋: the mask update at --end-step
 *    reaches --final-sparsity, which then holds for the last ~10% of the steps.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { LatencyStats } from '../bench/stats.js';
import { type Dataset, loadDataset, prepareFeeds } from '../data/index.js';
import type { ModelFormat } from '../formats/detect.js';
import { FORMAT_NAMES } from '../formats/detect.js';
import { WRITABLE, loadModel } from '../formats/load.js';
import { writeModel } from '../formats/write.js';
import type { Graph } from '../ir/graph.js';
import { feedInputs } from '../ir/graph.js';
import { inferGraphTypes } from '../ir/ops/index.js';
import { type FinetuneEpoch, finetune, oneShot, outputIsLogits } from '../optimize/prune/finetune.js';
import { type ModelFigures, type Opened, TIMING_BATCH, figures, openWritten, pairedLatency, sameBytes } from '../optimize/prune/measure.js';
import { type Granularity, incompatibleLayers, parseGranularity } from '../optimize/prune/masks.js';
import { type PruneLayer, type PruneTotals, layerReport } from '../optimize/prune/report.js';
import { DEFAULT_FREQUENCY, DEFAULT_POWER, type PruningSchedule, scheduleAt, validateSchedule } from '../optimize/prune/schedule.js';
import { findPrunable } from '../optimize/prune/select.js';
import type { OptimizerConfig } from '../runtime/ir-executor.js';
import { MloptError } from '../util/errors.js';
import { defaultOutput, resolveTarget } from './convert.js';

export interface PruneOptions {
  /** fraction of each pruned weight set to zero at the end (required, except for n:m granularity) */
  finalSparsity?: number;
  initialSparsity?: number;
  schedule?: 'polynomial' | 'constant';
  beginStep?: number;
  endStep?: number;
  power?: number;
  frequency?: number;
  /** 'unstructured' (default) | 'block:RxC[:avg|max]' | 'N:M' (e.g. '2:4') */
  granularity?: string;
  global?: boolean;
  layers?: string[];
  exclude?: string[];
  data?: string;
  evalData?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: 'adam' | 'sgd';
  /** shuffle the training samples every epoch (default true) */
  shuffle?: boolean;
  to?: string;
  output?: string;
  force?: boolean;
  seed?: number;
  /** multiply uint8 data by this (default 1/255 for uint8 data) */
  scale?: number;
  /** timed runs (and warm-up runs) per model for the latency figures (default 20 and 3) */
  runs?: number;
  warmup?: number;
  /** status lines (kind 'status'), one line per fine-tuning epoch ('epoch'), and warnings
   *  ('warning': one-shot pruning without data), once every check has passed */
  onProgress?(line: string, kind?: 'status' | 'epoch' | 'warning'): void;
}

export type { ModelFigures };

export interface PruneResult {
  input: string;
  inputFormat: ModelFormat;
  output: string;
  format: ModelFormat;
  /** files of a folder output (TF.js), relative to `output` */
  files?: string[];
  mode: 'fine-tune' | 'one-shot';
  settings: {
    finalSparsity: number;
    granularity: string;
    global: boolean;
    schedule?: PruningSchedule;
    epochs?: number;
    batchSize?: number;
    stepsPerEpoch?: number;
    steps?: number;
    shuffle?: boolean;
    optimizer?: OptimizerConfig;
    fromLogits?: boolean;
    seed: number;
    layers: string[];
    exclude: string[];
  };
  layers: PruneLayer[];
  totals: PruneTotals;
  /** the source model written in the output format, and the pruned model as written */
  dense: ModelFigures;
  pruned: ModelFigures;
  /** dense − pruned accuracy, in points (with labelled --eval-data) */
  accuracyDrop?: number;
  sizeRatio: number;
  gzipRatio: number;
  latencyRatio: number;
  finetune?: {
    epochs: FinetuneEpoch[];
    steps: number;
    maskUpdates: Array<{ step: number; sparsity: number }>;
    wallMs: number;
    backend: string;
    /** the pruned model's accuracy in the IR executor, before writing */
    accuracy?: number;
  };
  evaluatedOn?: { source: string; samples: number };
  /** the runtime the figures come from, and the timing batch */
  engine: string;
  batch: number;
  notes: string[];
}

const MIN_MASK_UPDATES = 10;
const HOLD_FRACTION = 0.9;

function usage(m: string, hint?: string): never {
  throw new MloptError('USAGE', m, hint);
}

function checkInt(v: number | undefined, flag: string, min: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min)) usage(`${flag} must be a whole number ≥ ${min}, got ${v}`);
}

const EXT_FORMAT: Record<string, ModelFormat> = { '.onnx': 'onnx', '.tflite': 'tflite' };

/** --to, else the -o extension (.onnx, .tflite), else the input's format when mlopt writes it. */
function pruneTarget(inputFormat: ModelFormat, to: string | undefined, output: string | undefined): ModelFormat {
  const byExt = output ? EXT_FORMAT[extname(output).toLowerCase()] : undefined;
  if (to === undefined) return resolveTarget(inputFormat, byExt);
  const target = resolveTarget(inputFormat, to);
  if (byExt && target !== byExt) usage(`-o ${output} has the extension of ${FORMAT_NAMES[byExt]} but --to is ${to}`);
  return target;
}

interface Checked {
  granularity: Granularity;
  finalSparsity: number;
  kind: 'polynomial' | 'constant';
}

/** Everything that can be checked before the model is read. */
function checkOptions(opts: PruneOptions): Checked {
  const granularity = parseGranularity(opts.granularity ?? 'unstructured');
  let finalSparsity = opts.finalSparsity;
  if (granularity.kind === 'nm') {
    const s = 1 - granularity.n / granularity.m;
    if (finalSparsity !== undefined && Math.abs(finalSparsity - s) > 1e-9) {
      usage(`--granularity ${granularity.n}:${granularity.m} prunes exactly ${s} of the weights; drop --final-sparsity or set it to ${s} (got ${finalSparsity})`);
    }
    const sched = ([['--initial-sparsity', opts.initialSparsity], ['--schedule', opts.schedule], ['--begin-step', opts.beginStep], ['--end-step', opts.endStep], ['--power', opts.power], ['--frequency', opts.frequency]] as const)
      .filter(([, v]) => v !== undefined).map(([k]) => k);
    if (sched.length) usage(`${sched.join(', ')} do${sched.length === 1 ? 'es' : ''} not apply to --granularity ${granularity.n}:${granularity.m}: its mask is set once, at the first training step (as tfmot does)`);
    if (opts.global) usage(`--global does not apply to --granularity ${granularity.n}:${granularity.m} (every group of ${granularity.m} keeps ${granularity.n})`);
    finalSparsity = s;
  }
  if (finalSparsity === undefined) return usage('--final-sparsity is required (e.g. --final-sparsity 0.9: 90% of each pruned weight set to zero)');
  const kind = opts.schedule ?? (granularity.kind === 'nm' ? 'constant' : 'polynomial');
  if (kind !== 'polynomial' && kind !== 'constant') usage(`--schedule must be polynomial or constant (got "${String(kind)}")`);
  if (kind === 'constant' && opts.initialSparsity !== undefined) usage('--initial-sparsity applies to --schedule polynomial only');
  if (kind === 'constant' && opts.power !== undefined) usage('--power applies to --schedule polynomial only');
  // the schedule's own checks, with the values given (a placeholder end where none is given yet)
  const begin = opts.beginStep ?? 0;
  const end = opts.endStep ?? (Number.isInteger(begin) ? begin + 1 : 1);
  validateSchedule(kind === 'polynomial'
    ? { kind, initialSparsity: opts.initialSparsity ?? 0, finalSparsity, beginStep: begin, endStep: end, power: opts.power ?? DEFAULT_POWER, frequency: opts.frequency ?? DEFAULT_FREQUENCY }
    : { kind, targetSparsity: finalSparsity, beginStep: begin, endStep: end, frequency: opts.frequency ?? DEFAULT_FREQUENCY });
  checkInt(opts.epochs, '--epochs', 1);
  checkInt(opts.batchSize, '--batch-size', 1);
  checkInt(opts.seed, '--seed', 0);
  checkInt(opts.runs, '--runs', 1);
  checkInt(opts.warmup, '--warmup', 0);
  if (opts.learningRate !== undefined && !(Number.isFinite(opts.learningRate) && opts.learningRate > 0)) usage(`--learning-rate must be a number > 0, got ${opts.learningRate}`);
  if (opts.optimizer !== undefined && opts.optimizer !== 'adam' && opts.optimizer !== 'sgd') usage(`--optimizer must be adam or sgd (got "${String(opts.optimizer)}")`);
  if (opts.scale !== undefined && !(Number.isFinite(opts.scale) && opts.scale > 0)) usage(`--scale must be a number > 0, got ${opts.scale}`);
  if (!opts.data) {
    const training = ([
      ['--initial-sparsity', opts.initialSparsity], ['--schedule', opts.schedule], ['--begin-step', opts.beginStep], ['--end-step', opts.endStep],
      ['--power', opts.power], ['--frequency', opts.frequency], ['--epochs', opts.epochs], ['--batch-size', opts.batchSize],
      ['--learning-rate', opts.learningRate], ['--optimizer', opts.optimizer],
    ] as const).filter(([, v]) => v !== undefined).map(([k]) => k);
    if (training.length) usage(`${training.join(', ')} appl${training.length === 1 ? 'ies' : 'y'} to fine-tuning: add --data <train.npz>`);
  }
  return { granularity, finalSparsity, kind };
}

/** Classes of the model's first output (its last dim), when known statically. */
function outputClasses(g: Graph): number | undefined {
  const out = g.outputs[0];
  if (!out) return undefined;
  let shape = out.shape;
  if (!shape || typeof shape[shape.length - 1] !== 'number') {
    try {
      shape = inferGraphTypes(g).types.get(out.name)?.shape;
    } catch {
      shape = undefined;
    }
  }
  const k = shape?.[shape.length - 1];
  return typeof k === 'number' && k > 0 ? k : undefined;
}

function checkLabels(ds: Dataset, classes: number | undefined, what: string): void {
  if (!ds.labels) return;
  let lo = 0;
  let hi = -1;
  for (const l of ds.labels) {
    if (l < lo) lo = l;
    if (l > hi) hi = l;
  }
  if (lo < 0) throw new MloptError('DATA', `${ds.source}: ${what} labels must be class indices ≥ 0 (found ${lo})`);
  if (classes !== undefined && hi >= classes) {
    throw new MloptError('DATA', `${ds.source}: ${what} labels go up to ${hi} but the model's output has ${classes} classes (labels 0–${classes - 1})`, 'use data labelled for this model');
  }
}

/** The fine-tuning schedule with its defaults filled in for `total` training steps. */
export function resolveSchedule(opts: PruneOptions, c: Checked, total: number): { schedule: PruningSchedule; notes: string[] } {
  const begin = opts.beginStep ?? 0;
  const span = opts.endStep !== undefined ? opts.endStep - begin : HOLD_FRACTION * total - begin;
  const frequency = opts.frequency ?? Math.min(DEFAULT_FREQUENCY, Math.max(1, Math.floor(span / MIN_MASK_UPDATES)));
  let end = opts.endStep;
  if (end === undefined) {
    if (c.kind === 'constant') end = -1;
    else {
      end = begin + frequency * Math.floor((HOLD_FRACTION * total - begin) / frequency);
      if (end <= begin) {
        usage(`fine-tuning has only ${total} steps, too few for a pruning schedule starting at step ${begin}`, 'train longer (--epochs), use a smaller --batch-size, or give --begin-step / --end-step');
      }
    }
  }
  const schedule: PruningSchedule = c.kind === 'polynomial'
    ? { kind: 'polynomial', initialSparsity: opts.initialSparsity ?? 0, finalSparsity: c.finalSparsity, beginStep: begin, endStep: end, power: opts.power ?? DEFAULT_POWER, frequency }
    : { kind: 'constant', targetSparsity: c.finalSparsity, beginStep: begin, endStep: end, frequency };
  validateSchedule(schedule);
  const notes: string[] = [];
  if (c.granularity.kind === 'nm') return { schedule, notes };
  // what the masks will be: the last update within the training steps 1..total
  let lastUpdate: { step: number; sparsity: number } | undefined;
  let updates = 0;
  for (let t = 1; t <= total; t++) {
    const s = scheduleAt(schedule, t);
    if (s.update) {
      lastUpdate = { step: t, sparsity: s.sparsity };
      updates++;
    }
  }
  if (!lastUpdate) usage(`the pruning schedule never updates the masks within the ${total} training steps (--begin-step ${begin}, --frequency ${frequency})`, 'lower --begin-step or --frequency, or train longer (--epochs)');
  if (Math.abs(lastUpdate.sparsity - Math.fround(c.finalSparsity)) > 1e-6) {
    notes.push(`the last mask update (step ${lastUpdate.step}) sets sparsity ${lastUpdate.sparsity.toFixed(4)}, not --final-sparsity ${c.finalSparsity}: masks change only every --frequency (${frequency}) steps from --begin-step up to --end-step (${end}), and training has ${total} steps (counted from 1); make --end-step − --begin-step a multiple of --frequency, at most ${total}`);
  }
  if (updates < 3 && c.kind === 'polynomial') notes.push(`the masks are updated only ${updates} time(s); a gradual schedule needs more (lower --frequency)`);
  return { schedule, notes };
}

export async function prune(input: string, opts: PruneOptions): Promise<PruneResult> {
  const progress = opts.onProgress ?? (() => {});
  const c = checkOptions(opts);
  const seed = opts.seed ?? 1;
  const runs = opts.runs ?? 20;
  const warmup = opts.warmup ?? 3;

  const model = await loadModel(input);
  const format = pruneTarget(model.format, opts.to, opts.output);
  const output = opts.output ?? defaultOutput(input, 'pruned', format);
  const inputs = [resolve(input), resolve(model.file)];
  if (inputs.includes(resolve(output))) usage(`refusing to write over the input ${input}; choose another -o path`);
  if (existsSync(output) && !opts.force) throw new MloptError('OUTPUT_EXISTS', `${output} already exists`, 'pass --force to overwrite it, or choose another -o path');

  // which weights
  const sel = findPrunable(model.graph, { ...(opts.layers?.length ? { layers: opts.layers } : {}), ...(opts.exclude?.length ? { exclude: opts.exclude } : {}), source: input });
  let weights = sel.weights;
  const skipped = [...sel.skipped];
  const incompatible = incompatibleLayers(weights, c.granularity);
  if (incompatible.length) {
    const bad = new Set(incompatible.map((i) => i.node));
    weights = weights.filter((w) => !bad.has(w.node));
    skipped.push(...incompatible);
    if (!weights.length) throw new MloptError('UNSUPPORTED', `${input}: no layer can hold the ${opts.granularity} pattern (${incompatible[0]!.reason})`);
  }

  // data
  const classes = outputClasses(model.graph);
  const trainDs = opts.data ? await loadDataset(opts.data) : undefined;
  const evalDs = opts.evalData ? await loadDataset(opts.evalData) : undefined;
  if (trainDs) {
    if (!trainDs.labels) throw new MloptError('DATA', `${opts.data}: has no labels; fine-tuning needs labelled data (an array "y" of class indices)`);
    if (trainDs.count === 0) throw new MloptError('DATA', `${opts.data}: the training data is empty (0 samples)`);
    checkLabels(trainDs, classes, 'training');
  }
  if (evalDs) checkLabels(evalDs, classes, 'evaluation');
  const notes: string[] = [];
  const feedIn = feedInputs(model.graph);
  const train = trainDs ? prepareFeeds(trainDs, feedIn, { scale: opts.scale }) : undefined;
  const evalP = evalDs ? prepareFeeds(evalDs, feedIn, { scale: opts.scale }) : undefined;
  if (train) notes.push(...train.notes.map((n) => `training data: ${n}`));
  if (evalDs && !evalDs.labels) notes.push(`${opts.evalData} has no labels: accuracy not measured`);

  // the schedule, for the training set's size
  const batchSize = opts.batchSize ?? 32;
  let epochs = opts.epochs ?? 2;
  const perEpoch = train ? Math.ceil(train.count / batchSize) : 0;
  if (train && opts.epochs === undefined && opts.endStep !== undefined) epochs = Math.max(1, Math.ceil(opts.endStep / perEpoch));
  const resolved = train ? resolveSchedule(opts, c, perEpoch * epochs) : undefined;
  if (resolved) notes.push(...resolved.notes);

  if (!train) progress(`one-shot pruning to sparsity ${c.finalSparsity} without fine-tuning (no --data): accuracy will suffer; add --data <train.npz> to fine-tune`, 'warning');

  const tmp = mkdtempSync(join(tmpdir(), 'mlopt-prune-'));
  try {
    // the dense model, written in the output format and measured in its runtime
    const ext = WRITABLE[format] ?? '';
    progress(`measuring the dense model (${FORMAT_NAMES[format]})`);
    const densePath = join(tmp, `dense${ext}`);
    await writeModel(model.graph, format, densePath);
    const dense = await openWritten(densePath, evalDs, opts.scale);
    await dense.runner.dispose();

    // prune
    let pruned: Graph;
    let ft: PruneResult['finetune'];
    let fromLogits: boolean | undefined;
    const optimizer: OptimizerConfig | undefined = train ? { type: opts.optimizer ?? 'adam', lr: opts.learningRate ?? ((opts.optimizer ?? 'adam') === 'sgd' ? 0.01 : 0.001) } : undefined;
    if (train && resolved && optimizer) {
      fromLogits = await outputIsLogits(model.graph, train.inputs);
      progress(`fine-tuning: ${epochs} epoch(s) of ${perEpoch} steps`);
      const evalData = evalP?.labels ? { inputs: evalP.inputs, targets: evalP.labels } : undefined;
      const r = await finetune(model.graph, { inputs: train.inputs, targets: train.labels! }, {
        schedule: resolved.schedule, weights, granularity: c.granularity, global: opts.global, epochs, batchSize, optimizer, fromLogits, seed,
        ...(opts.shuffle === false ? { shuffle: false } : {}),
        ...(evalData ? { validation: evalData } : {}),
        onEpoch: (e) => progress(epochLine(e), 'epoch'),
      });
      pruned = r.graph;
      ft = { epochs: r.epochs, steps: r.steps, maskUpdates: r.maskUpdates, wallMs: r.wallMs, backend: r.backend, ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}) };
    } else {
      progress(`one-shot pruning to sparsity ${c.finalSparsity}`);
      pruned = oneShot(model.graph, weights, c.finalSparsity, { granularity: c.granularity, global: opts.global }).graph;
      notes.push('one-shot pruning without fine-tuning: accuracy suffers; add --data <train> to fine-tune');
    }
    const { layers, totals } = layerReport(pruned, weights, skipped);

    // the pruned model: written to a scratch copy, run in its runtime, then written to the output
    progress(`measuring the pruned model (${FORMAT_NAMES[format]})`);
    const scratch = join(tmp, `pruned${ext}`);
    await writeModel(pruned, format, scratch);
    let after: Opened;
    try {
      after = await openWritten(scratch, evalDs, opts.scale);
    } catch (err) {
      throw new MloptError('RUNTIME', `the pruned model does not run in its runtime: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'nothing was written; please report this with the model', { cause: err });
    }
    let lat: LatencyStats[];
    try {
      const denseAgain = await openWritten(densePath, evalDs, opts.scale, false);
      try {
        progress('timing the dense and the pruned model');
        lat = await pairedLatency([denseAgain, after], runs, warmup);
      } finally {
        await denseAgain.runner.dispose();
      }
    } finally {
      await after.runner.dispose();
    }
    const engine = `${after.runner.engine} ${after.runner.version}${after.runner.backend ? ` (${after.runner.backend})` : ''}`;
    const denseF = figures(dense, lat[0]!);
    const prunedF = figures(after, lat[1]!);
    const written = await writeModel(pruned, format, output, { force: opts.force, inputs });
    if (!sameBytes(scratch, output)) notes.push(`${output} differs from the copy that was measured (the writer is not deterministic for this model)`);

    if (ft?.accuracy !== undefined && after.accuracy !== undefined && Math.abs(ft.accuracy - after.accuracy) > 0.005) {
      notes.push(`accuracy in the IR executor after fine-tuning ${(ft.accuracy * 100).toFixed(2)}% vs ${(after.accuracy * 100).toFixed(2)}% for the written model in its runtime`);
    }
    const skippedDense = layers.filter((l) => !l.pruned).length;
    if (skippedDense) notes.push(`${skippedDense} layer(s) left dense (see the table)`);
    const accuracyDrop = dense.accuracy !== undefined && after.accuracy !== undefined ? Math.round((dense.accuracy - after.accuracy) * 1e8) / 1e6 : undefined;
    return {
      input,
      inputFormat: model.format,
      output,
      format,
      ...(written.files ? { files: written.files } : {}),
      mode: train ? 'fine-tune' : 'one-shot',
      settings: {
        finalSparsity: c.finalSparsity,
        granularity: opts.granularity ?? 'unstructured',
        global: !!opts.global,
        ...(resolved ? { ...(c.granularity.kind !== 'nm' ? { schedule: resolved.schedule } : {}), epochs, batchSize, stepsPerEpoch: perEpoch, steps: perEpoch * epochs, shuffle: opts.shuffle !== false } : {}),
        ...(optimizer ? { optimizer } : {}),
        ...(fromLogits !== undefined ? { fromLogits } : {}),
        seed,
        layers: opts.layers ?? [],
        exclude: opts.exclude ?? [],
      },
      layers,
      totals,
      dense: denseF,
      pruned: prunedF,
      ...(accuracyDrop !== undefined ? { accuracyDrop } : {}),
      sizeRatio: prunedF.bytes / denseF.bytes,
      gzipRatio: prunedF.gzipBytes / denseF.gzipBytes,
      latencyRatio: prunedF.latencyP50Ms / denseF.latencyP50Ms,
      ...(ft ? { finetune: ft } : {}),
      ...(evalDs ? { evaluatedOn: { source: opts.evalData!, samples: after.samples ?? evalDs.count } } : {}),
      engine,
      batch: TIMING_BATCH,
      notes: [...notes, ...new Set([...dense.notes, ...after.notes].map((n) => `evaluation data: ${n}`))],
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** "epoch 1/2 · step 63/126 · sparsity 0.620 · loss 0.3121 · eval accuracy 88.90% · 2.7 s" */
export function epochLine(e: FinetuneEpoch): string {
  return [
    `epoch ${e.epoch}/${e.epochs}`,
    `step ${e.step}/${e.steps}`,
    `sparsity ${e.sparsity.toFixed(3)}`,
    `loss ${e.loss.toFixed(4)}`,
    ...(e.accuracy !== undefined ? [`eval accuracy ${(e.accuracy * 100).toFixed(2)}%`] : []),
    `${e.seconds.toFixed(1)} s`,
  ].join(' · ');
}
