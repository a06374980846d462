/**
 * Keras model configs → a uniform list of layers and calls. Accepts every form mlopt meets:
 * Keras 3 (`inbound_nodes: [{args, kwargs}]` with `__keras_tensor__` / `keras_history`), Keras 2
 * and tfjs-layers (`inbound_nodes: [[[layer, node, tensor, kwargs], ...], ...]`), and old
 * Sequential configs (a bare list of layers, `batch_input_shape` on the first layer).
 */
import { MloptError } from '../../util/errors.js';
import type { KerasJson } from './types.js';

/** The `tensor`-th output of the `node`-th call of layer `layer`. */
export interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

export interface LayerSpec {
  className: string;
  name: string;
  config: KerasJson;
  /** one entry per call of the layer in this model: the tensors it is called on */
  calls: TensorRef[][];
  /** the raw layer JSON (a nested model's own config lives here) */
  json: KerasJson;
  /** call k is referred to as node k + nodeOffset (Keras 2 counts a nested model's own first node) */
  nodeOffset?: number;
}

export interface ModelSpec {
  name: string;
  layers: LayerSpec[];
  inputs: TensorRef[];
  outputs: TensorRef[];
}

export const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export function isModelClass(className: string): boolean {
  return MODEL_CLASSES.has(className);
}

function layerName(l: KerasJson): string {
  const c = l.config as KerasJson | undefined;
  return ((c?.name ?? l.name) as string | undefined) ?? '';
}

/** Keras 2 `[name, node, tensor, kwargs]` entries or Keras 3 `__keras_tensor__` objects, in order. */
function refsOf(x: unknown, out: TensorRef[] = []): TensorRef[] {
  if (Array.isArray(x)) {
    if (typeof x[0] === 'string' && typeof x[1] === 'number') {
      out.push({ layer: x[0], node: x[1], tensor: (x[2] as number | undefined) ?? 0 });
      // tf-keras keeps a recurrent layer's initial_state in the call kwargs
      const state = (x[3] as KerasJson | undefined)?.initial_state;
      if (state) refsOf(state, out);
    }
    else for (const e of x) refsOf(e, out);
  } else if (x && typeof x === 'object') {
    const o = x as KerasJson;
    const hist = (o.config as KerasJson | undefined)?.keras_history as unknown[] | undefined;
    if (o.class_name === '__keras_tensor__' && hist) out.push({ layer: hist[0] as string, node: (hist[1] as number) ?? 0, tensor: (hist[2] as number) ?? 0 });
    else if (o.class_name === '__keras_tensor__') throw new Error('a Keras tensor without keras_history');
    else for (const v of Object.values(o)) refsOf(v, out);
  }
  return out;
}

function callsOf(l: KerasJson): TensorRef[][] {
  const nodes = l.inbound_nodes as unknown[] | undefined;
  if (!Array.isArray(nodes)) return [];
  // Keras 3: {args, kwargs}; args carry the layer's inputs, kwargs options (training, mask...)
  // except a recurrent layer's initial_state, which follows the inputs as in Keras 2
  return nodes.map((n) => {
    if (!n || typeof n !== 'object' || Array.isArray(n)) return refsOf(n);
    const o = n as KerasJson;
    return refsOf([o.args, (o.kwargs as KerasJson | undefined)?.initial_state ?? []]);
  });
}

/** input_layers / output_layers: [[name, node, tensor], ...] or a single flat [name, node, tensor]. */
function endpoints(x: unknown): TensorRef[] {
  if (!Array.isArray(x)) return [];
  return refsOf(typeof x[0] === 'string' ? [x] : x);
}

/** The static batch shape of an InputLayer config (Keras 2: batch_input_shape, Keras 3: batch_shape). */
export function inputShapeOf(config: KerasJson): Array<number | null> | undefined {
  const s = (config.batch_input_shape ?? config.batch_shape) as Array<number | null> | undefined;
  if (Array.isArray(s)) return s;
  const shape = config.shape as Array<number | null> | undefined; // Keras 3 Input(shape=...) without batch
  return Array.isArray(shape) ? [null, ...shape] : undefined;
}

