/**
 * IR → TensorFlow.js model folder (model.json + weight shards).
 *
 * Graph model (any graph), as tensorflowjs_converter writes one from a SavedModel:
 * 1. The graph is prepared as for TFLite: Constant nodes become initializers, BatchNormalization
 *    after Conv is folded, MatMul + bias Add becomes Gemm, the layout pass makes it channels-last
 *    (a PyTorch / ONNX CNN keeps no Transpose but, at most, one on its input), Reshapes are
 *    simplified and a Transpose before a Flatten → MatMul is folded into the weights.
 * 2. Each IR node maps onto TF ops (export/ops-*.ts; fused Conv / MatMul + bias + activation as
 *    tensorflowjs_converter writes them). Emission is demand-driven from the graph outputs, so
 *    shape arithmetic read at export time is not written. An op with no mapping stops the export
 *    with its name and node.
 * 3. Const nodes name their data in the weights manifest (weights.ts encodes and shards them,
 *    quantized as asked); the integer weights of a QDQ graph keep their exact codes when one
 *    uint8 / uint16 (min, scale) reproduces them (export/exact-quant.ts); a `signature` names the
 *    inputs and outputs by their IR names.
 *
 * Layers model (Keras sources, `graph.extra.keras`): export/layers.ts; what tfjs-layers can load:
 * export/layers-support.ts. It is the default for a Keras source that tfjs-layers can load; any
 * other Keras source gets a graph model and a note.
 */
import type { Graph } from '../../ir/graph.js';
import { feedInputs } from '../../ir/graph.js';
import { getOp, inferGraphTypes } from '../../ir/ops/index.js';
import { prepareForQuantization } from '../../optimize/quantize/prepare.js';
import { convertLayout, foldTransposeIntoWeights, simplifyReshapes } from '../../passes/layout.js';
import { MloptError } from '../../util/errors.js';
import { EmitContext, type Handler } from './export/context.js';
import { exactCodes } from './export/exact-quant.js';
import { A, GraphDefBuilder, tfShape } from './export/graphdef.js';
import { exportLayersModel } from './export/layers.js';
import { mloptVersion } from './export/version.js';
import { ELEMENTWISE_HANDLERS } from './export/ops-elementwise.js';
import { NN_HANDLERS } from './export/ops-nn.js';
import { NORM_HANDLERS } from './export/ops-norm.js';
import { QUANT_HANDLERS } from './export/ops-quant.js';
import { RNN_HANDLERS } from './export/ops-rnn.js';
import { SHAPE_HANDLERS } from './export/ops-shape.js';
import { type TfjsQuantizeOptions, type TfjsWeightInput, encodeTfjsWeights } from './weights.js';

export interface TfjsExportOptions {
  /** 'layers' needs a Keras source (graph.extra.keras); default: layers when there is one, else graph */
  format?: 'graph' | 'layers';
  /** store float32 weights quantized (tensorflowjs_converter's --quantize_{float16,uint8,uint16}) */
  quantize?: TfjsQuantizeOptions;
  /** weight shard size in bytes (default 4 MiB) */
  shardSizeBytes?: number;
  /** told, in one line, when the default format could not be a layers model and a graph model
   *  was written instead (a Keras layer tfjs-layers cannot load) */
  onNote?: (message: string) => void;
}

export interface TfjsFile {
  path: string;
  bytes: Uint8Array;
}

/** Every IR op the graph-model writer maps (by IR op name). */
export const TFJS_GRAPH_HANDLERS: Record<string, Handler> = { ...NN_HANDLERS, ...NORM_HANDLERS, ...ELEMENTWISE_HANDLERS, ...SHAPE_HANDLERS, ...QUANT_HANDLERS, ...RNN_HANDLERS };

/** Returns the files of the model folder: model.json + shards (relative paths). Throws MloptError on an unmappable op. */
/**
 * Default format: a layers model for a Keras source, unless tfjs-layers could not load it (a layer
 * class or option it lacks, weights the graph no longer holds in Keras form): then a graph model,
 * and `onNote` says why. An explicit `format: 'layers'` that cannot be honoured is an error.
 */
export function exportTfjs(graph: Graph, opts: TfjsExportOptions = {}): TfjsFile[] {
  if (opts.format === 'graph') return exportGraphModel(graph, opts);
  if (opts.format === 'layers') {
    if (!graph.extra?.keras) {
      throw new MloptError('UNSUPPORTED', 'a TF.js layers model can only be written from a Keras model (.h5 / .keras)', 'write a graph model instead (--tfjs-format graph)');
    }
    return exportLayersModel(graph, opts);
  }
  if (!graph.extra?.keras) return exportGraphModel(graph, opts);
  try {
    return exportLayersModel(graph, opts);
  } catch (err) {
    if (!(err instanceof MloptError) || err.code !== 'UNSUPPORTED') throw err;
    const files = exportGraphModel(graph, opts);
    opts.onNote?.(`wrote a TF.js graph model, not a layers model: ${err.message}`);
    return files;
  }
}

