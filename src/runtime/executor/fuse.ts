/**
 * Execution-only fusions (the graph the user gets back is never fused): tfjs has fused
 * conv2d / depthwiseConv2d / matMul kernels with bias and activation, which the wasm backend
 * runs in one pass. In inference programs a BatchNormalization after a convolution is folded
 * into its filter and bias as well (a derived value, recomputed only when the weights change).
 *
 *   Conv [→ BatchNormalization (inference)] [→ activation]          ⇒ mlopt.exec:FusedConv
 *   MatMul (2-D) → Add (1-D bias) [→ activation] ;  Gemm [→ act.]  ⇒ mlopt.exec:FusedMatMul
 */
import type { Attr, Graph, Node } from '../../ir/graph.js';
import { attrFloat, attrInt } from '../../ir/graph.js';
import type { ValueType } from '../../ir/ops/index.js';
import { EXEC_DOMAIN } from './ops/index.js';

interface FuseEnv {
  graph: Graph;
  types: Map<string, ValueType>;
  mode: 'infer' | 'train';
}

type ActName = 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid' | 'elu';

function activationOf(n: Node, g: Graph): { act: ActName; alpha?: number } | undefined {
  if (n.domain !== '') return undefined;
  switch (n.op) {
    case 'Relu': return { act: 'relu' };
    case 'Sigmoid': return { act: 'sigmoid' };
    case 'LeakyRelu': return { act: 'leakyrelu', alpha: attrFloat(n, 'alpha', 0.01) };
    case 'Elu': return attrFloat(n, 'alpha', 1) === 1 ? { act: 'elu' } : undefined;
    case 'Clip': {
      const num = (i: number): number | undefined => {
        const t = g.initializers.get(n.inputs[i] ?? '');
        return t && t.data.length === 1 ? Number((t.data as ArrayLike<number | bigint>)[0]) : undefined;
      };
      const lo = n.attrs.min ? attrFloat(n, 'min', 0) : num(1);
      const hi = n.attrs.max ? attrFloat(n, 'max', 0) : num(2);
      if (lo === 0 && hi === 6) return { act: 'relu6' };
      if (lo === 0 && hi === undefined && !n.inputs[2]) return { act: 'relu' };
      return undefined;
    }
    default:
      return undefined;
  }
}

export function fuseNodes(env: FuseEnv): Node[] {
  const g = env.graph;
  const uses = new Map<string, Node[]>();
  for (const n of g.nodes) for (const x of n.inputs) if (x) uses.set(x, [...(uses.get(x) ?? []), n]);
  const outputs = new Set(g.outputs.map((o) => o.name));
  /** the single consumer of `value`, when it may be fused away */
  const only = (value: string): Node | undefined => {
    const u = uses.get(value);
    return u && u.length === 1 && !outputs.has(value) ? u[0] : undefined;
  };
  const position = new Map<string, number>();
  g.nodes.forEach((n, k) => n.outputs.forEach((o) => o && position.set(o, k)));
  /** `value` exists before node index `k` runs (so a fused node placed at k may read it) */
  const before = (value: string, k: number): boolean => value === '' || (position.get(value) ?? -1) < k;
  const fusedAway = new Set<Node>();
  const out: Node[] = [];
  const f = (_name: string, value: number): Attr => ({ type: 'float', value });
  const i = (value: number): Attr => ({ type: 'int', value });
  const s = (value: string): Attr => ({ type: 'string', value });

  for (const [k, n] of g.nodes.entries()) {
    if (fusedAway.has(n)) continue;
    if (n.domain !== '') {
      out.push(n);
      continue;
    }
    if (n.op === 'Conv') {
      const inputs = [...n.inputs];
      while (inputs.length < 3) inputs.push('');
      const attrs: Record<string, Attr> = { ...n.attrs };
      let last = n;
      let fused = false;
      const bn = only(n.outputs[0]!);
      if (
        env.mode === 'infer' && bn && bn.op === 'BatchNormalization' && bn.domain === '' && bn.inputs[0] === n.outputs[0] &&
        bn.outputs.filter(Boolean).length === 1 && (bn.layout ?? 'NCHW') === (n.layout ?? 'NCHW') &&
        [1, 2, 3, 4].every((j) => g.initializers.has(bn.inputs[j] ?? ''))
      ) {
        inputs.push(...bn.inputs.slice(1, 5));
        attrs.has_bn = i(1);
        attrs.epsilon = f('epsilon', attrFloat(bn, 'epsilon', 1e-5));
        fusedAway.add(bn);
        last = bn;
        fused = true;
      }
      const nx = only(last.outputs[0]!);
      const a = nx ? activationOf(nx, g) : undefined;
      if (nx && a && nx.inputs[0] === last.outputs[0]) {
        attrs.activation = s(a.act);
        if (a.alpha !== undefined) attrs.alpha = f('alpha', a.alpha);
        fusedAway.add(nx);
        last = nx;
        fused = true;
      }
      if (!fused) {
        out.push(n);
        continue;
      }
      out.push({ ...n, domain: EXEC_DOMAIN, op: 'FusedConv', inputs, outputs: [last.outputs[0]!], attrs });
      continue;
    }
    if (n.op === 'MatMul' || n.op === 'Gemm') {
      const ra = env.types.get(n.inputs[0] ?? '')?.shape?.length;
      const rb = env.types.get(n.inputs[1] ?? '')?.shape?.length;
      if (ra !== 2 || rb !== 2) {
        out.push(n);
        continue;
      }
      const attrs: Record<string, Attr> = {};
      let bias = '';
      let last = n;
      if (n.op === 'Gemm') {
        if (attrFloat(n, 'alpha', 1) !== 1 || (n.inputs[2] && attrFloat(n, 'beta', 1) !== 1)) {
          out.push(n);
          continue;
        }
        attrs.transA = i(attrInt(n, 'transA', 0));
        attrs.transB = i(attrInt(n, 'transB', 0));
        bias = n.inputs[2] ?? '';
      } else {
        const add = only(n.outputs[0]!);
        const other = add && add.op === 'Add' && add.domain === '' && add.inputs.length === 2 ? add.inputs.find((x) => x !== n.outputs[0]) : undefined;
        const bshape = other ? env.types.get(other)?.shape : undefined;
        if (add && other && bshape && bshape.length === 1 && before(other, k)) {
          bias = other;
          fusedAway.add(add);
          last = add;
        }
      }
      const nx = only(last.outputs[0]!);
      const a = nx ? activationOf(nx, g) : undefined;
      if (nx && a && nx.inputs[0] === last.outputs[0]) {
        attrs.activation = s(a.act);
        if (a.alpha !== undefined) attrs.leak = f('leak', a.alpha);
        fusedAway.add(nx);
        last = nx;
      }
      if (last === n) {
        out.push(n);
        continue;
      }
      out.push({ ...n, domain: EXEC_DOMAIN, op: 'FusedMatMul', inputs: [n.inputs[0]!, n.inputs[1]!, bias], outputs: [last.outputs[0]!], attrs });
      continue;
    }
    out.push(n);
  }
  return out;
}
