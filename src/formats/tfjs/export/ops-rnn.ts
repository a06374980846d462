/**
 * ONNX LSTM / GRU / RNN in a TF.js graph model, unrolled over the (static) sequence length as
 * tensorflowjs_converter does for a Keras RNN without a while loop: the input projection of every
 * time step is one BatchMatMulV2 (+ the biases that are plain additions), then each step is a
 * MatMul with the recurrent weights, a SplitV into gates and the cell update. Gate order is
 * ONNX's (LSTM i, o, f, c; GRU z, r, h), bidirectional runs the reverse pass on the reversed
 * steps, Y / Y_h / Y_c are stacked as ONNX lays them out (layout 0 or 1).
 */
import { attrFloat, attrInt, attrString } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { toFloat32 } from '../../../ir/tensor.js';
import type { Handler } from './context.js';
import { A } from './graphdef.js';
import { permuted } from './nn-common.js';

const T = A.type('float32');
const I32 = A.type('int32');

const GATES: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTS: Record<string, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

/** rows [from, to) of direction d of a [D, rows, cols] tensor, as float32 [rows', cols] */
function rows(t: Tensor, d: number, from: number, to: number): Tensor {
  const [, r, cols] = t.shape as [number, number, number];
  const f = toFloat32(t);
  return { dtype: 'float32', shape: [to - from, cols], data: f.slice((d * r + from) * cols, (d * r + to) * cols) };
}

function vec(t: Tensor, d: number, from: number, to: number): Float32Array {
  const len = t.shape[1] as number;
  return toFloat32(t).slice(d * len + from, d * len + to);
}

