/**
 * Reductions (axes as attribute before opset 13/18, as input after), ArgMax / ArgMin.
 */
import { axisOf, int, intsOperand } from '../kutil.js';
import { HostTensor, type CompileCtx, type Kernel, type OpTable, type Tf, type TfTensor } from '../types.js';

type Red = (tf: Tf, x: TfTensor, axes: number[], keep: boolean) => TfTensor;

function reduce(f: Red, hostFn?: (xs: number[]) => number): (c: CompileCtx) => Kernel {
  return (c) => {
    const keep = int(c.node, 'keepdims', 1) === 1;
    const noop = int(c.node, 'noop_with_empty_axes', 0) === 1;
    const axesOf = intsOperand(c, 1, 'axes');
    const resolve = (rank: number, axes: number[] | undefined): number[] | undefined => {
      if (!axes || axes.length === 0) return noop ? undefined : Array.from({ length: rank }, (_, i) => i);
      return axes.map((a) => axisOf(a, rank));
    };
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const axes = resolve(x.rank, axesOf(ins, rt));
        if (!axes) return [x];
        return [f(rt.tf, x, axes, keep)];
      },
      ...(hostFn
        ? {
            host: (ins) => {
              // host form for whole-tensor reductions only (shape arithmetic: ReduceProd of a shape)
              const x = ins[0]!;
              const axes = resolve(x.shape.length, axesOf(ins, { ints: (v: HostTensor) => v.data } as never));
              if (!axes || axes.length !== x.shape.length) return undefined;
              return [new HostTensor(x.dtype, keep ? x.shape.map(() => 1) : [], [hostFn(x.data)])];
            },
          }
        : {}),
    };
  };
}

function arg(kind: 'max' | 'min'): (c: CompileCtx) => Kernel {
  return (c) => {
    const axis = int(c.node, 'axis', 0);
    const keep = int(c.node, 'keepdims', 1) === 1;
    const last = int(c.node, 'select_last_index', 0) === 1;
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        let x = rt.t(ins[0]!);
        const a = axisOf(axis, x.rank);
        if (last) x = tf.reverse(x, a);
        let y = kind === 'max' ? tf.argMax(x, a) : tf.argMin(x, a);
        if (last) y = tf.sub(tf.scalar(x.shape[a]! - 1, 'int32'), y);
        return [keep ? tf.expandDims(y, a) : y];
      },
    };
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

export const REDUCE_KERNELS: OpTable = {
  ReduceSum: reduce((tf, x, a, k) => tf.sum(x, a, k), sum),
  ReduceMean: reduce((tf, x, a, k) => tf.mean(x, a, k)),
  ReduceMax: reduce((tf, x, a, k) => tf.max(x, a, k), (xs) => Math.max(...xs)),
  ReduceMin: reduce((tf, x, a, k) => tf.min(x, a, k), (xs) => Math.min(...xs)),
  ReduceProd: reduce((tf, x, a, k) => tf.prod(x, a, k), (xs) => xs.reduce((p, q) => p * q, 1)),
  ReduceL1: reduce((tf, x, a, k) => tf.sum(tf.abs(x), a, k)),
  ReduceL2: reduce((tf, x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k))),
  ReduceSumSquare: reduce((tf, x, a, k) => tf.sum(tf.square(x), a, k)),
  ReduceLogSum: reduce((tf, x, a, k) => tf.log(tf.sum(x, a, k))),
  ReduceLogSumExp: reduce((tf, x, a, k) => tf.logSumExp(x, a, k)),
  ArgMax: arg('max'),
  ArgMin: arg('min'),
};
