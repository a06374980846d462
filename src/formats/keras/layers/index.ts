/**
 * The Keras layer table: class name → handler. Add a layer by adding a handler to one of the
 * category files; nothing else changes.
 */
import type { LayerHandler } from '../context.js';
import type { KerasJson } from '../types.js';
import { ACTIVATION_LAYERS } from './activation.js';
import { CONV_LAYERS } from './conv.js';
import { CORE_LAYERS } from './core.js';
import { MERGE_LAYERS } from './merge.js';
import { NORMALIZATION_LAYERS } from './normalization.js';
import { POOLING_LAYERS } from './pooling.js';
import { RECURRENT_LAYERS } from './recurrent.js';
import { RESHAPING_LAYERS } from './reshaping.js';

export const KERAS_LAYERS: Readonly<Record<string, LayerHandler>> = {
  ...CORE_LAYERS,
  ...ACTIVATION_LAYERS,
  ...CONV_LAYERS,
  ...POOLING_LAYERS,
  ...NORMALIZATION_LAYERS,
  ...RESHAPING_LAYERS,
  ...MERGE_LAYERS,
  ...RECURRENT_LAYERS,
};

/** Layer classes mlopt maps (InputLayer and nested Sequential / Functional models included). */
export function supportedLayerClasses(): string[] {
  return ['InputLayer', 'Sequential', 'Functional', 'Model', ...Object.keys(KERAS_LAYERS)].sort();
}

/** Keras 3 may prefix a class registered in a package ('keras_hub>Foo'); built-ins have no prefix. */
export function handlerOf(className: string): LayerHandler | undefined {
  return Object.hasOwn(KERAS_LAYERS, className) ? KERAS_LAYERS[className] : undefined;
}

/** Whether a layer of this class and config has weights (unknown classes: assumed not). */
export function layerHasWeights(className: string, config: KerasJson): boolean {
  const w = handlerOf(className)?.weighted;
  return typeof w === 'function' ? w(config) : w === true;
}
