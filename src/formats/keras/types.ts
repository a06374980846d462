/**
 * Types shared by the Keras readers (.h5, .keras, weights-only .h5 + JSON, tfjs layers models)
 * and the graph builder.
 */
import type { Tensor } from '../../ir/tensor.js';

export type KerasJson = Record<string, unknown>;

/** One enclosing model of a nested layer (outermost first). */
export interface KerasScope {
  name: string;
  className: string;
}

/**
 * Weights of one Keras layer, in the order of Keras `layer.weights` (e.g. Dense: kernel, bias;
 * BatchNormalization: gamma, beta, moving_mean, moving_variance — only those the config
 * enables). `path` lists the models enclosing a layer of a nested model (empty at top level);
 * a source that stores weights flat by layer name may ignore it.
 */
export interface KerasWeightSource {
  layer(name: string, className: string, path?: readonly KerasScope[]): Tensor[];
  /** Optional: the stored names of the same weights (e.g. 'conv1/kernel', no ':0'). When
   *  absent the builder names them `<layer>/<weight>` as Keras does. */
  names?(name: string, className: string, path?: readonly KerasScope[]): string[] | undefined;
}

/** One Keras weight, recoverable in Keras layout from the graph's current initializers. */
export interface KerasWeightInfo {
  /** tfjs/Keras weight name, e.g. 'conv1/kernel', 'bn1/moving_mean' (no ':0') */
  name: string;
  /** Keras layer name */
  layer: string;
  /** The weight in Keras layout, recomputed from the graph's initializers (so an edited
   *  graph gives its edited weights). Throws when the initializer it needs is gone. */
  fromIr(get: (initializer: string) => Tensor | undefined): Tensor;
}

/** `graph.extra.keras` of a graph built from a Keras model. */
export interface KerasExtra {
  /** the Keras model config (class_name + config), as read */
  modelConfig: KerasJson;
  kerasVersion?: string;
  backend?: string;
  weights: KerasWeightInfo[];
}
