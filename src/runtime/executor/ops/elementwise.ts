/**
 * Element-wise kernels: arithmetic, comparison and logic (with host versions for shape
 * arithmetic), unary math, activations, Clip, Cast, Where, Dropout, Identity.
 */
import type { DType } from '../../../ir/dtype.js';
import { isFloatDType } from '../../../ir/dtype.js';
import { dtypeFromOnnx, dtypeFromOnnxName } from '../../../ir/ops/dtype-codes.js';
import { fixInt, hostMap } from '../host.js';
import { float, scalarOperand, str } from '../kutil.js';
import { HostTensor, type CompileCtx, type Kernel, type OpTable, type RunCtx, type Tf, type TfTensor, type Val } from '../types.js';

type Bin = (tf: Tf, a: TfTensor, b: TfTensor) => TfTensor;

function outDType(c: CompileCtx, fallback: DType = 'float32'): DType {
  return c.outputs[0]?.dtype ?? c.inputs[0]?.dtype ?? fallback;
}

/** A variadic (or binary) broadcasting op with an optional host form. */
function binary(dev: Bin, hostFn?: (a: number, b: number) => number, cmp = false): (c: CompileCtx) => Kernel {
  return (c) => {
    const dt: DType = cmp ? 'bool' : outDType(c);
    return {
      run: (ins, rt) => {
        const xs = ins.filter((v): v is Val => v !== undefined).map((v) => rt.t(v));
        let y = xs[0]!;
        for (let i = 1; i < xs.length; i++) y = dev(rt.tf, y, xs[i]!);
        return [y];
      },
      ...(hostFn ? { host: (ins) => [hostMap(ins.filter((v): v is HostTensor => v !== undefined), dt, (...a) => fixInt(dt, a.reduce((p, q) => hostFn(p, q))))] } : {}),
    };
  };
}

function unary(dev: (tf: Tf, x: TfTensor) => TfTensor, hostFn?: (a: number) => number): (c: CompileCtx) => Kernel {
  return (c) => {
    const dt = outDType(c);
    return {
      run: (ins, rt) => [dev(rt.tf, rt.t(ins[0]!))],
      ...(hostFn ? { host: (ins) => [hostMap([ins[0]!], dt, (a) => fixInt(dt, hostFn(a)))] } : {}),
    };
  };
}

/** A unary activation whose attributes are read at compile time. */
function act(make: (c: CompileCtx) => (tf: Tf, x: TfTensor) => TfTensor): (c: CompileCtx) => Kernel {
  return (c) => {
    const f = make(c);
    return { run: (ins, rt) => [f(rt.tf, rt.t(ins[0]!))] };
  };
}

const div: Bin = (tf, a, b) => (a.dtype === 'int32' && b.dtype === 'int32' ? truncDiv(tf, a, b) : tf.div(a, b));
function truncDiv(tf: Tf, a: TfTensor, b: TfTensor): TfTensor {
  // ONNX integer division truncates toward zero; tfjs floors
  const q = tf.div(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
  return tf.cast(tf.mul(tf.sign(q), tf.floor(tf.abs(q))), 'int32');
}

function erfGelu(tf: Tf, x: TfTensor): TfTensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}
function tanhGelu(tf: Tf, x: TfTensor): TfTensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

