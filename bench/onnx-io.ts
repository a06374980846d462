/**
 * ONNX protobuf codec throughput on a synthetic ~100 MB model (a small MLP whose float32
 * initializers total ~100 MB of raw_data, plus a few hundred small tensors and nodes).
 * Times decode and encode separately (1 warm-up + 5 runs each, median), read+write
 * combined, and decoding the file from disk (readFileSync + decode).
 * Writes bench/results/onnx-io.json.  Run: node --import tsx bench/onnx-io.ts
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel, encodeModel } from '../src/formats/onnx/proto/index.js';
import { synthesize } from './synth-onnx.js';
import { importOnnxBytes } from '../src/formats/onnx/import.js';
import { exportOnnxBytes } from '../src/formats/onnx/export.js';

const RUNS = 5;
const MB = 1e6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown): number[] {
  fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const model = synthesize();
const bytes = encodeModel(model);
const size = bytes.length;
let sink = 0;
const dec = time(() => { sink += decodeModel(bytes).graph!.initializer!.length; });
const decoded = decodeModel(bytes);
const enc = time(() => { sink += encodeModel(decoded).length; });
const rw = time(() => { sink += encodeModel(decodeModel(bytes)).length; });

const file = join(tmpdir(), `mlopt-onnx-io-${process.pid}.onnx`);
writeFileSync(file, bytes);
const disk = time(() => { sink += decodeModel(readFileSync(file)).graph!.node!.length; });
// the whole mlopt path: file → IR → file (what `mlopt convert X.onnx --to onnx` does)
const out = `${file}.out`;
const irRw = time(() => { writeFileSync(out, exportOnnxBytes(importOnnxBytes(readFileSync(file)))); });
rmSync(file, { force: true });
rmSync(out, { force: true });

const row = (op: string, ms: number[]) => ({ op, medianMs: +median(ms).toFixed(2), mbPerS: +(size / MB / (median(ms) / 1000)).toFixed(0), runsMs: ms.map((x) => +x.toFixed(2)) });
const rows = [row('decode', dec), row('encode', enc), row('read+write (decode+encode)', rw), row('readFileSync+decode', disk), row('file → IR → file (import+export+I/O)', irRw)];
console.log(`ONNX protobuf codec, synthetic model ${(size / MB).toFixed(1)} MB, ${decoded.graph!.initializer!.length} initializers, ` +
  `${decoded.graph!.node!.length} nodes; median of ${RUNS} runs after 1 warm-up (node ${process.version})`);
console.log(['op'.padEnd(38), 'median ms'.padStart(10), 'MB/s'.padStart(8)].join(' '));
for (const r of rows) console.log([r.op.padEnd(38), r.medianMs.toFixed(2).padStart(10), String(r.mbPerS).padStart(8)].join(' '));
const ok = rows[2]!.mbPerS >= 200 && rows[4]!.mbPerS >= 200;
console.log(`read+write throughput: codec ${rows[2]!.mbPerS} MB/s, file → IR → file ${rows[4]!.mbPerS} MB/s: ${ok ? 'meets' : 'BELOW'} the 200 MB/s target`);

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/onnx-io.json', JSON.stringify({
  bench: 'onnx-io', date: new Date().toISOString(), node: process.version, modelBytes: size, runs: RUNS,
  results: rows, targetMbPerS: 200, meetsTarget: ok, checksum: sink,
}, null, 2) + '\n');
