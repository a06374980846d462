/**
 * Which weights pruning touches: the weight tensors of Conv (also depthwise / grouped),
 * ConvTranspose, MatMul and Gemm nodes that are float initializers — never biases or
 * normalization parameters (the same set tfmot prunes: Conv / DepthwiseConv / Dense kernels).
 *
 * A layer is an IR node. `--layers` / `--exclude` patterns (`*` any run of characters, `?` one
 * character, case-sensitive) match a node when they match any of: the node name, the weight
 * initializer's name, or one '/'-separated part of either — so `fc1` selects the Keras layer
 * `fc1` (node `fc1/matmul/MatMul`) as well as the tfjs node `.../fmnist_cnn/fc1/Relu/Gemm`.
 *
 * By default the first and the last prunable layer (graph order = topological order) stay dense:
 * they hold few weights and cost the most accuracy. This applies when there are at least three
 * prunable layers and no `--layers` list (an explicit list is the user's choice); either can be
 * overridden with `keepFirstLast`.
 *
 * Weight layouts are ONNX's whatever the source format (the Keras, TFLite and tfjs importers
 * move kernels to OIHW), so `inputAxis` is: Conv [O, I/g, k…] → 1 (depthwise, [C·mult, 1, k…]
 * → 0: its channel axis); ConvTranspose [I, O/g, k…] → 0; MatMul B [in, out] → 0 (a constant
 * A [out, in] → 1); Gemm B → 1 with transB, else 0.
 */
import { attrInt, type Graph, type Node } from '../../ir/graph.js';
import { assertNotQuantized } from '../../ir/edit.js';
import { isFloatDType } from '../../ir/dtype.js';
import { MloptError } from '../../util/errors.js';

export interface PrunableWeight {
  /** IR initializer name */
  initializer: string;
  /** IR node name (the layer) */
  node: string;
  /** Conv | MatMul | Gemm | ConvTranspose */
  op: string;
  shape: number[];
  /** axis of the input channels in this tensor (for n:m groups and for block's 2-D view) */
  inputAxis: number;
}

export interface SelectOptions {
  layers?: string[];
  exclude?: string[];
  /** leave the first and last prunable layer dense (default: true unless `layers` is given) */
  keepFirstLast?: boolean;
  /** the model's path, for messages (default: the graph's name) */
  source?: string;
}

export interface Selection {
  weights: PrunableWeight[];
  skipped: Array<{ node: string; reason: string }>;
}

export const PRUNABLE_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

type Candidate = { node: Node; weight?: PrunableWeight; reason?: string };

function weightOf(g: Graph, n: Node): PrunableWeight | string {
  const floatInit = (name: string | undefined) => {
    const t = name ? g.initializers.get(name) : undefined;
    return t && isFloatDType(t.dtype) ? t : undefined;
  };
  const make = (index: number, inputAxis: number): PrunableWeight => {
    const name = n.inputs[index]!;
    return { initializer: name, node: n.name, op: n.op, shape: [...g.initializers.get(name)!.shape], inputAxis };
  };
  switch (n.op) {
    case 'Conv':
    case 'ConvTranspose': {
      const w = floatInit(n.inputs[1]);
      if (!w) return 'its weight is not a float constant';
      if (w.shape.length < 3) return `its weight has rank ${w.shape.length}`;
      if (n.op === 'ConvTranspose') return make(1, 0);
      const depthwise = attrInt(n, 'group', 1) > 1 && w.shape[1] === 1;
      return make(1, depthwise ? 0 : 1);
    }
    case 'MatMul': {
      const b = floatInit(n.inputs[1]);
      if (b && b.shape.length === 2) return make(1, 0);
      const a = floatInit(n.inputs[0]);
      if (!b && a && a.shape.length === 2) return make(0, 1);
      return b || a ? 'its constant operand is not a 2-D matrix' : 'neither operand is a float constant';
    }
    case 'Gemm': {
      const b = floatInit(n.inputs[1]);
      if (!b) return 'its B operand is not a float constant';
      return make(1, attrInt(n, 'transB', 0) ? 1 : 0);
    }
    default:
      return 'not a prunable op';
  }
}

