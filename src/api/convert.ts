import { basename, extname, resolve } from 'node:path';
import type { ModelFormat } from '../formats/detect.js';
import { FORMAT_NAMES } from '../formats/detect.js';
import { type LoadedModel, WRITABLE, loadModel, serializeModel } from '../formats/load.js';
import { MloptError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

export const TARGETS = ['onnx', 'tflite', 'tfjs'] as const;
export type Target = (typeof TARGETS)[number];

export interface ConvertOptions {
  to?: string;
  output?: string;
  force?: boolean;
}

export interface ConvertResult {
  input: string;
  inputFormat: ModelFormat;
  output: string;
  format: ModelFormat;
  bytes: number;
  inputBytes: number;
  model: LoadedModel;
}

/** Decide the output format: --to, else the input's format when mlopt can write it. */
export function resolveTarget(inputFormat: ModelFormat, to: string | undefined): ModelFormat {
  if (to !== undefined) {
    if (!(TARGETS as readonly string[]).includes(to)) throw new MloptError('USAGE', `--to must be one of ${TARGETS.join(', ')} (got "${to}")`);
    if (!WRITABLE[to as ModelFormat]) {
      throw new MloptError('UNSUPPORTED', `writing ${FORMAT_NAMES[to as ModelFormat]} is not supported by this version of mlopt`, `formats it can write: ${Object.keys(WRITABLE).join(', ')}`);
    }
    return to as ModelFormat;
  }
  if (WRITABLE[inputFormat]) return inputFormat;
  throw new MloptError('USAGE', `mlopt cannot write ${FORMAT_NAMES[inputFormat]}; choose the output format with --to (${Object.keys(WRITABLE).join(', ')})`);
}

/** `<input-stem>.<step><ext>` in the current directory. */
export function defaultOutput(input: string, step: string, format: ModelFormat): string {
  const base = basename(input.replace(/[/\\]+$/, ''));
  const stem = base.slice(0, base.length - extname(base).length) || base;
  return `${stem}.${step}${WRITABLE[format] ?? ''}`;
}

export async function convert(input: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const model = await loadModel(input);
  const format = resolveTarget(model.format, opts.to);
  const output = opts.output ?? defaultOutput(input, 'converted', format);
  const bytes = await serializeModel(model.graph, format);
  writeFileAtomic(output, bytes, { force: opts.force, inputs: [resolve(input), resolve(model.file)] });
  return { input, inputFormat: model.format, output, format, bytes: bytes.byteLength, inputBytes: model.fileSize, model };
}
