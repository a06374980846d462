/**
 * Graph validation: structure (every input defined before use, single producers, topological
 * order, outputs produced), catalogue conformance (required inputs, attribute types) and
 * type consistency (what the shape rules infer vs the declared value_info / outputs).
 *
 * Subgraph bodies (graph attributes of If / Loop / Scan...) are validated too; they may read
 * any value of the enclosing scopes (ONNX lexical scoping), so those uses are not dangling.
 * Issues carry a severity: `assertValid` throws on errors only; warnings (unknown attributes,
 * an op newer than the graph's opset, duplicate node names) are informational.
 */
import type { Graph, Node } from './graph.js';
import { MloptError } from '../util/errors.js';
import { getOp, graphOpset, isCatalogued } from './ops/catalogue.js';
import { fmtShape, shapesConflict } from './ops/dims.js';
import { type GraphTypes, inferGraphTypes } from './ops/engine.js';
import type { AttrType, OpDef } from './ops/types.js';
import { attrsAt, inputsAt, outputsAt, type ResolvedIO } from './ops/versions.js';

export type IssueKind =
  | 'dangling-input' // a node reads a value nothing defines
  | 'duplicate-producer' // a value is produced twice (or produced and also a graph input / initializer)
  | 'cycle' // nodes depend on each other in a loop
  | 'out-of-order' // a node reads a value produced by a later node (no cycle)
  | 'output-not-produced' // a graph output nothing defines
  | 'missing-input' // a required input of a catalogued op is absent
  | 'too-many-inputs'
  | 'missing-output'
  | 'too-many-outputs'
  | 'missing-attr' // a required attribute is absent
  | 'bad-attr-type' // an attribute has the wrong type
  | 'unknown-attr' // (warning) an attribute the op does not have at this opset
  | 'op-not-in-opset' // (warning) the op is newer than the graph's opset
  | 'duplicate-node-name' // (warning)
  | 'shape-error' // the op's shape rule found the node inconsistent
  | 'dtype-mismatch' // inferred dtype differs from the declared one
  | 'shape-mismatch'; // inferred shape contradicts the declared one (rank or a concrete dim)

export interface ValidationIssue {
  kind: IssueKind;
  severity: 'error' | 'warning';
  message: string;
  node?: string;
  value?: string;
  /** where: '' for the main graph, else the path of the subgraph (`node.attr/node.attr`). */
  graph: string;
}

export interface ValidateOptions {
  /** default-domain opset (default: the graph's). */
  opset?: number;
}

interface Scope {
  names: Set<string>;
  types?: GraphTypes;
}

const WARNINGS = new Set<IssueKind>(['unknown-attr', 'op-not-in-opset', 'duplicate-node-name']);

export function validateGraph(graph: Graph, opts: ValidateOptions = {}): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  validateIn(graph, opts.opset ?? graphOpset(graph), { names: new Set() }, '', issues);
  return issues;
}

/** Throws MloptError('INVALID_GRAPH') naming the first error and how many there are. */
export function assertValid(graph: Graph, opts: ValidateOptions = {}): void {
  const errors = validateGraph(graph, opts).filter((i) => i.severity === 'error');
  const first = errors[0];
  if (!first) return;
  const where = first.graph ? ` (in subgraph ${first.graph})` : '';
  const more = errors.length > 1 ? ` — ${errors.length} errors in all` : '';
  throw new MloptError('INVALID_GRAPH', `invalid graph '${graph.name}': ${first.message}${where}${more}`, 'run `mlopt inspect --ir` to see the graph');
}

