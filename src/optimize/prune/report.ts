/**
 * What pruning did, layer by layer, counted on the stripped graph (the weights as written):
 * every layer with prunable weights gets a row — pruned, or kept dense and why (first layer,
 * last layer, not selected, excluded) — and the totals over the pruned weights and over all
 * the model's float parameters (biases, normalization and dense layers included).
 */
import { isFloatDType } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import { countNonZeros } from './strip.js';
import type { PrunableWeight } from './select.js';

export interface PruneLayer {
  /** the layer (IR node name) */
  node: string;
  op: string;
  /** its weight (initializer name); '' when the layer reads no constant weight */
  weight: string;
  shape: number[];
  params: number;
  nonZeros: number;
  /** zeros / params, measured on the written weights */
  sparsity: number;
  pruned: boolean;
  /** for a layer left dense: why ("first layer", "last layer", "excluded", ...) */
  keptDense?: string;
}

export interface SparsityCount {
  params: number;
  nonZeros: number;
  sparsity: number;
}

export interface PruneTotals {
  /** the pruned weights only */
  pruned: SparsityCount;
  /** every float parameter of the model (weights, biases, normalization, dense layers) */
  all: SparsityCount;
}

const count = (params: number, nonZeros: number): SparsityCount => ({ params, nonZeros, sparsity: params ? (params - nonZeros) / params : 0 });

/** The first float initializer with ≥ 2 dims a node reads (its kernel / weight matrix). */
function weightOf(g: Graph, node: string): string | undefined {
  const n = g.nodes.find((x) => x.name === node);
  return n?.inputs.find((i) => {
    const t = i ? g.initializers.get(i) : undefined;
    return !!t && isFloatDType(t.dtype) && t.shape.length >= 2;
  });
}

export function layerReport(g: Graph, weights: PrunableWeight[], skipped: Array<{ node: string; reason: string }>): { layers: PruneLayer[]; totals: PruneTotals } {
  const rows: PruneLayer[] = [];
  let pp = 0;
  let pnz = 0;
  for (const w of weights) {
    const t = g.initializers.get(w.initializer);
    const c = t ? countNonZeros(t) : { params: 0, nonZeros: 0 };
    pp += c.params;
    pnz += c.nonZeros;
    rows.push({ node: w.node, op: w.op, weight: w.initializer, shape: [...w.shape], ...count(c.params, c.nonZeros), pruned: true });
  }
  for (const s of skipped) {
    const name = weightOf(g, s.node);
    const t = name ? g.initializers.get(name) : undefined;
    const c = t ? countNonZeros(t) : { params: 0, nonZeros: 0 };
    const op = g.nodes.find((n) => n.name === s.node)?.op ?? '';
    rows.push({ node: s.node, op, weight: name ?? '', shape: t ? [...t.shape] : [], ...count(c.params, c.nonZeros), pruned: false, keptDense: s.reason });
  }
  // rows in graph order
  const order = new Map(g.nodes.map((n, i) => [n.name, i]));
  rows.sort((a, b) => (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0));
  let ap = 0;
  let anz = 0;
  for (const t of g.initializers.values()) {
    if (!isFloatDType(t.dtype) || t.shape.length === 0) continue;
    const c = countNonZeros(t);
    ap += c.params;
    anz += c.nonZeros;
  }
  return { layers: rows, totals: { pruned: count(pp, pnz), all: count(ap, anz) } };
}
