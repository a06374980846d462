/**
 * Shape kernels: Reshape, Flatten, Transpose, Concat, Split, Squeeze, Unsqueeze, Shape, Size,
 * Expand, Tile, ConstantOfShape, Range, Constant, Slice, with host forms for shape arithmetic.
 * Gather, Pad and the other indexing kernels: indexing.ts.
 */
import { elementCount, toNumbers } from '../../../ir/tensor.js';
import { constantTensor } from '../../../ir/ops/generator.js';
import { broadcastShapes, hostFromTensor, hostMap, hostSlice, hostTranspose, isHostCandidate, sliceAxis, tfDType } from '../host.js';
import { axisOf, int, ints, intsOperand } from '../kutil.js';
import { HostTensor, isHost, type Kernel, type OpTable, type RunCtx, type Val } from '../types.js';

function shapeOf(v: Val): number[] {
  return isHost(v) ? v.shape : v.shape;
}

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), -1 is inferred. */
function reshapeTarget(inShape: number[], spec: number[], allowZero: boolean): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i]! : d));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = out.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    out[neg] = known === 0 ? 0 : elementCount(inShape) / known;
  }
  return out;
}

function reshapeHost(x: HostTensor, shape: number[]): HostTensor {
  return new HostTensor(x.dtype, shape, x.data);
}

function reshapeKernel(target: (x: Val, ins: Array<Val | undefined>, rt: RunCtx | undefined) => number[]): Kernel {
  return {
    run: (ins, rt) => {
      const x = ins[0]!;
      const shape = target(x, ins, rt);
      return [isHost(x) ? reshapeHost(x, shape) : rt.tf.reshape(x, shape)];
    },
    host: (ins) => [reshapeHost(ins[0]!, target(ins[0]!, ins, undefined))],
  };
}

function concatHost(xs: HostTensor[], axis: number): HostTensor {
  const r = xs[0]!.shape.length;
  const a = axisOf(axis, r);
  const outer = elementCount(xs[0]!.shape.slice(0, a));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const inner = elementCount(x.shape.slice(a));
      for (let k = 0; k < inner; k++) out.push(x.data[o * inner + k]!);
    }
  }
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  return new HostTensor(xs[0]!.dtype, shape, out);
}

function squeezeAxes(shape: number[], axes: number[] | undefined): number[] {
  const r = shape.length;
  return axes ? axes.map((a) => axisOf(a, r)) : shape.flatMap((d, i) => (d === 1 ? [i] : []));
}

function unsqueezeShape(shape: number[], axes: number[]): number[] {
  const r = shape.length + axes.length;
  const norm = new Set(axes.map((a) => axisOf(a, r)));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(norm.has(i) ? 1 : shape[k++]!);
  return out;
}

/** Per-axis begin / size / step of an ONNX Slice on an input of `shape`. */
function sliceSpec(shape: number[], starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined) {
  const r = shape.length;
  const begin = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const size = [...shape];
  (axes ?? starts.map((_, i) => i)).forEach((a0, i) => {
    const a = axisOf(a0, r);
    const s = sliceAxis(shape[a]!, starts[i]!, ends[i]!, steps?.[i] ?? 1);
    begin[a] = s.start;
    step[a] = s.step;
    size[a] = s.size;
  });
  return { begin, step, size };
}

