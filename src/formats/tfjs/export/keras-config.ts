/**
 * Keras 3 model configs (`.keras` config.json) → the Keras 2 style config that tfjs-layers
 * (`loadLayersModel`) reads, as tensorflowjs_converter writes it from a tf-keras model:
 * - `inbound_nodes: [{args: [__keras_tensor__...], kwargs}]` → `[[[layer, node, tensor, kwargs], ...]]`;
 * - a single `input_layers` / `output_layers` entry `[name, 0, 0]` → `[[name, 0, 0]]`;
 * - InputLayer `batch_shape` → `batch_input_shape` (Keras 3's `optional` dropped);
 * - DTypePolicy objects → their dtype name; `module` / `registered_name` / `build_config` /
 *   `compile_config` / `shared_object_id` wrappers dropped; Keras 3-only layer options that
 *   tfjs-layers does not know (`quantization_config`, `lora_rank`, BatchNormalization's `renorm*`
 *   and `synchronized`...) dropped when they hold their inactive default;
 * - LeakyReLU `negative_slope` → `alpha`, the `silu` activation → `swish` (the same function).
 * Nested models are converted recursively. Keras 2 configs go through unchanged.
 */
import { MloptError } from '../../../util/errors.js';

type Json = Record<string, unknown>;

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** Keras 3 options tfjs-layers does not know, and the values that mean "not used". */
const INACTIVE: Record<string, unknown[]> = {
  quantization_config: [null], lora_rank: [null], lora_alpha: [null], synchronized: [false], renorm: [false], renorm_clipping: [null],
  renorm_momentum: [0.99], optional: [false], input_axes: [null], output_axes: [null], seed_generator: [null],
};

export function isKeras3Config(config: unknown, kerasVersion?: string): boolean {
  if (/^3\./.test(kerasVersion ?? '')) return true;
  const s = JSON.stringify(config);
  return s.includes('"__keras_tensor__"') || s.includes('"batch_shape"') || s.includes('"DTypePolicy"');
}

/** The tfjs-layers form of a Keras model config ({class_name, config}). */
export function toTfjsModelConfig(modelConfig: Json, kerasVersion?: string): Json {
  if (!isKeras3Config(modelConfig, kerasVersion)) return modelConfig;
  return convertModel(modelConfig);
}

/** Node-index shift per layer: a nested model built on its own Input has a call node of its own
 *  in Keras 2 / tfjs-layers (node 0), so the calls Keras 3 numbers from 0 are 1, 2... there. */
type Shift = Map<string, number>;

function builtModel(l: Json): boolean {
  const className = l.class_name as string;
  if (className === 'Functional' || className === 'Model') return true;
  if (className !== 'Sequential') return false;
  const first = (((l.config as Json | undefined)?.layers ?? []) as Json[])[0];
  const fc = first?.config as Json | undefined;
  return !!first && (first.class_name === 'InputLayer' || fc?.batch_input_shape !== undefined || fc?.batch_shape !== undefined);
}

function convertModel(m: Json): Json {
  const className = m.class_name as string;
  const cfg = (m.config ?? {}) as Json;
  const layers = Array.isArray(cfg.layers) ? (cfg.layers as Json[]) : [];
  const shift: Shift = new Map(layers.filter(builtModel).map((l) => [String(l.name ?? (l.config as Json | undefined)?.name), 1]));
  const out: Json = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'layers') out.layers = layers.map((l) => convertLayer(l, className === 'Sequential', shift));
    else if (k === 'input_layers' || k === 'output_layers') out[k] = shiftRefs(endpoints(v), shift);
    else if (k === 'dtype') out[k] = dtypeName(v);
    else out[k] = clean(v);
  }
  return { class_name: className, config: out };
}

function endpoints(x: unknown): unknown {
  if (Array.isArray(x) && typeof x[0] === 'string') return [x];
  return x;
}

