/**
 * TF op → IR op: the table the graph-model importer reads (TF.js graph models hold TensorFlow
 * GraphDefs). As in tfjs-converter's op lists, a mapping is data: for each TF op the IR op, the
 * TF inputs that feed it by position, and its attributes (from a TF attr, a constant input or a
 * fixed value). A small function stands in where the semantics differ (layouts, fused ops,
 * masks); those live in graphdef-nn.ts (convolutions, pools, matmuls) and graphdef-shape.ts
 * (slicing, padding, reshaping).
 */
import type { Attr } from '../../ir/graph.js';
import { clip, onnxCode } from './graphdef-context.js';
import { convertTensor, tfDType } from './graphdef.js';
import type { TfContext, TfOpSpec } from './graphdef-context.js';
import { NN_OPS } from './graphdef-nn.js';
import { SHAPE_OPS } from './graphdef-shape.js';

export type { TfContext, TfOpSpec } from './graphdef-context.js';

const f = (value: number): Attr => ({ type: 'float', value });
const i = (value: number): Attr => ({ type: 'int', value });
const same = (ir: string): TfOpSpec => ({ ir });
const binary = (ir: string): TfOpSpec => ({ ir, inputs: [0, 1] });

const ELEMENTWISE: Record<string, TfOpSpec> = {
  Identity: same('Identity'), StopGradient: same('Identity'), Snapshot: same('Identity'), PreventGradient: same('Identity'),
  PlaceholderWithDefault: same('Identity'), EnsureShape: { ir: 'Identity', inputs: [0] },
  Relu: same('Relu'), Elu: same('Elu'), Selu: same('Selu'), Sigmoid: same('Sigmoid'), Tanh: same('Tanh'),
  Softplus: same('Softplus'), Softsign: same('Softsign'), Erf: same('Erf'),
  Exp: same('Exp'), Log: same('Log'), Neg: same('Neg'), Sqrt: same('Sqrt'), Abs: same('Abs'), Floor: same('Floor'),
  Ceil: same('Ceil'), Round: same('Round'), Sign: same('Sign'), Sin: same('Sin'), Cos: same('Cos'), Tan: same('Tan'),
  Reciprocal: same('Reciprocal'), Inv: same('Reciprocal'), IsNan: same('IsNaN'), LogicalNot: same('Not'),
  LeakyRelu: { ir: 'LeakyRelu', attrs: { alpha: { tf: 'alpha', as: 'float', default: 0.2 } } },
  Softmax: { ir: 'Softmax', attrs: { axis: { value: i(-1) } } },
  LogSoftmax: { ir: 'LogSoftmax', attrs: { axis: { value: i(-1) } } },
  Prelu: binary('PRelu'),
  Add: binary('Add'), AddV2: binary('Add'), Sub: binary('Sub'), Mul: binary('Mul'), RealDiv: binary('Div'), Div: binary('Div'),
  Maximum: binary('Max'), Minimum: binary('Min'), Pow: binary('Pow'), AddN: same('Sum'),
  Greater: binary('Greater'), GreaterEqual: binary('GreaterOrEqual'), Less: binary('Less'), LessEqual: binary('LessOrEqual'),
  Equal: binary('Equal'), LogicalAnd: binary('And'), LogicalOr: binary('Or'), SelectV2: { ir: 'Where', inputs: [0, 1, 2] },
  Einsum: { ir: 'Einsum', attrs: { equation: { tf: 'equation', as: 'string' } } },
  Relu6: { convert: (ctx) => clip(ctx, ctx.input(0), ctx.output(), 0, 6) },
  Rsqrt: {
    convert: (ctx) => {
      const s = ctx.tmp('sqrt');
      ctx.emit('Sqrt', [ctx.input(0)], [s]);
      ctx.emit('Reciprocal', [s], [ctx.output()]);
    },
  },
  Square: { convert: (ctx) => ctx.emit('Mul', [ctx.input(0), ctx.input(0)], [ctx.output()]) },
  SquaredDifference: {
    convert: (ctx) => {
      const d = ctx.tmp('diff');
      ctx.emit('Sub', [ctx.input(0), ctx.input(1)], [d]);
      ctx.emit('Mul', [d, d], [ctx.output()]);
    },
  },
  Cast: {
    convert: (ctx) => {
      const to = ctx.attrs.type('DstT');
      ctx.emit('Cast', [ctx.input(0)], [ctx.output()], { to: i(onnxCode(ctx, to)) });
    },
  },
  /** ClipByValue: Clip with scalar bounds, else Max then Min (TF's bounds broadcast) */
  ClipByValue: {
    convert: (ctx) => {
      const [lo, hi] = [ctx.constant(1), ctx.constant(2)];
      const one = (t: typeof lo): number | undefined => (t && t.data.length === 1 && typeof t.data[0] === 'number' ? t.data[0] : undefined);
      const [l, h] = [one(lo), one(hi)];
      if (l !== undefined && h !== undefined && ctx.typeOf(ctx.input(0))?.dtype === 'float32') return clip(ctx, ctx.input(0), ctx.output(), l, h);
      const m = ctx.tmp('lower_bounded');
      ctx.emit('Max', [ctx.input(0), ctx.input(1)], [m]);
      ctx.emit('Min', [m, ctx.input(2)], [ctx.output()]);
    },
  },
  /** ZerosLike: zeros of the input's run-time shape */
  ZerosLike: {
    convert: (ctx) => {
      const shape = ctx.tmp('shape');
      ctx.emit('Shape', [ctx.input(0)], [shape]);
      const dtype = tfDType(ctx.attrs.type('T'), ctx.where);
      ctx.emit('ConstantOfShape', [shape], [ctx.output()], { value: { type: 'tensor', value: convertTensor({ dtype: 'float32', shape: [1], data: Float32Array.of(0) }, dtype) } });
    },
  },
  NoOp: { convert: () => undefined },
  IdentityN: {
    convert: (ctx) => {
      for (let k = 0; k < ctx.arity; k++) ctx.emit('Identity', [ctx.input(k)], [ctx.output(k)]);
    },
  },
};

