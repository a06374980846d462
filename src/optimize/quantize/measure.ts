/**
 * Measuring a quantized model against its float source: data loading and checks, evaluation
 * in the model's runtime (onnxruntime or LiteRT.js), SQNR and agreement, paired latency, and
 * the per-layer diagnosis. Used by `quantize()` (src/api/quantize.ts).
 */
import { type Dataset, type PreparedData, argmaxRows, loadDataset, prepareFeeds } from '../../data/index.js';
import type { Graph, Value } from '../../ir/graph.js';
import { feedInputs } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { toFloat32 } from '../../ir/tensor.js';
import { latencyStats } from '../../bench/stats.js';
import { timeRuns } from '../../bench/run.js';
import { createOnnxRunner } from '../../runtime/onnxruntime.js';
import type { Runner, RunnerOptions } from '../../runtime/runner.js';
import { MloptError } from '../../util/errors.js';
import { runnerWithOutputs } from './calibration.js';

export interface LayerDiagnosis {
  node: string;
  op: string;
  tensor: string;
  sqnrDb: number;
}

/** a quantized node's output tensor in the float graph, and the tensor to compare it with */
export interface Probe {
  node: string;
  op: string;
  tensor: string;
  probe: string;
}

/** The first `n` samples of a dataset (views, no copies). */
export function headOf(ds: Dataset, n: number): Dataset {
  if (ds.count <= n) return ds;
  const inputs = new Map<string, Tensor>();
  for (const [k, t] of ds.inputs) {
    const per = (t.data as ArrayLike<number>).length / (t.shape[0] as number);
    inputs.set(k, { ...t, shape: [n, ...t.shape.slice(1)], data: (t.data as Float32Array).subarray(0, n * per) as Tensor['data'] });
  }
  return { ...ds, inputs, count: n, ...(ds.labels ? { labels: ds.labels.subarray(0, n) } : {}) };
}

/** Calibration batch size: calibration exposes every activation of a batch at once. */
export const CALIBRATION_BATCH = 8;

/** The first `batch` samples of prepared data as feeds (for timing). */
export function firstBatch(p: PreparedData | undefined, batch: number): Map<string, Tensor> | undefined {
  if (!p) return undefined;
  const n = Math.min(batch, p.count);
  const feeds = new Map<string, Tensor>();
  for (const [name, t] of p.inputs) {
    const per = (t.data as ArrayLike<number>).length / (t.shape[0] as number);
    feeds.set(name, { ...t, shape: [n, ...t.shape.slice(1)], data: (t.data as Float32Array).subarray(0, n * per) as Tensor['data'] });
  }
  return feeds;
}

export function assertFiniteData(p: PreparedData, source: string): void {
  for (const [name, t] of p.inputs) {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        const per = d.length / (t.shape[0] as number);
        throw new MloptError('DATA', `${source}: input "${name}" has a ${Number.isNaN(d[i]!) ? 'NaN' : 'infinite'} value (sample ${Math.floor(i / per)})`, 'clean the data set; mlopt will not calibrate or evaluate on NaN/Inf');
      }
    }
  }
}

export async function loadData(path: string, inputs: Value[], opts: { scale?: number; batch: number; limit?: number }, what: string): Promise<PreparedData> {
  const ds = await loadDataset(path);
  if (ds.count === 0) throw new MloptError('DATA', `${path}: the ${what} is empty (0 samples)`);
  const prepared = prepareFeeds(opts.limit ? headOf(ds, opts.limit) : ds, inputs, { scale: opts.scale, batch: opts.batch });
  assertFiniteData(prepared, path);
  return prepared;
}

export interface EvalOut {
  outputs: Map<string, Float32Array>;
  labels?: Int32Array;
  samples: number;
}

/** The runtime that consumes an artifact of `format`: onnxruntime for ONNX, LiteRT.js for TFLite. */
export async function openRunner(format: string, bytes: Uint8Array, g: Graph, ro: RunnerOptions): Promise<Runner> {
  if (format === 'tflite') {
    const { createLiteRtRunner } = await import('../../runtime/litert.js');
    return createLiteRtRunner(bytes, ro);
  }
  return createOnnxRunner(bytes, feedInputs(g), g.outputs, ro);
}

