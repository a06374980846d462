/**
 * `mlopt quantize`: post-training int8 (static, calibrated), dynamic int8 and float16
 * quantization on the IR, written as ONNX or TFLite, then measured against the float model (size,
 * latency, accuracy or agreement, SQNR), with an optional per-layer diagnosis and an
 * accuracy-aware fallback that puts the most damaged nodes back in float.
 */
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type PreparedData, randomFeeds } from '../data/index.js';
import { loadModel } from '../formats/load.js';
import { exportOnnxBytes } from '../formats/onnx/export.js';
import type { Graph, Node } from '../ir/graph.js';
import { feedInputs, opsetVersion } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { latencyStats } from '../bench/stats.js';
import type { Device, RunnerOptions } from '../runtime/runner.js';
import { type CalibrationMethod, RangeObserver } from '../optimize/quantize/calibrate.js';
import {
  CALIBRATION_BATCH, type EvalOut, type LayerDiagnosis, type Probe, agreement, diagnoseLayers, evaluate, firstBatch, loadData, measurePair, sqnrDb, top1,
} from '../optimize/quantize/measure.js';
import { calibrate } from '../optimize/quantize/calibration.js';
import { quantizeDynamic } from '../optimize/quantize/dynamic.js';
import { assertNotQuantized } from '../ir/edit.js';
import { prepareForQuantization } from '../optimize/quantize/prepare.js';
import { type ActivationType, type Range, applyStatic, planStatic, tensorsToCalibrate } from '../optimize/quantize/static.js';
import { MloptError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { defaultOutput, resolveTarget } from './convert.js';

export type QuantizeMode = 'int8' | 'dynamic' | 'float16';

export interface QuantizeOptions {
  mode: QuantizeMode;
  output?: string;
  to?: string;
  force?: boolean;
  perTensor?: boolean;
  activationType?: ActivationType;
  calibrationData?: string;
  calibrationSamples?: number;
  calibrationMethod?: CalibrationMethod;
  percentile?: number;
  keepIoTypes?: boolean;
  /** --int8 --to tflite: the model's input/output type (default float32) */
  ioType?: 'float32' | 'int8' | 'uint8';
  /** --dynamic: how Conv is quantized (see DynamicOptions.conv) */
  dynamicConv?: 'weight-only' | 'integer';
  exclude?: string[];
  evalData?: string;
  scale?: number;
  batch?: number;
  runs?: number;
  warmup?: number;
  threads?: number;
  device?: Device;
  reportLayers?: boolean;
  maxAccuracyDrop?: number;
  onProgress?: (msg: string) => void;
}

export interface ModelMeasure {
  bytes: number;
  gzipBytes: number;
  latencyP50Ms: number;
  latency: ReturnType<typeof latencyStats>;
  accuracy?: number;
}


export interface QuantizeResult {
  input: string;
  output: string;
  format: string;
  mode: QuantizeMode;
  settings: Record<string, unknown>;
  quantizedNodes: Array<{ node: string; op: string }>;
  keptFloat: Array<{ node: string; op: string; reason: string }>;
  float: ModelMeasure;
  quantized: ModelMeasure;
  /** evaluated on: 'eval-data' (labelled), 'calibration-data' or 'random' inputs */
  evaluatedOn: { source: string; samples: number };
  sizeRatio: number;
  latencyRatio: number;
  /** float accuracy − quantized accuracy, in points (with labelled --eval-data) */
  accuracyDrop?: number;
  top1Agreement: number;
  sqnrDb: Record<string, number>;
  batch: number;
  engine: string;
  layers?: LayerDiagnosis[];
  fallback?: { budget: number; met: boolean; steps: Array<{ node: string; op: string; accuracy: number; drop: number }>; keptFloat: string[] };
  timings: { calibrationMs: number; quantizeMs: number; evaluationMs: number };
  notes: string[];
}

/** A built candidate: the quantized graph and what was done. */
interface Built {
  graph: Graph;
  bytes: Uint8Array;
  /** what is run to measure it when `bytes` cannot be fed by the runtime (integer-I/O TFLite) */
  evalBytes?: Uint8Array;
  quantizedNodes: Array<{ node: string; op: string }>;
  keptFloat: Array<{ node: string; op: string; reason: string }>;
  /** source tensor → tensor in the quantized graph to compare with it, per quantized node */
  probes: Probe[];
  notes: string[];
}

function globToRegExp(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** --exclude patterns: an op type (exact) or a node-name glob (* and ?). */
export function excludeMatcher(graphs: Graph[], patterns: string[]): (n: Node) => boolean {
  const res = patterns.map((p) => ({ p, re: globToRegExp(p) }));
  for (const { p, re } of res) {
    if (!graphs.some((g) => g.nodes.some((n) => n.op === p || re.test(n.name)))) {
      throw new MloptError('USAGE', `--exclude "${p}" matches no node name or op type in the model`, 'run mlopt inspect --ir to list node names');
    }
  }
  return (n) => res.some(({ p, re }) => n.op === p || re.test(n.name));
}

export async function quantize(input: string, opts: QuantizeOptions): Promise<QuantizeResult> {
  const progress = opts.onProgress ?? (() => {});
  const batch = opts.batch ?? 32;
  const ro: RunnerOptions = { device: opts.device ?? 'cpu', ...(opts.threads ? { threads: opts.threads } : {}) };
  if (opts.percentile !== undefined && !(opts.percentile > 0 && opts.percentile <= 100)) {
    throw new MloptError('USAGE', `--percentile must be in (0, 100] (got ${opts.percentile})`);
  }
  if (opts.percentile !== undefined && opts.calibrationMethod !== 'percentile') {
    throw new MloptError('USAGE', '--percentile needs --calibration-method percentile');
  }
  if (opts.mode === 'int8' && !opts.calibrationData) {
    throw new MloptError('USAGE', 'static int8 quantization needs calibration data: add --calibration-data <file> (the same formats as --data)', 'or use --dynamic, which needs no data; mlopt never calibrates on random noise');
  }
  if (opts.dynamicConv && opts.mode !== 'dynamic') throw new MloptError('USAGE', '--dynamic-conv applies to --dynamic only');
  if (opts.mode !== 'int8' && (opts.calibrationData || opts.calibrationMethod)) {
    throw new MloptError('USAGE', `--calibration-data and --calibration-method apply to --int8 only (not --${opts.mode})`);
  }
  if (opts.maxAccuracyDrop !== undefined) {
    if (!opts.evalData) throw new MloptError('USAGE', '--max-accuracy-drop needs labelled --eval-data to measure accuracy');
    if (!(opts.maxAccuracyDrop >= 0)) throw new MloptError('USAGE', `--max-accuracy-drop must be ≥ 0 points (got ${opts.maxAccuracyDrop})`);
  }

  const model = await loadModel(input);
  const format = resolveTarget(model.format, opts.to);
  if (format !== 'onnx' && format !== 'tflite') {
    throw new MloptError(
      'UNSUPPORTED',
      `mlopt quantize writes ONNX or TFLite (${opts.to ? `got --to ${format}` : `the input is ${format}; choose --to onnx or --to tflite`})`,
      format === 'tfjs' ? 'for a TF.js model with quantized weights use: mlopt convert <model> --to tfjs --quantize uint8 (or float16, uint16)' : undefined,
    );
  }
  if (format === 'tflite' && opts.mode !== 'int8' && (opts.reportLayers || opts.maxAccuracyDrop !== undefined)) {
    throw new MloptError('USAGE', `--report-layers and --max-accuracy-drop are not available with --${opts.mode} --to tflite in this version`);
  }
  if (opts.ioType && opts.ioType !== 'float32' && !(opts.mode === 'int8' && format === 'tflite')) {
    throw new MloptError('USAGE', `--io-type ${opts.ioType} needs --int8 --to tflite (integer inputs and outputs exist only in a fully quantized TFLite model)`);
  }
  if (format === 'tflite' && opts.activationType === 'uint8') {
    throw new MloptError('USAGE', '--activation-type uint8 cannot be written to TFLite: its int8 kernels with per-channel weights take int8 activations');
  }
  const output = opts.output ?? defaultOutput(input, opts.mode === 'float16' ? 'fp16' : opts.mode, format);
  assertNotQuantized(model.graph, input);
  const inputs = feedInputs(model.graph);
  const notes: string[] = [];

  // data
  // calibration fetches every activation of a batch at once: small batches bound the memory
  const calib = opts.calibrationData ? await loadData(opts.calibrationData, inputs, { scale: opts.scale, batch: Math.min(batch, CALIBRATION_BATCH), limit: opts.calibrationSamples ?? 200 }, 'calibration data') : undefined;
  const evalSet = opts.evalData ? await loadData(opts.evalData, inputs, { scale: opts.scale, batch }, 'evaluation data') : undefined;
  if (opts.maxAccuracyDrop !== undefined && !evalSet?.labels) throw new MloptError('USAGE', `${opts.evalData}: has no labels; --max-accuracy-drop needs labelled data (y)`);
  if (calib) notes.push(...calib.notes.map((n) => `calibration data: ${n}`));
  if (calib && opts.calibrationSamples && calib.count < opts.calibrationSamples) notes.push(`calibration data has only ${calib.count} samples (--calibration-samples ${opts.calibrationSamples})`);

  // build
  const t0 = performance.now();
  let calibrationMs = 0;
  const prepared = prepareForQuantization(model.graph);
  notes.push(...prepared.notes);
  let src = prepared.graph;
  if (format === 'tflite') {
    const { foldConstants } = await import('../passes/fold-constants.js');
    src = (await foldConstants(src)).graph;
  }
  // patterns match the graph as quantized (after MatMul+Add → Gemm) or as the user sees it
  const userExclude = opts.exclude?.length ? excludeMatcher([src, model.graph], opts.exclude) : undefined;
  let build: (extraExclude: Set<string>) => Built;
  if (opts.mode === 'int8') {
    const opset = opsetVersion(src) ?? 0;
    if (opset < 10) throw new MloptError('UNSUPPORTED', `static int8 quantization needs ONNX opset ≥ 10 (this model has opset ${opset || 'none'})`, 'QuantizeLinear / DequantizeLinear appeared in opset 10; re-export the model with a newer opset');
    const sopts = {
      perChannel: !opts.perTensor,
      activationType: format === 'tflite' ? ('int8' as const) : (opts.activationType ?? 'uint8'),
      exclude: userExclude,
      target: format === 'tflite' ? ('tflite' as const) : ('onnx' as const),
    };
    const exportTflite = format === 'tflite' ? (await import('../formats/tflite/export.js')).exportTflite : undefined;
    const plan0 = planStatic(src, sopts);
    const cal = await calibrate(src, tensorsToCalibrate(plan0), calib!, { method: opts.calibrationMethod ?? 'minmax', ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}) }, ro, progress);
    calibrationMs = cal.ms;
    const ranges: Map<string, Range> = cal.ranges;
    build = (extra) => {
      const exclude = (n: Node): boolean => extra.has(n.name) || !!userExclude?.(n);
      const plan = extra.size ? planStatic(src, { ...sopts, exclude }) : plan0;
      const r = applyStatic(src, plan, ranges, { ...sopts, exclude });
      const probes = plan.nodes
        .filter((p) => p.role !== 'same')
        .map((p) => {
          const folded = plan.folded.find((f) => f.inputs[0] === p.node.outputs[0]);
          const tensor = folded ? folded.outputs[0]! : p.node.outputs[0]!;
          return { node: p.node.name, op: p.node.op, tensor, probe: r.dequantized.get(tensor) ?? tensor };
        });
      const io = opts.ioType ?? 'float32';
      const bytes = exportTflite ? exportTflite(r.graph, { ioType: io }).bytes : exportOnnxBytes(r.graph);
      const evalBytes = exportTflite && io !== 'float32' ? exportTflite(r.graph).bytes : undefined;
      return { graph: r.graph, bytes, ...(evalBytes ? { evalBytes } : {}), quantizedNodes: r.quantizedNodes, keptFloat: r.keptFloat, probes, notes: [...r.notes, ...(r.folded.length ? [`folded ${r.folded.length} Relu/Clip node(s) into the preceding int8 op`] : [])] };
    };
  } else if (format === 'tflite') {
    // float16 / dynamic-range TFLite: the IR stays float; the exporter stores the weights
    if (opts.exclude?.length) throw new MloptError('USAGE', '--exclude is not available with --to tflite in this version');
    const { exportTflite } = await import('../formats/tflite/export.js');
    build = () => {
      const r = exportTflite(src, { weights: opts.mode === 'float16' ? 'float16' : 'dynamic' });
      const weighted = src.nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm' || n.op === 'MatMul').map((n) => ({ node: n.name, op: n.op }));
      return { graph: src, bytes: r.bytes, quantizedNodes: weighted, keptFloat: [], probes: [], notes: r.notes };
    };
  } else if (opts.mode === 'dynamic') {
    build = (extra) => {
      const r = quantizeDynamic(src, { perChannel: !opts.perTensor, conv: opts.dynamicConv ?? 'weight-only', exclude: (n) => extra.has(n.name) || !!userExclude?.(n) });
      if (!r.quantizedNodes.length) {
        const rnn = [...new Set(src.nodes.filter((n) => ['LSTM', 'GRU', 'RNN'].includes(n.op)).map((n) => n.op))];
        const fn = src.metadata.extra?.functions ? '; ops inside model-local functions are not quantized' : '';
        const why = [...r.notes, ...(rnn.length ? [`${rnn.join('/')} weights are not quantized by this version`] : [])];
        throw new MloptError('UNSUPPORTED', `${input}: nothing to quantize dynamically — no Conv, MatMul or Gemm node with constant float32 weights${why.length ? ` (${why.join('; ')})` : ''}${fn}`);
      }
      const probes = r.quantizedNodes.map((q) => {
        const n = src.nodes.find((x) => x.name === q.node)!;
        return { ...q, tensor: n.outputs[0]!, probe: n.outputs[0]! };
      });
      return { graph: r.graph, bytes: exportOnnxBytes(r.graph), quantizedNodes: r.quantizedNodes, keptFloat: r.keptFloat, probes, notes: r.notes };
    };
  } else {
    const { convertToFloat16 } = await import('../optimize/quantize/float16.js');
    build = (extra) => {
      const r = convertToFloat16(src, { keepIoTypes: opts.keepIoTypes ?? true, exclude: (n) => extra.has(n.name) || !!userExclude?.(n) });
      const kept = new Set(r.keptFloat.map((k) => k.node));
      const converted = src.nodes.filter((n) => !kept.has(n.name) && r.graph.nodes.some((m) => m.name === n.name));
      const probes = converted.filter((n) => n.outputs[0] && r.graph.nodes.some((m) => m.outputs.includes(n.outputs[0]!))).map((n) => ({ node: n.name, op: n.op, tensor: n.outputs[0]!, probe: n.outputs[0]! }));
      return { graph: r.graph, bytes: exportOnnxBytes(r.graph), quantizedNodes: converted.map((n) => ({ node: n.name, op: n.op })), keptFloat: r.keptFloat, probes, notes: r.castsInserted ? [`${r.castsInserted} Cast node(s) inserted at float32/float16 boundaries`] : [] };
    };
  }
  progress('quantizing');
  let built = build(new Set());
  const quantizeMs = performance.now() - t0 - calibrationMs;
  const opaque = model.graph.nodes.filter((n) => n.domain !== '');
  if (opaque.length) notes.push(`${opaque.length} node(s) of ops unknown to mlopt left in float: ${[...new Set(opaque.map((n) => `${n.domain}:${n.op}`))].join(', ')}`);

  // evaluate: labelled eval data, else calibration data, else random inputs
  const t1 = performance.now();
  // the float reference runs in onnxruntime too: a non-ONNX input is measured as its ONNX export
  // (for TFLite output: the float32 TFLite export of the same graph, in the same runtime)
  let floatBytes = model.format === 'onnx' && model.bytes ? model.bytes : exportOnnxBytes(model.graph);
  if (format === 'tflite') {
    const { exportTflite } = await import('../formats/tflite/export.js');
    floatBytes = model.format === 'tflite' && model.bytes ? model.bytes : exportTflite(src).bytes;
  }
  const evalData: PreparedData | Map<string, Tensor> = evalSet ?? calib ?? randomFeeds(inputs, batch);
  const evaluatedOn = { source: evalSet ? opts.evalData! : calib ? `${opts.calibrationData} (calibration samples)` : 'random inputs', samples: evalSet?.count ?? calib?.count ?? batch };
  progress(`evaluating the float model on ${evaluatedOn.samples} samples`);
  const fEval = await evaluate(floatBytes, model.graph, evalData, ro, format);
  const firstOut = model.graph.outputs[0]!.name;
  const fPred = top1(fEval.outputs.get(firstOut) ?? new Float32Array(), fEval.samples);
  const fAcc = fEval.labels ? agreement(fPred, fEval.labels) : undefined;
  const evalBuilt = async (b: Built): Promise<{ e: EvalOut; acc?: number }> => {
    let e: EvalOut;
    try {
      e = await evaluate(b.evalBytes ?? b.bytes, b.graph, evalData, ro, format);
    } catch (err) {
      throw new MloptError('RUNTIME', `the quantized model does not run in ${format === 'tflite' ? 'LiteRT' : 'onnxruntime'}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'nothing was written; please report this with the model', { cause: err });
    }
    const p = top1(e.outputs.get(firstOut) ?? new Float32Array(), e.samples);
    return { e, ...(e.labels ? { acc: agreement(p, e.labels) } : {}) };
  };
  progress('evaluating the quantized model');
  let qe = await evalBuilt(built);

  // per-layer diagnosis
  const diagData = calib ?? evalSet;
  let layers: LayerDiagnosis[] | undefined;
  if ((opts.reportLayers || opts.maxAccuracyDrop !== undefined) && diagData) {
    progress('per-layer diagnosis');
    layers = await diagnoseLayers(src, built, diagData, ro);
  } else if (opts.reportLayers) {
    const feeds = randomFeeds(inputs, batch);
    notes.push('--report-layers without data: SQNR measured on random inputs');
    layers = await diagnoseLayers(src, built, { count: batch, batchSize: batch, inputs: feeds, notes: [], batches: () => [{ feeds, start: 0, size: batch }] }, ro);
  }

  // accuracy-aware fallback
  let fallback: QuantizeResult['fallback'];
  if (opts.maxAccuracyDrop !== undefined && fAcc !== undefined && layers) {
    const budget = opts.maxAccuracyDrop;
    const steps: NonNullable<QuantizeResult['fallback']>['steps'] = [];
    const extra = new Set<string>();
    const order = layers.filter((l) => Number.isFinite(l.sqnrDb) || l.sqnrDb === -Infinity);
    let drop = (fAcc - (qe.acc ?? 0)) * 100;
    for (const l of order) {
      if (drop <= budget) break;
      extra.add(l.node);
      progress(`accuracy drop ${drop.toFixed(2)} > ${budget} points: keeping ${l.node} in float`);
      built = build(extra);
      qe = await evalBuilt(built);
      drop = (fAcc - (qe.acc ?? 0)) * 100;
      steps.push({ node: l.node, op: l.op, accuracy: qe.acc ?? NaN, drop });
    }
    fallback = { budget, met: drop <= budget, steps, keptFloat: [...extra] };
    if (!fallback.met) {
      throw new MloptError('THRESHOLD', `cannot meet --max-accuracy-drop ${budget}: the drop is still ${drop.toFixed(2)} points with ${extra.size} node(s) in float; nothing was written`, 'raise the budget, try --calibration-method entropy or percentile, or --per-tensor off');
    }
  }

  // agreement and SQNR per output
  const sq: Record<string, number> = {};
  for (const o of model.graph.outputs) {
    const a = fEval.outputs.get(o.name);
    const b = qe.e.outputs.get(o.name);
    if (a && b && a.length === b.length) sq[o.name] = sqnrDb(a, b);
  }
  const qPred = top1(qe.e.outputs.get(firstOut) ?? new Float32Array(), qe.e.samples);
  const top1Agreement = agreement(fPred, qPred);

  // latency, same settings for both
  const feeds = firstBatch(evalSet ?? calib, batch) ?? randomFeeds(inputs, batch);
  const warmup = opts.warmup ?? 5;
  const runs = opts.runs ?? 50;
  progress('timing the float and the quantized model');
  const lat = await measurePair([{ bytes: floatBytes, graph: model.graph }, { bytes: built.evalBytes ?? built.bytes, graph: built.graph }], feeds, ro, warmup, runs, format);
  const after: string[] = [];
  if (built.evalBytes) after.push(`accuracy and latency measured on the float-I/O twin of the written model (the same int8 kernels with QUANTIZE/DEQUANTIZE at the edges): LiteRT.js cannot feed ${opts.ioType} tensors from float data`);
  const fl = { stats: lat.stats[0]!, engine: lat.engine };
  const ql = { stats: lat.stats[1]!, engine: lat.engine };
  const evaluationMs = performance.now() - t1;
  if (ql.stats.p50Ms > fl.stats.p50Ms * 1.05) {
    after.push(`the quantized model is ${(ql.stats.p50Ms / fl.stats.p50Ms).toFixed(2)}× slower than the float one here: ${fl.engine}'s ${opts.mode === 'float16' ? 'float16' : 'integer'} kernels do not beat its float32 kernels for this model's shapes on this machine (size and accuracy results stand)`);
  }

  writeFileAtomic(output, built.bytes, { force: opts.force, inputs: [resolve(input), resolve(model.file)] });

  const measure = (bytes: Uint8Array, lat: ReturnType<typeof latencyStats>, acc?: number): ModelMeasure => ({
    bytes: bytes.byteLength,
    gzipBytes: gzipSync(bytes, { level: 6 }).byteLength,
    latencyP50Ms: lat.p50Ms,
    latency: lat,
    ...(acc !== undefined ? { accuracy: acc } : {}),
  });
  const fm = measure(floatBytes, fl.stats, fAcc);
  const qm = measure(built.bytes, ql.stats, qe.acc);
  return {
    input,
    output,
    format,
    mode: opts.mode,
    settings: {
      ...(opts.mode === 'int8'
        ? { perChannel: !opts.perTensor, activationType: format === 'tflite' ? 'int8' : (opts.activationType ?? 'uint8'), weightType: 'int8', calibrationMethod: opts.calibrationMethod ?? 'minmax', calibrationSamples: calib?.count, ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}) }
        : opts.mode === 'dynamic'
          ? { perChannel: !opts.perTensor, weightType: 'int8', conv: opts.dynamicConv ?? 'weight-only' }
          : { keepIoTypes: opts.keepIoTypes ?? true }),
      exclude: opts.exclude ?? [],
    },
    quantizedNodes: built.quantizedNodes,
    keptFloat: built.keptFloat,
    float: fm,
    quantized: qm,
    evaluatedOn,
    sizeRatio: qm.bytes / fm.bytes,
    latencyRatio: qm.latencyP50Ms / fm.latencyP50Ms,
    ...(fAcc !== undefined && qe.acc !== undefined ? { accuracyDrop: Math.round((fAcc - qe.acc) * 1e8) / 1e6 } : {}),
    top1Agreement,
    sqnrDb: sq,
    batch: (feeds.values().next().value?.shape[0] as number) ?? batch,
    engine: fl.engine,
    ...(layers && opts.reportLayers ? { layers } : {}),
    ...(fallback ? { fallback } : {}),
    timings: { calibrationMs, quantizeMs, evaluationMs },
    notes: [...notes, ...built.notes, ...after],
  };
}

export { RangeObserver, sqnrDb, type LayerDiagnosis };