export const SHAPE_KERNELS: OpTable = {
  Reshape: (c) => {
    const spec = intsOperand(c, 1, 'shape');
    const allowZero = int(c.node, 'allowzero', 0) === 1;
    return reshapeKernel((x, ins, rt) => reshapeTarget(shapeOf(x), spec(ins, rt ?? hostOnly) ?? [], allowZero));
  },
  Flatten: (c) => {
    const axis = int(c.node, 'axis', 1);
    return reshapeKernel((x) => {
      const s = shapeOf(x);
      const a = axisOf(axis, s.length);
      return [elementCount(s.slice(0, a)), elementCount(s.slice(a))];
    });
  },
  Transpose: (c) => {
    const perm0 = ints(c.node, 'perm');
    const permOf = (r: number): number[] => perm0 ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        return [rt.tf.transpose(x, permOf(x.rank))];
      },
      host: (ins) => [hostTranspose(ins[0]!, permOf(ins[0]!.shape.length))],
    };
  },
  Concat: (c) => {
    const axis = int(c.node, 'axis', 0);
    return {
      run: (ins, rt) => {
        const xs = ins.filter((v): v is Val => v !== undefined).map((v) => rt.t(v)).filter((t) => t.size > 0 || t.rank > 1);
        if (xs.length === 1) return [xs[0]];
        return [rt.tf.concat(xs, axisOf(axis, xs[0]!.rank))];
      },
      host: (ins) => [concatHost(ins.filter((v): v is HostTensor => v !== undefined), axis)],
    };
  },
  Split: (c) => {
    const axis = int(c.node, 'axis', 0);
    const sizesOf = intsOperand(c, 1, 'split');
    const nOut = c.node.outputs.length;
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const a = axisOf(axis, x.rank);
        let sizes = sizesOf(ins, rt);
        if (!sizes) {
          const d = x.shape[a]!;
          const chunk = Math.ceil(d / nOut);
          sizes = Array.from({ length: nOut }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
        }
        return rt.tf.split(x, sizes, a);
      },
    };
  },
  Squeeze: (c) => {
    const axesOf = intsOperand(c, 1, 'axes');
    return {
      run: (ins, rt) => {
        const x = ins[0]!;
        const axes = squeezeAxes(shapeOf(x), axesOf(ins, rt));
        const shape = shapeOf(x).filter((_, i) => !axes.includes(i));
        return [isHost(x) ? reshapeHost(x, shape) : rt.tf.reshape(x, shape)];
      },
      host: (ins) => {
        const x = ins[0]!;
        const axes = squeezeAxes(x.shape, axesOf(ins, hostOnly));
        return [reshapeHost(x, x.shape.filter((_, i) => !axes.includes(i)))];
      },
    };
  },
  Unsqueeze: (c) => {
    const axesOf = intsOperand(c, 1, 'axes');
    return {
      run: (ins, rt) => {
        const x = ins[0]!;
        const shape = unsqueezeShape(shapeOf(x), axesOf(ins, rt) ?? []);
        return [isHost(x) ? reshapeHost(x, shape) : rt.tf.reshape(x, shape)];
      },
      host: (ins) => [reshapeHost(ins[0]!, unsqueezeShape(ins[0]!.shape, axesOf(ins, hostOnly) ?? []))],
    };
  },
  Shape: (c) => {
    const start = c.node.attrs.start ? int(c.node, 'start', 0) : undefined;
    const end = c.node.attrs.end ? int(c.node, 'end', 0) : undefined;
    const f = (x: Val): HostTensor => {
      const s = shapeOf(x);
      const r = s.length;
      const b = start === undefined ? 0 : Math.min(Math.max(axisOf(start, r), 0), r);
      const e = end === undefined ? r : Math.min(Math.max(axisOf(end, r), 0), r);
      const v = s.slice(b, Math.max(b, e));
      return new HostTensor('int64', [v.length], v);
    };
    return { run: (ins) => [f(ins[0]!)], host: (ins) => [f(ins[0]!)] };
  },
  Size: () => {
    const f = (x: Val): HostTensor => new HostTensor('int64', [], [elementCount(shapeOf(x))]);
    return { run: (ins) => [f(ins[0]!)], host: (ins) => [f(ins[0]!)] };
  },
  Expand: (c) => {
    const shapeOp = intsOperand(c, 1, undefined);
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const target = broadcastShapes(x.shape, shapeOp(ins, rt) ?? []);
        return [rt.tf.broadcastTo(x, target)];
      },
      host: (ins) => {
        const target = broadcastShapes(ins[0]!.shape, ins[1]!.data);
        return [hostMap([ins[0]!, new HostTensor(ins[0]!.dtype, target, new Array<number>(elementCount(target)).fill(0))], ins[0]!.dtype, (a) => a)];
      },
    };
  },
  Tile: (c) => {
    const reps = intsOperand(c, 1, undefined);
    return { run: (ins, rt) => [rt.tf.tile(rt.t(ins[0]!), reps(ins, rt) ?? [])] };
  },
  ConstantOfShape: (c) => {
    const v = c.node.attrs.value;
    const t = v?.type === 'tensor' ? v.value : { dtype: 'float32' as const, shape: [1], data: new Float32Array(1) };
    const value = toNumbers(t)[0] ?? 0;
    const dtype = t.dtype;
    const f = (shape: number[]): HostTensor => new HostTensor(dtype, shape, new Array<number>(elementCount(shape)).fill(value));
    return {
      run: (ins, rt) => {
        const shape = rt.ints(ins[0]!);
        if (elementCount(shape) <= 4096 && dtype !== 'float32') return [f(shape)];
        return [rt.tf.fill(shape, value, tfDType(dtype))];
      },
      host: (ins) => [f(ins[0]!.data)],
    };
  },
  Range: (c) => {
    const dtype = c.outputs[0]?.dtype ?? c.inputs[0]?.dtype ?? 'int64';
    const f = (s: number, l: number, d: number): HostTensor => {
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return new HostTensor(dtype, [n], Array.from({ length: n }, (_, i) => s + i * d));
    };
    return {
      run: (ins, rt) => {
        const [s, l, d] = ins.map((v) => rt.h(v!).data[0]!) as [number, number, number];
        return [rt.t(f(s, l, d))];
      },
      host: (ins) => [f(ins[0]!.data[0]!, ins[1]!.data[0]!, ins[2]!.data[0]!)],
    };
  },
  Constant: (c) => {
    const t = constantTensor(c.node);
    if (!t) throw c.fail('its value is missing or not supported');
    const h = hostFromTensor(t);
    return { run: (_ins, rt) => [isHostCandidate(t) ? h : rt.t(h)], host: () => [h] };
  },
  Slice: (c) => {
    const legacy = c.opset < 10;
    const startsOf = intsOperand(c, 1, legacy ? 'starts' : undefined);
    const endsOf = intsOperand(c, 2, legacy ? 'ends' : undefined);
    const axesOf = intsOperand(c, 3, legacy ? 'axes' : undefined);
    const stepsOf = intsOperand(c, 4, undefined);
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        const x = rt.t(ins[0]!);
        const { begin, step, size } = sliceSpec(x.shape, startsOf(ins, rt) ?? [], endsOf(ins, rt) ?? [], axesOf(ins, rt), stepsOf(ins, rt));
        if (step.every((s) => s === 1)) return [tf.slice(x, begin, size)];
        const end = begin.map((b, i) => b + size[i]! * step[i]!);
        let endMask = 0;
        end.forEach((e, i) => {
          if (e < 0) endMask |= 1 << i;
        });
        return [tf.stridedSlice(x, begin, end, step, 0, endMask)];
      },
      host: (ins) => {
        const x = ins[0]!;
        const starts = startsOf(ins, hostOnly) ?? [];
        const axes = axesOf(ins, hostOnly) ?? starts.map((_, i) => i);
        return [hostSlice(x, starts, endsOf(ins, hostOnly) ?? [], axes, stepsOf(ins, hostOnly) ?? axes.map(() => 1))];
      },
    };
  },
};

/** A RunCtx stand-in for host-only evaluation: operand readers only ever see host values there. */
const hostOnly = {
  ints: (v: Val) => (v as HostTensor).data,
  h: (v: Val) => v as HostTensor,
} as unknown as RunCtx;
