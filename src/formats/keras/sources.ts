/**
 * Where Keras weights live, as KerasWeightSources:
 *  - legacy HDF5 (Keras 2 / tf-keras `model.save`): `model_weights/<layer>/` with the layer's
 *    `weight_names` attribute; a nested model's weights sit in its group, named by inner layer;
 *  - weights-only HDF5 (`save_weights`): the same groups at the root, paired with the layers of
 *    an architecture by name when every name matches, else by order as Keras' load_weights does;
 *  - Keras 3 `model.weights.h5`: `layers/<snake_case class>[_n]/vars/<i>` (counted per class
 *    within each model, in layer order), recurrent layers under `.../cell/vars`, nested models
 *    under `layers/<model>/layers/...`.
 */
import type { Tensor } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import { isModelClass, parseModel } from './config.js';
import { type H5Entity, type H5File, attrStrings, datasetTensor } from './h5.js';
import { layerHasWeights } from './layers/index.js';
import type { KerasJson, KerasScope, KerasWeightSource } from './types.js';

interface NamedWeights {
  tensors: Tensor[];
  names: string[];
}

/** Weights of the HDF5 group `group` (legacy layout), optionally only those of inner layer `inner`. */
function groupWeights(file: H5File, group: string, inner: string | undefined, where: string): NamedWeights {
  const g = file.get(group);
  if (!g) return { tensors: [], names: [] };
  let names = attrStrings(g, 'weight_names') ?? [];
  if (inner !== undefined) names = names.filter((n) => n.startsWith(`${inner}/`) || n.includes(`/${inner}/`));
  return { tensors: names.map((n) => datasetTensor(file.get(`${group}/${n}`), `${where}: ${group}/${n}`)), names };
}

/** Full-model .h5: `model_weights/<layer>`. */
export function legacyH5Source(file: H5File, root: string, source: string, groupOf: (name: string) => string = (n) => n): KerasWeightSource {
  const cache = new Map<string, NamedWeights>();
  const get = (name: string, path: readonly KerasScope[] = []): NamedWeights => {
    const key = [...path.map((p) => p.name), name].join('/');
    let w = cache.get(key);
    if (!w) {
      const top = path.length ? path[0]!.name : name;
      w = groupWeights(file, `${root}${groupOf(top)}`, path.length ? name : undefined, source);
      cache.set(key, w);
    }
    return w;
  };
  return {
    layer: (name, _cls, path) => get(name, path).tensors,
    names: (name, _cls, path) => get(name, path).names,
  };
}

/** Does a layer (or a nested model, through its layers) carry weights? */
function weighted(l: { className: string; config: KerasJson }, source: string): boolean {
  if (!isModelClass(l.className)) return layerHasWeights(l.className, l.config);
  return parseModel({ class_name: l.className, config: l.config }, source, true).layers.some((x) => weighted(x, source));
}

/**
 * Weights-only .h5 (`save_weights`): groups at the root, listed in the `layer_names` attribute.
 * Layers pair by name when every weighted layer of the architecture has a group of that name;
 * else by order (Keras' default), which needs as many weighted layers on both sides.
 */
export function weightsOnlyH5Source(file: H5File, modelConfig: KerasJson, source: string): KerasWeightSource {
  const fileLayers = (attrStrings(file, 'layer_names') ?? []).filter((n) => (attrStrings(file.get(n), 'weight_names') ?? []).length > 0);
  const spec = parseModel(modelConfig, source);
  const modelLayers = spec.layers.filter((l) => l.className !== 'InputLayer' && weighted(l, source)).map((l) => l.name);
  const byName = modelLayers.every((n) => fileLayers.includes(n));
  if (!byName && fileLayers.length !== modelLayers.length) {
    throw new MloptError('CORRUPT_MODEL', `${source}: the weights file has ${fileLayers.length} layers with weights but the architecture has ${modelLayers.length}`, 'pair the weights with the architecture they were saved from');
  }
  const map = new Map(modelLayers.map((n, i) => [n, byName ? n : fileLayers[i]!]));
  return legacyH5Source(file, '', source, (n) => map.get(n) ?? n);
}

/** Keras 3's name for a class: keras.src.utils.naming.to_snake_case. */
export function snakeCase(s: string): string {
  return s.replace(/\W+/g, '').replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Keras 3 model.weights.h5. */
export function keras3Source(file: H5File, source: string): KerasWeightSource {
  const counters = new Map<string, Map<string, number>>(); // container → snake name → count
  const paths = new Map<string, string>(); // scope key → HDF5 path of the layer
  const pathOf = (name: string, cls: string, path: readonly KerasScope[]): string => {
    const key = [...path.map((p) => p.name), name].join('/');
    const have = paths.get(key);
    if (have) return have;
    let container = 'layers';
    if (path.length) {
      const last = path[path.length - 1]!;
      container = `${pathOf(last.name, last.className, path.slice(0, -1))}/layers`;
    }
    const c = counters.get(container) ?? new Map<string, number>();
    counters.set(container, c);
    const base = snakeCase(cls);
    const k = c.get(base) ?? 0;
    c.set(base, k + 1);
    const p = `${container}/${k ? `${base}_${k}` : base}`;
    paths.set(key, p);
    return p;
  };
  const vars = (p: string): Tensor[] | undefined => {
    const g = file.get(`${p}/vars`) as H5Entity | null | undefined;
    const keys = g?.keys?.() ?? [];
    if (!keys.length) return undefined;
    return keys.sort((a, b) => Number(a) - Number(b)).map((i) => datasetTensor(file.get(`${p}/vars/${i}`), `${source}: ${p}/vars/${i}`));
  };
  return {
    layer(name, cls, path = []) {
      const p = pathOf(name, cls, path);
      if (isModelClass(cls)) return [];
      return vars(p) ?? vars(`${p}/cell`) ?? [];
    },
  };
}