/** Reductions: axes from a constant input; an empty axis list reduces nothing (unlike ONNX). */
function reduce(ir: string): TfOpSpec {
  return {
    convert: (ctx) => {
      const axes = ctx.constInts(1, 'reduction axes');
      const keepdims = i(ctx.attrs.bool('keep_dims') ? 1 : 0);
      if (!axes.length) return ctx.emit('Identity', [ctx.input(0)], [ctx.output()]);
      // opset 13+: ReduceSum takes its axes as an input, the others (until 18) as an attribute
      if (ir === 'ReduceSum') ctx.emit(ir, [ctx.input(0), ctx.i64('axes', axes)], [ctx.output()], { keepdims });
      else ctx.emit(ir, [ctx.input(0)], [ctx.output()], { axes: { type: 'ints', value: axes }, keepdims });
    },
  };
}

const REDUCTIONS: Record<string, TfOpSpec> = {
  Mean: reduce('ReduceMean'), Sum: reduce('ReduceSum'), Max: reduce('ReduceMax'), Min: reduce('ReduceMin'), Prod: reduce('ReduceProd'),
  ArgMax: { convert: (ctx) => argReduce(ctx, 'ArgMax') },
  ArgMin: { convert: (ctx) => argReduce(ctx, 'ArgMin') },
};

function argReduce(ctx: TfContext, ir: string): void {
  const axis = ctx.constInts(1, 'dimension')[0] ?? 0;
  const i32 = ctx.attrs.type('output_type') === 'DT_INT32';
  const y = i32 ? ctx.tmp('arg') : ctx.output();
  ctx.emit(ir, [ctx.input(0)], [y], { axis: i(axis), keepdims: i(0) });
  if (i32) ctx.emit('Cast', [y], [ctx.output()], { to: i(6) });
}

/** Every TF op mlopt maps. */
export const TF_OPS: Readonly<Record<string, TfOpSpec>> = { ...ELEMENTWISE, ...REDUCTIONS, ...NN_OPS, ...SHAPE_OPS };

/** Run one table entry for the context's node. */
export function convertNode(spec: TfOpSpec, ctx: TfContext): void {
  if (spec.convert) return spec.convert(ctx);
  const ins = (spec.inputs ?? Array.from({ length: ctx.arity }, (_, k) => k)).map((p) =>
    typeof p === 'number' ? ctx.input(p) : ctx.int64Input(p.at));
  const attrs: Record<string, Attr> = {};
  for (const [name, a] of Object.entries(spec.attrs ?? {})) {
    if ('value' in a) attrs[name] = a.value;
    else if ('input' in a) {
      const v = ctx.constInts(a.input, name);
      attrs[name] = a.as === 'int' ? i(v[0] ?? 0) : { type: 'ints', value: v };
    } else {
      const has = ctx.attrs.has(a.tf);
      switch (a.as) {
        case 'float':
          attrs[name] = f(has ? ctx.attrs.float(a.tf) : (a.default as number));
          break;
        case 'int':
          attrs[name] = i(has ? ctx.attrs.int(a.tf) : (a.default as number));
          break;
        case 'bool':
          attrs[name] = i((has ? ctx.attrs.bool(a.tf) : a.default) ? 1 : 0);
          break;
        case 'string':
          attrs[name] = { type: 'string', value: has ? ctx.attrs.string(a.tf) : (a.default as string) };
          break;
        case 'ints':
          attrs[name] = { type: 'ints', value: has ? ctx.attrs.ints(a.tf) : (a.default as number[]) };
          break;
      }
    }
  }
  ctx.emit(spec.ir!, ins, [ctx.output()], attrs);
}