function shiftRefs(x: unknown, shift: Shift): unknown {
  if (!Array.isArray(x)) return x;
  return x.map((r) => (Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'number' ? [r[0], r[1] + (shift.get(r[0]) ?? 0), ...r.slice(2)] : r));
}

function convertLayer(l: Json, inSequential: boolean, shift: Shift): Json {
  const className = l.class_name as string;
  if (MODEL_CLASSES.has(className)) {
    const nested = convertModel(l);
    return { ...nested, ...(l.name !== undefined ? { name: l.name } : {}), ...(l.inbound_nodes !== undefined && !inSequential ? { inbound_nodes: inboundNodes(l.inbound_nodes, l.name as string, shift) } : {}) };
  }
  const cfg = (l.config ?? {}) as Json;
  const config: Json = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (INACTIVE[k]?.some((d) => d === v)) continue;
    if (k === 'dtype') config[k] = dtypeName(v);
    else if (k === 'batch_shape') config.batch_input_shape = v;
    else if (k === 'negative_slope' && className === 'LeakyReLU') config.alpha = v; // Keras 3's name for it
    else if ((k === 'activation' || k === 'recurrent_activation') && typeof v === 'string') config[k] = ACTIVATION_ALIASES[v] ?? v;
    else config[k] = clean(v);
  }
  const out: Json = { class_name: className, config };
  if (l.name !== undefined) out.name = l.name;
  if (l.inbound_nodes !== undefined && !inSequential) out.inbound_nodes = inboundNodes(l.inbound_nodes, (l.name ?? cfg.name) as string, shift);
  return out;
}

/** Keras 3 calls → Keras 2 node lists */
function inboundNodes(nodes: unknown, layer: string, shift: Shift): unknown[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((n) => {
    if (Array.isArray(n)) return n; // already Keras 2
    const call = n as Json;
    const kwargs = Object.fromEntries(Object.entries((call.kwargs ?? {}) as Json).filter(([, v]) => v !== null && !isTensor(v)));
    const refs: unknown[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (isTensor(x)) {
        const h = ((x as Json).config as Json).keras_history as unknown[] | undefined;
        if (!h) throw new MloptError('UNSUPPORTED', `Keras layer "${layer}" is called on a tensor without keras_history; it cannot be written as a TF.js layers model`);
        refs.push([h[0], ((h[1] as number | undefined) ?? 0) + (shift.get(h[0] as string) ?? 0), h[2] ?? 0, kwargs]);
      } else if (x !== null && x !== undefined) {
        throw new MloptError('UNSUPPORTED', `Keras layer "${layer}" is called with a constant argument (${JSON.stringify(x).slice(0, 40)}); TF.js layers models pass tensors only`, 'write a graph model instead (--tfjs-format graph)');
      }
    };
    walk(call.args ?? []);
    return refs;
  });
}

/** Keras 3 activation names that tfjs-layers knows under their Keras 2 name */
const ACTIVATION_ALIASES: Record<string, string> = { silu: 'swish' };

function isTensor(x: unknown): boolean {
  return !!x && typeof x === 'object' && (x as Json).class_name === '__keras_tensor__';
}

function dtypeName(v: unknown): unknown {
  if (v && typeof v === 'object' && (v as Json).class_name === 'DTypePolicy') {
    const name = ((v as Json).config as Json | undefined)?.name;
    return typeof name === 'string' ? name : 'float32';
  }
  if (v && typeof v === 'object' && (v as Json).class_name === 'DTypePolicyMap') return 'float32';
  return v;
}

/** drop Keras 3 serialization wrappers inside option values (initializers, regularizers...) */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (!v || typeof v !== 'object') return v;
  const o = v as Json;
  if (o.class_name === 'DTypePolicy') return dtypeName(o);
  const out: Json = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === 'module' || k === 'registered_name' || k === 'shared_object_id' || k === 'build_config' || k === 'compile_config') continue;
    if (INACTIVE[k]?.some((d) => d === x)) continue;
    out[k] = clean(x);
  }
  return out;
}
