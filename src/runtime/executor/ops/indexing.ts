/**
 * Indexing and data-movement kernels: Gather (with a ScatterNd gradient), Pad (constant,
 * reflect, edge, wrap; negative pads crop), DepthToSpace, SpaceToDepth, CumSum, TopK.
 */
import { hostGather } from '../host.js';
import { axisOf, int, intsOperand, str } from '../kutil.js';
import { isHost, type CompileCtx, type Kernel, type OpTable, type RunCtx, type TfTensor, type Val } from '../types.js';

function gatherIndices(rt: RunCtx, idx: Val, dim: number): TfTensor {
  const tf = rt.tf;
  if (isHost(idx)) return tf.tensor(idx.data.map((i) => (i < 0 ? i + dim : i)), idx.shape, 'int32');
  const t = idx.dtype === 'int32' ? idx : tf.cast(idx, 'int32');
  // an int32 scalar: a JS number would promote the indices to float32
  return tf.where(tf.less(t, 0), tf.add(t, tf.scalar(dim, 'int32')), t);
}

/**
 * Gather with its gradient as a ScatterNd (duplicate indices summed): tfjs's own gradient is an
 * UnsortedSegmentSum, which the wasm backend has no kernel for (an embedding table could not be
 * trained there).
 */
function gatherScatterGrad(rt: RunCtx, x: TfTensor, idx: TfTensor, a: number): TfTensor {
  const tf = rt.tf;
  const f = tf.customGrad((...args: unknown[]) => {
    const xx = args[0] as TfTensor;
    // saved: the tape disposes what the forward pass made unless a gradient function keeps it
    (args[1] as (t: TfTensor[]) => void)([idx]);
    return {
      value: tf.gather(xx, idx, a),
      gradFunc: (dy: TfTensor | TfTensor[], saved: TfTensor[]) => {
        const idx = saved[0]!;
        // dy: [pre (a dims), idx dims, post] → [M, pre, post] → scatter into [A, pre, post]
        const g = dy as TfTensor;
        const k = idx.rank;
        const pre = x.shape.slice(0, a);
        const post = x.shape.slice(a + 1);
        const front = Array.from({ length: g.rank }, (_, i) => i);
        const perm = [...front.slice(a, a + k), ...front.slice(0, a), ...front.slice(a + k)];
        const rows = tf.reshape(tf.transpose(g, perm), [idx.size, ...pre, ...post]);
        const dx = tf.scatterND(tf.reshape(idx, [-1, 1]), rows, [x.shape[a]!, ...pre, ...post]);
        if (a === 0) return dx;
        const back = Array.from({ length: x.rank }, (_, i) => (i < a ? i + 1 : i === a ? 0 : i));
        return tf.transpose(dx, back);
      },
    };
  });
  return f(x);
}

function pad(c: CompileCtx): Kernel {
  const n = c.node;
  const mode = str(n, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') c.fail(`Pad mode "${mode}" is not supported`);
  const padsOf = intsOperand(c, 1, c.opset < 11 ? 'pads' : undefined);
  const axesOf = intsOperand(c, 3, undefined);
  const attrValue = n.attrs.value;
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      let x = rt.t(ins[0]!);
      const r = x.rank;
      const p = padsOf(ins, rt) ?? [];
      const axes = (axesOf(ins, rt) ?? Array.from({ length: r }, (_, i) => i)).map((a) => axisOf(a, r));
      const before = new Array<number>(r).fill(0);
      const after = new Array<number>(r).fill(0);
      axes.forEach((a, i) => {
        before[a] = p[i]!;
        after[a] = p[i + axes.length]!;
      });
      // negative pads crop
      if (before.some((b) => b < 0) || after.some((b) => b < 0)) {
        const begin = before.map((b) => Math.max(0, -b));
        const size = x.shape.map((d, i) => d - begin[i]! - Math.max(0, -after[i]!));
        x = tf.slice(x, begin, size);
      }
      const pb = before.map((b) => Math.max(0, b));
      const pa = after.map((b) => Math.max(0, b));
      if (pb.every((b) => b === 0) && pa.every((b) => b === 0)) return [x];
      if (mode === 'constant') {
        const v = attrValue?.type === 'float' ? attrValue.value : ins[2] ? rt.h(ins[2]).data[0] ?? 0 : 0;
        return [tf.pad(x, pb.map((b, i) => [b, pa[i]!] as [number, number]), v)];
      }
      if (mode === 'reflect' && pb.every((b, i) => b < x.shape[i]!) && pa.every((b, i) => b < x.shape[i]!)) {
        return [tf.mirrorPad(x, pb.map((b, i) => [b, pa[i]!] as [number, number]), 'reflect')];
      }
      // edge / wrap (and reflect wider than the input): gather with computed indices, axis by axis
      for (let a = 0; a < r; a++) {
        if (!pb[a] && !pa[a]) continue;
        const d = x.shape[a]!;
        const idx: number[] = [];
        for (let i = -pb[a]!; i < d + pa[a]!; i++) {
          let j = i;
          if (mode === 'edge') j = Math.min(Math.max(i, 0), d - 1);
          else if (mode === 'wrap') j = ((i % d) + d) % d;
          else {
            const period = 2 * (d - 1) || 1;
            j = ((i % period) + period) % period;
            if (j >= d) j = period - j;
          }
          idx.push(j);
        }
        x = tf.gather(x, tf.tensor1d(idx, 'int32'), a);
      }
      return [x];
    },
  };
}

