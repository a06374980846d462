/**
 * Recurrent ops (ONNX LSTM, GRU, RNN; opset 7–22 semantics), unrolled over time with tfjs ops so
 * that they run on every backend and train through autodiff (the tape records each step).
 *
 *  - Gate blocks: LSTM [i, o, f, c], GRU [z, r, h], RNN one block. W [dirs, gates·H, I],
 *    R [dirs, gates·H, H], B [dirs, 2·gates·H] = Wb ++ Rb; LSTM peepholes P [dirs, 3·H] = [i, o, f].
 *  - The input projection of the whole sequence is one matMul per direction (X [T·N, I] × Wᵀ, the
 *    biases added once); each step then adds H_{t-1} × Rᵀ and applies the gates.
 *  - direction forward / reverse / bidirectional (Y keeps time order; Y_h is the state after
 *    the last step processed); layout 0 (sequence-major) and 1 (batch-major).
 *  - activations with activation_alpha / activation_beta consumed in order by the functions that
 *    take them (defaults: those of the ONNX activation ops); clip bounds every gate's input.
 *  - sequence_lens: steps at or past a row's length leave its state unchanged and output zeros.
 *  - GRU linear_before_reset 0: ĥ = g(x·Whᵀ + (r ⊙ H)·Rhᵀ + Wbh + Rbh);
 *                             1: ĥ = g(x·Whᵀ + Wbh + r ⊙ (H·Rhᵀ + Rbh)).
 *  - LSTM input_forget = 1 couples the gates: f = 1 − i.
 * Weights are re-laid out (transposed, biases summed) as derived values: once per weight version
 * in inference.
 */
import { float, int, str } from '../kutil.js';
import type { CompileCtx, Derived, Kernel, OpTable, RunCtx, Tf, TfTensor, Val } from '../types.js';

type Kind = 'LSTM' | 'GRU' | 'RNN';
type Fn = (tf: Tf, x: TfTensor) => TfTensor;

const GATES: Record<Kind, number> = { LSTM: 4, GRU: 3, RNN: 1 };
/** activation functions per direction and their defaults */
const DEFAULT_ACTS: Record<Kind, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

/** name → [uses alpha, uses beta, default alpha, default beta] */
const ACT_PARAMS: Record<string, [boolean, boolean, number, number]> = {
  sigmoid: [false, false, 0, 0], tanh: [false, false, 0, 0], relu: [false, false, 0, 0],
  softsign: [false, false, 0, 0], softplus: [false, false, 0, 0],
  leakyrelu: [true, false, 0.01, 0], thresholdedrelu: [true, false, 1, 0], elu: [true, false, 1, 0],
  hardsigmoid: [true, true, 0.2, 0.5], affine: [true, true, 1, 0], scaledtanh: [true, true, 1, 1],
};

function activation(name: string, a: number, b: number): Fn {
  switch (name) {
    case 'sigmoid': return (tf, x) => tf.sigmoid(x);
    case 'tanh': return (tf, x) => tf.tanh(x);
    case 'relu': return (tf, x) => tf.relu(x);
    case 'softsign': return (tf, x) => tf.div(x, tf.add(tf.abs(x), 1));
    case 'softplus': return (tf, x) => tf.softplus(x);
    case 'leakyrelu': return (tf, x) => tf.leakyRelu(x, a);
    case 'thresholdedrelu': return (tf, x) => tf.mul(x, tf.cast(tf.greater(x, a), 'float32'));
    case 'elu': return a === 1 ? (tf, x) => tf.elu(x) : (tf, x) => tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), a));
    case 'hardsigmoid': return (tf, x) => tf.clipByValue(tf.add(tf.mul(x, a), b), 0, 1);
    case 'affine': return (tf, x) => tf.add(tf.mul(x, a), b);
    case 'scaledtanh': return (tf, x) => tf.mul(tf.tanh(tf.mul(x, b)), a);
    default: throw new Error(`unknown activation "${name}"`);
  }
}

