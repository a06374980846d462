/**
 * The benchmark harness: latency (warm-up, timed runs, percentiles), throughput, size, and
 * — with a data set — accuracy and agreement with a reference model's outputs.
 */
import { readFileSync } from 'node:fs';
import { type ModelFormat, detectFormat } from '../formats/detect.js';
import { type LoadedModel, loadModel } from '../formats/load.js';
import { type GraphSummary, summarize } from '../ir/summary.js';
import type { Tensor } from '../ir/tensor.js';
import { createFileRunner, createRunner, runsFromFile } from '../runtime/index.js';
import type { Device, Runner, RunnerOptions } from '../runtime/runner.js';
import { type Dataset, argmaxRows as argmax, prepareFeeds, randomFeeds } from '../data/index.js';
import { type ErrorCode, MloptError } from '../util/errors.js';
import { maxAbsDiff, rowsOf, top1Accuracy } from './agreement.js';
import { type LatencyStats, latencyStats } from './stats.js';
import { modelSize } from './size.js';

export interface BenchOptions {
  batch: number;
  runs: number;
  warmup: number;
  threads?: number;
  device: Device;
  data?: Dataset;
  scale?: number;
  /** progress callback (the CLI's spinner) */
  onProgress?: (msg: string) => void;
}

export interface BenchResult {
  model: string;
  format: string;
  engine: string;
  backend: string;
  device: Device;
  bytes: number;
  gzipBytes: number;
  /** from the IR; absent when the model ran from its file without being loaded into the IR */
  parameters?: number;
  sparsity?: number;
  batch: number;
  latency: LatencyStats;
  /** samples per second at `batch` (batch / mean latency) */
  throughput: number;
  /** top-1 accuracy on the labelled data set, if any */
  accuracy?: number;
  samples?: number;
  /** agreement with the first model of the run (for every model after the first) */
  agreement?: { top1: number; maxAbsDiff: number; reference: string };
  notes: string[];
}

/** A model its engine could not run (e.g. LiteRT.js and a model with int8 inputs): the reason,
 *  in place of figures. */
export interface BenchFailure {
  model: string;
  format: string;
  /** the engine, when it opened the model and failed later */
  engine?: string;
  error: { code: ErrorCode; message: string; hint?: string };
}

export type BenchEntry = BenchResult | BenchFailure;

export function isBenchFailure(e: BenchEntry): e is BenchFailure {
  return 'error' in e;
}

/** Errors that say "this engine cannot run this model", as opposed to a wrong path, bad data or option. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNSUPPORTED', 'UNKNOWN_OP', 'RUNTIME']);

/** Outputs of a model on the whole data set (first output only), kept to compare models. */
export interface EvalOutputs {
  rows: Float32Array;
  cols: number;
}

/**
 * Benchmark one model. When its engine refuses it (UNSUPPORTED, UNKNOWN_OP, RUNTIME: an int8
 * input LiteRT.js cannot feed, an op onnxruntime lacks...), the result is a BenchFailure that
 * says why, so that the other models of a run are still measured.
 */
