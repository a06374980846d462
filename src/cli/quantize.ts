import type { QuantizeMode, QuantizeResult } from '../api/quantize.js';
import type { Report } from '../report/table.js';
import { MloptError } from '../util/errors.js';
import { printJson, printReport, progress } from './output.js';

export interface QuantizeCliOptions {
  int8?: boolean;
  dynamic?: boolean;
  float16?: boolean;
  output?: string;
  to?: string;
  force?: boolean;
  perTensor?: boolean;
  activationType?: string;
  calibrationData?: string;
  calibrationSamples?: number;
  calibrationMethod?: string;
  percentile?: number;
  keepIoTypes: boolean;
  dynamicConv?: string;
  ioType?: string;
  exclude?: string[];
  evalData?: string;
  scale?: number;
  batch?: number;
  runs?: number;
  warmup?: number;
  threads?: number;
  device: string;
  reportLayers?: boolean;
  maxAccuracyDrop?: number;
  json?: boolean;
  markdown?: boolean;
}

function modeOf(o: QuantizeCliOptions): QuantizeMode {
  const picked = (['int8', 'dynamic', 'float16'] as const).filter((m) => o[m]);
  if (picked.length !== 1) throw new MloptError('USAGE', picked.length ? `choose one of --int8, --dynamic, --float16 (got --${picked.join(', --')})` : 'choose a quantization: --int8 (static, needs --calibration-data), --dynamic or --float16');
  return picked[0]!;
}

