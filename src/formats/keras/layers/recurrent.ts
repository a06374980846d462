/**
 * Recurrent layers: LSTM, GRU, SimpleRNN → ONNX LSTM / GRU / RNN (opset 17).
 *
 * The IR nodes are sequence-major (layout = 0, the ONNX default) between two Transposes:
 * onnxruntime refuses batch-major recurrent ops (layout = 1).
 *
 * Gate order: Keras LSTM kernels are [i, f, c, o] blocks, ONNX wants [i, o, f, c]; Keras GRU
 * [z, r, h] is ONNX's order. Keras kernels are [in, gates·units]; ONNX W is [1, gates·units, in]
 * (R likewise) and B is [1, 2·gates·units] = input bias ++ recurrent bias. A GRU with
 * reset_after (the TF2 default) has both biases ([2, 3·units]) and applies the reset gate after
 * the recurrent matmul: ONNX linear_before_reset = 1.
 */
import { transposeData } from '../../../data/npy.js';
import type { Attr } from '../../../ir/graph.js';
import { activationName, rnnActivation } from '../activations.js';
import { type LayerCall, type LayerHandler, type WeightMapping, int, ints, str } from '../context.js';

interface Kind {
  op: 'LSTM' | 'GRU' | 'RNN';
  cell: string;
  gates: number;
  /** ONNX gate block i takes Keras gate block order[i] */
  order: number[];
}

const KINDS: Record<string, Kind> = {
  LSTM: { op: 'LSTM', cell: 'lstm_cell', gates: 4, order: [0, 3, 1, 2] },
  GRU: { op: 'GRU', cell: 'gru_cell', gates: 3, order: [0, 1, 2] },
  SimpleRNN: { op: 'RNN', cell: 'simple_rnn_cell', gates: 1, order: [0] },
};

function inverse(order: number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((o, i) => (inv[o] = i));
  return inv;
}

/** Reorder the gate blocks along the last axis of [rows, gates·units]. */
function reorderCols(data: Float32Array, rows: number, gates: number, units: number, order: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const cols = gates * units;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < gates; g++) {
      const src = r * cols + order[g]! * units;
      out.set(data.subarray(src, src + units), r * cols + g * units);
    }
  }
  return out;
}

/** Keras [rows, gates·units] ⇄ ONNX [1, gates·units, rows], gates reordered. */
function matrixMapping(k: Kind, units: number): WeightMapping {
  return {
    to(t) {
      const rows = t.shape[0]!;
      const re = reorderCols(t.data as Float32Array, rows, k.gates, units, k.order);
      return { dtype: t.dtype, shape: [1, k.gates * units, rows], data: transposeData(re, [rows, k.gates * units], [1, 0]) };
    },
    back(t) {
      const rows = t.shape[2]!;
      const tr = transposeData(t.data as Float32Array, [k.gates * units, rows], [1, 0]);
      return { dtype: t.dtype, shape: [rows, k.gates * units], data: reorderCols(tr, rows, k.gates, units, inverse(k.order)) };
    },
  };
}

/** Keras bias [gates·units] (or GRU reset_after [2, gates·units]) ⇄ ONNX B [1, 2·gates·units]. */
function biasMapping(k: Kind, units: number, twoRows: boolean): WeightMapping {
  const n = k.gates * units;
  return {
    to(t) {
      const both = twoRows;
      const data = new Float32Array(2 * n);
      const src = t.data as Float32Array;
      data.set(reorderCols(src.subarray(0, n), 1, k.gates, units, k.order), 0);
      if (both) data.set(reorderCols(src.subarray(n, 2 * n), 1, k.gates, units, k.order), n);
      return { dtype: 'float32', shape: [1, 2 * n], data };
    },
    back(t) {
      const src = t.data as Float32Array;
      const inv = inverse(k.order);
      if (twoRows) {
        const data = new Float32Array(2 * n);
        data.set(reorderCols(src.subarray(0, n), 1, k.gates, units, inv), 0);
        data.set(reorderCols(src.subarray(n, 2 * n), 1, k.gates, units, inv), n);
        return { dtype: 'float32', shape: [2, n], data };
      }
      return { dtype: 'float32', shape: [n], data: reorderCols(src.subarray(0, n), 1, k.gates, units, inv) };
    },
  };
}

