/**
 * TF.js layers model (model.json `format: 'layers-model'`) from a graph built from a Keras
 * model: the Keras topology the importer kept (`graph.extra.keras`, converted to the Keras 2
 * style config tfjs-layers reads) and every Keras weight recomputed from the graph's current
 * initializers (so a pruned or fine-tuned graph writes its edited weights). Weights are named
 * and ordered as tensorflowjs_converter writes them: `<layer>/<weight>`, layers by name, each
 * layer's weights in Keras order. A model tfjs-layers could not load (a layer class it does not
 * register, an option it cannot run: layers-support.ts) is refused before anything is written.
 */
import type { Graph } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { MloptError } from '../../../util/errors.js';
import type { TfjsExportOptions, TfjsFile } from '../export.js';
import { encodeTfjsWeights } from '../weights.js';
import { asTfjsTensor } from './graphdef.js';
import { isKeras3Config, toTfjsModelConfig } from './keras-config.js';
import { describeProblems, layersModelProblems } from './layers-support.js';
import { mloptVersion } from './version.js';

type Json = Record<string, unknown>;

/** tfjs-layers finds a weight by `<layer>/<weight>` (it drops an RNN cell scope in between):
 *  the stored name with its layer part set to the config's layer name (weights-only files
 *  saved in another session name layers differently, e.g. `lstm_9/lstm_cell_9/kernel` for `lstm_3`). */
function tfjsWeightName(stored: string, layer: string): string {
  const parts = stored.replace(/:\d+$/, '').split('/');
  if (parts.length < 2) return `${layer}/${parts[0]}`;
  parts[0] = layer;
  return parts.join('/');
}

/** What the layers writer reads of `graph.extra.keras` (see src/formats/keras/types.ts). */
interface KerasExtraView {
  modelConfig: Json;
  kerasVersion?: string;
  backend?: string;
  trainingConfig?: Json;
  weights: Array<{ name: string; layer: string; fromIr(get: (initializer: string) => Tensor | undefined): Tensor }>;
}

/** The model config as tfjs-layers will read it, refused (before anything is written) when
 *  tfjs-layers could not load or run one of its layers. */
export function tfjsLayersConfig(k: { modelConfig: Json; kerasVersion?: string }, fallbackVersion?: string): Json {
  const version = k.kerasVersion ?? fallbackVersion;
  const config = toTfjsModelConfig(k.modelConfig, version);
  const problems = layersModelProblems(config, { keras3: isKeras3Config(k.modelConfig, version) });
  if (problems.length) throw new MloptError('UNSUPPORTED', describeProblems(problems), 'use --tfjs-format graph (a graph model runs any layer mlopt maps)');
  return config;
}

export function exportLayersModel(g: Graph, opts: TfjsExportOptions): TfjsFile[] {
  const k = g.extra?.keras as KerasExtraView | undefined;
  if (!k || !k.modelConfig || !Array.isArray(k.weights)) {
    throw new MloptError('UNSUPPORTED', 'a TF.js layers model can only be written from a Keras model (.h5 / .keras)', 'write a graph model instead (--tfjs-format graph)');
  }
  const kerasVersion = k.kerasVersion ?? g.metadata.producerVersion;
  const modelConfig = tfjsLayersConfig(k, kerasVersion);
  const get = (name: string): Tensor | undefined => g.initializers.get(name);
  const weights = k.weights.map((w, i) => {
    let tensor: Tensor;
    try {
      tensor = w.fromIr(get);
    } catch (err) {
      throw new MloptError('UNSUPPORTED', `Keras weight "${w.name}" (layer "${w.layer}") cannot be recovered from the graph (${(err as Error).message}); the graph was changed beyond what a layers model can hold`, 'write a graph model instead (--tfjs-format graph)');
    }
    // as tensorflowjs_converter stores them: int64 (a Normalization count...) as int32, float64 as float32
    tensor = asTfjsTensor(tensor);
    return { name: tfjsWeightName(w.name, w.layer), layer: w.layer, tensor, i };
  });
  // tensorflowjs_converter walks the HDF5 weight groups: layers sorted by name, weights in Keras order
  weights.sort((a, b) => (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : a.i - b.i));
  const { manifest, shards } = encodeTfjsWeights(
    weights.map(({ name, tensor }) => ({ name, tensor })),
    { ...(opts.quantize ? { quantize: opts.quantize } : {}), ...(opts.shardSizeBytes ? { shardSizeBytes: opts.shardSizeBytes } : {}) },
  );
  const modelTopology: Json = {
    keras_version: kerasVersion ?? '2.15.0',
    backend: k.backend ?? 'tensorflow',
    model_config: modelConfig,
    ...(k.trainingConfig ? { training_config: k.trainingConfig } : {}),
  };
  const modelJson = {
    format: 'layers-model',
    generatedBy: `keras v${kerasVersion ?? 'unknown'}`,
    convertedBy: `mlopt ${mloptVersion()}`,
    modelTopology,
    weightsManifest: manifest,
  };
  return [{ path: 'model.json', bytes: Buffer.from(JSON.stringify(modelJson), 'utf8') }, ...shards];
}