/** `*` / `?` wildcard → anchored RegExp */
function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function namesOf(c: Candidate): string[] {
  const names = [c.node.name, ...(c.weight ? [c.weight.initializer] : [])];
  return [...names, ...names.flatMap((s) => s.split('/'))].filter((s) => s.length > 0);
}

function matcher(patterns: string[]): (c: Candidate) => string | undefined {
  const res = patterns.map((p) => ({ p, re: wildcard(p) }));
  return (c) => {
    const names = namesOf(c);
    return res.find(({ re }) => names.some((s) => re.test(s)))?.p;
  };
}

export function findPrunable(graph: Graph, opts: SelectOptions = {}): Selection {
  const source = opts.source ?? graph.name;
  assertNotQuantized(graph, source);
  const skipped: Selection['skipped'] = [];
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const n of graph.nodes) {
    if (n.domain !== '' || !PRUNABLE_OPS.has(n.op)) continue;
    const w = weightOf(graph, n);
    if (typeof w === 'string') {
      skipped.push({ node: n.name, reason: w });
      continue;
    }
    if (seen.has(w.initializer)) {
      skipped.push({ node: n.name, reason: `its weight ${w.initializer} is shared with an earlier layer` });
      continue;
    }
    seen.add(w.initializer);
    candidates.push({ node: n, weight: w });
  }
  if (candidates.length === 0) {
    throw new MloptError('UNSUPPORTED', `${source}: no prunable layer (Conv, MatMul, Gemm weights) — pruning needs float constant weights on Conv, ConvTranspose, MatMul or Gemm nodes`);
  }
  const listing = () => candidates.map((c) => c.node.name).slice(0, 12).join(', ') + (candidates.length > 12 ? ', ...' : '');

  let chosen = candidates;
  if (opts.layers && opts.layers.length > 0) {
    for (const p of opts.layers) {
      if (!candidates.some((c) => matcher([p])(c))) {
        throw new MloptError('USAGE', `--layers "${p}" matches no prunable layer; prunable layers: ${listing()}`);
      }
    }
    const sel = matcher(opts.layers);
    chosen = [];
    for (const c of candidates) {
      if (sel(c)) chosen.push(c);
      else skipped.push({ node: c.node.name, reason: 'not selected by --layers' });
    }
  }
  if (opts.exclude && opts.exclude.length > 0) {
    for (const p of opts.exclude) {
      if (!candidates.some((c) => matcher([p])(c))) {
        throw new MloptError('USAGE', `--exclude "${p}" matches no prunable layer; prunable layers: ${listing()}`);
      }
    }
    const ex = matcher(opts.exclude);
    chosen = chosen.filter((c) => {
      const p = ex(c);
      if (p !== undefined) skipped.push({ node: c.node.name, reason: `excluded by --exclude "${p}"` });
      return p === undefined;
    });
  }
  const keepFirstLast = opts.keepFirstLast ?? !(opts.layers && opts.layers.length > 0);
  if (keepFirstLast && candidates.length >= 3) {
    const first = candidates[0]!;
    const last = candidates[candidates.length - 1]!;
    chosen = chosen.filter((c) => {
      if (c !== first && c !== last) return true;
      skipped.push({ node: c.node.name, reason: `${c === first ? 'first' : 'last'} prunable layer, left dense by default` });
      return false;
    });
  }
  if (chosen.length === 0) {
    throw new MloptError('USAGE', `${source}: the layer selection leaves no layer to prune; prunable layers: ${listing()}`);
  }
  const order = new Map(graph.nodes.map((n, i) => [n.name, i]));
  skipped.sort((a, b) => (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0));
  return { weights: chosen.map((c) => c.weight!), skipped };
}
