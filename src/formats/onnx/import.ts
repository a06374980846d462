/**
 * ONNX ModelProto → IR Graph. Catalogued ops keep ONNX names and semantics at the model's
 * opset; every other op becomes an opaque node (domain, type, attributes verbatim). Parts the
 * IR does not model (local functions, training info, sparse initializers, non-tensor types)
 * are kept in `extra` so that export writes them back unchanged.
 */
import type { Attr, Graph, Node, Value } from '../../ir/graph.js';
import { createGraph } from '../../ir/graph.js';
import type { Dim } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TypeProto, ValueInfoProto } from './proto/index.js';
import { decodeModel } from './proto/index.js';
import { dtypeFromOnnx } from '../../ir/ops/dtype-codes.js';
import { tensorFromOnnx } from './tensor.js';

/** ONNX AttributeProto.AttributeType codes (from the spec). */
export const ATTR = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

const LAYOUT_OPS = new Set([
  'Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool',
  'GlobalMaxPool', 'GlobalLpPool', 'BatchNormalization', 'InstanceNormalization', 'Resize', 'Upsample',
  'SpaceToDepth', 'DepthToSpace', 'MaxUnpool', 'MaxRoiPool', 'RoiAlign', 'LRN', 'GridSample',
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function importOnnxBytes(bytes: Uint8Array, source = 'model'): Graph {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new MloptError('CORRUPT_MODEL', `${source}: not a valid ONNX model (${(err as Error).message})`);
  }
  return importOnnxModel(model, source);
}

export function importOnnxModel(model: ModelProto, source = 'model'): Graph {
  if (!model.graph) throw new MloptError('CORRUPT_MODEL', `${source}: ONNX model has no graph`);
  const graph = importGraph(model.graph, source);
  const md = graph.metadata;
  md.sourceFormat = 'onnx';
  md.formatVersion = model.irVersion;
  md.producerName = model.producerName;
  md.producerVersion = model.producerVersion;
  md.domain = model.domain;
  md.modelVersion = model.modelVersion;
  md.doc = model.docString;
  md.opsets = (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 }));
  md.props = {};
  for (const p of model.metadataProps ?? []) md.props[p.key ?? ''] = p.value ?? '';
  const extra: Record<string, unknown> = {};
  if (model.functions?.length) extra.functions = model.functions;
  if (model.trainingInfo?.length) extra.trainingInfo = model.trainingInfo;
  if (model.configuration?.length) extra.configuration = model.configuration;
  if (model.opsetImport?.some((o) => o.domain === undefined)) extra.opsetDomainUnset = true;
  if ((model as { $unknown?: unknown }).$unknown) extra.unknown = (model as { $unknown?: unknown }).$unknown;
  if (Object.keys(extra).length) md.extra = extra;
  return graph;
}

function importGraph(g: GraphProto, source: string): Graph {
  const graph = createGraph(g.name ?? '');
  if (g.name === undefined) graph.extra = { ...graph.extra, nameUnset: true };
  graph.doc = g.docString;
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    graph.initializers.set(name, tensorFromOnnx(t, `initializer of ${source}`));
    if (t.docString !== undefined || t.metadataProps?.length) {
      graph.initializerInfo ??= new Map();
      graph.initializerInfo.set(name, { doc: t.docString, extra: t.metadataProps?.length ? { metadataProps: t.metadataProps } : undefined });
    }
  }
  graph.inputs = (g.input ?? []).map(valueFromOnnx);
  graph.outputs = (g.output ?? []).map(valueFromOnnx);
  graph.valueInfo = (g.valueInfo ?? []).map(valueFromOnnx);
  const used = new Set<string>();
  graph.nodes = (g.node ?? []).map((n, i) => nodeFromOnnx(n, i, used, source));
  const extra: Record<string, unknown> = { ...graph.extra };
  if (g.sparseInitializer?.length) extra.sparseInitializer = g.sparseInitializer;
  if (g.quantizationAnnotation?.length) extra.quantizationAnnotation = g.quantizationAnnotation;
  if (g.metadataProps?.length) extra.metadataProps = g.metadataProps;
  if (Object.keys(extra).length) graph.extra = extra;
  return graph;
}

function valueFromOnnx(v: ValueInfoProto): Value {
  const value: Value = { name: v.name ?? '' };
  const extra: Record<string, unknown> = {};
  if (v.docString !== undefined) value.doc = v.docString;
  if (v.metadataProps?.length) extra.metadataProps = v.metadataProps;
  const type = v.type;
  if (!type) extra.noType = true;
  else if (type.tensorType && !hasOther(type)) {
    const tt = type.tensorType;
    const dtype = tt.elemType !== undefined ? dtypeFromOnnx(tt.elemType) : undefined;
    if (dtype) value.dtype = dtype;
    else extra.onnxType = type; // unknown element type: keep verbatim
    if (tt.shape) {
      value.shape = (tt.shape.dim ?? []).map(dimFromOnnx);
      const denots = (tt.shape.dim ?? []).map((d) => d.denotation);
      if (denots.some((d) => d !== undefined)) extra.dimDenotations = denots;
    }
    if (type.denotation !== undefined) extra.denotation = type.denotation;
  } else {
    extra.onnxType = type; // sequence / map / optional / sparse tensor: kept as the file has it
  }
  if (Object.keys(extra).length) value.extra = extra;
  return value;
}

