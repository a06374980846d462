/**
 * Harness overhead: mlopt's bench p50 for an ONNX model vs a bare onnxruntime-node loop over
 * the same session options and the same input. Rounds alternate between the two to spread
 * machine noise; the table prints each round's p50s and the median ratio.
 *
 *   npm run bench:overhead [-- model.onnx [runs] [rounds]]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bench } from '../src/api/bench.js';
import { loadModel } from '../src/formats/load.js';
import { feedInputs } from '../src/ir/graph.js';
import { randomFeeds } from '../src/data/index.js';
import { latencyStats, percentile } from '../src/bench/stats.js';
import { renderTable } from '../src/report/table.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const model = process.argv[2] ?? 'fixtures/models/fmnist_cnn.onnx';
const runs = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 5);
const warmup = 20;

async function bareP50(): Promise<number> {
  const m = await loadModel(model);
  const feeds = randomFeeds(feedInputs(m.graph), 1);
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 4 });
  const input: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [name, t] of feeds) input[name] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.shape);
  for (let i = 0; i < warmup; i++) await session.run(input);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(input);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await session.release();
  return latencyStats(samples).p50Ms;
}

async function mloptP50(): Promise<number> {
  const [r] = await bench([model], { runs, warmup, batch: 1 });
  return r!.latency.p50Ms;
}

const rows: string[][] = [];
const ratios: number[] = [];
for (let i = 0; i < rounds; i++) {
  const bare = await bareP50();
  const ml = await mloptP50();
  ratios.push(ml / bare);
  rows.push([String(i + 1), bare.toFixed(4), ml.toFixed(4), (ml / bare).toFixed(3)]);
}
const sorted = [...ratios].sort((a, b) => a - b);
const median = percentile(sorted, 50);
console.log(renderTable({
  title: `harness overhead: ${model}, ${runs} runs after ${warmup} warm-up, batch 1, ${rounds} alternating rounds`,
  head: ['round', 'bare ORT p50 ms', 'mlopt bench p50 ms', 'ratio'],
  rows,
  footer: [`median ratio mlopt/bare: ${median.toFixed(3)} (target ≤ 1.05) — ${median <= 1.05 ? 'PASS' : 'FAIL'}`],
}));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/overhead.json', JSON.stringify({ model, runs, warmup, rounds, ratios, medianRatio: median }, null, 2));