export function exportGraphModel(g0: Graph, opts: TfjsExportOptions = {}): TfjsFile[] {
  const g = prepareGraph(g0);
  const types = inferGraphTypes(g);
  const b = new GraphDefBuilder();
  const c = new EmitContext(g, b, types, TFJS_GRAPH_HANDLERS);

  const inputs = feedInputs(g);
  const placeholders = inputs.map((v) => {
    const t = types.types.get(v.name);
    const ref = b.placeholder(v.name, t?.dtype ?? v.dtype, t?.shape ?? v.shape);
    c.bind(v.name, ref);
    return ref;
  });
  const outRefs = g.outputs.map((o) => c.ref(o.name));
  // each output gets a node of its own (an Identity where it is an input, a constant, another
  // output's tensor or a second output of a node)
  const seen = new Set<string>();
  const outNodes = g.outputs.map((o, i) => {
    let r = outRefs[i]!;
    const op = b.opOf.get(r);
    if (r.includes(':') || op === 'Placeholder' || op === 'Const' || seen.has(r)) r = b.add('Identity', o.name, [r], { T: A.type(types.types.get(o.name)?.dtype) });
    seen.add(r);
    return r;
  });

  const tensorInfo = (name: string, value: string) => ({
    name: `${name}:0`,
    dtype: A.type(types.types.get(value)?.dtype).type,
    tensorShape: tfShape(types.types.get(value)?.shape),
  });
  // signature keys are the IR names; an integer-like name would be moved to the front of the
  // object's keys (JS orders those first) and reorder the model's inputs / outputs: prefix it
  const key = (kind: string, name: string): string => (/^(0|[1-9]\d{0,8})$/.test(name) ? `${kind}_${name}` : name);
  const signature = {
    inputs: Object.fromEntries(inputs.map((v, i) => [key('input', v.name), tensorInfo(placeholders[i]!, v.name)])),
    outputs: Object.fromEntries(g.outputs.map((o, i) => [key('output', o.name), tensorInfo(outNodes[i]!, o.name)])),
  };

  // the integer weights of a quantized (QDQ) graph keep their codes when a uint8 / uint16 entry
  // reproduces them exactly; the caller's quantization applies to the float weights
  const weights = b.weights.map((w): TfjsWeightInput => {
    const q = c.quantizedConsts.get(w.name);
    const exact = q && exactCodes(w.tensor, q);
    return exact ? { name: w.name, ...exact } : w;
  });
  const { manifest, shards } = encodeTfjsWeights(weights, { ...(opts.quantize ? { quantize: opts.quantize } : {}), ...(opts.shardSizeBytes ? { shardSizeBytes: opts.shardSizeBytes } : {}) });
  const producer = [g0.metadata.producerName, g0.metadata.producerVersion].filter(Boolean).join(' ');
  const modelJson = {
    format: 'graph-model',
    generatedBy: producer || g0.metadata.sourceFormat || 'mlopt',
    convertedBy: `mlopt ${mloptVersion()}`,
    signature,
    modelTopology: { node: b.nodes, library: {}, versions: { producer: 1645 } },
    weightsManifest: manifest,
  };
  return [{ path: 'model.json', bytes: Buffer.from(JSON.stringify(modelJson), 'utf8') }, ...shards];
}

/** Channels-last, BatchNormalization folded, MatMul + Add fused, Reshapes simplified. */
function prepareGraph(g0: Graph): Graph {
  const foreign = g0.nodes.find((n) => n.domain !== '');
  if (foreign) throw new MloptError('UNSUPPORTED', `op ${foreign.domain}:${foreign.op} (node "${foreign.name}") has no TF.js graph-model mapping`, 'export to ONNX, which keeps custom-domain ops');
  const pre = prepareForQuantization(g0).graph;
  // channels-first and channels-last are the same thing on a rank ≤ 2 input (BatchNormalization
  // after a Dense layer): mark those nodes channels-last so the layout pass leaves them alone
  const types = inferGraphTypes(pre).types;
  for (const n of pre.nodes) {
    const rank = types.get(n.inputs[0] ?? '')?.shape?.length;
    if (n.domain === '' && rank !== undefined && rank <= 2 && getOp(n.op)?.layoutSensitive) n.layout = 'NHWC';
  }
  let g: Graph;
  try {
    g = convertLayout(pre, 'NHWC').graph;
  } catch (err) {
    if (err instanceof MloptError) throw err;
    throw new MloptError('UNSUPPORTED', `cannot make the graph channels-last for TF.js: ${(err as Error).message}`);
  }
  simplifyReshapes(g);
  foldTransposeIntoWeights(g);
  return g;
}