function depthSpace(toSpace: boolean): (c: CompileCtx) => Kernel {
  return (c) => {
    const n = c.node;
    const bs = int(n, 'blocksize', 0);
    const crd = str(n, 'mode', 'DCR') === 'CRD';
    const nhwc = n.layout === 'NHWC';
    const train = c.mode === 'train';
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        let x = rt.t(ins[0]!);
        // tfjs' depthToSpace (DCR) has no gradient: training takes the reshape path
        if (toSpace && nhwc && !crd && !train) return [tf.depthToSpace(x as never, bs, 'NHWC')];
        if (nhwc) x = tf.transpose(x, [0, 3, 1, 2]);
        const [N, C, H, W] = x.shape as [number, number, number, number];
        let y: TfTensor;
        if (toSpace) {
          const c2 = C / (bs * bs);
          y = crd
            ? tf.transpose(tf.reshape(x, [N, c2, bs, bs, H, W]), [0, 1, 4, 2, 5, 3])
            : tf.transpose(tf.reshape(x, [N, bs, bs, c2, H, W]), [0, 3, 4, 1, 5, 2]);
          y = tf.reshape(y, [N, c2, H * bs, W * bs]);
        } else {
          y = tf.transpose(tf.reshape(x, [N, C, H / bs, bs, W / bs, bs]), [0, 3, 5, 1, 2, 4]);
          y = tf.reshape(y, [N, C * bs * bs, H / bs, W / bs]);
        }
        return [nhwc ? tf.transpose(y, [0, 2, 3, 1]) : y];
      },
    };
  };
}

export const INDEX_KERNELS: OpTable = {
  Gather: (c) => {
    const axis = int(c.node, 'axis', 0);
    const train = c.mode === 'train';
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        const a = axisOf(axis, x.rank);
        const idx = gatherIndices(rt, ins[1]!, x.shape[a]!);
        return [train && x.dtype === 'float32' ? gatherScatterGrad(rt, x, idx, a) : rt.tf.gather(x, idx, a)];
      },
      host: (ins) => [hostGather(ins[0]!, ins[1]!, axisOf(axis, ins[0]!.shape.length))],
    };
  },
  Pad: pad,
  DepthToSpace: depthSpace(true),
  SpaceToDepth: depthSpace(false),
  CumSum: (c) => {
    const exclusive = int(c.node, 'exclusive', 0) === 1;
    const reverse = int(c.node, 'reverse', 0) === 1;
    return {
      run: (ins, rt) => {
        const x = rt.t(ins[0]!);
        return [rt.tf.cumsum(x, axisOf(rt.ints(ins[1]!)[0] ?? 0, x.rank), exclusive, reverse)];
      },
    };
  },
  TopK: (c) => {
    const axis = int(c.node, 'axis', -1);
    const largest = int(c.node, 'largest', 1) === 1;
    const kOf = intsOperand(c, 1, 'k');
    return {
      run: (ins, rt) => {
        const tf = rt.tf;
        let x = rt.t(ins[0]!);
        const a = axisOf(axis, x.rank);
        const k = (kOf(ins, rt) ?? [1])[0]!;
        const perm = Array.from({ length: x.rank }, (_, i) => i);
        perm[a] = x.rank - 1;
        perm[x.rank - 1] = a;
        const moved = a !== x.rank - 1;
        if (moved) x = tf.transpose(x, perm);
        if (!largest) x = tf.neg(x);
        let { values, indices } = tf.topk(x, k, true);
        if (!largest) values = tf.neg(values);
        if (moved) [values, indices] = [tf.transpose(values, perm), tf.transpose(indices, perm)];
        return [values, indices];
      },
    };
  },
};
