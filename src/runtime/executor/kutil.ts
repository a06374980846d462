/**
 * Small helpers for the kernels: attributes with defaults, operands that moved from attribute
 * to input between opsets.
 */
import type { Node } from '../../ir/graph.js';
import { attrFloat, attrInt, attrInts, attrString } from '../../ir/graph.js';
import type { CompileCtx, RunCtx, Tf, TfTensor, Val } from './types.js';

export const int = (n: Node, name: string, d: number): number => attrInt(n, name, d);
export const float = (n: Node, name: string, d: number): number => attrFloat(n, name, d);
export const ints = (n: Node, name: string): number[] | undefined => attrInts(n, name);
export const str = (n: Node, name: string, d: string): string => attrString(n, name, d);

/** Normalise a possibly negative axis. */
export function axisOf(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/** An integer-list operand given either as attribute `attr` (older opsets) or as input `i`. */
export function intsOperand(c: CompileCtx, i: number, attr: string | undefined): ((ins: Array<Val | undefined>, rt: RunCtx) => number[] | undefined) {
  const a = attr ? attrInts(c.node, attr) : undefined;
  if (a) return () => a;
  const name = c.node.inputs[i];
  if (!name) return () => undefined;
  const k = c.constNumbers(i);
  if (k) return () => k;
  return (ins, rt) => (ins[i] ? rt.ints(ins[i]!) : undefined);
}

/** A scalar operand from attribute or input, with a default. */
export function scalarOperand(c: CompileCtx, i: number, attr: string | undefined, dflt: number | undefined): ((ins: Array<Val | undefined>, rt: RunCtx) => number | undefined) {
  if (attr && c.node.attrs[attr]) {
    const v = attrFloat(c.node, attr, 0);
    return () => v;
  }
  if (!c.node.inputs[i]) return () => dflt;
  const k = c.constNumbers(i);
  if (k) return () => k[0];
  return (ins, rt) => {
    const v = ins[i];
    if (!v) return dflt;
    return rt.h(v).data[0];
  };
}

/** Activations the fused conv / matmul kernels apply after the bias. */
export type Act = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid' | 'elu';

export function applyAct(tf: Tf, y: TfTensor, act: Act, alpha: number): TfTensor {
  switch (act) {
    case 'linear': return y;
    case 'relu': return tf.relu(y);
    case 'relu6': return tf.relu6(y);
    case 'leakyrelu': return tf.leakyRelu(y, alpha);
    case 'sigmoid': return tf.sigmoid(y);
    case 'elu': return tf.elu(y);
  }
}
