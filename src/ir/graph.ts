import type { DType } from './dtype.js';
import type { Dim, Tensor } from './tensor.js';

/** Quantization parameters of a value or tensor (affine: real = scale × (q − zeroPoint)). */
export interface QuantParams {
  scale: number[];
  zeroPoint: number[];
  /** channel axis for per-channel parameters; absent for per-tensor. */
  axis?: number;
}

/** A named edge of the graph. `shape` undefined means unknown rank. */
export interface Value {
  name: string;
  dtype?: DType;
  shape?: Dim[];
  quant?: QuantParams;
  doc?: string;
  /** Format-specific extras kept for a lossless round trip (e.g. ONNX denotations). */
  extra?: Record<string, unknown>;
}

export type Layout = 'NCHW' | 'NHWC';

/** A typed attribute value. */
export type Attr =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  /** a value the IR does not model (sparse tensors, type protos...), kept as the format has it. */
  | { type: 'opaque'; format: string; value: unknown };

export interface Node {
  /** unique within the graph; importers invent one (`<op>_<i>`) when the format has none. */
  name: string;
  /** op type: a catalogue op (see ops.ts) when `domain` is '', else the format's own op name. */
  op: string;
  /** '' for the IR's (= ONNX default) domain; anything else marks an opaque node. */
  domain: string;
  /** value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  /** data layout for layout-sensitive ops (Conv, pools, BatchNormalization, Resize...). */
  layout?: Layout;
  doc?: string;
  extra?: Record<string, unknown>;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface GraphMetadata {
  /** the format the graph was imported from: 'onnx', 'tflite', 'keras', ... */
  sourceFormat?: string;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  doc?: string;
  /** the format's own version numbers (ONNX IR version, TFLite schema version...). */
  formatVersion?: number;
  opsets: OpsetImport[];
  props: Record<string, string>;
  /** Format-specific parts kept verbatim for a lossless round trip (ONNX functions, training info...). */
  extra?: Record<string, unknown>;
}

export interface Graph {
  name: string;
  inputs: Value[];
  outputs: Value[];
  /** Intermediate values with known type/shape (ONNX value_info). */
  valueInfo: Value[];
  /** Constant tensors by name (ONNX initializers, TFLite buffers, weights). */
  initializers: Map<string, Tensor>;
  /** Initializers' doc strings and extras, kept apart from the data. */
  initializerInfo?: Map<string, { doc?: string; extra?: Record<string, unknown> }>;
  nodes: Node[];
  metadata: GraphMetadata;
  doc?: string;
  extra?: Record<string, unknown>;
}

export function emptyMetadata(): GraphMetadata {
  return { opsets: [], props: {} };
}

export function createGraph(name = 'main'): Graph {
  return { name, inputs: [], outputs: [], valueInfo: [], initializers: new Map(), nodes: [], metadata: emptyMetadata() };
}

/** The opset version the graph imports for `domain` ('' = default), if any. */
export function opsetVersion(graph: Graph, domain = ''): number | undefined {
  const d = domain === 'ai.onnx' ? '' : domain;
  return graph.metadata.opsets.find((o) => (o.domain === 'ai.onnx' ? '' : o.domain) === d)?.version;
}

/** Inputs that are real feeds (ONNX allows initializers to be listed among graph inputs). */
export function feedInputs(graph: Graph): Value[] {
  return graph.inputs.filter((v) => !graph.initializers.has(v.name));
}

/** Attribute accessors with defaults; they throw on a wrong type. */
export function attrInt(node: Node, name: string, dflt: number): number;
export function attrInt(node: Node, name: string): number | undefined;
export function attrInt(node: Node, name: string, dflt?: number): number | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type !== 'int') throw new TypeError(`attribute ${name} of ${node.op} node ${node.name} is ${a.type}, expected int`);
  return a.value;
}

export function attrFloat(node: Node, name: string, dflt: number): number;
export function attrFloat(node: Node, name: string): number | undefined;
export function attrFloat(node: Node, name: string, dflt?: number): number | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type === 'int') return a.value;
  if (a.type !== 'float') throw new TypeError(`attribute ${name} of ${node.op} node ${node.name} is ${a.type}, expected float`);
  return a.value;
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.type !== 'ints') throw new TypeError(`attribute ${name} of ${node.op} node ${node.name} is ${a.type}, expected ints`);
  return a.value;
}

export function attrString(node: Node, name: string, dflt: string): string;
export function attrString(node: Node, name: string): string | undefined;
export function attrString(node: Node, name: string, dflt?: string): string | undefined {
  const a = node.attrs[name];
  if (!a) return dflt;
  if (a.type !== 'string') throw new TypeError(`attribute ${name} of ${node.op} node ${node.name} is ${a.type}, expected string`);
  return a.value;
}
