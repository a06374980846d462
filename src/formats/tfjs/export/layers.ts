/**
 * TF.js layers model (model.json `format: 'layers-model'`) from a graph built from a Keras
 * model: the Keras topology the importer kept (`graph.extra.keras`, converted to the Keras 2
 * style config tfjs-layers reads) and every Keras weight recomputed from the graph's current
 * initializers (so a pruned or fine-tuned graph writes its edited weights). Weights are named
 * and ordered as tensorflowjs_converter writes them: `<layer>/<weight>`, layers by name, each
 * layer's weights in Keras order.
 */
import type { Graph } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { MloptError } from '../../../util/errors.js';
import type { TfjsExportOptions, TfjsFile } from '../export.js';
import { encodeTfjsWeights } from '../weights.js';
import { toTfjsModelConfig } from './keras-config.js';
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

/** Layer options tfjs-layers 4.x cannot run (it would fail at load time): stop here instead. */
function refuseUnloadable(config: unknown): void {
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Json;
      const cfg = o.config as Json | undefined;
      if ((o.class_name === 'GRU' || o.class_name === 'GRUCell') && cfg?.reset_after === true) {
        throw new MloptError('UNSUPPORTED', `Keras layer "${String(cfg.name)}" is a GRU with reset_after=true (the Keras 2 default), which TF.js layers models cannot run`, 'export to ONNX or TFLite instead');
      }
      Object.values(o).forEach(walk);
    }
  };
  walk(config);
}

export function exportLayersModel(g: Graph, opts: TfjsExportOptions): TfjsFile[] {
  const k = g.extra?.keras as KerasExtraView | undefined;
  if (!k || !k.modelConfig || !Array.isArray(k.weights)) {
    throw new MloptError('UNSUPPORTED', 'a TF.js layers model can only be written from a Keras model (.h5 / .keras)', 'write a graph model instead (--tfjs-format graph)');
  }
  refuseUnloadable(k.modelConfig);
  const get = (name: string): Tensor | undefined => g.initializers.get(name);
  const weights = k.weights.map((w, i) => {
    let tensor: Tensor;
    try {
      tensor = w.fromIr(get);
    } catch (err) {
      throw new MloptError('UNSUPPORTED', `Keras weight "${w.name}" (layer "${w.layer}") cannot be recovered from the graph (${(err as Error).message}); the graph was changed beyond what a layers model can hold`, 'write a graph model instead (--tfjs-format graph)');
    }
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32' && tensor.dtype !== 'bool') {
      tensor = { dtype: 'float32', shape: tensor.shape, data: Float32Array.from(tensor.data as ArrayLike<number>) };
    }
    return { name: tfjsWeightName(w.name, w.layer), layer: w.layer, tensor, i };
  });
  // tensorflowjs_converter walks the HDF5 weight groups: layers sorted by name, weights in Keras order
  weights.sort((a, b) => (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : a.i - b.i));
  const { manifest, shards } = encodeTfjsWeights(
    weights.map(({ name, tensor }) => ({ name, tensor })),
    { ...(opts.quantize ? { quantize: opts.quantize } : {}), ...(opts.shardSizeBytes ? { shardSizeBytes: opts.shardSizeBytes } : {}) },
  );
  const kerasVersion = k.kerasVersion ?? g.metadata.producerVersion;
  const modelTopology: Json = {
    keras_version: kerasVersion ?? '2.15.0',
    backend: k.backend ?? 'tensorflow',
    model_config: toTfjsModelConfig(k.modelConfig, kerasVersion),
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
