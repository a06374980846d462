/**
 * Harness overhead: the p50 of mlopt's timed loop (bench/run.ts `timeRuns`, the loop behind
 * `mlopt bench`) vs a bare onnxruntime-node loop, over the SAME session and the same input.
 * Rounds alternate between the two so machine noise hits both alike; the verdict is the
 * median of the per-round p50 ratios, for batch 1 and batch 32.
 *
 *   npm run bench:overhead [-- model.onnx [runs] [rounds]]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadModel } from '../src/formats/load.js';
import { feedInputs } from '../src/ir/graph.js';
import { randomFeeds } from '../src/data/index.js';
import { latencyStats, percentile } from '../src/bench/stats.js';
import { timeRuns } from '../src/bench/run.js';
import { onnxRunnerFromSession } from '../src/runtime/onnxruntime.js';
import { renderTable } from '../src/report/table.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const model = process.argv[2] ?? 'fixtures/models/fmnist_cnn.onnx';
const runs = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 9);
const warmup = 50;

const m = await loadModel(model);
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 4 });
const runner = onnxRunnerFromSession(session, feedInputs(m.graph), m.graph.outputs);

async function bare(input: Record<string, import('onnxruntime-node').Tensor>): Promise<number> {
  for (let i = 0; i < warmup; i++) await session.run(input);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(input);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return latencyStats(samples).p50Ms;
}

const rows: string[][] = [];
const summary: Record<string, { ratios: number[]; median: number }> = {};
let pass = true;
for (const batch of [1, 32]) {
  const feeds = randomFeeds(feedInputs(m.graph), batch, 1);
  const input: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [name, t] of feeds) input[name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape);
  const prepared = await runner.prepare(feeds);
  const ratios: number[] = [];
  const bares: number[] = [];
  const mls: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await bare(input);
    const ml = latencyStats(await timeRuns(runner, prepared, warmup, runs)).p50Ms;
    bares.push(b);
    mls.push(ml);
    ratios.push(ml / b);
  }
  const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const r = med(ratios);
  pass &&= r <= 1.05;
  summary[`batch${batch}`] = { ratios, median: r };
  rows.push([String(batch), med(bares).toFixed(4), med(mls).toFixed(4), `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`, r.toFixed(3), r <= 1.05 ? 'PASS' : 'FAIL']);
}
await session.release();
console.log(renderTable({
  title: `harness overhead: ${model}; one session; ${rounds} alternating rounds of ${runs} timed runs after ${warmup} warm-up`,
  head: ['batch', 'bare ORT p50 ms (median)', 'mlopt loop p50 ms (median)', 'ratio range', 'median ratio', '≤ 1.05'],
  rows,
}));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/overhead.json', JSON.stringify({ model, runs, warmup, rounds, summary, pass }, null, 2));
