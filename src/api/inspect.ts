import { FORMAT_NAMES, type ModelFormat } from '../formats/detect.js';
import { loadModel } from '../formats/load.js';
import type { DType } from '../ir/dtype.js';
import { feedInputs } from '../ir/graph.js';
import type { Dim } from '../ir/tensor.js';
import { summarize } from '../ir/summary.js';
import { validateGraph } from '../ir/validate.js';
import { modelSize } from '../bench/size.js';

export interface InspectResult {
  path: string;
  format: ModelFormat;
  formatName: string;
  formatVersion?: number;
  producer?: string;
  opsets: { domain: string; version: number }[];
  inputs: { name: string; dtype: DType | null; shape: Dim[] | null }[];
  outputs: { name: string; dtype: DType | null; shape: Dim[] | null }[];
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
  const io = (v: { name: string; dtype?: DType; shape?: Dim[] }) => ({ name: v.name, dtype: v.dtype ?? null, shape: v.shape ?? null });
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
    sparsity: s.sparsity,
    bytes: size.bytes,
    gzipBytes: size.gzipBytes,
    metadata: md.props,
    issues: validateGraph(g).map((i) => ({ severity: i.severity, message: i.message })),
  };
}
