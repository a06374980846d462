/**
 * A summary of a graph for `mlopt inspect` and reports: op histogram, parameter and weight
 * counts, weight dtypes, whether it is quantized, weight sparsity and the ops the catalogue
 * does not know.
 *
 * Rules:
 * - Nodes of subgraph bodies (If / Loop / Scan attributes) are counted too: `nodeCount` is the
 *   sum of the histogram; `topLevelNodeCount` counts only the main graph's nodes.
 * - Weights are initializers (of the main graph and of subgraphs) plus the tensors of
 *   `Constant` nodes (`value`, `value_float(s)`, `value_int(s)`; sparse values are not counted).
 * - `quantized`: some node is a QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear, a
 *   QLinear* op, an *Integer op (MatMulInteger, ConvInteger), or a known quantized contrib op
 *   (any domain); or some value carries quantization parameters; or an int8 / uint8 / int4 /
 *   uint4 weight feeds a DequantizeLinear.
 * - `sparsity`: exact zeros (+0 and -0) over all elements of float weights (float32, float16,
 *   bfloat16, float64) with at least 2 dimensions — i.e. conv kernels and dense matrices, not
 *   biases, norm parameters or scalars; 0 when there are no such weights.
 */
import type { DType } from './dtype.js';
import type { Graph, Node } from './graph.js';
import { type Tensor, elementCount, isNumericData, tensorByteSize } from './tensor.js';
import { isCatalogued, opKey } from './ops/catalogue.js';
import { constantTensor } from './ops/generator.js';

export interface GraphSummary {
  /** node count per op: `Conv`, or `domain:Op` for other domains. */
  opHistogram: Record<string, number>;
  /** all nodes, subgraph bodies included. */
  nodeCount: number;
  /** nodes of the main graph only. */
  topLevelNodeCount: number;
  /** elements of all weights. */
  parameterCount: number;
  /** bytes of all weights as stored. */
  weightBytes: number;
  /** weight elements per dtype. */
  weightDTypes: Partial<Record<DType, number>>;
  quantized: boolean;
  /** fraction of exact zeros among float weights with ≥ 2 dims (see the rule above). */
  sparsity: number;
  /** op keys the catalogue does not know, sorted. */
  opaqueOps: string[];
}

const QUANT_OPS = new Set([
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
  // onnxruntime contrib (com.microsoft) quantized kernels
  'QGemm', 'QAttention', 'DynamicQuantizeMatMul', 'DynamicQuantizeLSTM', 'MatMulNBits', 'MatMulBnb4',
  'MatMulIntegerToFloat', 'QOrderedMatMul', 'GatherBlockQuantized',
]);
const LOW_BIT = new Set<DType>(['int8', 'uint8', 'int4', 'uint4']);
const SPARSITY_FLOATS = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64']);

export function isQuantizedOp(op: string): boolean {
  return QUANT_OPS.has(op) || op.startsWith('QLinear') || op.endsWith('Integer');
}

/** Exact zeros in a float tensor's data. */
function countZeros(t: Tensor): number {
  if (!isNumericData(t.data)) return 0;
  let zeros = 0;
  const d = t.data;
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    for (let i = 0; i < d.length; i++) if (((d[i] as number) & 0x7fff) === 0) zeros++;
  } else {
    for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
  }
  return zeros;
}

function subgraphs(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of Object.values(node.attrs)) {
    if (a.type === 'graph') out.push(a.value);
    else if (a.type === 'graphs') out.push(...a.value);
  }
  return out;
}

export function summarize(graph: Graph): GraphSummary {
  const opHistogram: Record<string, number> = {};
  const weightDTypes: Partial<Record<DType, number>> = {};
  const opaque = new Set<string>();
  let nodeCount = 0;
  let parameterCount = 0;
  let weightBytes = 0;
  let quantized = false;
  let floatElems = 0;
  let zeroElems = 0;

  const addWeight = (t: Tensor): void => {
    const n = elementCount(t.shape);
    parameterCount += n;
    weightBytes += tensorByteSize(t);
    weightDTypes[t.dtype] = (weightDTypes[t.dtype] ?? 0) + n;
    if (t.shape.length >= 2 && SPARSITY_FLOATS.has(t.dtype)) {
      floatElems += n;
      zeroElems += countZeros(t);
    }
  };

  const visit = (g: Graph): void => {
    for (const t of g.initializers.values()) addWeight(t);
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) if (v.quant) quantized = true;
    for (const node of g.nodes) {
      nodeCount++;
      const key = opKey(node);
      opHistogram[key] = (opHistogram[key] ?? 0) + 1;
      if (!isCatalogued(node)) opaque.add(key);
      if (isQuantizedOp(node.op)) quantized = true;
      if (node.op === 'DequantizeLinear') {
        const w = g.initializers.get(node.inputs[0] ?? '');
        if (w && LOW_BIT.has(w.dtype)) quantized = true;
      }
      if (node.op === 'Constant' && (node.domain === '' || node.domain === 'ai.onnx')) {
        const t = constantTensor(node);
        if (t) addWeight(t);
      }
      for (const sub of subgraphs(node)) visit(sub);
    }
  };
  visit(graph);

  return {
    opHistogram,
    nodeCount,
    topLevelNodeCount: graph.nodes.length,
    parameterCount,
    weightBytes,
    weightDTypes,
    quantized,
    sparsity: floatElems === 0 ? 0 : zeroElems / floatElems,
    opaqueOps: [...opaque].sort(),
  };
}
