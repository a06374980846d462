/**
 * The training loop (epochs of seeded-shuffled batches, per-step and per-epoch callbacks,
 * validation) and evaluation (top-1 accuracy and crossentropy in inference mode), over any
 * executor that can take a training step and run inference; and the training data types.
 */
import type { Value } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { toLabels } from '../../data/dataset.js';
import { MloptError } from '../../util/errors.js';
import { permutation, seededRandom, takeRows } from './batches.js';
import type { LossConfig } from './losses.js';
import type { OptimizerConfig } from './optimizers.js';
import type { TfTensor } from './types.js';

export interface TrainConfig extends LossConfig {
  optimizer: OptimizerConfig;
  /** which graph output the loss reads (default: the first) */
  output?: string;
}

export type Inputs = Record<string, Tensor> | Map<string, Tensor>;

export interface TrainBatch {
  inputs: Inputs;
  /** labels [N] (class indices) or targets [N, K] */
  targets?: Tensor | Int32Array;
  /** teacher outputs for distillation (logits or probabilities) */
  teacher?: Tensor;
}

export interface TrainData {
  /** sample-major arrays by model input name (already converted to what the model expects) */
  inputs: Inputs;
  targets?: Tensor | Int32Array;
  /** teacher outputs for every sample, or a function computing them for a batch */
  teacher?: Tensor | ((inputs: Map<string, Tensor>) => Promise<Tensor>);
}

export interface EvalResult {
  samples: number;
  /** top-1 accuracy (labels given) */
  accuracy?: number;
  /** crossentropy of the labels under the output read as probabilities (labels given) */
  loss?: number;
}

export interface EpochLog {
  epoch: number;
  /** mean training loss over the epoch's samples (each batch's loss before its update) */
  loss: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  validation?: EvalResult;
}

export interface FitConfig extends TrainConfig {
  epochs: number;
  batchSize: number;
  /** shuffle the samples every epoch (default true), with `seed` (default 1) */
  shuffle?: boolean;
  seed?: number;
  validation?: TrainData;
  /** after each epoch; return false to stop */
  onEpoch?(log: EpochLog): void | boolean | Promise<void | boolean>;
  /** after each step (e.g. to update pruning masks) */
  onStep?(info: { epoch: number; step: number; loss: number; size: number }): void | Promise<void>;
}

export interface FitResult {
  epochs: EpochLog[];
  steps: number;
  stopped: boolean;
}

export function asMap(inputs: Inputs): Map<string, Tensor> {
  return inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
}

export function labelsTensor(t: Tensor | Int32Array): Tensor {
  return t instanceof Int32Array ? { dtype: 'int32', shape: [t.length], data: t } : t;
}

/** What the loops need of an executor. */
export interface TrainingTarget {
  readonly outputs: Value[];
  trainStep(batch: TrainBatch, cfg: TrainConfig): Promise<{ loss: number }>;
  evaluate(data: TrainData, opts: { batchSize?: number; output?: string }): Promise<EvalResult>;
  runTensors(feeds: Map<string, Tensor>): TfTensor[];
}

export async function fitLoop(ex: TrainingTarget, data: TrainData, cfg: FitConfig): Promise<FitResult> {
  const inputs = asMap(data.inputs);
  const targets = data.targets ? labelsTensor(data.targets) : undefined;
  const first = targets ?? [...inputs.values()][0];
  if (!first) throw new MloptError('DATA', 'no training data');
  const n = first.shape[0] ?? 0;
  for (const [name, t] of inputs) if (t.shape[0] !== n) throw new MloptError('DATA', `input "${name}" has ${t.shape[0]} samples, expected ${n}`);
  if (!(Number.isInteger(cfg.batchSize) && cfg.batchSize > 0)) throw new MloptError('USAGE', `batch size must be a positive integer, got ${cfg.batchSize}`);
  if (!(Number.isInteger(cfg.epochs) && cfg.epochs >= 0)) throw new MloptError('USAGE', `epochs must be a non-negative integer, got ${cfg.epochs}`);
  const rand = seededRandom(cfg.seed ?? 1);
  const logs: EpochLog[] = [];
  let steps = 0;
  let stopped = false;
  for (let epoch = 0; epoch < cfg.epochs && !stopped; epoch++) {
    const t0 = performance.now();
    const order = cfg.shuffle === false ? undefined : permutation(n, rand);
    let sum = 0;
    for (let start = 0, step = 0; start < n; start += cfg.batchSize, step++) {
      const end = Math.min(n, start + cfg.batchSize);
      const rows = order ? order.subarray(start, end) : { start, end };
      const bi = new Map([...inputs].map(([k, t]) => [k, takeRows(t, rows, k)] as const));
      let teacher: Tensor | undefined;
      if (typeof data.teacher === 'function') teacher = await data.teacher(bi);
      else if (data.teacher) teacher = takeRows(data.teacher, rows, 'teacher');
      const { loss } = await ex.trainStep({ inputs: bi, ...(targets ? { targets: takeRows(targets, rows, 'targets') } : {}), ...(teacher ? { teacher } : {}) }, cfg);
      sum += loss * (end - start);
      steps++;
      await cfg.onStep?.({ epoch, step, loss, size: end - start });
    }
    const seconds = (performance.now() - t0) / 1000;
    const log: EpochLog = { epoch, loss: sum / n, samples: n, seconds, samplesPerSecond: n / seconds };
    if (cfg.validation) log.validation = await ex.evaluate(cfg.validation, { batchSize: Math.max(cfg.batchSize, 256), output: cfg.output });
    logs.push(log);
    if ((await cfg.onEpoch?.(log)) === false) stopped = true;
  }
  return { epochs: logs, steps, stopped };
}

export async function evaluateLoop(ex: TrainingTarget, data: TrainData, opts: { batchSize?: number; output?: string } = {}): Promise<EvalResult> {
  const inputs = asMap(data.inputs);
  const labels = data.targets ? labelsTensor(data.targets) : undefined;
  const n = (labels ?? [...inputs.values()][0])?.shape[0] ?? 0;
  const bs = opts.batchSize ?? 256;
  const outIdx = Math.max(0, opts.output ? ex.outputs.findIndex((o) => o.name === opts.output) : 0);
  let correct = 0;
  let ce = 0;
  let canCe = true;
  const lab = labels ? toLabels(labels, 'evaluation labels') : undefined;
  for (let start = 0; start < n; start += bs) {
    const end = Math.min(n, start + bs);
    const bi = new Map([...inputs].map(([k, t]) => [k, takeRows(t, { start, end }, k)] as const));
    const outs = ex.runTensors(bi);
    const y = outs[outIdx]!;
    const k = y.shape[y.rank - 1] ?? 1;
    const v = (await y.data()) as Float32Array;
    for (const t of outs) t.dispose();
    if (!lab) continue;
    for (let r = 0; r < end - start; r++) {
      let best = 0;
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const x = v[r * k + c]!;
        if (x > v[r * k + best]!) best = c;
        sum += x;
        if (x < 0 || x > 1) canCe = false;
      }
      if (Math.abs(sum - 1) > 1e-3) canCe = false;
      const label = lab[start + r]!;
      if (best === label) correct++;
      ce -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, v[r * k + label] ?? 0)));
    }
  }
  if (!lab) return { samples: n };
  return { samples: n, accuracy: correct / n, ...(canCe ? { loss: ce / n } : {}) };
}