/** Run `bytes` over all batches; concatenate every graph output (as float32). */
export async function evaluate(bytes: Uint8Array, g: Graph, data: PreparedData | Map<string, Tensor>, ro: RunnerOptions, format = 'onnx'): Promise<EvalOut> {
  const runner = await openRunner(format, bytes, g, ro);
  try {
    const chunks = new Map<string, Float32Array[]>();
    const labels: Int32Array[] = [];
    let samples = 0;
    const batches = data instanceof Map ? [{ feeds: data, size: (data.values().next().value?.shape[0] as number) ?? 1, labels: undefined }] : data.batches();
    for (const b of batches) {
      const out = await runner.run(b.feeds);
      for (const o of g.outputs) {
        const t = out.get(o.name);
        if (!t) continue;
        let l = chunks.get(o.name);
        if (!l) chunks.set(o.name, (l = []));
        l.push(toFloat32(t).slice());
      }
      if (b.labels) labels.push(b.labels);
      samples += b.size;
    }
    const outputs = new Map<string, Float32Array>();
    for (const [k, parts] of chunks) {
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      outputs.set(k, all);
    }
    const lab = labels.length ? Int32Array.from(labels.flatMap((l) => [...l])) : undefined;
    return { outputs, samples, ...(lab ? { labels: lab } : {}) };
  } finally {
    await runner.dispose();
  }
}

export function sqnrDb(ref: Float32Array, q: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const d = r - q[i]!;
    s += r * r;
    e += d * d;
  }
  if (e === 0) return Infinity;
  if (s === 0) return -Infinity;
  return 10 * Math.log10(s / e);
}

export function top1(rows: Float32Array, samples: number): Int32Array {
  const cols = samples ? rows.length / samples : 0;
  return argmaxRows(rows, samples, cols);
}

export function agreement(a: Int32Array, b: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) ok++;
  return a.length ? ok / a.length : NaN;
}

/** p50 latency of two models with the same feeds and settings, timed in alternating blocks so
 *  that machine noise (other processes, frequency changes) hits both alike. */
export async function measurePair(models: Array<{ bytes: Uint8Array; graph: Graph }>, feeds: Map<string, Tensor>, ro: RunnerOptions, warmup: number, runs: number, format = 'onnx'): Promise<{ stats: Array<ReturnType<typeof latencyStats>>; engine: string }> {
  const runners: Runner[] = [];
  try {
    for (const m of models) runners.push(await openRunner(format, m.bytes, m.graph, ro));
    const prepared = await Promise.all(runners.map((r) => r.prepare(feeds)));
    const samples: number[][] = runners.map(() => []);
    const blocks = Math.min(10, runs);
    for (let b = 0; b < blocks; b++) {
      const n = Math.floor(runs / blocks) + (b < runs % blocks ? 1 : 0);
      for (let i = 0; i < runners.length; i++) samples[i]!.push(...(await timeRuns(runners[i]!, prepared[i], b === 0 ? warmup : Math.min(2, warmup), n)));
    }
    return { stats: samples.map((s) => latencyStats(s)), engine: `${runners[0]!.engine} ${runners[0]!.version} (${runners[0]!.backend})` };
  } finally {
    for (const r of runners) await r.dispose();
  }
}

/** Per-node SQNR of the quantized graph's tensors against the float graph's, worst first. */
export async function diagnoseLayers(floatGraph: Graph, built: { graph: Graph; probes: Probe[] }, data: PreparedData, ro: RunnerOptions): Promise<LayerDiagnosis[]> {
  const probes = built.probes;
  const fr = await runnerWithOutputs(floatGraph, [...new Set(probes.map((p) => p.tensor))], ro);
  const qr = await runnerWithOutputs(built.graph, [...new Set(probes.map((p) => p.probe))], ro);
  const acc = new Map<number, { s: number; e: number }>();
  try {
    for (const b of data.batches()) {
      const fo = await fr.run(b.feeds);
      const qo = await qr.run(b.feeds);
      probes.forEach((p, i) => {
        const ft = fo.get(p.tensor);
        const qt = qo.get(p.probe);
        if (!ft || !qt) return;
        const f = toFloat32(ft);
        const q = toFloat32(qt);
        const a = acc.get(i) ?? { s: 0, e: 0 };
        for (let k = 0; k < f.length; k++) {
          const d = f[k]! - q[k]!;
          a.s += f[k]! * f[k]!;
          a.e += d * d;
        }
        acc.set(i, a);
      });
    }
  } finally {
    await fr.dispose();
    await qr.dispose();
  }
  const out: LayerDiagnosis[] = [];
  probes.forEach((p, i) => {
    const a = acc.get(i);
    if (!a) return;
    out.push({ node: p.node, op: p.op, tensor: p.tensor, sqnrDb: a.e === 0 ? Infinity : a.s === 0 ? -Infinity : 10 * Math.log10(a.s / a.e) });
  });
  return out.sort((x, y) => x.sqnrDb - y.sqnrDb);
}

