/**
 * TF.js graph-model handlers for element-wise ops and activations. The common case is a table
 * (IR op → TF op, same inputs; ONNX and TF broadcast alike); functions only where the
 * semantics differ: Clip bounds, Softmax over another axis, Elu with alpha ≠ 1, HardSigmoid,
 * HardSwish and Gelu composed from TF ops.
 */
import type { Node } from '../../../ir/graph.js';
import { attrFloat, attrInt, attrString, opsetVersion } from '../../../ir/graph.js';
import { isFloatDType } from '../../../ir/dtype.js';
import { clipBounds, fusableActivation, type EmitContext, type Handler } from './context.js';
import { A } from './graphdef.js';

/** IR op → TF op taking the same single input */
const UNARY: Record<string, string> = {
  Relu: 'Relu', Sigmoid: 'Sigmoid', Tanh: 'Tanh', Exp: 'Exp', Log: 'Log', Sqrt: 'Sqrt', Abs: 'Abs', Neg: 'Neg',
  Reciprocal: 'Reciprocal', Floor: 'Floor', Ceil: 'Ceil', Round: 'Round', Sin: 'Sin', Cos: 'Cos', Tan: 'Tan',
  Asin: 'Asin', Acos: 'Acos', Atan: 'Atan', Sinh: 'Sinh', Cosh: 'Cosh', Asinh: 'Asinh', Acosh: 'Acosh', Atanh: 'Atanh',
  Erf: 'Erf', Softplus: 'Softplus', Sign: 'Sign', Not: 'LogicalNot', IsNaN: 'IsNan', IsInf: 'IsInf',
};

/** IR op → TF op taking the same two inputs (numpy-style broadcasting on both sides) */
const BINARY: Record<string, string> = {
  Add: 'AddV2', Sub: 'Sub', Mul: 'Mul', Div: 'RealDiv', Pow: 'Pow', Equal: 'Equal', Greater: 'Greater', Less: 'Less',
  GreaterOrEqual: 'GreaterEqual', LessOrEqual: 'LessEqual', And: 'LogicalAnd', Or: 'LogicalOr',
};

/** variadic IR ops folded pairwise */
const VARIADIC: Record<string, string> = { Sum: 'AddV2', Max: 'Maximum', Min: 'Minimum' };

function tAttr(c: EmitContext, v: string): Record<string, ReturnType<typeof A.type>> {
  return { T: A.type(c.dtype(v)) };
}

const unary: Handler = (n, c) => {
  const x = n.inputs[0]!;
  const attrs = n.op === 'Not' ? {} : tAttr(c, x);
  c.bind(n.outputs[0]!, c.op(UNARY[n.op]!, n.outputs[0]!, [c.ref(x)], attrs));
};

const binary: Handler = (n, c) => {
  const [a, b] = n.inputs as [string, string];
  if (n.op === 'Div' && !isFloatDType(c.dtype(a) ?? 'float32')) c.fail(n, 'integer division (TF.js floors, ONNX truncates)');
  const attrs = ['And', 'Or'].includes(n.op) ? {} : tAttr(c, a);
  c.bind(n.outputs[0]!, c.op(BINARY[n.op]!, n.outputs[0]!, [c.ref(a), c.ref(b)], attrs));
};

/** PRelu: TF.js's Prelu kernels read the slope cyclically (slope[i mod size]), which is right
 *  when the slope spans the input's trailing dimensions; otherwise relu(x) + slope·min(x, 0). */
const PRelu: Handler = (n, c) => {
  const [xv, sv] = n.inputs as [string, string];
  const out = n.outputs[0]!;
  const xs = c.shape(xv);
  const ss = c.staticShape(sv);
  const T = A.type('float32');
  const core = ss?.slice(ss.findIndex((d) => d !== 1));
  if (xs && ss && core && ss.some((d) => d !== 1) && core.every((d, i) => xs[xs.length - core.length + i] === d)) {
    c.bind(out, c.op('Prelu', out, [c.ref(xv), c.ref(sv)], { T }));
    return;
  }
  const x = c.ref(xv);
  const neg = c.op('Mul', `${out}/neg`, [c.op('Minimum', `${out}/min`, [x, c.f32(`${out}/zero`, 0)], { T }), c.ref(sv)], { T });
  c.bind(out, c.op('AddV2', out, [c.op('Relu', `${out}/relu`, [x], { T }), neg], { T }));
};

const variadic: Handler = (n, c) => {
  const ins = n.inputs.filter(Boolean);
  const out = n.outputs[0]!;
  if (ins.length === 1) {
    c.bind(out, c.ref(ins[0]!));
    return;
  }
  if (n.op === 'Sum' && ins.length > 2) {
    c.bind(out, c.op('AddN', out, ins.map((x) => c.ref(x)), { N: A.i(ins.length), ...tAttr(c, ins[0]!) }));
    return;
  }
  let y = c.ref(ins[0]!);
  ins.slice(1).forEach((x, i) => {
    y = c.op(VARIADIC[n.op]!, i === ins.length - 2 ? out : `${out}/${i}`, [y, c.ref(x)], tAttr(c, ins[0]!));
  });
  c.bind(out, y);
};

