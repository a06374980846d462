/**
 * Keras models → IR: legacy HDF5 `.h5` (Keras 2 / tf-keras: `model_config` + `model_weights`)
 * and Keras 3 `.keras` (zip of `config.json` + `model.weights.h5`), Sequential and Functional.
 *
 * HDF5 is read with h5wasm (loaded only here). Keras data is channels-last: layout-sensitive
 * layers become IR nodes with `layout: 'NHWC'` and kernels move to ONNX order (OIHW), as the
 * TFLite importer does. A layer class mlopt does not map stops the import with its class, its
 * name and a hint.
 */
import { createRequire } from 'node:module';
import { unzipSync } from 'fflate';
import type { Attr, Graph, Node } from '../../ir/graph.js';
import { createGraph } from '../../ir/graph.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import { NameAllocator } from '../../ir/edit.js';
import { inferGraphTypes } from '../../ir/ops/index.js';
import { transposeData } from '../../data/npy.js';
import { MloptError } from '../../util/errors.js';

export const KERAS_IMPORT_OPSET = 17;

// the CommonJS fs object h5wasm's Emscripten glue calls (patchable, unlike the ESM namespace)
const nodeFs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

type Json = Record<string, unknown>;
interface Layer {
  className: string;
  name: string;
  config: Json;
  /** names of the layers (and output index) feeding this one */
  inbound: Array<{ layer: string; index: number }>;
}

interface H5File {
  get(path: string): unknown;
  keys(): string[];
  attrs: Record<string, { value: unknown }>;
  close(): void;
}

async function openH5(bytes: Uint8Array, source: string): Promise<{ file: H5File; done: () => void }> {
  // h5wasm reads from its own in-memory file system
  const h5 = (await import('h5wasm/node')) as unknown as {
    ready: Promise<{ FS: { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void } }>;
    File: new (p: string, mode: string) => H5File;
  };
  const { FS } = await h5.ready;
  const name = `/mlopt_${process.pid}_${Math.random().toString(36).slice(2)}.h5`;
  FS.writeFile(name, bytes);
  let file: H5File;
  try {
    file = quietly(() => {
      const f = new h5.File(name, 'r');
      f.keys(); // h5wasm reports a failed open on first use
      return f;
    });
  } catch (e) {
    FS.unlink(name);
    void e; // h5wasm's own message ("error - name not defined!") says nothing useful
    throw new MloptError('CORRUPT_MODEL', `${source}: not a readable HDF5 file (truncated or corrupt)`);
  }
  return {
    file,
    done: () => {
      file.close();
      FS.unlink(name);
    },
  };
}

/** Run `fn` with the HDF5 library's diagnostics (printed to stderr on errors) swallowed. */
function quietly<T>(fn: () => T): T {
  // h5wasm's C stderr goes through fs.writeSync(2, ...) or console.error, depending on the build
  const fsw = nodeFs.writeSync;
  const [err, warn, write] = [console.error, console.warn, process.stderr.write.bind(process.stderr)];
  // (report everything as written: a writer that sees 0 bytes written tries again forever)
  const swallowed = (buf: unknown, _o?: unknown, len?: unknown): number => (typeof len === 'number' ? len : typeof buf === 'string' ? Buffer.byteLength(buf) : (buf as Uint8Array).byteLength);
  (nodeFs as { writeSync: unknown }).writeSync = (fd: number, ...rest: unknown[]) => (fd === 2 ? swallowed(rest[0], rest[1], rest[2]) : (fsw as (...a: unknown[]) => number)(fd, ...rest));
  console.error = () => {};
  console.warn = () => {};
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    (nodeFs as { writeSync: unknown }).writeSync = fsw;
    console.error = err;
    console.warn = warn;
    process.stderr.write = write;
  }
}

function datasetTensor(d: unknown, where: string): Tensor {
  const ds = d as { shape?: number[]; value?: unknown } | undefined;
  if (!ds || !Array.isArray(ds.shape)) throw new MloptError('CORRUPT_MODEL', `${where}: not a dataset`);
  const v = ds.value;
  if (v instanceof Float32Array) return { dtype: 'float32', shape: [...ds.shape], data: v };
  if (v instanceof Float64Array) return { dtype: 'float32', shape: [...ds.shape], data: Float32Array.from(v) };
  throw new MloptError('UNSUPPORTED', `${where}: weights of type ${(v as object)?.constructor?.name} are not supported`);
}

