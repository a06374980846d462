/**
 * IR Graph → ONNX ModelProto → bytes. The inverse of import.ts: catalogued and opaque nodes
 * are written with their ONNX op type, domain and attributes; parts kept in `extra` are
 * written back verbatim.
 */
import type { Attr, Graph, Node, Value } from '../../ir/graph.js';
import { MloptError } from '../../util/errors.js';
import type {
  AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto,
} from './proto/index.js';
import { encodeModel } from './proto/index.js';
import { onnxDTypeCode as dtypeToOnnx } from '../../ir/ops/dtype-codes.js';
import { ATTR } from './import.js';
import { tensorToOnnx } from './tensor.js';

import { convertLayout } from '../../passes/layout.js';
const enc = new TextEncoder();

/** Default IR version written for a graph that did not come from ONNX (opset 13–21 era). */
const DEFAULT_IR_VERSION = 8;

export function exportOnnxBytes(graph: Graph): Uint8Array {
  return encodeModel(exportOnnxModel(graph));
}

export function exportOnnxModel(graph0: Graph): ModelProto {
  // ONNX ops are channels-first: channels-last nodes (from TFLite / tfjs) are converted, with
  // Transposes only where the layout pass cannot cancel them.
  const foreign = graph0.nodes.find((n) => n.domain === 'tflite');
  if (foreign) {
    throw new MloptError('UNSUPPORTED', `TFLite op ${foreign.op} (node "${foreign.name}") has no ONNX mapping in this version of mlopt`, 'it can be inspected and run as .tflite, but not written as ONNX');
  }
  const graph = graph0.nodes.some((n) => n.layout === 'NHWC') ? convertLayout(graph0, 'NCHW').graph : graph0;
  const md = graph.metadata;
  const extra = md.extra ?? {};
  const fromOnnx = md.sourceFormat === 'onnx';
  const model: ModelProto = {};
  model.irVersion = md.formatVersion !== undefined && fromOnnx ? md.formatVersion : DEFAULT_IR_VERSION;
  model.opsetImport = md.opsets.map((o) => (o.domain === '' && extra.opsetDomainUnset ? { version: o.version } : { domain: o.domain, version: o.version }));
  if (md.producerName !== undefined) model.producerName = md.producerName;
  if (md.producerVersion !== undefined) model.producerVersion = md.producerVersion;
  if (md.domain !== undefined) model.domain = md.domain;
  if (md.modelVersion !== undefined) model.modelVersion = md.modelVersion;
  if (md.doc !== undefined) model.docString = md.doc;
  model.graph = exportGraph(graph);
  const props = Object.entries(md.props);
  if (props.length) model.metadataProps = props.map(([key, value]) => ({ key, value }));
  if (extra.trainingInfo) model.trainingInfo = extra.trainingInfo as ModelProto['trainingInfo'];
  if (extra.functions) model.functions = extra.functions as ModelProto['functions'];
  if (extra.configuration) model.configuration = extra.configuration as ModelProto['configuration'];
  if (extra.unknown) (model as { $unknown?: unknown }).$unknown = extra.unknown;
  return model;
}

function exportGraph(graph: Graph): GraphProto {
  const extra = graph.extra ?? {};
  const g: GraphProto = {};
  g.node = graph.nodes.map(nodeToOnnx);
  if (!(extra.nameUnset && graph.name === '')) g.name = graph.name;
  const inits: TensorProto[] = [];
  for (const [name, t] of graph.initializers) {
    const proto = tensorToOnnx(t, name);
    const info = graph.initializerInfo?.get(name);
    if (info?.doc !== undefined) proto.docString = info.doc;
    if (info?.extra?.metadataProps) proto.metadataProps = info.extra.metadataProps as TensorProto['metadataProps'];
    inits.push(proto);
  }
  g.initializer = inits;
  if (extra.sparseInitializer) g.sparseInitializer = extra.sparseInitializer as GraphProto['sparseInitializer'];
  if (graph.doc !== undefined) g.docString = graph.doc;
  g.input = graph.inputs.map(valueToOnnx);
  g.output = graph.outputs.map(valueToOnnx);
  g.valueInfo = graph.valueInfo.map(valueToOnnx);
  if (extra.quantizationAnnotation) g.quantizationAnnotation = extra.quantizationAnnotation as GraphProto['quantizationAnnotation'];
  if (extra.metadataProps) g.metadataProps = extra.metadataProps as GraphProto['metadataProps'];
  return g;
}

