/**
 * Keras model config + weights → IR graph. Used by the .h5 / .keras readers and by the
 * TensorFlow.js layers-model importer (whose modelTopology.model_config is a Keras config).
 *
 * Layers are mapped by the table in layers/; a nested model (a Functional or Sequential model
 * used as a layer) is inlined, once per call; a shared layer (called on several inputs) gets one
 * set of weights and one group of nodes per call. The graph remembers the Keras config and how
 * to recover every Keras weight from its initializers (`graph.extra.keras`), so a layers-model
 * writer can write the Keras topology back with the graph's (possibly edited) weights.
 */
import { isDType } from '../../ir/dtype.js';
import type { DType } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import { createGraph } from '../../ir/graph.js';
import type { Dim } from '../../ir/tensor.js';
import { inferGraphTypes } from '../../ir/ops/index.js';
import { MloptError } from '../../util/errors.js';
import { Builder, LayerCall, type LayerWeights } from './context.js';
import { type LayerSpec, type ModelSpec, inputShapeOf, isModelClass, nestedModelConfig, parseModel } from './config.js';
import { handlerOf } from './layers/index.js';
import type { KerasExtra, KerasJson, KerasScope, KerasWeightInfo, KerasWeightSource } from './types.js';

export const KERAS_IMPORT_OPSET = 17;

export interface KerasBuildMeta {
  kerasVersion?: string;
  backend?: string;
}

interface State {
  b: Builder;
  weights: Map<string, LayerWeights>;
  order: LayerWeights[];
}

export function buildKerasGraph(modelConfig: KerasJson, weights: KerasWeightSource, source: string, meta: KerasBuildMeta = {}): Graph {
  const spec = parseModel(modelConfig, source);
  const g = createGraph(spec.name || 'keras_model');
  g.metadata = {
    sourceFormat: 'keras',
    producerName: 'keras',
    ...(meta.kerasVersion ? { producerVersion: meta.kerasVersion } : {}),
    opsets: [{ domain: '', version: KERAS_IMPORT_OPSET }],
    props: {},
  };
  const st: State = { b: new Builder(g, source, kerasMajor(meta.kerasVersion, modelConfig), weights), weights: new Map(), order: [] };
  const outs = buildModel(st, spec, null, '', []);

  const used = new Set<string>();
  spec.outputs.forEach((ref, i) => {
    let v = outs[i]!;
    // a graph output must come from a node, and appear once
    if (used.has(v) || g.inputs.some((x) => x.name === v)) {
      const y = st.b.value(`${ref.layer}_out`);
      st.b.node('Identity', [v], [y]);
      v = y;
    }
    used.add(v);
    g.outputs.push({ name: v });
  });
  const types = inferGraphTypes(g).types;
  g.outputs = g.outputs.map((o) => {
    const t = types.get(o.name);
    return { ...o, dtype: t?.dtype ?? 'float32', ...(t?.shape ? { shape: t.shape } : {}) };
  });

  const extra: KerasExtra = {
    modelConfig,
    ...(meta.kerasVersion ? { kerasVersion: meta.kerasVersion } : {}),
    ...(meta.backend ? { backend: meta.backend } : {}),
    weights: st.order.flatMap((lw) => lw.tensors.map((t, i): KerasWeightInfo =>
      lw.infos[i] ?? { name: lw.names[i] ?? `${lw.layer}/weight_${i}`, layer: lw.layer, fromIr: () => t })),
  };
  g.extra = { ...(g.extra ?? {}), keras: extra };
  return g;
}

/** The Keras major version: from the saved version string, else from the config's style. */
function kerasMajor(version: string | undefined, config: KerasJson): number {
  const m = /^(\d+)/.exec(version ?? '');
  if (m) return Number(m[1]);
  return JSON.stringify(config).includes('"__keras_tensor__"') ? 3 : 2;
}

function dtypeOf(v: unknown): DType {
  const name = typeof v === 'string' ? v : ((v as { config?: { name?: string } } | undefined)?.config?.name ?? 'float32');
  return name !== 'string' && isDType(name) ? name : 'float32';
}

