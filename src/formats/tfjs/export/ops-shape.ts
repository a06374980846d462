/**
 * TF.js graph-model handlers for shape, indexing and reduction ops. Shapes and axes are read at
 * export time where they are known (a Reshape takes its inferred output shape, with −1 for the
 * one dynamic dimension), so shape arithmetic subgraphs are not written; where they are not
 * known, the runtime tensor is used (integers are int32 in TF.js).
 */
import type { Node } from '../../../ir/graph.js';
import { attrInt, attrInts, attrString, opsetVersion } from '../../../ir/graph.js';
import type { EmitContext, Handler } from './context.js';
import { A, type TfAttr } from './graphdef.js';

const I32 = A.type('int32');

function T(c: EmitContext, v: string): Record<string, TfAttr> {
  return { T: A.type(c.dtype(v)) };
}

/** axes from the attribute (older opsets) or the constant second input */
function axesOf(n: Node, c: EmitContext, idx = 1): number[] | undefined {
  const a = attrInts(n, 'axes');
  if (a) return a;
  const v = n.inputs[idx];
  if (!v) return undefined;
  return c.ints(v) ?? c.fail(n, 'axes must be constant');
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Reshape, Flatten, Squeeze, Unsqueeze: one Reshape to the inferred output shape. */
const reshape: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const s = c.shape(out);
  const dims = s?.map((d) => (typeof d === 'number' ? d : -1));
  if (dims && dims.filter((d) => d === -1).length <= 1) {
    c.bind(out, c.op('Reshape', out, [c.ref(xv), c.i32(`${out}/shape`, dims)], { ...T(c, xv), Tshape: I32 }));
    return;
  }
  const rank = c.rank(xv);
  if (n.op === 'Squeeze' && rank !== undefined) {
    const axes = axesOf(n, c);
    c.bind(out, c.op('Squeeze', out, [c.ref(xv)], { ...T(c, xv), squeeze_dims: A.ints((axes ?? []).map((a) => norm(a, rank))) }));
    return;
  }
  if (n.op === 'Unsqueeze' && rank !== undefined) {
    const axes = axesOf(n, c)!;
    const r = rank + axes.length;
    let y = c.ref(xv);
    const sorted = axes.map((a) => norm(a, r)).sort((a, b) => a - b);
    sorted.forEach((a, i) => (y = c.op('ExpandDims', i === sorted.length - 1 ? out : `${out}/${i}`, [y, c.i32(`${out}/axis${i}`, [a], [])], { ...T(c, xv), Tdim: I32 })));
    c.bind(out, y);
    return;
  }
  if (n.op === 'Reshape' && !attrInt(n, 'allowzero', 0)) {
    const target = c.ints(n.inputs[1]);
    if (target && !target.includes(0)) {
      c.bind(out, c.op('Reshape', out, [c.ref(xv), c.i32(`${out}/shape`, target)], { ...T(c, xv), Tshape: I32 }));
      return;
    }
    if (!target) {
      c.bind(out, c.op('Reshape', out, [c.ref(xv), c.ref(n.inputs[1]!)], { ...T(c, xv), Tshape: I32 }));
      return;
    }
  }
  c.fail(n, 'the output shape has more than one dynamic dimension');
};

const Transpose: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const rank = c.rank(xv);
  const perm = attrInts(n, 'perm') ?? (rank !== undefined ? Array.from({ length: rank }, (_, i) => rank - 1 - i) : c.fail(n, 'no perm and an unknown rank'));
  c.bind(n.outputs[0]!, c.op('Transpose', n.outputs[0]!, [c.ref(xv), c.i32(`${n.outputs[0]}/perm`, perm)], { ...T(c, xv), Tperm: I32 }));
};

const Concat: Handler = (n, c) => {
  const ins = n.inputs.filter(Boolean);
  const rank = c.rank(ins[0]!) ?? c.fail(n, 'the input rank is unknown');
  const out = n.outputs[0]!;
  const axis = norm(attrInt(n, 'axis', 0), rank);
  if (ins.length === 1) {
    c.bind(out, c.ref(ins[0]!));
    return;
  }
  c.bind(out, c.op('ConcatV2', out, [...ins.map((x) => c.ref(x)), c.i32(`${out}/axis`, [axis], [])], { N: A.i(ins.length), ...T(c, ins[0]!), Tidx: I32 }));
};