const Mean: Handler = (n, c) => {
  const ins = n.inputs.filter(Boolean);
  const out = n.outputs[0]!;
  let y = c.ref(ins[0]!);
  ins.slice(1).forEach((x, i) => (y = c.op('AddV2', `${out}/sum${i}`, [y, c.ref(x)], tAttr(c, ins[0]!))));
  c.bind(out, ins.length === 1 ? y : c.op('RealDiv', out, [y, c.f32(`${out}/count`, ins.length)], tAttr(c, ins[0]!)));
};

/** Relu6 / Relu as their own ops, other constant bounds as ClipByValue, others as Maximum/Minimum */
const Clip: Handler = (n, c) => {
  const x = n.inputs[0]!;
  const out = n.outputs[0]!;
  const f = fusableActivation(c.g, n);
  if (f) {
    c.bind(out, c.activation(f.act, c.ref(x), out));
    return;
  }
  const [lo, hi] = clipBounds(c.g, n);
  const T = tAttr(c, x);
  const float = isFloatDType(c.dtype(x) ?? 'float32');
  const bound = (v: number, i: number, dflt: number): string =>
    Number.isNaN(v) ? c.ref(n.inputs[i]!) : c.const(`${out}/${i === 1 ? 'min' : 'max'}`, float ? { dtype: 'float32', shape: [], data: Float32Array.of(Number.isFinite(v) ? v : dflt) } : { dtype: 'int32', shape: [], data: Int32Array.of(Number.isFinite(v) ? v : dflt) });
  const big = float ? 3.4028234663852886e38 : 2 ** 31 - 1;
  if (!Number.isNaN(lo) && !Number.isNaN(hi)) {
    c.bind(out, c.op('ClipByValue', out, [c.ref(x), bound(lo, 1, -big), bound(hi, 2, big)], T));
    return;
  }
  let y = c.ref(x);
  if (lo !== -Infinity) y = c.op('Maximum', hi === Infinity ? out : `${out}/lo`, [y, bound(lo, 1, -big)], T);
  if (hi !== Infinity) y = c.op('Minimum', out, [y, bound(hi, 2, big)], T);
  c.bind(out, y);
};

const LeakyRelu: Handler = (n, c) => {
  c.bind(n.outputs[0]!, c.activation('LeakyRelu', c.ref(n.inputs[0]!), n.outputs[0]!, attrFloat(n, 'alpha', 0.01)));
};

/** Elu: TF's has alpha 1; otherwise relu(x) + alpha·(exp(min(x, 0)) − 1) */
const Elu: Handler = (n, c) => {
  const out = n.outputs[0]!;
  const x = c.ref(n.inputs[0]!);
  const alpha = attrFloat(n, 'alpha', 1);
  const T = A.type('float32');
  if (alpha === 1) {
    c.bind(out, c.op('Elu', out, [x], { T }));
    return;
  }
  const neg = c.op('Minimum', `${out}/neg`, [x, c.f32(`${out}/zero`, 0)], { T });
  const em1 = c.op('Sub', `${out}/expm1`, [c.op('Exp', `${out}/exp`, [neg], { T }), c.f32(`${out}/one`, 1)], { T });
  const scaled = c.op('Mul', `${out}/scaled`, [em1, c.f32(`${out}/alpha`, alpha)], { T });
  c.bind(out, c.op('AddV2', out, [c.op('Relu', `${out}/relu`, [x], { T }), scaled], { T }));
};

const Selu: Handler = (n, c) => {
  const a = attrFloat(n, 'alpha', 1.67326319217681884765625);
  const g = attrFloat(n, 'gamma', 1.05070102214813232421875);
  if (Math.abs(a - 1.6732632423543772) > 1e-6 || Math.abs(g - 1.0507009873554805) > 1e-6) c.fail(n, 'alpha / gamma other than the standard SELU constants');
  c.bind(n.outputs[0]!, c.op('Selu', n.outputs[0]!, [c.ref(n.inputs[0]!)], { T: A.type('float32') }));
};

/** clip(alpha·x + beta, 0, 1), times x for HardSwish */
function hardSigmoid(c: EmitContext, n: Node, x: string, alpha: number, beta: number, hint: string): string {
  const T = A.type('float32');
  const ax = c.op('Mul', `${hint}/ax`, [x, c.f32(`${hint}/alpha`, alpha)], { T });
  const axb = c.op('AddV2', `${hint}/axb`, [ax, c.f32(`${hint}/beta`, beta)], { T });
  return c.op('ClipByValue', hint, [axb, c.f32(`${hint}/zero`, 0), c.f32(`${hint}/one`, 1)], { T });
}

