import type { LoadedModel } from '../formats/load.js';
import { feedInputs } from '../ir/graph.js';
import { MloptError } from '../util/errors.js';
import type { Runner, RunnerOptions } from './runner.js';

export type { Runner, RunnerOptions, Device, Feeds } from './runner.js';

/** Open the runtime that consumes `model`'s artifact: onnxruntime for ONNX. */
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
    default:
      throw new MloptError('UNSUPPORTED', `${model.path}: no runtime for ${model.format} models in this version`);
  }
}