export const ELEMENTWISE_KERNELS: OpTable = {
  Add: binary((tf, a, b) => tf.add(a, b), (a, b) => a + b),
  Sub: binary((tf, a, b) => tf.sub(a, b), (a, b) => a - b),
  Mul: binary((tf, a, b) => tf.mul(a, b), (a, b) => a * b),
  Div: binary(div, (a, b) => a / b),
  Pow: (c) => {
    // x ** 2 and friends: a constant exponent is a number (cheaper, exact gradient)
    const k = c.constNumbers(1);
    const e = k && k.length === 1 ? k[0]! : undefined;
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        if (e === 2) return [rt.tf.square(x)];
        if (e === 1) return [x];
        if (e === 0.5) return [rt.tf.sqrt(x)];
        return [rt.tf.pow(x, e !== undefined ? rt.tf.scalar(e) : rt.t(ins[1]!))];
      },
      host: (ins) => [hostMap([ins[0]!, ins[1]!], outDType(c), (a, b) => a ** b)],
    };
  },
  Max: binary((tf, a, b) => tf.maximum(a, b), Math.max),
  Min: binary((tf, a, b) => tf.minimum(a, b), Math.min),
  Sum: binary((tf, a, b) => tf.add(a, b), (a, b) => a + b),
  Mean: (c) => {
    const k = binary((tf, a, b) => tf.add(a, b))(c);
    const n = c.node.inputs.filter(Boolean).length;
    return { run: (ins, rt, d) => [rt.tf.div(k.run(ins, rt, d)[0] as TfTensor, n)] };
  },
  Mod: (c) => {
    const fmod = c.node.attrs.fmod?.type === 'int' && c.node.attrs.fmod.value === 1;
    const f = fmod ? (a: number, b: number) => a % b : (a: number, b: number) => a - b * Math.floor(a / b);
    const truncQ = (tf: Tf, a: TfTensor, b: TfTensor): TfTensor => {
      const q = tf.div(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
      return tf.cast(tf.mul(tf.sign(q), tf.floor(tf.abs(q))), a.dtype);
    };
    return binary((tf, a, b) => (fmod ? tf.sub(a, tf.mul(b, truncQ(tf, a, b))) : tf.mod(a, b)), f)(c);
  },
  Equal: binary((tf, a, b) => tf.equal(a, b), (a, b) => +(a === b), true),
  Less: binary((tf, a, b) => tf.less(a, b), (a, b) => +(a < b), true),
  LessOrEqual: binary((tf, a, b) => tf.lessEqual(a, b), (a, b) => +(a <= b), true),
  Greater: binary((tf, a, b) => tf.greater(a, b), (a, b) => +(a > b), true),
  GreaterOrEqual: binary((tf, a, b) => tf.greaterEqual(a, b), (a, b) => +(a >= b), true),
  And: binary((tf, a, b) => tf.logicalAnd(a, b), (a, b) => +(a && b), true),
  Or: binary((tf, a, b) => tf.logicalOr(a, b), (a, b) => +(a || b), true),
  Xor: binary((tf, a, b) => tf.logicalXor(a, b), (a, b) => +(!!a !== !!b), true),
  Not: unary((tf, x) => tf.logicalNot(x), (a) => +!a),

  Neg: unary((tf, x) => tf.neg(x), (a) => -a),
  Abs: unary((tf, x) => tf.abs(x), Math.abs),
  Floor: unary((tf, x) => tf.floor(x), Math.floor),
  Ceil: unary((tf, x) => tf.ceil(x), Math.ceil),
  Round: unary((tf, x) => tf.round(x)),
  Sign: unary((tf, x) => tf.sign(x), Math.sign),
  Sqrt: unary((tf, x) => tf.sqrt(x), Math.sqrt),
  Reciprocal: unary((tf, x) => tf.reciprocal(x)),
  Exp: unary((tf, x) => tf.exp(x)),
  Log: unary((tf, x) => tf.log(x)),
  Sin: unary((tf, x) => tf.sin(x)),
  Cos: unary((tf, x) => tf.cos(x)),
  Tan: unary((tf, x) => tf.tan(x)),
  Erf: unary((tf, x) => tf.erf(x)),
  IsNaN: unary((tf, x) => tf.isNaN(x)),
  IsInf: unary((tf, x) => tf.isInf(x)),

  Relu: act(() => (tf, x) => tf.relu(x)),
  Sigmoid: act(() => (tf, x) => tf.sigmoid(x)),
  Tanh: act(() => (tf, x) => tf.tanh(x)),
  Softplus: act(() => (tf, x) => tf.softplus(x)),
  Softsign: act(() => (tf, x) => tf.div(x, tf.add(tf.abs(x), 1))),
  Mish: act(() => (tf, x) => tf.mul(x, tf.tanh(tf.softplus(x)))),
  LeakyRelu: act((c) => {
    const a = float(c.node, 'alpha', 0.01);
    return (tf, x) => tf.leakyRelu(x, a);
  }),
  Elu: act((c) => {
    const a = float(c.node, 'alpha', 1);
    // relu(x) + α(exp(min(x, 0)) − 1): no comparison on the differentiable path
    return a === 1 ? (tf, x) => tf.elu(x) : (tf, x) => tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), a));
  }),
  Celu: act((c) => {
    const a = float(c.node, 'alpha', 1);
    return (tf, x) => tf.add(tf.relu(x), tf.minimum(0, tf.mul(tf.sub(tf.exp(tf.div(x, a)), 1), a)));
  }),
  Selu: act((c) => {
    const a = float(c.node, 'alpha', 1.67326319217681884765625);
    const g = float(c.node, 'gamma', 1.05070102214813232421875);
    return (tf, x) => tf.mul(tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), a)), g);
  }),
  ThresholdedRelu: act((c) => {
    const a = float(c.node, 'alpha', 1);
    return (tf, x) => tf.mul(x, tf.step(tf.sub(x, a)));
  }),
  HardSigmoid: act((c) => {
    const a = float(c.node, 'alpha', 0.2);
    const b = float(c.node, 'beta', 0.5);
    return (tf, x) => tf.clipByValue(tf.add(tf.mul(x, a), b), 0, 1);
  }),
  HardSwish: act(() => (tf, x) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1))),
  Gelu: act((c) => (str(c.node, 'approximate', 'none') === 'tanh' ? tanhGelu : erfGelu)),
  PRelu: () => ({ run: (ins, rt) => [prelu(rt, rt.t(ins[0]!), rt.t(ins[1]!))] }),
  Clip: (c) => {
    const lo = scalarOperand(c, 1, c.opset < 11 ? 'min' : undefined, undefined);
    const hi = scalarOperand(c, 2, c.opset < 11 ? 'max' : undefined, undefined);
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const a = lo(ins, rt) ?? -Infinity;
        const b = hi(ins, rt) ?? Infinity;
        if (a === 0 && b === Infinity) return [rt.tf.relu(x)];
        if (a === 0 && b === 6) return [rt.tf.relu6(x)];
        return [rt.tf.clipByValue(x, Math.max(a, -3.4e38), Math.min(b, 3.4e38))];
      },
      host: (ins) => {
        const a = ins[1]?.data[0] ?? -Infinity;
        const b = ins[2]?.data[0] ?? Infinity;
        return [hostMap([ins[0]!], ins[0]!.dtype, (v) => Math.min(Math.max(v, a), b))];
      },
    };
  },
  Cast: (c) => {
    const to = c.node.attrs.to;
    const dt = to?.type === 'int' ? dtypeFromOnnx(to.value) : to?.type === 'string' ? dtypeFromOnnxName(to.value) : undefined;
    if (!dt) throw c.fail('its target type is missing or unknown');
    if (dt === 'string' || dt.startsWith('complex')) throw c.fail(`casting to ${dt} is not supported`);
    const tfdt = isFloatDType(dt) ? 'float32' : dt === 'bool' ? 'bool' : 'int32';
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        return [x.dtype === tfdt ? x : rt.tf.cast(x, tfdt)];
      },
      host: (ins) => [hostMap([ins[0]!], dt, (v) => (isFloatDType(dt) ? v : dt === 'bool' ? +!!v : Math.trunc(v)))],
    };
  },
  Where: (c) => {
    const dt = c.outputs[0]?.dtype ?? c.inputs[1]?.dtype ?? 'float32';
    return {
      run: (ins, rt) => {
        const cond = rt.t(ins[0]!);
        let a = rt.t(ins[1]!);
        let b = rt.t(ins[2]!);
        if (a.dtype !== b.dtype) [a, b] = [rt.tf.cast(a, 'float32'), rt.tf.cast(b, 'float32')];
        return [rt.tf.where(cond.dtype === 'bool' ? cond : rt.tf.cast(cond, 'bool'), a, b)];
      },
      host: (ins) => [hostMap([ins[0]!, ins[1]!, ins[2]!], dt, (k, a, b) => (k ? a : b))],
    };
  },
  Identity: () => ({ run: (ins) => [ins[0]], host: (ins) => [ins[0]!] }),
  Dropout: (c) => {
    const ratio = scalarOperand(c, 1, c.opset < 12 ? 'ratio' : undefined, 0.5);
    const hasMask = !!c.node.outputs[1];
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const r = ratio(ins, rt) ?? 0.5;
        if (!rt.training || r === 0) return [x, hasMask ? rt.tf.cast(rt.tf.onesLike(x), 'bool') : undefined];
        if (!hasMask) return [rt.tf.dropout(x, r, undefined, rt.seed())];
        const keep = rt.tf.less(rt.tf.randomUniform(x.shape, 0, 1, 'float32', rt.seed()), 1 - r);
        return [rt.tf.div(rt.tf.mul(x, rt.tf.cast(keep, 'float32')), 1 - r), keep];
      },
    };
  },
};

/** PRelu with ONNX broadcasting of the slope (tfjs prelu needs the slope to broadcast from the right). */
export function prelu(rt: RunCtx, x: TfTensor, slope: TfTensor): TfTensor {
  const tf = rt.tf;
  return tf.add(tf.relu(x), tf.mul(slope, tf.neg(tf.relu(tf.neg(x)))));
}
