/**
 * Measuring a written model the way `mlopt prune` reports it: loaded back from disk, opened in
 * its format's runtime (onnxruntime, LiteRT.js, TF.js), top-1 accuracy on labelled data, raw
 * and gzip size, and p50 latency of two models timed in alternating blocks.
 */
import { readFileSync } from 'node:fs';
import { timeRuns } from '../../bench/run.js';
import { modelFiles, modelSize } from '../../bench/size.js';
import { type LatencyStats, latencyStats } from '../../bench/stats.js';
import { type Dataset, argmaxRows, prepareFeeds, randomFeeds } from '../../data/index.js';
import { loadModel } from '../../formats/load.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { createRunner } from '../../runtime/index.js';
import type { Runner } from '../../runtime/runner.js';
import { MloptError } from '../../util/errors.js';

/** the batch the latency is timed at (and the evaluation batch) */
export const TIMING_BATCH = 32;

export interface ModelFigures {
  bytes: number;
  gzipBytes: number;
  latencyP50Ms: number;
  latency: LatencyStats;
  /** top-1 accuracy on the evaluation data, run in the model's runtime */
  accuracy?: number;
}

export interface Opened {
  runner: Runner;
  size: { bytes: number; gzipBytes: number };
  accuracy?: number;
  samples?: number;
  /** the timed input: the first batch of the eval data, or random */
  feeds: Map<string, Tensor>;
  notes: string[];
}

/** Load a written model, open it in its runtime and measure its accuracy on `evalDs`. */
export async function openWritten(path: string, evalDs: Dataset | undefined, scale: number | undefined, withAccuracy = true): Promise<Opened> {
  const model = await loadModel(path);
  const size = modelSize(model);
  const runner = await createRunner(model, {});
  try {
    let accuracy: number | undefined;
    let feeds: Map<string, Tensor> | undefined;
    let samples: number | undefined;
    const notes: string[] = [];
    if (evalDs) {
      const p = prepareFeeds(evalDs, runner.inputs, { scale, batch: TIMING_BATCH });
      notes.push(...p.notes);
      const outName = runner.outputs[0]?.name;
      let correct = 0;
      samples = 0;
      for (const b of p.batches()) {
        feeds ??= b.feeds;
        if (!withAccuracy) break;
        const out = await runner.run(b.feeds);
        const y = (outName && out.get(outName)) || out.values().next().value;
        if (!y) throw new MloptError('RUNTIME', `${path}: the model produced no output`);
        const v = toFloat32(y);
        const pred = argmaxRows(v, b.size, v.length / b.size);
        if (b.labels) for (let i = 0; i < b.size; i++) if (pred[i] === b.labels[i]) correct++;
        samples += b.size;
      }
      if (p.labels && withAccuracy) accuracy = correct / samples;
    }
    feeds ??= randomFeeds(runner.inputs, TIMING_BATCH);
    return { runner, size, feeds, notes, ...(accuracy !== undefined ? { accuracy } : {}), ...(samples !== undefined ? { samples } : {}) };
  } catch (err) {
    await runner.dispose();
    throw err;
  }
}

/** p50 latency of both models, timed in alternating blocks so that machine noise hits both alike. */
export async function pairedLatency(models: Opened[], runs: number, warmup: number): Promise<LatencyStats[]> {
  const prepared = await Promise.all(models.map((m) => m.runner.prepare(m.feeds)));
  const samples: number[][] = models.map(() => []);
  for (const [i, m] of models.entries()) await timeRuns(m.runner, prepared[i], warmup, 1);
  const blocks = Math.min(runs, 5);
  for (let b = 0; b < blocks; b++) {
    const n = Math.floor(runs / blocks) + (b < runs % blocks ? 1 : 0);
    for (const [i, m] of models.entries()) samples[i]!.push(...(await timeRuns(m.runner, prepared[i], 0, n)));
  }
  return samples.map((s) => latencyStats(s));
}

export const figures = (o: Opened, lat: LatencyStats): ModelFigures => ({
  bytes: o.size.bytes, gzipBytes: o.size.gzipBytes, latencyP50Ms: lat.p50Ms, latency: lat, ...(o.accuracy !== undefined ? { accuracy: o.accuracy } : {}),
});

/** Whether two written models (files or folders) have the same bytes. */
export function sameBytes(a: string, b: string): boolean {
  const fa = modelFiles(a);
  const fb = modelFiles(b);
  if (fa.length !== fb.length) return false;
  return fa.every((f, i) => readFileSync(f).equals(readFileSync(fb[i]!)));
}