function validateIn(graph: Graph, opset: number, outer: Scope, path: string, issues: ValidationIssue[]): void {
  const report = (kind: IssueKind, message: string, extra: { node?: string; value?: string } = {}): void => {
    issues.push({ kind, severity: WARNINGS.has(kind) ? 'warning' : 'error', message, ...extra, graph: path });
  };
  const defined = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  const producers = new Map<string, number>();
  const names = new Set<string>();

  graph.nodes.forEach((node, i) => {
    if (node.name !== '' && names.has(node.name)) report('duplicate-node-name', `node name '${node.name}' is used twice`, { node: node.name });
    names.add(node.name);
    for (const out of node.outputs) {
      if (out === '') continue;
      const prev = producers.get(out);
      if (prev !== undefined) {
        report('duplicate-producer', `value '${out}' is produced by node '${graph.nodes[prev]?.name}' and again by node '${node.name}'`, { node: node.name, value: out });
      } else if (defined.has(out)) {
        report('duplicate-producer', `node '${node.name}' produces '${out}', which is already a graph input or initializer`, { node: node.name, value: out });
      } else producers.set(out, i);
    }
  });

  // uses: dangling, or produced at/after the using node (cycle or out-of-order)
  const deps: number[][] = graph.nodes.map(() => []);
  const late: { user: number; producer: number; value: string }[] = [];
  graph.nodes.forEach((node, i) => {
    for (const name of node.inputs) {
      if (name === '' || defined.has(name)) continue;
      const j = producers.get(name);
      if (j !== undefined) {
        (deps[i] as number[]).push(j);
        if (j >= i) late.push({ user: i, producer: j, value: name });
      } else if (!outer.names.has(name)) {
        report('dangling-input', `node '${node.name}' (${node.op}) reads '${name}', which no node, graph input or initializer defines`, { node: node.name, value: name });
      }
    }
  });
  if (late.length > 0) {
    const comp = sccs(deps);
    const size = new Map<number, number>();
    for (const c of comp) size.set(c, (size.get(c) ?? 0) + 1);
    const cycleReported = new Set<number>();
    for (const { user, producer, value } of late) {
      const c = comp[user] as number;
      const node = graph.nodes[user] as Node;
      if (user === producer || (c === comp[producer] && (size.get(c) ?? 0) > 1)) {
        if (cycleReported.has(c)) continue;
        cycleReported.add(c);
        const members = graph.nodes.filter((_, k) => comp[k] === c).map((n) => `'${n.name}'`);
        const list = members.length > 5 ? `${members.slice(0, 5).join(', ')}... (${members.length} nodes)` : members.join(', ');
        report('cycle', `nodes ${list} form a cycle`, { node: node.name, value });
      } else {
        report('out-of-order', `node '${node.name}' reads '${value}' before node '${graph.nodes[producer]?.name}' produces it (nodes are not in topological order)`, { node: node.name, value });
      }
    }
  }

  for (const v of graph.outputs) {
    if (!defined.has(v.name) && !producers.has(v.name) && !outer.names.has(v.name)) {
      report('output-not-produced', `graph output '${v.name}' is not produced by any node`, { value: v.name });
    }
  }

  for (const node of graph.nodes) {
    const def = isCatalogued(node) ? getOp(node.op) : undefined;
    if (def) checkNode(node, def, opset, report);
  }

  const types = inferGraphTypes(graph, { opset, outer: outer.types });
  for (const issue of types.issues) report('shape-error', issue.message, { node: issue.node });
  for (const [name, inf] of types.inferred) {
    const dec = types.declared.get(name);
    if (!dec || defined.has(name)) continue; // a node writing over an input / initializer is reported above
    if (dec.dtype !== undefined && inf.dtype !== undefined && dec.dtype !== inf.dtype) {
      report('dtype-mismatch', `value '${name}' is declared ${dec.dtype} but its producer makes ${inf.dtype}`, { value: name });
    }
    if (shapesConflict(dec.shape, inf.shape)) {
      report('shape-mismatch', `value '${name}' is declared ${fmtShape(dec.shape)} but its producer makes ${fmtShape(inf.shape)}`, { value: name });
    }
  }

  // subgraph bodies see every value of this graph and of the enclosing scopes
  const visible = new Set<string>([...outer.names, ...defined, ...producers.keys()]);
  for (const node of graph.nodes) {
    for (const [attrName, a] of Object.entries(node.attrs)) {
      const bodies = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      bodies.forEach((body, k) => {
        const sub = `${path ? `${path}/` : ''}${node.name}.${attrName}${a.type === 'graphs' ? `[${k}]` : ''}`;
        validateIn(body, opset, { names: visible, types }, sub, issues);
      });
    }
  }
}

type Report = (kind: IssueKind, message: string, extra?: { node?: string; value?: string }) => void;

/** Required slots present, and no more slots than the op has (unless its last slot is variadic). */
function checkSlots(node: Node, slots: ResolvedIO[], given: string[], what: 'input' | 'output', report: Report): void {
  let last = given.length - 1;
  while (last >= 0 && given[last] === '') last--;
  const variadic = slots[slots.length - 1]?.variadic === true;
  slots.forEach((s, k) => {
    if (s.optional) return;
    const present = k < given.length && given[k] !== '';
    if (!present) {
      report(what === 'input' ? 'missing-input' : 'missing-output',
        `${node.op} node '${node.name}' lacks its required ${what} ${k} (${s.name})`, { node: node.name });
    }
  });
  if (!variadic && last + 1 > slots.length) {
    report(what === 'input' ? 'too-many-inputs' : 'too-many-outputs',
      `${node.op} node '${node.name}' has ${last + 1} ${what}s; the op takes at most ${slots.length}`, { node: node.name });
  }
}

function attrTypeOk(expected: AttrType, actual: AttrType): boolean {
  if (expected === actual) return true;
  if (expected === 'float' && actual === 'int') return true;
  if (expected === 'floats' && actual === 'ints') return true;
  return false;
}

function checkNode(node: Node, def: OpDef, opset: number, report: Report): void {
  if (def.since !== undefined && opset < def.since) {
    report('op-not-in-opset', `${node.op} (node '${node.name}') exists from opset ${def.since}; the graph imports opset ${opset}`, { node: node.name });
  }
  checkSlots(node, inputsAt(def, opset), node.inputs, 'input', report);
  checkSlots(node, outputsAt(def, opset), node.outputs, 'output', report);
  const specs = attrsAt(def, opset);
  for (const [name, a] of Object.entries(node.attrs)) {
    const spec = specs[name];
    if (!spec) {
      report('unknown-attr', `${node.op} node '${node.name}' has attribute '${name}', which ${node.op} does not have at opset ${opset}`, { node: node.name });
    } else if (!attrTypeOk(spec.type, a.type)) {
      report('bad-attr-type', `attribute '${name}' of ${node.op} node '${node.name}' is ${a.type}; expected ${spec.type}`, { node: node.name });
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && !(name in node.attrs)) {
      report('missing-attr', `${node.op} node '${node.name}' lacks its required attribute '${name}'`, { node: node.name });
    }
  }
}

/** Strongly connected components (iterative Tarjan); returns the component id of each node. */
function sccs(deps: readonly number[][]): number[] {
  const n = deps.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const comp = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let next = 0;
  let compCount = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length > 0) {
      const top = work[work.length - 1] as [number, number];
      const [v, ei] = top;
      if (ei === 0 && index[v] === -1) {
        index[v] = low[v] = next++;
        stack.push(v);
        onStack[v] = true;
      }
      const edges = deps[v] as number[];
      if (ei < edges.length) {
        top[1] = ei + 1;
        const w = edges[ei] as number;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v] as number, index[w] as number);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]] as number, low[v] as number);
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = false;
          comp[w] = compCount;
        } while (w !== v);
        compCount++;
      }
    }
  }
  return comp;
}