export async function quantizeCommand(model: string, o: QuantizeCliOptions): Promise<void> {
  if (o.json && o.markdown) throw new MloptError('USAGE', '--json and --markdown cannot be used together');
  const mode = modeOf(o);
  if (o.activationType !== undefined && o.activationType !== 'int8' && o.activationType !== 'uint8') {
    throw new MloptError('USAGE', `--activation-type must be int8 or uint8 (got "${o.activationType}")`);
  }
  if (o.calibrationMethod !== undefined && !['minmax', 'percentile', 'entropy'].includes(o.calibrationMethod)) {
    throw new MloptError('USAGE', `--calibration-method must be minmax, percentile or entropy (got "${o.calibrationMethod}")`);
  }
  if (o.dynamicConv !== undefined && o.dynamicConv !== 'integer' && o.dynamicConv !== 'weight-only') {
    throw new MloptError('USAGE', `--dynamic-conv must be weight-only or integer (got "${o.dynamicConv}")`);
  }
  if (o.ioType !== undefined && !['float32', 'int8', 'uint8'].includes(o.ioType)) {
    throw new MloptError('USAGE', `--io-type must be float32, int8 or uint8 (got "${o.ioType}")`);
  }
  if (o.device !== 'cpu' && o.device !== 'gpu') throw new MloptError('USAGE', `--device must be cpu or gpu (got "${o.device}")`);
  const { quantize } = await import('../api/quantize.js');
  const p = await progress(o.json, 'quantizing');
  let r: QuantizeResult;
  try {
    r = await quantize(model, {
      mode,
      ...(o.output ? { output: o.output } : {}),
      ...(o.to ? { to: o.to } : {}),
      force: o.force,
      perTensor: o.perTensor,
      ...(o.activationType ? { activationType: o.activationType as 'int8' | 'uint8' } : {}),
      ...(o.calibrationData ? { calibrationData: o.calibrationData } : {}),
      ...(o.calibrationSamples ? { calibrationSamples: o.calibrationSamples } : {}),
      ...(o.calibrationMethod ? { calibrationMethod: o.calibrationMethod as 'minmax' } : {}),
      ...(o.percentile !== undefined ? { percentile: o.percentile } : {}),
      keepIoTypes: o.keepIoTypes,
      ...(o.dynamicConv ? { dynamicConv: o.dynamicConv as 'integer' } : {}),
      ...(o.ioType ? { ioType: o.ioType as 'int8' } : {}),
      exclude: o.exclude ?? [],
      ...(o.evalData ? { evalData: o.evalData } : {}),
      ...(o.scale !== undefined ? { scale: o.scale } : {}),
      ...(o.batch ? { batch: o.batch } : {}),
      ...(o.runs ? { runs: o.runs } : {}),
      ...(o.warmup !== undefined ? { warmup: o.warmup } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
      device: o.device,
      reportLayers: o.reportLayers,
      ...(o.maxAccuracyDrop !== undefined ? { maxAccuracyDrop: o.maxAccuracyDrop } : {}),
      onProgress: (m) => p.update(m),
    });
  } finally {
    p.stop();
  }
  if (o.json) {
    printJson(r);
    return;
  }
  for (const rep of quantizeReports(r)) await printReport(rep, o.markdown);
}

const kib = (b: number): string => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const pct = (x: number | undefined): string => (x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);
const db = (x: number): string => (x === Infinity ? 'exact' : `${x.toFixed(1)} dB`);

export function quantizeReports(r: QuantizeResult): Report[] {
  const label = r.mode === 'float16' ? 'float16' : r.mode === 'dynamic' ? 'int8 dynamic' : 'int8 static';
  const rows: string[][] = [
    ['file size', kib(r.float.bytes), kib(r.quantized.bytes), `× ${r.sizeRatio.toFixed(3)}`],
    ['gzip size', kib(r.float.gzipBytes), kib(r.quantized.gzipBytes), `× ${(r.quantized.gzipBytes / r.float.gzipBytes).toFixed(3)}`],
    [`latency p50 (batch ${r.batch})`, `${r.float.latencyP50Ms.toFixed(3)} ms`, `${r.quantized.latencyP50Ms.toFixed(3)} ms`, `× ${r.latencyRatio.toFixed(3)}`],
  ];
  if (r.float.accuracy !== undefined && r.quantized.accuracy !== undefined) {
    rows.push(['top-1 accuracy', pct(r.float.accuracy), pct(r.quantized.accuracy), `${(-(r.accuracyDrop ?? 0)).toFixed(2)} points`]);
  }
  rows.push(['top-1 agreement with float', '', pct(r.top1Agreement), '']);
  for (const [name, v] of Object.entries(r.sqnrDb)) rows.push([`SQNR of output ${name}`, '', db(v), '']);
  const footer = [
    `wrote ${r.output} (${r.format}; ${r.quantizedNodes.length} node(s) ${r.mode === 'float16' ? 'in float16' : 'quantized'}${r.keptFloat.length ? `, ${r.keptFloat.length} kept float32` : ''})`,
    `measured with ${r.engine} on ${r.evaluatedOn.source} (${r.evaluatedOn.samples} samples)`,
    ...r.notes.map((n) => `note: ${n}`),
    ...r.keptFloat.filter((k) => k.reason !== 'op unknown to mlopt (kept float)').slice(0, 20).map((k) => `kept float: ${k.node} (${k.op}): ${k.reason}`),
  ];
  const out: Report[] = [{ title: `mlopt quantize --${r.mode === 'int8' ? 'int8' : r.mode} — ${r.input}`, head: ['', 'float32', label, 'change'], rows, footer }];
  if (r.layers) {
    out.push({
      title: 'per-layer SQNR (quantized vs float tensor; worst first)',
      head: ['node', 'op', 'SQNR'],
      rows: r.layers.map((l) => [l.node, l.op, db(l.sqnrDb)]),
    });
  }
  if (r.fallback) {
    out.push({
      title: `accuracy-aware fallback (budget ${r.fallback.budget} points): ${r.fallback.steps.length ? `${r.fallback.keptFloat.length} node(s) put back in float` : 'budget met without fallback'}`,
      head: ['kept float', 'op', 'accuracy after', 'drop (points)'],
      rows: r.fallback.steps.map((s) => [s.node, s.op, pct(s.accuracy), s.drop.toFixed(2)]),
    });
  }
  return out;
}