/** The activation functions of each direction (attribute activations / alpha / beta). */
function activations(c: CompileCtx, kind: Kind, dirs: number): Fn[][] {
  const per = DEFAULT_ACTS[kind].length;
  const attr = c.node.attrs.activations;
  let names = attr?.type === 'strings' ? attr.value : [];
  if (names.length === 0) names = DEFAULT_ACTS[kind];
  if (dirs === 2 && names.length === per) names = [...names, ...names];
  if (names.length !== per * dirs) c.fail(`${names.length} activations given, ${kind} with ${dirs} direction(s) takes ${per * dirs}`);
  const alphaAttr = c.node.attrs.activation_alpha;
  const betaAttr = c.node.attrs.activation_beta;
  const alphas = alphaAttr?.type === 'floats' ? [...alphaAttr.value] : [];
  const betas = betaAttr?.type === 'floats' ? [...betaAttr.value] : [];
  const fns = names.map((n) => {
    const key = n.toLowerCase();
    const p = ACT_PARAMS[key];
    if (!p) c.fail(`activation "${n}" is not an ONNX recurrent activation`);
    const a = p[0] && alphas.length ? alphas.shift()! : p[2];
    const b = p[1] && betas.length ? betas.shift()! : p[3];
    return activation(key, a, b);
  });
  return Array.from({ length: dirs }, (_, d) => fns.slice(d * per, (d + 1) * per));
}

/** Per-direction weights in matMul layout, as derived values. */
interface DirWeights {
  /** Wᵀ [I, gates·H] */
  w: number;
  /** Rᵀ [H, gates·H] (GRU with linear_before_reset = 0: the z, r blocks only) */
  r: number;
  /** GRU linear_before_reset = 0: Rhᵀ [H, H] */
  rh?: number;
  /** bias added to the input projection [gates·H] */
  bx?: number;
  /** GRU linear_before_reset = 1: Rbh [H] */
  rbh?: number;
  /** LSTM peepholes [3, H] */
  p?: number;
}