const Pad: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const rank = c.rank(xv) ?? c.fail(n, 'the input rank is unknown');
  const raw = attrInts(n, 'pads') ?? c.ints(n.inputs[1]) ?? c.fail(n, 'pads must be constant');
  const axes = (c.ints(n.inputs[3]) ?? Array.from({ length: rank }, (_, i) => i)).map((a) => norm(a, rank));
  const pairs = new Array<number>(2 * rank).fill(0);
  axes.forEach((a, i) => {
    pairs[2 * a] = raw[i]!;
    pairs[2 * a + 1] = raw[i + axes.length]!;
  });
  if (pairs.some((p) => p < 0)) c.fail(n, 'negative pads (cropping)');
  const mode = attrString(n, 'mode', 'constant');
  const p = c.i32(`${out}/paddings`, pairs, [rank, 2]);
  const attrs = { ...T(c, xv), Tpaddings: I32 };
  if (mode === 'reflect') {
    c.bind(out, c.op('MirrorPad', out, [c.ref(xv), p], { ...attrs, mode: A.s('REFLECT') }));
    return;
  }
  if (mode !== 'constant') c.fail(n, `mode ${mode} (TF.js pads with a constant or by reflection)`);
  // the fill value: an attribute before opset 11, an optional (scalar) input after
  const attrValue = n.attrs.value?.type === 'float' ? n.attrs.value.value : undefined;
  const constValue = n.inputs[2] ? c.constant(n.inputs[2]) : undefined;
  const fill = attrValue ?? (constValue ? c.ints(n.inputs[2])![0] : n.inputs[2] ? undefined : 0);
  if (fill === 0) c.bind(out, c.op('Pad', out, [c.ref(xv), p], attrs));
  else if (fill !== undefined) c.bind(out, c.op('PadV2', out, [c.ref(xv), p, c.const(`${out}/value`, { dtype: A.type(c.dtype(xv)).type === 'DT_INT32' ? 'int32' : 'float32', shape: [], data: A.type(c.dtype(xv)).type === 'DT_INT32' ? Int32Array.of(fill) : Float32Array.of(fill) })], attrs));
  else c.bind(out, c.op('PadV2', out, [c.ref(xv), p, c.ref(n.inputs[2]!)], attrs));
};

/** Slice → StridedSlice with constant starts / ends / axes / steps */
const Slice: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const rank = c.rank(xv) ?? c.fail(n, 'the input rank is unknown');
  const opset = opsetVersion(c.g) ?? 17;
  const get = (i: number, attr: string): number[] | undefined =>
    opset < 10 ? attrInts(n, attr) : n.inputs[i] ? (c.ints(n.inputs[i]) ?? c.fail(n, 'starts / ends / axes / steps must be constant')) : undefined;
  const starts = get(1, 'starts')!;
  const ends = get(2, 'ends')!;
  const axes = (get(3, 'axes') ?? starts.map((_, i) => i)).map((a) => norm(a, rank));
  const steps = (opset < 10 ? undefined : get(4, 'steps')) ?? starts.map(() => 1);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  const stride = new Array<number>(rank).fill(1);
  let beginMask = 0;
  let endMask = 0;
  const clamp = (v: number): number => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));
  for (let d = 0; d < rank; d++) {
    const k = axes.indexOf(d);
    if (k < 0) {
      beginMask |= 1 << d;
      endMask |= 1 << d;
      continue;
    }
    begin[d] = clamp(starts[k]!);
    end[d] = clamp(ends[k]!);
    stride[d] = steps[k]!;
    // ends beyond the dimension (INT_MAX, or below −dim going backwards) mean "to the edge"
    const dim = c.shape(xv)?.[d];
    if (Math.abs(ends[k]!) >= 2 ** 31 - 1 || (typeof dim === 'number' && steps[k]! < 0 && ends[k]! < -dim)) endMask |= 1 << d;
  }
  c.bind(out, c.op('StridedSlice', out, [c.ref(xv), c.i32(`${out}/begin`, begin), c.i32(`${out}/end`, end), c.i32(`${out}/strides`, stride)], {
    ...T(c, xv), Index: I32, begin_mask: A.i(beginMask), end_mask: A.i(endMask), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(0),
  }));
};

