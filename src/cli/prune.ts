import type { PruneOptions, PruneResult } from '../api/prune.js';
import type { Report } from '../report/table.js';
import { MloptError } from '../util/errors.js';
import { printJson, printReport } from './output.js';

/** What commander parses: the library's options, with the two enums still unchecked strings. */
export type PruneCliOptions = Omit<PruneOptions, 'schedule' | 'optimizer' | 'onProgress'> & {
  schedule?: string;
  optimizer?: string;
  json?: boolean;
  markdown?: boolean;
};

interface Progress {
  update(line: string, kind?: 'status' | 'epoch' | 'warning'): void;
  stop(): void;
}

/** ora on a TTY (epoch lines kept above the spinner); plain epoch lines on stderr in CI or when piped; nothing with --json. */
async function pruneProgress(json: boolean | undefined): Promise<Progress> {
  const warn = (l: string): void => void process.stderr.write(`mlopt: warning: ${l}\n`);
  if (json) return { update: (l, kind) => { if (kind === 'warning') warn(l); }, stop: () => {} };
  const tty = process.stderr.isTTY && process.stderr.columns > 0 && process.env.CI !== 'true' && process.env.CI !== '1';
  if (!tty) return { update: (l, kind) => { if (kind === 'epoch') process.stderr.write(`${l}\n`); else if (kind === 'warning') warn(l); }, stop: () => {} };
  const { default: ora } = await import('ora');
  const spinner = ora({ text: 'pruning', stream: process.stderr }).start();
  let status = 'pruning';
  return {
    update: (l, kind) => {
      if (kind === 'epoch' || kind === 'warning') {
        spinner.stopAndPersist(kind === 'epoch' ? { symbol: '·', text: l } : { symbol: 'mlopt: warning:', text: l });
        spinner.start(status);
      } else {
        status = l;
        spinner.text = l;
      }
    },
    stop: () => spinner.stop(),
  };
}

export async function pruneCommand(model: string, o: PruneCliOptions): Promise<void> {
  if (o.json && o.markdown) throw new MloptError('USAGE', '--json and --markdown cannot be used together');
  const { prune } = await import('../api/prune.js');
  const p = await pruneProgress(o.json);
  let r: PruneResult;
  try {
    r = await prune(model, {
      ...(o.finalSparsity !== undefined ? { finalSparsity: o.finalSparsity } : {}),
      ...(o.initialSparsity !== undefined ? { initialSparsity: o.initialSparsity } : {}),
      ...(o.schedule !== undefined ? { schedule: o.schedule as 'polynomial' } : {}),
      ...(o.beginStep !== undefined ? { beginStep: o.beginStep } : {}),
      ...(o.endStep !== undefined ? { endStep: o.endStep } : {}),
      ...(o.power !== undefined ? { power: o.power } : {}),
      ...(o.frequency !== undefined ? { frequency: o.frequency } : {}),
      ...(o.granularity !== undefined ? { granularity: o.granularity } : {}),
      global: !!o.global,
      ...(o.layers ? { layers: o.layers } : {}),
      ...(o.exclude ? { exclude: o.exclude } : {}),
      ...(o.data ? { data: o.data } : {}),
      ...(o.evalData ? { evalData: o.evalData } : {}),
      ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
      ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
      ...(o.learningRate !== undefined ? { learningRate: o.learningRate } : {}),
      ...(o.optimizer !== undefined ? { optimizer: o.optimizer as 'adam' } : {}),
      ...(o.shuffle === false ? { shuffle: false } : {}),
      ...(o.scale !== undefined ? { scale: o.scale } : {}),
      ...(o.to ? { to: o.to } : {}),
      ...(o.output ? { output: o.output } : {}),
      force: !!o.force,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.runs !== undefined ? { runs: o.runs } : {}),
      ...(o.warmup !== undefined ? { warmup: o.warmup } : {}),
      onProgress: (l, kind) => p.update(l, kind),
    });
  } finally {
    p.stop();
  }
  if (o.json) {
    printJson(r);
    return;
  }
  for (const rep of pruneReports(r)) await printReport(rep, o.markdown);
}

