import { type BenchEntry, type EvalOutputs, benchModel, isBenchFailure } from '../bench/run.js';
import { loadDataset } from '../data/index.js';
import type { Device } from '../runtime/runner.js';
import { MloptError } from '../util/errors.js';

export interface BenchApiOptions {
  data?: string;
  batch?: number;
  runs?: number;
  warmup?: number;
  threads?: number;
  device?: Device | string;
  scale?: number;
  onProgress?: (msg: string) => void;
}

/**
 * Benchmark models one after another; the first measured model is the reference for agreement.
 * A model its engine cannot run gets a BenchFailure entry with the reason; this throws only when
 * no model could be measured (the model's own error when there is one model).
 */
export async function bench(models: string[], opts: BenchApiOptions = {}): Promise<BenchEntry[]> {
  const runs = opts.runs ?? 50;
  const warmup = opts.warmup ?? 5;
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(runs) || runs < 1) throw new MloptError('USAGE', `--runs must be an integer ≥ 1 (got ${runs})`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new MloptError('USAGE', `--warmup must be an integer ≥ 0 (got ${warmup})`);
  if (!Number.isInteger(batch) || batch < 1) throw new MloptError('USAGE', `--batch must be an integer ≥ 1 (got ${batch})`);
  const device = (opts.device ?? 'cpu') as Device;
  if (device !== 'cpu' && device !== 'gpu') throw new MloptError('USAGE', `--device must be cpu or gpu (got "${device}")`);
  if (models.length === 0) throw new MloptError('USAGE', 'give at least one model to benchmark');
  const data = opts.data ? await loadDataset(opts.data) : undefined;
  const results: BenchEntry[] = [];
  let reference: { name: string; outputs: EvalOutputs } | undefined;
  for (const m of models) {
    const { result, outputs } = await benchModel(m, { batch, runs, warmup, threads: opts.threads, device, data, scale: opts.scale, onProgress: opts.onProgress }, reference);
    results.push(result);
    if (!reference && outputs) reference = { name: m, outputs };
  }
  const failures = results.filter(isBenchFailure);
  if (failures.length === results.length) {
    const first = failures[0]!;
    if (failures.length === 1) throw new MloptError(first.error.code, first.error.message, first.error.hint);
    const hints = new Set(failures.map((f) => f.error.hint));
    const hint = hints.size === 1 ? first.error.hint : undefined;
    throw new MloptError(first.error.code, `no model could be measured: ${failures.map((f) => `${f.model}: ${f.error.message}`).join('; ')}`, hint);
  }
  return results;
}
