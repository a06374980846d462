/** Matrix products: MatMul (numpy semantics), Gemm, Einsum. */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, broadcastDim, broadcastShapes, isKnownDim } from './dims.js';
import type { InferContext, OpDef } from './types.js';

function checkInner(ctx: InferContext, k1: Dim, k2: Dim): void {
  if (isKnownDim(k1) && isKnownDim(k2) && k1 !== k2) ctx.fail(`inner dimensions differ: ${k1} vs ${k2}`);
}

/**
 * numpy.matmul shapes: a 1-D first operand gets a leading 1 and a 1-D second operand a
 * trailing 1, both removed from the result; leading (batch) dims broadcast.
 */
export function matmulShape(ctx: InferContext, a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul operands must have rank ≥ 1');
  const aa = a.length === 1 ? [1, a[0] as Dim] : [...a];
  const bb = b.length === 1 ? [b[0] as Dim, 1] : [...b];
  checkInner(ctx, aa[aa.length - 1] as Dim, bb[bb.length - 2] as Dim);
  const batch = broadcastShapes([aa.slice(0, -2), bb.slice(0, -2)], (m) => ctx.fail(m)) ?? [];
  const out: Dim[] = [...batch];
  if (a.length !== 1) out.push(aa[aa.length - 2] as Dim);
  if (b.length !== 1) out.push(bb[bb.length - 1] as Dim);
  return out;
}

function gemmShape(ctx: InferContext): Dim[] | undefined {
  const a = ctx.shape(0);
  const b = ctx.shape(1);
  let m: Dim = UNKNOWN_DIM;
  let n: Dim = UNKNOWN_DIM;
  let ka: Dim = UNKNOWN_DIM;
  let kb: Dim = UNKNOWN_DIM;
  if (a) {
    if (a.length !== 2) ctx.fail(`A must be 2-D, got rank ${a.length}`);
    [m, ka] = ctx.int('transA', 0) ? [a[1] as Dim, a[0] as Dim] : [a[0] as Dim, a[1] as Dim];
  }
  if (b) {
    if (b.length !== 2) ctx.fail(`B must be 2-D, got rank ${b.length}`);
    [kb, n] = ctx.int('transB', 0) ? [b[1] as Dim, b[0] as Dim] : [b[0] as Dim, b[1] as Dim];
  }
  if (!a && !b) return undefined;
  checkInner(ctx, ka, kb);
  const c = ctx.shape(2);
  if (c && c.length <= 2 && !(ctx.opset < 7 && ctx.int('broadcast', 0) === 0)) {
    // C broadcasts onto [M, N] (unidirectionally): each of its dims is 1 or the output's.
    const out = [m, n];
    c.forEach((d, i) => {
      const o = out[2 - c.length + i] as Dim;
      const r = broadcastDim(o, d, (msg) => ctx.fail(`C does not broadcast to [M, N]: ${msg}`));
      if (isKnownDim(r) && isKnownDim(o) && r !== o) ctx.fail(`C does not broadcast to [${m},${n}]`);
    });
  }
  return [m, n];
}

/** Einsum shapes from the equation (explicit "->" output or the implicit alphabetical one). */
function einsumShape(ctx: InferContext): Dim[] | undefined {
  const eq = (ctx.string('equation') ?? '').replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  const letters = new Map<string, Dim>();
  const counts = new Map<string, number>();
  let ellipsis: Dim[] | undefined = [];
  for (let t = 0; t < terms.length; t++) {
    const term = terms[t] as string;
    const shape = ctx.shape(t);
    const labels = term.replace('...', '');
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    if (!shape) {
      if (term.includes('...')) ellipsis = undefined;
      continue;
    }
    const ell = shape.length - labels.length;
    if (ell < 0 || (ell > 0 && !term.includes('...'))) ctx.fail(`term ${term} does not match input rank ${shape.length}`);
    const at = term.indexOf('...');
    let j = 0;
    for (let i = 0; i < term.length; i++) {
      if (i === at) {
        const e = shape.slice(j, j + ell);
        if (ellipsis) ellipsis = broadcastShapes([ellipsis, e], (m) => ctx.fail(m));
        j += ell;
        i += 2;
        continue;
      }
      const l = term[i] as string;
      const d = shape[j++] as Dim;
      const prev = letters.get(l);
      if (prev === undefined || prev === 1 || (!isKnownDim(prev) && isKnownDim(d))) letters.set(l, d);
    }
  }
  const out = rhs ?? [...counts.keys()].filter((l) => counts.get(l) === 1).sort().join('');
  const res: Dim[] = [];
  const implicitEllipsis = rhs === undefined && lhs.includes('...');
  if (implicitEllipsis) {
    if (!ellipsis) return undefined;
    res.push(...ellipsis);
  }
  for (let i = 0; i < out.length; i++) {
    if (out.startsWith('...', i)) {
      if (!ellipsis) return undefined;
      res.push(...ellipsis);
      i += 2;
      continue;
    }
    res.push(letters.get(out[i] as string) ?? UNKNOWN_DIM);
  }
  return res;
}

export const MATH_OPS: OpDef[] = [
  {
    name: 'MatMul', category: 'math',
    inputs: [{ name: 'A' }, { name: 'B' }], outputs: [{ name: 'Y' }], attrs: {},
    infer: (ctx) => [{ dtype: ctx.dtype(0) ?? ctx.dtype(1), shape: matmulShape(ctx, ctx.shape(0), ctx.shape(1)) }],
  },
  {
    name: 'Gemm', category: 'math',
    inputs: [{ name: 'A' }, { name: 'B' }, { name: 'C', optionalSince: 11 }], outputs: [{ name: 'Y' }],
    attrs: {
      alpha: { type: 'float', default: 1 },
      beta: { type: 'float', default: 1 },
      transA: { type: 'int', default: 0 },
      transB: { type: 'int', default: 0 },
      broadcast: { type: 'int', default: 0, before: 7 },
    },
    infer: (ctx) => [{ dtype: ctx.dtype(0) ?? ctx.dtype(1), shape: gemmShape(ctx) }],
  },
  {
    name: 'Det', category: 'math', since: 11,
    inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }], attrs: {},
    infer: (ctx) => {
      const s = ctx.shape(0);
      if (s && s.length < 2) ctx.fail(`input must have rank ≥ 2, got ${s.length}`);
      return [{ dtype: ctx.dtype(0), shape: s?.slice(0, -2) }];
    },
  },
  {
    name: 'Einsum', category: 'math', since: 12,
    inputs: [{ name: 'Inputs', variadic: true }], outputs: [{ name: 'Output' }],
    attrs: { equation: { type: 'string', required: true } },
    infer: (ctx) => [{ dtype: ctx.dtype(0), shape: einsumShape(ctx) }],
  },
];
