import { type BenchResult, type EvalOutputs, benchModel } from '../bench/run.js';
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

/** Benchmark models one after another; the first model is the reference for agreement. */
export async function bench(models: string[], opts: BenchApiOptions = {}): Promise<BenchResult[]> {
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
  const results: BenchResult[] = [];
  let reference: { name: string; outputs: EvalOutputs } | undefined;
  for (const m of models) {
    const { result, outputs } = await benchModel(m, { batch, runs, warmup, threads: opts.threads, device, data, scale: opts.scale, onProgress: opts.onProgress }, reference);
    results.push(result);
    if (!reference && outputs) reference = { name: m, outputs };
  }
  return results;
}
