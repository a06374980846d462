/**
 * CLI start-up and inspect speed: `mlopt --help` (target < 0.3 s) and `mlopt inspect` on a
 * 100 MB ONNX file (target < 2 s), each timed as a whole process, median of N.
 *   npm run bench:cli
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../src/formats/onnx/proto/index.js';
import { percentile } from '../src/bench/stats.js';
import { renderTable } from '../src/report/table.js';
import { synthesize } from './synth-onnx.js';

const file = join(tmpdir(), `mlopt-cli-speed-${process.pid}.onnx`);
const bytes = encodeModel(synthesize());
writeFileSync(file, bytes);

function timeCmd(args: string[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['bin/mlopt.js', ...args], { encoding: 'utf8' });
    out.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`mlopt ${args.join(' ')} failed: ${r.stderr}`);
  }
  return out;
}

const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const help = timeCmd(['--help'], 10);
const version = timeCmd(['--version'], 10);
const inspect = timeCmd(['inspect', file], 5);
const inspectJson = timeCmd(['inspect', file, '--json'], 5);
rmSync(file, { force: true });
const rows = [
  ['mlopt --help', '10', med(help).toFixed(3), '0.3', med(help) < 0.3 ? 'PASS' : 'FAIL'],
  ['mlopt --version', '10', med(version).toFixed(3), '0.3', med(version) < 0.3 ? 'PASS' : 'FAIL'],
  [`mlopt inspect (${(bytes.length / 1e6).toFixed(0)} MB ONNX)`, '5', med(inspect).toFixed(3), '2', med(inspect) < 2 ? 'PASS' : 'FAIL'],
  [`mlopt inspect --json (${(bytes.length / 1e6).toFixed(0)} MB ONNX)`, '5', med(inspectJson).toFixed(3), '2', med(inspectJson) < 2 ? 'PASS' : 'FAIL'],
];
console.log(renderTable({ title: `whole-process wall time, node ${process.version}`, head: ['command', 'runs', 'median s', 'target s', ''], rows }));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/cli-speed.json', JSON.stringify({ help, version, inspect, inspectJson, modelBytes: bytes.length }, null, 2));
