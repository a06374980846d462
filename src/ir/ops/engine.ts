/**
 * Graph-level type inference: walks the nodes in order, runs each catalogued op's shape rule
 * on what is known of its inputs (declared types, initializers, Constant outputs, propagated
 * shape values) and records what it infers. Used by the shape-inference pass (which writes the
 * result into value_info) and by validation (which compares it with the declarations).
 * Does not modify the graph; subgraph bodies are not descended into.
 */
import { isIntDType } from '../dtype.js';
import type { Graph, Value } from '../graph.js';
import type { Dim, Tensor } from '../tensor.js';
import { MloptError, errorText } from '../../util/errors.js';
import { graphOpset, inferNode, isCatalogued, opKey } from './catalogue.js';
import { mergeShapes, normDim } from './dims.js';
import { constantTensor } from './generator.js';
import type { ValueType } from './types.js';

export interface InferenceIssue {
  node: string;
  op: string;
  message: string;
}

export interface GraphTypes {
  /** best-known type of every value: declarations merged with what the rules inferred. */
  types: Map<string, ValueType>;
  /** what the node rules produced, for each value a catalogued node outputs. */
  inferred: Map<string, ValueType>;
  /** declared types: graph inputs and outputs, value_info, initializers' own dtype/shape. */
  declared: Map<string, ValueType>;
  /** initializers and Constant outputs. */
  constants: Map<string, Tensor>;
  /** propagated values of small integer tensors (shape arithmetic). */
  values: Map<string, Dim[]>;
  /** nodes whose rule found an inconsistency (the node's outputs stay as declared). */
  issues: InferenceIssue[];
  /** keys (op, or domain:op) of nodes the catalogue does not know, sorted, unique. */
  unknownOps: string[];
}

export interface InferGraphOptions {
  /** opset of the default domain (default: the graph's, else DEFAULT_OPSET). */
  opset?: number;
  /** the enclosing graph's result, whose values a subgraph body can read (ONNX scoping). */
  outer?: GraphTypes;
}

/** Merge a declaration with an inferred type: declared dtype wins, shapes merge per dim. */
export function mergeTypes(declared: ValueType | undefined, inferred: ValueType | undefined): ValueType {
  const out: ValueType = {};
  const dtype = declared?.dtype ?? inferred?.dtype;
  const shape = mergeShapes(declared?.shape, inferred?.shape);
  if (dtype !== undefined) out.dtype = dtype;
  if (shape !== undefined) out.shape = shape;
  return out;
}

function declare(map: Map<string, ValueType>, v: Value): void {
  if (v.name === '') return;
  map.set(v.name, mergeTypes(map.get(v.name), { dtype: v.dtype, shape: v.shape }));
}

const MAX_VALUE_ELEMENTS = 1024;

export function inferGraphTypes(graph: Graph, opts: InferGraphOptions = {}): GraphTypes {
  const opset = opts.opset ?? graphOpset(graph);
  const outer = opts.outer;
  const declared = new Map<string, ValueType>();
  for (const [name, t] of graph.initializers) declared.set(name, { dtype: t.dtype, shape: [...t.shape] });
  for (const v of graph.inputs) declare(declared, v);
  for (const v of graph.valueInfo) declare(declared, v);
  for (const v of graph.outputs) declare(declared, v);

  const types = new Map(declared);
  const inferred = new Map<string, ValueType>();
  const constants = new Map(graph.initializers);
  const values = new Map<string, Dim[]>();
  const issues: InferenceIssue[] = [];
  const unknown = new Set<string>();

  const typeOf = (n: string): ValueType | undefined => types.get(n) ?? outer?.types.get(n);
  const constOf = (n: string): Tensor | undefined => constants.get(n) ?? (types.has(n) ? undefined : outer?.constants.get(n));
  const valueOf = (n: string): Dim[] | undefined => values.get(n) ?? (types.has(n) ? undefined : outer?.values.get(n));

  for (const node of graph.nodes) {
    if (!isCatalogued(node)) {
      unknown.add(opKey(node));
      continue;
    }
    const ins = node.inputs;
    let result;
    try {
      result = inferNode(node, {
        opset,
        types: ins.map((n) => (n === '' ? undefined : typeOf(n))),
        constants: ins.map((n) => (n === '' ? undefined : constOf(n))),
        values: ins.map((n) => (n === '' ? undefined : valueOf(n))),
      });
    } catch (err) {
      if (!(err instanceof MloptError)) throw err;
      issues.push({ node: node.name, op: node.op, message: errorText(err) });
      continue;
    }
    node.outputs.forEach((name, j) => {
      if (name === '') return;
      const r = result.outputs[j];
      if (!r) return;
      const t: ValueType = {};
      if (r.dtype !== undefined) t.dtype = r.dtype;
      if (r.shape !== undefined) t.shape = r.shape.map(normDim);
      inferred.set(name, t);
      types.set(name, mergeTypes(declared.get(name), t));
    });
    const out0 = node.outputs[0];
    if (out0) {
      if (node.op === 'Constant') {
        const t = constantTensor(node);
        if (t) constants.set(out0, t);
      }
      const dt = types.get(out0)?.dtype;
      const v = result.value;
      if (v && v.length <= MAX_VALUE_ELEMENTS && (dt === undefined || isIntDType(dt))) values.set(out0, v);
    }
  }
  return { types, inferred, declared, constants, values, issues, unknownOps: [...unknown].sort() };
}