/** Keras 2 inbound_nodes: [[["layer", node, tensor, {}], ...]] — Keras 3: [{args: [{keras_history: [...]}]}]. */
function inboundOf(l: Json): Layer['inbound'] {
  const nodes = l.inbound_nodes as unknown[] | undefined;
  if (!nodes?.length) return [];
  const first = nodes[0];
  const out: Layer['inbound'] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      if (typeof x[0] === 'string' && typeof x[1] === 'number') out.push({ layer: x[0], index: (x[2] as number) ?? 0 });
      else x.forEach(visit);
    } else if (x && typeof x === 'object') {
      const o = x as Json;
      const hist = (o.config as Json | undefined)?.keras_history as unknown[] | undefined;
      if (o.class_name === '__keras_tensor__' && hist) out.push({ layer: hist[0] as string, index: (hist[2] as number) ?? 0 });
      else for (const v of Object.values(o)) visit(v);
    }
  };
  visit(Array.isArray(first) ? first : (first as Json).args);
  return out;
}

function layersOf(modelConfig: Json, source: string): { layers: Layer[]; inputs: string[]; outputs: string[]; inputShape?: Dim[] } {
  const cls = modelConfig.class_name as string;
  const cfg = modelConfig.config as Json;
  if (cls !== 'Sequential' && cls !== 'Functional' && cls !== 'Model') {
    throw new MloptError('UNSUPPORTED', `${source}: a Keras ${cls} model is not supported (Sequential and Functional are)`);
  }
  const raw = (Array.isArray(cfg) ? cfg : (cfg.layers as Json[])) ?? [];
  const layers: Layer[] = raw.map((l) => ({ className: l.class_name as string, name: ((l.config as Json).name as string) ?? '', config: l.config as Json, inbound: inboundOf(l) }));
  if (cls === 'Sequential') {
    // chain the layers; the input shape comes from an InputLayer or the first layer's batch_input_shape
    let prev = '';
    const first = layers[0];
    const shape = (first?.config.batch_input_shape ?? first?.config.batch_shape) as Array<number | null> | undefined;
    const out: Layer[] = [];
    if (!first || first.className !== 'InputLayer') {
      if (!shape) throw new MloptError('UNSUPPORTED', `${source}: the Sequential model has no input shape`);
      out.push({ className: 'InputLayer', name: 'input', config: { batch_input_shape: shape }, inbound: [] });
      prev = 'input';
    }
    for (const l of layers) {
      out.push({ ...l, inbound: prev ? [{ layer: prev, index: 0 }] : [] });
      prev = l.name;
    }
    return { layers: out, inputs: [out[0]!.name], outputs: [prev] };
  }
  const names = (x: unknown): string[] => {
    const a = x as unknown[];
    return Array.isArray(a[0]) ? (a as unknown[][]).map((e) => e[0] as string) : [a[0] as string];
  };
  return { layers, inputs: names(cfg.input_layers), outputs: names(cfg.output_layers) };
}

