/**
 * TF shape, slicing and gathering ops → IR. ONNX wants int64 for shapes, axes, pads and
 * repeats where TF uses int32: constant inputs are converted at import, computed ones get a
 * Cast. StridedSlice's masks become Slice (+ Squeeze for shrunk axes, + Unsqueeze for new ones).
 */
import type { Attr } from '../../ir/graph.js';
import type { TfContext, TfOpSpec } from './graphdef-context.js';

const i = (value: number): Attr => ({ type: 'int', value });
const BIG = 2 ** 31 - 1;
const bit = (mask: number, k: number): boolean => ((mask >>> k) & 1) === 1;

const reshape: TfOpSpec = {
  convert: (ctx) => {
    const c = ctx.constant(1);
    // TF's 0 is an empty dimension; ONNX copies the input's unless allowzero
    const attrs: Record<string, Attr> = c && Array.from(c.data as ArrayLike<number | bigint>, Number).includes(0) ? { allowzero: i(1) } : {};
    ctx.emit('Reshape', [ctx.input(0), ctx.int64Input(1)], [ctx.output()], attrs);
  },
};

const squeeze: TfOpSpec = {
  convert: (ctx) => {
    const axes = ctx.attrs.ints('squeeze_dims', ctx.attrs.ints('axis'));
    ctx.emit('Squeeze', axes.length ? [ctx.input(0), ctx.i64('axes', axes)] : [ctx.input(0)], [ctx.output()]);
  },
};

/** Concat of N data inputs; the axis is the last input (ConcatV2) or the first (Concat). */
function concat(axisFirst: boolean): TfOpSpec {
  return {
    convert: (ctx) => {
      const axisAt = axisFirst ? 0 : ctx.arity - 1;
      const axis = ctx.constInts(axisAt, 'axis')[0]!;
      const parts = Array.from({ length: ctx.arity }, (_, k) => k).filter((k) => k !== axisAt).map((k) => ctx.input(k));
      if (parts.length === 1) return ctx.emit('Identity', parts, [ctx.output()]);
      ctx.emit('Concat', parts, [ctx.output()], { axis: i(axis) });
    },
  };
}

const pack: TfOpSpec = {
  convert: (ctx) => {
    const axis = ctx.attrs.int('axis', 0);
    const axes = ctx.i64('axes', [axis]);
    const parts = Array.from({ length: ctx.arity }, (_, k) => {
      const u = ctx.tmp('unsqueezed');
      ctx.emit('Unsqueeze', [ctx.input(k), axes], [u]);
      return u;
    });
    ctx.emit(parts.length === 1 ? 'Identity' : 'Concat', parts, [ctx.output()], parts.length === 1 ? {} : { axis: i(axis) });
  },
};

const unpack: TfOpSpec = {
  convert: (ctx) => {
    const axis = ctx.attrs.int('axis', 0);
    const n = ctx.attrs.int('num', 1);
    const parts = Array.from({ length: n }, () => ctx.tmp('part'));
    ctx.emit('Split', [ctx.input(0)], parts, { axis: i(axis) });
    const axes = ctx.i64('axes', [axis]);
    parts.forEach((p, k) => ctx.emit('Squeeze', [p, axes], [ctx.output(k)]));
  },
};

function pad(mode: 'constant' | 'mirror'): TfOpSpec {
  return {
    convert: (ctx) => {
      const p = ctx.constInts(1, 'paddings');
      const r = p.length / 2;
      const pads = ctx.i64('pads', [...Array.from({ length: r }, (_, k) => p[2 * k]!), ...Array.from({ length: r }, (_, k) => p[2 * k + 1]!)]);
      if (mode === 'mirror') {
        const m = ctx.attrs.string('mode', 'REFLECT');
        if (m !== 'REFLECT') return ctx.unsupported(`MirrorPad mode ${m} is not supported (REFLECT is)`);
        return ctx.emit('Pad', [ctx.input(0), pads], [ctx.output()], { mode: { type: 'string', value: 'reflect' } });
      }
      ctx.emit('Pad', ctx.arity > 2 ? [ctx.input(0), pads, ctx.input(2)] : [ctx.input(0), pads], [ctx.output()]);
    },
  };
}

function gather(axisInput: boolean): TfOpSpec {
  return {
    convert: (ctx) => {
      if (ctx.attrs.int('batch_dims', 0) !== 0) return ctx.unsupported('batch_dims other than 0 are not supported');
      const axis = axisInput ? ctx.constInts(2, 'axis')[0]! : 0;
      ctx.emit('Gather', [ctx.input(0), ctx.input(1)], [ctx.output()], { axis: i(axis) });
    },
  };
}

const shape: TfOpSpec = {
  convert: (ctx) => {
    // ONNX Shape is int64; TF's out_type defaults to int32
    if (ctx.attrs.type('out_type') === 'DT_INT64') return ctx.emit('Shape', [ctx.input(0)], [ctx.output()]);
    const s = ctx.tmp('shape');
    ctx.emit('Shape', [ctx.input(0)], [s]);
    ctx.emit('Cast', [s], [ctx.output()], { to: i(6) });
  },
};