export async function benchModel(path: string, opts: BenchOptions, reference?: { name: string; outputs: EvalOutputs }): Promise<{ result: BenchEntry; outputs?: EvalOutputs }> {
  if (!(opts.runs >= 1)) throw new MloptError('USAGE', `--runs must be at least 1 (got ${opts.runs})`);
  const { format, path: file } = detectFormat(path);
  let engine: string | undefined;
  try {
    const opened = await openModel(path, format, file, { device: opts.device, threads: opts.threads });
    engine = `${opened.runner.engine} ${opened.runner.version}`;
    return await measure(path, opened, opts, reference);
  } catch (err) {
    if (!(err instanceof MloptError && REFUSALS.has(err.code))) throw err;
    const error = { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    return { result: { model: path, format, ...(engine ? { engine } : {}), error } };
  }
}

interface OpenedModel {
  format: string;
  size: { bytes: number; gzipBytes: number };
  /** parameter count and sparsity, when the model was loaded into the IR */
  summary?: GraphSummary;
  runner: Runner;
  notes: string[];
}

/**
 * Load the model into the IR and open its runtime. For a format whose engine runs the file
 * itself (TFLite), a model the IR cannot read is run from its file, without parameter counts.
 */
async function openModel(path: string, format: ModelFormat, file: string, runnerOpts: RunnerOptions): Promise<OpenedModel> {
  let model: LoadedModel;
  try {
    model = await loadModel(path);
  } catch (err) {
    if (!(runsFromFile(format) && err instanceof MloptError && (err.code === 'UNSUPPORTED' || err.code === 'UNKNOWN_OP'))) throw err;
    const bytes = new Uint8Array(readFileSync(file));
    const runner = await createFileRunner(format, bytes, { ...runnerOpts, source: path });
    return { format, size: modelSize({ path, file, format, bytes }), runner, notes: [`parameters and sparsity not shown: mlopt cannot read the model into its IR (${err.message})`] };
  }
  return { format, size: modelSize(model), summary: summarize(model.graph), runner: await createRunner(model, runnerOpts), notes: [] };
}

async function measure(path: string, opened: OpenedModel, opts: BenchOptions, reference?: { name: string; outputs: EvalOutputs }): Promise<{ result: BenchResult; outputs?: EvalOutputs }> {
  const { runner, size, summary } = opened;
  const inputs = runner.inputs;
  const notes: string[] = [...opened.notes];
  try {
    // the timed input: first batch of the data set, or random data of the model's shapes
    let feeds: Map<string, Tensor>;
    let prepared: ReturnType<typeof prepareFeeds> | undefined;
    if (opts.data) {
      prepared = prepareFeeds(opts.data, inputs, { scale: opts.scale, batch: opts.batch });
      notes.push(...prepared.notes);
      const first = prepared.batches()[Symbol.iterator]().next();
      if (first.done) throw new MloptError('DATA', `${opts.data.source}: data set is empty`);
      feeds = first.value.feeds;
    } else {
      feeds = randomFeeds(inputs, opts.batch);
    }
    const batch = firstDim(feeds) ?? opts.batch;
    opts.onProgress?.(`${path}: ${opts.warmup} warm-up and ${opts.runs} timed runs at batch ${batch}`);
    const samples = await timeRuns(runner, await runner.prepare(feeds), opts.warmup, opts.runs);
    notes.push(...(runner.notes ?? []));
    const latency = latencyStats(samples);
    const result: BenchResult = {
      model: path,
      format: opened.format,
      engine: `${runner.engine} ${runner.version}`,
      backend: runner.backend,
      device: runner.device,
      bytes: size.bytes,
      gzipBytes: size.gzipBytes,
      ...(summary ? { parameters: summary.parameterCount, sparsity: summary.sparsity } : {}),
      batch,
      latency,
      throughput: (batch * 1000) / latency.meanMs,
      notes,
    };
    let outputs: EvalOutputs | undefined;
    if (prepared && opts.data) {
      opts.onProgress?.(`${path}: evaluating ${prepared.count} samples`);
      const outName = runner.outputs[0]?.name;
      const chunks: Float32Array[] = [];
      const labels: Int32Array[] = [];
      let cols = 0;
      for (const b of prepared.batches()) {
        const out = await runner.run(b.feeds);
        const y = (outName && out.get(outName)) || out.values().next().value;
        if (!y) throw new MloptError('RUNTIME', `${path}: the model produced no output`);
        const r = rowsOf(y);
        cols = r.cols;
        chunks.push(r.data.slice());
        if (b.labels) labels.push(b.labels);
      }
      const rows = concat(chunks, (n) => new Float32Array(n));
      outputs = { rows, cols };
      const n = cols ? rows.length / cols : 0;
      result.samples = n;
      const pred = argmax(rows, n, cols);
      if (labels.length) result.accuracy = top1Accuracy(pred, concat(labels, (n) => new Int32Array(n)));
      if (reference) {
        if (reference.outputs.cols !== cols || reference.outputs.rows.length !== rows.length) {
          notes.push(`outputs not comparable with ${reference.name} (shape differs)`);
        } else {
          const refPred = argmax(reference.outputs.rows, n, cols);
          result.agreement = { top1: top1Accuracy(pred, refPred), maxAbsDiff: maxAbsDiff(rows, reference.outputs.rows), reference: reference.name };
        }
      }
    }
    return { result, outputs };
  } finally {
    await runner.dispose();
  }
}

/** The timed loop: `warmup` untimed runs, then `runs` runs timed one by one (ms). Feeds are
 *  converted to the engine's tensors before the loop, so only the engine call is timed. */
export async function timeRuns(runner: Runner, prepared: unknown, warmup: number, runs: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await runner.runPrepared(prepared);
  const samples: number[] = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await runner.runPrepared(prepared);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return samples;
}

function firstDim(feeds: Map<string, Tensor>): number | undefined {
  const t = feeds.values().next().value;
  return t && t.shape.length ? (t.shape[0] as number) : undefined;
}

function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