/** Gather → GatherV2; constant negative indices are made positive (TF does not wrap them) */
const Gather: Handler = (n, c) => {
  const [xv, iv] = n.inputs as [string, string];
  const out = n.outputs[0]!;
  const rank = c.rank(xv) ?? c.fail(n, 'the input rank is unknown');
  const axis = norm(attrInt(n, 'axis', 0), rank);
  const dim = c.shape(xv)?.[axis];
  const idx = c.constant(iv);
  let ind: string;
  if (idx) {
    const vals = c.ints(iv)!;
    if (vals.some((v) => v < 0) && typeof dim !== 'number') c.fail(n, 'negative indices into a dynamic dimension');
    ind = c.const(`${out}/indices`, { dtype: 'int32', shape: idx.shape, data: Int32Array.from(vals, (v) => (v < 0 ? v + (dim as number) : v)) });
  } else ind = c.ref(iv);
  c.bind(out, c.op('GatherV2', out, [c.ref(xv), ind, c.i32(`${out}/axis`, [axis], [])], { Tparams: A.type(c.dtype(xv)), Tindices: I32, Taxis: I32, batch_dims: A.i(0) }));
};

const Cast: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const to = c.dtype(n.outputs[0]!);
  const out = n.outputs[0]!;
  if (A.type(to).type === A.type(c.dtype(xv)).type) {
    c.bind(out, c.ref(xv));
    return;
  }
  c.bind(out, c.op('Cast', out, [c.ref(xv)], { SrcT: A.type(c.dtype(xv)), DstT: A.type(to), Truncate: A.b(false) }));
};

const Shape: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const rank = c.rank(xv);
  const start = attrInt(n, 'start', 0);
  const endAttr = attrInt(n, 'end');
  const full = start === 0 && (endAttr === undefined || (rank !== undefined && endAttr >= rank));
  const shp = c.op('Shape', full ? out : `${out}/full`, [c.ref(xv)], { ...T(c, xv), out_type: I32 });
  if (full) {
    c.bind(out, shp);
    return;
  }
  if (rank === undefined) c.fail(n, 'start / end with an unknown input rank');
  const b = Math.min(Math.max(norm(start, rank!), 0), rank!);
  const e = endAttr === undefined ? rank! : Math.min(Math.max(norm(endAttr, rank!), 0), rank!);
  c.bind(out, c.op('StridedSlice', out, [shp, c.i32(`${out}/begin`, [b]), c.i32(`${out}/end`, [Math.max(b, e)]), c.i32(`${out}/strides`, [1])], {
    T: I32, Index: I32, begin_mask: A.i(0), end_mask: A.i(0), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(0),
  }));
};

/** Expand: broadcast to the inferred output shape (ONNX broadcasts both ways; TF only up) */
const Expand: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const s = c.staticShape(out) ?? c.fail(n, 'the output shape must be static');
  c.bind(out, c.op('BroadcastTo', out, [c.ref(xv), c.i32(`${out}/shape`, s)], { ...T(c, xv), Tidx: I32 }));
};

const Tile: Handler = (n, c) => {
  const [xv, rv] = n.inputs as [string, string];
  const out = n.outputs[0]!;
  const reps = c.ints(rv);
  c.bind(out, c.op('Tile', out, [c.ref(xv), reps ? c.i32(`${out}/multiples`, reps) : c.ref(rv)], { ...T(c, xv), Tmultiples: I32 }));
};

const alias: Handler = (n, c) => {
  if (n.op === 'Dropout' && n.outputs[1]) c.fail(n, 'the mask output');
  c.bind(n.outputs[0]!, c.ref(n.inputs[0]!));
};

