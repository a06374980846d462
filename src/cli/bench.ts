import { MloptError } from '../util/errors.js';
import { printJson, printReport, progress } from './output.js';

export interface BenchCliOptions {
  data?: string;
  batch: number;
  runs: number;
  warmup: number;
  threads?: number;
  device: string;
  scale?: number;
  json?: boolean;
  markdown?: boolean;
}

export async function benchCommand(models: string[], opts: BenchCliOptions): Promise<void> {
  if (opts.json && opts.markdown) throw new MloptError('USAGE', '--json and --markdown cannot be used together');
  const { bench } = await import('../api/bench.js');
  const p = await progress(opts.json, 'benchmarking');
  let results;
  try {
    results = await bench(models, { ...opts, device: opts.device, onProgress: (m) => p.update(m) });
  } finally {
    p.stop();
  }
  if (opts.json) {
    printJson({ runs: opts.runs, warmup: opts.warmup, data: opts.data ?? null, results });
    return;
  }
  const { benchReport } = await import('../report/bench.js');
  await printReport(benchReport(results, opts), opts.markdown);
}