function rnn(kind: Kind): (c: CompileCtx) => Kernel {
  return (c) => {
    const n = c.node;
    const G = GATES[kind];
    const direction = str(n, 'direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) c.fail(`direction "${direction}" is not forward, reverse or bidirectional`);
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const layout = int(n, 'layout', 0);
    if (layout !== 0 && layout !== 1) c.fail(`layout ${layout} is not 0 or 1`);
    const clip = n.attrs.clip ? float(n, 'clip', 0) : undefined;
    const lbr = kind === 'GRU' && int(n, 'linear_before_reset', 0) !== 0;
    const inputForget = kind === 'LSTM' && int(n, 'input_forget', 0) !== 0;
    const acts = activations(c, kind, dirs);
    const has = (i: number): boolean => !!n.inputs[i];
    const hasB = has(3);
    const hasP = kind === 'LSTM' && has(7);
    const wants = n.outputs.map((o) => !!o);

    // derived weights, per direction
    const derive: Derived[] = [];
    const add = (d: Derived): number => derive.push(d) - 1;
    const rowsOf = (v: Val | undefined, rt: RunCtx, d: number, from: number, to?: number): TfTensor => {
      const t = rt.t(v!);
      const rows = to === undefined ? t.shape[1]! - from : to - from;
      return rt.tf.reshape(rt.tf.slice(t, [d, from, 0], [1, rows, -1]), [rows, t.shape[2]!]);
    };
    const dw: DirWeights[] = [];
    for (let d = 0; d < dirs; d++) {
      const w = add({ from: [1], fn: (v, rt) => rt.tf.transpose(rowsOf(v[1], rt, d, 0)) });
      let r: number;
      let rh: number | undefined;
      if (kind === 'GRU' && !lbr) {
        // the r ⊙ H product comes before the h block's recurrent matMul: two matMuls per step
        r = add({ from: [2], fn: (v, rt) => { const H = rt.t(v[2]!).shape[2]!; return rt.tf.transpose(rowsOf(v[2], rt, d, 0, 2 * H)); } });
        rh = add({ from: [2], fn: (v, rt) => { const H = rt.t(v[2]!).shape[2]!; return rt.tf.transpose(rowsOf(v[2], rt, d, 2 * H, 3 * H)); } });
      } else {
        r = add({ from: [2], fn: (v, rt) => rt.tf.transpose(rowsOf(v[2], rt, d, 0)) });
      }
      const entry: DirWeights = { w, r, ...(rh !== undefined ? { rh } : {}) };
      if (hasB) {
        entry.bx = add({
          from: [3],
          fn: (v, rt) => {
            const tf = rt.tf;
            const b = rt.t(v[3]!);
            const GH = b.shape[1]! / 2;
            const row = tf.reshape(tf.slice(b, [d, 0], [1, -1]), [2 * GH]);
            const wb = tf.slice(row, [0], [GH]);
            if (!lbr) return tf.add(wb, tf.slice(row, [GH], [GH]));
            // GRU linear_before_reset: Rbh stays inside the reset product
            const H = GH / 3;
            return tf.add(wb, tf.concat([tf.slice(row, [GH], [2 * H]), tf.zeros([H])]));
          },
        });
        if (lbr) {
          entry.rbh = add({
            from: [3],
            fn: (v, rt) => {
              const b = rt.t(v[3]!);
              const H = b.shape[1]! / 6;
              return rt.tf.reshape(rt.tf.slice(b, [d, 5 * H], [1, H]), [H]);
            },
          });
        }
      }
      if (hasP) entry.p = add({ from: [7], fn: (v, rt) => { const p = rt.t(v[7]!); return rt.tf.reshape(rt.tf.slice(p, [d, 0], [1, -1]), [3, -1]); } });
      dw.push(entry);
    }

    return {
      derive,
      run: (ins, rt, derived) => {
        const tf = rt.tf;
        const dv = (i: number | undefined): TfTensor | undefined => (i === undefined ? undefined : (derived[i] as TfTensor));
        let x = rt.t(ins[0]!);
        if (x.rank !== 3) throw new Error(`X must be 3-D, got shape [${x.shape.join(', ')}]`);
        if (layout === 1) x = tf.transpose(x, [1, 0, 2]);
        const [T, N, I] = x.shape as [number, number, number];
        const H = (dv(dw[0]!.rh) ?? dv(dw[0]!.r)!).shape[0]!;
        const state = (i: number): TfTensor | undefined => {
          if (!ins[i]) return undefined;
          const s = rt.t(ins[i]!);
          return layout === 1 ? tf.transpose(s, [1, 0, 2]) : s;
        };
        const h0 = state(5);
        const c0 = kind === 'LSTM' ? state(6) : undefined;
        const masks = stepMasks(rt, ins[4], T, N);
        const x2 = tf.reshape(x, [T * N, I]);
        const ys: TfTensor[] = [];
        const hs: TfTensor[] = [];
        const cs: TfTensor[] = [];
        for (let d = 0; d < dirs; d++) {
          const wd = dw[d]!;
          let proj = tf.matMul(x2, dv(wd.w)!);
          if (wd.bx !== undefined) proj = tf.add(proj, dv(wd.bx)!);
          const xs = T === 0 ? [] : tf.unstack(tf.reshape(proj, [T, N, G * H]));
          const init = (s: TfTensor | undefined): TfTensor => (s ? tf.reshape(tf.slice(s, [d, 0, 0], [1, -1, -1]), [N, H]) : tf.zeros([N, H]));
          let h = init(h0);
          let cell = kind === 'LSTM' ? init(c0) : undefined;
          const out: TfTensor[] = new Array<TfTensor>(T);
          const reverse = direction === 'reverse' || d === 1;
          const [f, g, hAct] = acts[d]!;
          const cl = (t: TfTensor): TfTensor => (clip === undefined ? t : tf.clipByValue(t, -clip, clip));
          for (let k = 0; k < T; k++) {
            const t = reverse ? T - 1 - k : k;
            let hNew: TfTensor;
            let cNew: TfTensor | undefined;
            if (kind === 'LSTM') {
              const gates = tf.add(xs[t]!, tf.matMul(h, dv(wd.r)!));
              let [gi, go, gf, gc] = tf.split(gates, 4, 1) as [TfTensor, TfTensor, TfTensor, TfTensor];
              const p = dv(wd.p);
              const [pi, po, pf] = p ? (tf.unstack(p) as [TfTensor, TfTensor, TfTensor]) : [];
              if (pi) gi = tf.add(gi, tf.mul(pi, cell!));
              if (pf) gf = tf.add(gf, tf.mul(pf, cell!));
              const iv = f!(tf, cl(gi));
              const fv = inputForget ? tf.sub(1, iv) : f!(tf, cl(gf));
              cNew = tf.add(tf.mul(fv, cell!), tf.mul(iv, g!(tf, cl(gc))));
              if (po) go = tf.add(go, tf.mul(po, cNew));
              hNew = tf.mul(f!(tf, cl(go)), hAct!(tf, cNew));
            } else if (kind === 'GRU') {
              const [xz, xr, xh] = tf.split(xs[t]!, 3, 1) as [TfTensor, TfTensor, TfTensor];
              const rec = tf.matMul(h, dv(wd.r)!);
              let hh: TfTensor;
              let z: TfTensor;
              if (lbr) {
                const [rz, rr, rhh] = tf.split(rec, 3, 1) as [TfTensor, TfTensor, TfTensor];
                z = f!(tf, cl(tf.add(xz, rz)));
                const r = f!(tf, cl(tf.add(xr, rr)));
                const rb = dv(wd.rbh);
                hh = g!(tf, cl(tf.add(xh, tf.mul(r, rb ? tf.add(rhh, rb) : rhh))));
              } else {
                const [rz, rr] = tf.split(rec, 2, 1) as [TfTensor, TfTensor];
                z = f!(tf, cl(tf.add(xz, rz)));
                const r = f!(tf, cl(tf.add(xr, rr)));
                hh = g!(tf, cl(tf.add(xh, tf.matMul(tf.mul(r, h), dv(wd.rh)!))));
              }
              hNew = tf.add(hh, tf.mul(z, tf.sub(h, hh)));
            } else {
              hNew = f!(tf, cl(tf.add(xs[t]!, tf.matMul(h, dv(wd.r)!))));
            }
            const m = masks?.[t];
            if (m) {
              // past the row's length: state unchanged, output zero
              out[t] = tf.mul(hNew, m);
              h = tf.add(h, tf.mul(tf.sub(hNew, h), m));
              if (cNew) cell = tf.add(cell!, tf.mul(tf.sub(cNew, cell!), m));
            } else {
              out[t] = hNew;
              h = hNew;
              if (cNew) cell = cNew;
            }
          }
          if (wants[0]) ys.push(T === 0 ? tf.zeros([0, N, H]) : tf.stack(out));
          hs.push(h);
          if (cell) cs.push(cell);
        }
        const res: Array<TfTensor | undefined> = [];
        if (wants[0]) {
          const y = tf.stack(ys, 1); // [T, dirs, N, H]
          res[0] = layout === 1 ? tf.transpose(y, [2, 0, 1, 3]) : y;
        }
        const states = (s: TfTensor[]): TfTensor => {
          const st = tf.stack(s); // [dirs, N, H]
          return layout === 1 ? tf.transpose(st, [1, 0, 2]) : st;
        };
        if (wants[1]) res[1] = states(hs);
        if (wants[2] && kind === 'LSTM') res[2] = states(cs);
        return res;
      },
    };
  };
}

/** sequence_lens → per-step [N, 1] masks (1 while the step is inside the row), or undefined when
 *  every row is the full sequence. */
function stepMasks(rt: RunCtx, lens: Val | undefined, T: number, N: number): Array<TfTensor | undefined> | undefined {
  if (!lens) return undefined;
  const L = rt.ints(lens);
  if (L.length !== N) throw new Error(`sequence_lens has ${L.length} values for a batch of ${N}`);
  for (const l of L) if (l < 0 || l > T) throw new Error(`sequence_lens value ${l} is outside [0, ${T}]`);
  if (L.every((l) => l === T)) return undefined;
  return Array.from({ length: T }, (_, t) => (L.every((l) => t < l) ? undefined : rt.tf.tensor(L.map((l) => (t < l ? 1 : 0)), [N, 1], 'float32')));
}

export const RNN_KERNELS: OpTable = {
  LSTM: rnn('LSTM'),
  GRU: rnn('GRU'),
  RNN: rnn('RNN'),
};