/** Keras 3 stores weights by snake_case class name in layer order (`conv2d`, `conv2d_1`, ...). */
function snake(s: string): string {
  // as keras.src.utils.naming.to_snake_case: "(.)([A-Z][a-z]+)" then "([a-z])([A-Z])"
  return s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export async function importKeras(bytes: Uint8Array, format: 'keras' | 'keras-h5', source = 'model'): Promise<Graph> {
  let config: Json;
  let h5bytes: Uint8Array;
  if (format === 'keras') {
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes, { filter: (f) => f.name === 'config.json' || f.name === 'model.weights.h5' });
    } catch (e) {
      throw new MloptError('CORRUPT_MODEL', `${source}: not a readable .keras zip (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!files['config.json'] || !files['model.weights.h5']) throw new MloptError('CORRUPT_MODEL', `${source}: a .keras file needs config.json and model.weights.h5`);
    config = JSON.parse(new TextDecoder().decode(files['config.json'])) as Json;
    h5bytes = files['model.weights.h5'];
  } else {
    h5bytes = bytes;
    config = {};
  }
  const { file, done } = await openH5(h5bytes, source);
  try {
    if (format === 'keras-h5') {
      const mc = file.attrs.model_config?.value;
      if (typeof mc !== 'string') {
        throw new MloptError('UNSUPPORTED', `${source}: this .h5 holds weights only (no model_config)`, 'save the whole model (model.save("m.h5")), or convert the architecture JSON with its weights');
      }
      config = JSON.parse(mc) as Json;
    }
    const { layers, inputs, outputs } = layersOf(config, source);
    // weights per layer, in Keras' own order (kernel, bias / gamma, beta, mean, variance ...)
    const counters = new Map<string, number>();
    const weightsOf = (l: Layer): Tensor[] => {
      if (format === 'keras-h5') {
        const g = file.get(`model_weights/${l.name}`) as { attrs?: Record<string, { value: unknown }> } | undefined;
        const wn = g?.attrs?.weight_names?.value as string[] | string | undefined;
        const list = (wn === undefined ? [] : Array.isArray(wn) ? wn : [wn]).filter((n) => typeof n === 'string' && n.length > 0);
        return list.map((n) => datasetTensor(file.get(`model_weights/${l.name}/${n}`), `${source}: ${l.name}/${n}`));
      }
      const key = snake(l.className);
      const k = counters.get(key) ?? 0;
      counters.set(key, k + 1);
      const path = `layers/${k ? `${key}_${k}` : key}/vars`;
      const g = file.get(path) as { keys(): string[] } | undefined;
      if (!g) return [];
      return g.keys().sort((a, b) => Number(a) - Number(b)).map((i) => datasetTensor(file.get(`${path}/${i}`), `${source}: ${path}/${i}`));
    };
    return buildGraph(layers, inputs, outputs, weightsOf, source, config);
  } finally {
    done();
  }
}

function buildGraph(layers: Layer[], inputs: string[], outputs: string[], weightsOf: (l: Layer) => Tensor[], source: string, config: Json): Graph {
  const g = createGraph(((config.config as Json)?.name as string) || 'keras_model');
  g.metadata = { sourceFormat: 'keras', opsets: [{ domain: '', version: KERAS_IMPORT_OPSET }], props: {} };
  const names = new NameAllocator(g);
  const out = new Map<string, string>(); // layer name → IR value of its (first) output
  const shapes = new Map<string, Dim[]>(); // known static shapes (channels-last)
  let k = 0;
  const node = (op: string, ins: string[], outs: string[], attrs: Record<string, Attr> = {}, layout?: 'NHWC'): void => {
    g.nodes.push({ name: names.derive(`${op}_${k++}`), op, domain: '', inputs: ins, outputs: outs, attrs, ...(layout ? { layout } : {}) } as Node);
  };
  const init = (hint: string, t: Tensor): string => {
    const n = names.derive(hint);
    g.initializers.set(n, t);
    return n;
  };
  const i64 = (hint: string, v: number[]): string => init(hint, { dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
  const ints = (value: number[]): Attr => ({ type: 'ints', value });
  const int = (value: number): Attr => ({ type: 'int', value });
  const str = (value: string): Attr => ({ type: 'string', value });
  const activation = (act: string | undefined, x: string, y: string, where: string): void => {
    switch (act ?? 'linear') {
      case 'linear':
        node('Identity', [x], [y]);
        return;
      case 'relu':
        node('Relu', [x], [y]);
        return;
      case 'relu6':
        node('Clip', [x, init('min', { dtype: 'float32', shape: [], data: Float32Array.of(0) }), init('max', { dtype: 'float32', shape: [], data: Float32Array.of(6) })], [y]);
        return;
      case 'sigmoid':
        node('Sigmoid', [x], [y]);
        return;
      case 'tanh':
        node('Tanh', [x], [y]);
        return;
      case 'softmax':
        node('Softmax', [x], [y], { axis: int(-1) });
        return;
      case 'hard_sigmoid':
        node('HardSigmoid', [x], [y], { alpha: { type: 'float', value: 0.2 }, beta: { type: 'float', value: 0.5 } });
        return;
      case 'swish':
      case 'silu': {
        const s = names.next('sig');
        node('Sigmoid', [x], [s]);
        node('Mul', [x, s], [y]);
        return;
      }
      case 'elu':
        node('Elu', [x], [y]);
        return;
      default:
        throw new MloptError('UNSUPPORTED', `${source}: activation "${act}" of ${where} is not supported by mlopt`, 'supported: linear, relu, relu6, sigmoid, tanh, softmax, hard_sigmoid, swish, elu');
    }
  };
  const pair = (v: unknown, d: number): number[] => (Array.isArray(v) ? (v as number[]) : [((v as number) ?? d), ((v as number) ?? d)]);
  const withAct = (l: Layer, emit: (y: string) => void): string => {
    const y = names.derive(l.name);
    const act = l.config.activation as string | undefined;
    if (!act || act === 'linear') {
      emit(y);
      return y;
    }
    const pre = names.derive(`${l.name}_preact`);
    emit(pre);
    activation(act, pre, y, `${l.className} layer "${l.name}"`);
    return y;
  };

  for (const l of layers) {
    const where = `${l.className} layer "${l.name}"`;
    const ins = l.inbound.map((b) => {
      const v = out.get(b.layer);
      if (!v) throw new MloptError('UNSUPPORTED', `${source}: ${where} reads "${b.layer}", which comes later or is not supported (nested models and shared layers are not yet)`);
      return v;
    });
    const x = ins[0]!;
    const w = l.className === 'InputLayer' ? [] : weightsOf(l);
    let y: string;
    switch (l.className) {
      case 'InputLayer': {
        const shape = (l.config.batch_input_shape ?? l.config.batch_shape ?? l.config.shape) as Array<number | null>;
        const dims: Dim[] = shape.map((d, i) => (d === null ? (i === 0 ? 'batch' : `d${i}`) : d));
        const name = names.derive(l.name);
        g.inputs.push({ name, dtype: 'float32', shape: dims });
        shapes.set(name, dims);
        y = name;
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        if (l.config.data_format === 'channels_first') throw new MloptError('UNSUPPORTED', `${source}: ${where}: channels_first is not supported`);
        const kernel = w[0]!;
        const ks = kernel.shape as number[]; // Conv2D [kh, kw, in, out]; Depthwise [kh, kw, in, mult]
        const depthwise = l.className === 'DepthwiseConv2D';
        const oihw = transposeData(kernel.data as Float32Array, ks, depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]);
        const wshape = depthwise ? [ks[2]! * ks[3]!, 1, ks[0]!, ks[1]!] : [ks[3]!, ks[2]!, ks[0]!, ks[1]!];
        const wn = init(`${l.name}_kernel`, { dtype: 'float32', shape: wshape, data: oihw });
        const useBias = l.config.use_bias !== false && w.length > 1;
        const bn = useBias ? init(`${l.name}_bias`, w[1]!) : undefined;
        const groups = depthwise ? ks[2]! : ((l.config.groups as number) ?? 1);
        y = withAct(l, (o) =>
          node('Conv', [x, wn, ...(bn ? [bn] : [])], [o], {
            auto_pad: str(l.config.padding === 'same' ? 'SAME_UPPER' : 'VALID'), strides: ints(pair(l.config.strides, 1)),
            dilations: ints(pair(l.config.dilation_rate, 1)), kernel_shape: ints([ks[0]!, ks[1]!]), group: int(groups),
          }, 'NHWC'));
        break;
      }
      case 'Dense': {
        const wn = init(`${l.name}_kernel`, w[0]!);
        const useBias = l.config.use_bias !== false && w.length > 1;
        y = withAct(l, (o) => {
          if (!useBias) return void node('MatMul', [x, wn], [o]);
          const mm = names.derive(`${l.name}_matmul`);
          node('MatMul', [x, wn], [mm]);
          node('Add', [mm, init(`${l.name}_bias`, w[1]!)], [o]);
        });
        break;
      }
      case 'BatchNormalization': {
        const center = l.config.center !== false;
        const scale = l.config.scale !== false;
        let i = 0;
        const c = w[w.length - 1]!.shape[0] as number;
        const ones = { dtype: 'float32' as const, shape: [c], data: new Float32Array(c).fill(1) };
        const zeros = { dtype: 'float32' as const, shape: [c], data: new Float32Array(c) };
        const gamma = scale ? w[i++]! : ones;
        const beta = center ? w[i++]! : zeros;
        const mean = w[i++]!;
        const variance = w[i++]!;
        y = names.derive(l.name);
        node('BatchNormalization', [x, init(`${l.name}_gamma`, gamma), init(`${l.name}_beta`, beta), init(`${l.name}_mean`, mean), init(`${l.name}_var`, variance)], [y],
          { epsilon: { type: 'float', value: (l.config.epsilon as number) ?? 1e-3 } }, 'NHWC');
        break;
      }
      case 'ReLU': {
        y = names.derive(l.name);
        const max = l.config.max_value as number | null | undefined;
        const slope = (l.config.negative_slope as number) ?? 0;
        if (slope) throw new MloptError('UNSUPPORTED', `${source}: ${where}: negative_slope is not supported`);
        if (max === null || max === undefined) node('Relu', [x], [y]);
        else node('Clip', [x, init('min', { dtype: 'float32', shape: [], data: Float32Array.of(0) }), init('max', { dtype: 'float32', shape: [], data: Float32Array.of(max) })], [y]);
        break;
      }
      case 'Activation':
        y = names.derive(l.name);
        activation(l.config.activation as string, x, y, where);
        break;
      case 'Softmax':
        y = names.derive(l.name);
        node('Softmax', [x], [y], { axis: int((l.config.axis as number) ?? -1) });
        break;
      case 'LeakyReLU':
        y = names.derive(l.name);
        node('LeakyRelu', [x], [y], { alpha: { type: 'float', value: (l.config.alpha ?? l.config.negative_slope ?? 0.3) as number } });
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pool = pair(l.config.pool_size, 2);
        y = names.derive(l.name);
        node(l.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x], [y], {
          kernel_shape: ints(pool), strides: ints(pair(l.config.strides ?? l.config.pool_size, 2)),
          auto_pad: str(l.config.padding === 'same' ? 'SAME_UPPER' : 'VALID'), ...(l.className === 'AveragePooling2D' ? { count_include_pad: int(0) } : {}),
        }, 'NHWC');
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D':
        y = names.derive(l.name);
        node(l.className === 'GlobalAveragePooling2D' ? 'ReduceMean' : 'ReduceMax', [x], [y], { axes: ints([1, 2]), keepdims: int(l.config.keepdims ? 1 : 0) });
        break;
      case 'Flatten':
        y = names.derive(l.name);
        node('Flatten', [x], [y], { axis: int(1) });
        break;
      case 'Reshape': {
        y = names.derive(l.name);
        node('Reshape', [x, i64('shape', [-1, ...(l.config.target_shape as number[])])], [y]);
        break;
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
        y = x; // no-ops at inference
        break;
      case 'Add':
      case 'Subtract':
      case 'Multiply':
      case 'Maximum':
      case 'Average': {
        y = names.derive(l.name);
        const op = { Add: 'Sum', Subtract: 'Sub', Multiply: 'Mul', Maximum: 'Max', Average: 'Mean' }[l.className]!;
        node(op, ins, [y]);
        break;
      }
      case 'Concatenate':
        y = names.derive(l.name);
        node('Concat', ins, [y], { axis: int((l.config.axis as number) ?? -1) });
        break;
      case 'ZeroPadding2D': {
        const p = l.config.padding as number | number[] | number[][];
        const [[t, b], [le, r]] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p[0]) ? (p as number[][]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
        y = names.derive(l.name);
        node('Pad', [x, i64('pads', [0, t!, le!, 0, 0, b!, r!, 0])], [y]);
        break;
      }
      default:
        throw new MloptError('UNSUPPORTED', `${source}: Keras layer class ${l.className} ("${l.name}") is not supported by this version of mlopt`, 'convert the model to ONNX with tf2onnx, or report the layer so it can be mapped');
    }
    out.set(l.name, y);
  }
  for (const o of outputs) {
    const v = out.get(o);
    if (!v) throw new MloptError('CORRUPT_MODEL', `${source}: output layer "${o}" not found`);
    // a graph output must be produced by a node, not be a graph input
    if (g.inputs.some((i) => i.name === v)) {
      const y = names.derive(`${o}_out`);
      node('Identity', [v], [y]);
      g.outputs.push({ name: y, dtype: 'float32' });
    } else g.outputs.push({ name: v, dtype: 'float32' });
  }
  void inputs;
  void shapes;
  const types = inferGraphTypes(g).types;
  g.outputs = g.outputs.map((o) => {
    const shape = types.get(o.name)?.shape;
    return shape ? { ...o, shape } : o;
  });
  return g;
}
