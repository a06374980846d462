/**
 * A readable JSON form of the IR for debugging (`mlopt inspect --ir`). Tensors are shown as
 * dtype, shape, byte size and their first values, never in full.
 */
import type { Attr, Graph, Node, Value } from './graph.js';
import { type Tensor, elementCount, isNumericData, tensorByteSize, toNumbers } from './tensor.js';

const PREVIEW = 8;

export function tensorSummary(t: Tensor): Record<string, unknown> {
  const out: Record<string, unknown> = { dtype: t.dtype, shape: t.shape, bytes: tensorByteSize(t) };
  if (isNumericData(t.data)) {
    const n = Math.min(PREVIEW, elementCount(t.shape));
    if (['float32', 'float64', 'float16', 'bfloat16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool'].includes(t.dtype)) {
      const head: Tensor = { dtype: t.dtype, shape: [n], data: t.data.subarray(0, n) };
      out.values = toNumbers(head);
      if (elementCount(t.shape) > n) out.truncated = true;
    }
  } else {
    out.values = t.data.slice(0, PREVIEW).map((s) => new TextDecoder().decode(s));
  }
  return out;
}

function attrJson(a: Attr): unknown {
  switch (a.type) {
    case 'tensor': return { tensor: tensorSummary(a.value) };
    case 'tensors': return { tensors: a.value.map(tensorSummary) };
    case 'graph': return { graph: graphToJson(a.value) };
    case 'graphs': return { graphs: a.value.map(graphToJson) };
    case 'opaque': return { opaque: a.format };
    default: return a.value;
  }
}

function valueJson(v: Value): Record<string, unknown> {
  const out: Record<string, unknown> = { name: v.name };
  if (v.dtype) out.dtype = v.dtype;
  out.shape = v.shape ?? null;
  if (v.quant) out.quant = v.quant;
  if (v.extra?.onnxType) out.type = 'non-tensor (kept verbatim)';
  return out;
}

function nodeJson(n: Node): Record<string, unknown> {
  const out: Record<string, unknown> = { name: n.name, op: n.op };
  if (n.domain) out.domain = n.domain;
  if (n.layout) out.layout = n.layout;
  out.inputs = n.inputs;
  out.outputs = n.outputs;
  const attrs = Object.entries(n.attrs);
  if (attrs.length) out.attrs = Object.fromEntries(attrs.map(([k, a]) => [k, attrJson(a)]));
  return out;
}

export function graphToJson(g: Graph): Record<string, unknown> {
  return {
    name: g.name,
    metadata: { ...g.metadata, extra: g.metadata.extra ? Object.keys(g.metadata.extra) : undefined },
    inputs: g.inputs.map(valueJson),
    outputs: g.outputs.map(valueJson),
    initializers: Object.fromEntries([...g.initializers].map(([k, t]) => [k, tensorSummary(t)])),
    nodes: g.nodes.map(nodeJson),
    valueInfo: g.valueInfo.map(valueJson),
  };
}
