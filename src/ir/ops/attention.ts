/** Transformer building blocks of opset 23+: Attention, RMSNormalization, RotaryEmbedding. */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM, dimAdd, dimScale, isKnownDim } from './dims.js';
import { same } from './rules.js';
import type { InferContext, OpDef, ValueType } from './types.js';

/**
 * Q, K, V are 4-D [B, heads, seq, head_size] or 3-D [B, seq, heads × head_size] (then the
 * q_num_heads / kv_num_heads attributes split the last dim).
 */
function attention(ctx: InferContext): ValueType[] {
  const q = ctx.shape(0);
  const k = ctx.shape(1);
  const v = ctx.shape(2);
  const dtype = ctx.dtype(0);
  if (!q) return [{ dtype }];
  let y: Dim[];
  let batch: Dim;
  let qHeads: Dim;
  let qSeq: Dim;
  let kvHeads: Dim = UNKNOWN_DIM;
  let kvSeq: Dim = UNKNOWN_DIM;
  let kHead: Dim = UNKNOWN_DIM;
  let vHead: Dim = UNKNOWN_DIM;
  if (q.length === 4) {
    [batch, qHeads, qSeq] = [q[0] as Dim, q[1] as Dim, q[2] as Dim];
    if (k?.length === 4) [kvHeads, kvSeq, kHead] = [k[1] as Dim, k[2] as Dim, k[3] as Dim];
    if (v?.length === 4) vHead = v[3] as Dim;
    y = [batch, qHeads, qSeq, vHead];
  } else if (q.length === 3) {
    [batch, qSeq] = [q[0] as Dim, q[1] as Dim];
    const qh = ctx.int('q_num_heads');
    const kvh = ctx.int('kv_num_heads');
    qHeads = qh ?? UNKNOWN_DIM;
    kvHeads = kvh ?? UNKNOWN_DIM;
    if (k?.length === 3) kvSeq = k[1] as Dim;
    const split = (d: Dim | undefined, h: number | undefined): Dim => (isKnownDim(d) && h ? d / h : UNKNOWN_DIM);
    if (k?.length === 3) kHead = split(k[2], kvh);
    const vLast = v?.length === 3 ? (v[2] as Dim) : UNKNOWN_DIM;
    vHead = split(vLast, kvh);
    y = [batch, qSeq, qh && kvh ? dimScale(vHead, qh) : UNKNOWN_DIM];
    if (qh && kvh === qh) y[2] = vLast;
  } else {
    return ctx.fail(`Q must be 3-D or 4-D, got rank ${q.length}`);
  }
  const past = ctx.shape(4);
  const total: Dim = past?.length === 4 ? dimAdd(past[2] as Dim, kvSeq) : kvSeq;
  return [
    { dtype, shape: y },
    { dtype, shape: [batch, kvHeads, total, kHead] },
    { dtype, shape: [batch, kvHeads, total, vHead] },
    { dtype, shape: [batch, qHeads, qSeq, total] },
  ];
}

export const ATTENTION_OPS: OpDef[] = [
  {
    name: 'Attention', category: 'math', since: 23,
    inputs: [
      { name: 'Q' }, { name: 'K' }, { name: 'V' }, { name: 'attn_mask', optional: true },
      { name: 'past_key', optional: true }, { name: 'past_value', optional: true },
      { name: 'nonpad_kv_seqlen', optional: true, since: 24 },
    ],
    outputs: [
      { name: 'Y' }, { name: 'present_key', optional: true }, { name: 'present_value', optional: true },
      { name: 'qk_matmul_output', optional: true },
    ],
    attrs: {
      is_causal: { type: 'int', default: 0 },
      kv_num_heads: { type: 'int' },
      q_num_heads: { type: 'int' },
      qk_matmul_output_mode: { type: 'int', default: 0 },
      scale: { type: 'float' },
      softcap: { type: 'float', default: 0 },
      softmax_precision: { type: 'int' },
      left_window_size: { type: 'int', default: -1, since: 25 },
      right_window_size: { type: 'int', default: -1, since: 25 },
    },
    infer: attention,
  },
  {
    name: 'RMSNormalization', category: 'nn', since: 23,
    inputs: [{ name: 'X' }, { name: 'scale' }], outputs: [{ name: 'Y' }],
    attrs: { axis: { type: 'int', default: -1 }, epsilon: { type: 'float', default: 1e-5 }, stash_type: { type: 'int', default: 1 } },
    infer: same,
  },
  {
    name: 'RotaryEmbedding', category: 'nn', since: 23,
    inputs: [{ name: 'X' }, { name: 'cos_cache' }, { name: 'sin_cache' }, { name: 'position_ids', optional: true }],
    outputs: [{ name: 'Y' }],
    attrs: { interleaved: { type: 'int', default: 0 }, num_heads: { type: 'int' }, rotary_embedding_dim: { type: 'int', default: 0 } },
    infer: same,
  },
];
