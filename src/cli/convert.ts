import { rmSync } from 'node:fs';
import { MloptError, errorText } from '../util/errors.js';
import { printJson } from './output.js';

export interface ConvertCommandOptions {
  to?: string;
  output?: string;
  force?: boolean;
  check: boolean;
  json?: boolean;
  tfjsFormat?: string;
  quantize?: string;
  quantizeWeights?: string[];
  weightShardSize?: string;
}

/** Largest output difference accepted by the after-convert check: TF.js kernels sum in another
 *  order than onnxruntime's, so they get a little more room. */
const TOLERANCE: Partial<Record<string, number>> = { tfjs: 1e-4 };

export async function convertCommand(model: string, opts: ConvertCommandOptions): Promise<void> {
  const { convert } = await import('../api/convert.js');
  const res = await convert(model, opts);
  let check: { outputs: import('../api/compare.js').OutputComparison[] } | { skipped: string } | undefined;
  if (opts.check) {
    const { compareModels } = await import('../api/compare.js');
    try {
      check = { outputs: await compareModels(res.model, res.output) };
    } catch (err) {
      check = { skipped: `could not run both models on random input: ${errorText(err)}` };
    }
    if ('outputs' in check) {
      // quantized TF.js weights change the outputs on purpose: report the difference, keep the model
      const tol = res.quantized ? Infinity : (TOLERANCE[res.format] ?? 1e-5);
      const bad = check.outputs.filter((o) => !o.bitwiseEqual && !(o.maxAbsDiff <= tol));
      if (bad.length) {
        rmSync(res.output, { force: true, recursive: true });
        throw new MloptError('RUNTIME', `the converted model's output "${bad[0]!.name}" differs from the input model's (max |diff| ${bad[0]!.maxAbsDiff}); ${res.output} was not kept`, 'please report this with the model; --no-check skips the check');
      }
    }
  }
  if (opts.json) {
    printJson({ input: res.input, inputFormat: res.inputFormat, output: res.output, format: res.format, inputBytes: res.inputBytes, bytes: res.bytes, files: res.files ?? null, quantized: res.quantized ?? null, notes: res.notes, check: check ?? null });
    return;
  }
  const what = res.files ? `${res.format} folder: ${res.files.join(', ')}; ${res.bytes} bytes in all` : `${res.format}, ${res.bytes} bytes`;
  const lines = [`wrote ${res.output} (${what}; input ${res.inputBytes} bytes)`, ...res.notes.map((n) => `  note: ${n}`)];
  if (check && 'outputs' in check) {
    for (const o of check.outputs) {
      lines.push(`  output ${o.name} [${o.shape.join(',')}]: ${o.bitwiseEqual ? 'bitwise equal to the input model' : `max |diff| ${o.maxAbsDiff}`}`);
    }
  } else if (check) lines.push(`  check skipped: ${check.skipped}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