const kib = (b: number): string => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const pct = (x: number | undefined): string => (x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);
const int = (n: number): string => n.toLocaleString('en-US');
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function pruneReports(r: PruneResult): Report[] {
  const t = r.totals;
  const rows: string[][] = [
    ['sparsity of the pruned weights', '0.00%', pct(t.pruned.sparsity), `${int(t.pruned.params - t.pruned.nonZeros)} weights zeroed`],
    ['non-zero parameters (all)', int(t.all.params), int(t.all.nonZeros), `× ${(t.all.nonZeros / t.all.params).toFixed(3)}`],
    ['file size', kib(r.dense.bytes), kib(r.pruned.bytes), `× ${r.sizeRatio.toFixed(3)}`],
    ['gzip size', kib(r.dense.gzipBytes), kib(r.pruned.gzipBytes), `× ${r.gzipRatio.toFixed(3)}`],
    [`latency p50 (batch ${r.batch})`, `${r.dense.latencyP50Ms.toFixed(3)} ms`, `${r.pruned.latencyP50Ms.toFixed(3)} ms`, `× ${r.latencyRatio.toFixed(3)}`],
  ];
  if (r.dense.accuracy !== undefined && r.pruned.accuracy !== undefined) {
    rows.push(['top-1 accuracy', pct(r.dense.accuracy), pct(r.pruned.accuracy), `${(-(r.accuracyDrop ?? 0)).toFixed(2)} points`]);
  }
  if (r.finetune) rows.push(['fine-tuning wall time', '', secs(r.finetune.wallMs), `${r.finetune.steps} steps, ${r.finetune.maskUpdates.length} mask updates`]);
  const s = r.settings;
  const sched = s.schedule
    ? s.schedule.kind === 'polynomial'
      ? `polynomial ${s.schedule.initialSparsity} → ${s.schedule.finalSparsity}, steps ${s.schedule.beginStep}–${s.schedule.endStep}, power ${s.schedule.power}, every ${s.schedule.frequency} steps`
      : `constant ${s.schedule.targetSparsity}, from step ${s.schedule.beginStep}${s.schedule.endStep >= 0 ? ` to ${s.schedule.endStep}` : ''}, every ${s.schedule.frequency} steps`
    : r.mode === 'fine-tune' ? `${s.granularity} mask set at the first step` : `one-shot to ${s.finalSparsity}`;
  const how = r.mode === 'fine-tune'
    ? `fine-tuned ${s.epochs} epoch(s) × ${s.stepsPerEpoch} steps, batch ${s.batchSize}${s.shuffle === false ? ' (not shuffled)' : ''}, ${s.optimizer?.type} lr ${s.optimizer?.lr} on ${r.finetune?.backend}; schedule ${sched}`
    : `${sched} (no fine-tuning)`;
  const footer = [
    `wrote ${r.output} (${r.format}${r.files ? `, ${r.files.length} files` : ''}); granularity ${s.granularity}${s.global ? ', global ranking' : ''}`,
    how,
    `measured with ${r.engine}${r.evaluatedOn ? ` on ${r.evaluatedOn.source} (${r.evaluatedOn.samples} samples)` : ''}; dense = the input written as ${r.format}`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  const out: Report[] = [{ title: `mlopt prune — ${r.input}`, head: ['', 'dense', 'pruned', 'change'], rows, footer }];
  out.push({
    title: 'per layer (weights as written)',
    head: ['layer', 'op', 'shape', 'params', 'non-zeros', 'sparsity', ''],
    rows: [
      ...r.layers.map((l) => [l.node, l.op, `[${l.shape.join('×')}]`, int(l.params), int(l.nonZeros), pct(l.sparsity), l.pruned ? 'pruned' : `kept dense: ${l.keptDense}`]),
      ['pruned layers', '', '', int(t.pruned.params), int(t.pruned.nonZeros), pct(t.pruned.sparsity), ''],
      ['all parameters', '', '', int(t.all.params), int(t.all.nonZeros), pct(t.all.sparsity), 'biases, normalization and dense layers included'],
    ],
  });
  if (r.finetune?.epochs.length) {
    out.push({
      title: 'fine-tuning',
      head: ['epoch', 'step', 'sparsity', 'loss', 'eval accuracy', 'time'],
      rows: r.finetune.epochs.map((e) => [`${e.epoch}/${e.epochs}`, `${e.step}/${e.steps}`, e.sparsity.toFixed(3), e.loss.toFixed(4), pct(e.accuracy), `${e.seconds.toFixed(1)} s`]),
    });
  }
  return out;
}
