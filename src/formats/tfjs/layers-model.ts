/**
 * TF.js layers models: the Keras model config in modelTopology, and a weight source that hands
 * the Keras graph builder each layer's weights from the manifest.
 *
 * Manifest names carry the layer name and the weight name, with whatever the writer put around
 * them: `dense_Dense1/kernel` (tfjs-layers), `conv1/kernel` (tensorflowjs_converter from .h5),
 * `lstm_1/lstm_cell/kernel` (TF ≥ 2.2 adds the RNN cell), `model/conv1/kernel` (a nested
 * model's scope). A weight belongs to the innermost layer of the config named in its path; a
 * layer's weights keep the manifest's order, which is Keras `layer.weights` order for every
 * writer (trainable, then non-trainable).
 */
import type { Tensor } from '../../ir/tensor.js';
import type { KerasJson, KerasScope, KerasWeightSource } from '../keras/types.js';
import { MloptError } from '../../util/errors.js';
import type { TfjsWeightsManifestGroup } from './weights.js';

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** The Keras model config of a layers-model topology: {class_name, config} either at the top
 *  (tfjs-layers) or under `model_config` (tensorflowjs_converter from Keras .h5). */
export function kerasModelConfig(topology: KerasJson, source: string): { modelConfig: KerasJson; kerasVersion?: string; backend?: string } {
  const mc = (topology.model_config ?? topology) as KerasJson;
  if (!mc || typeof mc !== 'object' || typeof mc.class_name !== 'string' || mc.config === undefined) {
    throw new MloptError('NOT_A_MODEL', `${source}: modelTopology holds neither a GraphDef (node list) nor a Keras model config (class_name + config)`);
  }
  const kv = topology.keras_version ?? mc.keras_version;
  const be = topology.backend ?? mc.backend;
  return { modelConfig: mc, ...(typeof kv === 'string' ? { kerasVersion: kv } : {}), ...(typeof be === 'string' ? { backend: be } : {}) };
}

/** Names of every layer of the config, nested models' layers included (wrapped layers are not:
 *  their weights belong to the wrapper). */
function layerNames(modelConfig: KerasJson, into = new Set<string>()): Set<string> {
  const cfg = modelConfig.config;
  const layers = (Array.isArray(cfg) ? cfg : ((cfg as KerasJson | undefined)?.layers as unknown[] | undefined)) ?? [];
  for (const l of layers as KerasJson[]) {
    const name = ((l.config as KerasJson | undefined)?.name ?? l.name) as string | undefined;
    if (name) into.add(name);
    if (MODEL_CLASSES.has(l.class_name as string)) layerNames(l, into);
  }
  return into;
}

interface Group {
  /** the tokens before the layer name (enclosing scopes) */
  scope: string[];
  names: string[];
  tensors: Tensor[];
}

/**
 * A KerasWeightSource over the decoded manifest weights. Optimizer weights (group 'optimizer')
 * are left out, as tfjs-layers leaves them out.
 */
export function tfjsKerasWeightSource(modelConfig: KerasJson, manifest: TfjsWeightsManifestGroup[], weights: Map<string, Tensor>, source: string): KerasWeightSource & { unused(): string[] } {
  const known = layerNames(modelConfig);
  const byLayer = new Map<string, Group[]>();
  const taken = new Set<string>();
  const all: string[] = [];
  for (const group of manifest) {
    for (const w of group.weights) {
      if (w.group === 'optimizer') continue;
      const full = w.name.replace(/:0$/, '');
      const tokens = full.split('/');
      let at = -1;
      for (let k = tokens.length - 2; k >= 0; k--) {
        if (known.has(tokens[k]!)) {
          at = k;
          break;
        }
      }
      // a name no layer of the config matches: keyed by its first token
      if (at < 0) at = 0;
      const layer = tokens[at]!;
      const scope = tokens.slice(0, at);
      let groups = byLayer.get(layer);
      if (!groups) byLayer.set(layer, (groups = []));
      let gr = groups.find((x) => x.scope.join('/') === scope.join('/'));
      if (!gr) groups.push((gr = { scope, names: [], tensors: [] }));
      const t = weights.get(w.name);
      if (!t) throw new MloptError('CORRUPT_MODEL', `${source}: weight "${w.name}" was not decoded`);
      gr.names.push(full);
      gr.tensors.push(t);
      all.push(full);
    }
  }
  const find = (name: string, path?: readonly KerasScope[]): Group | undefined => {
    const groups = byLayer.get(name);
    if (!groups?.length) return undefined;
    if (groups.length === 1) return groups[0];
    const want = (path ?? []).map((p) => p.name);
    // the group whose scope ends with the enclosing models' names, else the top-level one
    return groups.find((g) => g.scope.length >= want.length && want.every((s, k) => g.scope[g.scope.length - want.length + k] === s) && (want.length || !g.scope.length))
      ?? groups.find((g) => !g.scope.length) ?? groups[0];
  };
  return {
    layer(name, _className, path) {
      const g = find(name, path);
      if (!g) return [];
      for (const n of g.names) taken.add(n);
      return g.tensors;
    },
    names(name, _className, path) {
      return find(name, path)?.names;
    },
    unused() {
      return all.filter((n) => !taken.has(n));
    },
  };
}