function hasOther(t: TypeProto): boolean {
  return Boolean(t.sequenceType || t.mapType || t.optionalType || t.sparseTensorType);
}

function dimFromOnnx(d: { dimValue?: number; dimParam?: string }): Dim {
  if (d.dimValue !== undefined) return d.dimValue;
  if (d.dimParam !== undefined) return d.dimParam;
  return ''; // unknown and unnamed
}

function nodeFromOnnx(n: NodeProto, index: number, used: Set<string>, source: string): Node {
  const op = n.opType ?? '';
  let name = n.name ?? '';
  const extra: Record<string, unknown> = {};
  if (!name || used.has(name)) {
    if (n.name === undefined) extra.nameUnset = true;
    else extra.originalName = n.name;
    let i = index;
    do name = `${op || 'node'}_${i++}`;
    while (used.has(name));
  }
  used.add(name);
  const domain = n.domain ?? '';
  if (n.domain === undefined) extra.domainUnset = true;
  const node: Node = { name, op, domain, inputs: n.input ?? [], outputs: n.output ?? [], attrs: {} };
  const attrDocs: Record<string, string> = {};
  for (const a of n.attribute ?? []) {
    const attrName = a.name ?? '';
    node.attrs[attrName] = a.refAttrName !== undefined
      ? { type: 'opaque', format: 'onnx', value: a } // a reference to a function attribute: kept verbatim
      : attrFromOnnx(a, `${op} node "${name}" of ${source}`, source);
    if (a.docString !== undefined) attrDocs[attrName] = a.docString;
  }
  if (Object.keys(attrDocs).length) extra.attrDocs = attrDocs;
  if (n.docString !== undefined) node.doc = n.docString;
  if (n.overload !== undefined) extra.overload = n.overload;
  if (n.metadataProps?.length) extra.metadataProps = n.metadataProps;
  if (n.deviceConfigurations?.length) extra.deviceConfigurations = n.deviceConfigurations;
  if ((domain === '' || domain === 'ai.onnx') && LAYOUT_OPS.has(op)) node.layout = 'NCHW';
  if (Object.keys(extra).length) node.extra = extra;
  return node;
}

function attrFromOnnx(a: AttributeProto, where: string, source: string): Attr {
  const type = a.type ?? ATTR.UNDEFINED;
  const kind = type !== ATTR.UNDEFINED ? type : inferAttrType(a);
  switch (kind) {
    case ATTR.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case ATTR.INT: return { type: 'int', value: a.i ?? 0 };
    case ATTR.STRING: {
      const s = decodeString(a.s ?? new Uint8Array(0));
      return s === undefined ? { type: 'opaque', format: 'onnx', value: a } : { type: 'string', value: s };
    }
    case ATTR.TENSOR: return { type: 'tensor', value: tensorFromOnnx(a.t ?? {}, `attribute ${a.name} of ${where}`) };
    case ATTR.GRAPH: return { type: 'graph', value: importGraph(a.g ?? {}, source) };
    case ATTR.FLOATS: return { type: 'floats', value: a.floats ?? [] };
    case ATTR.INTS: return { type: 'ints', value: a.ints ?? [] };
    case ATTR.STRINGS: {
      const list = (a.strings ?? []).map(decodeString);
      if (list.some((s) => s === undefined)) return { type: 'opaque', format: 'onnx', value: a };
      return { type: 'strings', value: list as string[] };
    }
    case ATTR.TENSORS: return { type: 'tensors', value: (a.tensors ?? []).map((t) => tensorFromOnnx(t, `attribute ${a.name} of ${where}`)) };
    case ATTR.GRAPHS: return { type: 'graphs', value: (a.graphs ?? []).map((g) => importGraph(g, source)) };
    default: return { type: 'opaque', format: 'onnx', value: a };
  }
}

/** Very old files (e.g. PyTorch 0.2 exports) leave AttributeProto.type unset: infer it from the filled field. */
function inferAttrType(a: AttributeProto): number {
  if (a.f !== undefined) return ATTR.FLOAT;
  if (a.i !== undefined) return ATTR.INT;
  if (a.s !== undefined) return ATTR.STRING;
  if (a.t !== undefined) return ATTR.TENSOR;
  if (a.g !== undefined) return ATTR.GRAPH;
  if (a.floats?.length) return ATTR.FLOATS;
  if (a.ints?.length) return ATTR.INTS;
  if (a.strings?.length) return ATTR.STRINGS;
  if (a.tensors?.length) return ATTR.TENSORS;
  if (a.graphs?.length) return ATTR.GRAPHS;
  return ATTR.UNDEFINED;
}

function decodeString(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}
