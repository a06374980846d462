import { basename, extname, resolve } from 'node:path';
import type { ModelFormat } from '../formats/detect.js';
import { FORMAT_NAMES } from '../formats/detect.js';
import { type LoadedModel, WRITABLE, loadModel } from '../formats/load.js';
import { type TfjsQuantizeDtype, type WriteOptions, parseByteSize, writeModel } from '../formats/write.js';
import { MloptError } from '../util/errors.js';

export const TARGETS = ['onnx', 'tflite', 'tfjs'] as const;
export type Target = (typeof TARGETS)[number];

export interface ConvertOptions {
  to?: string;
  output?: string;
  force?: boolean;
  /** --to tfjs: graph or layers model (default: layers for Keras sources, else graph) */
  tfjsFormat?: string;
  /** --to tfjs: store weights as float16, or uint8 / uint16 affine-quantized (as tensorflowjs_converter) */
  quantize?: string;
  /** --to tfjs: which weights to quantize, wildcards on weight names (default: all float weights) */
  quantizeWeights?: string[];
  /** --to tfjs: shard size, e.g. 4194304 or 4MB (default 4 MB) */
  weightShardSize?: string | number;
}

export interface ConvertResult {
  input: string;
  inputFormat: ModelFormat;
  output: string;
  format: ModelFormat;
  bytes: number;
  inputBytes: number;
  model: LoadedModel;
  /** files written, relative to `output`, for folder formats (TF.js) */
  files?: string[];
  /** TF.js weight storage, when quantized */
  quantized?: TfjsQuantizeDtype;
  /** decisions the writer made that the user should know */
  notes: string[];
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
  const tfjs = tfjsOptions(format, opts);
  const output = opts.output ?? defaultOutput(input, 'converted', format);
  const written = await writeModel(model.graph, format, output, { force: opts.force, inputs: [resolve(input), resolve(model.file)], tfjs });
  return { input, inputFormat: model.format, output, format, bytes: written.bytes, inputBytes: model.fileSize, model, files: written.files, quantized: tfjs?.quantize?.dtype, notes: written.notes };
}

const TFJS_QUANTIZE = ['float16', 'uint8', 'uint16'] as const;

/** Check the TF.js-only options: they need --to tfjs, and valid values. */
function tfjsOptions(format: ModelFormat, opts: ConvertOptions): WriteOptions['tfjs'] {
  const given = [
    ['--tfjs-format', opts.tfjsFormat],
    ['--quantize', opts.quantize],
    ['--quantize-weights', opts.quantizeWeights],
    ['--weight-shard-size', opts.weightShardSize],
  ].filter(([, v]) => v !== undefined);
  if (format !== 'tfjs') {
    if (given.length) throw new MloptError('USAGE', `${given.map(([k]) => k).join(', ')} go${given.length === 1 ? 'es' : ''} with --to tfjs`);
    return undefined;
  }
  if (opts.tfjsFormat !== undefined && opts.tfjsFormat !== 'graph' && opts.tfjsFormat !== 'layers') {
    throw new MloptError('USAGE', `--tfjs-format must be graph or layers (got "${opts.tfjsFormat}")`);
  }
  if (opts.quantize !== undefined && !(TFJS_QUANTIZE as readonly string[]).includes(opts.quantize)) {
    throw new MloptError('USAGE', `--quantize must be one of ${TFJS_QUANTIZE.join(', ')} (got "${opts.quantize}")`);
  }
  if (opts.quantizeWeights !== undefined && opts.quantize === undefined) throw new MloptError('USAGE', '--quantize-weights needs --quantize float16|uint8|uint16');
  let shardSizeBytes: number | undefined;
  if (opts.weightShardSize !== undefined) {
    shardSizeBytes = typeof opts.weightShardSize === 'number' ? opts.weightShardSize : parseByteSize(opts.weightShardSize);
    if (!shardSizeBytes || shardSizeBytes < 4) throw new MloptError('USAGE', `--weight-shard-size must be a size such as 4194304, 4MB or 512KB (got "${opts.weightShardSize}")`);
  }
  const patterns = opts.quantizeWeights?.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
  return {
    format: opts.tfjsFormat as 'graph' | 'layers' | undefined,
    quantize: opts.quantize ? { dtype: opts.quantize as TfjsQuantizeDtype, patterns: patterns?.length ? patterns : undefined } : undefined,
    shardSizeBytes,
  };
}