const stridedSlice: TfOpSpec = {
  convert: (ctx) => {
    const begin = ctx.constInts(1, 'begin');
    const end = ctx.constInts(2, 'end');
    const strides = ctx.arity > 3 ? ctx.constInts(3, 'strides') : begin.map(() => 1);
    const [bm, em, ellipsis, newAxis, shrink] = ['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'].map((a) => ctx.attrs.int(a, 0));
    // expand the slice spec over the input's axes
    let rank = 0;
    if (ellipsis) {
      const r = ctx.typeOf(ctx.input(0))?.shape?.length;
      if (r === undefined) return ctx.unsupported('an ellipsis on an input of unknown rank is not supported');
      rank = r;
    }
    const specDims = begin.length - begin.filter((_, k) => bit(newAxis, k) || bit(ellipsis, k)).length;
    const starts: number[] = [];
    const ends: number[] = [];
    const axes: number[] = [];
    const steps: number[] = [];
    const squeezeAxes: number[] = [];
    const outKinds: Array<'keep' | 'new'> = [];
    let dim = 0;
    for (let k = 0; k < begin.length; k++) {
      if (bit(ellipsis, k)) {
        const n = rank - specDims;
        for (let e = 0; e < n; e++) outKinds.push('keep');
        dim += n;
        continue;
      }
      if (bit(newAxis, k)) {
        outKinds.push('new');
        continue;
      }
      const step = strides[k] ?? 1;
      if (bit(shrink, k)) {
        const b = begin[k]!;
        starts.push(b);
        ends.push(b === -1 ? BIG : b + 1);
        steps.push(1);
        axes.push(dim);
        squeezeAxes.push(dim);
      } else {
        const b = bit(bm, k) ? (step > 0 ? 0 : BIG) : begin[k]!;
        const e = bit(em, k) ? (step > 0 ? BIG : -BIG - 1) : end[k]!;
        if (!(bit(bm, k) && bit(em, k) && step === 1)) {
          starts.push(b);
          ends.push(e);
          steps.push(step);
          axes.push(dim);
        }
        outKinds.push('keep');
      }
      dim++;
    }
    let x = ctx.input(0);
    const last = (): boolean => !squeezeAxes.length && !outKinds.includes('new');
    if (axes.length) {
      const y = last() ? ctx.output() : ctx.tmp('sliced');
      ctx.emit('Slice', [x, ctx.i64('starts', starts), ctx.i64('ends', ends), ctx.i64('axes', axes), ctx.i64('steps', steps)], [y]);
      x = y;
    }
    if (squeezeAxes.length) {
      const y = outKinds.includes('new') ? ctx.tmp('squeezed') : ctx.output();
      ctx.emit('Squeeze', [x, ctx.i64('axes', squeezeAxes)], [y]);
      x = y;
    }
    if (outKinds.includes('new')) {
      const at = outKinds.flatMap((kind, pos) => (kind === 'new' ? [pos] : []));
      ctx.emit('Unsqueeze', [x, ctx.i64('axes', at)], [ctx.output()]);
    } else if (!axes.length && !squeezeAxes.length) ctx.emit('Identity', [x], [ctx.output()]);
  },
};

const slice: TfOpSpec = {
  convert: (ctx) => {
    const begin = ctx.constInts(1, 'begin');
    const size = ctx.constInts(2, 'size');
    const ends = size.map((s, k) => (s === -1 ? BIG : begin[k]! + s));
    ctx.emit('Slice', [ctx.input(0), ctx.i64('starts', begin), ctx.i64('ends', ends), ctx.i64('axes', begin.map((_, k) => k))], [ctx.output()]);
  },
};

const split: TfOpSpec = {
  convert: (ctx) => {
    const axis = ctx.constInts(0, 'axis')[0]!;
    const n = ctx.attrs.int('num_split', 1);
    ctx.emit('Split', [ctx.input(1)], Array.from({ length: n }, (_, k) => ctx.output(k)), { axis: i(axis) });
  },
};

const splitV: TfOpSpec = {
  convert: (ctx) => {
    const axis = ctx.constInts(2, 'axis')[0]!;
    const sizes = ctx.constInts(1, 'size_splits');
    if (sizes.includes(-1)) return ctx.unsupported('a size_splits entry of -1 is not supported');
    ctx.emit('Split', [ctx.input(0), ctx.i64('split', sizes)], sizes.map((_, k) => ctx.output(k)), { axis: i(axis) });
  },
};

export const SHAPE_OPS: Record<string, TfOpSpec> = {
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: { convert: (ctx) => ctx.emit('Unsqueeze', [ctx.input(0), ctx.i64('axes', ctx.constInts(1, 'dim'))], [ctx.output()]) },
  Transpose: { ir: 'Transpose', inputs: [0], attrs: { perm: { input: 1, as: 'ints' } } },
  ConcatV2: concat(false),
  Concat: concat(true),
  Pack: pack,
  Unpack: unpack,
  Pad: pad('constant'),
  PadV2: pad('constant'),
  MirrorPad: pad('mirror'),
  GatherV2: gather(true),
  Gather: gather(false),
  Shape: shape,
  StridedSlice: stridedSlice,
  Slice: slice,
  Split: split,
  SplitV: splitV,
  Fill: { ir: 'Expand', inputs: [1, { at: 0, int64: true }] },
  Tile: { ir: 'Tile', inputs: [0, { at: 1, int64: true }] },
};