function valueToOnnx(v: Value): ValueInfoProto {
  const extra = v.extra ?? {};
  const out: ValueInfoProto = { name: v.name };
  if (extra.onnxType) out.type = extra.onnxType as TypeProto;
  else if (!extra.noType || v.dtype !== undefined || v.shape !== undefined) {
    const tensorType: NonNullable<TypeProto['tensorType']> = {};
    if (v.dtype !== undefined) tensorType.elemType = dtypeToOnnx(v.dtype);
    if (v.shape !== undefined) {
      const denots = extra.dimDenotations as (string | undefined)[] | undefined;
      tensorType.shape = {
        dim: v.shape.map((d, i) => {
          const dim: { dimValue?: number; dimParam?: string; denotation?: string } = {};
          if (typeof d === 'number') dim.dimValue = d;
          else if (d !== '' && d !== '?') dim.dimParam = d; // '' and '?': unknown, unnamed
          const den = denots?.[i];
          if (den !== undefined) dim.denotation = den;
          return dim;
        }),
      };
    }
    const type: TypeProto = { tensorType };
    if (extra.denotation !== undefined) type.denotation = extra.denotation as string;
    out.type = type;
  }
  if (v.doc !== undefined) out.docString = v.doc;
  if (extra.metadataProps) out.metadataProps = extra.metadataProps as ValueInfoProto['metadataProps'];
  return out;
}

function nodeToOnnx(n: Node): NodeProto {
  const extra = n.extra ?? {};
  const out: NodeProto = { input: n.inputs, output: n.outputs };
  if (!extra.nameUnset) out.name = typeof extra.originalName === 'string' ? extra.originalName : n.name;
  out.opType = n.op;
  if (!(extra.domainUnset && n.domain === '')) out.domain = n.domain;
  if (extra.overload !== undefined) out.overload = extra.overload as string;
  const docs = (extra.attrDocs ?? {}) as Record<string, string>;
  out.attribute = Object.entries(n.attrs).map(([name, a]) => {
    const proto = attrToOnnx(name, a, n);
    if (docs[name] !== undefined && a.type !== 'opaque') proto.docString = docs[name];
    return proto;
  });
  if (n.doc !== undefined) out.docString = n.doc;
  if (extra.metadataProps) out.metadataProps = extra.metadataProps as NodeProto['metadataProps'];
  if (extra.deviceConfigurations) out.deviceConfigurations = extra.deviceConfigurations as NodeProto['deviceConfigurations'];
  return out;
}

function attrToOnnx(name: string, a: Attr, n: Node): AttributeProto {
  switch (a.type) {
    case 'float': return { name, type: ATTR.FLOAT, f: a.value };
    case 'int': return { name, type: ATTR.INT, i: a.value };
    case 'string': return { name, type: ATTR.STRING, s: enc.encode(a.value) };
    case 'tensor': return { name, type: ATTR.TENSOR, t: tensorToOnnx(a.value, undefined) };
    case 'graph': return { name, type: ATTR.GRAPH, g: exportGraph(a.value) };
    case 'floats': return { name, type: ATTR.FLOATS, floats: a.value };
    case 'ints': return { name, type: ATTR.INTS, ints: a.value };
    case 'strings': return { name, type: ATTR.STRINGS, strings: a.value.map((s) => enc.encode(s)) };
    case 'tensors': return { name, type: ATTR.TENSORS, tensors: a.value.map((t) => tensorToOnnx(t, undefined)) };
    case 'graphs': return { name, type: ATTR.GRAPHS, graphs: a.value.map(exportGraph) };
    case 'opaque':
      if (a.format !== 'onnx') {
        throw new MloptError('UNSUPPORTED', `attribute "${name}" of ${n.op} node "${n.name}" came from ${a.format} and has no ONNX form`);
      }
      return a.value as AttributeProto;
  }
}
