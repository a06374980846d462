import { printJson } from './output.js';
import { formatBytes, formatCount, formatPct } from '../report/format.js';

export async function inspectCommand(path: string, opts: { json?: boolean; ir?: boolean }): Promise<void> {
  if (opts.ir) {
    const { loadModel } = await import('../formats/load.js');
    const { graphToJson } = await import('../ir/dump.js');
    printJson(graphToJson((await loadModel(path)).graph));
    return;
  }
  const { inspect } = await import('../api/inspect.js');
  const r = await inspect(path);
  if (opts.json) {
    printJson(r);
    return;
  }
  const shape = (s: (number | string)[] | null) => (s ? `[${s.map((d) => (d === '' ? '?' : d)).join(',')}]` : '(unknown rank)');
  const lines: string[] = [];
  const field = (k: string, v: string) => lines.push(`${k.padEnd(12)}${v}`);
  field('model', r.path);
  field('format', `${r.formatName}${r.formatVersion !== undefined ? ` (${r.format === 'tflite' ? 'schema' : 'IR'} version ${r.formatVersion})` : ''}`);
  field('opsets', r.opsets.length ? r.opsets.map((o) => `${o.domain} ${o.version}`).join(', ') : '(none declared)');
  if (r.producer) field('producer', r.producer);
  field('size', `${formatBytes(r.bytes)} (${formatBytes(r.gzipBytes)} gzipped)`);
  const dts = Object.entries(r.weightDTypes).map(([d, n]) => `${d} ${formatCount(n as number)}`).join(', ');
  field('parameters', `${formatCount(r.parameters)}${dts ? ` (${dts}; ${formatBytes(r.weightBytes)})` : ''}`);
  const qd = r.quantization ? Object.entries(r.quantization.tensors).map(([d, n]) => `${n} ${d}`).join(', ') : '';
  field('quantized', r.quantized ? `yes${qd ? ` (quantized tensors: ${qd}; ${r.quantization!.perChannel} per-channel)` : ''}` : 'no');
  field('sparsity', `${formatPct(r.sparsity, 1)} of float weights are zero`);
  const q = (v: (typeof r.inputs)[number]) => (v.quant ? `  scale ${v.quant.scale.length > 1 ? `[${v.quant.scale.length} values]` : Number(v.quant.scale[0]!.toPrecision(6))} zero point ${v.quant.zeroPoint.length > 1 ? `[${v.quant.zeroPoint.length} values]` : v.quant.zeroPoint[0]}` : '');
  lines.push('inputs');
  for (const v of r.inputs) lines.push(`  ${v.name}  ${v.dtype ?? '?'} ${shape(v.shape)}${q(v)}`);
  lines.push('outputs');
  for (const v of r.outputs) lines.push(`  ${v.name}  ${v.dtype ?? '?'} ${shape(v.shape)}${q(v)}`);
  if (r.storedOps) {
    const stored = Object.entries(r.storedOps).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    lines.push(`operators in the file (${stored.reduce((n, [, c]) => n + c, 0)})`);
    for (const [op, n] of stored) lines.push(`  ${op.padEnd(28)}${n}`);
  }
  const ops = Object.entries(r.ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  lines.push(r.storedOps ? `as IR ops (${r.nodeCount} nodes)` : `ops (${r.nodeCount} nodes)`);
  for (const [op, n] of ops) lines.push(`  ${op.padEnd(28)}${n}`);
  if (r.opaqueOps.length) lines.push(`ops outside mlopt's catalogue (kept verbatim for ONNX output): ${r.opaqueOps.join(', ')}`);
  const errors = r.issues.filter((i) => i.severity === 'error');
  const warnings = r.issues.filter((i) => i.severity !== 'error');
  field('validation', errors.length || warnings.length ? `${errors.length} error(s), ${warnings.length} warning(s)` : 'ok');
  for (const i of [...errors, ...warnings].slice(0, 10)) lines.push(`  ${i.severity}: ${i.message}`);
  const meta = Object.entries(r.metadata);
  if (meta.length) {
    lines.push('metadata');
    for (const [k, v] of meta) lines.push(`  ${k}: ${v.length > 80 ? `${v.slice(0, 77)}...` : v}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