const recurrent = (k: Kind): LayerHandler => ({
  weighted: true,
  apply(c: LayerCall) {
    const units = c.config.units as number;
    if (c.config.time_major === true) c.fail('time_major=True is not supported');
    const w = c.weights;
    if (w.length < 2) c.fail(`expected a kernel and a recurrent kernel, found ${w.length} weights`, undefined, 'CORRUPT_MODEL');
    const W = c.weight(0, `${k.cell}/kernel`, matrixMapping(k, units));
    const R = c.weight(1, `${k.cell}/recurrent_kernel`, matrixMapping(k, units));
    const useBias = c.config.use_bias !== false && w.length > 2;
    const resetAfter = k.op === 'GRU' && w[2]?.shape.length === 2;
    let B: string | undefined;
    if (useBias) {
      B = c.weight(2, `${k.cell}/bias`, biasMapping(k, units, resetAfter));
    }
    // activations: LSTM f, g, h / GRU f, g / RNN g (f = recurrent_activation, g = h = activation)
    const act = rnnActivation(c.b, activationName(c.get('activation', 'tanh')), c.where);
    const rec = rnnActivation(c.b, activationName(c.get('recurrent_activation', 'sigmoid')), c.where);
    const acts = k.op === 'LSTM' ? [rec, act, act] : k.op === 'GRU' ? [rec, act] : [act];
    const attrs: Record<string, Attr> = {
      hidden_size: int(units),
      direction: str(c.config.go_backwards === true ? 'reverse' : 'forward'),
      activations: { type: 'strings', value: acts.map((a) => a.name) },
    };
    const alphas = acts.filter((a) => a.alpha !== undefined).map((a) => a.alpha!);
    const betas = acts.filter((a) => a.beta !== undefined).map((a) => a.beta!);
    if (alphas.length) attrs.activation_alpha = { type: 'floats', value: alphas };
    if (betas.length) attrs.activation_beta = { type: 'floats', value: betas };
    if (k.op === 'GRU') attrs.linear_before_reset = int(resetAfter ? 1 : 0);
    // [N, T, C] → [T, N, C]
    const xt = c.out('/time_major');
    c.b.node('Transpose', [c.x], [xt], { perm: ints([1, 0, 2]) });
    const Y = c.out('/Y');
    const Yh = c.out('/Y_h');
    const Yc = k.op === 'LSTM' ? c.out('/Y_c') : undefined;
    // initial_state: the call's extra inputs, [N, units] each → [1, N, units]
    const states = c.inputs.slice(1).map((s, i) => {
      const u = c.out(`/initial_${i}`);
      c.b.node('Unsqueeze', [s, c.b.i64('axes', [0])], [u]);
      return u;
    });
    if (states.length && states.length !== (k.op === 'LSTM' ? 2 : 1)) c.fail(`is called with ${states.length} initial states`);
    const ins = [xt, W, R, B ?? '', '', states[0] ?? '', states[1] ?? ''];
    while (ins[ins.length - 1] === '') ins.pop();
    c.b.node(k.op, ins, [Y, Yh, ...(Yc ? [Yc] : [])], attrs);
    const squeeze = (v: string, axis: number, suffix: string): string => {
      const s = c.out(suffix);
      c.b.node('Squeeze', [v, c.b.i64('axes', [axis])], [s]);
      return s;
    };
    let out: string;
    if (c.config.return_sequences === true) {
      // Y [T, 1, N, units] → [N, T, units]; Keras go_backwards returns the steps in processing order
      let seq = squeeze(Y, 1, '/Y_seq');
      if (c.config.go_backwards === true) {
        const rev = c.out('/Y_reversed');
        c.b.node('Slice', [seq, c.b.i64('starts', [-1]), c.b.i64('ends', [-(2n ** 63n)]), c.b.i64('axes', [0]), c.b.i64('steps', [-1])], [rev]);
        seq = rev;
      }
      out = c.out();
      c.b.node('Transpose', [seq], [out], { perm: ints([1, 0, 2]) });
    } else {
      out = squeeze(Yh, 0, '');
    }
    if (c.config.return_state !== true) return out;
    return [out, squeeze(Yh, 0, '/h'), ...(Yc ? [squeeze(Yc, 0, '/c')] : [])];
  },
});

export const RECURRENT_LAYERS: Record<string, LayerHandler> = {
  LSTM: recurrent(KINDS.LSTM!),
  GRU: recurrent(KINDS.GRU!),
  SimpleRNN: recurrent(KINDS.SimpleRNN!),
};
