/**
 * Shape inference pass: fills and refines the dtype / shape of intermediate values
 * (`graph.valueInfo`) from the op catalogue's shape rules.
 *
 * - Walks nodes in order; a value's best-known type merges its declaration with the inferred
 *   type (declared dtype wins; per dim the more specific wins: number > symbol > '?', ties go
 *   to the declaration). Existing value_info is never dropped.
 * - Graph inputs are never touched; graph outputs only get a missing dtype or shape filled.
 * - Ops outside the catalogue (other domains, unknown names) leave their outputs unknown and
 *   are listed in `unknownOps`; a node whose rule finds an inconsistency (e.g. shapes that
 *   do not broadcast) is listed in `issues` and its outputs stay as declared (or, with
 *   `strict`, the pass throws).
 * - Subgraph bodies (If / Loop / Scan) are not descended into.
 * The input graph is not modified; the result shares everything but `valueInfo` / `outputs`.
 */
import type { Graph, Value } from '../ir/graph.js';
import type { Dim } from '../ir/tensor.js';
import { MloptError } from '../util/errors.js';
import { type InferenceIssue, inferGraphTypes, mergeTypes } from '../ir/ops/engine.js';
import type { ValueType } from '../ir/ops/types.js';

export interface ShapeInferenceOptions {
  /** throw MloptError('SHAPE_MISMATCH') on the first inconsistent node instead of reporting it. */
  strict?: boolean;
}

export interface ShapeInferenceResult {
  graph: Graph;
  modified: boolean;
  /** ops without a shape rule (op, or domain:op), sorted. */
  unknownOps: string[];
  /** nodes whose shape rule failed. */
  issues: InferenceIssue[];
}

function sameShape(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function withType(v: Value, t: ValueType): Value {
  const out: Value = { ...v };
  if (t.dtype !== undefined) out.dtype = t.dtype;
  if (t.shape !== undefined) out.shape = t.shape;
  return out;
}

export function inferShapes(graph: Graph, opts: ShapeInferenceOptions = {}): ShapeInferenceResult {
  const r = inferGraphTypes(graph);
  if (opts.strict && r.issues.length > 0) {
    const first = r.issues[0] as InferenceIssue;
    const more = r.issues.length > 1 ? ` (and ${r.issues.length - 1} more)` : '';
    throw new MloptError('SHAPE_MISMATCH', `${first.message}${more}`);
  }
  let modified = false;
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const outputs = new Set(graph.outputs.map((v) => v.name));

  const seen = new Set<string>();
  const valueInfo = graph.valueInfo.map((v) => {
    seen.add(v.name);
    const inf = r.inferred.get(v.name);
    if (!inf || inputs.has(v.name)) return v;
    const m = mergeTypes({ dtype: v.dtype, shape: v.shape }, inf);
    if (m.dtype === v.dtype && sameShape(m.shape, v.shape)) return v;
    modified = true;
    return withType(v, m);
  });
  for (const node of graph.nodes) {
    for (const name of node.outputs) {
      if (name === '' || seen.has(name) || inputs.has(name) || outputs.has(name) || graph.initializers.has(name)) continue;
      seen.add(name);
      const t = r.inferred.get(name);
      if (!t || (t.dtype === undefined && t.shape === undefined)) continue;
      valueInfo.push(withType({ name }, t));
      modified = true;
    }
  }
  const newOutputs = graph.outputs.map((v) => {
    const t = r.inferred.get(v.name);
    if (!t) return v;
    const fill: ValueType = {};
    if (v.dtype === undefined && t.dtype !== undefined) fill.dtype = t.dtype;
    if (v.shape === undefined && t.shape !== undefined) fill.shape = t.shape;
    if (fill.dtype === undefined && fill.shape === undefined) return v;
    modified = true;
    return withType(v, fill);
  });
  if (!modified) return { graph, modified, unknownOps: r.unknownOps, issues: r.issues };
  return { graph: { ...graph, valueInfo, outputs: newOutputs }, modified, unknownOps: r.unknownOps, issues: r.issues };
}
