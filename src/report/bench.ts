import { type BenchEntry, type BenchResult, isBenchFailure } from '../bench/run.js';
import { formatBytes, formatCount, formatMs, formatPct, formatSci } from './format.js';
import type { Report } from './table.js';

export function benchReport(results: BenchEntry[], opts: { runs: number; warmup: number; data?: string }): Report {
  const measured = results.filter((r): r is BenchResult => !isBenchFailure(r));
  const withData = measured.some((r) => r.accuracy !== undefined || r.agreement !== undefined || r.samples !== undefined);
  const head = ['model', 'format', 'runtime', 'size', 'gzip', 'params', 'sparsity', 'batch', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'samples/s'];
  if (withData) head.push('top-1', 'agree', 'max |diff|');
  const rows = results.map((r) => {
    if (isBenchFailure(r)) {
      // the reason is in the notes below the table
      return [r.model, r.format, r.engine ?? '-', ...head.slice(3).map((_, i) => (i === 5 ? 'not run' : '-'))];
    }
    const row = [
      r.model, r.format, r.backend === r.device ? `${r.engine} ${r.backend}` : `${r.engine} ${r.backend}/${r.device}`, formatBytes(r.bytes), formatBytes(r.gzipBytes),
      r.parameters === undefined ? '-' : formatCount(r.parameters), formatPct(r.sparsity, 1), String(r.batch), formatMs(r.latency.p50Ms),
      formatMs(r.latency.p90Ms), formatMs(r.latency.p99Ms), formatMs(r.latency.meanMs), r.throughput.toFixed(1),
    ];
    if (withData) row.push(formatPct(r.accuracy), r.agreement ? formatPct(r.agreement.top1) : '-', r.agreement ? formatSci(r.agreement.maxAbsDiff) : '-');
    return row;
  });
  const reference = measured.find((r) => r.samples !== undefined)?.model;
  const footer = [`${opts.runs} timed runs after ${opts.warmup} warm-up runs per model${opts.data ? `; data: ${opts.data}` : '; random inputs'}${withData && measured.length > 1 && reference ? `; agreement is with ${reference}` : ''}`];
  for (const r of results) {
    if (isBenchFailure(r)) footer.push(`note (${r.model}): not run: ${r.error.message}`);
    else for (const n of r.notes) footer.push(`note (${r.model}): ${n}`);
  }
  return { head, rows, footer };
}