const HardSigmoid: Handler = (n, c) => {
  const out = n.outputs[0]!;
  c.bind(out, hardSigmoid(c, n, c.ref(n.inputs[0]!), attrFloat(n, 'alpha', 0.2), attrFloat(n, 'beta', 0.5), out));
};

const HardSwish: Handler = (n, c) => {
  const out = n.outputs[0]!;
  const x = c.ref(n.inputs[0]!);
  c.bind(out, c.op('Mul', out, [x, hardSigmoid(c, n, x, 1 / 6, 0.5, `${out}/hsig`)], { T: A.type('float32') }));
};

/** Gelu: 0.5·x·(1 + erf(x/√2)), or with tanh(√(2/π)·(x + 0.044715·x³)) when approximate = tanh */
const Gelu: Handler = (n, c) => {
  const out = n.outputs[0]!;
  const x = c.ref(n.inputs[0]!);
  const T = A.type('float32');
  let inner: string;
  if (attrString(n, 'approximate', 'none') === 'tanh') {
    const x3 = c.op('Mul', `${out}/x3`, [c.op('Mul', `${out}/x2`, [x, x], { T }), x], { T });
    const poly = c.op('AddV2', `${out}/poly`, [x, c.op('Mul', `${out}/cx3`, [x3, c.f32(`${out}/c`, 0.044715)], { T })], { T });
    inner = c.op('Tanh', `${out}/tanh`, [c.op('Mul', `${out}/scaled`, [poly, c.f32(`${out}/k`, Math.sqrt(2 / Math.PI))], { T })], { T });
  } else {
    inner = c.op('Erf', `${out}/erf`, [c.op('Mul', `${out}/scaled`, [x, c.f32(`${out}/k`, Math.SQRT1_2)], { T })], { T });
  }
  const onePlus = c.op('AddV2', `${out}/one_plus`, [inner, c.f32(`${out}/one`, 1)], { T });
  const half = c.op('Mul', `${out}/half_x`, [x, c.f32(`${out}/half`, 0.5)], { T });
  c.bind(out, c.op('Mul', out, [half, onePlus], { T }));
};

/** Softmax / LogSoftmax: TF normalizes the last axis. Another axis: transposed there and back
 *  (opset ≥ 13), or (before 13, where the input is coerced to 2-D at `axis`) reshaped. */
function softmax(op: 'Softmax' | 'LogSoftmax'): Handler {
  return (n, c) => {
    const xv = n.inputs[0]!;
    const out = n.outputs[0]!;
    const rank = c.rank(xv);
    const opset = opsetVersion(c.g) ?? 17;
    let axis = attrInt(n, 'axis', opset >= 13 ? -1 : 1);
    const T = A.type('float32');
    if (rank === undefined) {
      if (axis !== -1) c.fail(n, 'the input rank is unknown');
      c.bind(out, c.op(op, out, [c.ref(xv)], { T }));
      return;
    }
    if (axis < 0) axis += rank;
    if (axis === rank - 1) {
      c.bind(out, c.op(op, out, [c.ref(xv)], { T }));
      return;
    }
    if (opset >= 13) {
      const perm = Array.from({ length: rank }, (_, i) => i);
      [perm[axis], perm[rank - 1]] = [perm[rank - 1]!, perm[axis]!];
      const p = c.i32(`${out}/perm`, perm);
      const t = c.op('Transpose', `${out}/t`, [c.ref(xv), p], { T, Tperm: A.type('int32') });
      c.bind(out, c.op('Transpose', out, [c.op(op, `${out}/inner`, [t], { T }), p], { T, Tperm: A.type('int32') }));
      return;
    }
    const s = c.shape(xv)!;
    const tail = s.slice(axis);
    if (tail.some((d) => typeof d !== 'number')) c.fail(n, `axis ${axis} (opset < 13 coerces to 2-D) with dynamic trailing dimensions`);
    const k = (tail as number[]).reduce((a, b) => a * b, 1);
    const flat = c.op('Reshape', `${out}/2d`, [c.ref(xv), c.i32(`${out}/shape2d`, [-1, k])], { T, Tshape: A.type('int32') });
    const back = s.map((d) => (typeof d === 'number' ? d : -1));
    if (back.filter((d) => d === -1).length > 1) c.fail(n, 'more than one dynamic dimension');
    c.bind(out, c.op('Reshape', out, [c.op(op, `${out}/inner`, [flat], { T }), c.i32(`${out}/shape`, back)], { T, Tshape: A.type('int32') }));
  };
}

export const ELEMENTWISE_HANDLERS: Record<string, Handler> = {
  ...Object.fromEntries(Object.keys(UNARY).map((k) => [k, unary])),
  ...Object.fromEntries(Object.keys(BINARY).map((k) => [k, binary])),
  ...Object.fromEntries(Object.keys(VARIADIC).map((k) => [k, variadic])),
  PRelu, Mean, Clip, LeakyRelu, Elu, Selu, HardSigmoid, HardSwish, Gelu, Softmax: softmax('Softmax'), LogSoftmax: softmax('LogSoftmax'),
};
