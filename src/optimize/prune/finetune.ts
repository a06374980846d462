/**
 * Pruning with fine-tuning, on the IR executor (src/runtime/ir-executor.ts), the way tfmot's
 * `prune_low_magnitude` + `UpdatePruningStep` do it in Keras:
 *
 *  - the step s counts training batches from 1 (tfmot's wrapper increments its pruning_step
 *    before each training batch, from 0): before the batch of step s is trained, when the
 *    schedule says so (scheduleAt(s).update), the masks are recomputed from the current weights'
 *    magnitudes at scheduleAt(s).sparsity and installed (IrExecutor.setMask, which also zeroes
 *    the pruned weights); so with --begin-step 0 and frequency f the first update is at step f,
 *    and the first f − 1 batches train the dense model, as in tfmot;
 *  - n:m masks are computed once, before the first batch (tfmot: at step 1; the schedule is not
 *    used for n:m);
 *  - the executor keeps pruned weights at zero through every optimizer step (the gradient and
 *    the weight are multiplied by the mask), so momentum cannot revive them;
 *  - after the last step, the graph is read back (toGraph: trained weights and batch-norm
 *    statistics) and the last masks are multiplied in (strip).
 *
 * One-shot pruning (no data) is `oneShot`: masks at the final sparsity on the given weights.
 */
import type { Graph } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { IrExecutor, type TrainData } from '../../runtime/ir-executor.js';
import type { OptimizerConfig } from '../../runtime/ir-executor.js';
import { MloptError } from '../../util/errors.js';
import { type Granularity, computeMasks } from './masks.js';
import { type PruningSchedule, scheduleAt } from './schedule.js';
import type { PrunableWeight } from './select.js';
import { stripMasks } from './strip.js';

export interface FinetuneOptions {
  schedule: PruningSchedule;
  weights: PrunableWeight[];
  granularity: Granularity;
  global?: boolean;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** the output holds logits (not a Softmax, rows not distributions) */
  fromLogits?: boolean;
  seed?: number;
  /** shuffle the training samples every epoch (default true) */
  shuffle?: boolean;
  /** evaluated after every epoch (accuracy in the progress line) */
  validation?: TrainData;
  onEpoch?(e: FinetuneEpoch): void;
}

export interface FinetuneEpoch {
  /** 1-based */
  epoch: number;
  epochs: number;
  /** global steps done so far, and in all */
  step: number;
  steps: number;
  /** sparsity of the masks in force (the last update's) */
  sparsity: number;
  /** mean training loss over the epoch */
  loss: number;
  /** eval accuracy after the epoch (with validation data) */
  accuracy?: number;
  seconds: number;
}

export interface FinetuneResult {
  /** the fine-tuned graph with the masks applied (real zeros) */
  graph: Graph;
  masks: Map<string, Uint8Array>;
  epochs: FinetuneEpoch[];
  steps: number;
  maskUpdates: Array<{ step: number; sparsity: number }>;
  /** the sparsity of the last mask update (the schedule's value then) */
  sparsity: number;
  /** wall time of the training loop (mask updates included), ms */
  wallMs: number;
  /** eval accuracy of the final (masked) weights in the executor, with validation data */
  accuracy?: number;
  backend: string;
}

/** Samples in a training set (the first input's dim 0, or the targets'). */
export function sampleCount(data: TrainData): number {
  const t = data.targets instanceof Int32Array ? data.targets.length : data.targets?.shape[0];
  if (t !== undefined) return t;
  const first = (data.inputs instanceof Map ? [...data.inputs.values()] : Object.values(data.inputs))[0];
  return (first?.shape[0] as number | undefined) ?? 0;
}

