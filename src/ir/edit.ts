/**
 * Graph-editing helpers shared by the passes: a copy of a graph that can be edited without
 * touching the original, compact unique names, consumer and producer maps.
 */
import type { Attr, Graph, Node } from './graph.js';
import { feedInputs } from './graph.js';
import type { Tensor } from './tensor.js';
import { MloptError } from '../util/errors.js';

/** A copy whose node list, nodes, value lists and initializer map can be edited freely
 *  (tensor data is shared: passes replace tensors, they never write into them). */
export function copyGraph(g: Graph): Graph {
  return {
    ...g,
    inputs: g.inputs.map((v) => ({ ...v })),
    outputs: g.outputs.map((v) => ({ ...v })),
    valueInfo: g.valueInfo.map((v) => ({ ...v })),
    initializers: new Map(g.initializers),
    ...(g.initializerInfo ? { initializerInfo: new Map(g.initializerInfo) } : {}),
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
    metadata: { ...g.metadata, opsets: g.metadata.opsets.map((o) => ({ ...o })), props: { ...g.metadata.props } },
  };
}

/** Every value and node name used in a graph (subgraphs included), to keep new names unique. */
function usedNames(g: Graph, into = new Set<string>()): Set<string> {
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) into.add(v.name);
  for (const k of g.initializers.keys()) into.add(k);
  for (const n of g.nodes) {
    into.add(n.name);
    for (const x of n.inputs) into.add(x);
    for (const x of n.outputs) into.add(x);
    for (const a of Object.values(n.attrs)) {
      if (a.type === 'graph') usedNames(a.value, into);
      else if (a.type === 'graphs') for (const s of a.value) usedNames(s, into);
    }
  }
  return into;
}

/** Hands out short names (`q:3`, `s:3`...) that clash with nothing in the graph. Short names
 *  matter: a quantized model repeats them in every node, and an int8 file is small. */
export class NameAllocator {
  private readonly used: Set<string>;
  private n = 0;
  constructor(g: Graph) {
    this.used = usedNames(g);
  }
  next(kind: string): string {
    for (;;) {
      const name = `${kind}:${this.n++}`;
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
    }
  }
  /** `base` itself when free, else base + a counter. */
  derive(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

export function consumersOf(g: Graph): Map<string, Array<{ node: Node; index: number }>> {
  const m = new Map<string, Array<{ node: Node; index: number }>>();
  for (const node of g.nodes) {
    node.inputs.forEach((name, index) => {
      if (!name) return;
      let l = m.get(name);
      if (!l) m.set(name, (l = []));
      l.push({ node, index });
    });
  }
  return m;
}

export function producersOf(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** A constant input: an initializer (also when IR < 4 files list it among the graph inputs, as
 *  every exporter of that era did; mlopt never feeds initializers). */
export function constantOf(g: Graph, name: string): Tensor | undefined {
  if (!name) return undefined;
  return g.initializers.get(name);
}

/** Constant nodes with a `value` tensor become initializers, so that weights look the same
 *  whichever way the exporter stored them. Edits `g` in place. */
export function constantNodesToInitializers(g: Graph): void {
  const keep: Node[] = [];
  const outNames = new Set(g.outputs.map((o) => o.name));
  for (const n of g.nodes) {
    const v = n.attrs.value;
    if (n.op === 'Constant' && n.domain === '' && v?.type === 'tensor' && n.outputs.length === 1 && !outNames.has(n.outputs[0]!)) {
      g.initializers.set(n.outputs[0]!, v.value);
      continue;
    }
    keep.push(n);
  }
  g.nodes = keep;
}

const QUANTIZED_OPS = new Set([
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger',
  'MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'QGemm', 'QLinearAdd', 'QLinearMul', 'QLinearConcat', 'QLinearAveragePool',
  'QLinearGlobalAveragePool', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearSoftmax', 'DynamicQuantizeLSTM', 'QAttention',
]);

/** Refuse a model that is already quantized (Q/DQ pairs, integer kernels). */
export function assertNotQuantized(g: Graph, path: string): void {
  const q = g.nodes.find((n) => QUANTIZED_OPS.has(n.op));
  if (q) {
    throw new MloptError('UNSUPPORTED', `${path} is already quantized (it has a ${q.op} node, "${q.name}"); quantize the float model it was made from`);
  }
}

/** Topological check of node order is the importer's job; passes keep order by inserting
 *  new nodes right before their first consumer. */
export function insertBefore(g: Graph, anchor: Node, nodes: Node[]): void {
  const i = g.nodes.indexOf(anchor);
  g.nodes.splice(i < 0 ? g.nodes.length : i, 0, ...nodes);
}

export function node(name: string, op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node {
  return { name, op, domain: '', inputs, outputs, attrs };
}

export { feedInputs };

/** Drop initializers that no node, graph output or graph input reads any more. Edits `g`. */
export function pruneInitializers(g: Graph): void {
  const read = new Set<string>();
  for (const n of g.nodes) for (const x of n.inputs) read.add(x);
  for (const o of g.outputs) read.add(o.name);
  for (const k of [...g.initializers.keys()]) {
    if (!read.has(k) && !g.inputs.some((v) => v.name === k)) {
      g.initializers.delete(k);
      g.initializerInfo?.delete(k);
    }
  }
}