/** Build one model's layers; `inputs` are the IR values a nested model is called on (null at top level). */
function buildModel(st: State, spec: ModelSpec, inputs: string[] | null, prefix: string, path: readonly KerasScope[]): string[] {
  const { b } = st;
  const byName = new Map(spec.layers.map((l) => [l.name, l]));
  // fetch weights in config order (Keras 3 files name weights by class and position)
  for (const l of spec.layers) {
    if (l.className === 'InputLayer') continue;
    const key = scopeKey(path, l.name);
    if (st.weights.has(key)) continue;
    const tensors = b.weightSource.layer(l.name, l.className, path);
    const lw: LayerWeights = { layer: l.name, tensors: isModelClass(l.className) ? [] : tensors, names: [], inits: [], infos: [] };
    const names = isModelClass(l.className) ? undefined : b.weightSource.names?.(l.name, l.className, path);
    if (names) lw.names = names.map((n) => n.replace(/:\d+$/, ''));
    st.weights.set(key, lw);
    if (!isModelClass(l.className)) st.order.push(lw);
  }

  const values = new Map<string, string[]>(); // `${layer}#${node}` → output values
  spec.inputs.forEach((ref, i) => {
    const l = byName.get(ref.layer);
    if (!l) throw new MloptError('CORRUPT_MODEL', `${b.source}: input layer "${ref.layer}" of model "${spec.name}" is not among its layers`);
    let v: string;
    if (inputs === null) v = graphInput(st, l, prefix);
    else {
      const given = inputs[i];
      if (given === undefined) throw new MloptError('CORRUPT_MODEL', `${b.source}: nested model "${spec.name}" is called on ${inputs.length} inputs but has ${spec.inputs.length}`);
      v = given;
    }
    values.set(`${ref.layer}#${ref.node}`, [v]);
  });

  let pending: Array<{ l: LayerSpec; k: number }> = [];
  for (const l of spec.layers) {
    if (l.className === 'InputLayer') {
      if (inputs === null && !values.has(`${l.name}#0`)) values.set(`${l.name}#0`, [graphInput(st, l, prefix)]);
      continue;
    }
    l.calls.forEach((_, k) => pending.push({ l, k }));
  }
  // calls in dependency order (a shared layer's later calls may read layers listed after it)
  while (pending.length) {
    const rest: typeof pending = [];
    for (const p of pending) {
      const ins = p.l.calls[p.k]!.map((r) => values.get(`${r.layer}#${r.node}`)?.[r.tensor]);
      if (ins.some((v) => v === undefined)) {
        rest.push(p);
        continue;
      }
      values.set(`${p.l.name}#${p.k + (p.l.nodeOffset ?? 0)}`, callLayer(st, p.l, ins as string[], prefix, path));
    }
    if (rest.length === pending.length) {
      const { l, k } = rest[0]!;
      const missing = l.calls[k]!.find((r) => values.get(`${r.layer}#${r.node}`)?.[r.tensor] === undefined)!;
      throw new MloptError('CORRUPT_MODEL', `${b.source}: ${l.className} layer "${l.name}" reads output ${missing.tensor} of call ${missing.node} of "${missing.layer}", which the model does not produce`);
    }
    pending = rest;
  }
  return spec.outputs.map((ref) => {
    const v = values.get(`${ref.layer}#${ref.node}`)?.[ref.tensor];
    if (v === undefined) throw new MloptError('CORRUPT_MODEL', `${b.source}: output layer "${ref.layer}" of model "${spec.name}" not found`);
    return v;
  });
}

function scopeKey(path: readonly KerasScope[], name: string): string {
  return [...path.map((p) => p.name), name].join('/');
}

function graphInput(st: State, l: LayerSpec, prefix: string): string {
  const shape = inputShapeOf(l.config);
  if (!shape) throw new MloptError('UNSUPPORTED', `${st.b.source}: input layer "${l.name}" has no shape`);
  const name = st.b.value(`${prefix}${l.name}`);
  const dims: Dim[] = shape.map((d, i) => (d === null || d === undefined || d < 0 ? (i === 0 ? 'batch' : `${name}_d${i}`) : d));
  st.b.g.inputs.push({ name, dtype: dtypeOf(l.config.dtype), shape: dims });
  return name;
}

const CUSTOM_HINT = 'custom layers cannot be loaded: re-save the model without them, or convert it to ONNX (e.g. with tf2onnx) and use that';

function callLayer(st: State, l: LayerSpec, ins: string[], prefix: string, path: readonly KerasScope[]): string[] {
  const { b } = st;
  const where = `${l.className} layer "${l.name}"`;
  if (isModelClass(l.className)) {
    const inner = parseModel(nestedModelConfig(l), b.source, true);
    return buildModel(st, inner, ins, `${prefix}${l.name}/`, [...path, { name: l.name, className: l.className }]);
  }
  if (l.config.data_format === 'channels_first') {
    throw new MloptError('UNSUPPORTED', `${b.source}: ${where} uses data_format="channels_first", which mlopt does not read`, "rebuild the model with data_format='channels_last', copy its weights and re-save it, or convert it through ONNX");
  }
  const handler = handlerOf(l.className);
  if (!handler) {
    throw new MloptError('UNSUPPORTED', `${b.source}: Keras layer class ${l.className} (layer "${l.name}") is not supported by mlopt`, CUSTOM_HINT);
  }
  const lw = st.weights.get(scopeKey(path, l.name))!;
  const out = handler.apply(new LayerCall(b, l.className, l.name, l.config, ins, lw, prefix, path));
  return Array.isArray(out) ? out : [out];
}
