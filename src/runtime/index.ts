import { readFileSync } from 'node:fs';
import type { ModelFormat } from '../formats/detect.js';
import type { LoadedModel } from '../formats/load.js';
import { feedInputs } from '../ir/graph.js';
import { MloptError } from '../util/errors.js';
import type { Runner, RunnerOptions } from './runner.js';

export type { Runner, RunnerOptions, Device, Feeds } from './runner.js';

/** Open the runtime that consumes `model`'s artifact: onnxruntime for ONNX, TF.js for tfjs, LiteRT.js for TFLite. */
export async function createRunner(model: LoadedModel, opts: RunnerOptions = {}): Promise<Runner> {
  const g = model.graph;
  switch (model.format) {
    case 'onnx': {
      const { createOnnxRunner } = await import('./onnxruntime.js');
      return createOnnxRunner(model.bytes ?? model.file, feedInputs(g), g.outputs, opts);
    }
    case 'tfjs': {
      const { createTfjsRunner } = await import('./tfjs.js');
      return createTfjsRunner(model.file, feedInputs(g), g.outputs, opts);
    }
    case 'tflite':
      return createFileRunner(model.format, model.bytes ?? readFileSync(model.file), { ...opts, source: model.path });
    case 'keras':
    case 'keras-h5': {
      // no JS engine reads Keras files (tfjs cannot load .keras / Keras 2 .h5): run the model's
      // IR, exported to ONNX, in onnxruntime — the backend column says so
      const { createOnnxRunner } = await import('./onnxruntime.js');
      const { exportOnnxBytes } = await import('../formats/onnx/export.js');
      const r = await createOnnxRunner(exportOnnxBytes(g), feedInputs(g), g.outputs, opts);
      return Object.assign(Object.create(Object.getPrototypeOf(r) as object) as Runner, r, { backend: `${r.backend}, via ONNX export` });
    }
    default:
      throw new MloptError('UNSUPPORTED', `${model.path}: no runtime for ${model.format} models in this version`);
  }
}

/** Formats whose engine reads the model file itself and describes its own inputs and outputs,
 *  so that they can be run (and benchmarked) without loading them into the IR. */
export function runsFromFile(format: ModelFormat): boolean {
  return format === 'tflite';
}

/** Open the runtime for a model file's bytes, without the IR (formats for which `runsFromFile`). */
export async function createFileRunner(format: ModelFormat, bytes: Uint8Array, opts: RunnerOptions & { source?: string } = {}): Promise<Runner> {
  switch (format) {
    case 'tflite': {
      const { createLiteRtRunner } = await import('./litert.js');
      return createLiteRtRunner(bytes, opts);
    }
    default:
      throw new MloptError('UNSUPPORTED', `${opts.source ?? 'model'}: ${format} models cannot be run without loading them into the IR`);
  }
}
