import { FORMAT_NAMES, type ModelFormat } from '../formats/detect.js';
import { loadModel } from '../formats/load.js';
import type { DType } from '../ir/dtype.js';
import { type Value, feedInputs } from '../ir/graph.js';
import type { Dim } from '../ir/tensor.js';
import { summarize } from '../ir/summary.js';
import { validateGraph } from '../ir/validate.js';
import { modelSize } from '../bench/size.js';

export interface IoInfo {
  name: string;
  dtype: DType | null;
  shape: Dim[] | null;
  /** affine quantization of an integer input/output: real = scale × (q − zeroPoint) */
  quant?: { scale: number[]; zeroPoint: number[]; axis?: number };
}

export interface InspectResult {
  path: string;
  format: ModelFormat;
  formatName: string;
  formatVersion?: number;
  producer?: string;
  opsets: { domain: string; version: number }[];
  inputs: IoInfo[];
  outputs: IoInfo[];
  /** the operators as stored in the file, for formats whose ops differ from the IR's (TFLite) */
  storedOps?: Record<string, number>;
  /** quantized tensors: count by dtype, and how many are per-channel */
  quantization?: { tensors: Partial<Record<DType, number>>; perChannel: number };
  nodeCount: number;
  ops: Record<string, number>;
  opaqueOps: string[];
  parameters: number;
  weightBytes: number;
  weightDTypes: Partial<Record<DType, number>>;
  quantized: boolean;
  sparsity: number;
  bytes: number;
  gzipBytes: number;
  metadata: Record<string, string>;
  /** structural problems found by the IR validator (dangling values, cycles, shape/dtype clashes) */
  issues: { severity: string; message: string }[];
}

export async function inspect(path: string): Promise<InspectResult> {
  const model = await loadModel(path);
  const g = model.graph;
  const s = summarize(g);
  const size = modelSize(model);
  const md = g.metadata;
  const io = (v: Value): IoInfo => ({ name: v.name, dtype: v.dtype ?? null, shape: v.shape ?? null, ...(v.quant ? { quant: v.quant } : {}) });
  // quantized values: declared quantization (TFLite tensors) or the integer side of QDQ nodes
  const qt: Partial<Record<DType, number>> = {};
  let perChannel = 0;
  const seen = new Set<string>();
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) {
    if (!v.quant || seen.has(v.name)) continue;
    seen.add(v.name);
    if (v.dtype) qt[v.dtype] = (qt[v.dtype] ?? 0) + 1;
    if (v.quant.scale.length > 1) perChannel++;
  }
  let storedOps: Record<string, number> | undefined;
  if (model.format === 'tflite' && model.bytes) {
    const { decodeTflite, operatorName } = await import('../formats/tflite/codec.js');
    const m = decodeTflite(model.bytes, path);
    storedOps = {};
    for (const sg of m.subgraphs) for (const o of sg.operators) {
      const name = operatorName(m.operatorCodes[o.opcodeIndex]!);
      storedOps[name] = (storedOps[name] ?? 0) + 1;
    }
  }
  return {
    path,
    format: model.format,
    formatName: FORMAT_NAMES[model.format],
    formatVersion: md.formatVersion,
    producer: [md.producerName, md.producerVersion].filter(Boolean).join(' ') || undefined,
    opsets: md.opsets.map((o) => ({ domain: o.domain || 'ai.onnx', version: o.version })),
    inputs: feedInputs(g).map(io),
    outputs: g.outputs.map(io),
    nodeCount: s.nodeCount,
    ops: s.opHistogram,
    opaqueOps: s.opaqueOps,
    parameters: s.parameterCount,
    weightBytes: s.weightBytes,
    weightDTypes: s.weightDTypes,
    quantized: s.quantized,
    ...(Object.keys(qt).length ? { quantization: { tensors: qt, perChannel } } : {}),
    ...(storedOps ? { storedOps } : {}),
    sparsity: s.sparsity,
    bytes: size.bytes,
    gzipBytes: size.gzipBytes,
    metadata: md.props,
    issues: validateGraph(g).map((i) => ({ severity: i.severity, message: i.message })),
  };
}
