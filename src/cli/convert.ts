import { rmSync } from 'node:fs';
import { MloptError, errorText } from '../util/errors.js';
import { printJson } from './output.js';

export async function convertCommand(model: string, opts: { to?: string; output?: string; force?: boolean; check: boolean; json?: boolean }): Promise<void> {
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
      const bad = check.outputs.filter((o) => !o.bitwiseEqual && !(o.maxAbsDiff <= 1e-5));
      if (bad.length) {
        rmSync(res.output, { force: true });
        throw new MloptError('RUNTIME', `the converted model's output "${bad[0]!.name}" differs from the input model's (max |diff| ${bad[0]!.maxAbsDiff}); ${res.output} was not kept`, 'please report this with the model; --no-check skips the check');
      }
    }
  }
  if (opts.json) {
    printJson({ input: res.input, inputFormat: res.inputFormat, output: res.output, format: res.format, inputBytes: res.inputBytes, bytes: res.bytes, check: check ?? null });
    return;
  }
  const lines = [`wrote ${res.output} (${res.format}, ${res.bytes} bytes; input ${res.inputBytes} bytes)`];
  if (check && 'outputs' in check) {
    for (const o of check.outputs) {
      lines.push(`  output ${o.name} [${o.shape.join(',')}]: ${o.bitwiseEqual ? 'bitwise equal to the input model' : `max |diff| ${o.maxAbsDiff}`}`);
    }
  } else if (check) lines.push(`  check skipped: ${check.skipped}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