export const rnn: Handler = (n, c) => {
  const G = GATES[n.op]!;
  const [xv, wv, rv, bv, lv, h0v, c0v, pv] = n.inputs;
  const W = c.constant(wv!);
  const R = c.constant(rv!);
  if (!W || !R) c.fail(n, 'the weights must be constants');
  const D = attrString(n, 'direction', 'forward') === 'bidirectional' ? 2 : 1;
  const reverse = attrString(n, 'direction', 'forward') === 'reverse';
  const H = attrInt(n, 'hidden_size') ?? (R!.shape[2] as number);
  const batchMajor = attrInt(n, 'layout', 0) === 1;
  const xs = c.shape(xv!);
  const steps = xs?.[batchMajor ? 1 : 0];
  if (typeof steps !== 'number') c.fail(n, 'the sequence length must be static (the steps are unrolled)');
  if (n.op === 'LSTM' && attrInt(n, 'input_forget', 0)) c.fail(n, 'input_forget=1');
  if (lv) {
    const lens = c.ints(lv);
    if (!lens || lens.some((l) => l !== steps)) c.fail(n, 'sequence_lens shorter than the sequence (masking is not written to TF.js)');
  }
  const acts = n.attrs.activations?.type === 'strings' ? n.attrs.activations.value : [];
  const alphas = n.attrs.activation_alpha?.type === 'floats' ? n.attrs.activation_alpha.value : [];
  const betas = n.attrs.activation_beta?.type === 'floats' ? n.attrs.activation_beta.value : [];
  const clip = attrFloat(n, 'clip', NaN);
  const lbr = n.op === 'GRU' && attrInt(n, 'linear_before_reset', 0) === 1;
  const B = bv ? c.constant(bv) : undefined;
  if (bv && !B) c.fail(n, 'the bias must be a constant');
  const P = pv ? c.constant(pv) : undefined;
  if (pv && !P) c.fail(n, 'the peephole weights must be constants');
  const name = n.name;
  const nActs = DEFAULT_ACTS[n.op]!.length;

  const apply = (d: number, k: number, x: string, hint: string): string => {
    const i = d * nActs + k;
    const kind = acts[i] ?? DEFAULT_ACTS[n.op]![k]!;
    const input = Number.isNaN(clip) ? x : c.op('ClipByValue', `${hint}/clipped`, [x, c.f32(`${name}/clip_lo`, -clip), c.f32(`${name}/clip_hi`, clip)], { T });
    switch (kind.toLowerCase()) {
      case 'sigmoid':
        return c.op('Sigmoid', hint, [input], { T });
      case 'tanh':
        return c.op('Tanh', hint, [input], { T });
      case 'relu':
        return c.op('Relu', hint, [input], { T });
      case 'hardsigmoid': {
        const ax = c.op('Mul', `${hint}/ax`, [input, c.f32(`${name}/hs_alpha${i}`, alphas[i] ?? 0.2)], { T });
        const axb = c.op('AddV2', `${hint}/axb`, [ax, c.f32(`${name}/hs_beta${i}`, betas[i] ?? 0.5)], { T });
        return c.op('ClipByValue', hint, [axb, c.f32(`${name}/zero`, 0), c.f32(`${name}/one`, 1)], { T });
      }
      default:
        return c.fail(n, `activation ${kind}`);
    }
  };

  // [T, B, I]
  let x = c.ref(xv!);
  if (batchMajor) x = c.op('Transpose', `${name}/time_major`, [x, c.i32(`${name}/perm102`, [1, 0, 2])], { T, Tperm: I32 });
  const sliceState = (v: string, d: number, hint: string): string => {
    let s = c.ref(v);
    if (batchMajor) s = c.op('Transpose', `${hint}/dir_major`, [s, c.i32(`${name}/perm102`, [1, 0, 2])], { T, Tperm: I32 });
    return c.op('StridedSlice', hint, [s, c.i32(`${hint}/b`, [d, 0, 0]), c.i32(`${hint}/e`, [d + 1, 0, 0]), c.i32(`${name}/s111`, [1, 1, 1])], {
      T, Index: I32, begin_mask: A.i(6), end_mask: A.i(6), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(1),
    });
  };
  const stepOf = (xw: string, t: number, hint: string): string =>
    c.op('StridedSlice', hint, [xw, c.i32(`${hint}/b`, [t, 0, 0]), c.i32(`${hint}/e`, [t + 1, 0, 0]), c.i32(`${name}/s111`, [1, 1, 1])], {
      T, Index: I32, begin_mask: A.i(6), end_mask: A.i(6), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(1),
    });
  const matmul = (a: string, b: string, hint: string): string => c.op('MatMul', hint, [a, b], { T, transpose_a: A.b(false), transpose_b: A.b(false) });
  const add = (a: string, b: string, hint: string): string => c.op('AddV2', hint, [a, b], { T });
  const mul = (a: string, b: string, hint: string): string => c.op('Mul', hint, [a, b], { T });

  const ys: string[] = [];
  const hs: string[] = [];
  const cs: string[] = [];
  for (let d = 0; d < D; d++) {
    const p = `${name}/d${d}`;
    // input projection of all steps, with every bias that is a plain addition
    const bias = new Float32Array(G * H);
    if (B) {
      const wb = vec(B, d, 0, G * H);
      const rb = vec(B, d, G * H, 2 * G * H);
      for (let j = 0; j < G * H; j++) bias[j] = wb[j]! + (n.op === 'GRU' && lbr && j >= 2 * H ? 0 : rb[j]!);
    }
    const wt = c.weight(wv!, `d${d}_t`, (t) => permuted(rows(t, d, 0, G * H), [1, 0]));
    let xw = c.op('BatchMatMulV2', `${p}/xw`, [x, wt], { T, adj_x: A.b(false), adj_y: A.b(false) });
    if (B) xw = add(xw, c.const(`${p}/bias`, { dtype: 'float32', shape: [G * H], data: bias }), `${p}/xwb`);
    const rt = n.op === 'GRU' ? c.weight(rv!, `d${d}_zr_t`, (t) => permuted(rows(t, d, 0, 2 * H), [1, 0])) : c.weight(rv!, `d${d}_t`, (t) => permuted(rows(t, d, 0, G * H), [1, 0]));
    const rht = n.op === 'GRU' ? c.weight(rv!, `d${d}_h_t`, (t) => permuted(rows(t, d, 2 * H, 3 * H), [1, 0])) : undefined;
    const rbh = n.op === 'GRU' && lbr && B ? c.const(`${p}/rbh`, { dtype: 'float32', shape: [H], data: vec(B, d, 5 * H, 6 * H) }) : undefined;
    const peep = P ? [0, 1, 2].map((k) => c.const(`${p}/p${k}`, { dtype: 'float32', shape: [H], data: vec(P, d, k * H, (k + 1) * H) })) : undefined;

    const order = Array.from({ length: steps as number }, (_, i) => (reverse || d === 1 ? (steps as number) - 1 - i : i));
    const first = stepOf(xw, order[0]!, `${p}/x${order[0]}`);
    const zeros = (): string => c.op('ZerosLike', `${p}/zeros`, [c.op('StridedSlice', `${p}/zeros_like`, [first, c.i32(`${p}/zb`, [0, 0]), c.i32(`${p}/ze`, [0, H]), c.i32(`${name}/s11`, [1, 1])], {
      T, Index: I32, begin_mask: A.i(1), end_mask: A.i(1), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(0),
    })], { T });
    let h = h0v ? sliceState(h0v, d, `${p}/h0`) : zeros();
    let cell = n.op === 'LSTM' ? (c0v ? sliceState(c0v, d, `${p}/c0`) : h0v ? zeros() : h) : '';
    const outs: string[] = [];
    order.forEach((t, i) => {
      const s = `${p}/t${t}`;
      const xt = i === 0 ? first : stepOf(xw, t, `${s}/x`);
      if (n.op === 'LSTM') {
        const g = add(xt, matmul(h, rt, `${s}/hr`), `${s}/gates`);
        const split = c.op('SplitV', `${s}/split`, [g, c.i32(`${name}/sizes`, [H, H, H, H]), c.i32(`${name}/axis1`, [1], [])], { T, Tlen: I32, num_split: A.i(4) });
        let [gi, go, gf] = [split, `${split}:1`, `${split}:2`];
        const gc = `${split}:3`;
        if (peep) {
          gi = add(gi, mul(peep[0]!, cell, `${s}/pi`), `${s}/gi`);
          gf = add(gf, mul(peep[2]!, cell, `${s}/pf`), `${s}/gf`);
        }
        const it = apply(d, 0, gi, `${s}/i`);
        const ft = apply(d, 0, gf, `${s}/f`);
        const ct = apply(d, 1, gc, `${s}/c_in`);
        cell = add(mul(ft, cell, `${s}/fc`), mul(it, ct, `${s}/ic`), `${s}/c`);
        if (peep) go = add(go, mul(peep[1]!, cell, `${s}/po`), `${s}/go`);
        h = mul(apply(d, 0, go, `${s}/o`), apply(d, 2, cell, `${s}/c_act`), `${s}/h`);
      } else if (n.op === 'GRU') {
        const hr = matmul(h, rt, `${s}/hr`);
        const xs3 = c.op('SplitV', `${s}/xsplit`, [xt, c.i32(`${name}/sizes2h`, [2 * H, H]), c.i32(`${name}/axis1`, [1], [])], { T, Tlen: I32, num_split: A.i(2) });
        const zr = c.op('SplitV', `${s}/zr`, [add(xs3, hr, `${s}/zr_in`), c.i32(`${name}/sizes_hh`, [H, H]), c.i32(`${name}/axis1`, [1], [])], { T, Tlen: I32, num_split: A.i(2) });
        const z = apply(d, 0, zr, `${s}/z`);
        const r = apply(d, 0, `${zr}:1`, `${s}/r`);
        const rec = lbr ? mul(r, rbh ? add(matmul(h, rht!, `${s}/hh_lin`), rbh, `${s}/hh_b`) : matmul(h, rht!, `${s}/hh_lin`), `${s}/rh`) : matmul(mul(r, h, `${s}/rh_in`), rht!, `${s}/rh`);
        const hh = apply(d, 1, add(`${xs3}:1`, rec, `${s}/hh_in`), `${s}/hh`);
        h = add(hh, mul(z, c.op('Sub', `${s}/dh`, [h, hh], { T }), `${s}/zdh`), `${s}/h`);
      } else {
        h = apply(d, 0, add(xt, matmul(h, rt, `${s}/hr`), `${s}/in`), `${s}/h`);
      }
      outs[t] = h;
    });
    ys.push(c.op('Pack', `${p}/y`, outs, { T, N: A.i(outs.length), axis: A.i(0) }));
    hs.push(h);
    if (n.op === 'LSTM') cs.push(cell);
  }

  const stack = (parts: string[], axis: number, hint: string): string => {
    const expanded = parts.map((v, i) => c.op('ExpandDims', `${hint}/${i}`, [v, c.i32(`${name}/axis${axis}`, [axis], [])], { T, Tdim: I32 }));
    return expanded.length === 1 ? expanded[0]! : c.op('ConcatV2', `${hint}/concat`, [...expanded, c.i32(`${name}/axis${axis}`, [axis], [])], { N: A.i(expanded.length), T, Tidx: I32 });
  };
  const bind = (out: string | undefined, v: string, perm: number[]): void => {
    if (!out) return;
    c.bind(out, batchMajor ? c.op('Transpose', out, [v, c.i32(`${out}/perm`, perm)], { T, Tperm: I32 }) : c.op('Identity', out, [v], { T }));
  };
  if (n.outputs[0] && c.isUsed(n.outputs[0])) bind(n.outputs[0], stack(ys, 1, `${name}/Y`), [2, 0, 1, 3]);
  if (n.outputs[1]) bind(n.outputs[1], stack(hs, 0, `${name}/Y_h`), [1, 0, 2]);
  if (n.outputs[2] && n.op === 'LSTM') bind(n.outputs[2], stack(cs, 0, `${name}/Y_c`), [1, 0, 2]);
};

export const RNN_HANDLERS: Record<string, Handler> = { LSTM: rnn, GRU: rnn, RNN: rnn };