/**
 * Parse a model config ({class_name, config}). A Sequential model becomes a chain: an InputLayer
 * (given or made from the first layer's batch_input_shape) and one call per layer.
 */
export function parseModel(modelConfig: KerasJson, source: string, nested = false): ModelSpec {
  const cls = modelConfig.class_name as string;
  const cfg = (modelConfig.config ?? {}) as KerasJson | KerasJson[];
  if (!isModelClass(cls)) {
    throw new MloptError('UNSUPPORTED', `${source}: a Keras ${cls} model is not supported (Sequential and Functional models are)`, 'subclassed models have no config to read: save a Functional or Sequential model, or convert through ONNX');
  }
  const raw = (Array.isArray(cfg) ? cfg : (cfg.layers as KerasJson[] | undefined)) ?? [];
  const name = (Array.isArray(cfg) ? undefined : (cfg.name as string | undefined)) ?? (modelConfig.name as string | undefined) ?? 'model';
  let layers: LayerSpec[];
  try {
    layers = raw.map((l) => ({ className: l.class_name as string, name: layerName(l), config: (l.config ?? {}) as KerasJson, calls: callsOf(l), json: l }));
  } catch (e) {
    throw new MloptError('CORRUPT_MODEL', `${source}: the Keras model config is malformed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (cls !== 'Sequential') {
    const c = cfg as KerasJson;
    const inputs = endpoints(c.input_layers);
    const outputs = endpoints(c.output_layers);
    if (!outputs.length) throw new MloptError('CORRUPT_MODEL', `${source}: the Keras model "${name}" names no output layers`);
    // InputLayers are called once (node 0) with no inputs
    for (const l of layers) if (l.className === 'InputLayer' && !l.calls.length) l.calls = [[]];
    // Keras 2 numbers the calls of a nested model from 1 (its node 0 is its own construction)
    const refs = [...outputs, ...layers.flatMap((l) => l.calls.flat())];
    for (const l of layers) {
      if (isModelClass(l.className) && refs.some((r) => r.layer === l.name && r.node >= l.calls.length)) l.nodeOffset = 1;
    }
    return { name, layers, inputs, outputs };
  }
  const chain: LayerSpec[] = [];
  let prev: TensorRef | undefined;
  const first = layers[0];
  if (!first) throw new MloptError('CORRUPT_MODEL', `${source}: the Sequential model "${name}" has no layers`);
  if (first.className !== 'InputLayer') {
    const shape = inputShapeOf(first.config) ?? inputShapeOf((Array.isArray(cfg) ? {} : cfg) as KerasJson);
    const buildShape = (cfg as KerasJson).build_input_shape as Array<number | null> | undefined;
    const s = shape ?? (Array.isArray(buildShape) ? buildShape : undefined);
    if (!s && !nested) throw new MloptError('UNSUPPORTED', `${source}: the Sequential model "${name}" has no input shape`, 're-save it after building it on an input (model.build or an Input layer)');
    const inName = `${first.name}_input`; // as Keras names it
    chain.push({ className: 'InputLayer', name: inName, config: { batch_input_shape: s ?? null, dtype: first.config.dtype ?? 'float32' }, calls: [[]], json: {} });
    prev = { layer: inName, node: 0, tensor: 0 };
  }
  for (const l of layers) {
    chain.push({ ...l, calls: [prev ? [prev] : []] });
    prev = { layer: l.name, node: 0, tensor: 0 };
  }
  return { name, layers: chain, inputs: [{ layer: chain[0]!.name, node: 0, tensor: 0 }], outputs: [prev!] };
}

/** The model config inside a layer JSON that is itself a model (nested model). */
export function nestedModelConfig(l: LayerSpec): KerasJson {
  return { class_name: l.className, config: l.config };
}