const Where: Handler = (n, c) => {
  const [cond, a, b] = n.inputs as [string, string, string];
  c.bind(n.outputs[0]!, c.op('SelectV2', n.outputs[0]!, [c.ref(cond), c.ref(a), c.ref(b)], T(c, a)));
};

const REDUCE: Record<string, string> = { ReduceMean: 'Mean', ReduceMax: 'Max', ReduceMin: 'Min', ReduceSum: 'Sum', ReduceProd: 'Prod' };

const reduce: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const rank = c.rank(xv) ?? c.fail(n, 'the input rank is unknown');
  const axes = axesOf(n, c);
  if ((!axes || axes.length === 0) && attrInt(n, 'noop_with_empty_axes', 0)) {
    c.bind(out, c.ref(xv));
    return;
  }
  const all = axes && axes.length ? axes.map((a) => norm(a, rank)) : Array.from({ length: rank }, (_, i) => i);
  c.bind(out, c.op(REDUCE[n.op]!, out, [c.ref(xv), c.i32(`${out}/axes`, all)], { ...T(c, xv), Tidx: I32, keep_dims: A.b(attrInt(n, 'keepdims', 1) === 1) }));
};

const argReduce: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const out = n.outputs[0]!;
  const rank = c.rank(xv) ?? c.fail(n, 'the input rank is unknown');
  if (attrInt(n, 'select_last_index', 0)) c.fail(n, 'select_last_index=1');
  const axis = norm(attrInt(n, 'axis', 0), rank);
  const keep = attrInt(n, 'keepdims', 1) === 1;
  const ax = c.i32(`${out}/axis`, [axis], []);
  const y = c.op(n.op === 'ArgMax' ? 'ArgMax' : 'ArgMin', keep ? `${out}/reduced` : out, [c.ref(xv), ax], { ...T(c, xv), Tidx: I32, output_type: I32 });
  c.bind(out, keep ? c.op('ExpandDims', out, [y, ax], { T: I32, Tdim: I32 }) : y);
};

const Split: Handler = (n, c) => {
  const xv = n.inputs[0]!;
  const rank = c.rank(xv) ?? c.fail(n, 'the input rank is unknown');
  const axis = norm(attrInt(n, 'axis', 0), rank);
  const outs = n.outputs;
  const sizes = outs.map((o) => c.shape(o)?.[axis]);
  if (sizes.some((s) => typeof s !== 'number')) c.fail(n, 'the split sizes must be static');
  const name = c.op('SplitV', n.name, [c.ref(xv), c.i32(`${n.name}/sizes`, sizes as number[]), c.i32(`${n.name}/axis`, [axis], [])], {
    ...T(c, xv), Tlen: I32, num_split: A.i(outs.length),
  });
  outs.forEach((o, i) => o && c.bind(o, i === 0 ? name : `${name}:${i}`));
};

/** ConstantOfShape → Fill (the value is tiny; the filled tensor is made at run time) */
const ConstantOfShape: Handler = (n, c) => {
  const out = n.outputs[0]!;
  const v = n.attrs.value?.type === 'tensor' ? n.attrs.value.value : undefined;
  const value = v ? c.const(`${out}/value`, { dtype: v.dtype, shape: [], data: v.data }) : c.f32(`${out}/value`, 0);
  const dims = c.ints(n.inputs[0]);
  c.bind(out, c.op('Fill', out, [dims ? c.i32(`${out}/dims`, dims) : c.ref(n.inputs[0]!), value], { T: A.type(v?.dtype ?? 'float32'), index_type: I32 }));
};

export const SHAPE_HANDLERS: Record<string, Handler> = {
  Reshape: reshape, Flatten: reshape, Squeeze: reshape, Unsqueeze: reshape, Transpose, Concat, Pad, Slice, Gather, Cast, Shape, Expand, Tile,
  Identity: alias, Dropout: alias, Where,
  ...Object.fromEntries(Object.keys(REDUCE).map((k) => [k, reduce])),
  ArgMax: argReduce, ArgMin: argReduce, Split, ConstantOfShape,
};