export async function finetune(graph: Graph, train: TrainData, opts: FinetuneOptions): Promise<FinetuneResult> {
  const ex = await IrExecutor.create(graph, { seed: opts.seed ?? 1 });
  try {
    const trainable = new Set(ex.trainableNames());
    for (const w of opts.weights) {
      if (!trainable.has(w.initializer)) throw new MloptError('UNSUPPORTED', `weight "${w.initializer}" of layer ${w.node} is not trained by the IR executor, so it cannot be pruned with fine-tuning`, `leave the layer dense with --exclude "${w.node}"`);
    }
    const n = sampleCount(train);
    const perEpoch = Math.ceil(n / opts.batchSize);
    const total = perEpoch * opts.epochs;
    let masks = new Map<string, Uint8Array>();
    const maskUpdates: FinetuneResult['maskUpdates'] = [];
    let sparsity = 0;
    const nm = opts.granularity.kind === 'nm';
    /** before the batch of (1-based) step s */
    const update = (s: number): void => {
      const at = nm ? { update: s === 1, sparsity: 1 - (opts.granularity as { n: number; m: number }).n / (opts.granularity as { n: number; m: number }).m } : scheduleAt(opts.schedule, s);
      if (!at.update) return;
      const values = ex.getWeights();
      const current = new Map<string, Tensor>(opts.weights.map((w) => [w.initializer, values.get(w.initializer)!]));
      masks = computeMasks(current, opts.weights, at.sparsity, { granularity: opts.granularity, ...(opts.global ? { global: true } : {}) });
      for (const [name, m] of masks) ex.setMask(name, m);
      sparsity = at.sparsity;
      maskUpdates.push({ step: s, sparsity: at.sparsity });
    };
    const epochs: FinetuneEpoch[] = [];
    let done = 0;
    const t0 = performance.now();
    update(1);
    await ex.fit(train, {
      loss: 'crossentropy',
      ...(opts.fromLogits ? { fromLogits: true } : {}),
      optimizer: opts.optimizer,
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      shuffle: opts.shuffle ?? true,
      seed: opts.seed ?? 1,
      ...(opts.validation ? { validation: opts.validation } : {}),
      onStep: () => {
        done++;
        if (done < total) update(done + 1);
      },
      onEpoch: (log) => {
        const e: FinetuneEpoch = {
          epoch: log.epoch + 1, epochs: opts.epochs, step: done, steps: total, sparsity, loss: log.loss, seconds: log.seconds,
          ...(log.validation?.accuracy !== undefined ? { accuracy: log.validation.accuracy } : {}),
        };
        epochs.push(e);
        opts.onEpoch?.(e);
      },
    });
    const wallMs = performance.now() - t0;
    if (maskUpdates.length === 0) {
      throw new MloptError('USAGE', `the schedule never updates the masks during the ${total} training steps (--begin-step ${opts.schedule.beginStep})`, 'lower --begin-step or train longer (--epochs)');
    }
    const last = epochs[epochs.length - 1];
    return {
      graph: stripMasks(ex.toGraph(), masks),
      masks,
      epochs,
      steps: done,
      maskUpdates,
      sparsity,
      wallMs,
      ...(last?.accuracy !== undefined ? { accuracy: last.accuracy } : {}),
      backend: ex.backend,
    };
  } finally {
    ex.dispose();
  }
}

/** One-shot magnitude pruning of the graph's weights to `sparsity` (no training). */
export function oneShot(graph: Graph, weights: PrunableWeight[], sparsity: number, opts: { granularity: Granularity; global?: boolean }): { graph: Graph; masks: Map<string, Uint8Array> } {
  const values = new Map<string, Tensor>(weights.map((w) => [w.initializer, graph.initializers.get(w.initializer)!]));
  const masks = computeMasks(values, weights, sparsity, opts);
  return { graph: stripMasks(graph, masks), masks };
}

/**
 * Whether the crossentropy must read the model's output as logits: never when the output is a
 * Softmax (the executor then takes the Softmax's input, as Keras does); otherwise when the
 * outputs on a few training samples are not probability distributions.
 */
export async function outputIsLogits(g: Graph, train: Map<string, Tensor>): Promise<boolean> {
  const out = g.outputs[0]?.name;
  const producer = g.nodes.find((n) => n.outputs.includes(out ?? ''));
  if (producer?.op === 'Softmax' && producer.domain === '') return false;
  const ex = await IrExecutor.create(g);
  try {
    const feeds = new Map<string, Tensor>();
    for (const [k, t] of train) {
      const n = Math.min(16, t.shape[0] as number);
      const per = (t.data as ArrayLike<number>).length / (t.shape[0] as number);
      feeds.set(k, { ...t, shape: [n, ...t.shape.slice(1)], data: (t.data as Float32Array).subarray(0, n * per) as Tensor['data'] });
    }
    const y = (await ex.run(feeds))[out!];
    if (!y) return false;
    const v = toFloat32(y);
    const k = y.shape[y.shape.length - 1] as number;
    for (let r = 0; r + k <= v.length; r += k) {
      let s = 0;
      for (let i = r; i < r + k; i++) {
        if (!(v[i]! >= 0 && v[i]! <= 1)) return true;
        s += v[i]!;
      }
      if (Math.abs(s - 1) > 1e-3) return true;
    }
    return false;
  } finally {
    ex.dispose();
  }
}
